"""Latents that give a molecule back: where the greedy decode of the encoder's mean is another
molecule, a few gradient steps on z, near the molecule's own posterior mean, find a point that
decodes to it.

Why: the encoder is one network for every molecule, so its mean is a good first guess, not each
molecule's best point (the VAE's *amortization gap*); a decoder that misreads the mean usually
reads a nearby point right. The search moves ``z = mu + sigma * eps`` (``eps`` from 0, so the
steps are in units of the posterior's own spread) to lower the teacher-forced cross-entropy of
the molecule's tokens plus a weak pull back to the mean, ``pull / 2 * |eps|^2``. It stops, for
each molecule, at the first step whose greedy decode is the molecule's tokens, and keeps that
point only within four times the posterior's typical radius (``|eps| <= 4 sqrt(Z)``; a draw
from q(z | x) lies at about ``sqrt(Z)``). Measured on held-out ZINC250k (model card), the first
point found lies a median 1.5 whitened units from its mean, against 6.8 from that mean to the
nearest other training molecule's, and the molecule the decoder gives back from it is the
molecule itself. (The gradient is taken in fp32 while the greedy check decodes as the commands
do, in bf16 where the CPU has it: bf16 backward passes cost ten times more on a CPU and found no
more.)

Molecules whose mean already decodes back are left alone, so the cost is paid only by the ones the
model misreads (tens of milliseconds each on a CPU).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from molvae.model import VAE
from molvae.vocab import PAD_ID

__all__ = ["RefineConfig", "refine_latents", "same_tokens"]


@dataclass(frozen=True)
class RefineConfig:
    """How hard to look for a latent that decodes back (defaults measured in the model card)."""

    steps: int = 40  # gradient steps at most
    lr: float = 0.3  # Adam's step, in posterior standard deviations
    pull: float = 0.01  # weight of the pull to the mean, against the tokens' cross-entropy
    radius: float = 4.0  # farthest point kept, in typical posterior radii (sqrt(Z) deviations)
    batch_size: int = 512  # molecules refined together


def same_tokens(decoded: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) whether each decoded token row equals its target row (padding aside)."""
    width = max(decoded.shape[1], target.shape[1])
    a = F.pad(decoded.long(), (0, width - decoded.shape[1]), value=PAD_ID)
    b = F.pad(target.long(), (0, width - target.shape[1]), value=PAD_ID)
    return (a == b).all(1)


def refine_latents(
    net: VAE,
    tokens: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    greedy: Callable[[torch.Tensor], torch.Tensor],
    config: RefineConfig = RefineConfig(),
    todo: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents (B, Z) for the molecules of ``tokens`` (B, T; the end token included) and a mask
    (B,) of those whose latent decodes to their tokens: their own mean where they are not to be
    refined, else the first refined point that ``greedy`` (latents -> token ids, the caller's
    decoding) gives them back from, else the mean (mask False).

    ``todo`` (B,) says which molecules to refine; by default those whose mean's greedy decode is
    not their tokens. The network's weights are not touched: only z gets gradients.
    """
    z = mu.detach().clone().float()
    if todo is None:
        todo = ~same_tokens(greedy(z), tokens)
    found = ~todo
    misread = torch.nonzero(todo).flatten()
    for rows in torch.split(misread, config.batch_size) if len(misread) else ():
        z[rows], found[rows] = _refine(net, tokens[rows], mu[rows].float(),
                                       logvar[rows].float(), greedy, config)
    return z, found


def _refine(net: VAE, tokens: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
            greedy: Callable[[torch.Tensor], torch.Tensor],
            config: RefineConfig) -> tuple[torch.Tensor, torch.Tensor]:
    length = int((tokens != PAD_ID).sum(1).max())
    x = tokens[:, :length].long()
    mask = x != PAD_ID
    sigma = torch.exp(0.5 * logvar)
    radius = config.radius * math.sqrt(mu.shape[1])
    eps = torch.zeros_like(mu, requires_grad=True)
    opt = torch.optim.Adam([eps], lr=config.lr)
    best, found = mu.clone(), torch.zeros(len(mu), dtype=torch.bool, device=mu.device)
    grads = [p.requires_grad for p in net.parameters()]
    try:
        net.requires_grad_(False)
        with torch.enable_grad():
            for _ in range(config.steps):
                logits = net.decode_logits(mu + sigma * eps, x).float()
                ce = (F.cross_entropy(logits.transpose(1, 2), x, reduction="none") * mask).sum(1)
                loss = ce + 0.5 * config.pull * eps.pow(2).sum(1)
                opt.zero_grad()
                loss.sum().backward()
                opt.step()
                with torch.no_grad():
                    z = mu + sigma * eps
                    todo = torch.nonzero(~found & (eps.norm(dim=1) <= radius)).flatten()
                    new = todo[same_tokens(greedy(z[todo]), x[todo])] if len(todo) else todo
                    best[new], found[new] = z[new], True
                if bool(found.all()):
                    break
    finally:
        for p, g in zip(net.parameters(), grads, strict=True):
            p.requires_grad_(g)
    return best, found

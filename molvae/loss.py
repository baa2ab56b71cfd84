"""The VAE's training objective: reconstruction + beta * free-bits KL + property-head error, and
the validation pass that reports it.

>>> import torch
>>> out = {"logits": torch.zeros(2, 3, 5), "mu": torch.zeros(2, 4), "logvar": torch.zeros(2, 4),
...        "props": torch.zeros(2, 3)}
>>> tokens = torch.tensor([[3, 4, 2], [3, 2, 0]])
>>> loss, stats = vae_loss(out, tokens, torch.zeros(2, 3), beta=0.1, free_bits=0.0,
...                        prop_weight=1.0)
>>> round(stats["recon"], 3), stats["kl"]
(4.024, 0.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from molvae.model import VAE
from molvae.vocab import PAD_ID, Vocabulary

if TYPE_CHECKING:
    from molvae.train import TrainConfig


def vae_loss(
    out: dict[str, torch.Tensor],
    tokens: torch.Tensor,
    props: torch.Tensor,
    *,
    beta: float,
    free_bits: float,
    prop_weight: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss per molecule: reconstruction (summed over tokens) + beta * free-bits KL + heads MSE.

    Free bits: each latent dimension's batch-mean KL is penalized only above ``free_bits`` nats,
    so the decoder cannot profit from ignoring z (posterior collapse).
    """
    logits = out["logits"].float()
    target = tokens[:, : logits.shape[1]].long()
    mask = target != PAD_ID
    ce = F.cross_entropy(logits.transpose(1, 2), target, reduction="none")  # (B, T')
    recon = (ce * mask).sum(1).mean()
    mu, logvar = out["mu"], out["logvar"]
    kl_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(0)  # (Z,)
    kl = kl_dim.sum()
    kl_penalized = torch.clamp(kl_dim, min=free_bits).sum()
    finite = torch.isfinite(props)
    prop_err = (out["props"] - torch.nan_to_num(props)).pow(2) * finite
    prop_loss = prop_err.sum() / finite.sum().clamp(min=1)
    loss = recon + beta * kl_penalized + prop_weight * prop_loss
    with torch.no_grad():
        pred = logits.argmax(-1)
        tok_acc = ((pred == target) & mask).sum() / mask.sum()
        mol_acc = ((pred == target) | ~mask).all(1).float().mean()
    stats = {
        "loss": float(loss.detach()),
        "recon": float(recon.detach()),
        "kl": float(kl.detach()),
        "prop_mse": float(prop_loss.detach()),
        "token_acc": float(tok_acc),
        "mol_acc": float(mol_acc),
        "beta": beta,
    }
    return loss, stats


@torch.no_grad()
def evaluate_split(model: VAE, tokens: torch.Tensor, props: torch.Tensor, cfg: TrainConfig,
                   device: torch.device, vocab: Vocabulary) -> dict[str, float]:
    """Validation loss terms (at the final beta, z = mu) and greedy exact-match token
    reconstruction of the first ``recon_eval`` molecules."""
    model.eval()
    totals: dict[str, float] = {}
    n = 0
    for i in range(0, len(tokens), 2048):
        x, y = tokens[i:i + 2048].to(device), props[i:i + 2048].to(device)
        mu, logvar = model.encode(x)
        length = int((x != PAD_ID).sum(1).max())
        out = {"logits": model.decode_logits(mu, x[:, :length]), "mu": mu, "logvar": logvar,
               "props": model.predict_properties(mu, standardized=True)}
        _, stats = vae_loss(out, x, y, beta=cfg.beta, free_bits=cfg.free_bits,
                            prop_weight=cfg.prop_weight)
        for k, v in stats.items():
            totals[k] = totals.get(k, 0.0) + v * len(x)
        n += len(x)
    result = {k: v / max(1, n) for k, v in totals.items() if k != "beta"}
    k = min(cfg.recon_eval, len(tokens))
    if k:
        x = tokens[:k].to(device)
        mu, _ = model.encode(x)
        gen = model.generate(mu)
        width = max(gen.shape[1], x.shape[1])
        same = (F.pad(gen, (0, width - gen.shape[1])) == F.pad(x.long(), (0, width - x.shape[1])))
        result["greedy_recon"] = float(same.all(1).float().mean())
    model.train()
    return result


__all__ = ["evaluate_split", "vae_loss"]

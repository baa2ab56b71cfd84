"""The SELFIES VAE: a convolutional encoder, a GRU decoder conditioned on z, and property heads.

Shapes: B molecules, T tokens (the vocabulary's ``max_len``), E embedding, Z latent, H hidden.

Why this design (measured on a 2-core CPU, see the model card): a bidirectional GRU encoder costs
two thirds of a GRU VAE's training time; a small 1-D conv stack flattened over positions encodes as
faithfully at a fraction of the cost, and keeps token positions, which exact reconstruction needs.
The decoder is a single-layer GRU that sees z twice: as its initial state and added to every input
embedding, so the latent is never forgotten over a 50-token molecule.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from molvae.prior import (
    GaussianMixture,
    domain_quantiles,
    domain_score,
    fit_mixture,
    gaussian_domain_quantiles,
    posterior_mixture,
)
from molvae.vocab import BOS_ID, EOS_ID, PAD_ID


@dataclass(frozen=True)
class VAEConfig:
    """Architecture hyperparameters; saved with every model."""

    vocab_size: int
    max_len: int
    latent_dim: int = 64
    embed_dim: int = 64
    conv_channels: int = 128
    conv_kernel: int = 5
    conv_layers: int = 3
    encoder_hidden: int = 256
    decoder_hidden: int = 384
    head_hidden: int = 64
    head_layers: int = 1  # hidden layers per property head (files before it: 1)
    n_properties: int = 3
    prior_components: int = 1  # Gaussians in the fitted sampling distribution (molvae.prior)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> VAEConfig:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


class VAE(nn.Module):
    """Encoder ``tokens -> (mu, logvar)``; decoder ``(z, tokens) -> logits``; heads ``z -> props``.
    """

    #: The decoder's own modules. The token embedding is not among them: the encoder reads it too.
    DECODER = ("z_to_hidden", "z_to_input", "gru", "to_logits")

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        E, C, Z, H = cfg.embed_dim, cfg.conv_channels, cfg.latent_dim, cfg.decoder_hidden
        self.embed = nn.Embedding(cfg.vocab_size, E, padding_idx=PAD_ID)
        convs: list[nn.Module] = []
        for i in range(cfg.conv_layers):
            convs += [nn.Conv1d(E if i == 0 else C, C, cfg.conv_kernel, padding="same"), nn.GELU()]
        self.conv = nn.Sequential(*convs)
        self.enc_fc = nn.Linear(cfg.max_len * C, cfg.encoder_hidden)
        self.to_stats = nn.Linear(cfg.encoder_hidden, 2 * Z)
        self.z_to_hidden = nn.Linear(Z, H)
        self.z_to_input = nn.Linear(Z, E)
        self.gru = nn.GRU(E, H, batch_first=True)
        self.to_logits = nn.Linear(H, cfg.vocab_size)
        self.heads = nn.ModuleList(property_head(Z, cfg.head_hidden, cfg.head_layers)
                                   for _ in range(cfg.n_properties))
        # Head targets are standardized during training; these turn predictions back into units.
        self.register_buffer("prop_mean", torch.zeros(cfg.n_properties))
        self.register_buffer("prop_std", torch.ones(cfg.n_properties))
        # Whitening statistics: the mean and standard deviation of the training latents (N(0, I),
        # the prior, until fitted); the optimizer's search space and explore's radii use them.
        self.register_buffer("latent_mean", torch.zeros(Z))
        self.register_buffer("latent_std", torch.ones(Z))
        # Sampling distribution: a diagonal Gaussian mixture fitted to the training latents
        # (molvae.prior), and the quantiles of the training molecules' log densities under it,
        # which the domain score ranks a molecule against.
        K = cfg.prior_components
        self.register_buffer("prior_weights", torch.full((K,), 1.0 / K))
        self.register_buffer("prior_means", torch.zeros(K, Z))
        self.register_buffer("prior_stds", torch.ones(K, Z))
        self.register_buffer("domain_quantiles", gaussian_domain_quantiles(torch.ones(Z)))

    # --- encoder -------------------------------------------------------------------------------
    def encode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior parameters ``(mu, logvar)``, each (B, Z), of right-padded tokens (B, T)."""
        x = self.embed(tokens.long()).transpose(1, 2)  # (B, E, T)
        h = self.conv(x).flatten(1)  # (B, C*T)
        h = F.gelu(self.enc_fc(h))  # (B, encoder_hidden)
        mu, logvar = self.to_stats(h).float().chunk(2, dim=-1)  # (B, Z) each
        return mu, logvar.clamp(-12.0, 6.0)

    @torch.no_grad()
    def posterior(self, tokens: torch.Tensor,
                  batch_size: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`encode` of many molecules (N, T) in batches, without gradients: fp32
        ``(mu, logvar)``, each (N, Z), on the model's device."""
        dev = self.latent_mean.device
        out = [self.encode(tokens[i:i + batch_size].to(dev))
               for i in range(0, len(tokens), batch_size)]
        if not out:
            empty = torch.zeros(0, self.cfg.latent_dim, device=dev)
            return empty, empty.clone()
        return torch.cat([m for m, _ in out]).float(), torch.cat([v for _, v in out]).float()

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """A sample z ~ N(mu, exp(logvar)), drawn from ``generator`` for reproducibility."""
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + eps * torch.exp(0.5 * logvar)

    # --- decoder -------------------------------------------------------------------------------
    def decode_logits(self, z: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced next-token logits (B, T', V) for targets ``tokens`` (B, T')."""
        bos = torch.full_like(tokens[:, :1], BOS_ID)
        inputs = torch.cat([bos, tokens[:, :-1]], dim=1).long()  # (B, T')
        x = self.embed(inputs) + self.z_to_input(z)[:, None, :]  # (B, T', E)
        h0 = torch.tanh(self.z_to_hidden(z))[None]  # (1, B, H)
        out, _ = self.gru(x, h0)  # (B, T', H)
        return self.to_logits(out)  # (B, T', V)

    @torch.no_grad()
    def generate(
        self,
        z: torch.Tensor,
        *,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
        max_len: int | None = None,
        min_len: int = 1,
        first_allowed: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decode latents (B, Z) to token ids (B, <=T), greedy when ``temperature`` is 0.

        ``min_len`` bans the end token before that many tokens; ``first_allowed`` (a (V,) bool
        mask) restricts the first token (to atoms, so no molecule is empty). Positions after a
        molecule's end token are padding; decoding stops once every molecule has ended.

        Runs under autocast in its dtype (bf16 roughly doubles CPU speed). The GRU cell is unrolled
        by hand, which gives the same result as ``nn.GRU`` in fp32 but is faster: the input side
        of the gates is a lookup table (the input is an embedding plus a per-molecule constant),
        and finished molecules leave the batch, so the cost follows the mean length, not the max.
        """
        max_len = max_len or self.cfg.max_len
        B, dev = z.shape[0], z.device
        dtype = (torch.get_autocast_dtype(dev.type) if torch.is_autocast_enabled(dev.type)
                 else torch.float32)
        banned = torch.zeros(self.cfg.vocab_size, dtype=torch.bool, device=dev)
        banned[[PAD_ID, BOS_ID]] = True
        no_end = banned.clone()
        no_end[EOS_ID] = True
        first = no_end if first_allowed is None else no_end | ~first_allowed.to(dev)

        with torch.autocast(dev.type, enabled=False):
            cell = _UnrolledGRU(self, dtype)
            h, z_gates = cell.start(z.to(dtype))
            rows = torch.arange(B, device=dev)  # batch row of each molecule still decoding
            alive = torch.ones(B, dtype=torch.bool, device=dev)
            tok = torch.full((B,), BOS_ID, dtype=torch.long, device=dev)
            out = torch.full((B, max_len), PAD_ID, dtype=torch.long, device=dev)
            for t in range(max_len):
                h = cell.step(tok, z_gates, h)
                mask = first if t == 0 else (no_end if t < min_len - 1 else banned)
                logits = cell.logits(h).float().masked_fill_(mask, float("-inf"))  # (b, V)
                if t == max_len - 1:  # the last position can only end the molecule
                    nxt = torch.full_like(tok, EOS_ID)
                elif temperature > 0:
                    probs = torch.softmax(logits / temperature, dim=-1)
                    nxt = torch.multinomial(probs, 1, generator=generator)[:, 0]
                else:
                    nxt = logits.argmax(-1)
                nxt.masked_fill_(~alive, PAD_ID)
                out[rows, t] = nxt
                alive &= nxt != EOS_ID
                n_alive = int(alive.sum())
                if n_alive == 0:
                    return out[:, : t + 1]
                if n_alive < 0.9 * len(rows):  # drop finished molecules from the batch
                    rows, h, z_gates, nxt = rows[alive], h[alive], z_gates[alive], nxt[alive]
                    alive = alive[alive]
                tok = nxt
        return out

    @property
    def prior(self) -> GaussianMixture:
        """The fitted sampling distribution."""
        return GaussianMixture(self.prior_weights, self.prior_means, self.prior_stds)

    def sample_latents(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` latents (n, Z) from the model's sampling distribution."""
        return self.prior.sample(n, generator)

    def iter_latents(self, batch_size: int,
                     generator: torch.Generator | None = None) -> Iterator[torch.Tensor]:
        """Endless batches (batch_size, Z) from the sampling distribution, its components spread
        over the stream as :meth:`sample_latents` spreads them over one call: the draws come K at
        a time (K components; the smallest multiple of K that fills a batch when K is smaller),
        so with equal weights the first K latents of the stream use K different components (a
        stream of 2,048-latent batches drawn one by one would repeat components across
        batches, and repeated components repeat molecules)."""
        for z, _ in self.iter_draws(batch_size, generator):
            yield z

    def iter_draws(self, batch_size: int, generator: torch.Generator | None = None
                   ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """:meth:`iter_latents`' batches with the component (batch_size,) of each latent, so a
        sample can be drawn again from the same one (``prior.draw``)."""
        k = len(self.prior_weights)
        chunk = k * max(1, math.ceil(batch_size / k))
        z_left = comp_left = None  # the end of a chunk, continued by the next one
        while True:
            z, comp = self.prior.sample_with_components(chunk, generator)
            if z_left is not None:
                z, comp = torch.cat([z_left, z]), torch.cat([comp_left, comp])
            whole = len(z) // batch_size * batch_size
            yield from zip(torch.split(z[:whole], batch_size),
                           torch.split(comp[:whole], batch_size), strict=True)
            z_left, comp_left = z[whole:], comp[whole:]

    def domain(self, z: torch.Tensor) -> torch.Tensor:
        """Domain scores (N,) of latents: the share of training molecules whose mean latent is
        less probable under the sampling distribution (:func:`molvae.prior.domain_score`)."""
        return domain_score(self.prior.log_density(z), self.domain_quantiles.cpu())

    @torch.no_grad()
    def fit_latent_distribution(
        self, tokens: torch.Tensor, generator: torch.Generator | None = None,
        batch_size: int = 4096, components: int | None = None, seed: int = 0,
        posteriors: float | None = None,
    ) -> None:
        """Fit the sampling distribution to the aggregate posterior of ``tokens`` (N, T).

        The whitening statistics are the per-dimension mean and standard deviation of
        z ~ q(z | x). The sampling distribution is either a mixture of ``components`` Gaussians
        (default the configured number) fitted by EM to the same samples, its domain quantiles
        those of the molecules' mean latents; or, with ``posteriors`` (a width), the posteriors
        of the first ``components`` molecules themselves, standard deviations widened by that
        factor (:func:`molvae.prior.posterior_mixture`), with the domain calibrated on the
        other molecules, which the mixture does not hold.
        """
        zs, mus, stds = [], [], []
        for i in range(0, len(tokens), batch_size):
            mu, logvar = self.encode(tokens[i:i + batch_size].to(self.latent_mean.device))
            zs.append(self.reparameterize(mu, logvar, generator))
            mus.append(mu)
            stds.append(torch.exp(0.5 * logvar))
        z, mu, std = torch.cat(zs).float(), torch.cat(mus).float(), torch.cat(stds).float()
        self.latent_mean.copy_(z.mean(0))
        self.latent_std.copy_(z.std(0))
        if posteriors is None:
            mix = fit_mixture(z.cpu(), components or self.cfg.prior_components, seed=seed)
            reference = mu
        else:
            k = components or len(mu) // 2
            if not 0 < k < len(mu):
                raise ValueError(f"a mixture of {k} posteriors needs more than {k} molecules "
                                 f"(the rest calibrate the domain); got {len(mu)}")
            mix = posterior_mixture(mu[:k].cpu(), std[:k].cpu(), posteriors)
            reference = mu[k:]
        self.set_prior(mix)
        self.domain_quantiles.copy_(domain_quantiles(mix.log_density(reference.cpu())))

    def set_prior(self, mix: GaussianMixture) -> None:
        """Install a sampling distribution (its component count may differ from the config's)."""
        dev = self.latent_mean.device
        self.cfg = replace(self.cfg, prior_components=len(mix.weights))
        self.register_buffer("prior_weights", mix.weights.float().to(dev))
        self.register_buffer("prior_means", mix.means.float().to(dev))
        self.register_buffer("prior_stds", mix.stds.float().to(dev))

    # --- property heads ------------------------------------------------------------------------
    def predict_properties(self, z: torch.Tensor, *, standardized: bool = False) -> torch.Tensor:
        """Head predictions (B, n_properties), in property units unless ``standardized``."""
        pred = torch.cat([head(z) for head in self.heads], dim=-1).float()  # (B, P)
        return pred if standardized else pred * self.prop_std + self.prop_mean

    def forward(
        self, tokens: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Encode, sample z, decode with teacher forcing and predict properties.

        Returns a dict with ``logits`` (B, T', V) for the first T' positions that hold any token,
        ``mu``, ``logvar``, ``z`` (B, Z) and standardized ``props`` (B, P).
        """
        mu, logvar = self.encode(tokens)
        z = self.reparameterize(mu, logvar, generator)
        length = int((tokens != PAD_ID).sum(1).max())  # decode only up to the longest molecule
        logits = self.decode_logits(z, tokens[:, :length])
        return {
            "logits": logits,
            "mu": mu,
            "logvar": logvar,
            "z": z,
            "props": self.predict_properties(z, standardized=True),
        }


def property_head(latent_dim: int, hidden: int, layers: int) -> nn.Sequential:
    """An MLP from z to one standardized property: ``layers`` hidden GELU layers."""
    parts: list[nn.Module] = []
    width = latent_dim
    for _ in range(layers):
        parts += [nn.Linear(width, hidden), nn.GELU()]
        width = hidden
    return nn.Sequential(*parts, nn.Linear(width, 1))


class _UnrolledGRU:
    """The decoder's GRU cell, one step at a time, in ``dtype`` (see ``VAE.generate``).

    Gate order and equations are ``nn.GRU``'s: r and u gates, candidate n, h' = n + u (h - n).
    """

    def __init__(self, vae: VAE, dtype: torch.dtype) -> None:
        H, g = vae.cfg.decoder_hidden, vae.gru
        w_ih, w_hh = g.weight_ih_l0.to(dtype), g.weight_hh_l0.to(dtype)
        b_ih, b_hh = g.bias_ih_l0.to(dtype), g.bias_hh_l0.to(dtype)
        self.H, self.dtype, self.vae = H, dtype, vae
        self.w_ih, self.b_ih = w_ih, b_ih
        self.w_ru_t, self.w_n_t = w_hh[: 2 * H].T.contiguous(), w_hh[2 * H:].T.contiguous()
        self.b_n = b_hh[2 * H:]
        # Input gates of every token (V, 3H), with the hidden bias of r and u folded in.
        self.token_gates = vae.embed.weight.to(dtype) @ w_ih.T
        self.token_gates[:, : 2 * H] += b_hh[: 2 * H]
        self.w_out_t = vae.to_logits.weight.to(dtype).T.contiguous()
        self.b_out = vae.to_logits.bias.to(dtype)

    def start(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Initial state (B, H) and the constant input gates (B, 3H) of latents z."""
        vae, d = self.vae, self.dtype
        h = torch.tanh(F.linear(z, vae.z_to_hidden.weight.to(d), vae.z_to_hidden.bias.to(d)))
        z_in = F.linear(z, vae.z_to_input.weight.to(d), vae.z_to_input.bias.to(d))
        return h, F.linear(z_in, self.w_ih, self.b_ih)

    def step(self, tok: torch.Tensor, z_gates: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The next hidden state (b, H) after reading tokens (b,)."""
        H = self.H
        gi = self.token_gates[tok].add_(z_gates)  # (b, 3H)
        ru = torch.addmm(gi[:, : 2 * H], h, self.w_ru_t).sigmoid_()
        n = torch.addcmul(gi[:, 2 * H:], ru[:, :H], torch.addmm(self.b_n, h, self.w_n_t)).tanh_()
        return torch.lerp(n, h, ru[:, H:])

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.b_out, h, self.w_out_t)


#: Buffers a model of format 1 (one fitted Gaussian, no domain calibration) lacks.
PRIOR_BUFFERS = ("prior_weights", "prior_means", "prior_stds", "domain_quantiles")


def upgrade_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict of an older model completed with the sampling distribution it implied: its
    fitted Gaussian as a one-component mixture, the domain calibrated from that Gaussian's own
    chi-square law. A current state dict comes back unchanged."""
    if all(k in state for k in PRIOR_BUFFERS):
        return state
    mean, std = state["latent_mean"].float(), state["latent_std"].float()
    return {**state, "prior_weights": torch.ones(1), "prior_means": mean[None].clone(),
            "prior_stds": std[None].clone(), "domain_quantiles": gaussian_domain_quantiles(std)}


"""The sampling distribution of a model: a diagonal Gaussian mixture fitted to where the encoder
puts training molecules, and the domain score read off its density.

Why a fitted mixture and not N(0, I): a low-KL VAE reconstructs well because its posterior is
narrow and uneven, so the aggregate posterior q(z) fills a few lumpy regions of the latent space.
Samples from N(0, I), or from one Gaussian fitted to q(z), land between those regions, where the
decoder never learned anything and writes rings of 9 atoms and polyene chains. A mixture fitted to
samples of q(z) (ex-post density estimation, Ghosh et al. 2020) puts its mass where molecules
are. The same density says how typical a molecule's latent is: :func:`domain_score` ranks it
among the training molecules' own latents.

>>> import torch
>>> z = torch.cat([torch.randn(500, 2) - 4, torch.randn(500, 2) + 4])
>>> mix = fit_mixture(z, 2, seed=0)
>>> sorted(round(float(m), 0) for m in mix.means[:, 0])
[-4.0, 4.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: Probability levels at which a model stores the quantiles of its training molecules' log
#: densities: fine in the low tail, where the domain threshold sits.
DOMAIN_LEVELS: tuple[float, ...] = (
    *(i / 1000 for i in range(0, 20)),  # 0.000 .. 0.019
    *(i / 100 for i in range(2, 10)),  # 0.02 .. 0.09
    *(i / 20 for i in range(2, 21)),  # 0.10 .. 1.00
)

#: Below this domain score a molecule is less typical of the model's training chemistry than
#: 99% of the training molecules themselves: commands warn before building on it.
DOMAIN_THRESHOLD = 0.01

#: Samples whose molecule has a larger ring are drawn again (``TrainedModel.iter_samples``):
#: ZINC250k train holds one such molecule in 550 and MOSES none, while the decoder writes one in
#: five samples, nearly always a ring closure sent back to the wrong atom.
MAX_SAMPLED_RING = 7
#: How many times a rejected sample (a larger ring, or one the model does not read back) is drawn
#: again from its own component before it is left out. A left-out sample's place goes to a fresh
#: draw, and past the first K draws those reuse components, whose samples that read back repeat
#: molecules: with 4 redraws a third of the components were left out and unique@10k fell to
#: 99.69%, with 19 it is 99.93% and 99.84% for seeds 0 and 1 (the model card, "Samples the model
#: reads back").
REDRAWS = 19


@dataclass(frozen=True)
class GaussianMixture:
    """Weights (K,), means (K, Z) and standard deviations (K, Z) of a diagonal mixture."""

    weights: torch.Tensor
    means: torch.Tensor
    stds: torch.Tensor

    def log_density(self, z: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """log p(z) (N,) of latents (N, Z), in float64 for a stable log-sum-exp; in batches of
        about 2**22 latent-component pairs unless ``batch_size`` is given."""
        batch_size = batch_size or max(1, 2**22 // len(self.weights))
        out = [_log_density(z[i:i + batch_size], self) for i in range(0, len(z), batch_size)]
        return torch.cat(out) if out else torch.zeros(0, dtype=torch.float64)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` latents (n, Z), drawn with ``generator``; their components by
        :func:`spread_components`, so ``n`` draws share a component no more often than the
        weights require."""
        return self.sample_with_components(n, generator)[0]

    def sample_with_components(self, n: int, generator: torch.Generator | None = None
                               ) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`sample`'s latents (n, Z) and the component (n,) each was drawn from."""
        comp = spread_components(self.weights, n, generator).to(self.means.device)
        return self.draw(comp, generator), comp

    def draw(self, components: torch.Tensor,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """One latent from each of ``components`` (n,): a sample drawn again from the same
        training posterior as the one it replaces."""
        eps = torch.randn(len(components), self.means.shape[1], generator=generator,
                          device=self.means.device)
        return self.means[components] + self.stds[components] * eps


def spread_components(weights: torch.Tensor, n: int,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` component indices (n,), in random order, each drawn with probability ``weights``
    (K,), but together as evenly spread as the weights allow: component k is drawn
    floor(n w_k) or ceil(n w_k) times (residual systematic resampling over a shuffled order).

    Why: with the training posteriors as the sampling distribution, independent draws pick the
    same component about n^2 / 2K times, and two draws of one posterior often decode to the same
    molecule (nine repeats in ten among 10,000 samples of the default model): the repeats that
    cost unique@10k. Each draw's law is unchanged.

    >>> spread_components(torch.full((4,), 0.25), 4, torch.Generator().manual_seed(0)).sort()[0]
    tensor([0, 1, 2, 3])
    """
    w = weights.double()
    w, dev = w / w.sum(), w.device
    expected = n * w
    whole = torch.floor(expected)
    residual = (expected - whole).clamp_min(0)
    rest = n - int(whole.sum())
    comp = torch.repeat_interleave(torch.arange(len(w), device=dev), whole.long())
    if rest > 0:
        order = torch.randperm(len(w), generator=generator, device=dev)
        edges = torch.cumsum(residual[order], 0)
        points = (torch.rand(1, generator=generator, dtype=torch.float64, device=dev)
                  + torch.arange(rest, device=dev))
        points = points * (float(edges[-1]) / rest)  # rounding: the residuals sum to ~rest
        picked = torch.searchsorted(edges, points, right=True).clamp_max(len(w) - 1)
        comp = torch.cat([comp, order[picked]])
    return comp[torch.randperm(n, generator=generator, device=dev)]


def _log_density(z: torch.Tensor, mix: GaussianMixture) -> torch.Tensor:
    """Per-component log-likelihoods (N, K) summed over components with the weights."""
    return torch.logsumexp(_component_log_likelihood(z, mix), dim=1)


def _component_log_likelihood(z: torch.Tensor, mix: GaussianMixture) -> torch.Tensor:
    """log(w_k N(z | m_k, s_k)) (N, K), by matrix products: memory N x K, not N x K x Z (a
    mixture of thousands of posteriors would need gigabytes otherwise)."""
    z = z.double()
    means, stds = mix.means.double(), mix.stds.double()
    precision = stds**-2  # (K, Z)
    quad = (z**2) @ precision.T - 2 * z @ (means * precision).T + (means**2 * precision).sum(1)
    const = -torch.log(stds).sum(1) - 0.5 * z.shape[1] * math.log(2 * math.pi)
    return -0.5 * quad.clamp_min(0) + const + torch.log(mix.weights.double().clamp_min(1e-300))


def fit_mixture(z: torch.Tensor, k: int, *, iterations: int = 100, seed: int = 0,
                min_std: float = 1e-3, tol: float = 1e-6) -> GaussianMixture:
    """A K-component diagonal Gaussian mixture fitted to ``z`` (N, Z) by EM.

    Starts from K points drawn at random (seeded) with the data's overall spread; a component
    that loses all its points restarts at a random point, so K components are always in use.
    ``min_std`` keeps a component from shrinking onto a single molecule.
    """
    z = z.double()
    n = len(z)
    if n < k:
        raise ValueError(f"cannot fit {k} mixture components to {n} points")
    gen = torch.Generator().manual_seed(seed)
    overall = z.std(0).clamp_min(min_std)
    means = z[torch.randperm(n, generator=gen)[:k]].clone()
    stds = overall.expand(k, -1).clone()
    weights = torch.full((k,), 1.0 / k, dtype=torch.float64)
    previous = -math.inf
    for _ in range(iterations):
        mix = GaussianMixture(weights, means, stds)
        ll = _component_log_likelihood(z, mix)  # (N, K)
        total = torch.logsumexp(ll, dim=1)
        resp = torch.exp(ll - total[:, None])  # (N, K)
        mass = resp.sum(0)  # (K,)
        dead = mass < 1e-8 * n
        mass = mass.clamp_min(1e-12)
        means = (resp.T @ z) / mass[:, None]
        var = (resp.T @ z**2) / mass[:, None] - means**2
        stds = var.clamp_min(min_std**2).sqrt()
        weights = mass / mass.sum()
        if dead.any():  # restart empty components at random points
            idx = torch.randint(n, (int(dead.sum()),), generator=gen)
            means[dead], stds[dead] = z[idx], overall
            weights = torch.where(dead, torch.full_like(weights, 1.0 / k), weights)
            weights = weights / weights.sum()
        mean_ll = float(total.mean())
        if abs(mean_ll - previous) < tol * max(1.0, abs(mean_ll)):
            break
        previous = mean_ll
    return GaussianMixture(weights.float(), means.float(), stds.float())


def posterior_mixture(mu: torch.Tensor, std: torch.Tensor, width: float) -> GaussianMixture:
    """The aggregate posterior itself as the sampling distribution: one equal-weight component
    per training molecule, at its posterior mean ``mu`` (K, Z) with its posterior standard
    deviations ``std`` (K, Z) times ``width``.

    An EM mixture of a few components still spreads mass between the places where molecules
    are; the molecules' own posteriors are exactly the points the decoder was trained to read.
    At ``width`` 1 samples mostly decode back to the training molecules (not novel); a wider
    kernel trades some of that fidelity for novelty (the model card has the measured trade-off).

    >>> mix = posterior_mixture(torch.zeros(3, 2), torch.ones(3, 2), 2.0)
    >>> mix.weights.tolist(), mix.stds[0].tolist()
    ([0.3333333432674408, 0.3333333432674408, 0.3333333432674408], [2.0, 2.0])
    """
    if width <= 0:
        raise ValueError(f"posterior width {width} must be positive")
    k = len(mu)
    return GaussianMixture(torch.full((k,), 1.0 / k), mu.float().clone(),
                           (std.float() * width).clamp_min(1e-4))


def domain_quantiles(log_density: torch.Tensor) -> torch.Tensor:
    """Quantiles at :data:`DOMAIN_LEVELS` of reference log densities (the training molecules')."""
    levels = torch.tensor(DOMAIN_LEVELS, dtype=torch.float64)
    return torch.quantile(log_density.double(), levels).float()


def domain_score(log_density: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """The share of reference molecules whose log density is lower: 0 for a latent less typical
    than any training molecule's, 1 for one more typical than all (interpolated between the
    stored quantiles)."""
    x = log_density.double()
    q = quantiles.double()
    levels = torch.tensor(DOMAIN_LEVELS, dtype=torch.float64)
    idx = torch.searchsorted(q, x.contiguous()).clamp(1, len(q) - 1)
    lo, hi = q[idx - 1], q[idx]
    frac = ((x - lo) / (hi - lo).clamp_min(1e-12)).clamp(0, 1)
    score = levels[idx - 1] + frac * (levels[idx] - levels[idx - 1])
    return torch.where(x <= q[0], 0.0, torch.where(x >= q[-1], 1.0, score)).float()


def gaussian_domain_quantiles(std: torch.Tensor) -> torch.Tensor:
    """:func:`domain_quantiles` of a single Gaussian's own samples, from the chi-square law of
    their squared whitened norm: how a model file of format 1, which stores no calibration,
    gets a domain score."""
    dim = std.numel()
    const = -torch.log(std.double()).sum() - 0.5 * dim * math.log(2 * math.pi)
    # log density at level p is const - chi2_{dim}.ppf(1 - p) / 2
    out = []
    for p in DOMAIN_LEVELS:
        if p <= 0.0:
            out.append(const - 0.5 * _chi2_ppf(1 - 1e-9, dim))
        elif p >= 1.0:
            out.append(const)
        else:
            out.append(const - 0.5 * _chi2_ppf(1 - p, dim))
    return torch.stack([torch.as_tensor(v, dtype=torch.float64) for v in out]).float()


def _chi2_ppf(p: float, dim: int) -> float:
    """The p-quantile of the chi-square law with ``dim`` degrees of freedom (bisection)."""
    lo, hi = 0.0, float(dim) + 40.0 * math.sqrt(2.0 * dim) + 100.0
    half = torch.tensor(dim / 2.0, dtype=torch.float64)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if float(torch.special.gammainc(half, torch.tensor(mid / 2.0, dtype=torch.float64))) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


__all__ = [
    "DOMAIN_LEVELS",
    "DOMAIN_THRESHOLD",
    "GaussianMixture",
    "domain_quantiles",
    "domain_score",
    "fit_mixture",
    "gaussian_domain_quantiles",
]

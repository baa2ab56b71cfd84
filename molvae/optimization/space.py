"""The latent search space: a box in whitened coordinates.

A point ``w`` of the search is a latent in the model's *whitened* coordinates, ``z = mean + std
* w`` with the model's sampling mean and standard deviation, so the sampling distribution is a
unit Gaussian and ``[-3, 3]`` in every dimension (the prior box) holds nearly all of it. A trust
region is the smaller box around encoded seed molecules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.distributions import FloatDistribution

from molvae.latent import unwhiten, whiten

__all__ = ["PRIOR_BOX", "SearchSpace", "model_space"]

#: Half-width of the default search box, in prior standard deviations.
PRIOR_BOX = 3.0


@dataclass(frozen=True)
class SearchSpace:
    """A box in whitened latent coordinates: ``z = mean + std * w`` with ``lower <= w <= upper``.

    >>> space = SearchSpace.box(np.zeros(2), np.ones(2), 3.0)
    >>> space.names, space.latents(np.array([[1.0, -1.0]])).tolist()
    (('w0', 'w1'), [[1.0, -1.0]])
    """

    lower: np.ndarray  # (Z,)
    upper: np.ndarray  # (Z,)
    mean: np.ndarray  # (Z,)
    std: np.ndarray  # (Z,)
    kind: str = "prior"
    seeds_w: np.ndarray | None = None  # (S, Z) whitened latents of the encoded seeds

    @classmethod
    def box(cls, mean: np.ndarray, std: np.ndarray, bound: float = PRIOR_BOX) -> SearchSpace:
        """The prior box ``[-bound, bound]`` in every dimension."""
        mean, std = _vectors(mean, std)
        return cls(np.full(len(mean), -bound), np.full(len(mean), bound), mean, std)

    @classmethod
    def trust_region(
        cls,
        mean: np.ndarray,
        std: np.ndarray,
        seeds_z: np.ndarray,
        radius: float,
        bound: float = PRIOR_BOX,
    ) -> SearchSpace:
        """The union box of ``radius`` around each seed's whitened latent, clipped to the prior box
        ``[-bound, bound]`` (but always holding the seeds themselves)."""
        mean, std = _vectors(mean, std)
        w = (np.atleast_2d(np.asarray(seeds_z, dtype=np.float64)) - mean) / std
        lo, hi = w.min(axis=0), w.max(axis=0)
        lower = np.minimum(np.maximum(lo - radius, -bound), lo)
        upper = np.maximum(np.minimum(hi + radius, bound), hi)
        return cls(lower, upper, mean, std, kind="trust_region", seeds_w=w)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"w{i}" for i in range(len(self.mean)))

    def distributions(self) -> dict[str, FloatDistribution]:
        """Optuna's distribution of each dimension."""
        return {
            n: FloatDistribution(float(lo), float(hi))
            for n, lo, hi in zip(self.names, self.lower, self.upper, strict=True)
        }

    def latents(self, w: np.ndarray) -> np.ndarray:
        """(N, Z) float32 latents of whitened points."""
        return unwhiten(np.asarray(w, dtype=np.float64), self.mean, self.std).astype(np.float32)

    def whiten(self, z: np.ndarray) -> np.ndarray:
        """(N, Z) whitened coordinates of latents."""
        return whiten(np.asarray(z, dtype=np.float64), self.mean, self.std)

    def params(self, w: np.ndarray) -> dict[str, float]:
        """A trial's parameters for one whitened point (clipped into the box)."""
        w = np.clip(w, self.lower, self.upper)
        return {n: float(v) for n, v in zip(self.names, w, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dims": len(self.mean),
            "lower": [round(float(v), 6) for v in self.lower],
            "upper": [round(float(v), 6) for v in self.upper],
        }


def _vectors(mean: Any, std: Any) -> tuple[np.ndarray, np.ndarray]:
    mean = np.asarray(mean, dtype=np.float64).reshape(-1)
    std = np.asarray(std, dtype=np.float64).reshape(-1)
    return mean, np.where(std > 0, std, 1.0)


def model_space(model: Any, box: float = PRIOR_BOX) -> SearchSpace:
    """The prior box of a trained model's sampling distribution."""
    net = model.network
    return SearchSpace.box(
        net.latent_mean.detach().cpu().numpy(), net.latent_std.detach().cpu().numpy(), box
    )

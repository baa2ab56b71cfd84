"""Recombination of elites in latent space, as a GA crosses over its best molecules in graph
space: each whitened coordinate of the child comes from one parent or the other (uniform
crossover), with a little noise so that two parents give more than two children."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from molvae.optimization.operators._base import Elites
from molvae.optimization.trials import Outcome, Proposal

__all__ = ["LatentCrossover"]

#: Noise added to a child, in whitened units.
NOISE = 0.05


@dataclass
class LatentCrossover:
    """Uniform crossover of two elites picked by rank; ``lower`` and ``upper`` bound the
    children (the search box)."""

    lower: np.ndarray
    upper: np.ndarray
    name: str = "crossover"

    def propose(self, elites: Elites, n: int, rng: np.random.Generator) -> list[Proposal]:
        if len(elites) < 2:
            return []
        a, b = elites.pick(rng, n), elites.pick(rng, n)
        b = np.where(a == b, (b + 1) % len(elites), b)  # two different parents
        mask = rng.random((n, elites.w.shape[1])) < 0.5
        w = np.where(mask, elites.w[a], elites.w[b]) + NOISE * rng.standard_normal(mask.shape)
        return [Proposal(np.clip(x, self.lower, self.upper), self.name) for x in w]

    def update(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome],
               improved: Sequence[bool]) -> None:
        """Stateless: nothing to learn."""

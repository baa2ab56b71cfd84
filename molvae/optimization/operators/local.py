"""Local search around the elites: a trust region in whitened latent space that grows on
success and shrinks on failure (after TuRBO, Eriksson et al. 2019), the latent counterpart of a
GA's mutation of its best molecules.

A batch draws points ``w_e + r * N(0, I)`` around elites ``e`` picked by rank. When a batch puts
a molecule into the elite pool the radius ``r`` doubles after :data:`SUCCESSES` such batches in
a row; after :data:`FAILURES` batches without, it halves. A region shrunk below
:data:`MIN_RADIUS` has nothing left to find: it restarts at :data:`START_RADIUS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from molvae.optimization.operators._base import Elites
from molvae.optimization.trials import Outcome, Proposal

__all__ = ["TrustRegion"]

#: Radii, in whitened units (one unit: the sampling distribution's standard deviation).
START_RADIUS = 0.5
MIN_RADIUS = 0.05
MAX_RADIUS = 2.0
#: Batches in a row with (without) an improvement before the radius doubles (halves).
SUCCESSES = 2
FAILURES = 3


@dataclass
class TrustRegion:
    """Gaussian proposals around the elites with an adaptive radius; ``lower`` and ``upper``
    bound the points (the search box)."""

    lower: np.ndarray
    upper: np.ndarray
    name: str = "local"
    radius: float = START_RADIUS
    successes: int = 0
    failures: int = 0

    def propose(self, elites: Elites, n: int, rng: np.random.Generator) -> list[Proposal]:
        centres = elites.w[elites.pick(rng, n)]
        w = centres + self.radius * rng.standard_normal(centres.shape)
        return [Proposal(np.clip(x, self.lower, self.upper), self.name) for x in w]

    def update(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome],
               improved: Sequence[bool]) -> None:
        if any(improved):
            self.successes, self.failures = self.successes + 1, 0
        else:
            self.successes, self.failures = 0, self.failures + 1
        if self.successes >= SUCCESSES:
            self.radius, self.successes = min(2 * self.radius, MAX_RADIUS), 0
        elif self.failures >= FAILURES:
            self.radius, self.failures = self.radius / 2, 0
            if self.radius < MIN_RADIUS:
                self.radius = START_RADIUS

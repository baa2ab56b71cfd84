"""Where a search without seeds begins: a start population of the model's own training
molecules, as a genetic algorithm begins from a random draw of ZINC.

A search whose first elites are a handful of the sampler's early points recombines and edits
one family of molecules and stalls there; a GA's first population of 1,000 unrelated real
molecules gives its crossovers the pieces to combine (Graph GA's 1,000 ZINC molecules, in PMO's
protocol, are the first calls of its budget). molvae needs no data file for it: the model's
sampling distribution is a mixture centred on the posterior means of training molecules
(:mod:`molvae.prior`), and those centres decode to the molecules they came from, or to close
relatives where the model does not reconstruct them. So the first :func:`start_size` oracle
calls of a campaign without seeds are centres drawn without replacement (by the campaign seed),
then the search proceeds from the best of them. A model with a one-Gaussian prior (an older
file) has one centre: its start population is drawn from the prior instead.

A campaign's own seeds are its start: a campaign with seeds has no start population. A
campaign's ``start`` setting gives its size (0: none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from molvae.optimization.space import SearchSpace
from molvae.optimization.trials import Proposal

__all__ = ["START_MAX", "START_SHARE", "StartPopulation", "start_points", "start_size"]

#: The share of the budget spent on the start population, and its largest size (the PMO
#: protocol's Graph GA: 1,000 ZINC molecules of a 10,000-call budget).
START_SHARE = 0.1
START_MAX = 1000
#: The ``source`` of the start population's trials.
SOURCE = "start"


def start_size(budget: int) -> int:
    """Oracle calls spent on the start population of a campaign of ``budget`` calls.

    >>> start_size(10_000), start_size(100_000), start_size(200), start_size(5)
    (1000, 1000, 20, 0)
    """
    return min(START_MAX, int(budget * START_SHARE))


def start_points(model: Any, n: int, seed: int) -> np.ndarray:
    """``n`` latents (n, Z) to start from: centres of ``model``'s sampling distribution (a
    TrainedModel's), drawn without replacement by their weights, or draws from that
    distribution where it has fewer than ``n`` centres beyond its first."""
    prior = model.network.prior
    weights = prior.weights.double().cpu().numpy()
    centres = prior.means.float().cpu().numpy()
    rng = np.random.default_rng(seed)
    take = min(n, len(centres)) if len(centres) > 1 else 0
    picked = rng.choice(len(centres), size=take, replace=False, p=weights / weights.sum())
    points = centres[picked]
    if take < n:
        points = np.concatenate([points, model.sample_latents(n - take, seed=seed)])
    return points


@dataclass
class StartPopulation:
    """The start population's points (whitened, in draw order) proposed while the study holds
    fewer than ``size`` scored molecules; ``calls`` reads how many it holds. A resumed run
    skips as many points as the study holds molecules, so it goes on with new ones."""

    points: np.ndarray
    size: int
    calls: Callable[[], int]
    _next: int | None = field(default=None, repr=False)

    @classmethod
    def of(cls, model: Any, space: SearchSpace, size: int, seed: int,
           calls: Callable[[], int]) -> StartPopulation:
        """A start population of ``size`` calls (:func:`start_size` of the budget, or the
        campaign's ``start``) for a search in ``space``."""
        # more points than calls: a centre that decodes to a molecule already scored costs none
        z = start_points(model, 2 * size, seed) if size else np.zeros((0, len(space.lower)))
        w = np.clip(space.whiten(z), space.lower, space.upper) if len(z) else z
        return cls(w, size, calls)

    def take(self, n: int) -> list[Proposal]:
        """Up to ``n`` start proposals, or none once the study holds ``size`` molecules."""
        done = self.calls()
        if done >= self.size:
            return []
        if self._next is None:
            self._next = done
        picked = self.points[self._next:self._next + min(n, self.size - done)]
        self._next += len(picked)
        return [Proposal(w, SOURCE) for w in picked]

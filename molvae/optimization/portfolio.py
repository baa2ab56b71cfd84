"""The search that learns from what it finds: each batch is split between the sampler and the
search operators (:mod:`molvae.optimization.operators`), in proportion to how often each has
lately put a molecule into the elite pool.

A campaign without seeds begins with its start population
(:mod:`molvae.optimization.start`): the model's training molecules, the first tenth of the
budget. Until the study holds :data:`MIN_ELITES` scored molecules the sampler proposes alone.
Then each of the ``M`` mechanisms (the sampler included) gets a share
``RESERVED / M + (1 - RESERVED) * rate_m / sum(rate)`` of the batch, where ``rate_m`` is an
exponential average (weight :data:`MEMORY`) of the share of its proposals that scored above
the worst of the :data:`ELITES` in the elite pool (:mod:`molvae.optimization.pool`): no
per-task setting; what works on a campaign gets most of its budget, and nothing is starved.
Every trial, whichever mechanism proposed it, is written to the study with its point, so the
elites (and a sampler that reads the study, as Optuna's do) learn from all of them; a resumed
run or another worker starts from the same elites.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from molvae.optimization.operators import Elites, Operator
from molvae.optimization.start import SOURCE as START
from molvae.optimization.start import StartPopulation
from molvae.optimization.trials import Outcome, Proposal, Proposer

__all__ = ["ELITES", "MIN_ELITES", "Portfolio", "allocate"]

#: Size of the elite pool the operators work from.
ELITES = 32
#: Scored molecules before the operators start.
MIN_ELITES = 8
#: The share of a batch kept for every mechanism alike, whatever its success: with more
#: mechanisms each keeps less, so the one that works gets most of the budget.
RESERVED = 0.3
#: Weight of the past in a mechanism's success rate (per batch).
MEMORY = 0.7
#: A mechanism's success rate before it has proposed anything.
PRIOR_RATE = 0.1


def allocate(n: int, rates: Sequence[float], reserved: float = RESERVED) -> list[int]:
    """Split ``n`` proposals among mechanisms with success ``rates``: ``reserved`` of the
    batch evenly, the rest in proportion to the rates (largest remainders rounded up).

    >>> allocate(10, [0.0, 0.0])
    [5, 5]
    >>> allocate(20, [0.3, 0.1, 0.0])
    [12, 6, 2]
    >>> allocate(20, [0.3, 0.1, 0.0, 0.0, 0.0, 0.0])  # six mechanisms keep a twentieth each
    [12, 4, 1, 1, 1, 1]
    """
    m = len(rates)
    total = sum(rates)
    floor = reserved / m
    rest = 1.0 - reserved
    shares = [floor + rest * (r / total if total > 0 else 1.0 / m) for r in rates]
    raw = [n * s for s in shares]
    counts = [math.floor(x) for x in raw]
    for i in sorted(range(m), key=lambda i: raw[i] - counts[i], reverse=True)[: n - sum(counts)]:
        counts[i] += 1
    return counts


class Portfolio:
    """A :class:`~molvae.optimization.trials.Proposer` over ``base`` (the sampler's) and
    ``operators``, after the ``start`` population if any; ``elites(k)`` reads the study's ``k``
    best molecules."""

    def __init__(self, base: Proposer, operators: Sequence[Operator],
                 elites: Callable[[int], Elites], *, seed: int | None = None,
                 start: StartPopulation | None = None) -> None:
        self.base, self.operators, self.elites = base, list(operators), elites
        self.start = start
        self.rng = np.random.default_rng(seed)
        self.rates: dict[str, float] = {}
        self.threshold = -math.inf
        self.operator_seconds = 0.0
        self.seconds_by: dict[str, float] = {}  # each operator's own computing

    @property
    def seconds(self) -> float | None:
        """Seconds the sampler and the operators computed."""
        base = self.base.seconds
        return self.operator_seconds + (base or 0.0)

    def ask(self, n: int) -> list[Proposal]:
        if self.start is not None and (first := self.start.take(n)):
            return first
        pool = self.elites(ELITES)
        if len(pool) < MIN_ELITES or not self.operators:
            return self.base.ask(n)
        self.threshold = float(pool.scores[-1]) if len(pool) >= ELITES else -math.inf
        names = ["sampler", *(op.name for op in self.operators)]
        counts = allocate(n, [self.rates.get(name, PRIOR_RATE) for name in names])
        proposals: list[Proposal] = []
        for op, k in zip(self.operators, counts[1:], strict=True):
            if k:
                start = time.perf_counter()
                proposals += op.propose(pool, k, self.rng)[:k]
                self._spent(op.name, time.perf_counter() - start)
        return self.base.ask(n - len(proposals)) + proposals

    def tell(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None:
        self.base.tell(proposals, outcomes)  # every trial to the study; the sampler its own
        improved = [o.oracle and isinstance(o.values, float) and o.values > self.threshold
                    for o in outcomes]
        by_name = {op.name: op for op in self.operators}
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(proposals):
            name = p.source if p.source in by_name else "sampler"
            if p.source not in ("seed", START):  # chosen, not proposed: no mechanism's rate
                groups.setdefault(name, []).append(i)
        for name, idx in groups.items():
            rate = sum(improved[i] for i in idx) / len(idx)
            self.rates[name] = MEMORY * self.rates.get(name, PRIOR_RATE) + (1 - MEMORY) * rate
            if name in by_name:
                start = time.perf_counter()
                by_name[name].update([proposals[i] for i in idx], [outcomes[i] for i in idx],
                                     [improved[i] for i in idx])
                self._spent(name, time.perf_counter() - start)

    def _spent(self, name: str, seconds: float) -> None:
        self.operator_seconds += seconds
        self.seconds_by[name] = self.seconds_by.get(name, 0.0) + seconds

    def abandon(self, proposals: Sequence[Proposal]) -> None:
        self.base.abandon(proposals)

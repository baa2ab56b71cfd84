"""CMA-ES over the latent box, as an Optuna sampler that keeps its state in memory.

Optuna's own ``CmaEsSampler`` stores the pickled optimizer (its 64 x 64 covariance and more, hex
encoded: about 130 kB) in the storage with every trial asked while a generation is open, and
unpickles it again for each ask. Asked in batches, as molvae asks, that made a 1,000-molecule run's
journal 129 MB and spent 60% of the run asking (measured, ``benchmarks/results/samplers.md``).
:class:`LatentCmaEs` holds one ``cmaes.CMA`` per process instead and writes nothing but the
trials' parameters.

What this costs: the optimizer's state is not in the storage. A resumed run, or a worker joining
a shared study, starts a fresh CMA-ES around the best molecules already in the study (a warm
restart), rather than the exact state the last process had. Each worker runs its own CMA-ES; they
share what they found through the study at every (re)start.

Restarts. A latent search converges onto a region that decodes to the same few molecules, and
those cost no budget but teach nothing. When most of a generation's molecules (the trials'
``smiles`` attribute; their values where there is none) repeat for a few generations, or
``cmaes`` itself declares convergence, the search restarts from a random point of its initial
distribution ``N(x0, sigma0^2)`` with a doubled population (IPOP-CMA-ES, Auger & Hansen 2005):
the prior for a search of the prior box, the seeds' neighbourhood for a trust region.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, FloatDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

__all__ = ["LatentCmaEs"]

log = logging.getLogger(__name__)

#: Generations in a row whose values are mostly repeats before the search restarts.
STALL_GENERATIONS = 3
#: A generation "mostly repeats" when fewer than this share of its molecules are distinct.
DISTINCT_SHARE = 0.25


@dataclass
class _Generation:
    """The solutions asked in the current generation and the values told for them."""

    number: int
    asked: dict[int, np.ndarray] = field(default_factory=dict)  # trial number -> x
    told: dict[int, float | None] = field(default_factory=dict)  # trial number -> value
    keys: set[Any] = field(default_factory=set)  # the distinct molecules (or values) told


class LatentCmaEs(BaseSampler):
    """CMA-ES (``cmaes.CMA``) over a fixed box of float parameters, with IPOP restarts.

    Args:
        search_space: the parameters and their bounds (every trial samples all of them).
        x0: where the first search starts (default: the box centre).
        sigma0: the first step size, in parameter units (default: a sixth of the narrowest
            side of the box, Optuna's default).
        popsize: the population (default ``4 + 3 ln d``); ask in batches of it.
        seed: seeds CMA-ES and the restart points.

    >>> space = {"a": FloatDistribution(-3, 3), "b": FloatDistribution(-3, 3)}
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(direction="maximize", sampler=LatentCmaEs(space, seed=0))
    >>> study.optimize(lambda t: -(t.suggest_float("a", -3, 3) - 1) ** 2
    ...                - t.suggest_float("b", -3, 3) ** 2, n_trials=120)
    >>> round(study.best_params["a"], 1), round(study.best_params["b"], 1)
    (1.0, 0.0)
    """

    def __init__(
        self,
        search_space: dict[str, BaseDistribution],
        *,
        x0: dict[str, float] | None = None,
        sigma0: float | None = None,
        popsize: int | None = None,
        seed: int | None = None,
    ) -> None:
        for name, dist in search_space.items():
            if not isinstance(dist, FloatDistribution) or dist.log or dist.step is not None:
                raise ValueError(f"LatentCmaEs takes plain float parameters; {name!r} is {dist}")
        self._space = dict(search_space)
        self._names = list(search_space)
        self._bounds = np.array([[d.low, d.high] for d in search_space.values()], dtype=float)
        dims = len(self._names)
        self._x0 = (
            np.array([x0[n] for n in self._names], dtype=float)
            if x0 is not None
            else self._bounds.mean(axis=1)
        )
        width = float(np.min(self._bounds[:, 1] - self._bounds[:, 0]))
        self._sigma0 = sigma0 if sigma0 is not None else width / 6
        self._popsize = popsize or 4 + math.floor(3 * math.log(max(dims, 1)))
        self._rng = np.random.default_rng(seed)
        self._fallback = RandomSampler(seed=seed)
        self._cma: Any = None
        self._generation: _Generation | None = None
        self._stalled = 0
        self.restarts = 0
        self.seconds = 0.0  # spent in CMA-ES itself (asks and tells), for timing reports

    # -- Optuna's sampler interface --

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._fallback.reseed_rng()

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return dict(self._space)

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if study._is_multi_objective():
            raise ValueError("LatentCmaEs optimizes one objective; use NSGA-II for several")
        if "fixed_params" in trial.system_attrs:  # an enqueued seed: its parameters are given
            return {}
        start = time.perf_counter()
        if self._cma is None:
            self._start(*(self._warm_start(study) or (self._x0, self._sigma0)))
        assert self._generation is not None
        x = self._cma.ask()
        self._generation.asked[trial.number] = x
        self.seconds += time.perf_counter() - start
        return {n: float(v) for n, v in zip(self._names, x, strict=True)}

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        gen = self._generation
        if gen is None or trial.number not in gen.asked:
            return  # an enqueued seed, or a trial of a generation a restart abandoned
        value = None
        if state == TrialState.COMPLETE and values:
            value = float(values[0])
            if study.direction == StudyDirection.MAXIMIZE:
                value = -value  # cmaes minimizes
        gen.told[trial.number] = value
        gen.keys.add(trial.user_attrs.get("smiles", value if value is None else round(value, 12)))
        members = list(gen.asked)[: self._cma.population_size]
        if len(members) == self._cma.population_size and all(n in gen.told for n in members):
            start = time.perf_counter()
            self._tell(gen, members)
            self.seconds += time.perf_counter() - start

    # -- the search --

    def _start(self, mean: np.ndarray, sigma: float) -> None:
        import cmaes

        popsize = self._popsize * 2**self.restarts
        self._cma = cmaes.CMA(
            mean=np.clip(mean, self._bounds[:, 0], self._bounds[:, 1]),
            sigma=sigma,
            bounds=self._bounds,
            seed=int(self._rng.integers(2**31 - 1)),
            population_size=popsize,
        )
        self._generation = _Generation(self._cma.generation)
        self._stalled = 0

    def _warm_start(self, study: optuna.Study) -> tuple[np.ndarray, float] | None:
        """Around the best half-population of trials already in the study (resumed runs, other
        workers), with their spread as the step size; None for a fresh study."""
        done = [
            t
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if all(n in t.params for n in self._names)
        ]
        if not done:
            return None
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
        done.sort(key=lambda t: sign * float(t.values[0]))
        best = np.array([[t.params[n] for n in self._names] for t in done[: self._popsize // 2]])
        spread = float(np.median(best.std(axis=0))) if len(best) > 1 else self._sigma0
        sigma = min(max(spread, 0.1 * self._sigma0), self._sigma0)
        log.info("CMA-ES warm start from the best %d of %d trials", len(best), len(done))
        return best.mean(axis=0), sigma

    def _tell(self, gen: _Generation, numbers: list[int]) -> None:
        values = [gen.told.get(n) for n in numbers]
        finite = [v for v in values if v is not None and math.isfinite(v)]
        worst = max(finite) + 1.0 if finite else 1.0  # failures rank below every success
        solutions = [
            (gen.asked[n], v if v is not None and math.isfinite(v) else worst)
            for n, v in zip(numbers, values, strict=True)
        ]
        self._cma.tell(solutions)
        distinct = len(gen.keys)
        self._stalled = self._stalled + 1 if distinct < DISTINCT_SHARE * len(numbers) else 0
        if self._stalled >= STALL_GENERATIONS or self._cma.should_stop():
            self._restart()
        else:
            self._generation = _Generation(self._cma.generation)

    def _restart(self) -> None:
        self.restarts += 1
        mean = self._x0 + self._sigma0 * self._rng.standard_normal(len(self._x0))
        log.info(
            "CMA-ES restart %d after %d generations: population %d",
            self.restarts, self._cma.generation, self._popsize * 2**self.restarts,
        )
        self._start(mean, self._sigma0)

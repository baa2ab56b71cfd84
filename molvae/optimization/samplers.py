"""CMA-ES over the latent box, as an Optuna sampler that keeps its state in memory.

Optuna's own ``CmaEsSampler`` stores the pickled optimizer (its 64 x 64 covariance and more, hex
encoded: about 130 kB) in the storage with every trial asked while a generation is open, and
unpickles it again for each ask. Asked in batches, as molvae asks, that made a 1,000-molecule run's
journal 129 MB and spent 60% of the run asking (measured, ``benchmarks/results/samplers.md``).
:class:`LatentCmaEs` holds one ``cmaes.CMA`` per process instead and writes nothing but the
trials' parameters.

molvae's run loop uses it through :meth:`LatentCmaEs.ask` and :meth:`LatentCmaEs.tell` on whole
points and writes each trial once, told (:mod:`molvae.optimization.records`); through Optuna's
sampler interface (``study.optimize``, ``study.ask``) it behaves as any Optuna sampler.

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
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, FloatDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from molvae.errors import OptimizeError
from molvae.optimization.records import point_of

__all__ = ["DEFAULT_SAMPLER", "SAMPLERS", "LatentCmaEs", "make_sampler"]

log = logging.getLogger(__name__)

#: Samplers by campaign name: CMA-ES (:class:`LatentCmaEs`), and Optuna's TPE (multivariate),
#: GPSampler, random, QMC (Sobol) and NSGA-II. Every one but ``cmaes`` also handles
#: multi-objective mode.
SAMPLERS: tuple[str, ...] = ("cmaes", "tpe", "gp", "random", "qmc", "nsga2")
#: Samplers that optimize one objective only.
SINGLE_OBJECTIVE_SAMPLERS: tuple[str, ...] = ("cmaes",)
#: The sampler of a single-objective campaign that names none: CMA-ES led random search and
#: prior sampling on every task of ``benchmarks/pmo.py`` and matched TPE on QED at an 18th of
#: its time (``benchmarks/results/pmo_samplers/``); GPSampler costs minutes per few hundred
#: trials.
DEFAULT_SAMPLER = "cmaes"
#: The sampler of a multi-objective campaign that names none.
DEFAULT_PARETO_SAMPLER = "nsga2"
#: Generations in a row whose values are mostly repeats before the search restarts.
STALL_GENERATIONS = 3
#: A generation "mostly repeats" when fewer than this share of its molecules are distinct.
DISTINCT_SHARE = 0.25


@dataclass
class _Generation:
    """The solutions asked in the current generation and the values told for them."""

    number: int
    asked: dict[int, np.ndarray] = field(default_factory=dict)  # ticket -> x
    told: dict[int, float | None] = field(default_factory=dict)  # ticket -> value (minimized)
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
        width = float(np.min(self._bounds[:, 1] - self._bounds[:, 0])) if dims else 1.0
        self._sigma0 = sigma0 if sigma0 is not None else width / 6
        self._popsize = popsize or 4 + math.floor(3 * math.log(max(dims, 1)))
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self._fallback = RandomSampler(seed=seed)
        self._cma: Any = None
        self._generation: _Generation | None = None
        self._stalled = 0
        self._tickets = 0
        self._by_trial: dict[int, int] = {}  # Optuna trial number -> ticket
        self.restarts = 0
        self.seconds = 0.0  # spent in CMA-ES itself (asks and tells), for timing reports

    @property
    def names(self) -> list[str]:
        """The parameters, in the order of :meth:`ask`'s points."""
        return list(self._names)

    # -- molvae's interface: whole points --

    def ask(self, study: optuna.Study) -> tuple[int, np.ndarray]:
        """The next point to evaluate, and the ticket to :meth:`tell` its value with. The first
        ask starts the search, warm from the study's best trials when it has some."""
        if len(study.directions) > 1:
            raise ValueError("LatentCmaEs optimizes one objective; use NSGA-II for several")
        start = time.perf_counter()
        if self._cma is None:
            self._start(*(self._warm_start(study) or (self._x0, self._sigma0)))
        assert self._generation is not None
        x = self._cma.ask()
        ticket = self._tickets
        self._tickets += 1
        self._generation.asked[ticket] = x
        self.seconds += time.perf_counter() - start
        return ticket, x

    def tell(self, study: optuna.Study, ticket: int, value: float | None, key: Any = None) -> None:
        """The value of an asked point (None: it failed), in the study's direction; ``key``
        names what it evaluated (the molecule), so a generation of repeats is seen. A ticket of
        a generation a restart abandoned is ignored."""
        gen = self._generation
        if gen is None or ticket not in gen.asked:
            return
        if value is not None and study.direction == StudyDirection.MAXIMIZE:
            value = -value  # cmaes minimizes
        gen.told[ticket] = value
        gen.keys.add(key if key is not None else (value if value is None else round(value, 12)))
        members = list(gen.asked)[: self._cma.population_size]
        if len(members) == self._cma.population_size and all(n in gen.told for n in members):
            start = time.perf_counter()
            self._tell(gen, members)
            self.seconds += time.perf_counter() - start

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
        if not search_space:
            return {}
        if "fixed_params" in trial.system_attrs:  # an enqueued trial: its parameters are given
            return {}
        ticket, x = self.ask(study)
        self._by_trial[trial.number] = ticket
        return {n: float(v) for n, v in zip(self._names, x, strict=True)}

    def sample_independent(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        if len(study.directions) > 1:
            raise ValueError("LatentCmaEs optimizes one objective; use NSGA-II for several")
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self,
        study: optuna.Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        ticket = self._by_trial.pop(trial.number, None)
        if ticket is None:
            return  # an enqueued trial, or one another sampler asked
        value = float(values[0]) if state == TrialState.COMPLETE and values else None
        self.tell(study, ticket, value, trial.user_attrs.get("smiles"))

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
        sign = -1.0 if study.direction == StudyDirection.MAXIMIZE else 1.0
        done = []
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            x = point_of(t, self._names)
            if x is not None and t.values:
                done.append((sign * float(t.values[0]), x))
        if not done:
            return None
        done.sort(key=lambda pair: pair[0])
        best = np.array([x for _, x in done[: max(self._popsize // 2, 1)]])
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


def make_sampler(
    name: str,
    *,
    seed: int | None,
    batch_size: int = 32,
    space: dict[str, FloatDistribution] | None = None,
    x0: dict[str, float] | None = None,
) -> optuna.samplers.BaseSampler:
    """An Optuna sampler by campaign name (:data:`SAMPLERS`), seeded.

    ``cmaes`` is :class:`LatentCmaEs` over ``space``: its population is the batch (at least its
    default ``4 + 3 ln Z``) and it starts from ``x0`` (default: the box centre); ``tpe`` is
    multivariate with the constant liar, so the trials of one batch differ.

    >>> type(make_sampler("tpe", seed=0)).__name__
    'TPESampler'

    Raises:
        OptimizeError: an unknown name, or ``cmaes`` without the ``cmaes`` package.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "cmaes":
            try:
                import cmaes  # noqa: F401 - the CMA-ES implementation
            except ImportError as err:
                raise OptimizeError(
                    "sampler 'cmaes' needs the cmaes package: pip install cmaes "
                    "(or choose another sampler: " + ", ".join(SAMPLERS) + ")"
                ) from err
            if space is None:
                raise OptimizeError("sampler 'cmaes' needs the search space")
            dims = len(space)
            popsize = max(batch_size, 4 + int(3 * math.log(max(dims, 1))))
            return LatentCmaEs(space, x0=x0, seed=seed, popsize=popsize)
        if name == "tpe":
            return optuna.samplers.TPESampler(multivariate=True, constant_liar=True, seed=seed)
        if name == "gp":
            return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        if name == "qmc":
            return optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False)
        if name == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed)
    raise OptimizeError(f"unknown sampler {name!r}; expected one of: {', '.join(SAMPLERS)}")

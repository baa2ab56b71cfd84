"""LatentCmaEs: it optimizes, keeps the storage small, restarts a stalled search near where it
began, starts warm on a study that has trials, and copes with seeds and failures."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from molvae.optimization.samplers import LatentCmaEs

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _space(dims: int = 4, bound: float = 3.0) -> dict[str, FloatDistribution]:
    return {f"w{i}": FloatDistribution(-bound, bound) for i in range(dims)}


def _x(trial: optuna.trial.FrozenTrial | optuna.Trial, dims: int) -> np.ndarray:
    return np.array([trial.params[f"w{i}"] for i in range(dims)])


def _sphere(target: np.ndarray):
    def objective(trial: optuna.Trial) -> float:
        x = np.array([trial.suggest_float(f"w{i}", -3, 3) for i in range(len(target))])
        return -float(np.sum((x - target) ** 2))

    return objective


def test_it_finds_the_optimum_of_a_sphere():
    target = np.array([1.0, -0.5, 0.5, 2.0])
    study = optuna.create_study(direction="maximize", sampler=LatentCmaEs(_space(), seed=1))
    study.optimize(_sphere(target), n_trials=300)
    assert np.allclose(_x(study.best_trial, 4), target, atol=0.05)


def test_minimizing_works_too():
    target = np.array([0.0, 1.0, -1.0, 0.0])
    study = optuna.create_study(sampler=LatentCmaEs(_space(), seed=1))
    study.optimize(lambda t: -_sphere(target)(t), n_trials=300)
    assert np.allclose(_x(study.best_trial, 4), target, atol=0.05)


def test_the_storage_holds_parameters_not_the_optimizer():
    study = optuna.create_study(direction="maximize", sampler=LatentCmaEs(_space(), seed=0))
    study.optimize(_sphere(np.zeros(4)), n_trials=60)
    for trial in study.get_trials():
        assert not trial.system_attrs, trial.system_attrs


def test_batched_asks_fill_a_generation_before_it_is_told():
    sampler = LatentCmaEs(_space(), seed=0, popsize=8)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    trials = [study.ask() for _ in range(8)]
    xs = [np.array([t.suggest_float(f"w{i}", -3, 3) for i in range(4)]) for t in trials]
    assert len({tuple(x) for x in xs}) == 8  # one generation: eight different points
    assert sampler._cma.generation == 0
    for t, x in zip(trials, xs, strict=True):
        study.tell(t, -float(np.sum(x**2)))
    assert sampler._cma.generation == 1


def test_a_search_that_keeps_finding_the_same_molecule_restarts_near_its_start():
    x0 = {f"w{i}": 1.0 for i in range(4)}
    sampler = LatentCmaEs(_space(), seed=0, popsize=8, x0=x0, sigma0=0.1)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for _ in range(8 * 6):
        trial = study.ask()
        for i in range(4):
            trial.suggest_float(f"w{i}", -3, 3)
        trial.set_user_attr("smiles", "CCO")  # every point decodes to the same molecule
        study.tell(trial, 0.5)
    assert sampler.restarts >= 1
    assert sampler._cma.population_size == 16  # IPOP: the population doubles
    assert np.all(np.abs(sampler._cma.mean - 1.0) < 1.0)  # restarted near x0, not anywhere


def test_different_molecules_with_equal_scores_are_not_a_stall():
    sampler = LatentCmaEs(_space(), seed=0, popsize=8)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for n in range(8 * 6):
        trial = study.ask()
        for i in range(4):
            trial.suggest_float(f"w{i}", -3, 3)
        trial.set_user_attr("smiles", "C" * (n + 1))  # filtered molecules all score 0
        study.tell(trial, 0.0)
    assert sampler.restarts == 0


def test_a_new_sampler_on_a_study_with_trials_starts_near_the_best():
    """A resumed run or a joining worker: CMA-ES starts around the best half-population."""
    study = optuna.create_study(direction="maximize")
    for x, value in ((2.0, 1.0), (1.8, 0.9), (-2.0, -1.0), (-2.5, -1.0), (-1.5, -1.0)):
        params = {f"w{i}": x for i in range(4)}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=_space(),
                                                  value=value))
    sampler = LatentCmaEs(_space(), seed=0, popsize=4)  # half a population: the best two
    study.sampler = sampler
    study.ask(_space())
    assert np.allclose(sampler._cma.mean, 1.9)


def test_enqueued_seeds_and_failed_trials_do_not_break_the_generation():
    sampler = LatentCmaEs(_space(), seed=0, popsize=4)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.enqueue_trial({f"w{i}": 0.5 for i in range(4)})
    seed_trial = study.ask(_space())
    assert _x(seed_trial, 4).tolist() == [0.5] * 4
    study.tell(seed_trial, 1.0)
    for n in range(12):
        trial = study.ask(_space())
        if n % 3 == 0:
            study.tell(trial, state=TrialState.FAIL)
        else:
            study.tell(trial, float(-np.sum(_x(trial, 4) ** 2)))
    assert sampler._cma.generation == 3  # 12 asks, population 4: three generations told


def test_only_plain_float_parameters():
    with pytest.raises(ValueError, match="plain float"):
        LatentCmaEs({"n": FloatDistribution(1, 10, log=True)})


def test_one_objective_only():
    study = optuna.create_study(directions=["maximize", "maximize"],
                                sampler=LatentCmaEs(_space(), seed=0))
    with pytest.raises(ValueError, match="one objective"):
        study.ask(_space())


def test_default_population_and_step():
    sampler = LatentCmaEs(_space(64), seed=0)
    assert sampler._popsize == 4 + math.floor(3 * math.log(64))
    assert sampler._sigma0 == pytest.approx(1.0)  # a sixth of the box: the prior's std


def test_whole_point_asks_and_tells_run_the_same_search():
    """molvae's run loop asks points and tells values by ticket, writing no Optuna parameters:
    the search converges as through Optuna's interface."""
    target = np.array([1.0, -0.5, 0.5, 2.0])
    sampler = LatentCmaEs(_space(), seed=1, popsize=8)
    study = optuna.create_study(direction="maximize")
    for _ in range(40):
        asked = [sampler.ask(study) for _ in range(8)]
        for ticket, x in asked:
            sampler.tell(study, ticket, -float(np.sum((x - target) ** 2)), key=tuple(x))
    assert np.allclose(sampler._cma.mean, target, atol=0.05)
    assert study.get_trials() == []  # nothing was written by the sampler


def test_a_warm_start_reads_points_from_records_without_parameters():
    """A resumed run of whole trials: the points are in the records (``w``), not parameters."""
    from molvae.optimization.records import ATTR, encode_point

    study = optuna.create_study(direction="maximize")
    for x, value in ((2.0, 1.0), (1.8, 0.9), (-2.0, -1.0), (-2.5, -1.0)):
        study.add_trial(optuna.trial.create_trial(
            value=value, user_attrs={ATTR: {"oracle": True, "w": encode_point(np.full(4, x))}}))
    sampler = LatentCmaEs(_space(), seed=0, popsize=4)
    sampler.ask(study)
    assert np.allclose(sampler._cma.mean, 1.9, atol=1e-6)


def test_a_ticket_of_an_abandoned_generation_is_ignored():
    sampler = LatentCmaEs(_space(), seed=0, popsize=4)
    study = optuna.create_study(direction="maximize")
    tickets = [sampler.ask(study)[0] for _ in range(4)]
    sampler._restart()
    sampler.tell(study, tickets[0], 1.0)  # from before the restart: no effect
    assert sampler._generation.told == {}


# Optuna's own conformance tests for samplers: any distribution the fixed space does not hold
# is sampled independently (at random), and a multi-objective study is refused.
from optuna.testing.pytest_samplers import (  # noqa: E402
    BasicSamplerTestCase,
    SingleOnlySamplerTestCase,
)


class TestOptunaSamplerCases(BasicSamplerTestCase, SingleOnlySamplerTestCase):
    @pytest.fixture
    def sampler(self):
        return lambda: LatentCmaEs(_space(2), seed=0)

"""Search operators and the portfolio that runs them: each operator keeps the contract, the
trust region adapts, the portfolio splits batches by success, and a run with operators keeps
every guarantee of a run without (exact budget, nothing duplicated, every trial recorded)."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from molvae.errors import CampaignError
from molvae.optimization import optimize
from molvae.optimization.campaign import loads_campaign
from molvae.optimization.operators import Elites
from molvae.optimization.operators.crossover import LatentCrossover
from molvae.optimization.operators.local import (
    FAILURES,
    MIN_RADIUS,
    START_RADIUS,
    SUCCESSES,
    TrustRegion,
)
from molvae.optimization.operators.mutation import SelfiesMutation
from molvae.optimization.portfolio import ELITES, MIN_ELITES, Portfolio, allocate
from molvae.optimization.space import model_space
from molvae.optimization.trials import Outcome, Proposal
from molvae.testing.operators import OperatorConformance


class TestTrustRegion(OperatorConformance):
    @pytest.fixture
    def operator(self, bounds):
        return TrustRegion(*bounds)


class TestLatentCrossover(OperatorConformance):
    @pytest.fixture
    def operator(self, bounds):
        return LatentCrossover(*bounds)


class TestSelfiesMutation(OperatorConformance):
    @pytest.fixture
    def bounds(self, tiny_model):
        space = model_space(tiny_model)
        return space.lower, space.upper

    @pytest.fixture
    def operator(self, tiny_model):
        return SelfiesMutation(tiny_model, model_space(tiny_model))

    def test_it_proposes_molecules_the_model_can_encode(self, operator, elites) -> None:
        proposals = operator.propose(elites, 16, np.random.default_rng(0))
        assert proposals and all(p.smiles is not None for p in proposals)
        assert len({p.smiles for p in proposals}) == len(proposals)


def test_trust_region_grows_on_success_shrinks_on_failure_and_restarts() -> None:
    tr = TrustRegion(np.full(2, -3.0), np.full(2, 3.0))
    for _ in range(SUCCESSES):
        tr.update([], [], [True])
    assert tr.radius == 2 * START_RADIUS
    for _ in range(FAILURES):
        tr.update([], [], [False])
    assert tr.radius == START_RADIUS
    while tr.radius >= 2 * MIN_RADIUS:
        for _ in range(FAILURES):
            tr.update([], [], [False])
    for _ in range(FAILURES):
        tr.update([], [], [False])
    assert tr.radius == START_RADIUS  # shrunk below the smallest radius: a fresh region


def test_crossover_children_take_each_coordinate_from_a_parent() -> None:
    w = np.array([[1.0] * 6, [-1.0] * 6])
    elites = Elites(("CCO", "CCN"), np.array([1.0, 0.5]), w)
    for p in LatentCrossover(np.full(6, -3.0), np.full(6, 3.0)).propose(
            elites, 20, np.random.default_rng(0)):
        assert np.all(np.abs(np.abs(p.w) - 1.0) < 0.3)


def test_elites_are_picked_by_rank() -> None:
    elites = Elites(tuple("CNOSP"), np.arange(5.0)[::-1], np.zeros((5, 2)))
    counts = np.bincount(elites.pick(np.random.default_rng(0), 20000), minlength=5)
    assert list(counts) == sorted(counts, reverse=True) and counts[-1] > 0


@pytest.mark.parametrize("n", [1, 7, 32, 100])
@pytest.mark.parametrize("rates", [[0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0],
                                   [0.2, 0.5, 0.1, 0.0]])
def test_allocation_gives_every_proposal_out_and_keeps_the_floor(n, rates) -> None:
    counts = allocate(n, rates)
    assert sum(counts) == n and min(counts) >= 0
    if n >= 40:
        assert min(counts) >= int(0.1 * n) - 1
        best = int(np.argmax(rates))
        assert counts[best] == max(counts)


class _Base:
    seconds = 0.0

    def __init__(self) -> None:
        self.told: list[list[Proposal]] = []

    def ask(self, n):
        return [Proposal(np.zeros(2), "cmaes") for _ in range(n)]

    def tell(self, proposals, outcomes):
        self.told.append(list(proposals))

    def abandon(self, proposals):
        pass


class _Fixed:
    def __init__(self, name: str) -> None:
        self.name, self.updates = name, []

    def propose(self, elites, n, rng):
        return [Proposal(np.ones(2), self.name) for _ in range(n)]

    def update(self, proposals, outcomes, improved):
        self.updates.append((len(proposals), list(improved)))


def test_portfolio_waits_for_elites_then_favours_what_improves() -> None:
    pool = {"n": 0}

    def elites(k):
        n = min(pool["n"], k)
        return Elites(tuple(f"C{'C' * i}O" for i in range(n)), np.linspace(1, 0, n),
                      np.zeros((n, 2)))

    base, good, bad = _Base(), _Fixed("good"), _Fixed("bad")
    portfolio = Portfolio(base, [good, bad], elites, seed=0)
    assert {p.source for p in portfolio.ask(10)} == {"cmaes"}  # no elites yet
    pool["n"] = MIN_ELITES
    assert {p.source for p in portfolio.ask(30)} >= {"good", "bad"}
    pool["n"] = ELITES  # a full pool: improving means beating its worst (score 0)
    for _ in range(10):
        proposals = portfolio.ask(30)
        assert len(proposals) == 30
        outcomes = [Outcome("C", True, {}, 10.0 if p.source == "good" else -10.0)
                    for p in proposals]
        portfolio.tell(proposals, outcomes)
        assert base.told[-1] == proposals  # every trial reaches the study
    last = [p.source for p in portfolio.ask(30)]
    assert last.count("good") > last.count("bad") >= 3 and last.count("cmaes") >= 3
    assert good.updates and all(all(i) for _, i in good.updates)


CAMPAIGN = textwrap.dedent("""
    [campaign]
    name = "ops"
    budget = 120
    batch_size = 16
    operators = ["local", "crossover", "mutate"]
    [[component]]
    kind = "qed"
""")


def test_a_run_with_operators_keeps_the_budget_and_records_each_source(tiny_model,
                                                                       tmp_path) -> None:
    campaign = loads_campaign(CAMPAIGN)
    table = optimize(campaign, model=tiny_model, out=tmp_path / "run")
    assert len(table) == 120 and table["smiles"].is_unique
    assert set(table["source"]) <= {"cmaes", "local", "crossover", "mutate"}
    assert {"local", "crossover", "mutate"} & set(table["source"])
    sources = json.loads((tmp_path / "run" / "timing.json").read_text())["sources"]
    for name in set(table["source"]):
        assert sources[name]["scored"] == (table["source"] == name).sum()
        assert sources[name]["seconds"] > 0
    resumed = optimize(campaign.with_overrides(budget=160), model=tiny_model,
                       out=tmp_path / "run")
    assert len(resumed) == 160 and resumed["smiles"].is_unique
    assert set(table["smiles"]) <= set(resumed["smiles"])


def test_operators_are_named_and_single_objective_only() -> None:
    with pytest.raises(CampaignError, match="operators"):
        loads_campaign(CAMPAIGN.replace('"local", ', '"local", "teleport", '))
    pareto = CAMPAIGN + textwrap.dedent("""
        [[objective]]
        component = "qed"
        direction = "maximize"
        [[objective]]
        component = "qed"
        direction = "minimize"
    """).replace('batch_size = 16', 'batch_size = 16\nsampler = "nsga2"')
    with pytest.raises(CampaignError, match="single objective"):
        loads_campaign(pareto)

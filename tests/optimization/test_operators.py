"""Search operators and the portfolio that runs them: each operator keeps the contract, the
trust region adapts, the portfolio splits batches by success, and a run with operators keeps
every guarantee of a run without (exact budget, nothing duplicated, every trial recorded)."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
from rdkit import Chem

from molvae.chem import implausible_atoms
from molvae.errors import CampaignError
from molvae.optimization import optimize
from molvae.optimization.campaign import loads_campaign
from molvae.optimization.operators import Elites
from molvae.optimization.operators.crossover import LatentCrossover
from molvae.optimization.operators.edit import EDITS, GraphEdit, edit
from molvae.optimization.operators.encoding import new_children
from molvae.optimization.operators.local import (
    FAILURES,
    MIN_RADIUS,
    START_RADIUS,
    SUCCESSES,
    TrustRegion,
)
from molvae.optimization.operators.mutation import SelfiesMutation
from molvae.optimization.operators.splice import (
    FragmentSplice,
    cut_bonds,
    ring_cuts,
    ring_splice,
    splice,
)
from molvae.optimization.portfolio import ELITES, MIN_ELITES, RESERVED, Portfolio, allocate
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
        assert all(implausible_atoms(p.smiles) == [] for p in proposals)  # nothing to game with


def test_children_a_chemist_could_not_make_are_dropped_before_they_are_scored() -> None:
    made = iter(["CC[OH2+]", "CCO", "C[CH2]", "CC[SH2+]", "CC[NH3+]", "CCO"])
    elites = Elites(("CCC",), np.array([1.0]), np.zeros((1, 2)))
    assert new_children(elites, 4, 2, lambda: next(made, None)) == ["CCO", "CC[NH3+]"]


class TestFragmentSplice(TestSelfiesMutation):
    @pytest.fixture
    def operator(self, tiny_model):
        return FragmentSplice(tiny_model, model_space(tiny_model))


class TestGraphEdit(TestSelfiesMutation):
    @pytest.fixture
    def operator(self, tiny_model):
        return GraphEdit(tiny_model, model_space(tiny_model))


def test_a_graph_edit_changes_one_atom_or_bond() -> None:
    """Each child differs from its parent by about one atom (or bond): the small step."""
    parent = Chem.MolFromSmiles("Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1")
    rng = np.random.default_rng(0)
    children = {c for c in (edit(parent, rng) for _ in range(300)) if c}
    assert len(children) > 50
    for smi in children:
        child = Chem.MolFromSmiles(smi)
        assert child is not None and "." not in smi
        assert abs(child.GetNumHeavyAtoms() - parent.GetNumHeavyAtoms()) <= 1
    assert "CCc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1" in children  # appended C


@pytest.mark.parametrize("kind", EDITS, ids=lambda f: f.__name__)
def test_every_kind_of_edit_makes_valid_molecules(kind) -> None:
    rng = np.random.default_rng(1)
    made = 0
    for smiles in ("CC(=O)Nc1ccc(O)cc1", "C1CCC(CC1)N", "CC=CC#N", "O=C1CCCN1C"):
        work = Chem.RWMol(Chem.MolFromSmiles(smiles))
        Chem.Kekulize(work, clearAromaticFlags=True)
        for _ in range(5):
            trial = Chem.RWMol(work)
            if kind(trial, rng):
                try:
                    mol = trial.GetMol()
                    Chem.SanitizeMol(mol)
                except (ValueError, RuntimeError):
                    continue
                made += Chem.MolFromSmiles(Chem.MolToSmiles(mol)) is not None
    assert made > 0


def test_a_splice_keeps_a_piece_of_each_parent() -> None:
    """Every child is a piece of the first parent joined at one acyclic single bond to a piece
    of the second: its atoms come from the two parents, and it keeps the rings of the pieces."""
    a = Chem.MolFromSmiles("Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1")  # celecoxib
    b = Chem.MolFromSmiles("CC(C)Cc1ccc(C(C)C(=O)O)cc1")  # ibuprofen
    rng = np.random.default_rng(0)
    children = {c for c in (splice(a, b, rng) for _ in range(200)) if c}
    assert len(children) > 20
    elements_a = {x.GetSymbol() for x in a.GetAtoms()}
    elements_b = {x.GetSymbol() for x in b.GetAtoms()}
    for smi in children:
        child = Chem.MolFromSmiles(smi)
        assert child is not None and smi == Chem.MolToSmiles(child)
        assert {x.GetSymbol() for x in child.GetAtoms()} <= elements_a | elements_b
        n = child.GetNumHeavyAtoms()
        assert 0.5 * b.GetNumHeavyAtoms() <= n <= 1.5 * a.GetNumHeavyAtoms()
    assert "CC(C)Cc1ccc(S(N)(=O)=O)cc1" in children  # ibuprofen's isobutylphenyl + sulfonamide


def _ring_sizes(mol: Chem.Mol) -> set[int]:
    return {len(ring) for ring in mol.GetRingInfo().AtomRings()}


def test_a_ring_splice_swaps_a_ring_atom_and_keeps_ring_sizes_and_aromaticity() -> None:
    """A ring splice joins the inner piece of one parent's ring to the outer piece of the
    other's: the celecoxib analog with a fluorine gets the trifluoromethyl carbon of the
    pyrazole, every child has only ring sizes its parents have, and no carbon between two
    double bonds (the cumulenes a careless join of Kekule forms makes)."""
    a = Chem.MolFromSmiles("Cc1ccc(-c2cc(F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1")
    b = Chem.MolFromSmiles("FC(F)(F)c1ccn(C)n1")
    rng = np.random.default_rng(0)
    children = [c for c in (ring_splice(a, b, rng) for _ in range(300)) if c is not None]
    smiles = {Chem.MolToSmiles(c) for c in children}
    assert len(smiles) > 20
    assert Chem.CanonSmiles("Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1") in smiles
    for child in children:
        assert _ring_sizes(child) <= _ring_sizes(a) | _ring_sizes(b)
        for atom in child.GetAtoms():
            doubles = sum(bond.GetBondType() == Chem.BondType.DOUBLE for bond in atom.GetBonds())
            assert atom.GetAtomicNum() != 6 or doubles <= 1
    aromatic_rings = [sum(all(child.GetAtomWithIdx(i).GetIsAromatic() for i in ring)
                          for ring in child.GetRingInfo().AtomRings()) for child in children]
    assert np.mean(aromatic_rings) > 1.5  # the aromatic rings mostly stay aromatic


def test_a_ring_cut_leaves_one_or_two_ring_atoms_inside() -> None:
    toluene = Chem.MolFromSmiles("Cc1ccccc1")
    cuts = ring_cuts(toluene)
    assert {k for *_, k in cuts} == {1, 2}
    assert all(toluene.GetAtomWithIdx(inner).GetDegree() == 3 for _, _, inner, k in cuts
               if k == 1)  # one ring atom alone moves only with a substituent
    assert ring_cuts(Chem.MolFromSmiles("CCO")) == []


def test_a_splice_needs_a_bond_to_cut() -> None:
    benzene, ethanol = Chem.MolFromSmiles("c1ccccc1"), Chem.MolFromSmiles("CCO")
    assert cut_bonds(benzene) == []
    assert splice(benzene, ethanol, np.random.default_rng(0)) is None


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
        assert min(counts) >= int(RESERVED / len(rates) * n) - 1
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
    operators = ["local", "crossover", "mutate", "splice", "edit"]
    [[component]]
    kind = "qed"
""")


def test_a_run_with_operators_keeps_the_budget_and_records_each_source(tiny_model,
                                                                       tmp_path) -> None:
    campaign = loads_campaign(CAMPAIGN)
    table = optimize(campaign, model=tiny_model, out=tmp_path / "run")
    assert len(table) == 120 and table["smiles"].is_unique
    assert set(table["source"]) <= {"start", "cmaes", "local", "crossover", "mutate", "splice",
                                    "edit"}
    assert {"local", "crossover", "mutate", "splice", "edit"} & set(table["source"])
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


def test_operators_propose_no_molecule_a_cheap_filter_would_reject(tiny_model, tmp_path) -> None:
    """A hard constraint computed from the molecule alone (here its weight) costs no oracle
    call on what the operators make: they check it before proposing; the sampler's decoded
    molecules are still scored, and filtered, as before."""
    campaign = loads_campaign(CAMPAIGN + textwrap.dedent("""
        [[filter]]
        name = "light"
        kind = "mw"
        max = 150
    """))
    table = optimize(campaign, model=tiny_model, out=tmp_path / "run")
    made = table[table["source"].isin(["mutate", "splice", "edit"])]
    assert len(table) == 120 and len(made) > 0
    assert (made["state"] != "filtered").all() and (made["mw"] <= 150).all()

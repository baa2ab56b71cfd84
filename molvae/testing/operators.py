"""The conformance suite of search operators (:mod:`molvae.optimization.operators`).

Every operator must keep the contract of :mod:`molvae.optimization.operators._base`. Subclass
:class:`OperatorConformance` in your tests and give the operator and the elites it works on::

    from molvae.testing.operators import OperatorConformance

    class TestMyOperator(OperatorConformance):
        @pytest.fixture
        def operator(self, space):
            return MyOperator(space.lower, space.upper)

What it checks: at most ``n`` proposals, each named by the operator's ``name``, with a finite
point inside the search box of the elites' dimension; a molecule proposal carries a canonical
SMILES that is none of the elites nor any molecule already scored (``Elites.seen``) and a finite
latent; the same seed gives the same proposals;
one elite is enough to call it; ``update`` takes the outcomes of its proposals.
"""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from molvae.optimization.operators import Elites
from molvae.optimization.trials import Outcome

__all__ = ["OperatorConformance"]


class OperatorConformance:
    """The contract of an operator, as pytest tests. Override ``operator`` (and ``elites`` and
    ``bounds`` for a search box of another size)."""

    @pytest.fixture
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.full(8, -3.0), np.full(8, 3.0)

    @pytest.fixture
    def elites(self, bounds: tuple[np.ndarray, np.ndarray]) -> Elites:
        smiles = ("CCOc1ccc(C(=O)N2CCCC2)cc1", "CC(=O)Nc1ccc(O)cc1", "Cc1ccccc1NC(=O)C1CC1",
                  "O=C(O)c1ccccc1O", "CCN(CC)CC")
        rng = np.random.default_rng(0)
        lower, _ = bounds
        return Elites(smiles, np.linspace(0.9, 0.5, len(smiles)),
                      rng.standard_normal((len(smiles), len(lower))))

    @pytest.fixture
    def operator(self):  # noqa: ANN201 - the operator under test
        raise NotImplementedError("override the operator fixture")

    def test_at_most_n_proposals_named_and_inside_the_box(self, operator, elites, bounds) -> None:
        lower, upper = bounds
        for n in (1, 7):
            proposals = operator.propose(elites, n, np.random.default_rng(1))
            assert len(proposals) <= n
            for p in proposals:
                assert p.source == operator.name
                assert p.w.shape == lower.shape and np.isfinite(p.w).all()
                assert (p.w >= lower - 1e-9).all() and (p.w <= upper + 1e-9).all()

    def test_molecules_are_canonical_new_and_carry_their_latent(self, operator, elites) -> None:
        for p in operator.propose(elites, 8, np.random.default_rng(2)):
            if p.smiles is None:
                assert p.z is None
                continue
            assert p.smiles == Chem.CanonSmiles(p.smiles) and p.smiles not in elites.smiles
            assert p.z is not None and np.isfinite(p.z).all()

    def test_molecules_already_scored_are_not_proposed_again(self, operator, elites) -> None:
        first = {p.smiles for p in operator.propose(elites, 8, np.random.default_rng(6))}
        first.discard(None)
        scored = Elites(elites.smiles, elites.scores, elites.w, seen=frozenset(first))
        again = {p.smiles for p in operator.propose(scored, 8, np.random.default_rng(6))}
        assert not again & first

    def test_the_same_seed_gives_the_same_proposals(self, operator, elites) -> None:
        a = operator.propose(elites, 5, np.random.default_rng(3))
        b = operator.propose(elites, 5, np.random.default_rng(3))
        assert [p.smiles for p in a] == [p.smiles for p in b]
        assert all(np.array_equal(p.w, q.w) for p, q in zip(a, b, strict=True))

    def test_one_elite_is_enough(self, operator, elites) -> None:
        one = Elites(elites.smiles[:1], elites.scores[:1], elites.w[:1])
        assert len(operator.propose(one, 4, np.random.default_rng(4))) <= 4

    def test_update_takes_the_outcomes(self, operator, elites) -> None:
        proposals = operator.propose(elites, 4, np.random.default_rng(5))
        outcomes = [Outcome(p.smiles or "CCO", True, {"score": 0.5}, 0.5) for p in proposals]
        operator.update(proposals, outcomes, [i == 0 for i in range(len(proposals))])
        operator.update(proposals, outcomes, [False] * len(proposals))

"""The operators' elite pool: best first, varied by ring framework, one molecule per
constitution once the objective is seen to be stereo-blind."""

from __future__ import annotations

import math

import numpy as np
import pytest

from molvae.optimization.pool import PER_FRAMEWORK, STEREO_EVIDENCE, ElitePool, Seen
from molvae.optimization.records import Record


def _pool(rows: list[tuple[str, float]]) -> tuple[ElitePool, dict[str, Record]]:
    pool, records = ElitePool(), {}
    for trial, (smiles, score) in enumerate(rows):
        rec = Record(smiles, {"score": score}, trial, "w", 0.0, "test", w=np.zeros(2))
        records[smiles] = rec
        pool.add(rec)
    return pool, records


#: Eight phenyl-pyridines (one framework) and two other frameworks, best first.
BIARYLS = [f"{sub}c1ccc(-c2ccncc2)cc1" for sub in ("C", "CC", "CCC", "N", "O", "F", "Cl", "Br")]
OTHERS = ["CC1CCC(C)(O)CC1", "O=C1CCCN1C"]


def test_the_pool_is_best_first_with_ties_to_the_earlier_trial():
    pool, records = _pool([("CCO", 0.5), ("CCN", 0.9), ("CCC", 0.5), ("CCS", math.nan)])
    assert [r.smiles for r in pool.top(10, records)] == ["CCN", "CCO", "CCC"]
    assert pool.best(2) == [0.9, 0.5]


def test_one_ring_framework_fills_at_most_its_share_of_the_pool():
    rows = [(s, 1.0 - 0.01 * i) for i, s in enumerate(BIARYLS)] + [(s, 0.5) for s in OTHERS]
    pool, records = _pool(rows)
    top = [r.smiles for r in pool.top(6, records)]
    assert top == BIARYLS[:PER_FRAMEWORK] + OTHERS  # the leader's best four, then the others


def test_acyclic_molecules_have_no_framework_limit():
    chains = ["C" * n + "O" for n in range(2, 2 + PER_FRAMEWORK + 3)]
    pool, records = _pool([(s, 1.0) for s in chains])
    assert len(pool.top(len(chains), records)) == len(chains)


def test_a_replaced_record_leaves_the_ranking():
    pool, records = _pool([("CCO", 0.5), ("CCN", 0.4)])
    earlier = Record("CCN", {"score": 0.4}, -1, "w", 0.0, "test", w=np.zeros(2))
    pool.add(earlier, records["CCN"])
    records["CCN"] = earlier
    assert pool.ranking == [(-0.5, 0, "CCO"), (-0.4, -1, "CCN")]


def _stereo_pairs(n: int, apart: bool = False) -> list[tuple[str, float]]:
    """``n`` alcohols, each scored with and without its stereocentre."""
    rows = []
    for i in range(n):
        chain = "C" * (i + 1)
        rows += [(f"C{chain}C(C)O", 0.5), (f"C{chain}[C@H](C)O", 0.6 if apart else 0.5)]
    return rows


def test_stereoisomers_are_one_molecule_once_seen_scored_alike():
    pool, records = _pool(_stereo_pairs(STEREO_EVIDENCE))
    assert pool.stereo_blind
    top = pool.top(100, records)
    assert len(top) == STEREO_EVIDENCE  # one of each pair
    seen = Seen(records, pool)
    assert "CC[C@@H](C)O" in seen  # the other enantiomer of a scored molecule
    assert "CCCCCCCCCCCCCCCC[C@@H](C)O" not in seen  # a new constitution
    assert "CCO" not in seen


def test_too_little_evidence_keeps_stereoisomers_apart():
    pool, records = _pool(_stereo_pairs(STEREO_EVIDENCE - 1))
    assert not pool.stereo_blind
    assert len(pool.top(100, records)) == 2 * (STEREO_EVIDENCE - 1)
    assert "CC[C@@H](C)O" not in Seen(records, pool)


@pytest.mark.parametrize("where", ["first", "last"])
def test_one_pair_scored_apart_keeps_stereoisomers_apart(where):
    odd = _stereo_pairs(1, apart=True)
    odd = [(s.replace("CC", "CCCCCCCCCCCCCC", 1), v) for s, v in odd]  # its own constitution
    rows = _stereo_pairs(2 * STEREO_EVIDENCE)
    pool, records = _pool(odd + rows if where == "first" else rows + odd)
    assert not pool.stereo_blind
    assert "CC[C@@H](C)O" not in Seen(records, pool)


def test_an_operator_makes_no_stereoisomer_of_a_scored_molecule_once_blind():
    from molvae.optimization.operators import Elites

    pool, records = _pool(_stereo_pairs(STEREO_EVIDENCE))
    top = pool.top(4, records)
    elites = Elites(tuple(r.smiles for r in top), np.array([r.row["score"] for r in top]),
                    np.zeros((len(top), 2)), seen=Seen(records, pool))
    assert not elites.is_new("CC[C@@H](C)O")
    assert elites.is_new("CC[C@@H](N)O")

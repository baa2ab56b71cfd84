"""benchmarks/pmo.py's graph-ga method: the budget of unique oracle calls kept exactly, the same
run in any process, the metrics of the other methods."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.append(str(BENCHMARKS))  # benchmarks/ is scripts, not a package
pmo = pytest.importorskip("pmo")


def test_the_oracle_counts_unique_molecules_and_stops_on_the_budget():
    objective = pmo.load_campaign(pmo.TASKS["qed"]).objective()
    oracle = pmo.BudgetedOracle(objective, budget=4)
    first = oracle(["CCO", "OCC", "c1ccccc1"])  # two SMILES of ethanol: one call
    assert oracle.calls == 2 and first[0] == first[1] > 0
    assert oracle(["CCO"]) == first[:1] and oracle.calls == 2  # seen: no call
    with pytest.raises(pmo._Stop):
        oracle(["CCN", "CCCN", "CCCCN"])  # only two fit
    table = oracle.table()
    assert len(table) == 4 and table["smiles"].is_unique
    assert set(table["smiles"][:2]) == {"CCO", "c1ccccc1"}


class Failing:
    """An objective that can score nothing."""

    def score(self, smiles):
        return pd.DataFrame({"smiles": smiles, "score": np.nan, "state": "failed"})


def test_a_failed_score_is_a_call_and_zero_for_the_ga():
    oracle = pmo.BudgetedOracle(Failing(), budget=10)
    assert oracle(["CCO"]) == [0.0] and oracle.calls == 1
    assert np.isnan(oracle.table()["score"][0])  # NaN in the record, not 0


@pytest.mark.integration
def test_graph_ga_keeps_the_budget_and_is_the_same_in_any_process():
    pytest.importorskip("mol_ga")
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import pmo\n"
        "t = pmo.run_graph_ga(pmo.TASKS['qed'], seed=3, budget=150, start_size=40)\n"
        "print(len(t), t['smiles'].is_unique, t['smiles'].iloc[-1], round(t['score'].max(), 6))"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", script, str(BENCHMARKS)], capture_output=True,
                       text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1  # the hash seed (mol-ga's set order) changes nothing
    calls, unique = outputs.pop().split()[:2]
    assert (calls, unique) == ("150", "True")  # the start's 40 and the GA's offspring


def test_top_diversity_over_distinct_pairs():
    table = pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "CCN"], "score": [0.9, 0.8, np.nan]})
    fps = [pmo.morgan_fingerprint(s) for s in ("CCO", "c1ccccc1")]
    expected = 1 - pmo.DataStructs.TanimotoSimilarity(*fps)
    assert pmo.top_diversity(table) == pytest.approx(expected, abs=1e-6)
    assert pmo.top_diversity(table.head(1)) is None

"""The results views: the diverse top list and progress against molecules scored."""

from __future__ import annotations

import math

import pandas as pd

from molvae.optimization.outputs import progress_table, select_top
from molvae.optimization.records import Record


def test_select_top_diversity():
    table = pd.DataFrame({
        "smiles": ["c1ccccc1CCO", "c1ccccc1CCN", "c1ccccc1CCCO", "C1CCCCC1CCO", "CCCCCC", "CCO"],
        "score": [0.9, 0.85, 0.8, 0.7, 0.6, 0.1],
        "state": ["ok", "ok", "ok", "ok", "ok", "failed"],
    })
    assert select_top(table, 3)["smiles"].tolist() == table["smiles"][:3].tolist()
    by_scaffold = select_top(table, 10, max_per_scaffold=1)["smiles"].tolist()
    assert by_scaffold == ["c1ccccc1CCO", "C1CCCCC1CCO", "CCCCCC"]  # acyclic: no limit
    assert select_top(table, 10, max_per_scaffold=2)["smiles"].tolist()[:2] == [
        "c1ccccc1CCO", "c1ccccc1CCN"]
    far = select_top(table, 10, min_distance=0.6)["smiles"].tolist()
    assert far[0] == "c1ccccc1CCO" and "c1ccccc1CCN" not in far and "CCO" not in far


def test_progress_counts_every_call_and_averages_ten_places():
    records = [
        Record(f"C{'C' * i}", {"score": s}, trial=i, worker="w", time=100.0 + i)
        for i, s in enumerate([0.5, math.nan, 0.9, 0.1])
    ]
    progress = progress_table(records)
    assert progress["calls"].tolist() == [1, 2, 3, 4]  # a failed molecule is a call too
    assert progress["best"].tolist() == [0.5, 0.5, 0.9, 0.9]
    assert progress["top10_mean"].round(3).tolist() == [0.05, 0.05, 0.14, 0.15]  # PMO: 0s
    assert progress["elapsed_s"].tolist() == [0.0, 1.0, 2.0, 3.0]

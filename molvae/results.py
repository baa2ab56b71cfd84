"""The results of a study: every scored molecule once, the best few, the Pareto front, and
progress against molecules scored.

Every scored molecule is stored in its trial's user attributes (``smiles``, and ``molvae``:
score, state, failure, component values, worker, time), so the results can be rebuilt from the
storage alone (:func:`study_results`), by any worker.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from molvae.objectives import Objective

__all__ = [
    "ATTR",
    "Record",
    "pareto_front",
    "plot_progress",
    "progress_table",
    "record_of",
    "results_table",
    "select_top",
    "study_results",
]

#: The trial user attribute holding a scored molecule's record.
ATTR = "molvae"
FINISHED = (TrialState.COMPLETE, TrialState.FAIL)


def plain(value: Any) -> Any:
    """JSON-safe scalars: numpy -> Python, NaN -> None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is None:
        return None
    return value


@dataclass
class Record:
    smiles: str
    row: dict[str, Any]  # the objective's columns (without smiles)
    trial: int
    worker: str
    time: float


def record_of(trial: optuna.trial.FrozenTrial) -> Record | None:
    info = trial.user_attrs.get(ATTR)
    if not isinstance(info, dict) or not info.get("oracle"):
        return None
    row = {k: (math.nan if v is None else v) for k, v in info.get("row", {}).items()}
    return Record(info["smiles"], row, trial.number, info.get("worker", ""), info.get("time", 0.0))


def study_results(study: optuna.Study, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Every scored molecule of a study, once (the lowest trial that scored it), rebuilt from the
    storage alone: ``smiles``, the objective's columns, ``trial``, ``worker``, ``time``, best
    first (failed molecules last).

    Args:
        study: a study written by :func:`optimize`.
        columns: the objective's columns in order (default: as stored).
    """
    records: dict[str, Record] = {}
    for trial in study.get_trials(deepcopy=False, states=FINISHED):
        rec = record_of(trial)
        if rec is not None and (rec.smiles not in records or rec.trial < records[rec.smiles].trial):
            records[rec.smiles] = rec
    return results_table(list(records.values()), columns)


def results_table(records: list[Record], columns: Sequence[str] | None) -> pd.DataFrame:
    """The results table (no properties): rank, smiles, the objective's columns, trial, worker,
    time; sorted best first, failed rows last."""
    if columns is None:
        columns = ["smiles"] + list(dict.fromkeys(k for r in records for k in r.row))
    body = [c for c in columns if c != "smiles"]
    data = {
        "smiles": [r.smiles for r in records],
        **{c: [r.row.get(c, math.nan) for r in records] for c in body},
        "trial": [r.trial for r in records],
        "worker": [r.worker for r in records],
        "time": [iso_time(r.time) for r in records],
    }
    table = pd.DataFrame(data, columns=["smiles", *body, "trial", "worker", "time"])
    if "score" in table:
        table["score"] = pd.to_numeric(table["score"], errors="coerce")
        table = table.sort_values(["score", "trial"], ascending=[False, True], na_position="last")
    table = table.reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def iso_time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def select_top(
    table: pd.DataFrame, k: int, *, min_distance: float = 0.0, max_per_scaffold: int = 0
) -> pd.DataFrame:
    """The best ``k`` rows of a results table whose ``state`` is ok (best ``score`` first), picked
    greedily: a molecule is skipped when its Tanimoto distance (Morgan radius 2, 2048 bits) to an
    already picked one is below ``min_distance``, or when its Bemis-Murcko scaffold already has
    ``max_per_scaffold`` picks (acyclic molecules have no scaffold and no limit). 0 turns a limit
    off.

    >>> t = pd.DataFrame({"smiles": ["c1ccccc1O", "c1ccccc1N", "CCO"], "score": [0.9, 0.8, 0.5],
    ...                   "state": ["ok", "ok", "ok"]})
    >>> select_top(t, 3, max_per_scaffold=1)["smiles"].tolist()
    ['c1ccccc1O', 'CCO']
    """
    from rdkit import DataStructs
    from rdkit.Chem.Scaffolds import MurckoScaffold

    from molvae.chem import to_mol, without_rdkit_log
    from molvae.similarity import morgan_fingerprint

    ok = table if "state" not in table else table[table["state"] == "ok"]
    ok = ok.sort_values("score", ascending=False, kind="stable", na_position="last")
    if min_distance <= 0 and max_per_scaffold <= 0:
        return ok.head(k)
    picked: list[int] = []
    fps: list[Any] = []
    scaffolds: dict[str, int] = {}
    with without_rdkit_log():
        for idx, smiles in zip(ok.index, ok["smiles"], strict=True):
            if len(picked) >= k:
                break
            mol = to_mol(smiles) if isinstance(smiles, str) else None
            if mol is None:
                continue
            if min_distance > 0:
                fp = morgan_fingerprint(mol)
                if fps and max(DataStructs.BulkTanimotoSimilarity(fp, fps)) > 1 - min_distance:
                    continue
            if max_per_scaffold > 0:
                scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol)
                if scaffold and scaffolds.get(scaffold, 0) >= max_per_scaffold:
                    continue
                scaffolds[scaffold] = scaffolds.get(scaffold, 0) + 1
            if min_distance > 0:
                fps.append(fp)
            picked.append(idx)
    return ok.loc[picked]


def pareto_front(table: pd.DataFrame, objective: Objective) -> pd.DataFrame:
    """The rows of a results table (state ok) that no other ok row dominates on the objective's
    Pareto targets (their ``_score`` columns, in their directions)."""
    ok = table[table["state"] == "ok"]
    if ok.empty:
        return ok
    values = objective.pareto_values(ok)
    signs = np.array([1.0 if d == "maximize" else -1.0 for d in objective.directions])
    v = values * signs  # larger is better everywhere
    keep = [
        i
        for i in range(len(v))
        if not np.any(np.all(v >= v[i], axis=1) & np.any(v > v[i], axis=1))
    ]
    return ok.iloc[keep]


def progress_table(records: list[Record]) -> pd.DataFrame:
    """Best and top-10 mean against molecules scored, in scoring order (failed count as calls)."""
    ordered = sorted(records, key=lambda r: (r.time, r.trial))
    t0 = ordered[0].time if ordered else 0.0
    rows, heap, best = [], [], -math.inf
    for calls, rec in enumerate(ordered, 1):
        score = rec.row.get("score", math.nan)
        if isinstance(score, float | int) and math.isfinite(score):
            best = max(best, score)
            if len(heap) < 10:
                heapq.heappush(heap, score)
            else:
                heapq.heappushpop(heap, score)
        rows.append(
            (
                calls,
                best if heap else math.nan,
                sum(heap) / 10 if heap else math.nan,  # PMO: missing places count 0
                round(rec.time - t0, 3),
            )
        )
    return pd.DataFrame(rows, columns=["calls", "best", "top10_mean", "elapsed_s"])


def plot_progress(progress: pd.DataFrame, path: Path, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from molvae.io import atomic_write_bytes

    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(progress["calls"], progress["best"], label="best")
    ax.plot(progress["calls"], progress["top10_mean"], label="top-10 mean")
    ax.set_xlabel("molecules scored")
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())

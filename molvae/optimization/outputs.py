"""A run's outputs: every scored molecule once, the best few, the Pareto front, progress against
molecules scored, and the files of the run directory.

Every table here is rebuilt from the study's records alone (:mod:`molvae.optimization.records`),
so any worker, or a later ``molvae optimize`` on a finished run, writes the same files. Every
file is written atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import contextlib
import heapq
import json
import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
import pandas as pd

from molvae.io import atomic_write_text
from molvae.optimization.objective import Objective
from molvae.optimization.records import FINISHED, Record, record_of

if TYPE_CHECKING:
    from molvae.optimization.campaign import Campaign
    from molvae.optimization.space import SearchSpace

__all__ = [
    "pareto_front",
    "plot_progress",
    "progress_table",
    "results_table",
    "select_top",
    "study_results",
    "remove_stale_temporaries",
    "write_manifest",
    "write_outputs",
    "write_timing",
]


def study_results(study: optuna.Study, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Every scored molecule of a study, once (the lowest trial that scored it), rebuilt from the
    storage alone: ``smiles``, the objective's columns, ``trial``, ``worker``, ``source``,
    ``time``, best first (failed molecules last).

    Args:
        study: a study written by :func:`molvae.optimize`.
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
    source (what proposed the molecule), time; sorted best first, failed rows last."""
    if columns is None:
        columns = ["smiles"] + list(dict.fromkeys(k for r in records for k in r.row))
    body = [c for c in columns if c != "smiles"]
    data = {
        "smiles": [r.smiles for r in records],
        **{c: [r.row.get(c, math.nan) for r in records] for c in body},
        "trial": [r.trial for r in records],
        "worker": [r.worker for r in records],
        "source": [r.source for r in records],
        "time": [iso_time(r.time) for r in records],
    }
    table = pd.DataFrame(data, columns=["smiles", *body, "trial", "worker", "source", "time"])
    if "score" in table:
        table["score"] = pd.to_numeric(table["score"], errors="coerce")
        table = table.sort_values(["score", "trial"], ascending=[False, True], na_position="last")
    table = table.reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def iso_time(t: float) -> str:
    """A Unix time as ISO 8601 in UTC, to the second."""
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


#: The files a run directory holds (besides the study).
OUTPUT_FILES: tuple[str, ...] = (
    "results.csv", "top.csv", "top.sdf", "top.png", "progress.csv", "progress.png", "pareto.csv",
    "manifest.json", "timing.json",
)


def remove_stale_temporaries(out: Path, older_than: float = 60.0) -> list[Path]:
    """Delete the temporary files of this run's outputs that a killed process left behind
    (``.results.csv.XXXX.tmp``: an atomic write lasts well under a second, so one older than
    ``older_than`` seconds has no writer); the files removed."""
    removed = []
    now = time.time()
    for name in OUTPUT_FILES:
        for tmp in out.glob(f".{name}.*.tmp"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime > older_than:
                    tmp.unlink()
                    removed.append(tmp)
    return removed


def write_outputs(out: Path, table: pd.DataFrame, records: list[Record], campaign: Campaign,
                  objective: Objective) -> None:
    """Write the run directory's tables and pictures from the results table and the records:
    ``results.csv``, ``top.csv``, ``top.sdf``, ``top.png``, ``progress.csv``, ``progress.png``
    and, for a Pareto campaign, ``pareto.csv``."""
    from molvae.export import write_image, write_table

    write_table(table, out / "results.csv")
    diversity = campaign.diversity
    top = select_top(
        table,
        campaign.top_k,
        min_distance=diversity.min_distance,
        max_per_scaffold=diversity.max_per_scaffold,
    ) if len(table) else table
    write_table(top, out / "top.csv")
    write_table(top, out / "top.sdf", "sdf")
    write_image(top.head(48), out / "top.png", legend=["score"] if "score" in top else None)
    progress = progress_table(records)
    write_table(progress, out / "progress.csv")
    plot_progress(progress, out / "progress.png", campaign.name)
    if objective.multi_objective and len(table):
        write_table(pareto_front(table, objective), out / "pareto.csv")


def write_manifest(
    out: Path, campaign: Campaign, model: Any, checksum: str, sampler: dict[str, Any],
    storage_url: str, study_name: str, worker: str, space: SearchSpace, start_calls: int,
    versions: dict[str, str],
) -> None:
    """Record the campaign as resolved, the model, sampler, storage, search space and versions,
    with one entry per session (a resume, a worker) appended to ``sessions``."""
    path = out / "manifest.json"
    sessions: list[Any] = []
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sessions = list(json.loads(path.read_text(encoding="utf-8")).get("sessions", []))
    sessions.append(
        {
            "started": iso_time(time.time()),
            "worker": worker,
            "molecules_already_scored": start_calls,
            "budget": campaign.budget,
            "sampler": sampler,
        }
    )
    path_text = str(Path(model.path).resolve()) if getattr(model, "path", None) else None
    manifest = {
        "campaign": campaign.to_dict(),
        "campaign_file": campaign.source,
        "model": {"path": path_text, "tensors_sha256": checksum},
        "seed": campaign.seed,
        "sampler": sampler,
        "storage": storage_url,
        "study": study_name,
        "search_space": space.to_dict(),
        "versions": versions,
        "sessions": sessions,
    }
    atomic_write_text(path, json.dumps(manifest, indent=2, default=str) + "\n")


def write_timing(
    out: Path, *, worker: str, total: float, seconds: dict[str, float], sampler_s: float | None,
    by_source: dict[str, dict[str, float]], scored_here: int, in_study: int, before: int,
    trials_here: int,
) -> None:
    """Where this session's time went (``timing.json``): seconds per stage, the sampler's own
    share, what each proposal source cost and gave, molecules scored here and in the study."""
    rounded = {k: round(v, 4) for k, v in sorted(seconds.items())}
    timing = {
        "worker": worker,
        "total_s": round(total, 4),
        "seconds": rounded,
        "other_s": round(max(total - sum(seconds.values()), 0.0), 4),
        "share": {k: round(v / total, 4) for k, v in rounded.items()} if total > 0 else {},
        # the sampler's own computing, inside "ask" and "tell" (the rest there is Optuna's
        # bookkeeping of trials and parameters); null for samplers that do not report it
        "sampler_s": round(sampler_s, 4) if sampler_s is not None else None,
        "sources": {
            k: {n: round(v, 4) for n, v in d.items()} for k, d in sorted(by_source.items())
        },
        "molecules_scored_here": scored_here,
        "molecules_in_study": in_study,
        "molecules_before": before,
        "trials_asked_here": trials_here,
    }
    atomic_write_text(out / "timing.json", json.dumps(timing, indent=2) + "\n")

"""Preparing a SMILES file for the model, on all cores, and caching the result.

Flow: a SMILES file (``molvae.smiles_file``) -> rows of SMILES -> RDKit canonical SMILES + SELFIES
+ head properties (``prepare``, cached by the file's hash) -> token ids under a vocabulary
(``molvae.tokens.encode``, cached beside it). A bad row is skipped and counted, optionally written
to a rejects file; it never stops a run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import selfies as sf

from molvae.chem import (
    PROPERTY_NAMES,
    canonical_smiles,
    properties,
    why_unreadable,
    without_rdkit_log,
)
from molvae.errors import DataError
from molvae.io import atomic_write_bytes, atomic_write_text, default_cache_dir
from molvae.smiles_file import iter_smiles
from molvae.vocab import default_constraints, selfies_constraints
from molvae.workers import map_chunks, worker_count

log = logging.getLogger(__name__)

#: Bump when the prepared-data layout changes, so stale caches are not reused.
CACHE_VERSION = 1


@dataclass(frozen=True)
class Reject:
    """A row that did not make it into the data, and why."""

    row: int
    smiles: str
    reason: str


@dataclass
class Report:
    """Counts of what happened to the rows of a file."""

    rows: int = 0
    kept: int = 0
    rejects: list[Reject] = field(default_factory=list)

    def reasons(self) -> dict[str, int]:
        """Number of rejects per reason."""
        return dict(Counter(r.reason.split(":")[0] for r in self.rejects))

    def summary(self) -> str:
        """One line for the log."""
        detail = ", ".join(f"{n} {reason}" for reason, n in sorted(self.reasons().items()))
        return f"{self.rows} rows, {self.kept} kept, {len(self.rejects)} skipped" + (
            f" ({detail})" if detail else ""
        )


def has_properties(index: int, fraction: float) -> bool:
    """Whether molecule ``index`` gets head properties: a fixed pseudo-random ``fraction`` of
    them, the same in every run (QED and SA cost ~5x the rest of preparation).

    >>> has_properties(7, 1.0), has_properties(7, 0.0)
    (True, False)
    """
    if fraction >= 1.0:
        return True
    return (index * 2654435761) % 2**32 < fraction * 2**32


def _prepare_chunk(items: list[tuple[int, str]]) -> list[tuple[int, str, str] | Reject]:
    """Canonical SMILES and SELFIES of ``(row, smiles)`` items, or why a row cannot be used."""
    with without_rdkit_log():
        return [_prepare_one(row, smiles) for row, smiles in items]


def _prepare_one(row: int, smiles: str) -> tuple[int, str, str] | Reject:
    if not smiles.strip():
        return Reject(row, smiles, "empty")
    canon = canonical_smiles(smiles)
    if canon is None:
        return Reject(row, smiles, f"invalid SMILES: {why_unreadable(smiles)}")
    try:
        selfies = sf.encoder(canon, strict=True)
    except sf.EncoderError as exc:
        return Reject(row, smiles, f"not encodable as SELFIES: {exc}")
    return (row, canon, selfies)


def _init_worker(constraints: dict[str, int]) -> None:
    sf.set_semantic_constraints(constraints)  # worker processes are ours alone


@dataclass
class Prepared:
    """Canonical molecules of a file with their SELFIES and head properties (row order kept)."""

    smiles: list[str]
    selfies: list[str]
    props: np.ndarray  # (N, len(PROPERTY_NAMES)) float32; NaN where not computed or RDKit failed
    report: Report
    data_hash: str
    cache: Path | None = None  # this file's cache folder, when caching


def file_hash(path: str | Path, column: str | None = None) -> str:
    """SHA-256 of a file's bytes and the chosen column: the key of its cached preparation."""
    h = hashlib.sha256(f"molvae-data-v{CACHE_VERSION}:{column}".encode())
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def prepare(
    path: str | Path,
    *,
    column: str | None = None,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    rejects_path: str | Path | None = None,
    constraints: dict[str, int] | None = None,
    property_fraction: float = 1.0,
) -> Prepared:
    """Read, canonicalize and SELFIES-encode every row, and compute the head properties (QED,
    logP, SA) of a fixed ``property_fraction`` of the molecules (the rest get NaN); all cores.

    Both steps are cached under ``cache_dir`` keyed by the file's hash (the properties also by the
    fraction), so a second run on the same file takes seconds. Invalid or empty rows are skipped
    and counted in ``report``; with ``rejects_path`` they are also written there as CSV
    (row, smiles, reason).

    Raises:
        DataError: the file is missing, has no SMILES column, or holds no valid molecule.
    """
    path = Path(path)
    constraints = constraints or default_constraints()
    if next(iter_smiles(path, column), None) is None:  # fails fast on a missing file or column
        raise DataError(f"{path}: the file holds no rows")
    digest = file_hash(path, column)
    cache = Path(cache_dir) / f"prepared-{digest[:24]}" if cache_dir else None
    workers = worker_count(workers)
    molecules = _load_molecules(cache, digest) if cache is not None else None
    if molecules is not None:
        log.info("%s: loaded prepared molecules from cache %s", path, cache)
    else:
        molecules = _prepare_molecules(path, column, workers, constraints)
        if cache is not None:
            _save_molecules(cache, digest, *molecules)
    smiles, selfies, report = molecules
    if not smiles:
        raise DataError(f"{path}: no valid molecule ({report.summary()})")
    log.info("%s: %s", path, report.summary())
    _write_rejects(rejects_path, report)
    props = _cached_properties(cache, smiles, property_fraction, workers)
    return Prepared(smiles, selfies, props, report, digest, cache)


def _prepare_molecules(
    path: Path, column: str | None, workers: int, constraints: dict[str, int]
) -> tuple[list[str], list[str], Report]:
    report = Report()
    smiles: list[str] = []
    selfies: list[str] = []
    with selfies_constraints(constraints):  # in this process; workers get them at start
        results = map_chunks(_prepare_chunk, iter_smiles(path, column), workers=workers,
                             chunk_size=1000, initializer=_init_worker, initargs=(constraints,))
        _collect(results, report, smiles, selfies)
    return smiles, selfies, report


def _collect(results: Iterable[tuple[int, str, str] | Reject], report: Report, smiles: list[str],
             selfies: list[str]) -> None:
    for res in results:
        report.rows += 1
        if isinstance(res, Reject):
            report.rejects.append(res)
            continue
        smiles.append(res[1])
        selfies.append(res[2])
    report.kept = len(smiles)


def _write_rejects(rejects_path: str | Path | None, report: Report) -> None:
    if rejects_path is None:
        return
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["row", "smiles", "reason"])
    writer.writerows((r.row, r.smiles, r.reason) for r in report.rejects)
    atomic_write_text(rejects_path, buf.getvalue())


def _save_molecules(
    cache: Path, digest: str, smiles: list[str], selfies: list[str], report: Report
) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cache / "smiles.txt", "\n".join(smiles))
    atomic_write_text(cache / "selfies.txt", "\n".join(selfies))
    rejects = [[r.row, r.smiles, r.reason] for r in report.rejects]
    meta = {"hash": digest, "rows": report.rows, "kept": len(smiles), "rejects": rejects}
    atomic_write_text(cache / "meta.json", json.dumps(meta))  # written last: marks completeness


def _lines(text: str) -> list[str]:
    """The lines of a cache file ("" holds none: an empty file is no molecule, not one empty
    molecule)."""
    return text.split("\n") if text else []


def _load_molecules(cache: Path, digest: str) -> tuple[list[str], list[str], Report] | None:
    if not (cache / "meta.json").is_file():
        return None
    try:
        meta = json.loads((cache / "meta.json").read_text())
        if meta["hash"] != digest:
            raise ValueError("hash mismatch")
        smiles = _lines((cache / "smiles.txt").read_text())
        selfies = _lines((cache / "selfies.txt").read_text())
        if not len(smiles) == len(selfies) == meta.get("kept", len(smiles)):
            raise ValueError("inconsistent lengths")
        report = Report(rows=meta["rows"], kept=len(smiles))
        report.rejects = [Reject(int(r), s, reason) for r, s, reason in meta["rejects"]]
        return smiles, selfies, report
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring unreadable cache %s: %s", cache, exc)
        return None


def _cached_properties(
    cache: Path | None, smiles: list[str], fraction: float, workers: int
) -> np.ndarray:
    """Head properties of the selected molecules (NaN for the others), cached per fraction."""
    path = cache / f"props-{fraction:g}.npy" if cache is not None else None
    if path is not None and path.is_file():
        try:
            props = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable cache %s: %s", path, exc)
        else:
            if len(props) == len(smiles):
                return props
    props = np.full((len(smiles), len(PROPERTY_NAMES)), np.nan, dtype=np.float32)
    chosen = [i for i in range(len(smiles)) if has_properties(i, fraction)]
    if chosen:
        props[chosen] = compute_properties([smiles[i] for i in chosen], workers=workers)
    if path is not None:
        buf = io.BytesIO()
        np.save(buf, props, allow_pickle=False)
        atomic_write_bytes(path, buf.getvalue())
    return props


def _properties_chunk(smiles: list[str]) -> list[tuple[float, float, float]]:
    with without_rdkit_log():
        return [properties(s) for s in smiles]


def compute_properties(smiles: list[str], *, workers: int | None = None) -> np.ndarray:
    """Head properties (N, 3) of SMILES, on ``workers`` processes (above 1000 molecules: fewer
    are not worth starting them); NaN rows where RDKit fails."""
    workers = worker_count(workers) if len(smiles) > 1000 else 1
    rows = list(map_chunks(_properties_chunk, smiles, workers=workers, chunk_size=500))
    return np.asarray(rows, dtype=np.float32).reshape(-1, len(PROPERTY_NAMES))


__all__ = [
    "PROPERTY_NAMES",
    "DataError",
    "Prepared",
    "Reject",
    "Report",
    "compute_properties",
    "default_cache_dir",
    "file_hash",
    "has_properties",
    "iter_smiles",
    "prepare",
]

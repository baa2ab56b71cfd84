"""Reading SMILES files: ``.csv``/``.tsv`` with a header, or ``.smi``/``.txt`` with one molecule a
line, gzipped or not (recognised by content, not by name).

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "mols.csv"
>>> _ = path.write_text("id,smiles\\n1,CCO\\n2,c1ccccc1\\n")
>>> list(iter_smiles(path)), read_header(path)
([(1, 'CCO'), (2, 'c1ccccc1')], ['id', 'smiles'])
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

from molvae.errors import DataError

#: Column names recognised as holding SMILES (compared case-insensitively).
SMILES_COLUMNS = ("smiles", "canonical_smiles", "smi", "mol", "molecule")


def open_text(path: Path) -> io.TextIOBase:
    """A text handle on a file, decompressing it when its first bytes say it is gzipped."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    if gz:
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _delimiter(path: Path) -> str | None:
    """``","`` for a ``.csv``, ``"\\t"`` for a ``.tsv`` (before any ``.gz``), else None."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if not suffixes or suffixes[-1] not in (".csv", ".tsv"):
        return None
    return "\t" if suffixes[-1] == ".tsv" else ","


def iter_smiles(path: str | Path, column: str | None = None) -> Iterator[tuple[int, str]]:
    """Yield ``(row_number, smiles)`` from a SMILES file, streaming (row 1 is the first data row).

    ``.csv``/``.tsv`` files need a header; the SMILES column is ``column`` or the first header
    matching ``SMILES_COLUMNS``. Other files (``.smi``, ``.txt``) hold one molecule per line, SMILES
    first, optionally after a ``smiles`` header line.

    Raises:
        DataError: the file is missing or has no SMILES column.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    delimiter = _delimiter(path)
    with open_text(path) as fh:
        if delimiter is not None:
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                return
            idx = _find_column(path, header, column)
            for row_no, row in enumerate(reader, start=1):
                yield row_no, row[idx] if idx < len(row) else ""
        else:
            for row_no, line in enumerate(fh, start=1):
                parts = line.split()
                token = parts[0] if parts else ""
                if row_no == 1 and token.lower() in SMILES_COLUMNS:
                    continue
                yield row_no, token


def _find_column(path: Path, header: list[str], column: str | None) -> int:
    names = [h.strip() for h in header]
    if column is not None:
        if column not in names:
            raise DataError(f"{path}: no column {column!r}; columns are {names}")
        return names.index(column)
    for i, name in enumerate(names):
        if name.lower() in SMILES_COLUMNS:
            return i
    raise DataError(
        f"{path}: no SMILES column among {names}; name one with --smiles-column "
        f"(recognised automatically: {', '.join(SMILES_COLUMNS)})"
    )


def read_header(path: str | Path) -> list[str]:
    """Column names of a ``.csv``/``.tsv`` file (gzipped or not); ``[]`` for other files.

    Raises:
        DataError: the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    delimiter = _delimiter(path)
    if delimiter is None:
        return []
    with open_text(path) as fh:
        row = next(csv.reader(fh, delimiter=delimiter), [])
    return [h.strip() for h in row]


__all__ = ["SMILES_COLUMNS", "iter_smiles", "open_text", "read_header"]

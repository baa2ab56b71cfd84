"""Reading SMILES files: ``.csv``/``.tsv`` with a header, or ``.smi``/``.txt`` with one molecule a
line, gzipped or not (recognised by content, not by name).

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "mols.csv"
>>> _ = path.write_text("id,smiles\\n1,CCO\\n2,c1ccccc1\\n")
>>> list(iter_smiles(path)), read_header(path)
([(1, 'CCO'), (2, 'c1ccccc1')], ['id', 'smiles'])
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import logging
import zlib
from collections.abc import Iterator
from pathlib import Path

from molvae.errors import DataError

log = logging.getLogger(__name__)

#: Column names recognised as holding SMILES (compared case-insensitively).
SMILES_COLUMNS = ("smiles", "canonical_smiles", "smi", "mol", "molecule")


#: Fields up to this long are read (a notes column beside the SMILES may be long; the csv
#: module's default limit is 128 kB).
FIELD_LIMIT = 1 << 30


def open_text(path: Path) -> io.TextIOBase:
    """A text handle on a file, decompressing it when its first bytes say it is gzipped; a
    byte-order mark (Excel's UTF-8 CSVs) is dropped.

    Raises:
        DataError: the file is missing, a directory, or cannot be opened.
    """
    check_readable(path)
    try:
        with open(path, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        if gz:
            return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as err:
        raise DataError(f"{path}: cannot be read: {err.strerror or err}") from err


def check_readable(path: Path) -> None:
    """A clear error for a path that is not a readable file.

    Raises:
        DataError: missing, or a directory.
    """
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a SMILES file")
    if not path.is_file():
        raise DataError(f"{path}: no such file")


@contextlib.contextmanager
def reading(path: Path, where: list[int]) -> Iterator[None]:
    """Turn what can go wrong while reading a file's bytes into one :class:`DataError` naming
    the file, what is wrong with it and the row reached (``where[0]``)."""
    try:
        yield
    except UnicodeDecodeError as err:
        at = f"after row {where[0]}" if where[0] else "near the start"
        raise DataError(f"{path}: not UTF-8 text (byte 0x{err.object[err.start]:02x} {at}): "
                        "save it as UTF-8") from None
    except EOFError:
        raise DataError(f"{path}: the gzip file is truncated (it ends after row {where[0]})"
                        ) from None
    except (gzip.BadGzipFile, zlib.error) as err:
        raise DataError(f"{path}: not a valid gzip file ({err})") from None
    except csv.Error as err:
        raise DataError(f"{path}: row {where[0] + 1}: {err}") from None
    except OSError as err:
        raise DataError(f"{path}: cannot be read: {err.strerror or err}") from None


@contextlib.contextmanager
def _long_fields() -> Iterator[None]:
    """Let the csv module read fields up to :data:`FIELD_LIMIT` while a file is read (its
    limit is module state: restored after)."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, FIELD_LIMIT))
    try:
        yield
    finally:
        csv.field_size_limit(old)


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
        DataError: the file is missing, a directory, not UTF-8 text, a broken or truncated
            gzip file, a malformed CSV, or has no SMILES column (the message names the file and
            the row reached).
    """
    path = Path(path)
    delimiter = _delimiter(path)
    where = [0]  # the last row read, for messages
    with open_text(path) as fh, reading(path, where), _long_fields():
        if delimiter is not None:
            reader = csv.reader(fh, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                return
            idx = _find_column(path, header, column)
            for row_no, row in enumerate(reader, start=1):
                where[0] = row_no
                yield row_no, row[idx] if idx < len(row) else ""
        else:
            for row_no, line in enumerate(fh, start=1):
                where[0] = row_no
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
        if names.count(column) > 1:
            log.warning("%s: %d columns are named %r; using the first (column %d)", path,
                        names.count(column), column, names.index(column) + 1)
        return names.index(column)
    found = [i for i, name in enumerate(names) if name.lower() in SMILES_COLUMNS]
    if found:
        if len(found) > 1:
            log.warning("%s: %d columns look like SMILES (%s); using column %d, %r", path,
                        len(found), ", ".join(repr(names[i]) for i in found), found[0] + 1,
                        names[found[0]])
        return found[0]
    raise DataError(
        f"{path}: no SMILES column among {names}; name one with --smiles-column "
        f"(recognised automatically: {', '.join(SMILES_COLUMNS)})"
    )


def read_header(path: str | Path) -> list[str]:
    """Column names of a ``.csv``/``.tsv`` file (gzipped or not); ``[]`` for other files.

    Raises:
        DataError: the file does not exist or cannot be read (see :func:`iter_smiles`).
    """
    path = Path(path)
    check_readable(path)
    delimiter = _delimiter(path)
    if delimiter is None:
        return []
    with open_text(path) as fh, reading(path, [0]), _long_fields():
        row = next(csv.reader(fh, delimiter=delimiter), [])
    return [h.strip() for h in row]


__all__ = ["FIELD_LIMIT", "SMILES_COLUMNS", "check_readable", "iter_smiles", "open_text",
           "read_header", "reading"]

"""Writers that turn a table of proposed molecules into files a chemist opens: CSV, SDF, images.

Every command (sample, analogs, interpolate, encode/decode, optimization) ends by handing a
DataFrame to these. The table always has a ``smiles`` column (canonical SMILES, or None/NaN/""
for a rejected row); every other column is written as it comes, so commands add columns freely.

Call :func:`check_output` before the expensive work, so a typo in ``--out`` fails in a second,
not after an hour of sampling. Files are written atomically: an interrupted command leaves the
previous file (or none), never half of one.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D
from rdkit.Geometry import Point2D

from molvae.chem import to_mol, without_rdkit_log
from molvae.errors import MolVAEError
from molvae.io import atomic_open, atomic_write_bytes, atomic_write_text

__all__ = ["FORMATS", "IMAGE_SUFFIXES", "check_output", "write_image", "write_table"]

log = logging.getLogger(__name__)

#: Table formats :func:`write_table` writes.
FORMATS: tuple[str, ...] = ("csv", "sdf")
#: Image types :func:`write_image` writes, chosen by the file's suffix.
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".svg")

#: Columns shown under each drawn molecule when no legend is asked for, in order of preference;
#: at most ``_DEFAULT_LEGEND_FIELDS`` of those present are shown, so legends fit under a panel.
_DEFAULT_LEGEND = ("score", "similarity", "step", "qed")
_DEFAULT_LEGEND_FIELDS = 2
_LEGEND_ALIASES = {"similarity": "sim"}
_PANEL = (250, 250)  # pixels per molecule in the image grid
_SIGNIFICANT = 6  # digits kept for floats in CSV/SDF: readable, and ample for 0..1 scores or MW


def check_output(path: Path | None, fmt: str, *, image: Path | None = None,
                 inputs: tuple[Path, ...] = ()) -> None:
    """Fail fast on an output the writers could not produce, before any expensive work.

    Args:
        path: where the table goes; None means stdout (always fine).
        fmt: one of :data:`FORMATS`.
        image: where the optional image grid goes; its suffix picks PNG or SVG.
        inputs: the files the command reads: no output may replace one of them.

    Raises:
        MolVAEError: unknown format; image suffix not in :data:`IMAGE_SUFFIXES`; a path that is a
            directory, or whose directory is missing, not a directory or not writable; an
            output that is one of the ``inputs``.

    >>> check_output(None, "sdf")
    >>> check_output(None, "xlsx")
    Traceback (most recent call last):
    ...
    molvae.errors.MolVAEError: unknown output format 'xlsx'; choose one of: csv, sdf
    """
    _check_format(fmt)
    if path is not None:
        _check_writable(Path(path))
    if image is not None:
        _check_image_suffix(Path(image))
        _check_writable(Path(image))
    check_not_input([p for p in (path, image) if p is not None], inputs)


def check_not_input(outputs: list[Path], inputs: tuple[Path, ...]) -> None:
    """Refuse an output that would replace a file the command reads.

    Raises:
        MolVAEError: naming the output and the input it would destroy.
    """
    for out in outputs:
        for given in inputs:
            try:
                same = Path(out).exists() and Path(given).exists() and Path(out).samefile(given)
            except OSError:
                same = False
            if same:
                raise MolVAEError(f"--out {out} is the input file {given}: writing it would "
                                  "destroy the input; choose another --out")


def write_table(df: pd.DataFrame, path: Path | None, fmt: str = "csv") -> None:
    """Write the table as CSV or SDF to ``path`` (atomically), or to stdout when ``path`` is None.

    CSV: no index; floats with 6 significant digits and no trailing ".0" on whole numbers
    (so Int64 columns and float columns holding counts both print as integers); missing values
    empty. SDF: one record per row, in order (see :func:`_sdf_record`), so the SDF and the CSV
    of a table have the same rows.

    Raises:
        MolVAEError: unknown ``fmt``, or SDF asked of a table without a ``smiles`` column.

    >>> df = pd.DataFrame({"smiles": ["CCO", None], "qed": [0.40685, float("nan")],
    ...                    "step": pd.array([1, None], dtype="Int64")})
    >>> write_table(df, None)
    smiles,qed,step
    CCO,0.40685,1
    ,,
    """
    _check_format(fmt)
    if fmt == "sdf":
        _require_smiles(df)
    if path is None:
        _write_to(sys.stdout, df, fmt)
        sys.stdout.flush()
        return
    with atomic_open(Path(path), "w") as fh:
        _write_to(fh, df, fmt)


@contextmanager
def table_writer(path: Path | None, fmt: str = "csv") -> Iterator[Callable[[pd.DataFrame], None]]:
    """Stream a table in chunks (e.g. a million samples) to ``path`` or stdout: yields a
    function that appends a chunk; the file appears, complete, only when the block ends.

    >>> with table_writer(None) as write:
    ...     write(pd.DataFrame({"smiles": ["C"], "n": [1]}))
    ...     write(pd.DataFrame({"smiles": ["CC"], "n": [2]}))
    smiles,n
    C,1
    CC,2
    """
    _check_format(fmt)
    with ExitStack() as stack:
        fh = sys.stdout if path is None else stack.enter_context(atomic_open(Path(path), "w"))
        sdf = None
        if fmt == "sdf":
            sdf = Chem.SDWriter(fh)
            stack.callback(sdf.close)
        first = True

        def write(df: pd.DataFrame) -> None:
            nonlocal first
            if sdf is not None:
                _require_smiles(df)
                props = [str(c) for c in df.columns if c != "smiles"]
                sdf.SetProps(props)
                with without_rdkit_log():
                    for row in df.itertuples(index=False, name=None):
                        sdf.write(_sdf_record(dict(zip(df.columns, row, strict=True)), props))
            else:
                _formatted(df).to_csv(fh, index=False, na_rep="", lineterminator="\n",
                                      header=first)
            first = False

        yield write
        if path is None:
            fh.flush()


def write_image(
    df: pd.DataFrame,
    path: Path,
    *,
    legend: Sequence[str] | None = None,
    max_molecules: int = 48,
    mols_per_row: int = 4,
) -> None:
    """Draw a grid of the table's structures, PNG or SVG by ``path``'s suffix, atomically.

    Only rows whose ``smiles`` RDKit can read are drawn, the first ``max_molecules`` of them in
    table order (sort the table first to show the best). Each molecule's legend is its 1-based row
    number in the table (= its row in the CSV, not counting the header) followed by the values of
    the ``legend`` columns: by default whichever two of score, similarity, step, qed exist,
    numbers to 2 decimals. A table with nothing to draw gives an image saying "no molecules".

    Raises:
        MolVAEError: bad suffix, no ``smiles`` column, a ``legend`` column the table lacks, or
            ``max_molecules < 0`` / ``mols_per_row < 1``.
    """
    path = Path(path)
    _check_image_suffix(path)
    _require_smiles(df)
    if max_molecules < 0 or mols_per_row < 1:
        raise MolVAEError(
            f"need max_molecules >= 0 and mols_per_row >= 1, got {max_molecules} and {mols_per_row}"
        )
    columns = _legend_columns(df, legend)
    counts = {c for c in columns if _whole_numbers(df[c])}
    mols, legends, drawable = [], [], 0
    with without_rdkit_log():
        for pos, smiles in enumerate(df["smiles"]):
            mol = to_mol(smiles) if isinstance(smiles, str) else None
            if mol is None or mol.GetNumAtoms() == 0:
                continue
            drawable += 1
            if len(mols) < max_molecules:
                mols.append(mol)
                legends.append(_legend(df, pos, columns, counts))
    if drawable > len(mols):
        log.info("%s: drew the first %d of %d molecules", path, len(mols), drawable)
    svg = path.suffix.lower() == ".svg"
    drawing = _draw_grid(mols, legends, mols_per_row, svg=svg)
    if svg:
        # RDKit declares Latin-1 but the file is written as UTF-8 (identical for ASCII text).
        atomic_write_text(path, drawing.replace("encoding='iso-8859-1'", "encoding='UTF-8'", 1))
    else:
        atomic_write_bytes(path, drawing)


# --- checks -------------------------------------------------------------------------------------


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise MolVAEError(f"unknown output format {fmt!r}; choose one of: {', '.join(FORMATS)}")


def _check_image_suffix(path: Path) -> None:
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise MolVAEError(
            f"{path}: unknown image type {path.suffix or '(no suffix)'!r}; "
            f"use one of: {', '.join(IMAGE_SUFFIXES)}"
        )


def _check_writable(path: Path) -> None:
    if path.is_dir():
        raise MolVAEError(f"output {path} is a directory; give a file name")
    folder = path.parent
    if not folder.exists():
        raise MolVAEError(f"output directory {folder} does not exist (for {path})")
    if not folder.is_dir():
        raise MolVAEError(f"output directory {folder} is not a directory (for {path})")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MolVAEError(f"output directory {folder} is not writable (for {path})")


def _require_smiles(df: pd.DataFrame) -> None:
    if "smiles" not in df.columns:
        raise MolVAEError(f"table has no 'smiles' column; columns: {', '.join(map(str, df))}")


# --- tables -------------------------------------------------------------------------------------


def _write_to(fh: IO[str], df: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        _formatted(df).to_csv(fh, index=False, na_rep="", lineterminator="\n")
    else:
        _write_sdf(fh, df)


def _formatted(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with float (and mixed object) columns turned into their compact text."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_float_dtype(series.dtype) or series.dtype == object:
            out[col] = series.map(_text, na_action="ignore").astype(object)
    return out


def _text(value: Any) -> str:
    """One cell as text: "" when missing, floats compact (6 significant digits, no ".0")."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{_SIGNIFICANT}g}"
    return str(value)


def _write_sdf(fh: IO[str], df: pd.DataFrame) -> None:
    writer = Chem.SDWriter(fh)
    props = [str(c) for c in df.columns if c != "smiles"]
    writer.SetProps(props)  # every record carries every column, in the table's order
    try:
        with without_rdkit_log():
            for row in df.itertuples(index=False, name=None):
                writer.write(_sdf_record(dict(zip(df.columns, row, strict=True)), props))
    finally:
        writer.close()  # flushes RDKit's buffer into fh; leaves fh open


def _sdf_record(row: dict, props: list[str]) -> Chem.Mol:
    """The molecule of one row with 2D coordinates, titled by its SMILES, the other columns as
    SD properties; an unreadable SMILES gives an empty molecule so no row goes missing."""
    smiles = row["smiles"] if isinstance(row["smiles"], str) else ""
    mol = to_mol(smiles)
    if mol is None:
        mol = Chem.Mol()
    else:
        rdDepictor.Compute2DCoords(mol)
    mol.SetProp("_Name", smiles.strip())
    for key, value in zip(props, (v for k, v in row.items() if k != "smiles"), strict=True):
        # A blank line ends an SD value, so multi-line text is folded onto one line.
        mol.SetProp(key, " ".join(_text(value).splitlines()))
    return mol


# --- images -------------------------------------------------------------------------------------


def _legend_columns(df: pd.DataFrame, legend: Sequence[str] | None) -> list[str]:
    if legend is None:
        return [c for c in _DEFAULT_LEGEND if c in df.columns][:_DEFAULT_LEGEND_FIELDS]
    if isinstance(legend, str):
        legend = [legend]
    missing = [c for c in legend if c not in df.columns]
    if missing:
        raise MolVAEError(
            f"legend column(s) {', '.join(map(repr, missing))} not in the table; "
            f"columns: {', '.join(map(str, df.columns))}"
        )
    return list(legend)


def _legend(df: pd.DataFrame, pos: int, columns: list[str], counts: set[str]) -> str:
    """E.g. "#3 score 0.81 sim 0.62": row number, then each column (missing values left out)."""
    parts = [f"#{pos + 1}"]
    for col in columns:
        value = df[col].iloc[pos]
        if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
            continue
        if isinstance(value, float | np.floating) and col not in counts:
            text = f"{float(value):.2f}"
        else:
            text = _text(value)[:12]
        parts.append(f"{_LEGEND_ALIASES.get(col, col)} {text}")
    return " ".join(parts)


def _whole_numbers(series: pd.Series) -> bool:
    """True for a float column that only holds counts (e.g. a step column made float by NaN)."""
    if not pd.api.types.is_float_dtype(series.dtype):
        return False
    values = pd.to_numeric(series, errors="coerce").dropna()
    return bool(len(values)) and bool(np.all(np.mod(values, 1) == 0))


def _draw_grid(mols: list[Chem.Mol], legends: list[str], per_row: int, *, svg: bool) -> Any:
    """PNG bytes or SVG text of the molecules in a grid, or of a "no molecules" notice."""
    width, height = _PANEL
    cls = rdMolDraw2D.MolDraw2DSVG if svg else rdMolDraw2D.MolDraw2DCairo
    if not mols:
        drawer = cls(width, height)
        drawer.ClearDrawing()
        drawer.SetColour((0.0, 0.0, 0.0))  # the default pen is white before a molecule is drawn
        drawer.SetFontSize(16)
        drawer.DrawString("no molecules", Point2D(width / 2, height / 2), 0, rawCoords=True)
    else:
        cols = min(per_row, len(mols))
        rows = math.ceil(len(mols) / cols)
        drawer = cls(cols * width, rows * height, width, height)
        drawer.DrawMolecules(mols, legends=legends)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()

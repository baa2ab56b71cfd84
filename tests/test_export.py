"""molvae.export: CSV, SDF and image files of a molecule table round-trip and fail early."""

from __future__ import annotations

import errno
import io
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from rdkit import Chem

import molvae.io
from molvae.errors import MolVAEError
from molvae.export import FORMATS, check_output, write_image, write_table


def _table() -> pd.DataFrame:
    """A sample-like table: valid, duplicate, rejected (no SMILES) and an unparseable row."""
    return pd.DataFrame(
        {
            "smiles": ["CCO", "c1ccccc1O", "CCO", None, "C1CC"],
            "selfies": ["[C][C][O]", "[C][=C]...", "[C][C][O]", "[C][Branch1]", "[C][Ring1]"],
            "state": ["valid", "valid", "duplicate", "rejected", "rejected"],
            "reason": ["", "", "same as row 1", "empty molecule", "unparseable"],
            "similarity": [0.123456789, 1.0, np.nan, np.nan, np.nan],
            "step": pd.array([0, 1, 2, None, 4], dtype="Int64"),
            "qed": [0.40685, 0.55, 0.40685, np.nan, np.nan],
            "pains": [False, True, False, None, None],
        }
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_round_trips_through_pandas(tmp_path: Path) -> None:
    df = _table()
    out = tmp_path / "t.csv"
    write_table(df, out)
    back = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert list(back.columns) == list(df.columns)
    assert len(back) == len(df)
    assert back["smiles"].tolist()[:3] == ["CCO", "c1ccccc1O", "CCO"]
    assert pd.isna(back["smiles"][3])
    assert back["smiles"][4] == "C1CC"
    assert back["state"].tolist() == df["state"].tolist()
    np.testing.assert_allclose(back["qed"], df["qed"], rtol=1e-6)
    np.testing.assert_allclose(back["similarity"], df["similarity"], rtol=1e-5)
    assert back["pains"].tolist()[:3] == [False, True, False]
    assert _leftovers(tmp_path) == ["t.csv"]


def test_csv_integers_print_without_dot_zero_and_floats_compactly(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    write_table(_table(), out)
    lines = out.read_text().splitlines()
    assert lines[0] == "smiles,selfies,state,reason,similarity,step,qed,pains"
    assert lines[1] == "CCO,[C][C][O],valid,,0.123457,0,0.40685,False"
    assert lines[2].split(",")[4:7] == ["1", "1", "0.55"]  # float 1.0 -> "1"; Int64 1 -> "1"
    assert lines[4] == ",[C][Branch1],rejected,empty molecule,,,,"  # missing -> empty
    assert ".0," not in out.read_text()


def test_csv_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_table(_table().head(2), None)
    assert capsys.readouterr().out.splitlines()[0].startswith("smiles,selfies,state")


# --- SDF ----------------------------------------------------------------------------------------


def _read_sdf(path: Path) -> list[Chem.Mol]:
    return list(Chem.SDMolSupplier(str(path), sanitize=True, removeHs=False))


def test_sdf_has_one_record_per_row_with_properties(tmp_path: Path) -> None:
    df = _table()
    out = tmp_path / "t.sdf"
    write_table(df, out, "sdf")
    mols = _read_sdf(out)
    assert len(mols) == len(df)
    assert all(m is not None for m in mols)
    for mol, (_, row) in zip(mols, df.iterrows(), strict=True):
        assert mol.GetProp("_Name") == (row["smiles"] if isinstance(row["smiles"], str) else "")
        assert mol.GetProp("state") == row["state"]
        assert mol.GetProp("reason") == row["reason"]
        assert mol.GetProp("selfies") == row["selfies"]
        assert set(mol.GetPropNames()) == set(df.columns) - {"smiles"}
    assert Chem.MolToSmiles(mols[1]) == "Oc1ccccc1"
    assert mols[1].GetConformer().Is3D() is False
    assert mols[0].GetProp("step") == "0"
    assert mols[0].GetProp("similarity") == "0.123457"
    # the rejected rows: empty molecules, properties kept, missing values empty
    for i in (3, 4):
        assert mols[i].GetNumAtoms() == 0
        assert mols[i].GetProp("similarity") == ""
    assert mols[3].GetProp("step") == ""
    assert mols[4].GetProp("step") == "4"
    assert mols[4].GetProp("reason") == "unparseable"


def test_sdf_coordinates_are_2d_and_not_all_zero(tmp_path: Path) -> None:
    out = tmp_path / "t.sdf"
    write_table(pd.DataFrame({"smiles": ["c1ccccc1O"]}), out, "sdf")
    (mol,) = _read_sdf(out)
    xyz = mol.GetConformer().GetPositions()
    assert np.ptp(xyz[:, 0]) > 1 and np.ptp(xyz[:, 1]) > 1
    assert np.all(xyz[:, 2] == 0)


def test_sdf_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_table(_table(), None, "sdf")
    text = capsys.readouterr().out
    assert text.count("$$$$") == len(_table())
    supplier = Chem.SDMolSupplier()
    supplier.SetData(text)
    assert len(list(supplier)) == len(_table())


def test_sdf_folds_multiline_values(tmp_path: Path) -> None:
    out = tmp_path / "t.sdf"
    write_table(pd.DataFrame({"smiles": ["C"], "reason": ["two\n\nlines"]}), out, "sdf")
    (mol,) = _read_sdf(out)
    assert mol.GetProp("reason") == "two  lines"


def test_sdf_needs_a_smiles_column(tmp_path: Path) -> None:
    with pytest.raises(MolVAEError, match="smiles"):
        write_table(pd.DataFrame({"x": [1]}), tmp_path / "t.sdf", "sdf")
    assert _leftovers(tmp_path) == []


# --- images -------------------------------------------------------------------------------------


def test_png_grid(tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    write_image(_table(), out, mols_per_row=2)
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(out) as img:
        img.verify()
    with Image.open(out) as img:
        assert img.size == (500, 500)  # 3 drawable rows (the duplicate too), 2 per row: 2 x 2


def test_svg_grid_is_well_formed(tmp_path: Path) -> None:
    out = tmp_path / "grid.svg"
    write_image(_table(), out, legend=["qed", "state"], max_molecules=2)
    root = ET.fromstring(out.read_bytes())
    assert root.tag.endswith("svg")
    assert root.get("width") == "500px"  # max_molecules=2 -> two panels in one row


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_nothing_to_draw_still_writes_an_image(tmp_path: Path, suffix: str) -> None:
    df = pd.DataFrame({"smiles": [None, "", "C1CC", float("nan")], "qed": [np.nan] * 4})
    out = tmp_path / f"empty{suffix}"
    write_image(df, out)
    if suffix == ".png":
        with Image.open(out) as img:
            assert img.format == "PNG"
    else:
        assert ET.fromstring(out.read_bytes()).tag.endswith("svg")
    write_image(df.iloc[:0], out)  # an empty table too
    assert out.stat().st_size > 0


def test_legends_default_and_explicit(tmp_path: Path) -> None:
    from molvae.export import _legend, _legend_columns

    df = _table()
    cols = _legend_columns(df, None)
    assert cols == ["similarity", "step"]  # the first two of score, similarity, step, qed
    assert _legend(df, 0, cols, set()) == "#1 sim 0.12 step 0"
    assert _legend(df, 2, cols, set()) == "#3 step 2"  # missing values left out
    steps = pd.DataFrame({"smiles": ["C", "CC"], "step": [1.0, np.nan]})
    assert _legend(steps, 0, ["step"], {"step"}) == "#1 step 1"
    with pytest.raises(MolVAEError, match="'nope'.*columns: smiles"):
        write_image(df, tmp_path / "x.png", legend=["nope"])
    assert _leftovers(tmp_path) == []


# --- early checks -------------------------------------------------------------------------------


def test_check_output_accepts_good_outputs(tmp_path: Path) -> None:
    for fmt in FORMATS:
        check_output(tmp_path / f"t.{fmt}", fmt, image=tmp_path / "t.svg")
        check_output(None, fmt, image=tmp_path / "t.PNG")


def test_unknown_format_is_named(tmp_path: Path) -> None:
    with pytest.raises(MolVAEError, match=r"'xlsx'.*csv, sdf"):
        check_output(tmp_path / "t.xlsx", "xlsx")
    with pytest.raises(MolVAEError, match=r"'json'.*csv, sdf"):
        write_table(_table(), tmp_path / "t.json", "json")
    assert _leftovers(tmp_path) == []


def test_missing_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(MolVAEError, match=f"{missing}.*does not exist"):
        check_output(missing / "t.csv", "csv")
    with pytest.raises(MolVAEError, match="does not exist"):
        check_output(None, "csv", image=missing / "t.png")


def test_directory_that_is_a_file_or_a_directory_target(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(MolVAEError, match=f"{afile} is not a directory"):
        check_output(afile / "t.csv", "csv")
    with pytest.raises(MolVAEError, match="is a directory"):
        check_output(tmp_path, "csv")


def test_unwritable_directory_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(  # root may write anywhere, so fake the permission check
        os, "access", lambda p, mode: False if Path(p) == locked else real_access(p, mode)
    )
    with pytest.raises(MolVAEError, match=f"{locked} is not writable"):
        check_output(locked / "t.sdf", "sdf")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unwritable_output_for_real_is_refused_early(tmp_path: Path, fmt: str) -> None:
    """An output nobody can write, root included (CI runs as root, which ignores permission
    bits): its directory is a regular file. The early check names it; nothing is touched."""
    afile = tmp_path / "file.txt"
    afile.write_text("keep\n")
    for out, image in ((afile / f"x.{fmt}", None), (None, afile / "x.png")):
        with pytest.raises(MolVAEError, match=f"{afile} is not a directory"):
            check_output(out, fmt, image=image)
    assert afile.read_text() == "keep\n" and _leftovers(tmp_path) == ["file.txt"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unwritable_output_for_real_fails_clearly_when_written(tmp_path: Path, fmt: str) -> None:
    """Writing anyway (a caller that skipped check_output) gives a molvae error naming the
    output, and leaves the file in the way as it was."""
    afile = tmp_path / "file.txt"
    afile.write_text("keep\n")
    try:
        with pytest.raises(MolVAEError, match=str(afile)):
            write_table(_table(), afile / f"x.{fmt}", fmt)
    finally:
        assert afile.read_text() == "keep\n" and _leftovers(tmp_path) == ["file.txt"]


@pytest.mark.parametrize("name", ["grid.jpg", "grid", "grid.pdf"])
def test_bad_image_suffix_is_named(tmp_path: Path, name: str) -> None:
    with pytest.raises(MolVAEError, match=r"\.png, \.svg"):
        check_output(None, "csv", image=tmp_path / name)
    with pytest.raises(MolVAEError, match=r"\.png, \.svg"):
        write_image(_table(), tmp_path / name)
    assert _leftovers(tmp_path) == []


# --- atomicity ----------------------------------------------------------------------------------


class _Explodes:
    """A cell that cannot be written: str() fails, as a bug or a full disk would mid-file."""

    def __str__(self) -> str:
        raise RuntimeError("cannot write this cell")


@pytest.mark.parametrize("fmt", FORMATS)
def test_error_mid_write_leaves_no_file(tmp_path: Path, fmt: str) -> None:
    df = _table()
    df["note"] = ["ok"] * (len(df) - 1) + [_Explodes()]  # the first records are written first
    out = tmp_path / f"t.{fmt}"
    with pytest.raises(RuntimeError, match="cannot write"):
        write_table(df, out, fmt)
    assert _leftovers(tmp_path) == []
    out.write_text("previous\n")
    with pytest.raises(RuntimeError, match="cannot write"):
        write_table(df, out, fmt)
    assert out.read_text() == "previous\n"
    assert _leftovers(tmp_path) == [out.name]


class _DiskFull(io.TextIOBase):
    """A text file whose disk fills after ``room`` characters: the first part reaches the disk,
    then ``write`` raises ENOSPC, as a full disk or an exceeded quota does mid-file. (A real
    TextIOBase: RDKit's SDWriter accepts nothing else.)"""

    def __init__(self, fh: io.TextIOWrapper, room: int) -> None:
        super().__init__()
        self._fh, self._room = fh, room

    @property
    def encoding(self) -> str:
        return self._fh.encoding

    def writable(self) -> bool:
        return True

    def write(self, data: str) -> int:
        if len(data) > self._room:
            self._fh.write(data[: self._room])
            self._fh.flush()
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._fh.write(data)

    def flush(self) -> None:
        self._fh.flush()

    def fileno(self) -> int:
        return self._fh.fileno()

    def close(self) -> None:
        super().close()  # flushes first
        self._fh.close()


def _fill_disk_after(monkeypatch: pytest.MonkeyPatch, room: int, written: list[Path]) -> None:
    """Every file opened by molvae's atomic writer fills the disk after ``room`` characters;
    ``written`` collects the temporary files it opened."""
    real_fdopen = os.fdopen

    def fdopen(fd: int, *args, **kwargs) -> _DiskFull:  # noqa: ANN002, ANN003
        written.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        return _DiskFull(real_fdopen(fd, *args, **kwargs), room)

    monkeypatch.setattr(molvae.io.os, "fdopen", fdopen)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("fmt", FORMATS)
def test_full_disk_mid_write_leaves_no_partial_file(tmp_path: Path, fmt: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC after part of the table reached the disk (works as root too): the error reaches
    the caller, the partial temporary file is deleted, an older file keeps its content."""
    df = pd.concat([_table()] * 50, ignore_index=True)  # several kB: the disk fills mid-table
    out = tmp_path / f"t.{fmt}"
    written: list[Path] = []
    _fill_disk_after(monkeypatch, 500, written)
    with pytest.raises(MolVAEError) as err:  # one clear line, no traceback
        write_table(df, out, fmt)
    assert str(err.value) == f"cannot write {out}: No space left on device"
    assert len(written) == 1 and written[0].parent == tmp_path  # a temporary file was started
    assert not written[0].exists() and _leftovers(tmp_path) == []
    out.write_text("previous\n")
    with pytest.raises(MolVAEError):
        write_table(df, out, fmt)
    assert out.read_text() == "previous\n"
    assert _leftovers(tmp_path) == [out.name]


def test_stdout_sdf_is_not_buffered_past_return() -> None:
    # RDKit buffers inside SDWriter; everything must reach the handle before write_table returns.
    import contextlib

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        write_table(_table().head(1), None, "sdf")
    assert buf.getvalue().rstrip().endswith("$$$$")

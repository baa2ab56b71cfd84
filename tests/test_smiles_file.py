"""Reading SMILES files: every way a file can be wrong is one DataError naming the file and what
is wrong with it; what Excel writes, long fields and duplicate columns are read."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest

from molvae.cli import main
from molvae.errors import DataError
from molvae.smiles_file import iter_smiles, read_header

ROWS = "id,smiles\n1,CCO\n2,c1ccccc1\n"


def _error(path: Path) -> str:
    with pytest.raises(DataError) as err:
        list(iter_smiles(path))
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message.removeprefix(f"{path}: ")


def test_latin_1_and_binary_files(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,smiles\n1,CCO\n2,CCÖ\n".encode("latin-1"))
    assert _error(latin).startswith("not UTF-8 text (byte 0xd6") and "save it as UTF-8" in (
        _error(latin))
    binary = tmp_path / "random.smi"
    binary.write_bytes(bytes(range(128, 256)) * 40)
    assert _error(binary).startswith("not UTF-8 text")


def test_gzip_files_broken_or_truncated(tmp_path):
    good = gzip.compress(("smiles\n" + "CCO\n" * 5000).encode())
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(good[: len(good) // 2])
    assert _error(truncated).startswith("the gzip file is truncated")
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(good[:10] + b"\x00" * 40 + good[50:])
    assert _error(broken).startswith(("not a valid gzip file", "the gzip file is truncated"))
    named = tmp_path / "plain.csv.gz"  # named .gz, but plain text: read by its content
    named.write_text(ROWS)
    assert list(iter_smiles(named)) == [(1, "CCO"), (2, "c1ccccc1")]


def test_excel_s_byte_order_mark_and_long_fields_are_read(tmp_path):
    bom = tmp_path / "excel.csv"
    bom.write_bytes("\ufeffsmiles,notes\nCCO,x\n".encode())
    assert list(iter_smiles(bom)) == [(1, "CCO")] and read_header(bom) == ["smiles", "notes"]
    long = tmp_path / "long.csv"
    long.write_text("smiles,notes\nCCO," + "n" * 300_000 + "\nCCN,short\n")
    assert [s for _, s in iter_smiles(long)] == ["CCO", "CCN"]


def test_two_smiles_columns_say_which_is_used(tmp_path, caplog):
    path = tmp_path / "two.csv"
    path.write_text("smiles,SMILES\nCCO,CCN\n")
    with caplog.at_level(logging.WARNING, logger="molvae.smiles_file"):
        assert list(iter_smiles(path)) == [(1, "CCO")]
    assert "2 columns look like SMILES ('smiles', 'SMILES'); using column 1" in caplog.text


def test_a_directory_and_a_missing_file(tmp_path):
    assert _error(tmp_path) == "is a directory, not a SMILES file"
    assert _error(tmp_path / "nope.csv") == "no such file"


@pytest.mark.parametrize("text", ["", "smiles\n"])
def test_encode_of_a_file_without_molecules(tmp_path, capsys, text):
    path = tmp_path / "empty.csv"
    path.write_text(text)
    assert main(["encode", str(path), "--out", str(tmp_path / "z.csv")]) == 1
    assert f"{path}: no molecules to encode" in capsys.readouterr().err


def test_out_naming_the_input_is_refused_and_the_input_kept(tmp_path, capsys):
    path = tmp_path / "mols.csv"
    path.write_text(ROWS)
    for args in (["encode", str(path), "--out", str(path)],
                 ["decode", str(path), "--out", str(path)]):
        assert main(args) == 1
        assert "is the input file" in capsys.readouterr().err
        assert path.read_text() == ROWS

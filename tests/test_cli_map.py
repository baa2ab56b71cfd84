"""``molvae map`` end to end, in-process, on the tiny model."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from molvae.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def data_csv(tmp_path: Path, small_smiles: list[str]) -> Path:
    path = tmp_path / "data.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "smiles", "pIC50"])
        for i, smi in enumerate(small_smiles[:40]):
            writer.writerow([f"m{i}", smi, f"{5 + i / 10:.1f}"])
        writer.writerow(["bad", "not a molecule", "1.0"])
    return path


def test_map_writes_png_and_coordinates(
    data_csv: Path, tiny_model_path: Path, small_smiles: list[str], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out, coords = tmp_path / "map.png", tmp_path / "coords.csv"
    code = main(["map", str(data_csv), "--out", str(out), "--model", str(tiny_model_path),
                 "--highlight", f"{small_smiles[0]} first", "--highlight", "CCO",
                 "--coords", str(coords)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert "drew 40 molecules (1 skipped, 2 highlighted) with pca" in err
    with open(coords, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["smiles", "x", "y", "value", "highlighted", "label"]
    assert len(rows) == 42 and [r["label"] for r in rows[-2:]] == ["first", "CCO"]


def test_map_colours_by_a_column_as_svg(
    data_csv: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "map.svg"
    code = main(["map", str(data_csv), "-o", str(out), "-m", str(tiny_model_path),
                 "--colour-by", "pIC50", "--max-points", "10", "--seed", "1"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "<svg" in out.read_text() and "pIC50" in out.read_text()
    assert "of 41 rows" in err


def test_map_bad_highlight_exits_1_and_names_it(
    data_csv: Path, tiny_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "map.png"
    code = main(["map", str(data_csv), "--out", str(out), "--model", str(tiny_model_path),
                 "--highlight", "C1CC"])
    assert code == 1
    assert "error: highlight 'C1CC' cannot be encoded" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "{tmp}/missing/map.png"], "directory {tmp}/missing does not exist"),
        (["--out", "{tmp}/map.jpg"], ".png or .svg"),
        (["--out", "{tmp}/map.png", "--coords", "{tmp}/missing/c.csv"], "--coords"),
        (["--out", "{tmp}/map.png", "--method", "tsne"], "choose pca, umap, auto"),
        (["--out", "{tmp}/map.png", "--colour-by", "weight"], "columns of the data file: id"),
    ],
)
def test_map_checks_arguments_before_loading_the_model(
    data_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, args: list[str], message: str,
) -> None:
    import molvae.trained

    def no_model(*a, **k):
        raise AssertionError("the model must not be loaded for a bad argument")

    monkeypatch.setattr(molvae.trained, "load_model", no_model)
    args = [a.format(tmp=tmp_path) for a in args]
    assert main(["map", str(data_csv), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message.format(tmp=tmp_path) in err


def test_map_missing_data_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["map", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "m.png")]) == 1
    assert "nope.csv: no such file" in capsys.readouterr().err


def test_map_smi_file(data_dir: Path, tiny_model_path: Path, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.png"
    code = main(["map", str(data_dir / "small.smi.gz"), "--out", str(out), "--model",
                 str(tiny_model_path), "--colour-by", "pred_logp", "--max-points", "50"])
    assert code == 0, capsys.readouterr().err
    assert out.read_bytes()[:8] == PNG_MAGIC

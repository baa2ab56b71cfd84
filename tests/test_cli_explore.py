"""The proposal commands end to end: sample, encode/decode, analogs, interpolate, arithmetic,
walk; their shared CSV schema, SDF and image outputs, and their errors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

from molvae.cli import main

#: The documented CSV schema (README, "What every proposal writes"); changing it breaks users.
PROPERTIES = ["qed", "sa", "logp", "mw", "tpsa", "hbd", "hba", "rotatable_bonds", "rings",
              "aromatic_rings", "fraction_sp3", "formal_charge", "lipinski_violations", "pains",
              "brenk", "novel"]
BASE = ["smiles", "selfies", "state", "reason"]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _header(path: Path) -> list[str]:
    with open(path, newline="") as fh:
        return next(csv.reader(fh))


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


@pytest.fixture
def lead(small_smiles: list[str]) -> str:
    return small_smiles[0]


def test_sample_schema_and_reproducible(tmp_path: Path, tiny_model_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.csv"
    args = ["sample", "-n", "12", "--model", str(tiny_model_path), "--seed", "0", "--workers",
            "1", "--no-round-trip"]
    code, err = _run([*args, "--out", str(out)], capsys)
    assert code == 0, err
    assert _header(out) == BASE + PROPERTIES
    rows = _rows(out)
    assert len(rows) == 12 and {r["state"] for r in rows} <= {"valid", "duplicate"}
    assert all(Chem.MolFromSmiles(r["smiles"]) is not None for r in rows)
    assert all(r["novel"] in ("True", "False") for r in rows)
    again = tmp_path / "t.csv"
    assert _run([*args, "--out", str(again)], capsys)[0] == 0
    assert again.read_text() == out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "t.csv"]  # no temp files


def test_sample_unique_sdf_and_image(tmp_path: Path, tiny_model_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    out, image = tmp_path / "s.sdf", tmp_path / "s.png"
    code, err = _run(["sample", "-n", "8", "--unique", "--temperature", "1", "--seed", "1",
                      "--model", str(tiny_model_path), "--workers", "1", "--format", "sdf",
                      "--no-round-trip", "--out", str(out), "--image", str(image)], capsys)
    assert code == 0, err
    mols = list(Chem.SDMolSupplier(str(out)))
    assert len(mols) == 8 and all(m is not None for m in mols)
    assert len({Chem.MolToSmiles(m) for m in mols}) == 8
    assert mols[0].HasProp("qed") and mols[0].HasProp("state")
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sample_max_ring(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With the shipped model: no written sample has a ring of more than --max-ring atoms (7 by
    default); --max-ring 0 keeps the decoder's large rings, which one sample in five has."""
    from molvae.chem import largest_ring

    def rings(*extra: str) -> list[int]:
        out = tmp_path / "s.csv"
        code, err = _run(["sample", "-n", "40", "--seed", "0", "--workers", "1",
                          "--no-properties", "--no-round-trip", "--out", str(out), *extra],
                         capsys)
        assert code == 0, err
        rows = _rows(out)
        assert len(rows) == 40
        return [largest_ring(r["smiles"]) for r in rows]

    assert max(rings()) <= 7
    assert max(rings("--max-ring", "6")) <= 6
    assert max(rings("--max-ring", "0")) > 7


def test_sample_says_what_the_round_trip_cost(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The summary counts the latents decoded: about n for the decoder's own samples (a latent
    more for a batch asked for while the others decode), not a whole batch; several per sample
    when samples are drawn again because the model does not read them back."""
    import re

    def latents(*extra: str) -> int:
        code, err = _run(["sample", "-n", "20", "--seed", "0", "--workers", "1",
                          "--no-properties", "--out", str(tmp_path / "s.csv"), *extra], capsys)
        assert code == 0, err
        found = re.search(r"20 molecules \(\d+ distinct, \d+ repeats\) from (\d+) latents "
                          r"decoded -> ", err)
        assert found, err
        return int(found.group(1))

    assert 20 <= latents("--no-round-trip", "--max-ring", "0") <= 22
    assert latents() > 40


def test_sample_no_properties_is_minimal(tiny_model_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", "-n", "3", "--model", str(tiny_model_path), "--seed", "0",
                 "--workers", "1", "--no-properties", "--no-round-trip"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == ",".join(BASE) and len(lines) == 4


def test_encode_then_decode(tmp_path: Path, tiny_model_path: Path, lead: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "in.csv"
    data.write_text(f"name,SMILES\na,{lead}\nb,not a molecule\nc,C[Si](C)(C)C\n")
    latents = tmp_path / "z.csv"
    code, err = _run(["encode", str(data), "--out", str(latents), "--model",
                      str(tiny_model_path)], capsys)
    assert code == 0, err
    assert "encoded 1 of 3" in err
    header = _header(latents)
    assert header[:10] == ["row", "smiles", "selfies", "state", "reason", "input",
                           "standardized", "reconstructs", "refined", "domain"]
    assert [f"z{i}" for i in range(8)] == header[10:18]
    assert header[18:] == PROPERTIES
    rows = _rows(latents)
    assert [r["state"] for r in rows] == ["valid", "rejected", "rejected"]
    assert "Si" in rows[2]["reason"] and rows[2]["z0"] == ""
    assert rows[0]["reconstructs"] in ("True", "False") and 0 <= float(rows[0]["domain"]) <= 1
    assert rows[0]["refined"] in ("True", "False")
    assert rows[1]["reconstructs"] == rows[1]["refined"] == rows[1]["domain"] == ""

    decoded = tmp_path / "d.csv"
    code, err = _run(["decode", str(latents), "--out", str(decoded), "--model",
                      str(tiny_model_path)], capsys)
    assert code == 0, err
    assert [r["state"] for r in _rows(decoded)][1:] == ["rejected", "rejected"]

    npy = tmp_path / "z.npy"
    assert _run(["encode", str(data), "--out", str(npy), "--model", str(tiny_model_path),
                 "--no-properties"], capsys)[0] == 0
    z = np.load(npy)
    assert z.shape == (3, 8) and np.isnan(z[1]).all() and not np.isnan(z[0]).any()
    assert len(_rows(tmp_path / "z.csv")) == 3  # the SMILES alongside, row for row
    code, err = _run(["decode", str(npy), "--model", str(tiny_model_path)], capsys)
    assert code == 0, err


def test_encode_standardizes_a_salt_unless_told_not_to(
        tmp_path: Path, tiny_model_path: Path, lead: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A hydrochloride is encoded as its parent, the change said in ``standardized`` and the
    user's text kept in ``input``; ``--no-standardize`` refuses it with the reason."""
    data = tmp_path / "salt.smi"
    data.write_text(f"smiles\n{lead}.Cl\n{lead}\n")
    out = tmp_path / "z.csv"
    args = ["encode", str(data), "--out", str(out), "--model", str(tiny_model_path),
            "--no-properties"]
    assert _run(args, capsys)[0] == 0
    salt, parent = _rows(out)
    assert salt["state"] == "valid" and salt["input"] == f"{lead}.Cl"
    assert salt["standardized"] == "removed fragment Cl"
    assert salt["smiles"] == parent["smiles"] == Chem.CanonSmiles(lead)
    assert salt["z0"] == parent["z0"] and parent["standardized"] == ""
    assert _run([*args, "--no-standardize"], capsys)[0] == 0
    salt, parent = _rows(out)
    assert salt["state"] == "rejected" and salt["reason"]
    assert parent["state"] == "valid"


def test_encode_rejects_unknown_output_suffix(tmp_path: Path, tiny_model_path: Path,
                                              lead: str, capsys: pytest.CaptureFixture[str]
                                              ) -> None:
    data = tmp_path / "in.smi"
    data.write_text(lead + "\n")
    code, err = _run(["encode", str(data), "--out", str(tmp_path / "z.parquet")], capsys)
    assert code == 1 and ".csv or .npy" in err


def test_analogs(tmp_path: Path, tiny_model_path: Path, lead: str,
                 capsys: pytest.CaptureFixture[str]) -> None:
    out, svg = tmp_path / "a.csv", tmp_path / "a.svg"
    code, err = _run(["analogs", lead, "-n", "4", "--radius", "2", "--model",
                      str(tiny_model_path), "--out", str(out), "--image", str(svg)], capsys)
    assert code == 0, err
    assert _header(out) == BASE + ["similarity", "latent_distance"] + PROPERTIES
    sims = [float(r["similarity"]) for r in _rows(out)]
    assert sims == sorted(sims, reverse=True) and 0 < len(sims) <= 4
    assert "<svg" in svg.read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["analogs", "not a molecule"], "not a valid SMILES"),
    (["analogs", "C[Si](C)(C)C"], "Si"),
    (["analogs", "CCO", "-n", "0"], "positive"),
    (["analogs", "CCO", "--format", "xlsx"], "xlsx"),
    (["analogs", "CCO", "--image", "a.gif"], ".png"),
    (["interpolate", "CCO", "not a molecule"], "not a molecule"),
    (["walk", "CCO", "--property", "colour", "--direction", "fitted"], "unknown property"),
])
def test_bad_inputs_are_clear_errors(args: list[str], message: str, tiny_model_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run([*args, "--model", str(tiny_model_path)], capsys)
    assert code == 1 and message in err, err


def test_unwritable_output_fails_before_work(tmp_path: Path, tiny_model_path: Path,
                                             lead: str, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    out = tmp_path / "missing" / "a.csv"
    code, err = _run(["analogs", lead, "--model", str(tiny_model_path), "--out", str(out)],
                     capsys)
    assert code == 1 and "missing" in err
    assert not out.parent.exists()


def test_interpolate_arithmetic_and_walk(tmp_path: Path, tiny_model_path: Path,
                                         small_smiles: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    a, b, c = small_smiles[:3]
    model = ["--model", str(tiny_model_path)]
    out = tmp_path / "i.csv"
    assert _run(["interpolate", a, b, "--steps", "6", "--out", str(out), *model], capsys)[0] == 0
    assert _header(out)[4:8] == ["step", "t", "similarity_a", "similarity_b"]
    out = tmp_path / "x.sdf"
    assert _run(["arithmetic", a, b, c, "-n", "3", "--format", "sdf", "--out", str(out),
                 *model], capsys)[0] == 0
    mols = list(Chem.SDMolSupplier(str(out)))
    assert mols[0].GetProp("source") == "analogy"
    out = tmp_path / "w.csv"
    assert _run(["walk", a, "--property", "qed", "--steps", "4", "--out", str(out), *model],
                capsys)[0] == 0
    rows = _rows(out)
    assert [r["step"] for r in rows] == ["0", "1", "2", "3", "4"] and "pred_qed" in rows[0]

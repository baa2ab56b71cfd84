"""molvae.cli end to end, in-process: ``main([...])`` returns the exit code."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from molvae.checkpoint import load_model
from molvae.chem import canonical_smiles
from molvae.cli import main


def test_no_arguments_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([])
    out = capsys.readouterr()
    assert code in (0, 2)  # click >= 8.2 treats "no arguments" as a usage error
    assert "train" in out.out + out.err and "sample" in out.out + out.err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("train", "sample", "evaluate"):
        assert command in out


def test_unknown_option_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", "--no-such-option"]) == 2
    assert "no-such-option" in capsys.readouterr().err


def test_interrupt_is_exit_code_130(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import molvae.trained

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(molvae.trained, "load_model", interrupted)
    assert main(["sample", "-n", "2", "--out", str(tmp_path / "x.csv")]) == 130
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.integration
def test_cli_works_without_click_installed() -> None:
    """typer no longer depends on click; the CLI must not import it."""
    code = (
        "import sys; sys.modules['click'] = None\n"
        "from molvae.cli import main\n"
        "sys.exit(main(['sample', '--no-such-option']) * 10 + main(['--help']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 20, proc.stderr[-2000:]
    assert "No such option" in proc.stderr


def test_train_end_to_end(
    tmp_path: Path, small_csv: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        [
            "-q",
            "train",
            str(small_csv),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--batch-size",
            "32",
            "--max-steps",
            "5",
            "--latent-dim",
            "8",
            "--decoder-hidden",
            "32",
            "--workers",
            "1",
            "--cache-dir",
            str(cache_dir),
            "--device",
            "cpu",
            "--no-progress",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "model written to" in capsys.readouterr().out
    for name in ("model.safetensors", "last.pt", "config.json", "rejects.csv"):
        assert (out / name).is_file(), name
    _, meta = load_model(out / "model.safetensors")
    assert meta.config.latent_dim == 8 and meta.config.decoder_hidden == 32
    assert meta.info["step"] == 5
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["max_steps"] == 5


def test_train_bad_choices_are_errors(
    tmp_path: Path, small_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["train", str(small_csv), "--out", str(tmp_path / "run")]
    assert main([*base, "--kl-schedule", "sometimes"]) == 1
    assert "--kl-schedule" in capsys.readouterr().err
    assert main([*base, "--precision", "fp8"]) == 1
    assert "--precision" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_train_resume_without_checkpoint(
    tmp_path: Path, small_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "train",
            str(small_csv),
            "--out",
            str(tmp_path / "run"),
            "--resume",
            "--workers",
            "1",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-progress",
        ]
    )
    assert code == 1
    assert "last.pt" in capsys.readouterr().err


def test_train_wrong_column_names_file(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = data_dir / "wrong_column.csv"
    code = main(
        [
            "train",
            str(data),
            "--out",
            str(tmp_path / "run"),
            "--workers",
            "1",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-progress",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert str(data) in err and "structure" in err


def test_sample_writes_csv(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.csv"
    code = main(
        [
            "sample",
            "-n",
            "20",
            "--model",
            str(tiny_model_path),
            "--out",
            str(out),
            "--seed",
            "0",
            "--workers",
            "1",
            "--no-round-trip",
        ]
    )
    assert code == 0, capsys.readouterr().err
    with open(out, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["smiles", "selfies", "state"]
    assert len(rows) == 21
    for smiles, selfies, *_ in rows[1:]:
        assert canonical_smiles(smiles) == smiles
        assert selfies.startswith("[")
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]  # no temporary file left
    # the same seed gives the same file
    again = tmp_path / "y.csv"
    assert (
        main(
            [
                "sample",
                "-n",
                "20",
                "--model",
                str(tiny_model_path),
                "--out",
                str(again),
                "--seed",
                "0",
                "--workers",
                "1",
                "--no-round-trip",
            ]
        )
        == 0
    )
    assert again.read_text() == out.read_text()


def test_sample_to_stdout(tiny_model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            ["sample", "-n", "3", "--model", str(tiny_model_path), "--seed", "0", "--workers", "1",
             "--no-round-trip"]
        )
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("smiles,selfies,state,reason,qed") and len(lines) == 4


@pytest.mark.parametrize("n", ["0", "-5"])
def test_sample_non_positive_n(
    n: str, tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["sample", "-n", n, "--model", str(tiny_model_path), "--out", str(tmp_path / "x.csv")]
    )
    assert code != 0
    err = capsys.readouterr().err
    assert "-n" in err and "positive" in err
    assert not (tmp_path / "x.csv").exists()


def test_sample_out_in_missing_directory(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing" / "x.csv"
    code = main(["sample", "-n", "2", "--model", str(tiny_model_path), "--out", str(out)])
    assert code != 0
    assert "does not exist" in capsys.readouterr().err
    assert not out.parent.exists()


def test_sample_invalid_model_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.safetensors"
    assert main(["sample", "-n", "2", "--model", str(missing)]) == 1
    assert str(missing) in capsys.readouterr().err
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a model at all")
    assert main(["sample", "-n", "2", "--model", str(garbage)]) == 1
    assert str(garbage) in capsys.readouterr().err


def test_evaluate_json(
    tiny_model_path: Path,
    data_dir: Path,
    small_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(
        [
            "evaluate",
            str(data_dir / "mixed.csv"),
            "--model",
            str(tiny_model_path),
            "--train",
            str(small_csv),
            "--n-reconstruct",
            "4",
            "--n-samples",
            "5",
            "--n-properties",
            "4",
            "--workers",
            "1",
            "--cache-dir",
            str(tmp_path),
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    metrics = json.loads(out)
    assert metrics["n_samples"] == 5
    assert 0.0 <= metrics["validity"] <= 1.0
    assert 0.0 <= metrics["reconstruction"] <= 1.0
    assert set(metrics["r2"]) == {"qed", "logp", "sa"}


def test_evaluate_table(
    tiny_model_path: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "evaluate",
            str(data_dir / "mixed.csv"),
            "--model",
            str(tiny_model_path),
            "--n-reconstruct",
            "2",
            "--n-samples",
            "2",
            "--n-properties",
            "2",
            "--workers",
            "1",
            "--cache-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert "validity" in capsys.readouterr().out


def test_evaluate_invalid_model_path(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.safetensors"
    code = main(
        [
            "evaluate",
            str(data_dir / "mixed.csv"),
            "--model",
            str(missing),
            "--workers",
            "1",
            "--cache-dir",
            str(tmp_path),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and str(missing) in err


def test_evaluate_empty_test_file(
    tiny_model_path: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "evaluate",
            str(data_dir / "empty.csv"),
            "--model",
            str(tiny_model_path),
            "--workers",
            "1",
            "--cache-dir",
            str(tmp_path),
        ]
    )
    assert code == 1
    assert "empty.csv" in capsys.readouterr().err

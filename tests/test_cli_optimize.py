"""``molvae optimize`` end to end on the tiny model, and its errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from molvae.cli import main

CAMPAIGN = """
[campaign]
name = "cli_qed"
budget = 100
batch_size = 4
top_k = 5

[[component]]
kind = "qed"
"""


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def test_optimize_end_to_end_and_resume(tmp_path: Path, tiny_model_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    campaign = tmp_path / "qed.toml"
    campaign.write_text(CAMPAIGN)
    out = tmp_path / "run"
    args = ["optimize", str(campaign), "--out", str(out), "--model", str(tiny_model_path),
            "--budget", "12", "--batch-size", "6", "--sampler", "random", "--seed", "3",
            "--worker", "me", "--no-progress"]
    code, err = _run(args, capsys)
    assert code == 0, err
    assert "12 molecules scored" in err and "best score" in err and "results.csv" in err
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 12 and results["smiles"].is_unique and set(results["worker"]) == {"me"}
    for name in ("top.csv", "top.sdf", "top.png", "progress.csv", "progress.png", "timing.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    resolved = manifest["campaign"]["campaign"]
    assert (resolved["budget"], resolved["sampler"], resolved["seed"]) == (12, "random", 3)
    assert manifest["sampler"]["name"] == "random"  # seeded from 3 and the worker's name
    assert manifest["model"]["path"] == str(tiny_model_path.resolve())
    # the same command with a larger budget resumes
    code, err = _run([*args[:6], "--budget", "16", *args[8:]], capsys)
    assert code == 0, err
    again = pd.read_csv(out / "results.csv")
    assert len(again) == 16 and set(results["smiles"]) <= set(again["smiles"])


def test_operators_flag_chooses_the_mechanisms(tmp_path: Path, tiny_model_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """By default every operator may propose; ``--operators none`` leaves the sampler alone,
    ``--operators edit`` adds that one; an unknown name is a clear error."""
    campaign = tmp_path / "qed.toml"
    campaign.write_text(CAMPAIGN)
    base = ["optimize", str(campaign), "--model", str(tiny_model_path), "--budget", "60",
            "--batch-size", "12", "--no-progress"]
    sources = {}
    for flag in ("default", "none", "edit"):
        out = tmp_path / flag
        extra = [] if flag == "default" else ["--operators", flag]
        code, err = _run([*base, "--out", str(out), *extra], capsys)
        assert code == 0, err
        manifest = json.loads((out / "manifest.json").read_text())
        sources[flag] = set(pd.read_csv(out / "results.csv")["source"])
        operators = manifest["campaign"]["campaign"]["operators"]
        assert operators == {"default": ["local", "crossover", "mutate", "splice", "edit"],
                             "none": [], "edit": ["edit"]}[flag]
    assert sources["none"] == {"cmaes"}
    assert sources["edit"] <= {"start", "cmaes", "edit"}  # the start population, then these
    code, err = _run([*base, "--out", str(tmp_path / "bad"), "--operators", "teleport"], capsys)
    assert code == 1 and "teleport" in err and not (tmp_path / "bad").exists()


def test_bad_campaign_names_the_file_and_key(tmp_path: Path, tiny_model_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    campaign = tmp_path / "bad.toml"
    campaign.write_text(CAMPAIGN.replace('kind = "qed"', 'kind = "qedd"'))
    code, err = _run(["optimize", str(campaign), "--out", str(tmp_path / "run"), "--model",
                      str(tiny_model_path)], capsys)
    assert code == 1
    assert "bad.toml" in err and "component[1].kind" in err and "qedd" in err
    assert not (tmp_path / "run").exists()  # nothing written


def test_unknown_sampler_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    campaign = tmp_path / "qed.toml"
    campaign.write_text(CAMPAIGN)
    code, err = _run(["optimize", str(campaign), "--out", str(tmp_path / "run"),
                      "--sampler", "annealing"], capsys)
    assert code == 1
    assert "unknown sampler 'annealing'" in err and "cmaes, tpe, gp, random, qmc, nsga2" in err


def test_unwritable_out_and_missing_model_fail_before_loading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    campaign = tmp_path / "qed.toml"
    campaign.write_text(CAMPAIGN)
    (tmp_path / "file").write_text("x")
    code, err = _run(["optimize", str(campaign), "--out", str(tmp_path / "file")], capsys)
    assert code == 1 and "is a file" in err
    code, err = _run(["optimize", str(campaign), "--out", str(tmp_path / "run"), "--model",
                      str(tmp_path / "missing.safetensors")], capsys)
    assert code == 1 and "missing.safetensors" in err


SHIPPED = sorted((Path(__file__).resolve().parents[1] / "optimize").glob("*.toml"))


@pytest.mark.parametrize("campaign", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_campaign_runs_on_the_shipped_model(
    campaign: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the README tells a user to run works as written, with a small budget."""
    out = tmp_path / campaign.stem
    code, err = _run(["optimize", str(campaign), "--out", str(out), "--budget", "24",
                      "--no-progress"], capsys)
    assert code == 0, err
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 24 and results["smiles"].is_unique
    assert (results["state"] != "failed").all(), results[results["state"] == "failed"]
    assert results["score"].notna().any()
    for name in ("top.csv", "top.sdf", "top.png", "progress.png", "manifest.json"):
        assert (out / name).stat().st_size > 0


INTERRUPTING = """
import os

calls = 0


def score(smiles):
    global calls
    calls += 1
    if calls == 3 and os.environ.get("MOLVAE_TEST_INTERRUPT"):
        raise KeyboardInterrupt  # what Ctrl-C raises in the middle of scoring
    if calls == 3 and os.environ.get("MOLVAE_TEST_EXIT"):
        raise SystemExit(3)
    return [len(s) / 100 for s in smiles]
"""


def test_ctrl_c_writes_the_outputs_and_says_how_to_resume(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    (tmp_path / "interrupting.py").write_text(INTERRUPTING)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("MOLVAE_TEST_INTERRUPT", "1")
    campaign = tmp_path / "c.toml"
    campaign.write_text('[campaign]\nname = "cc"\n[[component]]\nkind = "python"\n'
                        'function = "interrupting:score"\nname = "length"\n'
                        '[component.transform]\ntype = "clamp"\nlow = 0\nhigh = 1\n')
    out = tmp_path / "run"
    args = ["optimize", str(campaign), "--out", str(out), "--model", str(tiny_model_path),
            "--budget", "40", "--batch-size", "4", "--sampler", "random", "--no-progress",
            "--allow-python"]
    code, err = _run(args, capsys)
    assert code == 130
    results = pd.read_csv(out / "results.csv")
    assert 1 <= len(results) < 40  # what was told before Ctrl-C, written from the study
    assert f"interrupted: {len(results)} of 40 molecules scored, outputs in {out}" in err
    assert "the same command resumes the run" in err
    monkeypatch.delenv("MOLVAE_TEST_INTERRUPT")
    monkeypatch.setenv("MOLVAE_TEST_EXIT", "1")
    monkeypatch.setattr(sys.modules["interrupting"], "calls", 0)
    code, err = _run(args, capsys)
    assert code == 1
    assert "stopped: interrupting:score called sys.exit(3):" in err and "resumes the run" in err
    monkeypatch.delenv("MOLVAE_TEST_EXIT")
    code, err = _run(args, capsys)
    assert code == 0, err
    again = pd.read_csv(out / "results.csv")
    assert len(again) == 40 and set(results["smiles"]) <= set(again["smiles"])


def test_a_python_component_needs_consent(tmp_path: Path, tiny_model_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    campaign = tmp_path / "c.toml"
    campaign.write_text('[campaign]\nname = "cc"\n[[component]]\nkind = "python"\n'
                        'function = "os:getcwd"\n')
    code, err = _run(["optimize", str(campaign), "--out", str(tmp_path / "run"), "--model",
                      str(tiny_model_path)], capsys)
    assert code == 1 and "would import module 'os'" in err and "--allow-python" in err
    assert not (tmp_path / "run").exists()


def test_another_campaign_in_a_finished_run_directory_is_refused(
    tmp_path: Path, tiny_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(CAMPAIGN)
    second.write_text(CAMPAIGN.replace('name = "cli_qed"', 'name = "other"'))
    out = tmp_path / "run"
    common = ["--out", str(out), "--model", str(tiny_model_path), "--budget", "4",
              "--no-progress"]
    assert _run(["optimize", str(first), *common], capsys)[0] == 0
    before = (out / "results.csv").read_bytes()
    code, err = _run(["optimize", str(second), *common], capsys)
    assert code == 1 and f"{out} holds the run of campaign 'cli_qed'" in err
    assert (out / "results.csv").read_bytes() == before


def test_max_ring_flag_reaches_the_campaign(tmp_path: Path, tiny_model_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    campaign = tmp_path / "qed.toml"
    campaign.write_text(CAMPAIGN)
    for flag, expected in (([], 0), (["--max-ring", "7"], 7), (["--max-ring", "9"], 9)):
        out = tmp_path / f"run{expected}"
        code, err = _run(["optimize", str(campaign), "--out", str(out), "--model",
                          str(tiny_model_path), "--budget", "4", "--batch-size", "4",
                          "--sampler", "random", "--no-progress", *flag], capsys)
        assert code == 0, err
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["campaign"]["campaign"]["max_ring"] == expected

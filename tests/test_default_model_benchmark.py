"""benchmarks/default_model.py: a long run kept in the repository between sessions (``stash``)
and resumed on a fresh checkout (``unstash``) trains on exactly as a run never stopped (the script
is loaded from its path: benchmarks/ is not a package)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

from molvae.checkpoint import load_checkpoint
from molvae.train import train

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "default_model.py"


@pytest.fixture(scope="module")
def recipe():
    spec = importlib.util.spec_from_file_location("default_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["default_model"] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("default_model", None)


def test_the_long_recipe_is_stage_ones_over_more_epochs(recipe) -> None:
    def settings(args: tuple[str, ...]) -> dict[str, str]:
        return dict(zip(args[::2], args[1::2], strict=True))

    stage1, long = settings(recipe.TRAIN_ARGS), settings(recipe.LONG_ARGS)
    assert int(long.pop("--epochs")) > int(stage1.pop("--epochs"))
    assert long == stage1


def test_a_stashed_run_resumes_on_a_fresh_checkout_as_if_never_stopped(
    recipe, tmp_path: Path, small_csv: Path, tiny_cfg, tiny_arch: dict, cache_dir: Path
) -> None:
    common = {"cache_dir": cache_dir, "model_overrides": tiny_arch, "progress": False}
    full, run, kept = tmp_path / "full", tmp_path / "run", tmp_path / "repo" / "kept"
    train(small_csv, full, cfg=tiny_cfg(epochs=2, max_steps=9), **common)
    train(small_csv, run, cfg=tiny_cfg(epochs=2, max_steps=4), **common)

    copied = recipe.stash(run, kept)
    assert {p.name for p in copied} == {"last.pt", "metrics.jsonl", "config.json"}
    assert not list(kept.glob(".*.tmp"))  # written atomically, nothing left behind
    shutil.rmtree(run)  # a new session: runs/ is gone, the repository's folder is not

    assert recipe.unstash(kept, run)
    train(small_csv, run, cfg=tiny_cfg(epochs=2, max_steps=9), resume=True, **common)
    a, b = load_checkpoint(full / "last.pt"), load_checkpoint(run / "last.pt")
    assert a["run_state"]["step"] == b["run_state"]["step"] == 9
    for key, value in a["model"].items():
        torch.testing.assert_close(b["model"][key], value, rtol=0, atol=1e-6, msg=key)


def test_a_run_directorys_own_state_wins_over_the_kept_one(recipe, tmp_path: Path) -> None:
    run, kept = tmp_path / "run", tmp_path / "kept"
    for folder, text in ((run, "newer"), (kept, "older")):
        folder.mkdir()
        (folder / "last.pt").write_text(text)
    assert not recipe.unstash(kept, run)
    assert (run / "last.pt").read_text() == "newer"
    assert not recipe.unstash(tmp_path / "nothing-kept", tmp_path / "fresh")


def test_stashing_a_run_without_a_checkpoint_is_refused(recipe, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no last.pt"):
        recipe.stash(tmp_path / "empty", tmp_path / "kept")
    assert not (tmp_path / "kept").exists()


def test_the_curve_is_one_row_an_epoch_with_its_training_speed(recipe, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.jsonl"
    rows = [{"kind": "train", "epoch": 0, "mol_per_s": s} for s in (900.0, 1000.0, 1100.0)]
    rows.append({"kind": "val", "epoch": 1, "recon": 18.654, "kl": 94.26, "token_acc": 0.8363,
                 "mol_acc": 0.0071, "greedy_recon": 0.034})
    metrics.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table = recipe.validation_table(metrics).splitlines()
    assert len(table) == 3
    assert table[-1] == "| 1 | 18.65 | 94.3 | 0.836 | 0.7% | 3.4% | 1,000 |"

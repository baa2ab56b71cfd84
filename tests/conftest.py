"""Shared fixtures: tiny data files, a tiny model trained once per session, and test hygiene.

Everything a test writes goes under pytest's temporary directories; the prepared-data cache of
the whole session is one temporary folder (``MOLVAE_CACHE`` points there too, for code paths that
fall back to the default cache).
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

from molvae.train import TrainConfig, train

DATA = Path(__file__).parent / "data"

#: The smallest architecture that still exercises every layer; trains in a few seconds.
TINY_MODEL = {
    "latent_dim": 8,
    "decoder_hidden": 32,
    "embed_dim": 16,
    "conv_channels": 16,
    "encoder_hidden": 32,
    "head_hidden": 8,
}


def tiny_train_config(**overrides) -> TrainConfig:
    """A training configuration that finishes in seconds on one CPU core."""
    base = {
        "epochs": 1,
        "batch_size": 32,
        "recon_eval": 10,
        "workers": 1,
        "kl_warmup_steps": 10,
        "log_every": 2,
        "device": "cpu",
        "precision": "fp32",
    }
    return TrainConfig(**{**base, **overrides})


def pytest_configure(config: pytest.Config) -> None:
    # The test machine has few cores and may be busy: one intra-op thread avoids oversubscription,
    # which makes small models tens of times slower.
    torch.set_num_threads(1)
    # Hypothesis keeps a cache under ./.hypothesis even without an example database; tests write
    # only to temporary folders. (Collection starts after this hook, before any fixture.)
    from hypothesis.configuration import set_hypothesis_home_dir

    home = Path(tempfile.mkdtemp(prefix="molvae-hypothesis-"))
    set_hypothesis_home_dir(home)
    config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))


@pytest.fixture(scope="session", autouse=True)
def _session_cache_env(tmp_path_factory: pytest.TempPathFactory):
    """Point molvae's default cache at a temporary folder for the whole session."""
    old = os.environ.get("MOLVAE_CACHE")
    os.environ["MOLVAE_CACHE"] = str(tmp_path_factory.mktemp("default-cache"))
    yield
    if old is None:
        os.environ.pop("MOLVAE_CACHE", None)
    else:
        os.environ["MOLVAE_CACHE"] = old


@pytest.fixture(autouse=True)
def _restore_logging():
    """The CLI reconfigures the root logger (``basicConfig(force=True)``); undo it after a test
    so later tests do not log to a closed capture stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def tiny_arch() -> dict[str, int]:
    """Architecture overrides of the tiny test models."""
    return dict(TINY_MODEL)


@pytest.fixture(scope="session")
def tiny_cfg():
    """Factory of fast training configurations: ``tiny_cfg(max_steps=3)``."""
    return tiny_train_config


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def small_csv() -> Path:
    """200 MOSES training molecules, header ``SMILES``."""
    return DATA / "small.csv"


@pytest.fixture(scope="session")
def small_smiles(small_csv: Path) -> list[str]:
    with open(small_csv, newline="") as fh:
        return [row[0] for row in list(csv.reader(fh))[1:]]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepared-data cache shared by the session (the fixture files never change)."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, small_csv: Path, cache_dir: Path) -> Path:
    """Run directory of a tiny model trained once per session on ``small.csv`` (a few seconds)."""
    out = tmp_path_factory.mktemp("tiny-run")
    train(
        small_csv,
        out,
        cfg=tiny_train_config(epochs=4, lr=3e-3),
        model_overrides=TINY_MODEL,
        cache_dir=cache_dir,
        progress=False,
    )
    return out


@pytest.fixture(scope="session")
def tiny_model_path(tiny_run: Path) -> Path:
    path = tiny_run / "model.safetensors"
    assert path.is_file()
    return path


@pytest.fixture(scope="session")
def tiny_model(tiny_model_path: Path):
    from molvae.trained import load_model

    return load_model(tiny_model_path)

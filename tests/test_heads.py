"""Refitting the property heads (molvae.heads): the heads learn, nothing else changes, and the
file says what was done."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from molvae.checkpoint import load_model
from molvae.errors import DataError
from molvae.heads import HeadsConfig, fit_heads, refit_heads
from molvae.model import VAE, VAEConfig

QUICK = HeadsConfig(hidden=32, layers=2, epochs=3, batch_size=64)


def test_heads_learn_a_function_of_the_latent() -> None:
    """Properties that are a smooth function of z are learned to a high held-out R^2."""
    net = VAE(VAEConfig(vocab_size=10, max_len=8, latent_dim=8))
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(4000, 8, generator=gen)
    props = torch.stack([mu[:, 0] + mu[:, 1] ** 2, mu[:, 2].sin(), mu[:, :4].sum(1)], dim=1)
    record = fit_heads(net, mu, torch.full_like(mu, -4.0), props,
                       HeadsConfig(hidden=64, layers=2, epochs=15, batch_size=64,
                                   validation=0.1))
    assert len(record["epochs"]) == 15 and min(record["kept"]) > 0.9
    assert net.cfg.head_hidden == 64 and net.cfg.head_layers == 2
    with torch.no_grad():
        test = torch.randn(500, 8, generator=gen)
        pred = net.predict_properties(test)  # prop_mean 0, prop_std 1: units are the targets
    assert float(torch.corrcoef(torch.stack([pred[:, 2], test[:, :4].sum(1)]))[0, 1]) > 0.95


def test_rows_without_labels_are_left_out_and_too_few_are_refused() -> None:
    net = VAE(VAEConfig(vocab_size=10, max_len=8, latent_dim=4))
    mu = torch.randn(200, 4)
    props = torch.randn(200, 3)
    props[::2, 1] = math.nan
    fit_heads(net, mu, torch.zeros_like(mu), props, QUICK)  # 100 labelled rows are enough
    props[5:, 0] = math.nan
    with pytest.raises(DataError, match="labelled molecules"):
        fit_heads(net, mu, torch.zeros_like(mu), props, QUICK)


def test_refit_changes_only_the_heads(tiny_model_path: Path, small_csv: Path,
                                      tmp_path: Path) -> None:
    """The refitted file decodes and samples exactly as before; its heads are the new ones, its
    config says their shape, and its info records the fit."""
    out = tmp_path / "refit.safetensors"
    path, record = refit_heads(tiny_model_path, small_csv, out=out, config=QUICK,
                               cache_dir=tmp_path)
    assert path == out and record["molecules"] > 100 and len(record["epochs"]) == 3
    before, _ = load_model(tiny_model_path)
    after, meta = load_model(out)
    assert after.cfg.head_layers == 2 and after.cfg.head_hidden == 32
    assert meta.info["heads"]["config"]["layers"] == 2
    old, new = before.state_dict(), after.state_dict()
    assert {k for k in new if not k.startswith("heads.")} == {
        k for k in old if not k.startswith("heads.")}
    assert all(torch.equal(old[k], new[k]) for k in new if not k.startswith("heads."))
    z = torch.from_numpy(np.random.default_rng(0).standard_normal((4, after.cfg.latent_dim))
                         .astype(np.float32))
    assert torch.equal(before.generate(z), after.generate(z))
    assert not torch.allclose(before.predict_properties(z), after.predict_properties(z))


def test_a_config_without_head_layers_has_one() -> None:
    """Model files written before heads could be refitted keep loading as they were."""
    cfg = VAEConfig.from_dict({"vocab_size": 10, "max_len": 8, "head_hidden": 64})
    assert cfg.head_layers == 1
    assert len(VAE(cfg).heads[0]) == 3  # Linear, GELU, Linear


def test_refit_reads_several_files(tiny_model_path: Path, small_csv: Path, data_dir: Path,
                                   tmp_path: Path) -> None:
    """Labels of several files are pooled (each prepared on its own), and each file's hash is
    recorded."""
    _, one = refit_heads(tiny_model_path, small_csv, out=tmp_path / "a.safetensors",
                         config=QUICK, cache_dir=tmp_path)
    _, two = refit_heads(tiny_model_path, [small_csv, data_dir / "mixed.csv"],
                         out=tmp_path / "b.safetensors", config=QUICK, cache_dir=tmp_path)
    assert two["molecules"] == one["molecules"] + 4  # mixed.csv has four valid molecules
    assert len(two["data_hashes"]) == 2 and two["data_hashes"][0] == one["data_hashes"][0]

"""A training run as a caller sees it: the global torch RNG left alone, too little data and an
unusable --out as one clear error each."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from molvae.checkpoint import load_model
from molvae.model import VAEConfig
from molvae.train import initial_model, train


def test_train_leaves_the_global_torch_rng_as_it_was(
    small_csv: Path, tmp_path: Path, cache_dir: Path, tiny_cfg, tiny_arch
) -> None:
    def run(out: Path) -> Path:
        return train(small_csv, out, cfg=tiny_cfg(max_steps=2, recon_eval=0),
                     model_overrides=tiny_arch, cache_dir=cache_dir, progress=False)

    torch.manual_seed(1234)
    before = torch.random.get_rng_state()
    first = run(tmp_path / "a")
    assert torch.equal(torch.random.get_rng_state(), before)

    torch.manual_seed(99)  # another caller state: the same model all the same
    second = run(tmp_path / "b")
    a, b = load_model(first)[0].state_dict(), load_model(second)[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_initial_model_is_the_seeds_and_leaves_the_rng(tiny_arch) -> None:
    cfg = VAEConfig(vocab_size=10, max_len=8, **tiny_arch)
    state = torch.random.get_rng_state()
    a, b = initial_model(cfg, 3).state_dict(), initial_model(cfg, 3).state_dict()
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = initial_model(cfg, 4).state_dict()
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("rows", ["CCO\n", "CCO\nnot_a_smiles\n"])
def test_too_little_data_to_train_and_validate_is_a_clear_error(tmp_path, rows, tiny_cfg,
                                                               tiny_arch):
    from molvae.errors import DataError

    path = tmp_path / "one.csv"
    path.write_text("smiles\n" + rows)
    for _ in range(2):  # the cached second run gives the same answer
        with pytest.raises(DataError, match="1 valid molecule: training needs at least two"):
            train(path, tmp_path / "run", cfg=tiny_cfg(), model_overrides=tiny_arch,
                  cache_dir=tmp_path / "cache", progress=False)


def test_an_out_that_is_a_file_is_one_error_line(tmp_path, small_csv, tiny_cfg, tiny_arch):
    from molvae.errors import MolVAEError

    afile = tmp_path / "run.txt"
    afile.write_text("keep")
    for out, message in ((afile, "is a file"), (afile / "sub", "cannot create")):
        with pytest.raises(MolVAEError, match=message):
            train(small_csv, out, cfg=tiny_cfg(), model_overrides=tiny_arch, progress=False)
    assert afile.read_text() == "keep"

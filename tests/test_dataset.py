"""molvae.dataset and ``molvae prepare``: a prepared data set trains the same model as its SMILES
file, where neither RDKit nor selfies is installed; a damaged or foreign file is one clear error."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from molvae.checkpoint import load_checkpoint, load_model
from molvae.cli import main
from molvae.data import prepare
from molvae.dataset import TokenDataset, prepare_token_dataset
from molvae.errors import DataError
from molvae.tokens import build_vocabulary, encode
from molvae.train import train


@pytest.fixture(scope="module")
def prepared_npz(tmp_path_factory: pytest.TempPathFactory, small_csv: Path,
                 cache_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("prepared") / "small.npz"
    assert main(["-q", "prepare", str(small_csv), "--out", str(out), "--workers", "1",
                 "--cache-dir", str(cache_dir), "--property-fraction", "0.5"]) == 0
    return out


def test_a_saved_data_set_loads_as_it_was(prepared_npz: Path, small_csv: Path,
                                          cache_dir: Path) -> None:
    made = prepare_token_dataset(small_csv, workers=1, cache_dir=cache_dir, property_fraction=0.5)
    back = TokenDataset.load(prepared_npz)
    assert np.array_equal(back.tokens, made.tokens) and back.tokens.dtype == np.uint8
    assert np.array_equal(back.props, made.props, equal_nan=True)
    assert np.isnan(back.props).any() and np.isfinite(back.props).any()  # half labelled
    assert back.vocab == made.vocab and back.vocab.constraints == made.vocab.constraints
    assert np.array_equal(back.known.keys, made.known.keys) and len(back.known) == 200
    assert (back.name, back.data_hash, back.report, back.property_fraction) == (
        "small.csv", made.data_hash, made.report, 0.5)


def test_training_on_the_prepared_file_is_training_on_the_smiles_file(
    prepared_npz: Path, small_csv: Path, cache_dir: Path, tmp_path: Path, tiny_cfg, tiny_arch
) -> None:
    common = {"cache_dir": cache_dir, "model_overrides": tiny_arch, "progress": False}
    cfg = tiny_cfg(epochs=2, max_steps=9, property_fraction=0.5)
    from_smiles = train(small_csv, tmp_path / "smiles", cfg=cfg, **common)
    from_npz = train(prepared_npz, tmp_path / "npz", cfg=cfg, **common)

    a, meta_a = load_model(from_smiles)
    b, meta_b = load_model(from_npz)
    for key, value in a.state_dict().items():
        torch.testing.assert_close(b.state_dict()[key], value, rtol=0, atol=0, msg=key)
    for key in ("data", "data_hash", "train_size", "val_size", "data_report"):
        assert meta_b.info[key] == meta_a.info[key], key
    assert meta_b.vocab == meta_a.vocab
    assert np.array_equal(meta_b.training_set.keys, meta_a.training_set.keys)


def test_a_prepared_file_resumes_a_run_started_on_it(
    prepared_npz: Path, tmp_path: Path, tiny_cfg, tiny_arch, cache_dir: Path
) -> None:
    common = {"cache_dir": cache_dir, "model_overrides": tiny_arch, "progress": False}
    full, split = tmp_path / "full", tmp_path / "split"
    train(prepared_npz, full, cfg=tiny_cfg(epochs=2, max_steps=8), **common)
    train(prepared_npz, split, cfg=tiny_cfg(epochs=2, max_steps=3), **common)
    train(prepared_npz, split, cfg=tiny_cfg(epochs=2, max_steps=8), resume=True, **common)
    a, b = load_checkpoint(full / "last.pt")["model"], load_checkpoint(split / "last.pt")["model"]
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=0, atol=1e-6, msg=key)


def test_under_another_alphabet_is_encoding_under_it(
    prepared_npz: Path, small_csv: Path, cache_dir: Path
) -> None:
    """A model's alphabet (``--init``) may lack symbols of the data or allow fewer of them: the
    molecules it cannot write are left out and counted, as encoding the SELFIES would."""
    data = TokenDataset.load(prepared_npz)
    prepared = prepare(small_csv, workers=1, cache_dir=cache_dir, property_fraction=0.5)
    symbols = [s for s in data.vocab.symbols[3:] if s != "[F]"]
    for vocab in (build_vocabulary(["".join(symbols)], max_len=48),
                  build_vocabulary(["".join(data.vocab.symbols[3:])], max_len=32)):
        expected = encode(prepared, vocab)
        got = data.under(vocab)
        assert 0 < expected.skipped < len(data)
        assert got.skipped == expected.skipped and got.vocab == vocab
        assert np.array_equal(got.tokens, expected.tokens)
        assert np.array_equal(got.props, expected.props, equal_nan=True)
        assert np.array_equal(got.known.keys, data.known.keys)  # novelty still knows them all


def test_training_on_a_prepared_file_needs_neither_rdkit_nor_selfies(
    prepared_npz: Path, tmp_path: Path
) -> None:
    """What a GPU machine with torch alone runs: ``molvae train data.npz``."""
    out = tmp_path / "run"
    code = (
        "import sys\n"
        "for name in ('rdkit', 'selfies'): sys.modules[name] = None  # import fails\n"
        "from molvae.cli import main\n"
        f"code = main(['-q', 'train', {str(prepared_npz)!r}, '--out', {str(out)!r},"
        " '--max-steps', '3', '--batch-size', '32', '--latent-dim', '8',"
        " '--decoder-hidden', '32', '--device', 'cpu', '--precision', 'fp32', '--no-progress'])\n"
        "assert not any(m.split('.')[0] in ('rdkit', 'selfies') and sys.modules[m] is not None"
        " for m in sys.modules), 'imported'\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert load_model(out / "model.safetensors")[1].info["step"] == 3
    # labelled as prepared (half), whatever --property-fraction said, and the run says so
    assert json.loads((out / "config.json").read_text())["train"]["property_fraction"] == 0.5


@pytest.mark.parametrize("damage", ["missing", "garbage", "foreign", "truncated", "ids"])
def test_a_damaged_or_foreign_file_is_one_error_naming_it(
    prepared_npz: Path, tmp_path: Path, damage: str
) -> None:
    path = tmp_path / "bad.npz"
    if damage == "garbage":
        path.write_bytes(b"not a zip file")
    elif damage == "foreign":
        np.savez(path, tokens=np.zeros((2, 4), dtype=np.uint8))
    elif damage == "truncated":
        path.write_bytes(prepared_npz.read_bytes()[:1000])
    elif damage == "ids":  # ids beyond the alphabet: not written by molvae prepare
        data = TokenDataset.load(prepared_npz)
        tokens = data.tokens.copy()
        tokens[0, 0] = 250
        with zipfile.ZipFile(prepared_npz) as z, zipfile.ZipFile(path, "w") as w:
            for item in z.namelist():
                if item != "tokens.npy":
                    w.writestr(item, z.read(item))
        with zipfile.ZipFile(path, "a") as w, w.open("tokens.npy", "w") as fh:
            np.lib.format.write_array(fh, tokens)
    with pytest.raises(DataError, match="bad.npz"):
        TokenDataset.load(path)


def test_prepare_refuses_an_out_it_would_not_read_back(
    small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prepare", str(small_csv), "--out", str(tmp_path / "data.csv")]) == 1
    assert ".npz" in capsys.readouterr().err
    assert not (tmp_path / "data.csv").exists()

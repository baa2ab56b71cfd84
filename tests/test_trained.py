"""molvae.trained: the loaded-model API (encode, decode, sample) on the session's tiny model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import molvae
from molvae.chem import canonical_smiles
from molvae.errors import CheckpointError, MolVAEError
from molvae.trained import TrainedModel, default_model_path, load_model


def _is_canonical(smiles: str | None) -> bool:
    return smiles is not None and canonical_smiles(smiles) == smiles


def test_load_model_from_path(tiny_model_path: Path) -> None:
    model = load_model(tiny_model_path)
    assert isinstance(model, TrainedModel)
    assert model.path == tiny_model_path
    assert model.latent_dim == 8
    assert model.vocab.symbols[:3] == ("<pad>", "<bos>", "<eos>")
    assert not model.network.training


def test_load_model_missing_path(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError) as err:
        load_model(tmp_path / "nope.safetensors")
    assert "nope.safetensors" in str(err.value)


def test_encode_reports_errors_and_keeps_the_rest(
    tiny_model: TrainedModel, small_smiles: list[str]
) -> None:
    too_long = "C" * tiny_model.vocab.max_len
    inputs = [small_smiles[0], "not a molecule", small_smiles[1], "C[Si](C)(C)C", too_long, ""]
    result = tiny_model.encode_latents(inputs)
    assert result.ok.tolist() == [True, False, True, False, False, False]
    assert result.z.shape == (2, 8) and result.z.dtype == np.float32
    assert set(result.errors) == {1, 3, 4, 5}
    assert "not a molecule" in result.errors[1] and "invalid SMILES" in result.errors[1]
    assert "[Si]" in result.errors[3]
    assert "at most" in result.errors[4]
    # the kept rows are exactly what encoding them alone gives
    alone = tiny_model.encode_latents([small_smiles[0], small_smiles[1]])
    np.testing.assert_allclose(result.z, alone.z, rtol=1e-5, atol=1e-6)
    assert alone.errors == {}


def test_encode_nothing_encodable(tiny_model: TrainedModel) -> None:
    result = tiny_model.encode_latents(["not a molecule"])
    assert result.z.shape == (0, 8) and result.ok.tolist() == [False]
    assert tiny_model.encode_latents([]).z.shape == (0, 8)


def test_stochastic_encode_is_seeded(tiny_model: TrainedModel, small_smiles: list[str]) -> None:
    a = tiny_model.encode_latents(small_smiles[:4], stochastic=True, seed=1).z
    b = tiny_model.encode_latents(small_smiles[:4], stochastic=True, seed=1).z
    mean = tiny_model.encode_latents(small_smiles[:4]).z
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, mean)


def test_decode_gives_canonical_valid_smiles(
    tiny_model: TrainedModel, small_smiles: list[str]
) -> None:
    z = tiny_model.encode_latents(small_smiles[:8]).z
    decoded = tiny_model.decode_latents(z)
    assert len(decoded) == 8
    assert all(_is_canonical(smi) for _, smi in decoded)
    assert decoded == tiny_model.decode_latents(z)  # greedy decoding is deterministic
    z_rand = np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32)
    for selfies, smi in tiny_model.decode_latents(z_rand, temperature=1.0, seed=0):
        assert smi is None or _is_canonical(smi)
        assert isinstance(selfies, str)
    assert tiny_model.decode_latents(np.zeros((0, 8), np.float32)) == []


def test_decode_in_small_batches_matches(tiny_model: TrainedModel) -> None:
    z = np.random.default_rng(1).standard_normal((10, 8)).astype(np.float32)
    assert tiny_model.decode_latents(z, batch_size=3) == tiny_model.decode_latents(z)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_sample_exactly_n_valid_and_reproducible(
    tiny_model: TrainedModel, temperature: float
) -> None:
    a = tiny_model.sample_smiles(12, seed=0, temperature=temperature, round_trip=False)
    assert len(a) == 12
    assert all(_is_canonical(s) for s in a)
    assert tiny_model.sample_smiles(12, seed=0, temperature=temperature, round_trip=False) == a


def test_sample_different_seeds_differ(tiny_model: TrainedModel) -> None:
    assert tiny_model.sample_smiles(12, seed=0, temperature=1.0, round_trip=False) != (
        tiny_model.sample_smiles(12, seed=1, temperature=1.0, round_trip=False))


@pytest.mark.parametrize("n", [0, -3])
def test_sample_non_positive_n_raises(tiny_model: TrainedModel, n: int) -> None:
    with pytest.raises(MolVAEError, match="positive"):
        tiny_model.sample_smiles(n, seed=0)


def test_predict_properties_shape(tiny_model: TrainedModel, small_smiles: list[str]) -> None:
    pred = tiny_model.predict_properties(tiny_model.encode_latents(small_smiles[:5]).z)
    assert pred.shape == (5, 3) and np.isfinite(pred).all()


# --- the model shipped with molvae ----------------------------------------------------------------
def test_shipped_model_loads_and_decodes() -> None:
    path = default_model_path()
    assert path.is_file()
    model = molvae.load_model()
    assert model.path == path
    z = np.random.default_rng(0).standard_normal((4, model.latent_dim)).astype(np.float32)
    decoded = model.decode_latents(z)
    assert len(decoded) == 4
    assert any(smi is not None for _, smi in decoded)
    assert all(smi is None or _is_canonical(smi) for _, smi in decoded)
    assert all(_is_canonical(s) for s in model.sample_smiles(3, seed=0))


def test_shipped_model_quality_floor(small_smiles: list[str]) -> None:
    """The shipped model decodes every prior sample to a valid molecule and reconstructs most
    drug-like molecules exactly (its card reports the full measurement on MOSES test)."""
    model = molvae.load_model()
    z = np.random.default_rng(0).standard_normal((64, model.latent_dim)).astype(np.float32)
    assert all(smi is not None for _, smi in model.decode_latents(z))
    targets = [canonical_smiles(s) for s in small_smiles[:40]]
    enc = model.encode_latents(targets)
    assert enc.ok.all()
    decoded = [smi for _, smi in model.decode_latents(enc.z)]
    exact = sum(a == b for a, b in zip(targets, decoded, strict=True))
    assert exact >= 0.7 * len(targets), f"reconstructed {exact} of {len(targets)}"


@pytest.mark.parametrize("value", [float("inf"), -float("inf"), float("nan")])
def test_non_finite_numbers_are_refused_like_nan(tiny_model, value):
    """A latent of inf would decode to a 'valid' molecule, a temperature of inf breaks torch,
    an infinite radius gives methane: each is refused, naming what is wrong."""
    from molvae.errors import MolVAEError
    from molvae.explore import analogs

    z = np.zeros((3, tiny_model.latent_dim), dtype=np.float32)
    z[1, 0] = value
    with pytest.raises(MolVAEError, match="latent row 1 is not finite"):
        tiny_model.decode_latents(z)
    with pytest.raises(MolVAEError, match="temperature must be a finite number"):
        tiny_model.sample(4, temperature=value, seed=0)
    with pytest.raises(MolVAEError, match="radius must be a positive finite number"):
        analogs(tiny_model, "CCO", n=2, radius=value)

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


def test_iter_samples_streams_batches(tiny_model: TrainedModel) -> None:
    batches = list(tiny_model.iter_samples(10, seed=0, batch_size=4, workers=1,
                                           round_trip=False))
    assert sum(len(b) for b in batches) == 10 and len(batches) >= 3
    assert all(smi is not None for b in batches for _, smi in b)


def test_iter_samples_gives_up_after_max_attempts(tiny_model: TrainedModel) -> None:
    with pytest.raises(MolVAEError, match="valid molecules after decoding"):
        list(tiny_model.iter_samples(50, seed=0, batch_size=8, max_attempts=8, workers=1,
                                     round_trip=False))


def test_the_tally_counts_every_latent_decoded(tiny_model: TrainedModel,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A tally says what samples cost: without redraws the latents asked for, with them every
    redraw too; and it is true even when the sampler gives up."""
    from molvae.trained import SampleTally

    model = molvae.load_model()
    plain = SampleTally()
    got = list(model.iter_samples(10, seed=0, workers=1, round_trip=False, max_ring=None,
                                  max_attempts=10, tally=plain))
    assert sum(map(len, got)) == plain.kept == 10 and plain.drawn == 10
    assert plain.redrawn == plain.left_out == 0 and plain.latents_per_sample == 1.0
    full = SampleTally()
    list(model.iter_samples(30, seed=0, workers=1, tally=full))
    assert full.kept == 30 and full.rejected["round trip"] > 0 and full.redrawn > 0
    assert full.drawn >= full.kept + full.redrawn + full.left_out
    monkeypatch.setattr(TrainedModel, "_reads_back",
                        lambda self, back: np.zeros(len(back), dtype=bool))
    none = SampleTally()
    with pytest.raises(MolVAEError):
        list(tiny_model.iter_samples(5, seed=0, max_attempts=200, workers=1, tally=none))
    assert none.drawn == 200 and none.kept == 0 and none.rejected["round trip"] > 0


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


def test_samples_with_large_rings_are_drawn_again() -> None:
    """The shipped decoder writes a ring of more than 7 atoms in about one sample in five;
    each such sample is drawn again from its own component, so n molecules still come back,
    none with such a ring, and every other sample of the stream is kept where it was."""
    from molvae.chem import largest_ring

    model = molvae.load_model()
    raw = model.sample_smiles(200, seed=0, max_ring=None, round_trip=False)
    kept = model.sample_smiles(200, seed=0, round_trip=False)
    large = [s for s in raw if largest_ring(s) > 7]
    assert len(large) >= 10
    assert len(kept) == 200 and max(largest_ring(s) for s in kept) <= 7
    assert {s for s in raw if largest_ring(s) <= 7} <= set(kept)
    # no ring limit: as before; 0 is no limit, as in the CLI
    assert model.sample_smiles(200, seed=0, max_ring=None, round_trip=False) == raw
    assert model.sample_smiles(200, seed=0, max_ring=0, round_trip=False) == raw
    six = model.sample_smiles(50, seed=1, max_ring=6, round_trip=False)
    assert max(largest_ring(s) for s in six) <= 6


def _read_back(model: TrainedModel, smiles: list[str]) -> list[bool]:
    """Whether the greedy decode of each molecule's posterior mean is the molecule."""
    enc = model.encode_latents(smiles)  # rows of the molecules the alphabet can write
    decoded = iter(s for _, s in model.decode_latents(enc.z))
    return [bool(ok) and next(decoded) == smi for smi, ok in zip(smiles, enc.ok, strict=True)]


def test_every_sample_reads_back_and_keeps_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default a sample is a molecule the model reads back (decode(encode(x)) == x, the
    ``reconstructs`` of the commands that encode); one it does not is drawn again from its own
    component and its redraw takes its place (or, after the redraws, it is left out), so the
    samples that read back anyway keep their order. The decoder's own samples read back about
    one time in three."""
    from molvae import trained
    from molvae.chem import largest_ring

    monkeypatch.setattr(trained, "REDRAWS", 20)  # few left out
    model = molvae.load_model()
    raw = model.sample_smiles(60, seed=0, round_trip=False, max_ring=None)  # the first draws
    kept = model.sample_smiles(60, seed=0)
    assert len(kept) == 60 and all(_read_back(model, kept))
    assert max(largest_ring(s) for s in kept) <= 7
    back = _read_back(model, raw)
    assert 0 < sum(back) < len(raw)
    stayed = [raw[i] for i, ok in enumerate(back) if ok and largest_ring(raw[i]) <= 7]
    assert [smi for smi in kept if smi in stayed][:len(stayed)] == stayed
    assert model.sample_smiles(60, seed=0) == kept  # reproducible
    assert model.sample_smiles(60, seed=0, workers=2) == kept  # the workers read back alike


def test_a_model_that_reads_back_nothing_says_what_to_do(
        tiny_model: TrainedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that reads none of its samples back (one trained too briefly) runs out of
    attempts; the error counts the rejections and names the way out."""
    monkeypatch.setattr(TrainedModel, "_reads_back",
                        lambda self, back: np.zeros(len(back), dtype=bool))
    with pytest.raises(MolVAEError, match=r"after decoding 200 latents .*\d+ not read back\); "
                                          r"the model reads back few .*--no-round-trip"):
        list(tiny_model.iter_samples(5, seed=0, max_attempts=200, workers=1))


def test_a_sample_drawn_again_takes_the_place_of_the_one_it_replaces(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Samples come out in the order of the stream's latents, each large-ring one replaced where
    it stood by its redraw: the first k samples are the stream's first k latents (their
    components spread), however long the stream."""
    from molvae import trained
    from molvae.chem import largest_ring

    monkeypatch.setattr(trained, "REDRAWS", 200)  # none left out: positions line up
    model = molvae.load_model()
    raw = model.sample_smiles(150, seed=0, max_ring=None, round_trip=False)
    kept = model.sample_smiles(150, seed=0, round_trip=False)
    small = [i for i, s in enumerate(raw) if largest_ring(s) <= 7]
    assert len(small) < len(raw)
    assert [kept[i] for i in small] == [raw[i] for i in small]
    assert max(largest_ring(s) for s in kept) <= 7


def test_drawing_again_takes_no_more_fresh_latents_than_the_samples_need(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """n samples take the first n (+ those left out) latents of the stream, however many are
    drawn again: the stream's next latents come from components already used, and repeated
    components repeat molecules (unique@10k)."""
    import logging
    import re

    from molvae import trained

    taken: list[int] = []
    take = trained._Draws.take
    monkeypatch.setattr(trained._Draws, "take",
                        lambda self, k: (taken.append(k), take(self, k))[1])
    model = molvae.load_model()
    with caplog.at_level(logging.INFO, logger="molvae.trained"):
        kept = model.sample_smiles(300, seed=0, workers=1, round_trip=False)
    assert len(kept) == 300
    redrawn, left_out = map(int, re.search(r"drew (\d+) samples again.*; (\d+) left out",
                                           caplog.text).groups())
    assert redrawn >= 20
    # at most one latent more for each batch asked for while every draw was still open
    assert 300 + left_out <= sum(taken) <= 300 + left_out + 8


def test_running_out_of_attempts_says_how_many_rings_were_left_out() -> None:
    model = molvae.load_model()
    with pytest.raises(MolVAEError, match=r"after decoding \d+ latents \(limit 100; \d+ left "
                                          r"out after \d+ draws, rejected: \d+ a ring of more "
                                          r"than 4 atoms or no molecule\)"):
        list(model.iter_samples(100, seed=0, batch_size=50, max_attempts=100, workers=1,
                                max_ring=4, round_trip=False))


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

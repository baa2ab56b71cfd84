"""molvae.sampler: n valid samples, rejected ones drawn again in their place, and what they
cost (through ``TrainedModel.iter_samples`` and ``sample_smiles``, as users call it)."""

from __future__ import annotations

import numpy as np
import pytest

import molvae
from molvae.errors import MolVAEError
from molvae.trained import TrainedModel


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
    from molvae.sampler import SampleTally

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
    from molvae import sampler
    from molvae.chem import largest_ring

    monkeypatch.setattr(sampler, "REDRAWS", 20)  # few left out
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
    from molvae import sampler
    from molvae.chem import largest_ring

    monkeypatch.setattr(sampler, "REDRAWS", 200)  # none left out: positions line up
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

    from molvae import sampler

    taken: list[int] = []
    take = sampler._Draws.take
    monkeypatch.setattr(sampler._Draws, "take",
                        lambda self, k: (taken.append(k), take(self, k))[1])
    model = molvae.load_model()
    with caplog.at_level(logging.INFO, logger="molvae.sampler"):
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

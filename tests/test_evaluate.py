"""molvae.evaluate: metric definitions on known inputs, and a tiny end-to-end evaluation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from rdkit import DataStructs
from rdkit.Chem import rdFingerprintGenerator

from molvae.chem import to_mol
from molvae.evaluate import Metrics, evaluate, internal_diversity, r_squared
from molvae.trained import TrainedModel


def test_r_squared_known_values() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert r_squared(y, y) == 1.0
    assert r_squared(y, np.full(4, y.mean())) == 0.0
    assert r_squared(y, y + 1.0) == pytest.approx(1 - 4 / 5)
    assert r_squared(y, -y) < 0


def test_r_squared_ignores_non_finite_pairs() -> None:
    y = np.array([1.0, 2.0, np.nan, 3.0, 10.0])
    pred = np.array([1.0, 2.0, 5.0, 3.0, np.inf])
    assert r_squared(y, pred) == 1.0


def test_r_squared_constant_truth_is_nan() -> None:
    assert math.isnan(r_squared(np.ones(3), np.array([1.0, 2.0, 3.0])))


def test_internal_diversity_known_values() -> None:
    assert internal_diversity(["CCO", "CCO", "OCC"]) == pytest.approx(0.0)
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    a, b = (gen.GetFingerprint(to_mol(s)) for s in ("c1ccccc1", "CCN"))
    sim = DataStructs.TanimotoSimilarity(a, b)
    assert internal_diversity(["c1ccccc1", "CCN"]) == pytest.approx(1 - (2 + 2 * sim) / 4)
    assert 0.0 < internal_diversity(["c1ccccc1", "CCN"]) <= 0.5


def test_internal_diversity_skips_invalid_and_empty() -> None:
    assert internal_diversity(["CCO", "not a molecule"]) == pytest.approx(0.0)
    assert math.isnan(internal_diversity([]))
    assert internal_diversity(["CCO", "c1ccccc1", "CCN"], max_molecules=1) == 0.0


def test_evaluate_tiny_model(
    tiny_model: TrainedModel, small_csv: Path, data_dir: Path, tmp_path: Path
) -> None:
    metrics = evaluate(
        tiny_model,
        data_dir / "mixed.csv",
        train_file=small_csv,
        n_reconstruct=10,
        n_samples=10,
        n_properties=20,
        seed=0,
        workers=1,
        cache_dir=tmp_path,
    )
    assert isinstance(metrics, Metrics)
    assert metrics.n_reconstruct == 4  # mixed.csv has four valid molecules
    assert 0.0 <= metrics.reconstruction <= metrics.reconstruction_refined <= 1.0
    assert 0 <= metrics.unencodable <= metrics.n_reconstruct
    assert metrics.n_samples == 10
    assert 0.0 <= metrics.validity <= 1.0
    assert 0.0 < metrics.unique <= 1.0
    assert metrics.novelty is not None and 0.0 <= metrics.novelty <= 1.0
    assert math.isnan(metrics.int_div1) or 0.0 <= metrics.int_div1 <= 1.0
    assert set(metrics.r2) == {"qed", "logp", "sa"}
    assert all(math.isnan(v) or v <= 1.0 for v in metrics.r2.values())
    assert metrics.samples_per_s > 0 and metrics.seed == 0
    as_json = json.loads(json.dumps(metrics.to_dict()))
    assert as_json["test_file"] == str(data_dir / "mixed.csv")
    table = metrics.table()
    assert "validity (10 samples, rings of at most 7 atoms and read back)" in table
    assert "R^2 qed head" in table and "latents decoded per sample asked" in table
    assert metrics.round_trip and metrics.max_ring == 7 and metrics.latents_drawn >= 10


def test_evaluate_the_decoders_own_samples_decodes_n_latents_once(
    tiny_model: TrainedModel, small_csv: Path, tmp_path: Path
) -> None:
    """Without the round trip and the ring limit, validity is MOSES's: the valid molecules
    among n latents, each decoded once."""
    metrics = evaluate(tiny_model, small_csv, n_reconstruct=4, n_samples=12, n_properties=4,
                       seed=0, workers=1, cache_dir=tmp_path, round_trip=False, max_ring=None)
    assert metrics.latents_drawn == 12 and not metrics.round_trip and metrics.max_ring is None
    assert "the decoder's own" in metrics.table()


def test_evaluate_reproducible_and_without_train(
    tiny_model: TrainedModel, small_csv: Path, tmp_path: Path
) -> None:
    kwargs = {
        "n_reconstruct": 8,
        "n_samples": 8,
        "n_properties": 8,
        "seed": 1,
        "workers": 1,
        "cache_dir": tmp_path,
    }
    a = evaluate(tiny_model, small_csv, **kwargs).to_dict()
    b = evaluate(tiny_model, small_csv, **kwargs).to_dict()
    for d in (a, b):
        d.pop("samples_per_s")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)  # NaN-safe equality
    # no --train: novelty against the training set the model file carries (small.csv's)
    assert a["novelty_reference"] == "the model file's training set"
    given = evaluate(tiny_model, small_csv, train_file=small_csv, **kwargs)
    assert given.novelty == a["novelty"] and given.novelty_reference == str(small_csv)
    unknown = Metrics(**{**a, "samples_per_s": 1.0, "novelty": None, "novelty_reference": None})
    assert "n/a (no --train" in unknown.table()


def test_evaluate_measures_the_samples_molvae_sample_writes() -> None:
    """What ``molvae evaluate`` measures is what ``molvae sample`` gives, molecule for
    molecule: the same sampler, seed and rules."""
    import molvae
    from molvae.evaluate import draw_samples

    model = molvae.load_model()
    valid, tally, _ = draw_samples(model, 20, seed=3, workers=1, round_trip=True, max_ring=7)
    assert valid == model.sample_smiles(20, seed=3, workers=1)
    assert tally.kept == 20 and tally.drawn > 20 and tally.latents_per_sample > 1


def test_reconstruction_from_means_and_refined_latents_on_the_shipped_model(data_dir, tmp_path):
    """The mean's reconstruction is the card's metric; refinement can only add molecules given
    back, and with --no-refine only the mean's is reported."""
    import molvae

    model = molvae.load_model()
    kwargs = dict(n_reconstruct=40, n_samples=10, n_properties=10, seed=0, workers=1,
                  cache_dir=tmp_path)
    on = evaluate(model, data_dir / "small.csv", **kwargs)
    model.refine = False
    off = evaluate(model, data_dir / "small.csv", **kwargs)
    assert off.reconstruction_refined is None and "--no-refine" in off.table()
    assert on.reconstruction == off.reconstruction
    assert on.reconstruction_refined >= on.reconstruction

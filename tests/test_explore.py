from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from molvae import explore
from molvae.errors import MolVAEError
from molvae.explore import (
    analogs,
    analogy,
    encode_one,
    fitted_direction,
    interpolate,
    sample,
    slerp,
    walk,
)
from molvae.trained import TrainedModel

UNENCODABLE = "C[Si](C)(C)C"  # silicon is not in the tiny model's alphabet


def test_slerp_ends_and_norm() -> None:
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = slerp(a, b, np.linspace(0, 1, 5))
    assert np.allclose(path[0], a) and np.allclose(path[-1], b)
    assert np.allclose(np.linalg.norm(path, axis=1), 1.0)  # stays on the sphere
    assert np.allclose(slerp(a, a, np.array([0.5]))[0], a)  # parallel ends: no division by 0


def test_analogs_are_distinct_sorted_and_exclude_the_lead(tiny_model: TrainedModel,
                                                           small_smiles: list[str]) -> None:
    lead = small_smiles[0]
    table = analogs(tiny_model, lead, 5, radius=2.0, seed=0)
    assert 0 < len(table) <= 5
    assert table["smiles"].is_unique and lead not in set(table["smiles"])
    assert (table["state"] == "valid").all()
    assert table["similarity"].is_monotonic_decreasing
    assert table.equals(analogs(tiny_model, lead, 5, radius=2.0, seed=0))  # reproducible


@pytest.mark.parametrize(("lead", "message"), [
    ("not a molecule", "not a valid SMILES"),
    (UNENCODABLE, "Si"),
])
def test_analogs_bad_lead_is_named(tiny_model: TrainedModel, lead: str, message: str) -> None:
    with pytest.raises(MolVAEError, match=message):
        analogs(tiny_model, lead, 3)


@pytest.mark.parametrize(("n", "radius"), [(0, 1.0), (-2, 1.0), (3, 0.0)])
def test_analogs_bad_arguments(tiny_model: TrainedModel, small_smiles: list[str], n: int,
                               radius: float) -> None:
    with pytest.raises(MolVAEError, match="positive"):
        analogs(tiny_model, small_smiles[0], n, radius=radius)


def test_interpolate_lists_each_molecule_once_in_order(tiny_model: TrainedModel,
                                                       small_smiles: list[str]) -> None:
    table = interpolate(tiny_model, small_smiles[0], small_smiles[1], steps=8)
    valid = table[table["state"] == "valid"]
    assert valid["smiles"].is_unique
    assert table["step"].is_monotonic_increasing and table["step"].iloc[0] == 0
    assert table["t"].between(0, 1).all()
    assert {"similarity_a", "similarity_b"} <= set(table.columns)
    linear = interpolate(tiny_model, small_smiles[0], small_smiles[1], steps=8, method="linear")
    assert linear["step"].iloc[0] == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"steps": 1}, "at least 2"),
    ({"method": "bezier"}, "slerp or linear"),
])
def test_interpolate_bad_arguments(tiny_model: TrainedModel, small_smiles: list[str],
                                   kwargs: dict, message: str) -> None:
    with pytest.raises(MolVAEError, match=message):
        interpolate(tiny_model, small_smiles[0], small_smiles[1], **kwargs)


def test_interpolate_unencodable_end_is_named(tiny_model: TrainedModel,
                                              small_smiles: list[str]) -> None:
    with pytest.raises(MolVAEError, match="Si"):
        interpolate(tiny_model, small_smiles[0], UNENCODABLE)


def test_analogy_first_row_is_the_arithmetic_result(tiny_model: TrainedModel,
                                                    small_smiles: list[str]) -> None:
    table = analogy(tiny_model, *small_smiles[:3], n=4, radius=1.0)
    assert table["source"].iloc[0] == "analogy"
    assert set(table["source"].iloc[1:]) <= {"neighbour"}
    assert len(table) <= 5
    assert {"similarity_a", "similarity_b", "similarity_c"} <= set(table.columns)


def test_walk_along_a_head_raises_its_prediction(tiny_model: TrainedModel,
                                                 small_smiles: list[str]) -> None:
    table = walk(tiny_model, small_smiles[0], "logp", steps=5, step_size=0.5)
    assert table["step"].tolist() == [0, 1, 2, 3, 4, 5]
    assert table["pred_logp"].is_monotonic_increasing
    down = walk(tiny_model, small_smiles[0], "logp", steps=5, step_size=0.5, decrease=True)
    assert down["pred_logp"].is_monotonic_decreasing
    assert table["similarity"].iloc[0] == 1.0


def test_walk_fitted_direction_takes_any_numeric_property(tiny_model: TrainedModel,
                                                          small_smiles: list[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A fitted walk (any numeric property, here molecular weight) moves along one straight
    line in whitened units, ``step_size`` per step; the decreasing walk goes the other way and
    ends at lighter molecules than the increasing one."""
    fitted: list[np.ndarray] = []

    def fit_on_fewer_samples(model, prop: str, *, seed: int = 0) -> np.ndarray:  # noqa: ANN001
        fitted.append(fitted_direction(model, prop, n=500, seed=seed))  # 2000 by default: slow
        return fitted[-1]

    monkeypatch.setattr(explore, "fitted_direction", fit_on_fewer_samples)
    lead, step_size, steps = small_smiles[0], 0.5, 8
    up = walk(tiny_model, lead, "mw", steps=steps, step_size=step_size, direction="fitted")
    down = walk(tiny_model, lead, "mw", steps=steps, step_size=step_size, direction="fitted",
                decrease=True)
    assert not [c for c in up.columns if c.startswith("pred_")]  # no head predicts mw
    for table in (up, down):
        assert table["step"].tolist() == list(range(steps + 1))
        assert np.allclose(table["distance"], step_size * np.arange(steps + 1))
        assert table["similarity"].iloc[0] == 1.0 and table["state"].iloc[0] == "valid"
        # every molecule once: later rows with an earlier molecule are duplicates of it
        valid = table[table["state"] == "valid"]
        assert valid["smiles"].is_unique
        assert set(table["state"]) <= {"valid", "duplicate"}
        dup = table[table["state"] == "duplicate"]
        assert dup["smiles"].isin(set(valid["smiles"])).all()
    # the same rows as decoding the straight line by hand: start + k * step_size * u
    net = tiny_model.network
    mean, std = net.latent_mean.cpu().numpy(), net.latent_std.cpu().numpy()
    assert len(fitted) == 2 and np.array_equal(fitted[0], fitted[1])  # seeded: the same line
    u = fitted[0]
    assert np.linalg.norm(u) == pytest.approx(1.0)
    w0 = (encode_one(tiny_model, lead) - mean) / std
    for table, sign in ((up, 1.0), (down, -1.0)):
        ks = np.arange(steps + 1)[:, None]
        z = ((w0 + sign * step_size * ks * u) * std + mean).astype(np.float32)
        by_hand = [smi for _, smi in tiny_model.decode_latents(z)]
        assert table["smiles"].tolist() == by_hand
    # the fitted line raises the property: the walk down ends lighter than the walk up
    assert down["mw"].iloc[-1] < up["mw"].iloc[-1]
    assert down["mw"].iloc[-1] <= down["mw"].iloc[0] <= up["mw"].iloc[-1]


@pytest.mark.parametrize(("prop", "direction", "message"), [
    ("mw", "heads", "fitted"),
    ("colour", "fitted", "unknown property"),
    ("qed", "sideways", "heads or fitted"),
])
def test_walk_bad_arguments(tiny_model: TrainedModel, small_smiles: list[str], prop: str,
                            direction: str, message: str) -> None:
    with pytest.raises(MolVAEError, match=message):
        walk(tiny_model, small_smiles[0], prop, direction=direction)


def test_sample_marks_repeats_and_unique_removes_them(tiny_model: TrainedModel) -> None:
    plain = sample(tiny_model, 40, seed=0, workers=1, round_trip=False)
    assert len(plain) == 40 and set(plain["state"]) <= {"valid", "duplicate"}
    assert plain.loc[plain["state"] == "valid", "smiles"].is_unique
    distinct = sample(tiny_model, 20, seed=0, unique=True, temperature=1.0, workers=1,
                      round_trip=False)
    assert len(distinct) == 20 and distinct["smiles"].is_unique
    assert (distinct["state"] == "valid").all()


def test_sample_unique_gives_up_with_what_it_found(tiny_model: TrainedModel, caplog) -> None:
    """The attempts run out before 100,000 distinct molecules: the ones found are returned,
    and the warning counts them (not 0)."""
    with caplog.at_level("WARNING", logger="molvae.explore"):
        found = sample(tiny_model, 100_000, seed=0, unique=True, max_attempts=300, workers=1,
                       properties=False, round_trip=False)
    assert 0 < len(found) < 300 and found["smiles"].is_unique
    assert f"only {len(found)} distinct molecules of 100000 after 300 attempts" in caplog.text


def test_model_encode_decode_tables_keep_bad_rows(tiny_model: TrainedModel,
                                                  small_smiles: list[str]) -> None:
    inputs = [small_smiles[0], "not a molecule", UNENCODABLE, small_smiles[1]]
    enc = tiny_model.encode(inputs)
    assert enc["state"].tolist() == ["valid", "rejected", "rejected", "valid"]
    assert "invalid SMILES" in enc["reason"].iloc[1] and "Si" in enc["reason"].iloc[2]
    assert enc["input"].tolist() == inputs
    assert np.isnan(enc.loc[1, "z0"]) and not np.isnan(enc.loc[0, "z0"])
    dec = tiny_model.decode(enc)
    assert dec["state"].tolist()[1:3] == ["rejected", "rejected"]
    assert dec["reason"].iloc[1] == "no latent vector (missing or infinite values)"
    assert dec["row"].tolist() == [0, 1, 2, 3]


def test_model_decode_checks_the_latent_shape(tiny_model: TrainedModel) -> None:
    with pytest.raises(MolVAEError, match=r"shape \(N, 8\)"):
        tiny_model.decode(np.zeros((2, 5)))
    with pytest.raises(MolVAEError, match="z0"):
        tiny_model.decode(pd.DataFrame({"x": [1.0]}))


def test_analogs_stop_early_when_nothing_new_turns_up(tiny_model: TrainedModel, caplog) -> None:
    """A tiny radius decodes the lead's neighbourhood to the same few molecules: the search
    stops after a few barren batches and says so, instead of spending every attempt."""
    from molvae.explore import BARREN_BATCHES

    with caplog.at_level("WARNING", logger="molvae.explore"):
        table = analogs(tiny_model, "CCOc1ccccc1", n=2000, radius=1e-4, batch_size=64,
                        properties=False)
    assert len(table) < 2000
    assert table.attrs["latents_decoded"] <= 64 * (BARREN_BATCHES + 3)  # not 40,000 attempts
    assert "gave nothing new" in caplog.text and "stopped early" in caplog.text


def test_a_lead_given_as_a_salt_is_encoded_as_its_parent_and_said(tiny_model, small_smiles,
                                                                   caplog) -> None:
    from rdkit import Chem

    with caplog.at_level("WARNING"):
        table = tiny_model.analogs(small_smiles[0] + ".Cl", n=3, seed=0)
    assert "standardized before encoding: removed fragment Cl" in caplog.text
    assert table.attrs["lead"] == Chem.CanonSmiles(small_smiles[0])
    assert Chem.CanonSmiles(small_smiles[0]) not in set(table["smiles"])

from __future__ import annotations

import math

import numpy as np

from molvae.similarity import morgan_fingerprint, tanimoto_to


def test_identical_molecule_has_similarity_one() -> None:
    assert tanimoto_to("CCOc1ccccc1", ["c1ccccc1OCC"])[0] == 1.0


def test_unreadable_molecules_give_nan_not_errors() -> None:
    sims = tanimoto_to("CCO", ["CCO", "not a smiles", None])
    assert sims[0] == 1.0 and math.isnan(sims[1]) and math.isnan(sims[2])
    assert np.isnan(tanimoto_to("garbage", ["CCO"])).all()
    assert morgan_fingerprint(None) is None


def test_similarity_orders_by_structure() -> None:
    sims = tanimoto_to("c1ccccc1CCN", ["c1ccccc1CCO", "CCCCCCCC"])
    assert sims[0] > sims[1]

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from molvae.checkpoint import load_model
from molvae.chem import canonical_smiles
from molvae.errors import CheckpointError
from molvae.novelty import LOW, OFFSETS, TrainingSet, smiles_keys


def test_contains_only_the_training_molecules(small_smiles: list[str]) -> None:
    known = TrainingSet.from_smiles(small_smiles)
    assert known.contains(small_smiles).all()
    assert not known.contains(["CCCCCCCCCCCCCCCCCCCCO", "", None]).any()


def test_keys_are_48_bit_and_deterministic() -> None:
    keys = smiles_keys(["CCO", "CCO", "CCN"])
    assert keys[0] == keys[1] != keys[2]
    assert int(keys.max()) < 2**48


def test_tensor_round_trip_keeps_every_key(small_smiles: list[str]) -> None:
    known = TrainingSet.from_smiles(small_smiles)
    again = TrainingSet.from_tensors(known.to_tensors())
    assert np.array_equal(known.keys, again.keys)
    assert len(again) == len(set(small_smiles))


def test_empty_set_contains_nothing() -> None:
    assert not TrainingSet.from_smiles([]).contains(["CCO"]).any()


def test_inconsistent_tensors_are_refused(small_smiles: list[str]) -> None:
    tensors = TrainingSet.from_smiles(small_smiles).to_tensors()
    tensors[OFFSETS][-1] += 1
    with pytest.raises(ValueError, match="does not match"):
        TrainingSet.from_tensors(tensors)


def test_trained_model_knows_its_training_molecules(tiny_model_path: Path,
                                                    small_smiles: list[str]) -> None:
    _, meta = load_model(tiny_model_path)
    assert meta.training_set is not None
    canonical = [canonical_smiles(s) for s in small_smiles]
    assert meta.training_set.contains(canonical).all()
    assert not meta.training_set.contains(["CCCCCCCCCCCCCCCCCCCCO"]).any()


def test_damaged_training_set_in_a_model_file_is_refused(tiny_model_path: Path,
                                                         tmp_path: Path) -> None:
    tensors = load_file(tiny_model_path)
    tensors[LOW] = tensors[LOW][:-1]
    bad = tmp_path / "bad.safetensors"
    from safetensors import safe_open
    with safe_open(tiny_model_path, "pt") as fh:
        metadata = fh.metadata()
    save_file(tensors, bad, metadata=metadata)
    with pytest.raises(CheckpointError):
        load_model(bad)

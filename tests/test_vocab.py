"""molvae.vocab: the SELFIES alphabet, encoding to ids and back, with property-based round trips."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import selfies as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from molvae.chem import canonical_smiles
from molvae.errors import InvalidSmilesError, VocabularyError
from molvae.vocab import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    SPECIAL_TOKENS,
    Vocabulary,
    default_constraints,
    selfies_constraints,
    selfies_to_smiles,
    smiles_to_selfies,
)

DATA = Path(__file__).parent / "data"

# Seeded and small: the same examples every run, a fraction of a second each.
FAST = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _fixture_smiles() -> list[str]:
    with open(DATA / "small.csv", newline="") as fh:
        return [row[0] for row in list(csv.reader(fh))[1:]]


SMILES = _fixture_smiles()
SELFIES = [smiles_to_selfies(s) for s in SMILES]
VOCAB = Vocabulary.build((t for s in SELFIES for t in sf.split_selfies(s)), max_len=64)
ALPHABET = VOCAB.symbols[len(SPECIAL_TOKENS) :]

molecules = st.sampled_from(SMILES)
random_selfies = st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=VOCAB.max_len - 1).map(
    "".join
)


# --- property-based round trips -----------------------------------------------------------------
@FAST
@given(smiles=molecules)
def test_fixture_molecule_ids_round_trip(smiles: str) -> None:
    selfies = smiles_to_selfies(smiles)
    ids = VOCAB.encode_selfies(selfies)
    assert ids[-1] == EOS_ID and (ids[:-1] >= len(SPECIAL_TOKENS)).all()
    assert VOCAB.decode_ids(ids) == selfies
    assert VOCAB.decode_ids(VOCAB.pad([ids])[0]) == selfies


@FAST
@given(smiles=molecules)
def test_smiles_selfies_smiles_gives_canonical(smiles: str) -> None:
    assert selfies_to_smiles(smiles_to_selfies(smiles)) == canonical_smiles(smiles)


@FAST
@given(selfies=random_selfies)
def test_random_selfies_ids_round_trip(selfies: str) -> None:
    assert VOCAB.decode_ids(VOCAB.encode_selfies(selfies)) == selfies


@FAST
@given(selfies=random_selfies)
def test_random_selfies_decode_to_stable_canonical_smiles(selfies: str) -> None:
    smiles = selfies_to_smiles(selfies)
    if smiles is None:  # e.g. only branch/ring symbols: an empty molecule
        return
    assert canonical_smiles(smiles) == smiles
    assert selfies_to_smiles(smiles_to_selfies(smiles)) == smiles


# --- encoding details ---------------------------------------------------------------------------
def test_build_is_sorted_and_deterministic() -> None:
    a = Vocabulary.build(["[O]", "[C]", "[C]", "[=C]"], max_len=8)
    b = Vocabulary.build(["[=C]", "[C]", "[O]"], max_len=8)
    assert a == b
    assert a.symbols == (*SPECIAL_TOKENS, "[=C]", "[C]", "[O]")
    assert (PAD_ID, BOS_ID, EOS_ID) == (0, 1, 2)
    assert len(a) == 6


def test_vocabulary_must_start_with_special_tokens() -> None:
    with pytest.raises(VocabularyError):
        Vocabulary(symbols=("[C]", "<pad>", "<bos>", "<eos>"), max_len=8)


def test_decode_stops_at_end_or_padding_and_skips_bos() -> None:
    vocab = Vocabulary.build(["[C]", "[O]"], max_len=8)
    c, o = vocab.symbols.index("[C]"), vocab.symbols.index("[O]")
    assert vocab.decode_ids([c, o, EOS_ID, c]) == "[C][O]"
    assert vocab.decode_ids([c, PAD_ID, o]) == "[C]"
    assert vocab.decode_ids([BOS_ID, c]) == "[C]"
    assert vocab.decode_ids([]) == ""


def test_pad_shape_and_dtype() -> None:
    vocab = Vocabulary.build(["[C]", "[O]"], max_len=6)
    arr = vocab.pad([vocab.encode_selfies("[C][O]"), vocab.encode_selfies("[C]")])
    assert arr.shape == (2, 6) and arr.dtype == np.uint8
    assert arr[1].tolist() == [vocab.symbols.index("[C]"), EOS_ID, 0, 0, 0, 0]


def test_large_alphabet_uses_int32() -> None:
    vocab = Vocabulary.build([f"[X{i}]" for i in range(300)], max_len=4)
    assert vocab.encode_selfies("[X299]").dtype == np.int32
    assert vocab.decode_ids(vocab.encode_selfies("[X299]")) == "[X299]"


def test_dict_round_trip() -> None:
    back = Vocabulary.from_dict(VOCAB.to_dict())
    assert back == VOCAB
    assert back.constraints == VOCAB.constraints
    assert back.max_len == VOCAB.max_len


# --- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["not a molecule", "C1CC", "", "XYZ"])
def test_invalid_smiles_raises_naming_it(bad: str) -> None:
    with pytest.raises(InvalidSmilesError) as err:
        VOCAB.encode_smiles(bad)
    assert repr(bad) in str(err.value)


def test_symbol_outside_alphabet_names_molecule_and_symbol() -> None:
    with pytest.raises(VocabularyError) as err:
        VOCAB.encode_smiles("C[Si](C)(C)C")
    assert "'C[Si](C)(C)C'" in str(err.value)
    assert "[Si]" in str(err.value)


def test_symbol_outside_alphabet_names_selfies_when_no_smiles() -> None:
    with pytest.raises(VocabularyError, match=r"\[Si\]") as err:
        VOCAB.encode_selfies("[C][Si]")
    assert "[C][Si]" in str(err.value)


def test_special_token_is_not_a_symbol() -> None:
    with pytest.raises(VocabularyError, match="<eos>"):
        VOCAB.encode_selfies("[C]<eos>[O]")


@pytest.mark.parametrize("bad", ["[C]<eos>", "[C][O", "[C]["])
def test_malformed_selfies_raises_vocabulary_error(bad: str) -> None:
    with pytest.raises(VocabularyError) as err:
        VOCAB.encode_selfies(bad, smiles="the-molecule")
    assert "the-molecule" in str(err.value)


def test_too_long_molecule_raises() -> None:
    long_smiles = "C" * VOCAB.max_len  # needs max_len symbols plus the end token
    with pytest.raises(VocabularyError, match="at most") as err:
        VOCAB.encode_smiles(long_smiles)
    assert long_smiles in str(err.value)
    # the longest molecule that fits
    fits = "C" * (VOCAB.max_len - 1)
    assert len(VOCAB.encode_smiles(fits)) == VOCAB.max_len


# --- SELFIES constraints ------------------------------------------------------------------------
def test_selfies_constraints_are_restored() -> None:
    before = sf.get_semantic_constraints()
    strict = {**default_constraints(), "C": 2}
    with selfies_constraints(strict):
        assert sf.get_semantic_constraints()["C"] == 2
    assert sf.get_semantic_constraints() == before


def test_selfies_constraints_restored_after_error() -> None:
    before = sf.get_semantic_constraints()
    with pytest.raises(RuntimeError), selfies_constraints({**default_constraints(), "C": 2}):
        raise RuntimeError("boom")
    assert sf.get_semantic_constraints() == before


def test_min_len_and_atoms_travel_with_the_vocabulary() -> None:
    vocab = Vocabulary.build(["[C]", "[Ring1]", "[=Branch1]", "[O]"], max_len=8, min_len=3)
    again = Vocabulary.from_dict(vocab.to_dict())
    assert again.min_len == 3 and again == vocab
    assert [vocab.symbols[i] for i in vocab.atom_ids()] == ["[C]", "[O]"]
    legacy = vocab.to_dict()
    del legacy["min_len"]
    assert Vocabulary.from_dict(legacy).min_len == 1

"""molvae.decoding: token ids -> validated canonical SMILES, in-process or on worker processes."""

from __future__ import annotations

import numpy as np
import pytest
import selfies as sf

from molvae.chem import canonical_smiles
from molvae.decoding import (
    MoleculeDecoder,
    iter_batches,
    iter_pipelined,
    read_back_tokens,
    tokens_to_molecules,
)
from molvae.errors import VocabularyError
from molvae.vocab import BOS_ID, EOS_ID, Vocabulary, default_constraints, smiles_to_selfies


@pytest.fixture(scope="module")
def vocab(small_smiles: list[str]) -> Vocabulary:
    symbols = {t for s in small_smiles for t in sf.split_selfies(smiles_to_selfies(s))}
    return Vocabulary.build(symbols, max_len=64)


@pytest.fixture(scope="module")
def tokens(vocab: Vocabulary, small_smiles: list[str]) -> np.ndarray:
    """40 real molecules, 10 random token rows and a few edge cases."""
    real = vocab.pad([vocab.encode_smiles(s) for s in small_smiles[:40]])
    rng = np.random.default_rng(0)
    noise = rng.integers(3, len(vocab), size=(10, vocab.max_len), dtype=np.uint8)
    noise[:, -1] = EOS_ID
    edge = np.zeros((3, vocab.max_len), dtype=np.uint8)
    edge[1, 0] = EOS_ID  # ends at once
    edge[2, :3] = [BOS_ID, vocab.symbols.index("[C]"), EOS_ID]  # a stray start token is ignored
    return np.concatenate([real, noise, edge])


def test_real_molecules_decode_to_canonical(
    tokens: np.ndarray, vocab: Vocabulary, small_smiles: list[str]
) -> None:
    decoded = tokens_to_molecules(tokens[:40], vocab)
    assert [smi for _, smi in decoded] == [canonical_smiles(s) for s in small_smiles[:40]]
    assert [sel for sel, _ in decoded] == [smiles_to_selfies(s) for s in small_smiles[:40]]


def test_empty_rows_give_none(tokens: np.ndarray, vocab: Vocabulary) -> None:
    decoded = tokens_to_molecules(tokens[-3:], vocab)
    assert decoded[0] == ("", None)  # all padding
    assert decoded[1] == ("", None)  # end token first
    assert decoded[2] == ("[C]", "C")


def test_random_rows_are_valid_or_none(tokens: np.ndarray, vocab: Vocabulary) -> None:
    for sel, smi in tokens_to_molecules(tokens[40:50], vocab):
        assert smi is None or canonical_smiles(smi) == smi
        assert sel  # random symbols never make an empty string


@pytest.mark.parametrize("workers", [1, 2])
def test_max_ring_drops_the_smiles_of_larger_rings_only(vocab: Vocabulary, workers: int) -> None:
    """The ring check a sampler redraws on: a molecule with a ring of more than ``max_ring``
    atoms comes back without SMILES, every other exactly as without the check."""
    from molvae.chem import largest_ring

    rows = ["C1CCCCCCC1", "c1ccccc1CCO", "C1CCCCCC1", "CCO"]  # rings of 8, 6, 7 atoms, none
    symbols = {t for s in rows for t in sf.split_selfies(smiles_to_selfies(s))}
    local = Vocabulary.build(symbols | set(vocab.symbols[3:]), max_len=64)
    tokens = local.pad([local.encode_smiles(s) for s in rows])
    plain = tokens_to_molecules(tokens, local)
    with MoleculeDecoder(local, workers=workers, max_ring=7) as dec:
        checked = dec.decode(tokens)
    assert [smi for _, smi in checked] == [None if largest_ring(smi) > 7 else smi
                                           for _, smi in plain]
    assert checked[0][1] is None and None not in [smi for _, smi in checked[1:]]
    assert [sel for sel, _ in checked] == [sel for sel, _ in plain]


@pytest.mark.parametrize("workers", [1, 2])
def test_decoder_matches_plain_function(
    tokens: np.ndarray, vocab: Vocabulary, workers: int
) -> None:
    with MoleculeDecoder(vocab, workers=workers) as dec:
        assert dec.decode(tokens) == tokens_to_molecules(tokens, vocab)


@pytest.mark.integration
def test_one_and_two_workers_identical(tokens: np.ndarray, vocab: Vocabulary) -> None:
    with MoleculeDecoder(vocab, workers=1) as one, MoleculeDecoder(vocab, workers=2) as two:
        assert one._pool is None and two._pool is not None
        a, b = one.decode(tokens), two.decode(tokens)
        assert a == b
        assert len(a) == len(tokens)
        # fewer rows than chunks, and a single row
        assert one.decode(tokens[:1]) == two.decode(tokens[:1])
    assert two._pool is None  # the pool is shut down on exit


@pytest.mark.integration
def test_decoder_uses_the_vocabulary_constraints(vocab: Vocabulary) -> None:
    """Workers and the in-process path decode under the model's constraints, not the caller's."""
    strict = Vocabulary(vocab.symbols, vocab.max_len, {**default_constraints(), "C": 2})
    row = strict.pad([strict.encode_selfies("[C][=C][C]")])  # C=C-C; under C:2, [=C] can't
    before = sf.get_semantic_constraints()
    with MoleculeDecoder(strict, workers=1) as one, MoleculeDecoder(strict, workers=2) as two:
        a, b = one.decode(row), two.decode(row)
    assert a == b
    with MoleculeDecoder(vocab, workers=1) as plain:
        assert plain.decode(row)[0][1] == "C=CC"
    assert a[0][1] != "C=CC"
    assert sf.get_semantic_constraints() == before


@pytest.mark.integration
def test_iter_pipelined_keeps_order(tokens: np.ndarray, vocab: Vocabulary) -> None:
    batches = [tokens[i : i + 7] for i in range(0, len(tokens), 7)]
    with MoleculeDecoder(vocab, workers=2) as dec:
        out = list(iter_pipelined(iter(batches), dec))
    assert [len(b) for b in out] == [len(b) for b in batches]
    assert [m for b in out for m in b] == tokens_to_molecules(tokens, vocab)
    with MoleculeDecoder(vocab, workers=1) as dec:
        assert list(iter_pipelined(iter([]), dec)) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_read_back_is_the_encoders_input_for_each_molecule(
    tokens: np.ndarray, vocab: Vocabulary, workers: int
) -> None:
    """With ``read_back`` each decoded molecule comes with the tokens the encoder reads for it
    (its canonical SMILES as SELFIES, with the end token), and ``None`` where there is no
    molecule or the alphabet cannot write it; decoding itself is unchanged."""
    with MoleculeDecoder(vocab, workers=workers, read_back=True) as dec:
        batch = next(iter_batches(iter([tokens]), dec))
        molecules, back = batch.get(), batch.read_back()
    assert molecules == tokens_to_molecules(tokens, vocab)
    assert len(back) == len(tokens)
    for (_, smi), ids in zip(molecules, back, strict=True):
        if ids is not None:
            assert np.array_equal(ids, vocab.encode_smiles(smi))
        elif smi is not None:  # a symbol the alphabet lacks
            with pytest.raises(VocabularyError):
                vocab.encode_smiles(smi)
    assert sum(ids is not None for ids in back) >= 41  # the 40 real molecules and "C"
    narrow = Vocabulary(tuple(s for s in vocab.symbols if s != "[O]"), vocab.max_len)
    assert read_back_tokens([("[C][O]", "CO"), ("", None)], narrow) == [None, None]
    with MoleculeDecoder(vocab, workers=workers) as plain:
        with pytest.raises(ValueError, match="without read_back"):
            plain.submit(tokens[:2]).read_back()

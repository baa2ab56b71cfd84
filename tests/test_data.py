"""molvae.smiles_file, molvae.data and molvae.tokens: reading SMILES files, preparing, caching
and encoding them."""

from __future__ import annotations

import csv
import gzip
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from molvae.chem import canonical_smiles, properties
from molvae.data import Report, compute_properties, file_hash, has_properties, prepare
from molvae.errors import DataError
from molvae.smiles_file import iter_smiles
from molvae.tokens import build_vocabulary, dataset_vocabulary, encode, vocabulary_hash
from molvae.vocab import EOS_ID, Vocabulary


# --- reading ------------------------------------------------------------------------------------
def test_iter_smiles_csv_numbers_rows_from_one(small_csv: Path, small_smiles: list[str]) -> None:
    rows = list(iter_smiles(small_csv))
    assert len(rows) == 200
    assert rows[0] == (1, small_smiles[0])
    assert [s for _, s in rows] == small_smiles


def test_gzipped_smi_read_with_header_skipped(data_dir: Path, small_smiles: list[str]) -> None:
    rows = list(iter_smiles(data_dir / "small.smi.gz"))
    assert [s for _, s in rows] == small_smiles[:20]
    assert rows[0][0] == 2  # line 1 was the header


def test_gzipped_csv_detected_by_content(
    tmp_path: Path, small_csv: Path, small_smiles: list[str]
) -> None:
    gz = tmp_path / "small.csv.gz"
    gz.write_bytes(gzip.compress(small_csv.read_bytes()))
    assert [s for _, s in iter_smiles(gz)] == small_smiles
    # gzip is recognised from the magic bytes, not the suffix
    odd = tmp_path / "odd.csv"
    odd.write_bytes(gzip.compress(small_csv.read_bytes()))
    assert [s for _, s in iter_smiles(odd)] == small_smiles


def test_smi_with_names_and_tsv(tmp_path: Path) -> None:
    smi = tmp_path / "named.smi"
    smi.write_text("CCO ethanol\nc1ccccc1\tbenzene\n")
    assert list(iter_smiles(smi)) == [(1, "CCO"), (2, "c1ccccc1")]
    tsv = tmp_path / "x.tsv"
    tsv.write_text("id\tSMILES\n1\tCCO\n")
    assert list(iter_smiles(tsv)) == [(1, "CCO")]


def test_explicit_column(tmp_path: Path) -> None:
    f = tmp_path / "two.csv"
    f.write_text("smiles,other\nCCO,c1ccccc1\n")
    assert list(iter_smiles(f, "other")) == [(1, "c1ccccc1")]
    with pytest.raises(DataError, match="no column 'nope'"):
        list(iter_smiles(f, "nope"))


def test_wrong_column_names_file_and_columns(data_dir: Path) -> None:
    path = data_dir / "wrong_column.csv"
    with pytest.raises(DataError) as err:
        prepare(path, workers=1)
    msg = str(err.value)
    assert str(path) in msg
    assert "structure" in msg and "id" in msg


def test_empty_file_is_data_error(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no rows") as err:
        prepare(data_dir / "empty.csv", workers=1, cache_dir=tmp_path)
    assert "empty.csv" in str(err.value)
    header_only = tmp_path / "header.csv"
    header_only.write_text("smiles\n")
    with pytest.raises(DataError, match="no rows"):
        prepare(header_only, workers=1)


def test_missing_file_is_data_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataError) as err:
        prepare(missing, workers=1)
    assert str(missing) in str(err.value)


def test_file_without_a_valid_molecule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("smiles\nnot_a_smiles\n\nXYZ\n")
    with pytest.raises(DataError, match="no valid molecule"):
        prepare(bad, workers=1)


# --- prepare ------------------------------------------------------------------------------------
MIXED_VALID = ["CCO", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "Cc1ccccc1"]


def test_prepare_skips_and_counts_bad_rows(data_dir: Path, tmp_path: Path) -> None:
    rejects = tmp_path / "out" / "rejects.csv"
    prepared = prepare(data_dir / "mixed.csv", workers=1, rejects_path=rejects)
    assert prepared.smiles == [canonical_smiles(s) for s in MIXED_VALID]
    assert len(prepared.selfies) == len(prepared.smiles) == len(prepared.props) == 4
    report = prepared.report
    assert (report.rows, report.kept, len(report.rejects)) == (9, 4, 5)
    assert report.reasons() == {"invalid SMILES": 3, "empty": 2}
    assert {r.row for r in report.rejects} == {2, 3, 5, 7, 9}
    assert "9 rows, 4 kept, 5 skipped" in report.summary()
    with open(rejects, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["row", "smiles", "reason"]
    assert [r[1] for r in rows[1:] if r[2].startswith("invalid SMILES")] == [
        "not_a_smiles", "C1CC", "XYZ"]
    assert len(rows) == 6


def test_prepare_properties_match_rdkit(small_csv: Path, cache_dir: Path) -> None:
    prepared = prepare(small_csv, workers=1, cache_dir=cache_dir)
    assert prepared.props.shape == (200, 3) and prepared.props.dtype == np.float32
    np.testing.assert_allclose(prepared.props[0], properties(prepared.smiles[0]), rtol=1e-5)
    assert prepared.report.kept == 200 and not prepared.report.rejects


@pytest.mark.integration
def test_prepare_parallel_matches_serial(data_dir: Path) -> None:
    serial = prepare(data_dir / "mixed.csv", workers=1)
    parallel = prepare(data_dir / "mixed.csv", workers=2)
    assert parallel.smiles == serial.smiles
    assert parallel.selfies == serial.selfies
    np.testing.assert_array_equal(parallel.props, serial.props)
    assert parallel.report == serial.report


def test_prepare_cache_second_call_loads(
    data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src = tmp_path / "mixed.csv"
    shutil.copy(data_dir / "mixed.csv", src)
    cache = tmp_path / "cache"
    first = prepare(src, workers=1, cache_dir=cache)
    assert len(list(cache.glob("prepared-*/meta.json"))) == 1
    with caplog.at_level(logging.INFO, logger="molvae.data"):
        rejects = tmp_path / "rejects.csv"
        second = prepare(src, workers=1, cache_dir=cache, rejects_path=rejects)
    assert "loaded prepared molecules from cache" in caplog.text
    assert second.smiles == first.smiles
    assert second.selfies == first.selfies
    np.testing.assert_array_equal(second.props, first.props)
    assert second.report == first.report
    assert second.data_hash == first.data_hash
    assert len(rejects.read_text().splitlines()) == 1 + len(first.report.rejects)


def test_prepare_cache_ignores_a_changed_file(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text("smiles\nCCO\n")
    cache = tmp_path / "cache"
    assert prepare(src, workers=1, cache_dir=cache).smiles == ["CCO"]
    src.write_text("smiles\nCCN\n")
    assert prepare(src, workers=1, cache_dir=cache).smiles == ["CCN"]


@pytest.mark.parametrize("broken", ["meta.json", "props-1.npy"])
def test_prepare_unreadable_cache_is_rebuilt(tmp_path: Path, broken: str) -> None:
    src = tmp_path / "x.csv"
    src.write_text("smiles\nCCO\nCCN\n")
    cache = tmp_path / "cache"
    first = prepare(src, workers=1, cache_dir=cache)
    target = next(cache.glob("prepared-*")) / broken
    assert target.is_file()
    target.write_bytes(b"garbage")
    again = prepare(src, workers=1, cache_dir=cache)
    assert again.smiles == ["CCO", "CCN"]
    np.testing.assert_array_equal(again.props, first.props)


def test_property_fraction_labels_a_fixed_subset(small_csv: Path, tmp_path: Path) -> None:
    full = prepare(small_csv, workers=1, cache_dir=tmp_path)
    part = prepare(small_csv, workers=1, cache_dir=tmp_path, property_fraction=0.25)
    none = prepare(small_csv, workers=1, property_fraction=0.0)
    assert part.smiles == full.smiles
    labelled = ~np.isnan(part.props).any(1)
    assert 20 < labelled.sum() < 80  # about a quarter of 200
    assert labelled.tolist() == [has_properties(i, 0.25) for i in range(200)]
    np.testing.assert_array_equal(part.props[labelled], full.props[labelled])
    assert np.isnan(part.props[~labelled]).all()
    assert np.isnan(none.props).all()
    assert not np.isnan(full.props).any()
    # the subset is a pure function of the position, so every run labels the same molecules
    again = prepare(small_csv, workers=1, property_fraction=0.25)
    np.testing.assert_array_equal(again.props, part.props)


def test_compute_properties_nan_for_unreadable() -> None:
    props = compute_properties(["CCO", "not a molecule"], workers=1)
    assert props.shape == (2, 3) and props.dtype == np.float32
    np.testing.assert_allclose(props[0], properties("CCO"), rtol=1e-5)
    assert np.isnan(props[1]).all()


def test_file_hash_depends_on_bytes_and_column(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("smiles\nCCO\n")
    b.write_text("smiles\nCCO\n")
    assert file_hash(a) == file_hash(b)
    assert file_hash(a) != file_hash(a, "smiles")
    b.write_text("smiles\nCCN\n")
    assert file_hash(a) != file_hash(b)


def test_report_summary_without_rejects() -> None:
    assert Report(rows=3, kept=3).summary() == "3 rows, 3 kept, 0 skipped"


# --- vocabulary and encoding --------------------------------------------------------------------
def test_build_vocabulary_rounds_length_up() -> None:
    vocab = build_vocabulary(["[C][O]", "[C][C][C]"])
    assert vocab.min_len == 3  # the shortest molecule plus its end token
    assert vocab.max_len == 16
    assert set(vocab.symbols[3:]) == {"[C]", "[O]"}
    assert build_vocabulary(["[C]" * 15]).max_len == 16
    assert build_vocabulary(["[C]" * 16]).max_len == 32
    assert build_vocabulary(["[C]"], max_len=5).max_len == 5


def test_encode_skips_unrepresentable(
    small_csv: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prepared = prepare(small_csv, workers=1, cache_dir=cache_dir)
    lengths = [s.count("[") for s in prepared.selfies]
    vocab = build_vocabulary(prepared.selfies, max_len=int(np.median(lengths)) + 1)
    with caplog.at_level(logging.WARNING, logger="molvae.data"):
        enc = encode(prepared, vocab)
    too_long = sum(n + 1 > vocab.max_len for n in lengths)
    assert too_long > 0
    assert enc.skipped == too_long
    assert len(enc.tokens) == len(enc.index) == len(enc.props) == 200 - too_long
    assert "skipped" in caplog.text
    first = enc.index[0]
    assert vocab.decode_ids(enc.tokens[0]) == prepared.selfies[first]
    np.testing.assert_array_equal(enc.props[0], prepared.props[first])


def test_encode_cache_round_trip(small_csv: Path, tmp_path: Path) -> None:
    prepared = prepare(small_csv, workers=1, cache_dir=tmp_path)
    vocab = build_vocabulary(prepared.selfies)
    first = encode(prepared, vocab)
    cached = list(tmp_path.glob(f"prepared-*/tokens-{vocabulary_hash(vocab)}.npz"))
    assert len(cached) == 1
    second = encode(prepared, vocab)
    np.testing.assert_array_equal(first.tokens, second.tokens)
    np.testing.assert_array_equal(first.props, second.props)
    np.testing.assert_array_equal(first.index, second.index)
    assert first.skipped == second.skipped == 0
    assert (first.tokens == EOS_ID).sum(1).tolist() == [1] * 200


def test_dataset_vocabulary_is_cached_beside_the_data(small_csv: Path, tmp_path: Path) -> None:
    prepared = prepare(small_csv, workers=1, cache_dir=tmp_path)
    vocab = dataset_vocabulary(prepared)
    assert vocab == build_vocabulary(prepared.selfies)
    assert (prepared.cache / "vocabulary.json").is_file()
    again = prepare(small_csv, workers=1, cache_dir=tmp_path)
    assert dataset_vocabulary(again) == vocab
    assert dataset_vocabulary(prepare(small_csv, workers=1)) == vocab  # no cache: built


def test_vocabulary_hash_changes_with_alphabet_and_length() -> None:
    a = Vocabulary.build(["[C]", "[O]"], max_len=8)
    assert vocabulary_hash(a) == vocabulary_hash(Vocabulary.build(["[O]", "[C]"], max_len=8))
    assert vocabulary_hash(a) != vocabulary_hash(Vocabulary.build(["[C]", "[N]"], max_len=8))
    assert vocabulary_hash(a) != vocabulary_hash(Vocabulary.build(["[C]", "[O]"], max_len=9))


def test_encode_cache_follows_property_fraction(small_csv: Path, tmp_path: Path) -> None:
    """Cached tokens are reused across fractions, but the properties must be the current ones."""
    full = prepare(small_csv, workers=1, cache_dir=tmp_path)
    vocab = build_vocabulary(full.selfies)
    assert not np.isnan(encode(full, vocab).props).any()
    none = prepare(small_csv, workers=1, cache_dir=tmp_path, property_fraction=0.0)
    enc = encode(none, vocab)
    assert np.isnan(enc.props).all()


def test_a_file_without_valid_molecules_fails_the_same_way_from_the_cache(tmp_path: Path) -> None:
    """The cache never changes an answer: a file with no valid row is an error the first time
    and every time after, not one empty molecule."""
    bad = tmp_path / "bad.csv"
    bad.write_text("smiles\nnot_a_smiles\nC1CC\n")
    for _ in range(2):
        with pytest.raises(DataError, match="no valid molecule"):
            prepare(bad, workers=1, cache_dir=tmp_path / "cache")
    assert (tmp_path / "cache").is_dir()  # the second call read the cache

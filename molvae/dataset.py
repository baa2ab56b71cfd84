"""A training set as the integer tensors training reads, portable as one ``.npz`` file.

Preparing a data set (RDKit canonicalization, SELFIES, QED/logP/SA labels) is chemistry; training
on it is arithmetic. ``molvae prepare data.smi --out data.npz`` does the chemistry once, and
``molvae train data.npz`` trains where neither RDKit nor selfies is installed (a GPU machine with
torch alone): the file holds the token ids, the head labels, the alphabet, the keys of the
molecules for the model's ``novel`` column, and the source file's name and hash, so the model
records the same data as one trained on the SMILES file itself.

The file is read with ``numpy.load(allow_pickle=False)``: plain arrays, never code.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from molvae.errors import DataError
from molvae.io import atomic_write_bytes
from molvae.novelty import TrainingSet
from molvae.vocab import PAD_ID, Vocabulary

log = logging.getLogger(__name__)

FORMAT = "molvae-token-dataset"
FORMAT_VERSION = 1
#: The suffix that marks a prepared data set among the data files training accepts.
SUFFIX = ".npz"


@dataclass(frozen=True)
class TokenDataset:
    """Molecules as token ids under ``vocab``, with their head labels.

    Attributes:
        tokens: (N, vocab.max_len) right-padded ids, uint8 (int32 past 255 symbols).
        props: (N, P) float32 head labels, NaN where not labelled.
        vocab: the alphabet the ids index.
        known: keys of every molecule of the source file (the model's training set for ``novel``),
            those the alphabet cannot write included.
        name: the source file's name; data_hash: its hash (``molvae.data.file_hash``).
        report: the preparation's one-line summary (rows, kept, skipped and why).
        property_fraction: the share of molecules labelled when it was prepared.
        skipped: molecules of the source left out because ``vocab`` cannot write them.
    """

    tokens: np.ndarray
    props: np.ndarray
    vocab: Vocabulary
    known: TrainingSet
    name: str
    data_hash: str
    report: str
    property_fraction: float
    skipped: int = 0

    def __len__(self) -> int:
        return len(self.tokens)

    def under(self, vocab: Vocabulary) -> TokenDataset:
        """The same molecules written in another alphabet (a model's, for ``--init`` or
        ``--resume``): ids mapped symbol by symbol; a molecule with a symbol ``vocab`` lacks, or
        longer than its ``max_len``, is left out and counted in ``skipped``."""
        if vocab == self.vocab:  # symbols, max_len and min_len
            return self
        target = {s: i for i, s in enumerate(vocab.symbols)}
        table = np.array([target.get(s, -1) for s in self.vocab.symbols], dtype=np.int64)
        ids = table[self.tokens.astype(np.int64)]
        lengths = (self.tokens != PAD_ID).sum(1)
        keep = (ids >= 0).all(1) & (lengths <= vocab.max_len)
        out = np.zeros((int(keep.sum()), vocab.max_len),
                       dtype=np.uint8 if len(vocab) < 256 else np.int32)
        width = min(vocab.max_len, self.tokens.shape[1])
        out[:, :width] = ids[keep, :width]
        skipped = len(self) - len(out)
        if skipped:
            log.warning("skipped %d molecules the vocabulary cannot represent", skipped)
        return replace(self, tokens=out, props=self.props[keep], vocab=vocab,
                       skipped=self.skipped + skipped)

    def save(self, path: str | Path) -> Path:
        """Write the data set to ``path`` (compressed ``.npz``), atomically."""
        header = {"format": FORMAT, "format_version": FORMAT_VERSION,
                  "vocab": self.vocab.to_dict(), "name": self.name, "data_hash": self.data_hash,
                  "report": self.report, "property_fraction": self.property_fraction,
                  "skipped": self.skipped}
        buf = io.BytesIO()
        np.savez_compressed(buf, tokens=self.tokens, props=self.props, known=self.known.keys,
                            header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
        atomic_write_bytes(path, buf.getvalue())
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> TokenDataset:
        """Read a file written by :meth:`save`.

        Raises:
            DataError: the file is missing, damaged, or not a molvae token data set.
        """
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(z["header"].tobytes().decode())
                if header.get("format") != FORMAT:
                    raise ValueError(f"format {header.get('format')!r}, not {FORMAT!r}")
                if header.get("format_version", 0) > FORMAT_VERSION:
                    raise ValueError(f"format version {header['format_version']}; this molvae "
                                     f"reads {FORMAT_VERSION} or less")
                vocab = Vocabulary.from_dict(header["vocab"])
                data = cls(tokens=z["tokens"], props=z["props"].astype(np.float32), vocab=vocab,
                           known=TrainingSet(z["known"].astype(np.uint64)), name=header["name"],
                           data_hash=header["data_hash"], report=header["report"],
                           property_fraction=float(header["property_fraction"]),
                           skipped=int(header.get("skipped", 0)))
        except FileNotFoundError:
            raise DataError(f"{path}: no such file") from None
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise DataError(f"{path}: not a molvae token data set (written by `molvae "
                            f"prepare`): {exc}") from exc
        if data.tokens.ndim != 2 or data.tokens.shape[1] != vocab.max_len \
                or len(data.props) != len(data.tokens) or not len(data.tokens):
            raise DataError(f"{path}: its arrays do not match each other or its alphabet "
                            f"(tokens {data.tokens.shape}, labels {data.props.shape}, "
                            f"max_len {vocab.max_len})")
        if int(data.tokens.max()) >= len(vocab):
            raise DataError(f"{path}: token ids beyond its {len(vocab)}-symbol alphabet")
        return data


def is_token_dataset(path: str | Path) -> bool:
    """Whether a data path names a prepared token data set rather than a SMILES file."""
    return Path(path).suffix.lower() == SUFFIX


def prepare_token_dataset(
    path: str | Path, *, vocab: Vocabulary | None = None, column: str | None = None,
    workers: int | None = None, cache_dir: str | Path | None = None,
    rejects_path: str | Path | None = None, property_fraction: float = 1.0,
) -> TokenDataset:
    """A SMILES file's molecules as a :class:`TokenDataset` (RDKit and selfies run here), under
    ``vocab`` or, by default, the file's own alphabet; bad rows are skipped and counted
    (``molvae.data.prepare``), preparation and encoding are cached under ``cache_dir``.

    Raises:
        DataError: see ``molvae.data.prepare``.
    """
    from molvae.data import prepare
    from molvae.tokens import dataset_vocabulary, encode

    prepared = prepare(path, column=column, workers=workers, cache_dir=cache_dir,
                       rejects_path=rejects_path, property_fraction=property_fraction)
    vocab = vocab or dataset_vocabulary(prepared)
    encoded = encode(prepared, vocab)
    return TokenDataset(tokens=encoded.tokens, props=encoded.props, vocab=vocab,
                        known=TrainingSet.from_smiles(prepared.smiles), name=Path(path).name,
                        data_hash=prepared.data_hash, report=prepared.report.summary(),
                        property_fraction=property_fraction, skipped=encoded.skipped)


__all__ = ["TokenDataset", "is_token_dataset", "prepare_token_dataset"]

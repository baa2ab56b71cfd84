"""Which molecules a model was trained on, kept compactly inside the model file.

Chemists filter proposals on ``novel``: not in the training data. Storing 1.6 M SMILES would
triple the model file, so each canonical SMILES is kept as a 48-bit hash (blake2b), split into a
16-bit bucket and a 32-bit remainder: 4 bytes per molecule plus a 256 KiB bucket index. A novel
molecule is wrongly reported as known with probability n / 2**48 (6e-9 for MOSES): negligible.

The hash is of RDKit's canonical SMILES, so the set is tied to the canonicalization of the RDKit
that built it (recorded in the model's versions); canonical SMILES are stable across releases for
the molecules in question, and a mismatch could only mark a known molecule as novel, never the
reverse.

>>> known = TrainingSet.from_smiles(["CCO", "c1ccccc1"])
>>> known.contains(["CCO", "CCN", None]).tolist()
[True, False, False]
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

_BITS = 48
_BUCKET_BITS = 16
#: Tensor names inside a model file.
LOW, OFFSETS = "training_set.low", "training_set.offsets"


def smiles_keys(smiles: Sequence[str | None]) -> np.ndarray:
    """48-bit keys (uint64) of SMILES strings; 0 for a missing one (never a real key's value
    in practice: a real key is 0 with probability 2**-48)."""
    keys = np.zeros(len(smiles), dtype=np.uint64)
    for i, smi in enumerate(smiles):
        if smi:
            digest = hashlib.blake2b(smi.encode(), digest_size=8).digest()
            keys[i] = int.from_bytes(digest, "little") >> (64 - _BITS)
    return keys


@dataclass(frozen=True)
class TrainingSet:
    """Sorted unique keys of a model's training molecules (canonical SMILES)."""

    keys: np.ndarray  # (n,) uint64, sorted, unique

    @classmethod
    def from_smiles(cls, smiles: Sequence[str]) -> TrainingSet:
        """The set of canonical ``smiles`` (already canonical, as ``data.prepare`` gives)."""
        return cls(np.unique(smiles_keys([s for s in smiles if s])))

    def __len__(self) -> int:
        return len(self.keys)

    def contains(self, smiles: Sequence[str | None]) -> np.ndarray:
        """Whether each canonical SMILES is in the set (False for a missing one)."""
        keys = smiles_keys(smiles)
        if len(self.keys) == 0:
            return np.zeros(len(keys), dtype=bool)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return (self.keys[pos] == keys) & (keys != 0)

    def to_tensors(self) -> dict[str, torch.Tensor]:
        """Bucketed form for the model file: 32-bit remainders and the buckets' start offsets."""
        low = (self.keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        bucket = (self.keys >> np.uint64(_BITS - _BUCKET_BITS)).astype(np.int64)
        counts = np.bincount(bucket, minlength=1 << _BUCKET_BITS)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return {LOW: torch.from_numpy(low.view(np.int32).copy()),
                OFFSETS: torch.from_numpy(offsets)}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor]) -> TrainingSet:
        """Inverse of :meth:`to_tensors`.

        Raises:
            ValueError: the tensors are inconsistent (a damaged file).
        """
        low = tensors[LOW].numpy().view(np.uint32).astype(np.uint64)
        offsets = tensors[OFFSETS].numpy()
        if len(offsets) != (1 << _BUCKET_BITS) + 1 or offsets[-1] != len(low) \
                or np.any(np.diff(offsets) < 0):
            raise ValueError("training-set index does not match its keys")
        bucket = np.repeat(np.arange(1 << _BUCKET_BITS, dtype=np.uint64), np.diff(offsets))
        return cls((bucket << np.uint64(_BITS - _BUCKET_BITS)) | low)

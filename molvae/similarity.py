"""Tanimoto similarity on Morgan fingerprints, the measure chemists read analogs by.

>>> tanimoto_to("c1ccccc1O", ["c1ccccc1O", "c1ccccc1N", None]).round(2).tolist()
[1.0, 0.38, nan]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rdkit import DataStructs
from rdkit.Chem import rdFingerprintGenerator

from molvae.chem import MolLike, to_mol

#: Morgan radius 2 (ECFP4-like), 2048 bits: the common default for analog searches.
RADIUS, BITS = 2, 2048


def morgan_fingerprint(mol: MolLike, radius: int = RADIUS, bits: int = BITS):  # noqa: ANN201
    """A Morgan bit vector, or ``None`` for an unreadable molecule."""
    m = to_mol(mol)
    if m is None:
        return None
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits).GetFingerprint(m)


def tanimoto_to(reference: MolLike, mols: Sequence[MolLike], radius: int = RADIUS,
                bits: int = BITS) -> np.ndarray:
    """Tanimoto similarity of each molecule to ``reference``; NaN where either is unreadable."""
    ref = morgan_fingerprint(reference, radius, bits)
    out = np.full(len(mols), math.nan)
    if ref is None:
        return out
    fps = [morgan_fingerprint(m, radius, bits) for m in mols]
    present = [i for i, fp in enumerate(fps) if fp is not None]
    if present:
        out[present] = DataStructs.BulkTanimotoSimilarity(ref, [fps[i] for i in present])
    return out

"""Similarity kind: Tanimoto similarity to reference molecules on a Morgan fingerprint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from molvae.optimization.components._base import Batch, ComponentKind, Raw, parse
from molvae.optimization.parameters import require

__all__ = ["Similarity"]


@dataclass(frozen=True)
class Similarity(ComponentKind):
    """Tanimoto similarity to one or more reference molecules (combined by ``combine``: the
    ``"max"`` over references by default).

    The fingerprint is Morgan's: ``radius`` 2 (ECFP4-like) by default, ``bits`` long (0: not
    folded, RDKit's sparse fingerprint, as GuacaMol uses), of ``counts`` instead of bits
    (Tanimoto on counts), with ``features`` (pharmacophoric atom invariants: FCFP) instead of
    atom identities. GuacaMol's ECFP4 is ``radius=2, bits=0, counts=True``; ECFP6 ``radius=3``;
    FCFP4 ``radius=2, features=True`` (both unfolded, counts).

    >>> Similarity(("c1ccccc1O",))(Batch.of(["c1ccccc1O", "c1ccccc1N", "?"])).values.round(2)
    array([1.  , 0.38,  nan])
    """

    references: tuple[str, ...]
    radius: int = 2
    bits: int = 2048
    counts: bool = False
    features: bool = False
    combine: Literal["max", "mean", "min"] = "max"
    kind: ClassVar[str] = "similarity"
    unit_range: ClassVar[bool] = True
    _fps: tuple = field(init=False, repr=False, compare=False)
    _generator: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.references, str):
            object.__setattr__(self, "references", (self.references,))
        object.__setattr__(self, "references", tuple(self.references))
        require(
            len(self.references) > 0, "similarity: give at least one reference SMILES", "references"
        )
        require(
            isinstance(self.radius, int) and self.radius >= 0,
            f"similarity: radius must be a non-negative integer (got {self.radius})",
            "radius",
        )
        require(
            isinstance(self.bits, int) and self.bits >= 0,
            f"similarity: bits must be a non-negative integer, 0 for unfolded (got {self.bits})",
            "bits",
        )
        require(
            self.combine in ("max", "mean", "min"),
            f"similarity: combine must be 'max', 'mean' or 'min' (got {self.combine!r})",
            "combine",
        )
        kwargs: dict[str, Any] = {"radius": self.radius, "fpSize": self.bits or 2048}
        if self.features:
            kwargs["atomInvariantsGenerator"] = rdFingerprintGenerator.GetMorganFeatureAtomInvGen()
        object.__setattr__(self, "_generator", rdFingerprintGenerator.GetMorganGenerator(**kwargs))
        fps = []
        for smiles in self.references:
            mol = parse(smiles) if isinstance(smiles, str) else None
            require(
                mol is not None, f"similarity: invalid reference SMILES {smiles!r}", "references"
            )
            fps.append(self.fingerprint(mol))
        object.__setattr__(self, "_fps", tuple(fps))

    def fingerprint(self, mol: Chem.Mol) -> Any:
        """The fingerprint these parameters describe."""
        gen = self._generator
        if self.bits == 0:
            return (
                gen.GetSparseCountFingerprint(mol) if self.counts else gen.GetSparseFingerprint(mol)
            )
        return gen.GetCountFingerprint(mol) if self.counts else gen.GetFingerprint(mol)

    def __call__(self, batch: Batch) -> Raw:
        present = [i for i, m in enumerate(batch.mols) if m is not None]
        values = np.full(len(batch), np.nan)
        if present:
            fps = [self.fingerprint(batch.mols[i]) for i in present]
            sims = np.array([DataStructs.BulkTanimotoSimilarity(ref, fps) for ref in self._fps])
            combine = {"max": np.max, "mean": np.mean, "min": np.min}[self.combine]
            values[present] = combine(sims, axis=0)  # (references, present) -> (present,)
        return Raw(values)


"""Descriptor kinds: one RDKit descriptor of the molecule (``qed``, ``sa``, ``logp``, ``mw``...).

Each descriptor is its own kind name in campaign files (``kind = "qed"``), all served by
:class:`Descriptor`. The values are those of the property table (:mod:`molvae.properties`),
computed once a batch for every component and for the run's results table; they equal the
:mod:`molvae.chem` verbs of :data:`DESCRIPTORS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from rdkit import Chem

from molvae import chem
from molvae.optimization.components._base import Batch, ComponentKind, Raw, per_molecule
from molvae.optimization.parameters import require

__all__ = ["DESCRIPTORS", "Descriptor"]


def _heavy_atoms(mol: Chem.Mol) -> int:
    return mol.GetNumHeavyAtoms()


#: The descriptor kinds: name -> the :mod:`molvae.chem` verb computing it from a molecule.
DESCRIPTORS: dict[str, Callable[[Chem.Mol], float | int | None]] = {
    "qed": chem.qed,
    "sa": chem.sa_score,
    "logp": chem.logp,
    "mw": chem.mol_weight,
    "tpsa": chem.tpsa,
    "hbd": chem.hbd,
    "hba": chem.hba,
    "rotatable_bonds": chem.rotatable_bonds,
    "rings": chem.ring_count,
    "aromatic_rings": chem.aromatic_ring_count,
    "fraction_sp3": chem.fraction_sp3,
    "formal_charge": chem.formal_charge,
    "lipinski_violations": chem.lipinski_violations,
    "heavy_atoms": _heavy_atoms,
}
_UNIT_DESCRIPTORS = frozenset({"qed", "fraction_sp3"})


@dataclass(frozen=True)
class Descriptor(ComponentKind):
    """A :mod:`molvae.chem` descriptor (a key of :data:`DESCRIPTORS`) as a component kind.

    >>> Descriptor("mw")(Batch.of(["CCO", "?"])).values.round(2).tolist()
    [46.07, nan]
    """

    descriptor: str
    cheap: ClassVar[bool] = True

    def __post_init__(self) -> None:
        require(
            self.descriptor in DESCRIPTORS,
            f"unknown descriptor {self.descriptor!r}; expected one of: "
            f"{', '.join(sorted(DESCRIPTORS))}",
            "kind",
        )

    @property
    def kind(self) -> str:
        return self.descriptor

    @property
    def unit_range(self) -> bool:
        return self.descriptor in _UNIT_DESCRIPTORS

    def __call__(self, batch: Batch) -> Raw:
        if self.descriptor in batch.properties:  # the property table's engine, once a batch
            values = batch.properties[self.descriptor].to_numpy(dtype=np.float64,
                                                                na_value=np.nan)
            return Raw(values)
        return per_molecule(batch, DESCRIPTORS[self.descriptor], self.descriptor)


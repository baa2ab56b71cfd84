"""Substructure kind: SMARTS patterns a molecule must contain, or must not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np
from rdkit import Chem

from molvae import chem
from molvae.optimization.components._base import Batch, ComponentKind, Raw
from molvae.optimization.parameters import require

__all__ = ["Substructure"]


def _smarts(pattern: str) -> Chem.Mol:
    with chem.without_rdkit_log():
        query = Chem.MolFromSmarts(pattern) if isinstance(pattern, str) and pattern else None
    require(query is not None, f"invalid SMARTS {pattern!r}", "smarts")
    return query


@dataclass(frozen=True)
class Substructure(ComponentKind):
    """SMARTS patterns a molecule must contain (``mode="required"``: 1 if all match, else 0) or
    must not (``"forbidden"``: 1 if none match, else 0). ``details`` lists the patterns missing
    (required) or present (forbidden).

    >>> Substructure(("c1ccccc1",))(Batch.of(["c1ccccc1O", "CCO"])).values.tolist()
    [1.0, 0.0]

    Raises:
        ObjectiveError: an invalid SMARTS, named.
    """

    smarts: tuple[str, ...]
    mode: Literal["required", "forbidden"] = "required"
    kind: ClassVar[str] = "substructure"
    cheap: ClassVar[bool] = True
    unit_range: ClassVar[bool] = True
    has_details: ClassVar[bool] = True
    _queries: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.smarts, str):
            object.__setattr__(self, "smarts", (self.smarts,))
        object.__setattr__(self, "smarts", tuple(self.smarts))
        require(len(self.smarts) > 0, "substructure: give at least one SMARTS", "smarts")
        require(
            self.mode in ("required", "forbidden"),
            f"substructure: mode must be 'required' or 'forbidden' (got {self.mode!r})",
            "mode",
        )
        object.__setattr__(self, "_queries", tuple(_smarts(s) for s in self.smarts))

    def __call__(self, batch: Batch) -> Raw:
        values = np.full(len(batch), np.nan)
        details: list[str | None] = [None] * len(batch)
        for i, mol in enumerate(batch.mols):
            if mol is None:
                continue
            hits = [mol.HasSubstructMatch(q) for q in self._queries]
            if self.mode == "required":
                values[i] = float(all(hits))
                noted = [s for s, hit in zip(self.smarts, hits, strict=True) if not hit]
            else:
                values[i] = float(not any(hits))
                noted = [s for s, hit in zip(self.smarts, hits, strict=True) if hit]
            details[i] = ";".join(noted)
        return Raw(values, None, tuple(details))


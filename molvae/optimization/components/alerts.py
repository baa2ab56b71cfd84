"""Alerts kind: no match in the PAINS or Brenk structural-alert catalogs, as the property
table's batch screen finds them (:mod:`molvae.alerts`; the same as RDKit's FilterCatalog)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from molvae.optimization.components._base import Batch, ComponentKind, Raw
from molvae.optimization.parameters import require

__all__ = ["Alerts"]


@dataclass(frozen=True)
class Alerts(ComponentKind):
    """Structural alerts: 1 if the molecule matches none of the ``catalogs`` (``"pains"``,
    ``"brenk"``), else 0; ``details`` names the alerts matched.

    >>> raw = Alerts(("pains",))(Batch.of(["O=C1C(=Cc2ccc(O)c(O)c2)SC(=S)N1", "CCO"]))
    >>> raw.values.tolist(), raw.details
    ([0.0, 1.0], ('ene_rhod_A(235);catechol_A(92)', ''))
    """

    catalogs: tuple[Literal["pains", "brenk"], ...] = ("pains", "brenk")
    kind: ClassVar[str] = "alerts"
    cheap: ClassVar[bool] = True
    unit_range: ClassVar[bool] = True
    has_details: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if isinstance(self.catalogs, str):
            object.__setattr__(self, "catalogs", (self.catalogs,))
        object.__setattr__(self, "catalogs", tuple(self.catalogs))
        require(len(self.catalogs) > 0, "alerts: give at least one catalog", "catalogs")
        for name in self.catalogs:
            require(
                name in ("pains", "brenk"),
                f"alerts: unknown catalog {name!r}; expected one of: brenk, pains",
                "catalogs",
            )

    def __call__(self, batch: Batch) -> Raw:
        values = np.full(len(batch), np.nan)
        details: list[str | None] = [None] * len(batch)
        found = zip(*(batch.properties[c] for c in self.catalogs), strict=True)
        for i, (mol, lists) in enumerate(zip(batch.mols, found, strict=True)):
            if mol is None or any(x is None for x in lists):
                continue
            names = [name for joined in lists for name in joined.split(";") if name]
            values[i] = float(not names)
            details[i] = ";".join(names)
        return Raw(values, None, tuple(details))


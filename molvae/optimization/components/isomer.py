"""Isomer kind: closeness to a molecular formula, as GuacaMol scores its isomer tasks."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import ClassVar, Literal

from rdkit import Chem

from molvae.optimization.components._base import Batch, ComponentKind, Raw, per_molecule
from molvae.optimization.parameters import require

__all__ = ["Isomer", "parse_formula"]


@cache
def _elements() -> frozenset[str]:
    table = Chem.GetPeriodicTable()
    return frozenset(table.GetElementSymbol(z) for z in range(1, 119))


def parse_formula(formula: str) -> dict[str, int]:
    """Element counts of a molecular formula such as ``"C9H10N2O2PF2Cl"``.

    >>> parse_formula("C7H8N2O2")
    {'C': 7, 'H': 8, 'N': 2, 'O': 2}

    Raises:
        ObjectiveError: not a formula, or an unknown element.
    """
    require(
        isinstance(formula, str) and re.fullmatch(r"(?:[A-Z][a-z]?\d*)+", formula or ""),
        f"isomer: {formula!r} is not a molecular formula such as 'C11H24'",
        "formula",
    )
    counts: Counter[str] = Counter()
    for element, number in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        require(
            element in _elements(), f"isomer: unknown element {element!r} in {formula!r}", "formula"
        )
        counts[element] += int(number) if number else 1
    return dict(counts)


@dataclass(frozen=True)
class Isomer(ComponentKind):
    """Closeness to a molecular formula, as GuacaMol scores isomer tasks: a Gaussian of each
    element's count (hydrogens included) around its target (sigma 1), and one of the total atom
    count (sigma 2), combined by a geometric (default) or arithmetic mean. 1 for an isomer;
    elements absent from the formula count only through the total.

    >>> Isomer("C2H6O")(Batch.of(["CCO", "COC", "CCC"])).values.round(3).tolist()
    [1.0, 1.0, 0.417]
    """

    formula: str
    mean: Literal["geometric", "arithmetic"] = "geometric"
    kind: ClassVar[str] = "isomer"
    cheap: ClassVar[bool] = True
    unit_range: ClassVar[bool] = True
    _target: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        require(
            self.mean in ("geometric", "arithmetic"),
            f"isomer: mean must be 'geometric' or 'arithmetic' (got {self.mean!r})",
            "mean",
        )
        object.__setattr__(self, "_target", tuple(parse_formula(self.formula).items()))

    def _score(self, mol: Chem.Mol) -> float:
        counts = Counter(atom.GetSymbol() for atom in Chem.AddHs(mol).GetAtoms())
        total = sum(n for _, n in self._target)
        terms = [math.exp(-0.5 * (counts[e] - n) ** 2) for e, n in self._target]
        terms.append(math.exp(-0.5 * ((sum(counts.values()) - total) / 2.0) ** 2))
        if self.mean == "arithmetic":
            return sum(terms) / len(terms)
        return math.prod(terms) ** (1.0 / len(terms))

    def __call__(self, batch: Batch) -> Raw:
        return per_molecule(batch, self._score, "isomer")


"""Thin, None-safe verbs over RDKit: parse, canonicalize, and the properties the model learns.

Every function takes a SMILES string or an RDKit ``Mol`` and returns ``None`` / ``NaN`` for input
RDKit cannot read, so batch code never crashes on one bad molecule.

>>> canonical_smiles("OCC")
'CCO'
>>> canonical_smiles("not a molecule") is None
True
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from rdkit import Chem, RDLogger
from rdkit.Chem import QED, Crippen

#: The properties the model's heads predict, in the order of every property array.
PROPERTY_NAMES: tuple[str, ...] = ("qed", "logp", "sa")

MolLike = str | Chem.Mol | None


@contextmanager
def without_rdkit_log() -> Iterator[None]:
    """Silence RDKit's parse warnings inside a block (bad rows are counted, not printed)."""
    RDLogger.DisableLog("rdApp.*")
    try:
        yield
    finally:
        RDLogger.EnableLog("rdApp.*")


def to_mol(mol: MolLike) -> Chem.Mol | None:
    """Parse a SMILES (or pass a Mol through); ``None`` when RDKit cannot read it.

    >>> to_mol("c1ccccc1").GetNumAtoms()
    6
    """
    if mol is None or isinstance(mol, Chem.Mol):
        return mol
    if not isinstance(mol, str) or not mol.strip():
        return None
    return Chem.MolFromSmiles(mol.strip())


def canonical_smiles(mol: MolLike) -> str | None:
    """RDKit canonical SMILES, or ``None`` for unreadable or empty molecules.

    >>> canonical_smiles("C1=CC=CC=C1")
    'c1ccccc1'
    """
    m = to_mol(mol)
    if m is None or m.GetNumAtoms() == 0:
        return None
    return Chem.MolToSmiles(m)


@cache
def _sascorer():  # noqa: ANN202 - RDKit Contrib module, imported once on first use
    from rdkit.Contrib.SA_Score import sascorer

    return sascorer


def qed(mol: MolLike) -> float:
    """Quantitative estimate of drug-likeness (Bickerton 2012), 0..1; NaN if unreadable."""
    m = to_mol(mol)
    return float(QED.qed(m)) if m is not None else math.nan


def logp(mol: MolLike) -> float:
    """Crippen logP; NaN if unreadable."""
    m = to_mol(mol)
    return float(Crippen.MolLogP(m)) if m is not None else math.nan


def sa_score(mol: MolLike) -> float:
    """Synthetic accessibility (Ertl & Schuffenhauer 2009), 1 (easy)..10 (hard); NaN if unreadable.

    >>> round(sa_score("CCO"), 2)
    1.98
    """
    m = to_mol(mol)
    return float(_sascorer().calculateScore(m)) if m is not None else math.nan


def properties(mol: MolLike) -> tuple[float, float, float]:
    """The head properties in ``PROPERTY_NAMES`` order (QED, logP, SA); NaNs if unreadable."""
    m = to_mol(mol)
    return qed(m), logp(m), sa_score(m)

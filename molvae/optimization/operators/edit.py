"""Edits in graph space, learned from in latent space: change one atom or bond of an elite (the
mutations of Jensen's Graph GA, 2019: change, append, insert or delete an atom, change a bond's
order, close or open a ring), then encode the child so the study holds its point.

A SELFIES edit (``mutate``) changes a symbol and lets the rest of the string be re-read, so one
edit can move a whole branch; a graph edit changes exactly one atom or bond: the small step next
to a good molecule that a medicinal chemist, or a GA, takes. Every edit is made on RDKit's
editable molecule and kept only if RDKit sanitizes the result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rdkit import Chem

from molvae.chem import canonical_smiles, without_rdkit_log
from molvae.optimization.operators._base import Elites
from molvae.optimization.operators.encoding import (
    Parsed,
    Screen,
    encoded_proposals,
    new_children,
)
from molvae.optimization.space import SearchSpace
from molvae.optimization.trials import Outcome, Proposal

__all__ = ["EDITS", "GraphEdit", "edit"]

#: Elements an edit writes, with how often: the organic subset of drug-like chemistry.
ELEMENTS = (6, 7, 8, 16, 9, 17, 35)
ELEMENT_WEIGHTS = np.array([0.45, 0.2, 0.2, 0.05, 0.05, 0.03, 0.02])
#: Attempts per proposal asked before giving up (an edit may break valence or repeat).
ATTEMPTS = 5
#: Ring sizes a ring closure makes.
RING_SIZES = (5, 6)

Edit = Callable[[Chem.RWMol, np.random.Generator], bool]


def _element(rng: np.random.Generator) -> int:
    return int(ELEMENTS[rng.choice(len(ELEMENTS), p=ELEMENT_WEIGHTS)])


def _pick(items: Sequence[Any], rng: np.random.Generator) -> Any:
    return items[int(rng.integers(len(items)))] if items else None


def change_atom(mol: Chem.RWMol, rng: np.random.Generator) -> bool:
    atom = _pick(list(mol.GetAtoms()), rng)
    new = _element(rng)
    if atom is None or atom.GetAtomicNum() == new:
        return False
    atom.SetAtomicNum(new)
    atom.SetFormalCharge(0)
    atom.SetNoImplicit(False)
    atom.SetNumExplicitHs(0)
    return True


def append_atom(mol: Chem.RWMol, rng: np.random.Generator) -> bool:
    atom = _pick([a for a in mol.GetAtoms() if a.GetTotalNumHs() > 0], rng)
    if atom is None:
        return False
    new = mol.AddAtom(Chem.Atom(_element(rng)))
    mol.AddBond(atom.GetIdx(), new, Chem.BondType.SINGLE)
    return True


def insert_atom(mol: Chem.RWMol, rng: np.random.Generator) -> bool:
    bond = _pick([b for b in mol.GetBonds() if b.GetBondType() == Chem.BondType.SINGLE], rng)
    if bond is None:
        return False
    i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
    mol.RemoveBond(i, j)
    new = mol.AddAtom(Chem.Atom(_element(rng)))
    mol.AddBond(i, new, Chem.BondType.SINGLE)
    mol.AddBond(new, j, Chem.BondType.SINGLE)
    return True


def delete_atom(mol: Chem.RWMol, rng: np.random.Generator) -> bool:
    """Remove a terminal atom, or a chain atom with its two neighbours joined."""
    atom = _pick([a for a in mol.GetAtoms()
                  if a.GetDegree() == 1 or (a.GetDegree() == 2 and not a.IsInRing())], rng)
    if atom is None or mol.GetNumAtoms() < 3:
        return False
    neighbours = [n.GetIdx() for n in atom.GetNeighbors()]
    if len(neighbours) == 2:
        mol.AddBond(neighbours[0], neighbours[1], Chem.BondType.SINGLE)
    mol.RemoveAtom(atom.GetIdx())
    return True


def change_bond_order(mol: Chem.RWMol, rng: np.random.Generator) -> bool:
    bond = _pick([b for b in mol.GetBonds() if not b.GetIsAromatic()], rng)
    if bond is None:
        return False
    orders = [Chem.BondType.SINGLE, Chem.BondType.DOUBLE]
    if not bond.IsInRing():  # no triple bond in a ring of drug-like size
        orders.append(Chem.BondType.TRIPLE)
    choices = [o for o in orders if o != bond.GetBondType()]
    bond.SetBondType(choices[int(rng.integers(len(choices)))])
    return True


def close_ring(mol: Chem.RWMol, rng: np.random.Generator) -> bool:
    """A single bond between two atoms with hydrogens, 4 or 5 bonds apart: a 5- or 6-ring."""
    distances = Chem.GetDistanceMatrix(mol)
    with_h = np.array([a.GetTotalNumHs() > 0 for a in mol.GetAtoms()], dtype=bool)
    ok = np.triu(np.outer(with_h, with_h), k=1) & np.isin(distances + 1, RING_SIZES)
    pairs = np.argwhere(ok)  # row by row: the pairs (i < j) in atom order
    if not len(pairs):
        return False
    i, j = pairs[int(rng.integers(len(pairs)))]
    mol.AddBond(int(i), int(j), Chem.BondType.SINGLE)
    return True


def open_ring(mol: Chem.RWMol, rng: np.random.Generator) -> bool:
    bond = _pick([b for b in mol.GetBonds() if b.IsInRing() and not b.GetIsAromatic()], rng)
    if bond is None:
        return False
    mol.RemoveBond(bond.GetBeginAtomIdx(), bond.GetEndAtomIdx())
    return True


#: The edits, drawn with equal probability.
EDITS: tuple[Edit, ...] = (change_atom, append_atom, insert_atom, delete_atom,
                           change_bond_order, close_ring, open_ring)


def edit(mol: Chem.Mol, rng: np.random.Generator) -> str | None:
    """One random graph edit of ``mol``: canonical SMILES of the child, or None when the edit
    does not apply or leaves no valid single molecule.

    >>> rng = np.random.default_rng(0)
    >>> children = {edit(Chem.MolFromSmiles("CCO"), rng) for _ in range(100)}
    >>> {"CCN", "CC=O", "CCCO"} <= children
    True
    """
    work = Chem.RWMol(mol)
    with without_rdkit_log():
        try:
            Chem.Kekulize(work, clearAromaticFlags=True)
            if not EDITS[int(rng.integers(len(EDITS)))](work, rng):
                return None
            child = work.GetMol()
            Chem.SanitizeMol(child)
        except (ValueError, RuntimeError):  # valence or kekulization broken by the edit
            return None
    smiles = canonical_smiles(child)
    return smiles if smiles and "." not in smiles else None


@dataclass
class GraphEdit:
    """Graph edits of elites picked by rank, encoded by ``model`` into ``space``."""

    model: Any  # a TrainedModel
    space: SearchSpace
    name: str = "edit"
    #: What a child must pass to be proposed (default :func:`~.encoding.plausible`).
    screen: Screen | None = None
    _mols: Parsed = field(default_factory=Parsed, repr=False)

    def propose(self, elites: Elites, n: int, rng: np.random.Generator) -> list[Proposal]:
        def child() -> str | None:
            parent = self._mols[elites.smiles[int(elites.pick(rng, 1)[0])]]
            return edit(parent, rng) if parent is not None else None

        children = new_children(elites, n, ATTEMPTS, child, self.screen)
        return encoded_proposals(self.model, self.space, children, self.name)

    def update(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome],
               improved: Sequence[bool]) -> None:
        """Stateless: the elites it edits are the study's."""

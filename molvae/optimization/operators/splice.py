"""Recombination in graph space, learned from in latent space: cut two elites each at one
acyclic single bond and join a piece of one to a piece of the other (the non-ring crossover of
Jensen's Graph GA, 2019), then encode the child so the study holds its point.

A latent crossover mixes coordinates and leaves the decoder to make sense of the mixture; a
splice keeps whole substituents and scaffolds, which is what a GA's crossover gains from: the
left half of one good molecule with the right half of another. Cutting and joining are RDKit's
(``FragmentOnBonds`` and ``molzip``).
"""

from __future__ import annotations

from collections.abc import Sequence
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

__all__ = ["FragmentSplice", "cut_bonds", "halves", "splice"]

#: Attempts per proposal asked before giving up (a cut may give a parent or a repeat).
ATTEMPTS = 4
#: The label joining two halves (an atom-map number on the dummy atoms).
JOIN = 1
#: A child's heavy atoms, as shares of its smaller and its larger parent's: the least and the
#: most kept (a splice that keeps two methyls, or doubles a molecule, wastes an oracle call).
SIZE_RANGE = (0.5, 1.5)


def cut_bonds(mol: Chem.Mol) -> list[int]:
    """Indices of the bonds a splice may cut: single, outside rings, between heavy atoms."""
    return [b.GetIdx() for b in mol.GetBonds()
            if b.GetBondType() == Chem.BondType.SINGLE and not b.IsInRing()]


def halves(mol: Chem.Mol, bond: int) -> tuple[Chem.Mol, Chem.Mol]:
    """The two pieces of ``mol`` cut at ``bond``, each with a dummy atom where the bond was."""
    broken = Chem.FragmentOnBonds(mol, [bond], addDummies=True)
    for atom in broken.GetAtoms():
        if atom.GetAtomicNum() == 0:
            atom.SetIsotope(0)
            atom.SetAtomMapNum(JOIN)
    pieces = Chem.GetMolFrags(broken, asMols=True, sanitizeFrags=False)
    return pieces[0], pieces[1]


def splice(a: Chem.Mol, b: Chem.Mol, rng: np.random.Generator) -> str | None:
    """A child of ``a`` and ``b``: a random half of ``a`` cut at a random acyclic single bond,
    joined to a random half of ``b``; canonical SMILES, or None when either parent has no bond
    to cut or the child is not a valid molecule of a size near its parents' (:data:`SIZE_RANGE`).

    >>> rng = np.random.default_rng(0)
    >>> children = {splice(Chem.MolFromSmiles("CCOC"), Chem.MolFromSmiles("c1ccccc1N"), rng)
    ...             for _ in range(20)}
    >>> "COc1ccccc1" in children
    True
    """
    bonds_a, bonds_b = cut_bonds(a), cut_bonds(b)
    if not bonds_a or not bonds_b:
        return None
    left = halves(a, bonds_a[rng.integers(len(bonds_a))])[rng.integers(2)]
    right = halves(b, bonds_b[rng.integers(len(bonds_b))])[rng.integers(2)]
    with without_rdkit_log():
        try:
            child = Chem.molzip(left, right)
            Chem.SanitizeMol(child)
        except (ValueError, RuntimeError):  # RDKit's sanitization and zip errors
            return None
    sizes = a.GetNumHeavyAtoms(), b.GetNumHeavyAtoms()
    if not SIZE_RANGE[0] * min(sizes) <= child.GetNumHeavyAtoms() <= SIZE_RANGE[1] * max(sizes):
        return None
    return canonical_smiles(child)


@dataclass
class FragmentSplice:
    """Splices of two elites picked by rank, encoded by ``model`` into ``space``."""

    model: Any  # a TrainedModel
    space: SearchSpace
    name: str = "splice"
    #: What a child must pass to be proposed (default :func:`~.encoding.plausible`).
    screen: Screen | None = None
    _mols: Parsed = field(default_factory=Parsed, repr=False)

    def propose(self, elites: Elites, n: int, rng: np.random.Generator) -> list[Proposal]:
        if len(elites) < 2:
            return []

        def child() -> str | None:
            i, j = elites.pick(rng, 2)
            if i == j:  # two different parents
                j = (j + 1) % len(elites)
            a, b = self._mols[elites.smiles[i]], self._mols[elites.smiles[j]]
            return splice(a, b, rng) if a is not None and b is not None else None

        children = new_children(elites, n, ATTEMPTS, child, self.screen)
        return encoded_proposals(self.model, self.space, children, self.name)

    def update(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome],
               improved: Sequence[bool]) -> None:
        """Stateless: the elites it splices are the study's."""

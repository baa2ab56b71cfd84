"""Recombination in graph space, learned from in latent space: cut two elites and join a piece
of one to a piece of the other (the crossovers of Jensen's Graph GA, 2019), then encode the
child so the study holds its point.

Half the splices cut each parent at one acyclic single bond (a substituent or a chain swapped);
the other half cut a ring of each parent at two bonds (:func:`ring_halves`) and join the piece
holding one or two ring atoms of one parent to the rest of the other's ring: a ring atom and its
substituents, or a ring's side, swapped. A latent crossover mixes coordinates and leaves the
decoder to make sense of the mixture; a splice keeps whole substituents and scaffolds, which is
what a GA's crossover gains from. Cutting and joining are RDKit's (``FragmentOnBonds`` and
``molzip``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from rdkit import Chem

from molvae.chem import canonical_smiles, to_mol, without_rdkit_log
from molvae.optimization.operators._base import Elites
from molvae.optimization.operators.encoding import (
    Screen,
    encoded_proposals,
    new_children,
)
from molvae.optimization.space import SearchSpace
from molvae.optimization.trials import Outcome, Proposal

__all__ = ["FragmentSplice", "Parent", "cut_bonds", "halves", "ring_cuts", "ring_halves",
           "ring_splice", "splice"]

#: Attempts per proposal asked before giving up (a cut may give a parent or a repeat).
ATTEMPTS = 4
#: The label joining two halves (an atom-map number on the dummy atoms); a ring splice joins
#: at two, ``JOIN`` and ``JOIN + 1``.
JOIN = 1
#: Share of splices that cut rings rather than chains (Jensen's Graph GA: half).
RING_SHARE = 0.5
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


def ring_cuts(mol: Chem.Mol) -> list[tuple[int, int, int, int]]:
    """The ring cuts a splice may make: ``(first, second, inner, k)`` with two bonds of one
    ring of ``mol``, an atom between them and how many ring atoms lie between
    them (``k``, 1 or 2), so that cutting both leaves two pieces: the inner one holding one ring
    atom with a substituent, or two ring atoms, the outer one the rest of the ring. Joined to
    the outer piece of a cut with the same ``k``, an inner piece makes a ring of the outer
    piece's size."""
    rings = mol.GetRingInfo()
    cuts = []
    for atoms in rings.AtomRings():
        n = len(atoms)
        for i in range(n):
            for k in (1, 2):  # ring atoms in the inner piece
                inner = atoms[(i + 1) % n]
                if k == 1 and mol.GetAtomWithIdx(inner).GetDegree() < 3:
                    continue  # a ring atom with nothing on it: the cut swaps nothing
                first = mol.GetBondBetweenAtoms(atoms[i], inner)
                second = mol.GetBondBetweenAtoms(atoms[(i + k) % n], atoms[(i + k + 1) % n])
                if rings.NumBondRings(first.GetIdx()) == rings.NumBondRings(second.GetIdx()) == 1:
                    cuts.append((first.GetIdx(), second.GetIdx(), inner, k))
    return cuts


def ring_halves(mol: Chem.Mol,
                cut: tuple[int, int, int, int]) -> tuple[Chem.Mol, Chem.Mol] | None:
    """The inner and outer pieces of ``mol`` cut at a :func:`ring_cuts` cut, each
    with dummy atoms mapped ``JOIN`` and ``JOIN + 1`` where the two bonds were; None when the
    cut does not leave two pieces (a ring fused elsewhere)."""
    first, second, inner, _ = cut
    broken = Chem.FragmentOnBonds(mol, [first, second], addDummies=True,
                                  dummyLabels=[(JOIN, JOIN), (JOIN + 1, JOIN + 1)])
    for atom in broken.GetAtoms():
        if atom.GetAtomicNum() == 0:
            atom.SetAtomMapNum(atom.GetIsotope())
            atom.SetIsotope(0)
    groups = Chem.GetMolFrags(broken, asMols=False, sanitizeFrags=False)
    if len(groups) != 2:
        return None
    pieces = Chem.GetMolFrags(broken, asMols=True, sanitizeFrags=False)
    return (pieces[0], pieces[1]) if inner in groups[0] else (pieces[1], pieces[0])


class Parent:
    """A parent's cuts and the pieces they leave, each computed once: a splice operator draws
    many children from the same few elites, batch after batch, and cutting (RDKit's
    ``FragmentOnBonds``) is most of a splice's cost. The pieces are shared: a splice copies
    them (``molzip``) and never changes their atoms or bonds."""

    def __init__(self, mol: Chem.Mol) -> None:
        self.mol = mol
        self._halves: dict[int, tuple[Chem.Mol, Chem.Mol]] = {}
        self._ring_halves: dict[tuple[tuple[int, int, int, int], bool],
                                tuple[Chem.Mol, Chem.Mol] | None] = {}

    @cached_property
    def cut_bonds(self) -> list[int]:
        return cut_bonds(self.mol)

    @cached_property
    def ring_cuts(self) -> list[tuple[int, int, int, int]]:
        return ring_cuts(self.mol)

    @cached_property
    def kekulized(self) -> Chem.Mol | None:
        return _kekulized(self.mol)

    def halves(self, bond: int) -> tuple[Chem.Mol, Chem.Mol]:
        if bond not in self._halves:
            self._halves[bond] = halves(self.mol, bond)
        return self._halves[bond]

    def ring_halves(self, cut: tuple[int, int, int, int],
                    kekulize: bool) -> tuple[Chem.Mol, Chem.Mol] | None:
        """:func:`ring_halves` of the molecule, or of its Kekulé form; None as there, or where
        the molecule has no Kekulé form."""
        key = cut, kekulize
        if key not in self._ring_halves:
            mol = self.kekulized if kekulize else self.mol
            self._ring_halves[key] = ring_halves(mol, cut) if mol is not None else None
        return self._ring_halves[key]


def _chain_pieces(a: Parent, b: Parent,
                  rng: np.random.Generator) -> tuple[Chem.Mol, Chem.Mol] | None:
    bonds_a, bonds_b = a.cut_bonds, b.cut_bonds
    if not bonds_a or not bonds_b:
        return None
    left = a.halves(bonds_a[rng.integers(len(bonds_a))])[rng.integers(2)]
    right = b.halves(bonds_b[rng.integers(len(bonds_b))])[rng.integers(2)]
    return left, right


def _kekulized(mol: Chem.Mol) -> Chem.Mol | None:
    work = Chem.RWMol(mol)
    try:
        Chem.Kekulize(work, clearAromaticFlags=True)
    except (ValueError, RuntimeError):
        return None
    return work


def ring_splice(a: Chem.Mol, b: Chem.Mol, rng: np.random.Generator) -> Chem.Mol | None:
    """A ring splice of ``a`` and ``b``: the inner piece of one joined to the outer piece of
    the other, the new ring aromatic where its atoms were (the bonds zipped as they were),
    else with the bond orders :func:`_ring_join` finds."""
    with without_rdkit_log():
        return _ring_splice(Parent(a), Parent(b), rng)


def _ring_splice(a: Parent, b: Parent, rng: np.random.Generator) -> Chem.Mol | None:
    """:func:`ring_splice` of two parents, under RDKit's log muted."""
    cuts_a = a.ring_cuts
    if not cuts_a:
        return None
    cut_a = cuts_a[rng.integers(len(cuts_a))]
    cuts_b = [c for c in b.ring_cuts if c[3] == cut_a[3]]  # as many inner ring atoms
    if not cuts_b:
        return None
    cut_b = cuts_b[rng.integers(len(cuts_b))]
    a_inner = rng.random() < 0.5
    for kekulize in (False, True):
        if kekulize and (a.kekulized is None or b.kekulized is None):
            return None
        pa, pb = a.ring_halves(cut_a, kekulize), b.ring_halves(cut_b, kekulize)
        if pa is None or pb is None:
            return None
        inner, outer = (pa[0], pb[1]) if a_inner else (pb[0], pa[1])
        if kekulize:
            return _ring_join(inner, outer, rng)
        try:
            child = Chem.molzip(inner, outer)
            Chem.SanitizeMol(child)
            return child
        except (ValueError, RuntimeError):  # not aromatic as zipped: try bond orders
            continue
    return None


def _ring_join(inner: Chem.Mol, outer: Chem.Mol, rng: np.random.Generator) -> Chem.Mol | None:
    """``inner`` and ``outer`` zipped into one ring, the two new bonds given the orders
    (single or double, as Jensen's ring crossover tries both) that make a valid molecule with no
    carbon between two double bonds; one such molecule at random among those with the most
    aromatic atoms (an aromatic ring stays aromatic where it can), or None."""
    for piece, side in ((inner, 1), (outer, 2)):
        for atom in piece.GetAtoms():
            atom.SetIntProp("side", side)
    try:
        zipped = Chem.molzip(inner, outer)
    except (ValueError, RuntimeError):
        return None
    joins = [b.GetIdx() for b in zipped.GetBonds()
             if b.GetBeginAtom().GetIntProp("side") != b.GetEndAtom().GetIntProp("side")]
    children = []
    for orders in ((1, 1), (1, 2), (2, 1), (2, 2))[: 4 if len(joins) == 2 else 1]:
        child = Chem.RWMol(zipped)
        for bond, order in zip(joins, orders, strict=False):
            child.GetBondWithIdx(bond).SetBondType(
                Chem.BondType.SINGLE if order == 1 else Chem.BondType.DOUBLE)
        try:
            Chem.SanitizeMol(child)
        except (ValueError, RuntimeError):
            continue
        if not any(sum(b.GetBondType() == Chem.BondType.DOUBLE for b in atom.GetBonds()) > 1
                   for atom in child.GetAtoms() if atom.GetAtomicNum() == 6):
            children.append(child)
    if not children:
        return None
    aromatic = [sum(atom.GetIsAromatic() for atom in c.GetAtoms()) for c in children]
    best = [c for c, n in zip(children, aromatic, strict=True) if n == max(aromatic)]
    return best[int(rng.integers(len(best)))]


def splice(a: Chem.Mol | Parent, b: Chem.Mol | Parent, rng: np.random.Generator) -> str | None:
    """A child of ``a`` and ``b``: a chain splice (a random half of ``a`` cut at a random
    acyclic single bond, joined to a random half of ``b``) or, :data:`RING_SHARE` of the time, a
    ring splice (:func:`ring_halves`); canonical SMILES, or None when the parents have nothing
    to cut or the child is not a valid molecule of a size near its parents'
    (:data:`SIZE_RANGE`).

    >>> rng = np.random.default_rng(0)
    >>> children = {splice(Chem.MolFromSmiles("CCOC"), Chem.MolFromSmiles("c1ccccc1N"), rng)
    ...             for _ in range(20)}
    >>> "COc1ccccc1" in children
    True
    """
    a, b = (p if isinstance(p, Parent) else Parent(p) for p in (a, b))
    ring = rng.random() < RING_SHARE and bool(a.ring_cuts)
    with without_rdkit_log():
        try:
            if ring:
                child = _ring_splice(a, b, rng)
            elif (pieces := _chain_pieces(a, b, rng)) is not None:
                child = Chem.molzip(*pieces)
                Chem.SanitizeMol(child)
            else:
                return None
        except (ValueError, RuntimeError):  # RDKit's sanitization and zip errors
            return None
    if child is None:
        return None
    sizes = a.mol.GetNumHeavyAtoms(), b.mol.GetNumHeavyAtoms()
    if not SIZE_RANGE[0] * min(sizes) <= child.GetNumHeavyAtoms() <= SIZE_RANGE[1] * max(sizes):
        return None
    smiles = canonical_smiles(child)
    return smiles if smiles and "." not in smiles else None


@dataclass
class FragmentSplice:
    """Splices of two elites picked by rank, encoded by ``model`` into ``space``."""

    model: Any  # a TrainedModel
    space: SearchSpace
    name: str = "splice"
    #: What a child must pass to be proposed (default :func:`~.encoding.plausible`).
    screen: Screen | None = None
    _parents: dict[str, Parent | None] = field(default_factory=dict, repr=False)

    def propose(self, elites: Elites, n: int, rng: np.random.Generator) -> list[Proposal]:
        if len(elites) < 2:
            return []

        def child() -> str | None:
            i, j = elites.pick(rng, 2)
            if i == j:  # two different parents
                j = (j + 1) % len(elites)
            a, b = self._parent(elites.smiles[i]), self._parent(elites.smiles[j])
            return splice(a, b, rng) if a is not None and b is not None else None

        children = new_children(elites, n, ATTEMPTS, child, self.screen)
        return encoded_proposals(self.model, self.space, children, self.name)

    def update(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome],
               improved: Sequence[bool]) -> None:
        """Stateless: the elites it splices are the study's."""

    def _parent(self, smiles: str) -> Parent | None:
        if smiles not in self._parents:
            mol = to_mol(smiles)
            self._parents[smiles] = Parent(mol) if mol is not None else None
        return self._parents[smiles]

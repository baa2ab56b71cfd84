"""Thin, None-safe verbs over RDKit: parse, canonicalize, the properties the model learns, and the
descriptors and structural alerts a chemist reads beside them.

Every function takes a SMILES string or an RDKit ``Mol`` and returns ``None`` / ``NaN`` for input
RDKit cannot read (or an empty molecule), so batch code never crashes on one bad molecule.

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
from typing import Literal

from rdkit import Chem, rdBase
from rdkit.Chem import QED, Crippen, Descriptors, rdMolDescriptors
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams
from rdkit.Chem.Scaffolds import MurckoScaffold

#: The properties the model's heads predict, in the order of every property array.
PROPERTY_NAMES: tuple[str, ...] = ("qed", "logp", "sa")

MolLike = str | Chem.Mol | None
#: The structural-alert catalogs :func:`alerts` knows by name.
CatalogName = Literal["pains", "brenk"]


@contextmanager
def without_rdkit_log() -> Iterator[None]:
    """Silence RDKit's log inside a block (bad rows are counted, not printed); on leaving it each
    level (debug, info, warning, error) is back as the caller had it, so blocks nest.

    >>> with without_rdkit_log():
    ...     to_mol("C1CC") is None  # no "unclosed ring" message
    True
    """
    with rdBase.BlockLogs():  # RDKit's own guard: saves the levels, restores them on exit
        yield


#: Characters a SMILES string may hold at the most: far beyond any molecule a model encodes
#: (a few hundred), and far below what makes RDKit run for minutes or crash.
MAX_SMILES_LENGTH = 5000


def smiles_problem(smiles: str) -> str | None:
    """Why a string cannot be a SMILES, found before RDKit parses it (None: let RDKit judge).
    RDKit silently stops at a character SMILES cannot contain (``"CCÖ"`` reads as ethane), and
    very long input costs minutes or crashes it.

    >>> smiles_problem("CCÖ")
    "character 'Ö' at position 3 cannot be in a SMILES"
    >>> smiles_problem("CCO") is None
    True
    """
    if len(smiles) > MAX_SMILES_LENGTH:
        return (f"{len(smiles):,} characters long, far longer than any molecule a model "
                f"encodes (at most {MAX_SMILES_LENGTH:,} are read)")
    for i, c in enumerate(smiles, 1):
        if not " " <= c <= "~":
            return f"character {c!r} at position {i} cannot be in a SMILES"
    return None


def why_unreadable(smiles: str) -> str:
    """What is wrong with a SMILES that :func:`to_mol` does not read, for messages."""
    if not isinstance(smiles, str) or not smiles.strip():
        return "empty"
    return smiles_problem(smiles.strip()) or "RDKit cannot parse it"


def to_mol(mol: MolLike) -> Chem.Mol | None:
    """Parse a SMILES (or pass a Mol through); ``None`` when RDKit cannot read it, or when it
    is not a SMILES at all (:func:`smiles_problem`). RDKit's own complaints are not printed: a
    caller says what is wrong (:func:`why_unreadable`).

    >>> to_mol("c1ccccc1").GetNumAtoms()
    6
    """
    if mol is None or isinstance(mol, Chem.Mol):
        return mol
    if not isinstance(mol, str) or not mol.strip() or smiles_problem(mol.strip()):
        return None
    with rdBase.BlockLogs():
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


def has_stereo_marks(smiles: str) -> bool:
    """Whether a SMILES writes any stereo (``@`` centres, ``/`` ``\\`` double bonds): one
    without marks is its own :func:`without_stereo` form, so no parse is needed."""
    return "@" in smiles or "/" in smiles or "\\" in smiles


def without_stereo(mol: MolLike) -> str | None:
    """Canonical SMILES with every stereo mark dropped: the constitution every stereoisomer
    shares. ``None`` for unreadable or empty molecules.

    >>> without_stereo("C[C@H](O)CC"), without_stereo("C/C=C/C")
    ('CCC(C)O', 'CC=CC')
    """
    m = to_mol(mol)
    if m is None or m.GetNumAtoms() == 0:
        return None
    m = Chem.Mol(m)
    Chem.RemoveStereochemistry(m)
    return Chem.MolToSmiles(m)


def ring_framework(mol: MolLike) -> str | None:
    """The generic Murcko framework (Bemis & Murcko 1996): the ring systems and the chains
    between them, every atom a carbon and every bond single, as canonical SMILES; ``""`` for a
    molecule without rings, ``None`` for unreadable or empty molecules. Molecules that differ
    only in substituents, heteroatoms or bond orders share one.

    >>> ring_framework("Cc1ccc(-c2ccncc2)cc1O"), ring_framework("CCO")
    ('C1CCC(C2CCCCC2)CC1', '')
    """
    m = to_mol(mol)
    if m is None or m.GetNumAtoms() == 0:
        return None
    if not m.GetRingInfo().NumRings():
        return ""
    scaffold = MurckoScaffold.GetScaffoldForMol(m)
    try:
        return Chem.MolToSmiles(MurckoScaffold.MakeScaffoldGeneric(scaffold))
    except (ValueError, RuntimeError):  # an RDKit corner case: the plain framework instead
        return Chem.MolToSmiles(scaffold)


def closed_shell_mol(mol: MolLike) -> Chem.Mol | None:
    """The molecule with every radical filled with hydrogens; ``None`` if unreadable or empty.

    A SELFIES bracket atom keeps the hydrogen count it was written with (``[C@@H1]``,
    ``[N+1]``) even when decoding gives it fewer bonds than it needs, and RDKit reads the gap as
    a radical: decoded molecules are made closed-shell, as a chemist would draw them.
    """
    m = to_mol(mol)
    if m is None or m.GetNumAtoms() == 0:
        return None
    radicals = [a for a in m.GetAtoms() if a.GetNumRadicalElectrons()]
    if radicals:
        m = Chem.RWMol(m)
        for atom in m.GetAtoms():
            if atom.GetNumRadicalElectrons():
                atom.SetNumRadicalElectrons(0)
                atom.SetNoImplicit(False)
        try:
            Chem.SanitizeMol(m)
        except (Chem.rdchem.MolSanitizeException, ValueError):
            return None
    return m


def closed_shell_smiles(mol: MolLike) -> str | None:
    """:func:`canonical_smiles` of :func:`closed_shell_mol`.

    >>> closed_shell_smiles("C[C@@H]C"), closed_shell_smiles("C[N+](C)C")
    ('CCC', 'C[NH+](C)C')
    """
    m = closed_shell_mol(mol)
    return None if m is None else Chem.MolToSmiles(m)


def _nonempty(mol: MolLike) -> Chem.Mol | None:
    """``to_mol``, and ``None`` for a molecule without atoms (no descriptor means anything)."""
    m = to_mol(mol)
    return m if m is not None and m.GetNumAtoms() else None


@cache
def _sascorer():  # noqa: ANN202 - RDKit Contrib module, imported once on first use
    from rdkit.Contrib.SA_Score import sascorer

    return sascorer


def qed(mol: MolLike) -> float:
    """Quantitative estimate of drug-likeness (Bickerton 2012), 0..1; NaN if unreadable."""
    m = _nonempty(mol)
    return float(QED.qed(m)) if m is not None else math.nan


def logp(mol: MolLike) -> float:
    """Crippen logP; NaN if unreadable."""
    m = _nonempty(mol)
    return float(Crippen.MolLogP(m)) if m is not None else math.nan


def sa_score(mol: MolLike) -> float:
    """Synthetic accessibility (Ertl & Schuffenhauer 2009), 1 (easy)..10 (hard); NaN if unreadable.

    >>> round(sa_score("CCO"), 2)
    1.98
    """
    m = _nonempty(mol)
    return float(_sascorer().calculateScore(m)) if m is not None else math.nan


def properties(mol: MolLike) -> tuple[float, float, float]:
    """The head properties in ``PROPERTY_NAMES`` order (QED, logP, SA); NaNs if unreadable."""
    m = _nonempty(mol)
    return qed(m), logp(m), sa_score(m)


# Descriptors for the chemist's table (molvae.properties); counts are ints, None if unreadable.


def mol_weight(mol: MolLike) -> float:
    """Average molecular weight in g/mol, implicit hydrogens included; NaN if unreadable.

    >>> round(mol_weight("CC(=O)Oc1ccccc1C(=O)O"), 2)
    180.16
    """
    m = _nonempty(mol)
    return float(Descriptors.MolWt(m)) if m is not None else math.nan


def tpsa(mol: MolLike) -> float:
    """Topological polar surface area (Ertl 2000) in A^2 from N and O only, as QED and most
    permeability rules of thumb use it; NaN if unreadable."""
    m = _nonempty(mol)
    return float(rdMolDescriptors.CalcTPSA(m)) if m is not None else math.nan


def hbd(mol: MolLike) -> int | None:
    """Hydrogen-bond donors as Lipinski counted them for the rule of five: hydrogens on N and O
    (``rdMolDescriptors.CalcNumLipinskiHBD``). ``Chem.Lipinski.NumHDonors`` is a different,
    pharmacophore-style count; QED uses that one internally.

    >>> hbd("CC(=O)Oc1ccccc1C(=O)O")
    1
    """
    m = _nonempty(mol)
    return int(rdMolDescriptors.CalcNumLipinskiHBD(m)) if m is not None else None


def hba(mol: MolLike) -> int | None:
    """Hydrogen-bond acceptors as Lipinski counted them for the rule of five: N and O atoms
    (``rdMolDescriptors.CalcNumLipinskiHBA``), not ``Chem.Lipinski.NumHAcceptors``.

    >>> hba("CC(=O)Oc1ccccc1C(=O)O")
    4
    """
    m = _nonempty(mol)
    return int(rdMolDescriptors.CalcNumLipinskiHBA(m)) if m is not None else None


def rotatable_bonds(mol: MolLike) -> int | None:
    """Rotatable bonds, RDKit's strict definition (its default, and the one QED uses: no amide
    C-N, no bonds to triple bonds or terminal groups such as CF3)."""
    m = _nonempty(mol)
    if m is None:
        return None
    strict = rdMolDescriptors.NumRotatableBondsOptions.Strict
    return int(rdMolDescriptors.CalcNumRotatableBonds(m, strict))


def ring_count(mol: MolLike) -> int | None:
    """Rings as RDKit perceives them (the symmetrized SSSR: cubane has 6, not 5); ``None`` if
    unreadable."""
    m = _nonempty(mol)
    return int(rdMolDescriptors.CalcNumRings(m)) if m is not None else None


def largest_ring(mol: MolLike) -> int | None:
    """Atoms in the molecule's largest ring (RDKit's SSSR; 0 without rings); ``None`` if
    unreadable. A macrocycle in a decoded sample is most often a ring closure written at the
    wrong place.

    >>> largest_ring("c1ccc2ccccc2c1"), largest_ring("C1CCCCCCCCCC1"), largest_ring("CCO")
    (6, 11, 0)
    """
    m = _nonempty(mol)
    if m is None:
        return None
    return max((len(ring) for ring in m.GetRingInfo().AtomRings()), default=0)


def aromatic_ring_count(mol: MolLike) -> int | None:
    """Aromatic rings (RDKit aromaticity); ``None`` if unreadable."""
    m = _nonempty(mol)
    return int(rdMolDescriptors.CalcNumAromaticRings(m)) if m is not None else None


def fraction_sp3(mol: MolLike) -> float:
    """Fraction of carbons that are sp3 (Lovering's Fsp3, a flatness measure); NaN if unreadable."""
    m = _nonempty(mol)
    return float(rdMolDescriptors.CalcFractionCSP3(m)) if m is not None else math.nan


def formal_charge(mol: MolLike) -> int | None:
    """Net formal charge (a zwitterion counts 0); ``None`` if unreadable."""
    m = _nonempty(mol)
    return int(Chem.GetFormalCharge(m)) if m is not None else None


def implausible_atoms(mol: MolLike) -> list[str] | None:
    """The atoms no stable drug-like molecule carries, as SMILES atoms: a charged carbon (an
    isocyanide's ``[C-]#[N+]`` aside), a positive oxygen or sulfur that holds hydrogens
    (oxonium ``[OH2+]``, sulfonium ``[SH2+]``: a strong acid's conjugate, never isolated), a
    positive halogen, an alkoxide or thiolate (``[O-]`` or ``[S-]`` on a saturated carbon), an
    ``[N-]`` between saturated carbons, an unpaired electron, a neutral sulfur or phosphorus
    whose extra valence is not oxo (a sulfurane ``S(F)(N)``). Protonated amines (``[NH+]``,
    ``[NH3+]``), quaternary and nitro nitrogens, pyridinium, carboxylates, phenolates, N-oxides
    and the anions of tetrazoles and sulfonamides are ordinary (in a sample of 30,000 ZINC250k
    molecules, 19 have such an atom: 18 an alkoxide, one a phosphorane). Empty for a plausible
    molecule, ``None`` if unreadable.

    Why: a search that may write any symbol finds that such atoms game an objective (an
    ``[OH2+]`` is a hydrogen-bond donor and lowers logP), and the chemist gets nothing to make.

    >>> [implausible_atoms(s) for s in ("CC[OH2+]", "CC[NH3+]", "[C-]#[N+]C", "CS(C)(F)N")]
    [['[OH2+]'], [], [], ['[S]']]
    """
    m = _nonempty(mol)
    if m is None:
        return None
    out = []
    for atom in m.GetAtoms():
        charge, element = atom.GetFormalCharge(), atom.GetAtomicNum()
        if atom.GetNumRadicalElectrons():
            bad = True
        elif element == 6 and charge:
            bad = not (charge == -1 and any(b.GetBondType() == Chem.BondType.TRIPLE
                                            for b in atom.GetBonds()))
        elif charge > 0 and element in (9, 17, 35, 53):
            bad = True
        elif charge < 0 and element in (7, 8, 16) and atom.GetDegree():
            bad = all(n.GetAtomicNum() == 6 and n.GetHybridization() == Chem.HybridizationType.SP3
                      for n in atom.GetNeighbors())
        elif element in (15, 16) and not charge and not atom.GetIsAromatic():
            bad = _hypervalent_without_oxo(atom)
        else:
            bad = charge > 0 and element in (8, 16) and atom.GetTotalNumHs() > 0
        if bad:
            out.append(_atom_smiles(atom))
    return out


def _hypervalent_without_oxo(atom: Chem.Atom) -> bool:
    """A neutral sulfur or phosphorus past its plain valence (2, 3) whose extra bonds are not
    double bonds to oxygen, nitrogen or sulfur: a sulfurane ``S(F)(N)``, not a sulfoxide,
    sulfone, sulfoximine or phosphate."""
    extra = atom.GetTotalValence() - (2 if atom.GetAtomicNum() == 16 else 3)
    oxo = sum(b.GetBondType() == Chem.BondType.DOUBLE
              and b.GetOtherAtom(atom).GetAtomicNum() in (7, 8, 16) for b in atom.GetBonds())
    return extra > 0 and 2 * oxo < extra


def _atom_smiles(atom: Chem.Atom) -> str:
    hs, charge = atom.GetTotalNumHs(), atom.GetFormalCharge()
    h = "" if not hs else "H" if hs == 1 else f"H{hs}"
    sign = {0: "", 1: "+", -1: "-"}.get(charge, f"{charge:+d}")
    dot = "." * atom.GetNumRadicalElectrons()
    return f"[{atom.GetSymbol()}{h}{sign}{dot}]"


def lipinski_violations(mol: MolLike) -> int | None:
    """How many of Lipinski's rule-of-five limits the molecule breaks (0-4): molecular weight
    > 500, Crippen logP > 5, :func:`hbd` > 5, :func:`hba` > 10. More than one predicts poor oral
    absorption.

    >>> lipinski_violations("CC(=O)Oc1ccccc1C(=O)O")
    0
    """
    m = _nonempty(mol)
    if m is None:
        return None
    return rule_of_five_violations(mol_weight(m), logp(m), hbd(m), hba(m))


def rule_of_five_violations(mw: float, logp: float, hbd: int, hba: int) -> int:
    """:func:`lipinski_violations` from descriptors already computed."""
    return int(mw > 500) + int(logp > 5) + int(hbd > 5) + int(hba > 10)


@cache
def filter_catalog(name: CatalogName) -> FilterCatalog:
    """RDKit's structural-alert catalog ``"pains"`` (Baell 2010, families A, B and C: 480 assay
    interference motifs) or ``"brenk"`` (Brenk 2008: 105 toxic, reactive or unstable groups).
    Built once per process and cached, since building one takes a while.

    Raises:
        ValueError: an unknown catalog name.
    """
    kinds = {
        "pains": FilterCatalogParams.FilterCatalogs.PAINS,
        "brenk": FilterCatalogParams.FilterCatalogs.BRENK,
    }
    if name not in kinds:
        raise ValueError(f"unknown alert catalog {name!r}; expected one of {sorted(kinds)}")
    params = FilterCatalogParams()
    params.AddCatalog(kinds[name])
    return FilterCatalog(params)


def alerts(mol: MolLike, catalog: CatalogName | FilterCatalog) -> list[str] | None:
    """Names of the catalog's alerts the molecule matches, in catalog order (``[]`` if none);
    ``None`` if unreadable. PAINS names carry the number of compounds behind the motif, as RDKit
    gives them, e.g. ``"ene_rhod_A(235)"``.

    >>> alerts("O=C1C(=Cc2ccc(O)c(O)c2)SC(=S)N1", "pains")
    ['ene_rhod_A(235)', 'catechol_A(92)']
    >>> alerts("CCO", "brenk")
    []
    """
    m = _nonempty(mol)
    if m is None:
        return None
    if isinstance(catalog, str):
        catalog = filter_catalog(catalog)
    return [entry.GetDescription() for entry in catalog.GetMatches(m)]

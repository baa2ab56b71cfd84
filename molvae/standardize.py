"""Input standardization before encoding: the molecule a chemist brings (a salt, a hydrate, a
charged species, a stereo form the model has no symbol for) made into one the model can encode,
with every change said, never silent. The chemistry is RDKit's ``rdMolStandardize``.

Steps, in order, each only when needed:

1. metals disconnected and the largest organic fragment kept (counter-ions, solvents dropped);
   a kept fragment left charged by its counter-ion is neutralized;
2. functional groups normalized, when the normal form has symbols the input lacks;
3. charges the model has no symbol for neutralized;
4. double-bond stereo, then stereocentres, then isotope labels the model has no symbol for
   dropped.

What is still outside the alphabet afterwards gets the usual error of the encoder.

>>> known = {"[C]", "[O]", "[=O]", "[Branch1]", "[C@@H1]", "[N]"}
>>> def missing(smiles):
...     import selfies as sf
...     return {s for s in sf.split_selfies(sf.encoder(smiles)) if s not in known}
>>> st = standardize("C[C@@H](O)C(=O)[O-].[Na+]", missing)
>>> st.smiles, st.note
('C[C@@H](O)C(=O)O', 'removed fragment [Na+]; neutralized')
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass

from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize

from molvae.chem import to_mol, without_rdkit_log

#: Symbols of a canonical SMILES the model lacks (empty: it can encode it as it is).
MissingSymbols = Callable[[str], Collection[str]]


@dataclass(frozen=True)
class Standardized:
    """The molecule to encode (canonical SMILES; None when RDKit cannot read the input) and
    what was changed to get it, in order."""

    input: str
    smiles: str | None
    changes: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        """The changes as one line for a ``standardized`` column ("" when none)."""
        return "; ".join(self.changes)


def standardize(smiles: str, missing: MissingSymbols | None = None) -> Standardized:
    """The molecule the model should encode for ``smiles``, and the changes made.

    ``missing`` tells which SELFIES symbols of a canonical SMILES the model lacks; without it
    only the fragment and normalization steps run (what any model needs).
    """
    with without_rdkit_log():
        mol = to_mol(smiles)
        if mol is None or mol.GetNumAtoms() == 0:
            return Standardized(smiles, None)
        changes: list[str] = []
        mol = _largest_fragment(mol, changes)
        if missing is not None:
            mol = _fit_alphabet(mol, missing, changes)
        return Standardized(smiles, Chem.MolToSmiles(mol), tuple(changes))


def _largest_fragment(mol: Chem.Mol, changes: list[str]) -> Chem.Mol:
    disconnected = rdMolStandardize.MetalDisconnector().Disconnect(mol)
    fragments = Chem.GetMolFrags(disconnected, asMols=True, sanitizeFrags=False)
    if len(fragments) < 2:
        return mol
    kept = rdMolStandardize.LargestFragmentChooser(preferOrganic=True).choose(disconnected)
    parent = Chem.MolToSmiles(kept)
    removed = Counter(Chem.MolToSmiles(f) for f in fragments)
    copies = removed.pop(parent, 1)
    if removed:
        names = [f"{n} x {smi}" if n > 1 else smi for smi, n in sorted(removed.items())]
        plural = "s" if sum(removed.values()) > 1 else ""
        changes.append(f"removed fragment{plural} {', '.join(names)}")
    if copies > 1:  # a 2:1 salt such as a tartrate or a fumarate
        changes.append(f"kept one of {copies} copies of the parent")
    if Chem.GetFormalCharge(kept) != 0:  # a counter-ion's partner: the parent is neutral
        kept = _neutralized(kept, changes)
    return kept


def _normalized(mol: Chem.Mol, missing: MissingSymbols, changes: list[str]) -> Chem.Mol:
    """RDKit's normal forms of functional groups, where they are what the model knows (its
    sulfoxides are charge-separated, which a model trained on ``S=O`` has no symbol for)."""
    out = rdMolStandardize.Normalize(mol)
    if Chem.MolToSmiles(out) == Chem.MolToSmiles(mol):
        return mol
    if len(_missing(out, missing)) >= len(_missing(mol, missing)):
        return mol
    changes.append("normalized functional groups")
    return out


def _neutralized(mol: Chem.Mol, changes: list[str]) -> Chem.Mol:
    out = rdMolStandardize.Uncharger().uncharge(mol)
    if Chem.MolToSmiles(out) != Chem.MolToSmiles(mol):
        changes.append("neutralized")
    return out


def _fit_alphabet(mol: Chem.Mol, missing: MissingSymbols, changes: list[str]) -> Chem.Mol:
    """Drop, one kind at a time, what the alphabet has no symbol for."""
    if _missing(mol, missing):
        mol = _normalized(mol, missing, changes)
    steps = (
        (lambda s: "+" in s or "-1" in s or "-2" in s, _neutralized),
        (lambda s: "/" in s or "\\" in s, _without_bond_stereo),
        (lambda s: "@" in s, _without_stereocentres),
        (lambda s: s[1:2].isdigit(), _without_isotopes),
    )
    for applies, fix in steps:
        lacking = _missing(mol, missing)
        if not lacking:
            break
        if any(applies(s) for s in lacking):
            mol = fix(mol, changes)
    return mol


def _missing(mol: Chem.Mol, missing: MissingSymbols) -> Collection[str]:
    try:
        return missing(Chem.MolToSmiles(mol))
    except Exception:  # noqa: BLE001 - unencodable as SELFIES: the encoder will say why
        return ()


def _without_bond_stereo(mol: Chem.Mol, changes: list[str]) -> Chem.Mol:
    out = Chem.Mol(mol)
    for bond in out.GetBonds():
        bond.SetStereo(Chem.BondStereo.STEREONONE)
        bond.SetBondDir(Chem.BondDir.NONE)
    out = Chem.MolFromSmiles(Chem.MolToSmiles(out))
    changes.append("removed double-bond stereo")
    return out


def _without_stereocentres(mol: Chem.Mol, changes: list[str]) -> Chem.Mol:
    out = Chem.Mol(mol)
    for atom in out.GetAtoms():
        atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
    out = Chem.MolFromSmiles(Chem.MolToSmiles(out))
    changes.append("removed stereocentres")
    return out


def _without_isotopes(mol: Chem.Mol, changes: list[str]) -> Chem.Mol:
    out = Chem.RemoveHs(rdMolStandardize.IsotopeParent(mol, skipStandardize=True))
    changes.append("removed isotope labels")
    return out


__all__ = ["MissingSymbols", "Standardized", "standardize"]

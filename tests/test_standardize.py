"""molvae.standardize: what a chemist brings made encodable, each change said, nothing silent."""

from __future__ import annotations

import pytest
import selfies as sf
from rdkit import Chem

from molvae.standardize import standardize

#: A small alphabet: neutral organic atoms, one stereocentre symbol, no charges, no bond stereo.
KNOWN = {"[C]", "[O]", "[=O]", "[N]", "[=C]", "[Cl]", "[Ring1]", "[Branch1]", "[=Branch1]",
         "[C@@H1]", "[C@H1]", "[S]", "[=S]"}


def missing(smiles: str) -> set[str]:
    return {s for s in sf.split_selfies(sf.encoder(smiles)) if s not in KNOWN}


@pytest.mark.parametrize(("given", "expected", "note"), [
    ("CC(=O)[O-].[Na+]", "CC(=O)O", "removed fragment [Na+]; neutralized"),
    ("CC(=O)O[Na]", "CC(=O)O", "removed fragment [Na+]; neutralized"),
    ("CCN.Cl", "CCN", "removed fragment Cl"),
    ("CCO.O.O", "CCO", "removed fragments 2 x O"),
    ("C[NH+](C)C", "CN(C)C", "neutralized"),
    ("CC[NH3+].CC[NH3+].[O-]C(=O)C(=O)[O-]", "CCN",
     "removed fragment O=C([O-])C(=O)[O-]; kept one of 2 copies of the parent; neutralized"),
    ("C/C=C/C(=O)O", "CC=CC(=O)O", "removed double-bond stereo"),
    ("[2H]C([2H])([2H])OC", "COC", "removed isotope labels"),
    ("C[C@@H](O)C(=O)O", "C[C@@H](O)C(=O)O", ""),
    ("CCS(=O)C", "CCS(C)=O", ""),  # the sulfoxide stays as the model knows it
])
def test_each_change_is_made_and_said(given: str, expected: str, note: str) -> None:
    st = standardize(given, missing)
    assert st.input == given
    assert st.smiles == Chem.CanonSmiles(expected)
    assert st.note == note
    assert not missing(st.smiles)


def test_stereocentres_the_alphabet_lacks_are_dropped_but_known_ones_kept() -> None:
    quaternary = "C[C@](O)(N)CC"  # [C@] is not in KNOWN; [C@@H1] is
    st = standardize(quaternary, missing)
    assert st.smiles == Chem.CanonSmiles("CC(O)(N)CC") and st.note == "removed stereocentres"
    assert standardize("C[C@H](O)CC", missing).note == ""


def test_without_an_alphabet_only_fragments_are_handled() -> None:
    st = standardize("C[C@](O)(N)CC.Cl")
    assert st.smiles == Chem.CanonSmiles("C[C@](O)(N)CC") and st.note == "removed fragment Cl"


def test_what_cannot_be_fixed_is_left_for_the_encoder_to_name() -> None:
    st = standardize("C[Si](C)(C)C", missing)
    assert st.smiles == "C[Si](C)(C)C" and st.note == ""
    assert missing(st.smiles) == {"[Si]"}


@pytest.mark.parametrize("bad", ["not a molecule", "", "C1CC"])
def test_unreadable_input_gives_no_molecule_and_no_crash(bad: str) -> None:
    st = standardize(bad, missing)
    assert st.smiles is None and st.changes == () and st.input == bad

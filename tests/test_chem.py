"""molvae.chem: None-safe verbs over RDKit."""

from __future__ import annotations

import math

import pytest
from rdkit import Chem

from molvae import chem


@pytest.mark.parametrize(
    ("smiles", "expected"),
    [
        ("OCC", "CCO"),
        ("C1=CC=CC=C1", "c1ccccc1"),
        ("  CCO  ", "CCO"),
        ("[Na+].[Cl-]", "[Cl-].[Na+]"),
    ],
)
def test_canonical_smiles_matches_rdkit(smiles: str, expected: str) -> None:
    assert chem.canonical_smiles(smiles) == expected


@pytest.mark.parametrize("bad", ["", "   ", "not a molecule", "C1CC", "XYZ", None, 42])
def test_unreadable_input_gives_none(bad) -> None:
    with chem.without_rdkit_log():
        assert chem.to_mol(bad) is None
        assert chem.canonical_smiles(bad) is None


def test_to_mol_passes_mol_through() -> None:
    mol = Chem.MolFromSmiles("CCO")
    assert chem.to_mol(mol) is mol
    assert chem.canonical_smiles(mol) == "CCO"


def test_empty_mol_has_no_smiles() -> None:
    assert chem.canonical_smiles(Chem.Mol()) is None


def test_properties_in_head_order_and_ranges() -> None:
    q, lp, sa = chem.properties("CC(=O)Oc1ccccc1C(=O)O")  # aspirin
    assert chem.PROPERTY_NAMES == ("qed", "logp", "sa")
    assert 0.0 < q < 1.0
    assert lp == pytest.approx(1.31, abs=0.01)
    assert 1.0 <= sa <= 10.0
    assert (q, lp, sa) == (
        chem.qed("CC(=O)Oc1ccccc1C(=O)O"),
        chem.logp("CC(=O)Oc1ccccc1C(=O)O"),
        chem.sa_score("CC(=O)Oc1ccccc1C(=O)O"),
    )


def test_properties_nan_for_unreadable() -> None:
    with chem.without_rdkit_log():
        values = chem.properties("not a molecule")
    assert len(values) == 3 and all(math.isnan(v) for v in values)


def test_without_rdkit_log_silences_then_restores() -> None:
    from rdkit import rdBase

    with pytest.raises(RuntimeError), chem.without_rdkit_log():
        assert "rdApp.error:disabled" in rdBase.LogStatus()
        raise RuntimeError("boom")
    assert "rdApp.error:enabled" in rdBase.LogStatus()


def test_what_cannot_be_a_smiles_is_refused_before_rdkit_reads_it():
    """RDKit reads "CCÖ" as ethane and takes minutes (or crashes) on huge input: both are
    refused first, with the reason."""
    from molvae.chem import MAX_SMILES_LENGTH, why_unreadable

    assert chem.to_mol("CCÖ") is None and chem.canonical_smiles("CCO\u00c4") is None
    assert why_unreadable("CCÖ") == "character 'Ö' at position 3 cannot be in a SMILES"
    huge = "C" * (MAX_SMILES_LENGTH + 1)
    assert chem.to_mol(huge) is None
    assert why_unreadable(huge).startswith(f"{MAX_SMILES_LENGTH + 1:,} characters long")
    assert why_unreadable("C1CC") == "RDKit cannot parse it" and why_unreadable(" ") == "empty"
    assert chem.to_mol("C" * 100).GetNumAtoms() == 100


def test_a_bad_lead_is_one_line_without_rdkit_s_noise(capfd):
    from molvae.cli import main

    assert main(["-q", "analogs", "CCO\u00c4", "-n", "2"]) == 1
    err = capfd.readouterr().err
    assert err.strip().splitlines() == [
        "error: cannot use 'CCOÄ': not a valid SMILES (character 'Ä' at position 4 cannot be in "
        "a SMILES)"]
    assert main(["-q", "analogs", "C1CC", "-n", "2"]) == 1
    err = capfd.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "RDKit cannot parse it" in err


@pytest.mark.parametrize(("written", "closed"), [
    ("C[C@@H]C", "CCC"),  # a stereo bracket atom left with two neighbours
    ("C[N+](C)C", "C[NH+](C)C"),  # a charged bracket atom with one bond too few
    ("CC[C@H]", "CCC"),
    ("C[C@@H](O)N", "C[C@H](N)O"),  # nothing to fill: the canonical SMILES as it is
])
def test_decoded_radicals_are_filled_with_hydrogens(written: str, closed: str) -> None:
    from molvae.chem import closed_shell_smiles

    assert closed_shell_smiles(written) == closed
    mol = Chem.MolFromSmiles(closed_shell_smiles(written))
    assert sum(a.GetNumRadicalElectrons() for a in mol.GetAtoms()) == 0
    assert closed_shell_smiles("not a molecule") is None and closed_shell_smiles("") is None


@pytest.mark.parametrize(("smiles", "atoms"), [
    ("CC[OH2+]", ["[OH2+]"]), ("CC[SH2+]", ["[SH2+]"]), ("C[Cl+]C", ["[Cl+]"]),
    ("[CH2-]C", ["[CH2-]"]), ("C[CH2]", ["[CH2.]"]), ("CC[O-]", ["[O-]"]), ("CC[S-]", ["[S-]"]),
    ("C[N-]C", ["[N-]"]), ("[O-]c1ccccc1", []), ("c1nn[n-]n1", []), ("C[n+]1ccccc1[O-]", []),
    ("CC[NH3+]", []), ("c1cc[nH+]cc1", []), ("C[N+](=O)[O-]", []), ("C[N+](C)(C)C", []),
    ("CC(=O)[O-]", []), ("CS(=O)(=O)[NH-]", []), ("[C-]#[N+]C", []), ("C[S+](C)C", []),
    ("[Na+].[Cl-]", []),
    ("CS(C)(F)N", ["[S]"]), ("CP(C)(C)(C)C", ["[P]"]),  # a sulfurane, a phosphorane
    ("CS(=O)C", []), ("CS(=O)(=O)N", []), ("CS(=O)(=N)C", []), ("CS(=O)(=O)F", []),
    ("OP(=O)(O)O", []), ("COP(=S)(OC)OC", []), ("CP(C)C", []), ("c1ccsc1", []),
])
def test_implausible_atoms_names_what_no_chemist_can_make(smiles: str, atoms: list[str]) -> None:
    assert chem.implausible_atoms(smiles) == atoms


def test_implausible_atoms_of_no_molecule_is_none() -> None:
    with chem.without_rdkit_log():
        assert chem.implausible_atoms("not a molecule") is None

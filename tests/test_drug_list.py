"""The marketed-drug list (datasets/drugs/marketed.csv): it parses, every SMILES is the drug its
molecular formula says it is, salts are written as salts, and stereochemistry is written out."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdkit import Chem
from rdkit.Chem import rdCIPLabeler, rdMolDescriptors

DRUGS = Path(__file__).parents[1] / "datasets" / "drugs" / "marketed.csv"

#: The reference molecules of the GuacaMol / PMO objectives (similarity, rediscovery, MPO).
GUACAMOL = set(
    "celecoxib osimertinib fexofenadine troglitazone thiothixene aripiprazole albuterol mestranol"
    " tadalafil sildenafil camphor menthol ranolazine perindopril amlodipine sitagliptin zaleplon"
    " valsartan".split()
)

#: CIP labels of the tetrahedral centres, in SMILES atom order, of a few well-known drugs.
CIP = {
    "naproxen sodium": ["S"],
    "sertraline hydrochloride": ["S", "S"],
    "atorvastatin": ["R", "R"],
    "clopidogrel": ["S"],
    "esomeprazole": ["S"],
    "menthol": ["R", "S", "R"],
    "camphor": ["R", "R"],
    "tadalafil": ["R", "R"],
}


@pytest.fixture(scope="module")
def rows():
    with DRUGS.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["name", "smiles", "form", "formula"]
        return list(reader)


@pytest.fixture(scope="module")
def mols(rows):
    return {row["name"]: Chem.MolFromSmiles(row["smiles"]) for row in rows}


def test_rows_and_names(rows):
    assert len(rows) >= 40
    names = [row["name"] for row in rows]
    assert len(set(names)) == len(names)
    assert GUACAMOL <= set(names), GUACAMOL - set(names)
    assert {row["form"] for row in rows} <= {"salt", "parent"}


def test_smiles_parse_and_match_the_formula(rows, mols):
    unparsed = [name for name, mol in mols.items() if mol is None]
    assert not unparsed
    wrong = {
        row["name"]: (rdMolDescriptors.CalcMolFormula(mols[row["name"]]), row["formula"])
        for row in rows
        if rdMolDescriptors.CalcMolFormula(mols[row["name"]]) != row["formula"]
    }
    assert not wrong


def test_salts_are_several_fragments_and_parents_one(rows, mols):
    fragments = {name: len(Chem.GetMolFrags(mol)) for name, mol in mols.items()}
    salts = [row["name"] for row in rows if row["form"] == "salt"]
    assert len(salts) >= 8
    assert all(fragments[name] > 1 for name in salts)
    assert all(fragments[row["name"]] == 1 for row in rows if row["form"] == "parent")
    assert all(Chem.GetFormalCharge(mol) == 0 for mol in mols.values())


def test_stereochemistry_is_written(rows, mols):
    assert sum("@" in row["smiles"] for row in rows) >= 15
    assert sum("/" in row["smiles"] or "\\" in row["smiles"] for row in rows) >= 2
    for name, labels in CIP.items():
        mol = Chem.Mol(mols[name])
        rdCIPLabeler.AssignCIPLabels(mol)
        found = [a.GetProp("_CIPCode") for a in mol.GetAtoms() if a.HasProp("_CIPCode")]
        assert found == labels, name

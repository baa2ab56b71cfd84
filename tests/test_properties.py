"""molvae.properties: the chemist's property table, and the chem verbs behind it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from molvae import alerts, chem, properties

DATA = Path(__file__).parent / "data"

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
RHODANINE = "O=C1C(=Cc2ccc(O)c(O)c2)SC(=S)N1"  # an arylidene rhodanine with a catechol

# Generated molecules (odd on purpose) chosen to hit 95 distinct PAINS, Brenk and QED alert
# patterns between them, so the screen is compared with RDKit on many patterns that match.
ALERT_RICH = [
    "COC=CC=C(C)NN=NCC(=CC=CC=NN)C(=O)OC",
    "C=COC(=CC=S(C)CC(=O)SC)CC=CCCC=O",
    "CNC(=O)N(C)CC=CNC(=O)C1=CC=CC(=O)C1=O",
    "NC(F)=CC=CC=COCC(=O)NCC#CC(=O)Oc1ccccc1",
    "CCNC(=O)CC(=O)NC=NN=CC(=NC=COC)C(=O)F",
    "CNCN(C#N)c1cc(Cl)cc(Br)n1",
    "N#CC(=CC(=O)C#CC=O)C(=O)N=CC1CC1",
    "CCc1nc(C)ccc1N(Cl)N(C)C1=CC=CCCC(C)=COO1",
    "O=C1C=C2C=C(OS)CC2CC=CC=CCC(=O)N1",
    "COc1cc(N)ccc1N1CCN(C)C=CC=C(Cl)C1",
    "ON=C(C=COCC1(Cl)C=CN=COC1)n1cccc1",
    "CCCOC(C)=NOC(=O)C=CC=C1NC(N)=CS1",
    "CN1C=CC2OS(=O)(=O)C3C=CC#CC=CC(=C3)C(N)=CC2=C1",
    "O=C=Cc1cnncc1C=CCN=CC1C=Nc2ccccc2SN=N1",
    "C=CC1c2nccn2C=CC1C=Cc1cc(Cl)ccc1NN=O",
    "CCOC=C1CC=CCN1C(=O)NCCSc1nccs1",
    "COC=C1NC=CS12NCC=CC(C1C=C(C#N)C=C(F)N1)S2",
    "CC=CSC(P)CC(C#N)CC(=O)c1cnccc1F",
    "C=C(C#N)C=CC(=O)NCC=CN=C1CN1C(=O)C=CO",
    "CC=NC1(CNCc2cccc(N)c2O)Nc2cnccc21",
    "Cc1cc(O)ccc1NC(=O)c1ccccc1CN(C)CC#N",
    "CC=C=C(NCCN1C(=O)C2=CC=CC(=O)C21)c1cccs1",
    "C=CC1=C2C(=O)N3C=C2CNC(=C)C(=CC=C(OC)C(=O)CC3)C1",
    "C=CCc1c(Cl)ccc(O)c1N=CC1=CN(C)C1C(N)=O",
    "CCc1ccncc1CCN1C=CC(C)=CCN(N)C(=O)C1",
    "O=C(NCCCC12C=CC1OC2=O)c1ccccc1F",
    "N#CC=NN=C1CNC(=O)C(=O)C=CC=CC=Cn2cccc21",
    "CC=NC1=C(C)SC(C(F)(F)F)NC(=O)c2ccc(F)cc2OC1",
    "O=C1C(Br)=CC=CC=CC1NC1C=CC(CCCCO)=C1",
    "O=C(CCNc1ccccc1NC1C=CNCN1)Cc1ccccc1",
    "N#CC(O)=CC1=CC=CNC(=O)C=CN=CC#CCOC1",
    "CC=NC1(O)Nc2ccc(OC)cc2CSC1OCCCCC",
    "CC=CC=C1NS(=O)(=O)NCC(=CC=CC#N)C1=O",
    "CC(C=CN(C)CC=NNc1ccccc1C(=O)O)=CF",
    "Cc1c(CO)ccc2c1N=C1OC(CN2C)N2C=CNCC12",
    "O=C1NC=C(C2NC=CS2)C1=O",
    "C=CC1=[SH]C(NCC2CC2)=CC1=CCOC(=NNC)c1ccccc1",
    "COC=CC(C=NC=CCl)Nc1ccc(N)cc1",
    "COc1cccc2c1NCCN(C)c1cccc(O)c1C=NN2CCC(=O)O",
    "Cc1ccccc1C=CC=NN=CC1=CC(F)=CC=CO1",
]
# Corner cases: charges, isotopes, radicals, metals, cages, dummy atoms, no bonds.
ODD = [
    "*C(=O)O", "[CH3]", "[Fe+2].[O-]C(=O)C", "[2H]C([2H])([2H])O", "[13CH4]", "[Na+].[Cl-]",
    "C12C3C4C1C5C2C3C45", "C1CCCCCCCCCCC1", "B(O)(O)c1ccccc1", "[N-]=[N+]=[N-]",
    "F[P-](F)(F)(F)(F)F", "c1ccccc1[I+]c1ccccc1", "C[C@H](N)C(=O)O", "O=[N+]([O-])c1ccccc1",
    "C[N+](C)(C)C", "CC(=O)[O-]", "Oc1ccccc1O", ASPIRIN, CAFFEINE, RHODANINE, "C=CC(=O)N",
]  # fmt: skip
SMALL = pd.read_csv(DATA / "small.csv")["SMILES"].tolist()
FIXTURE = SMALL + ALERT_RICH + ODD


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return properties.annotate(FIXTURE, workers=1)


def test_columns_are_the_documented_schema() -> None:
    assert properties.COLUMNS == (
        "qed", "sa", "logp", "mw", "tpsa", "hbd", "hba", "rotatable_bonds", "rings",
        "aromatic_rings", "fraction_sp3", "formal_charge", "lipinski_violations", "pains", "brenk",
    )  # fmt: skip
    kinds = properties.FLOAT_COLUMNS + properties.INT_COLUMNS + properties.ALERT_COLUMNS
    assert sorted(kinds) == sorted(properties.COLUMNS)


@pytest.mark.parametrize(
    ("smiles", "expected"),
    [
        (ASPIRIN, {
            "qed": 0.5501, "sa": 1.58, "logp": 1.3101, "mw": 180.159, "tpsa": 63.6, "hbd": 1,
            "hba": 4, "rotatable_bonds": 2, "rings": 1, "aromatic_rings": 1,
            "fraction_sp3": 0.1111, "formal_charge": 0, "lipinski_violations": 0, "pains": "",
            "brenk": "phenol_ester",
        }),
        (CAFFEINE, {
            "qed": 0.5385, "sa": 2.298, "logp": -1.0293, "mw": 194.194, "tpsa": 61.82, "hbd": 0,
            "hba": 6, "rotatable_bonds": 0, "rings": 2, "aromatic_rings": 2,
            "fraction_sp3": 0.375, "formal_charge": 0, "lipinski_violations": 0, "pains": "",
            "brenk": "",
        }),
    ],
)  # fmt: skip
def test_known_values(smiles: str, expected: dict) -> None:
    assert properties.describe(smiles) == expected


@pytest.mark.parametrize(
    ("smiles", "charge", "brenk"),
    [("C[N+](C)(C)C", 1, "quaternary_nitrogen_2"), ("CC(=O)[O-]", -1, "")],
)
def test_charged_molecules(smiles: str, charge: int, brenk: str) -> None:
    row = properties.describe(smiles)
    assert row["formal_charge"] == charge
    assert row["brenk"] == brenk


@pytest.mark.parametrize(
    ("smiles", "pains", "brenk"),
    [
        (RHODANINE, "ene_rhod_A(235);catechol_A(92)",
         "catechol;Michael_acceptor_1;Thiocarbonyl_group"),
        ("Oc1ccccc1O", "catechol_A(92)", "catechol"),
        ("O=[N+]([O-])c1ccccc1", "", "nitro_group;Oxygen-nitrogen_single_bond"),
        ("C=CC(=O)N", "", "Michael_acceptor_1"),
        ("CCO", "", ""),
    ],
)  # fmt: skip
def test_known_alerts(smiles: str, pains: str, brenk: str) -> None:
    row = properties.describe(smiles)
    assert (row["pains"], row["brenk"]) == (pains, brenk)
    assert chem.alerts(smiles, "pains") == (pains.split(";") if pains else [])
    assert chem.alerts(smiles, "brenk") == (brenk.split(";") if brenk else [])


def test_table_equals_the_chem_verbs(table: pd.DataFrame) -> None:
    """The screened alerts and the fast QED/SA give exactly what RDKit's FilterCatalog and
    molvae.chem give, molecule by molecule."""
    d = properties.DECIMALS
    expected = {
        "qed": lambda m: round(chem.qed(m), d),
        "sa": lambda m: round(chem.sa_score(m), d),
        "logp": lambda m: round(chem.logp(m), d),
        "mw": lambda m: round(chem.mol_weight(m), d),
        "tpsa": lambda m: round(chem.tpsa(m), d),
        "hbd": chem.hbd,
        "hba": chem.hba,
        "rotatable_bonds": chem.rotatable_bonds,
        "rings": chem.ring_count,
        "aromatic_rings": chem.aromatic_ring_count,
        "fraction_sp3": lambda m: round(chem.fraction_sp3(m), d),
        "formal_charge": chem.formal_charge,
        "lipinski_violations": chem.lipinski_violations,
        "pains": lambda m: ";".join(chem.alerts(m, "pains")),
        "brenk": lambda m: ";".join(chem.alerts(m, "brenk")),
    }
    assert list(expected) == list(properties.COLUMNS)
    hits = 0
    for i, smiles in enumerate(FIXTURE):
        m = chem.to_mol(smiles)
        want = {name: f(Chem.Mol(m)) for name, f in expected.items()}
        assert table.loc[i].to_dict() == want, smiles
        hits += bool(want["pains"]) + bool(want["brenk"])
    assert hits > 60  # the comparison covers molecules that do have alerts


def test_fast_paths_equal_rdkit_unrounded() -> None:
    screen = alerts.alert_screen()
    for smiles in ALERT_RICH + ODD:
        m = chem.to_mol(smiles)
        assert properties._sa_score(Chem.Mol(m)) == chem.sa_score(m), smiles
        qed = properties.describe(m)["qed"]
        assert qed == round(chem.qed(m), properties.DECIMALS), smiles
    assert not any(screen._unscreened.values()), "catalog patterns unreadable: alerts run slow"


def test_screen_verdicts_agree_with_rdkit_match() -> None:
    """Wherever the screen decides if a query atom (bond) can match a molecule atom (bond), RDKit's
    own Atom.Match / Bond.Match decides the same: the screen never rules out a real match."""
    screen = alerts.alert_screen()
    atoms, bonds = {}, {}  # tree -> one query atom / bond with it
    for pattern in screen.patterns:
        for a in pattern.GetAtoms():
            atoms.setdefault(alerts._parse_query(a.DescribeQuery()), a)
        for b in pattern.GetBonds():
            bonds.setdefault(alerts._parse_query(b.DescribeQuery()), b)
    decided = 0
    for smiles in ALERT_RICH + ODD:
        m = chem.to_mol(smiles)
        rings = m.GetRingInfo()
        for a in m.GetAtoms():
            sig = (
                a.GetAtomicNum(), a.GetIsAromatic(), a.GetFormalCharge(), a.GetTotalNumHs(True),
                a.GetIsotope(), a.GetTotalDegree(), a.GetDegree(), rings.NumAtomRings(a.GetIdx()),
            )  # fmt: skip
            for tree, query in atoms.items():
                verdict = alerts._verdict(tree, sig)
                if verdict is not None:
                    decided += 1
                    assert verdict == query.Match(a), (smiles, a.GetIdx(), query.DescribeQuery())
        for b in m.GetBonds():
            sig = (int(b.GetBondType()), b.IsInRing())
            for tree, query in bonds.items():
                verdict = alerts._verdict(tree, sig)
                if verdict is not None:
                    decided += 1
                    assert verdict == query.Match(b), (smiles, b.GetIdx(), query.DescribeQuery())
    assert decided > 100_000


@pytest.mark.parametrize("bad", [None, "", "   ", "not a molecule", "C1CC", 42, math.nan])
def test_unreadable_input_gives_an_empty_row(bad) -> None:
    row = properties.describe(bad)
    assert list(row) == list(properties.COLUMNS)
    for name, value in row.items():
        if name in properties.ALERT_COLUMNS:
            assert value is None
        else:
            assert math.isnan(value)


def test_unreadable_mols_give_an_empty_row() -> None:
    unsanitizable = Chem.MolFromSmiles("C(C)(C)(C)(C)C", sanitize=False)  # pentavalent carbon
    for mol in (Chem.Mol(), unsanitizable):
        assert properties.describe(mol)["pains"] is None


def test_explicit_hydrogens_are_removed_first() -> None:
    with_hs = Chem.AddHs(Chem.MolFromSmiles(ASPIRIN))
    assert properties.describe(with_hs) == properties.describe(ASPIRIN)


def test_annotate_keeps_order_and_marks_missing_rows() -> None:
    inputs = ["CCO", None, "not a molecule", ASPIRIN, "", "c1ccccc1"]
    df = properties.annotate(inputs, workers=1)
    assert list(df.columns) == list(properties.COLUMNS)
    assert df.index.equals(pd.RangeIndex(len(inputs)))
    assert df["mw"].isna().tolist() == [False, True, True, False, True, False]
    assert df["hbd"].isna().tolist() == [False, True, True, False, True, False]
    assert df["pains"].tolist() == ["", None, None, "", None, ""]
    for i, smiles in enumerate(inputs):
        if smiles == ASPIRIN:
            assert df.loc[i].to_dict() == properties.describe(ASPIRIN)


def test_dtypes(table: pd.DataFrame) -> None:
    for name in properties.FLOAT_COLUMNS:
        assert table[name].dtype == np.float64, name
    for name in properties.INT_COLUMNS:
        assert table[name].dtype == "Int64", name
    for name in properties.ALERT_COLUMNS:
        assert table[name].dtype == object, name
    empty = properties.annotate([])
    assert list(empty.columns) == list(properties.COLUMNS) and len(empty) == 0
    assert empty.dtypes.equals(table.dtypes)


@pytest.mark.integration
def test_serial_and_parallel_paths_give_identical_frames(table: pd.DataFrame) -> None:
    inputs = [*FIXTURE[:40], None, "not a molecule", *ALERT_RICH]
    parallel = properties.annotate(inputs, workers=2, min_parallel=0)
    pd.testing.assert_frame_equal(parallel, properties.annotate(inputs, workers=1))


@pytest.mark.parametrize(
    "verb",
    [chem.mol_weight, chem.tpsa, chem.hbd, chem.hba, chem.rotatable_bonds, chem.ring_count,
     chem.aromatic_ring_count, chem.fraction_sp3, chem.formal_charge, chem.lipinski_violations],
)  # fmt: skip
def test_chem_verbs_are_none_safe(verb) -> None:
    for bad in (None, "not a molecule", Chem.Mol()):
        value = verb(bad)
        assert value is None or math.isnan(value)
    assert chem.alerts("not a molecule", "pains") is None


def test_lipinski_violations_count_each_rule() -> None:
    assert chem.rule_of_five_violations(500.0, 5.0, 5, 10) == 0
    assert chem.rule_of_five_violations(500.1, 5.1, 6, 11) == 4
    assert chem.lipinski_violations("C" * 36 + "(=O)O") == 2  # MW 537, logP 13


def test_unknown_catalog_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown alert catalog"):
        chem.filter_catalog("tox21")


# --- unrounded: the same engine for scoring ---------------------------------------------------
def test_unrounded_values_equal_the_chem_verbs() -> None:
    inputs = [*FIXTURE, None, "not a molecule", chem.to_mol("CCO")]
    got = properties.annotate(inputs, workers=1, decimals=None)
    assert len(got) == len(inputs)
    for i, item in enumerate(inputs):
        m = chem.to_mol(item)
        if m is None:
            assert math.isnan(got["qed"][i]) and math.isnan(got["sa"][i]), item
            assert got["pains"][i] is None and got["brenk"][i] is None, item
            continue
        assert got["qed"][i] == chem.qed(m) and got["sa"][i] == chem.sa_score(m), item
        assert got["logp"][i] == chem.logp(m) and got["tpsa"][i] == chem.tpsa(m), item
        assert got["pains"][i] == ";".join(chem.alerts(m, "pains")), item
        assert got["brenk"][i] == ";".join(chem.alerts(m, "brenk")), item


def test_rounding_later_gives_the_rounded_table() -> None:
    inputs = [*FIXTURE[:20], None]
    rounded = properties.annotate(inputs, workers=1)
    later = properties.round_floats(properties.annotate(inputs, workers=1, decimals=None))
    pd.testing.assert_frame_equal(rounded, later)

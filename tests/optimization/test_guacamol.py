"""GuacaMol's objectives and fingerprints (Brown et al. 2019), checked against their
definitions: each fingerprint against the RDKit function GuacaMol calls, each objective on its
own target molecules against a score computed here by hand, each campaign file against its
preset."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import QED, AllChem, Crippen, rdMolDescriptors
from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D

from molvae.errors import CampaignError, ObjectiveError
from molvae.optimization import load_campaign, loads_campaign, presets
from molvae.optimization.components import FINGERPRINTS, Batch, Similarity
from molvae.optimization.presets import (
    CAMPHOR,
    CELECOXIB,
    DECO_HOP,
    FEXOFENADINE,
    MENTHOL,
    OSIMERTINIB,
    deco_hop,
    fexofenadine_mpo,
    median1,
)

OPTIMIZE = Path(__file__).resolve().parents[2] / "optimize"
NAMED = [name for name in FINGERPRINTS if name != "morgan"]
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def guacamol_fingerprint(smiles: str, name: str):
    """The fingerprint as GuacaMol computes it (``guacamol/utils/fingerprints.py``), with RDKit's
    legacy functions."""
    mol = Chem.MolFromSmiles(smiles)
    with rdBase.BlockLogs():  # the legacy functions warn that they are deprecated
        return {
            "ecfp4": lambda: AllChem.GetMorganFingerprint(mol, 2),
            "ecfp6": lambda: AllChem.GetMorganFingerprint(mol, 3),
            "fcfp4": lambda: AllChem.GetMorganFingerprint(mol, 2, useFeatures=True),
            "fcfp6": lambda: AllChem.GetMorganFingerprint(mol, 3, useFeatures=True),
            "ap": lambda: AllChem.GetAtomPairFingerprint(mol, maxLength=10),
            "phco": lambda: Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory),
        }[name]()


def count_tanimoto(a, b) -> float:
    """Tanimoto on count vectors by hand: sum of the smaller counts over sum of the larger."""
    a, b = a.GetNonzeroElements(), b.GetNonzeroElements()
    keys = set(a) | set(b)
    return sum(min(a.get(k, 0), b.get(k, 0)) for k in keys) / sum(
        max(a.get(k, 0), b.get(k, 0)) for k in keys
    )


def bit_tanimoto(a, b) -> float:
    """Tanimoto on bit vectors by hand: common bits over bits in either."""
    a, b = set(a.GetOnBits()), set(b.GetOnBits())
    return len(a & b) / len(a | b)


# --- fingerprints ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMED)
def test_each_fingerprint_is_one_on_itself_and_less_on_another(name):
    sim = Similarity((DECO_HOP,), fingerprint=name)
    values = sim(Batch.of([DECO_HOP, OSIMERTINIB, "not a molecule"])).values
    assert values[0] == 1.0 and 0.0 < values[1] < 1.0 and np.isnan(values[2])


@pytest.mark.parametrize("name", NAMED)
def test_each_fingerprint_is_guacamols(name):
    """The same ids and counts (bits for PHCO) as the RDKit function GuacaMol calls, hence the
    same similarities."""
    molecules = [CAMPHOR, MENTHOL, FEXOFENADINE, DECO_HOP, OSIMERTINIB, CELECOXIB, ASPIRIN]
    sim = Similarity((FEXOFENADINE,), fingerprint=name)
    for smiles in molecules:
        ours = sim.fingerprint_of(Chem.MolFromSmiles(smiles))
        theirs = guacamol_fingerprint(smiles, name)
        if name == "phco":
            assert list(ours.GetOnBits()) == list(theirs.GetOnBits()), smiles
        else:
            assert ours.GetNonzeroElements() == theirs.GetNonzeroElements(), smiles
    got = sim(Batch.of(molecules)).values
    ref = guacamol_fingerprint(FEXOFENADINE, name)
    expected = [DataStructs.TanimotoSimilarity(guacamol_fingerprint(s, name), ref)
                for s in molecules]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_named_morgan_fingerprints_equal_their_parameters():
    smiles = [OSIMERTINIB, CELECOXIB, ASPIRIN]
    for name, params in {
        "ecfp4": {"radius": 2, "bits": 0, "counts": True},
        "ecfp6": {"radius": 3, "bits": 0, "counts": True},
        "fcfp4": {"radius": 2, "bits": 0, "counts": True, "features": True},
        "fcfp6": {"radius": 3, "bits": 0, "counts": True, "features": True},
    }.items():
        named = Similarity((OSIMERTINIB,), fingerprint=name)(Batch.of(smiles)).values
        spelled = Similarity((OSIMERTINIB,), **params)(Batch.of(smiles)).values
        assert named.tolist() == spelled.tolist(), name


def test_fingerprint_names_any_case_and_morgan_is_the_default():
    assert Similarity(("CCO",), fingerprint="ECFP4") == Similarity(("CCO",), fingerprint="ecfp4")
    assert Similarity(("CCO",), fingerprint="AP").fingerprint == "ap"
    default = Similarity(("CCO",))
    assert Similarity(("CCO",), fingerprint="Morgan") == default
    assert (default.radius, default.bits, default.counts, default.features) == (2, 2048, False,
                                                                                False)
    # a Morgan similarity is written as before (no fingerprint key): older studies resume
    assert "fingerprint" not in presets.celecoxib_rediscovery().to_dict()["component"][0]
    named = fexofenadine_mpo().to_dict()["component"][0]
    assert named["fingerprint"] == "ap" and "radius" not in named and "bits" not in named


def test_an_unknown_fingerprint_names_the_valid_ones():
    with pytest.raises(ObjectiveError) as err:
        Similarity(("CCO",), fingerprint="ecfp5")
    assert err.value.key == "fingerprint"
    assert str(err.value) == (
        "similarity: unknown fingerprint 'ecfp5'; expected one of: morgan, ecfp4, ecfp6, "
        "fcfp4, fcfp6, ap, phco"
    )
    text = ('[campaign]\nname = "t"\n[[component]]\nkind = "similarity"\n'
            'references = ["CCO"]\nfingerprint = "maccs"\n')
    with pytest.raises(CampaignError, match=r"c\.toml: component\[1\]\.fingerprint: "
                       r"similarity: unknown fingerprint 'maccs'; expected one of: morgan, "):
        loads_campaign(text, source="c.toml")


def test_morgan_parameters_with_a_named_fingerprint_are_refused():
    with pytest.raises(ObjectiveError, match="fingerprint 'ap' fixes its own shape.*remove "
                       "radius, counts") as err:
        Similarity(("CCO",), fingerprint="ap", radius=3, counts=True)
    assert err.value.key == "radius"


# --- the objectives on their target molecules ------------------------------------------------


def test_celecoxib_rediscovery_of_celecoxib_is_one():
    for objective in (presets.celecoxib_rediscovery(),
                      load_campaign(OPTIMIZE / "celecoxib_rediscovery.toml").objective()):
        scores = objective([CELECOXIB, Chem.CanonSmiles(CELECOXIB), OSIMERTINIB])
        assert scores[0] == 1.0 and scores[1] == 1.0 and scores[2] < 1.0


def test_qed_is_rdkits_qed():
    objective = load_campaign(OPTIMIZE / "qed.toml").objective()
    for smiles in (ASPIRIN, CELECOXIB):
        assert objective([smiles])[0] == pytest.approx(QED.qed(Chem.MolFromSmiles(smiles)))


def test_median1_of_camphor_and_menthol_by_hand():
    """The geometric mean of the two ECFP4 (count) similarities: camphor is 1 to itself and T
    to menthol, so it scores sqrt(T), and so does menthol; T by hand from the counts."""
    t = count_tanimoto(guacamol_fingerprint(CAMPHOR, "ecfp4"),
                       guacamol_fingerprint(MENTHOL, "ecfp4"))
    assert t == pytest.approx(0.16)
    table = median1().score([CAMPHOR, MENTHOL])
    assert table["similarity_camphor"].tolist() == pytest.approx([1.0, t])
    assert table["similarity_menthol"].tolist() == pytest.approx([t, 1.0])
    assert table["score"].tolist() == pytest.approx([math.sqrt(t), math.sqrt(t)])
    assert (table["score"] < 1.0).all()
    isopulegol = "CC(=C)C1CCC(C)CC1O"  # a third molecule: the two similarities differ
    row = median1().score([isopulegol]).iloc[0]
    by_hand = [count_tanimoto(guacamol_fingerprint(isopulegol, "ecfp4"),
                              guacamol_fingerprint(ref, "ecfp4")) for ref in (CAMPHOR, MENTHOL)]
    assert row["score"] == pytest.approx(math.sqrt(by_hand[0] * by_hand[1]))


def test_fexofenadine_mpo_of_fexofenadine_by_hand():
    """Similarity 1 (clipped at 0.8: 1); TPSA 81.0 below 90 (MaxGaussian, sigma 10); logP 5.51
    above 4 (MinGaussian, sigma 1); the geometric mean of the three."""
    mol = Chem.MolFromSmiles(FEXOFENADINE)
    tpsa, logp = rdMolDescriptors.CalcTPSA(mol), Crippen.MolLogP(mol)
    assert tpsa < 90 and logp > 4
    tpsa_score = math.exp(-0.5 * ((tpsa - 90) / 10) ** 2)
    logp_score = math.exp(-0.5 * ((logp - 4) / 1) ** 2)
    row = fexofenadine_mpo().score([FEXOFENADINE]).iloc[0]
    assert row["similarity_ap"] == 1.0 and row["similarity_ap_score"] == 1.0
    assert row["tpsa_score"] == pytest.approx(tpsa_score)
    assert row["logp_score"] == pytest.approx(logp_score)
    assert row["score"] == pytest.approx((1.0 * tpsa_score * logp_score) ** (1 / 3))
    assert row["score"] == pytest.approx(0.597, abs=1e-3)
    # the plateaus: TPSA above 90 and logP below 4 score 1; AP similarity is linear below 0.8
    polar = "OC(=O)C(C)(C)c1ccc(cc1)C(O)CCCN1CCC(CC1)C(O)(c1ccc(O)cc1)c1ccc(O)cc1"
    row = fexofenadine_mpo().score([polar]).iloc[0]
    sim = count_tanimoto(guacamol_fingerprint(polar, "ap"), guacamol_fingerprint(FEXOFENADINE,
                                                                                  "ap"))
    assert row["similarity_ap_score"] == pytest.approx(min(sim / 0.8, 1.0))


def test_deco_hop_of_its_reference_and_of_a_hop_by_hand():
    """The reference keeps its pharmacophores (PHCO 1) and scaffold (1) but has both
    decorations (0, 0): (1 + 0 + 0 + 1) / 4. A hop that trades the sulfone for an amide and the
    benzothiazole for a fluorophenyl keeps the scaffold and loses both decorations: its score
    is (min(PHCO / 0.85, 1) + 3) / 4."""
    row = deco_hop().score([DECO_HOP]).iloc[0]
    assert row["similarity_phco"] == 1.0
    assert (row["no_sulfone"], row["no_benzothiazole"], row["scaffold"]) == (0.0, 0.0, 1.0)
    assert row["score"] == 0.5
    hop = "CCCOc1cc2ncnc(Nc3ccc(F)cc3)c2cc1C(=O)NC"
    row = deco_hop().score([hop]).iloc[0]
    phco = bit_tanimoto(guacamol_fingerprint(hop, "phco"), guacamol_fingerprint(DECO_HOP, "phco"))
    assert 0 < phco < 0.85 and row["similarity_phco"] == pytest.approx(phco)
    assert (row["no_sulfone"], row["no_benzothiazole"], row["scaffold"]) == (1.0, 1.0, 1.0)
    assert row["score"] == pytest.approx((phco / 0.85 + 3) / 4)
    lost = deco_hop().score(["CCCOc1ccc(S(=O)(=O)C(C)(C)C)cc1"]).iloc[0]  # no scaffold
    assert lost["scaffold"] == 0.0 and lost["no_sulfone"] == 0.0


@pytest.mark.parametrize("name", ["qed", "osimertinib_mpo", "celecoxib_rediscovery", "median1",
                                  "fexofenadine_mpo", "deco_hop"])
def test_each_guacamol_campaign_file_is_its_preset(name):
    preset = {"qed": presets.qed_objective}.get(name) or getattr(presets, name)
    campaign = load_campaign(OPTIMIZE / f"{name}.toml")
    smiles = [CAMPHOR, FEXOFENADINE, DECO_HOP, CELECOXIB, OSIMERTINIB]
    np.testing.assert_allclose(campaign.objective()(smiles), preset()(smiles), rtol=0, atol=1e-12)
    if name not in ("qed", "celecoxib_rediscovery"):  # those two spell out the identity
        assert campaign.objective() == preset()

"""Scoring: transforms on known values, component kinds on known molecules (NaN, never 0, for a
molecule that cannot be scored), filters with their reasons, aggregation, the Python component,
the model-head components and the GuacaMol objectives."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from molvae import chem
from molvae.errors import ObjectiveError
from molvae.optimization.components import (
    Alerts,
    Batch,
    Descriptor,
    Head,
    Isomer,
    PythonFunction,
    Similarity,
    Substructure,
    build_scorer,
    kind_parameters,
    kinds,
)
from molvae.optimization.objective import Component, Filter, Objective, ParetoTarget
from molvae.optimization.presets import (
    CELECOXIB,
    OSIMERTINIB,
    celecoxib_rediscovery,
    osimertinib_mpo,
    qed_objective,
)
from molvae.optimization.transforms import (
    TRANSFORMS,
    Clamp,
    DoubleSigmoid,
    Gaussian,
    Identity,
    ReverseSigmoid,
    Sigmoid,
    Step,
    build_transform,
)

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
BAD = "C1CC(("  # unparsable


def raw(scorer, smiles, **kw) -> np.ndarray:
    return scorer(Batch.of(smiles, **kw)).values


# --- transforms ---------------------------------------------------------------------------------

NAN = float("nan")


@pytest.mark.parametrize(
    ("transform", "x", "expected"),
    [
        (Identity(), [0.3, -2.0], [0.3, -2.0]),
        (Clamp(low=0.0, high=0.8), [-1.0, 0.2, 0.8, 5.0], [0.0, 0.25, 1.0, 1.0]),
        (Clamp(low=6.0, high=2.0), [1.0, 4.0, 7.0], [1.0, 0.5, 0.0]),
        (Sigmoid(low=0.0, high=10.0, k=0.5), [5.0, 0.0, 10.0], [0.5, 1 / (1 + 10**2.5),
                                                                1 / (1 + 10**-2.5)]),
        (ReverseSigmoid(low=0.0, high=10.0, k=0.5), [5.0, 0.0, 10.0],
         [0.5, 1 / (1 + 10**-2.5), 1 / (1 + 10**2.5)]),
        (DoubleSigmoid(low=1.0, high=3.0, softness=0.5), [1.0, 3.0, 0.5, 3.5, 1.5],
         [0.5, 0.5, 0.1, 0.1, 0.9]),
        (Step(low=1.0, high=3.0), [0.99, 1.0, 2.0, 3.0, 3.01], [0, 1, 1, 1, 0]),
        (Step(high=4.5), [-100.0, 4.5, 4.6], [1, 1, 0]),
        (Gaussian(mu=2.0, sigma=1.0), [2.0, 3.0, 1.0], [1.0, math.exp(-0.5), math.exp(-0.5)]),
        (Gaussian(mu=1.0, sigma=1.0, plateau="below"), [-5.0, 1.0, 2.0], [1, 1, math.exp(-0.5)]),
        (Gaussian(mu=100.0, sigma=10.0, plateau="above"), [150.0, 90.0], [1, math.exp(-0.5)]),
    ],
)  # fmt: skip
def test_transforms_on_known_values(transform, x, expected):
    got = transform(np.array(x))
    np.testing.assert_allclose(got, expected, atol=2e-3 if "Double" in repr(transform) else 1e-9)
    assert np.isnan(transform(np.array([NAN]))).all()  # NaN in, NaN out


def test_double_sigmoid_default_softness_and_window_inside():
    t = DoubleSigmoid(low=250.0, high=450.0)  # softness 20
    np.testing.assert_allclose(t(np.array([350.0, 270.0, 230.0])), [1.0, 0.9, 0.1], atol=2e-3)


def test_transforms_registry_and_bad_parameters():
    assert set(TRANSFORMS) == {
        "identity",
        "clamp",
        "sigmoid",
        "reverse_sigmoid",
        "double_sigmoid",
        "step",
        "gaussian",
    }
    assert build_transform("gaussian", mu=1, sigma=2) == Gaussian(mu=1, sigma=2)
    with pytest.raises(
        ObjectiveError,
        match="unknown transform 'sigmoidal'; expected one of: clamp, double_sigmoid",
    ):
        build_transform("sigmoidal")
    with pytest.raises(ObjectiveError, match="unknown parameter 'mid'"):
        build_transform("sigmoid", low=0, high=1, mid=0.5)
    with pytest.raises(ObjectiveError, match="missing required parameter 'high'"):
        build_transform("sigmoid", low=0)
    for bad in (
        lambda: Clamp(1, 1),
        lambda: Sigmoid(2, 1),
        lambda: Gaussian(0, 0),
        lambda: Step(),
        lambda: Gaussian(0, 1, plateau="left"),
    ):
        with pytest.raises(ObjectiveError):
            bad()


# --- component kinds ----------------------------------------------------------------------------


#: Reference molecules of the descriptor test.
REFERENCE_MOLECULES = (
    "CCO",  # ethanol, C2H6O
    ASPIRIN,  # C9H8O4
    "c1ccccc1",  # benzene, C6H6
    "CC(=O)[O-]",  # acetate, C2H3O2-
    "C" * 36,  # hexatriacontane, C36H74: heavier than 500 and more lipophilic than logP 5
)
#: Each descriptor kind on the molecules above. Counts, charges and masses follow from the
#: formulas (IUPAC atomic weights); TPSA is Ertl's (PubChem gives aspirin 63.6, ethanol 20.2);
#: Lipinski counts N+O acceptors and NH/OH donors; QED, SA and Crippen logP are the values of
#: RDKit's own QED.qed, Contrib sascorer.calculateScore and Crippen.MolLogP, written down here
#: (test_descriptor_references_are_rdkits recomputes them without molvae).
DESCRIPTOR_REFERENCES: dict[str, tuple[float, ...]] = {
    "qed": (0.4068, 0.5501, 0.4426, 0.3498, 0.0776),
    "sa": (1.9803, 1.5800, 1.0000, 3.0657, 1.1645),
    "logp": (-0.0014, 1.3101, 1.6866, -1.2438, 14.2896),
    "mw": (46.069, 180.159, 78.114, 59.044, 506.988),
    "tpsa": (20.23, 63.60, 0.0, 40.13, 0.0),
    "hbd": (1, 1, 0, 0, 0),
    "hba": (1, 4, 0, 2, 0),
    "rotatable_bonds": (0, 2, 0, 0, 33),
    "rings": (0, 1, 1, 0, 0),
    "aromatic_rings": (0, 1, 1, 0, 0),
    "fraction_sp3": (1.0, 1 / 9, 0.0, 0.5, 1.0),
    "formal_charge": (0, 0, 0, -1, 0),
    "lipinski_violations": (0, 0, 0, 0, 2),  # C36H74: MW > 500 and logP > 5
    "heavy_atoms": (3, 13, 6, 4, 36),
}


def test_descriptor_kinds_match_chem_and_give_nan_for_bad_smiles():
    descriptor_kinds = {name for name, (cls, _) in kinds().items() if cls is Descriptor}
    assert descriptor_kinds == set(DESCRIPTOR_REFERENCES)  # every kind has its references
    for kind, expected in DESCRIPTOR_REFERENCES.items():
        values = raw(build_scorer(kind), [*REFERENCE_MOLECULES, BAD, ""])
        np.testing.assert_allclose(values[:-2], expected, atol=1e-3, rtol=0, err_msg=kind)
        assert np.isnan(values[-2:]).all(), kind  # NaN, not 0


def test_descriptor_references_are_rdkits():
    """The reference table is what RDKit itself computes (no molvae code involved)."""
    from rdkit import Chem
    from rdkit.Chem import QED, Crippen, Descriptors, rdMolDescriptors
    from rdkit.Contrib.SA_Score import sascorer

    strict = rdMolDescriptors.NumRotatableBondsOptions.Strict

    def lipinski(m: Chem.Mol) -> int:
        return ((Descriptors.MolWt(m) > 500) + (Crippen.MolLogP(m) > 5)
                + (rdMolDescriptors.CalcNumLipinskiHBD(m) > 5)
                + (rdMolDescriptors.CalcNumLipinskiHBA(m) > 10))

    rdkit = {
        "qed": QED.qed,
        "sa": sascorer.calculateScore,
        "logp": Crippen.MolLogP,
        "mw": Descriptors.MolWt,
        "tpsa": rdMolDescriptors.CalcTPSA,
        "hbd": rdMolDescriptors.CalcNumLipinskiHBD,
        "hba": rdMolDescriptors.CalcNumLipinskiHBA,
        "rotatable_bonds": lambda m: rdMolDescriptors.CalcNumRotatableBonds(m, strict),
        "rings": rdMolDescriptors.CalcNumRings,
        "aromatic_rings": rdMolDescriptors.CalcNumAromaticRings,
        "fraction_sp3": rdMolDescriptors.CalcFractionCSP3,
        "formal_charge": Chem.GetFormalCharge,
        "lipinski_violations": lipinski,
        "heavy_atoms": lambda m: m.GetNumHeavyAtoms(),
    }
    assert rdkit.keys() == DESCRIPTOR_REFERENCES.keys()
    mols = [Chem.MolFromSmiles(s) for s in REFERENCE_MOLECULES]
    for kind, expected in DESCRIPTOR_REFERENCES.items():
        got = [float(rdkit[kind](m)) for m in mols]
        np.testing.assert_allclose(got, expected, atol=1e-3, rtol=0, err_msg=kind)


def test_similarity_defaults_max_over_references_and_fingerprint_variants():
    phenol, aniline = "c1ccccc1O", "c1ccccc1N"
    sim = Similarity((phenol,))
    np.testing.assert_allclose(raw(sim, [phenol, aniline]), [1.0, 0.375], atol=1e-4)
    assert np.isnan(raw(sim, [BAD])).all()
    both = Similarity((phenol, aniline))
    assert raw(both, [aniline]).tolist() == [1.0]  # max over the references
    mean = Similarity((phenol, aniline), combine="mean")
    assert raw(mean, [aniline])[0] == pytest.approx((1 + 0.375) / 2)
    # GuacaMol's fingerprints: unfolded count vectors, ECFP and FCFP
    for params in (
        {"bits": 0, "counts": True},
        {"radius": 3, "bits": 0, "counts": True},
        {"bits": 0, "counts": True, "features": True},
        {"bits": 1024},
        {"bits": 0},
        {"counts": True},
    ):
        s = Similarity((OSIMERTINIB,), **params)
        values = raw(s, [OSIMERTINIB, CELECOXIB])
        assert values[0] == 1.0 and 0 < values[1] < 0.5, params
    with pytest.raises(ObjectiveError, match="invalid reference SMILES 'C1CC\\(\\('"):
        Similarity((BAD,))


def test_substructure_required_and_forbidden():
    required = Substructure(("c1ccccc1", "C(=O)O"))
    got = required(Batch.of([ASPIRIN, "c1ccccc1", BAD]))
    assert got.values[:2].tolist() == [1.0, 0.0] and np.isnan(got.values[2])
    assert got.details[:2] == ("", "C(=O)O")  # the missing pattern
    forbidden = Substructure(("[N+](=O)[O-]",), mode="forbidden")
    assert raw(forbidden, [ASPIRIN, "c1ccccc1[N+](=O)[O-]"]).tolist() == [1.0, 0.0]
    with pytest.raises(ObjectiveError, match="invalid SMARTS 'c1ccc\\(\\('") as err:
        Substructure(("c1ccc((",))
    assert err.value.key == "smarts"


def test_alerts_value_and_names():
    rhodanine = "O=C1C(=Cc2ccc(O)c(O)c2)SC(=S)N1"
    got = Alerts(("pains",))(Batch.of([rhodanine, "CCO", BAD]))
    assert got.values[:2].tolist() == [0.0, 1.0] and np.isnan(got.values[2])
    assert got.details[0] == "ene_rhod_A(235);catechol_A(92)"
    assert "catechol" in (Alerts()(Batch.of([rhodanine])).details[0] or "")  # both catalogs
    with pytest.raises(ObjectiveError, match="unknown catalog 'nih'"):
        Alerts(("nih",))


def test_isomer_scores_formula_closeness():
    iso = Isomer("C11H24")
    values = raw(iso, ["CCCCCCCCCCC", "CC(C)CCCCCCCC", "CCCCCCCCCC", BAD])
    assert values[:2].tolist() == [1.0, 1.0]  # undecane and an isomer
    # decane C10H22: C off by 1, H by 2, total atoms by 3 (sigma 2): geometric mean
    expected = (math.exp(-0.5) * math.exp(-2) * math.exp(-0.5 * 1.5**2)) ** (1 / 3)
    assert values[2] == pytest.approx(expected)
    assert np.isnan(values[3])
    assert raw(Isomer("C2H6O", mean="arithmetic"), ["CCO"]).tolist() == [1.0]
    for bad in ("C11h24", "Xx2", ""):
        with pytest.raises(ObjectiveError, match="formula|element"):
            Isomer(bad)


def test_head_components_use_the_predictor_and_refuse_to_run_without_it():
    z = np.array([[0.1, 0.0], [0.2, 0.0], [0.3, 0.0]])

    def predict(latents):  # (N, Z) -> (N, 3): qed, logp, sa
        return np.column_stack([latents[:, 0], 10 * latents[:, 0], 100 * latents[:, 0]])

    smiles = ["CCO", "CCN", BAD]
    np.testing.assert_allclose(raw(Head("logp"), smiles, z=z, predict=predict)[:2], [1.0, 2.0])
    assert np.isnan(raw(Head("sa"), smiles, z=z, predict=predict)[2])  # no molecule, no score
    assert build_scorer("pred_qed") == Head("qed")
    obj = Objective((Component("pq", build_scorer("pred_qed")),))
    assert obj.needs_latents
    table = obj.score(smiles, z=z, predict=predict)
    np.testing.assert_allclose(table["score"][:2], [0.1, 0.2])
    with pytest.raises(ObjectiveError, match="pred_qed.*z=z, predict=model.predict_properties"):
        obj.score(smiles)
    with pytest.raises(ObjectiveError, match="z must be \\(N, Z\\)"):
        obj.score(smiles, z=z[:2], predict=predict)
    with pytest.raises(ObjectiveError, match="predict must return"):
        obj.score(smiles, z=z, predict=lambda latents: latents)


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A user's scoring module, importable as ``user_scoring``."""
    (tmp_path / "user_scoring.py").write_text(
        textwrap.dedent("""
        import math

        def length(smiles):
            return [float(len(s)) for s in smiles]

        def nan_for_n(smiles):
            return [math.nan if "N" in s else 1.0 for s in smiles]

        def boom(smiles):
            raise RuntimeError("docking server down")

        def short(smiles):
            return [1.0]

        def words(smiles):
            return ["high" for _ in smiles]

        class Model:
            @staticmethod
            def score(smiles):
                return [0.5] * len(smiles)
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "user_scoring"
    import sys

    sys.modules.pop("user_scoring", None)


def test_python_component_calls_the_users_function(user_module):
    fn = PythonFunction(f"{user_module}:length")
    got = fn(Batch.of(["CCO", BAD, "CCCC"]))
    assert got.values[[0, 2]].tolist() == [3.0, 4.0] and np.isnan(got.values[1])
    assert raw(PythonFunction(f"{user_module}:Model.score"), ["C"]).tolist() == [0.5]
    assert raw(PythonFunction(lambda s: [2.0] * len(s)), ["C"]).tolist() == [2.0]

    obj = Objective(
        (
            Component("qed", Descriptor("qed")),
            Component("user", PythonFunction(f"{user_module}:nan_for_n"), weight=0.0),
        )
    )
    table = obj.score(["CCO", "CCN"])
    assert table["state"].tolist() == ["ok", "failed"]
    assert np.isnan(table["score"][1])
    assert table["failure"][1] == f"{user_module}:nan_for_n returned nan"


@pytest.mark.parametrize(
    ("function", "reason"),
    [
        ("boom", "user_scoring:boom raised RuntimeError: docking server down"),
        ("short", "user_scoring:short returned 1 values for 2 molecules"),
        ("words", "user_scoring:words returned a non-number 'high'"),
    ],
)
def test_python_component_failures_mark_the_batch_failed_with_the_reason(
    user_module, function, reason
):
    obj = Objective((Component("user", PythonFunction(f"{user_module}:{function}")),))
    table = obj.score(["CCO", "CCN", BAD])
    assert table["state"].tolist() == ["failed"] * 3
    assert table["score"].isna().all()
    assert table["failure"].tolist() == [reason, reason, "invalid SMILES"]


def test_python_component_import_errors_name_the_path(user_module):
    for path, match in [
        ("no_such_module_xyz:f", "cannot import 'no_such_module_xyz:f': ModuleNotFoundError"),
        (f"{user_module}:missing", "cannot import 'user_scoring:missing': AttributeError"),
        ("user_scoring.length", "is not 'package.module:function'"),
    ]:
        with pytest.raises(ObjectiveError, match=match) as err:
            PythonFunction(path)
        assert err.value.key == "function"


def test_kind_registry_and_parameters():
    assert {
        "qed",
        "sa",
        "logp",
        "mw",
        "tpsa",
        "hbd",
        "hba",
        "rotatable_bonds",
        "rings",
        "aromatic_rings",
        "fraction_sp3",
        "formal_charge",
        "similarity",
        "substructure",
        "alerts",
        "isomer",
        "pred_qed",
        "pred_logp",
        "pred_sa",
        "python",
    } <= set(kinds())
    params = kind_parameters("similarity")
    assert params["references"][1] is True and params["radius"][1] is False
    with pytest.raises(
        ObjectiveError,
        match="unknown component kind 'qsar'; expected one of: alerts, aromatic_rings",
    ):
        kind_parameters("qsar")
    with pytest.raises(ObjectiveError, match="unknown parameter 'radius'"):
        build_scorer("qed", radius=2)


# --- objective: filters, aggregation, failures ---------------------------------------------------


def two_components(aggregate="geometric", filters=()) -> Objective:
    return Objective(
        components=(
            Component("qed", Descriptor("qed"), weight=3.0),
            Component("sa", Descriptor("sa"), Clamp(low=10.0, high=1.0), weight=1.0),
        ),
        filters=filters,
        aggregate=aggregate,
    )


def test_geometric_and_arithmetic_aggregation():
    smiles = [ASPIRIN, "CCO"]
    q = np.array([chem.qed(s) for s in smiles])
    s = np.array([(10 - chem.sa_score(m)) / 9 for m in smiles])
    geo = two_components().score(smiles)
    ari = two_components("arithmetic").score(smiles)
    np.testing.assert_allclose(geo["score"], (q**3 * s) ** (1 / 4))
    np.testing.assert_allclose(ari["score"], (3 * q + s) / 4)
    np.testing.assert_allclose(geo["qed"], q)
    np.testing.assert_allclose(geo["sa_score"], s)
    assert list(geo.columns) == [
        "smiles",
        "score",
        "state",
        "failure",
        "passed_filters",
        "qed",
        "qed_score",
        "sa",
        "sa_score",
    ]


def test_a_zero_component_sinks_the_geometric_mean_only():
    comps = (Component("qed", Descriptor("qed")), Component("ring", Substructure(("c1ccccc1",))))
    assert Objective(comps).score(["CCO"])["score"][0] == 0.0
    assert Objective(comps, aggregate="arithmetic").score(["CCO"])["score"][0] > 0.1


def test_filters_score_zero_with_the_reason():
    filters = (
        Filter("sa", Descriptor("sa"), max=2.0),
        Filter("mw", Descriptor("mw"), min=100.0, max=200.0),
    )
    table = two_components(filters=filters).score([ASPIRIN, "CCO", BAD])
    assert table["state"].tolist() == ["ok", "filtered", "failed"]
    assert table["score"][0] > 0 and table["score"][1] == 0.0 and np.isnan(table["score"][2])
    assert table["passed_filters"].tolist() == [True, False, False]
    sa_ethanol = round(chem.sa_score("CCO"), 2)
    assert table["failure"][1] == "filter mw in [100, 200] failed (46.07)"
    assert table["failure"][0] == ""
    assert table["failure"][2] == "invalid SMILES"
    assert table["filter_mw"][0] == pytest.approx(chem.mol_weight(ASPIRIN))
    hard = two_components(filters=(Filter("sa", Descriptor("sa"), max=1.5),)).score(["CCO"])
    assert hard["failure"][0] == f"filter sa <= 1.5 failed ({sa_ethanol:g})"


def test_filter_kinds_lipinski_scaffold_similarity():
    lead = "c1ccc2ccccc2c1"
    filters = (
        Filter("lipinski", build_scorer("lipinski_violations"), max=0),
        Filter("scaffold", Substructure(("c1ccccc1",)), min=1),
        Filter("near_lead", Similarity((lead,)), min=0.3),
    )
    obj = Objective((Component("qed", Descriptor("qed")),), filters)
    table = obj.score([lead, "CCO", "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCc1ccccc1"])
    assert table["state"].tolist() == ["ok", "filtered", "filtered"]
    assert "filter scaffold >= 1 failed (0)" in table["failure"][1]
    assert "filter near_lead >= 0.3 failed" in table["failure"][1]
    assert table["failure"][2].startswith("filter lipinski <= 0 failed (2)")
    with pytest.raises(ObjectiveError, match="give min, max or both"):
        Filter("x", Descriptor("sa"))


def test_nan_is_failure_never_zero_and_out_of_range_scores_fail():
    table = qed_objective().score([BAD, "", "CCO"])
    assert table["state"].tolist() == ["failed", "failed", "ok"]
    assert table["score"][:2].isna().all() and table["qed"][:2].isna().all()
    obj = Objective((Component("user", PythonFunction(lambda s: [1.5] * len(s))),))
    table = obj.score(["CCO"])
    assert table["state"][0] == "failed" and np.isnan(table["score"][0])
    assert "score 1.5 outside [0, 1]" in table["failure"][0]


def test_objective_validation():
    with pytest.raises(ObjectiveError, match="identity transform cannot score it"):
        Component("mw", Descriptor("mw"))
    Component("mw", Descriptor("mw"), weight=0.0)  # reported only: fine
    with pytest.raises(ObjectiveError, match="makes a column 'qed'"):
        Objective((Component("qed", Descriptor("qed")), Component("qed", Descriptor("qed"))))
    with pytest.raises(ObjectiveError, match="taken by a column"):
        Component("score", Descriptor("qed"))
    with pytest.raises(ObjectiveError, match="weight above 0"):
        Objective((Component("qed", Descriptor("qed"), weight=0.0),))
    with pytest.raises(ObjectiveError, match="unknown aggregation 'median'"):
        Objective((Component("qed", Descriptor("qed")),), aggregate="median")
    with pytest.raises(ObjectiveError, match="names no component 'sa'"):
        Objective(
            (Component("qed", Descriptor("qed")),), objectives=(ParetoTarget("sa", "minimize"),)
        )
    with pytest.raises(ObjectiveError, match="unknown direction 'up'"):
        ParetoTarget("qed", "up")


def test_pareto_values_and_directions():
    obj = Objective(
        (Component("qed", Descriptor("qed")), Component("sa", Descriptor("sa"), weight=0.0)),
        filters=(Filter("size", build_scorer("heavy_atoms"), min=4),),
        objectives=(ParetoTarget("qed", "maximize"), ParetoTarget("sa", "minimize")),
    )
    assert obj.multi_objective and obj.directions == ("maximize", "minimize")
    table = obj.score([ASPIRIN, "CCO", BAD])
    values = obj.pareto_values(table)
    assert values.shape == (3, 2)
    np.testing.assert_allclose(values[0], [chem.qed(ASPIRIN), chem.sa_score(ASPIRIN)])
    assert np.isnan(values[1:]).all()  # filtered and failed rows are off the front
    with pytest.raises(ObjectiveError, match="no Pareto objectives"):
        qed_objective().pareto_values(table)


def test_matches_columns_and_to_dict():
    obj = Objective((Component("qed", Descriptor("qed")), Component("clean", Alerts(("pains",)))))
    table = obj.score(["O=C1C(=Cc2ccc(O)c(O)c2)SC(=S)N1", "CCO"])
    assert table["clean_matches"].tolist() == ["ene_rhod_A(235);catechol_A(92)", ""]
    spec = osimertinib_mpo().to_dict()
    first = spec["component"][0]
    assert first["kind"] == "similarity" and first["features"] is True and first["bits"] == 0
    assert first["transform"] == {"type": "clamp", "low": 0.0, "high": 0.8}
    assert spec["aggregate"] == {"method": "geometric"}


# --- GuacaMol objectives --------------------------------------------------------------------------


def test_celecoxib_rediscovery_of_celecoxib_is_one():
    canonical = "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1"
    scores = celecoxib_rediscovery()([CELECOXIB, canonical, OSIMERTINIB])
    assert scores[0] == 1.0 and scores[1] == 1.0  # any SMILES of celecoxib
    assert scores[2] < 0.3


def test_osimertinib_mpo_follows_guacamol():
    """GuacaMol's definition: osimertinib itself is "too similar" (ECFP6 similarity 1 > 0.85),
    too apolar (TPSA 87.6 < 100) and too lipophilic (logP 4.5 > 1), so it scores ~0.13, not 1."""
    table = osimertinib_mpo().score([OSIMERTINIB])
    row = table.iloc[0]
    assert row["similarity_fcfp4"] == 1.0 and row["similarity_fcfp4_score"] == 1.0
    assert row["similarity_ecfp6_score"] == pytest.approx(math.exp(-0.5 * 1.5**2))
    tpsa, logp = chem.tpsa(OSIMERTINIB), chem.logp(OSIMERTINIB)
    assert row["tpsa_score"] == pytest.approx(math.exp(-0.5 * ((tpsa - 100) / 10) ** 2))
    assert row["logp_score"] == pytest.approx(math.exp(-0.5 * (logp - 1) ** 2))
    expected = (1.0 * math.exp(-0.5 * 1.5**2) * row["tpsa_score"] * row["logp_score"]) ** 0.25
    assert row["score"] == pytest.approx(expected)
    assert row["score"] == pytest.approx(0.1333, abs=1e-3)


def test_qed_objective():
    assert qed_objective()(["CCO"])[0] == pytest.approx(chem.qed("CCO"))

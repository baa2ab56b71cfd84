"""Campaign files: the shipped examples, parsing and its round trip, CLI overrides, and every
error message naming the file, the key and the valid choices."""

from __future__ import annotations

import gzip
import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from molvae.errors import MolVAEError
from molvae.optimization import Objective, celecoxib_rediscovery, osimertinib_mpo
from molvae.optimization.campaign import (
    DEFAULT_SAMPLER,
    SAMPLERS,
    Campaign,
    CampaignError,
    Diversity,
    load_campaign,
    loads_campaign,
    parse_campaign,
)
from molvae.optimization.transforms import Clamp, DoubleSigmoid

OPTIMIZE = Path(__file__).resolve().parents[2] / "optimize"
CAMPAIGNS = sorted(OPTIMIZE.glob("*.toml"))

MINIMAL = """
[campaign]
name = "t"

[[component]]
kind = "qed"
"""


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(CampaignError) as err:
        load_campaign(path)
    assert isinstance(err.value, MolVAEError)
    message = str(err.value)
    assert message.startswith(f"{path}: "), message  # every message names the file
    return message.removeprefix(f"{path}: ")


# --- the shipped campaigns ----------------------------------------------------------------------


def test_the_shipped_campaigns_are_there():
    names = {p.name for p in CAMPAIGNS}
    assert {
        "qed.toml",
        "druglike_window.toml",
        "lead_improvement.toml",
        "osimertinib_mpo.toml",
        "qed_vs_sa_pareto.toml",
        "custom_python.toml",
        "celecoxib_rediscovery.toml",
        "median1.toml",
        "fexofenadine_mpo.toml",
        "deco_hop.toml",
    } <= names
    assert not list(OPTIMIZE.glob("*.py")), "optimize/ holds no Python"


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda p: p.name)
def test_every_shipped_campaign_loads_and_scores(path):
    campaign = load_campaign(path)
    objective = campaign.objective()
    assert isinstance(objective, Objective)
    assert campaign.name == path.stem
    table = objective.score(["CC(=O)Oc1ccccc1C(=O)O", "not a molecule"])
    assert list(table.columns) == list(objective.columns)
    assert table["state"][1] == "failed"
    assert 0.0 <= table["score"][0] <= 1.0
    again = parse_campaign(
        json.loads(json.dumps(campaign.to_dict())), source=str(path), base_dir=path.parent
    )
    assert again == campaign


def test_shipped_campaign_details():
    assert load_campaign(OPTIMIZE / "osimertinib_mpo.toml").objective() == osimertinib_mpo()
    celecoxib = load_campaign(OPTIMIZE / "celecoxib_rediscovery.toml").objective()
    smiles = ["Cc1ccc(cc1)-c1cc(nn1-c1ccc(cc1)S(N)(=O)=O)C(F)(F)F", "CC(=O)Oc1ccccc1C(=O)O"]
    assert np.allclose(celecoxib(smiles), celecoxib_rediscovery()(smiles))
    assert celecoxib(smiles[:1])[0] == 1.0
    pareto = load_campaign(OPTIMIZE / "qed_vs_sa_pareto.toml")
    assert pareto.sampler == "nsga2" and pareto.objective().directions == ("maximize", "minimize")
    lead = load_campaign(OPTIMIZE / "lead_improvement.toml")
    assert lead.seeds and lead.trust_region and lead.filters[0].min == 0.4
    window = load_campaign(OPTIMIZE / "druglike_window.toml")
    transforms = {c.name: c.transform for c in window.components}
    assert transforms["logp"] == DoubleSigmoid(low=1.0, high=3.0, softness=0.3)
    assert window.diversity == Diversity(min_distance=0.4, max_per_scaffold=3)
    custom = load_campaign(OPTIMIZE / "custom_python.toml")
    assert custom.components[0].kind == "python"


# --- parsing -----------------------------------------------------------------------------------


def test_defaults_and_resolution(tmp_path):
    campaign = load_campaign(write(tmp_path, MINIMAL))
    assert campaign.sampler == DEFAULT_SAMPLER and campaign.seed == 0 and campaign.budget == 1000
    assert campaign.components[0].name == "qed" and campaign.aggregate == "geometric"
    assert campaign.diversity == Diversity() and campaign.seeds == ()
    pareto = loads_campaign(
        MINIMAL + '[[component]]\nkind = "sa"\nweight = 0\n'
        '[[objective]]\ncomponent = "qed"\ndirection = "maximize"\n'
        '[[objective]]\ncomponent = "sa"\ndirection = "minimize"\n'
    )
    assert pareto.sampler == "nsga2" and pareto.multi_objective


def test_full_round_trip(tmp_path):
    (tmp_path / "leads.smi").write_text("# leads\nc1ccccc1O phenol\n\nC#N\nCCO\n")
    path = write(
        tmp_path,
        """
        [campaign]
        name = "full"
        description = "everything"
        seed = 7
        budget = 300
        batch_size = 16
        sampler = "tpe"
        top_k = 10
        seeds = ["CCO", "CCN"]
        seeds_file = "leads.smi"
        trust_region = 1.5

        [campaign.diversity]
        min_distance = 0.3
        max_per_scaffold = 2

        [[component]]
        name = "near"
        kind = "similarity"
        references = ["c1ccccc1O", "c1ccccc1N"]
        radius = 3
        bits = 0
        counts = true
        features = true
        combine = "mean"
        weight = 2
        [component.transform]
        type = "sigmoid"
        low = 0.1
        high = 0.6
        k = 0.4

        [[component]]
        kind = "substructure"
        smarts = ["c1ccccc1"]
        mode = "forbidden"
        [component.transform]
        type = "step"
        low = 1

        [[component]]
        kind = "isomer"
        formula = "C8H10O"

        [[component]]
        kind = "logp"
        weight = 0
        [component.transform]
        type = "gaussian"
        mu = 2
        sigma = 1
        plateau = "above"

        [[filter]]
        kind = "alerts"
        catalogs = ["brenk"]
        min = 1

        [[filter]]
        name = "size"
        kind = "mw"
        min = 100
        max = 500

        [aggregate]
        method = "arithmetic"

        [[objective]]
        component = "near"
        direction = "maximize"
    """,
    )
    campaign = load_campaign(path)
    assert campaign.seeds == ("CCO", "CCN", "c1ccccc1O", "C#N")  # inline, then file, no dupes
    assert campaign.seeds_file == str((tmp_path / "leads.smi").resolve())
    assert campaign.components[0].weight == 2.0 and campaign.components[0].scorer.features
    assert campaign.filters[0].name == "alerts" and campaign.filters[1].max == 500.0
    data = campaign.to_dict()
    assert data["campaign"]["trust_region"] == 1.5
    assert data["component"][3]["transform"] == {
        "type": "gaussian",
        "mu": 2.0,
        "sigma": 1.0,
        "plateau": "above",
    }
    again = parse_campaign(json.loads(json.dumps(data)), source="manifest", base_dir=tmp_path)
    assert again == campaign
    assert again.objective().score(["c1ccccc1CCO"])["score"].notna().all()


def test_overrides_replace_the_file_values(tmp_path):
    campaign = load_campaign(write(tmp_path, MINIMAL))
    new = campaign.with_overrides(budget=50, seed=3, sampler="random", batch_size=8)
    assert (new.budget, new.seed, new.sampler, new.batch_size) == (50, 3, "random", 8)
    assert campaign.budget == 1000  # frozen: the original is unchanged
    assert campaign.with_overrides() == campaign
    with pytest.raises(
        CampaignError,
        match="sampler \\(overridden\\): unknown sampler 'bo'; "
        "expected one of: cmaes, tpe, gp, random, qmc, nsga2",
    ):
        campaign.with_overrides(sampler="bo")
    with pytest.raises(CampaignError, match="budget \\(overridden\\): must be at least 1"):
        campaign.with_overrides(budget=0)


def test_python_component_in_a_campaign(tmp_path, monkeypatch):
    (tmp_path / "my_scores.py").write_text("def one(smiles):\n    return [1.0] * len(smiles)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    text = MINIMAL + '[[component]]\nkind = "python"\nfunction = "my_scores:one"\n'
    campaign = loads_campaign(text, allow_python=True)
    assert campaign.objective().score(["CCO"])["python"][0] == 1.0
    assert campaign.to_dict()["component"][1]["function"] == "my_scores:one"


def test_a_campaign_runs_no_code_it_names_without_consent(tmp_path, monkeypatch):
    """``function = "os:system"`` in someone else's campaign file: refused, naming the module,
    before anything is imported; with consent it is imported. molvae's own functions need none."""
    (tmp_path / "loud.py").write_text("import os\nos.environ['MOLVAE_LOUD'] = 'ran'\n"
                                      "def one(smiles):\n    return [1.0] * len(smiles)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("MOLVAE_LOUD", raising=False)
    for function, module in (("os:system", "os"), ("loud:one", "loud")):
        message = error_of(tmp_path, MINIMAL + f'[[component]]\nkind = "python"\n'
                                                f'function = "{function}"\n')
        assert message.startswith(f"component[2].function: kind 'python' would import module "
                                  f"{module!r} and run {function!r}")
        assert "--allow-python" in message
    assert "MOLVAE_LOUD" not in __import__("os").environ  # nothing was imported
    path = write(tmp_path, MINIMAL + '[[component]]\nkind = "python"\nfunction = "loud:one"\n')
    scored = load_campaign(path, allow_python=True).objective().score(["CCO"])
    assert scored["python"].tolist() == [1.0]
    assert __import__("os").environ["MOLVAE_LOUD"] == "ran"
    own = MINIMAL + ('[[component]]\nkind = "python"\n'
                     'function = "molvae.optimization.presets:penalized_logp"\nweight = 0\n')
    assert load_campaign(write(tmp_path, own)).components[1].kind == "python"


@pytest.mark.parametrize("name", ["../../escaped_run", "a/b", "", ".hidden", "x" * 200, "a b"])
def test_a_campaign_name_is_a_plain_name(tmp_path, name):
    message = error_of(tmp_path, MINIMAL.replace('name = "t"', f'name = "{name}"'))
    assert message.startswith(f"campaign.name: {name!r} is not a plain name")


# --- every error names the file, the key and the choices ----------------------------------------


def test_unknown_key(tmp_path):
    message = error_of(tmp_path, MINIMAL + "weigth = 2\n")
    assert message.startswith(
        "component[1]: unknown key 'weigth' for kind 'qed'; valid keys: "
        "name, kind, weight, transform"
    )
    message = error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\nbugdet = 5'))
    assert message.startswith("campaign: unknown key 'bugdet'; valid keys: name, description")
    message = error_of(
        tmp_path, MINIMAL + '[component.transform]\ntype = "clamp"\nlow = 0\nhigh = 1\nslope = 2\n'
    )
    assert message == (
        "component[1].transform: unknown key 'slope' for transform 'clamp'; "
        "valid keys: type, low, high"
    )
    message = error_of(tmp_path, MINIMAL + "[extras]\nx = 1\n")
    assert message.startswith("extras: unknown table [extras]; expected one of: [campaign]")


def test_unknown_component_kind(tmp_path):
    message = error_of(tmp_path, MINIMAL + '[[component]]\nkind = "qsar"\n')
    assert message.startswith(
        "component[2].kind: unknown component kind 'qsar'; expected "
        "one of: alerts, aromatic_rings, formal_charge, fraction_sp3"
    )
    assert "similarity" in message and "python" in message
    message = error_of(tmp_path, MINIMAL + '[[filter]]\nkind = "ring"\nmax = 1\n')
    assert message.startswith("filter[1].kind: unknown component kind 'ring'")


def test_unknown_transform(tmp_path):
    message = error_of(tmp_path, MINIMAL + '[component.transform]\ntype = "sigmoidal"\n')
    assert message == (
        "component[1].transform.type: unknown transform 'sigmoidal'; expected one "
        "of: clamp, double_sigmoid, gaussian, identity, reverse_sigmoid, sigmoid, "
        "step"
    )


def test_unknown_sampler_and_single_objective_sampler(tmp_path):
    message = error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\nsampler = "bo"'))
    assert message == (
        "campaign.sampler: unknown sampler 'bo'; expected one of: " + ", ".join(SAMPLERS)
    )
    message = error_of(
        tmp_path,
        MINIMAL.replace('name = "t"', 'name = "t"\nsampler = "cmaes"')
        + '[[objective]]\ncomponent = "qed"\ndirection = "maximize"\n',
    )
    assert message.startswith("campaign.sampler: sampler 'cmaes' handles one objective only")
    assert "expected one of: tpe, gp, random, qmc, nsga2" in message


def test_missing_keys(tmp_path):
    assert error_of(tmp_path, MINIMAL.replace('kind = "qed"', 'name = "x"')).startswith(
        "component[1]: missing required key 'kind'; expected one of: alerts,"
    )
    assert error_of(tmp_path, MINIMAL.replace('name = "t"', "")) == (
        "campaign: missing required key 'name'"
    )
    assert error_of(tmp_path, '[[component]]\nkind = "qed"\n').startswith(
        "campaign: missing required table [campaign]"
    )
    assert error_of(tmp_path, '[campaign]\nname = "t"\n').startswith(
        "component: missing: a campaign needs at least one [[component]] table; kinds: alerts"
    )
    assert error_of(tmp_path, MINIMAL + '[[component]]\nkind = "similarity"\n') == (
        "component[2]: missing required key 'references' for kind 'similarity'"
    )
    assert error_of(tmp_path, MINIMAL + "[component.transform]\nlow = 1\n").startswith(
        "component[1].transform: missing required key 'type'; expected one of: clamp,"
    )
    assert error_of(tmp_path, MINIMAL + '[component.transform]\ntype = "sigmoid"\nlow = 1\n') == (
        "component[1].transform: missing required key 'high' for transform 'sigmoid'"
    )
    assert error_of(tmp_path, MINIMAL + '[[objective]]\ncomponent = "qed"\n') == (
        "objective[1]: missing required key 'direction'"
    )


def test_wrong_types(tmp_path):
    assert error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\nbudget = "100"')) == (
        "campaign.budget: expected an integer, got a string"
    )
    assert error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\nbudget = 1.5')) == (
        "campaign.budget: expected an integer, got a number"
    )
    assert error_of(tmp_path, MINIMAL + "weight = true\n") == (
        "component[1].weight: expected a number, got a boolean"
    )
    message = error_of(
        tmp_path, MINIMAL + '[[component]]\nkind = "similarity"\nreferences = "CCO"\n'
    )
    assert message == "component[2].references: expected a list of strings, got a string"
    message = error_of(
        tmp_path, MINIMAL + '[[component]]\nkind = "substructure"\nsmarts = ["c1ccccc1", 3]\n'
    )
    assert message == "component[2].smarts[2]: expected a string, got an integer"
    assert error_of(tmp_path, MINIMAL + 'transform = "identity"\n') == (
        "component[1].transform: expected a table, got a string"
    )
    assert error_of(
        tmp_path,
        MINIMAL + '[[component]]\nkind = "substructure"\nsmarts = ["C"]\nmode = "banned"\n',
    ).startswith("component[2].mode: unknown mode 'banned'; expected one of: required, forbidden")
    assert error_of(tmp_path, MINIMAL + '[aggregate]\nmethod = "median"\n') == (
        "aggregate.method: unknown aggregation 'median'; expected one of: geometric, arithmetic"
    )


def test_bad_smarts_and_smiles(tmp_path):
    message = error_of(
        tmp_path,
        MINIMAL + '[[filter]]\nname = "scaffold"\nkind = "substructure"\n'
        'smarts = ["c1ccccc1", "C(("]\nmin = 1\n',
    )
    assert message == "filter[1].smarts: invalid SMARTS 'C(('"
    message = error_of(
        tmp_path, MINIMAL + '[[component]]\nkind = "similarity"\nreferences = ["CCO", "C1CC"]\n'
    )
    assert message == "component[2].references: similarity: invalid reference SMILES 'C1CC'"
    message = error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\nseeds = ["CCO", "X1"]'))
    assert message == "campaign.seeds[2]: invalid SMILES 'X1'"
    (tmp_path / "s.smi").write_text("CCO\nnot_a_smiles\n")
    message = error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\nseeds_file = "s.smi"'))
    assert re.fullmatch(
        r"campaign\.seeds_file: .*s\.smi line 2: invalid SMILES 'not_a_smiles'", message
    )
    message = error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\nseeds_file = "no.smi"'))
    assert message.startswith("campaign.seeds_file: cannot read ")


def test_seeds_sample_screens_a_reproducible_sample_of_a_library(tmp_path):
    library = [f"C{'C' * i}O" for i in range(40)]
    with gzip.open(tmp_path / "lib.csv.gz", "wt") as fh:
        fh.write("id,SMILES\n" + "".join(f"{i},{s}\n" for i, s in enumerate(library)))
    text = MINIMAL.replace('name = "t"', 'name = "t"\nseed = 4\nseeds = ["c1ccccc1"]\n'
                           'seeds_file = "lib.csv.gz"\nseeds_sample = 5')
    campaign = load_campaign(write(tmp_path, text))
    assert campaign.seeds[0] == "c1ccccc1" and len(campaign.seeds) == 6
    assert set(campaign.seeds[1:]) <= set(library)
    assert load_campaign(write(tmp_path, text)).seeds == campaign.seeds  # same seed, same sample
    other = load_campaign(write(tmp_path, text.replace("seed = 4", "seed = 5")))
    assert other.seeds != campaign.seeds
    again = parse_campaign(json.loads(json.dumps(campaign.to_dict())), base_dir=tmp_path)
    assert again == campaign  # the manifest's campaign reads back to the same seeds
    everything = load_campaign(write(tmp_path, text.replace("seeds_sample = 5", "")))
    assert len(everything.seeds) == 41
    message = error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\nseeds_sample = 5'))
    assert message == "campaign.seeds_sample: draws from seeds_file: give seeds_file too"
    message = error_of(tmp_path, text.replace("seeds_sample = 5", "seeds_sample = 0"))
    assert message == "campaign.seeds_sample: must be at least 1 (got 0)"


def test_bad_python_path(tmp_path):
    path = write(tmp_path, MINIMAL + '[[component]]\nkind = "python"\n'
                           'function = "no_such_pkg_xyz.scores:activity"\n')
    with pytest.raises(CampaignError) as err:
        load_campaign(path, allow_python=True)
    message = str(err.value).removeprefix(f"{path}: ")
    assert message.startswith(
        "component[2].function: python: cannot import "
        "'no_such_pkg_xyz.scores:activity': ModuleNotFoundError"
    )
    message = error_of(
        tmp_path, MINIMAL + '[[component]]\nkind = "python"\nfunction = "molvae.objectives"\n'
    )
    assert message == (
        "component[2].function: python: 'molvae.objectives' is not 'package.module:function'"
    )


def test_bad_values(tmp_path):
    assert error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\nbudget = 0')) == (
        "campaign.budget: must be at least 1 (got 0)"
    )
    assert error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\ntrust_region = 1.0')) == (
        "campaign.trust_region: a trust region surrounds the seed molecules: give seeds = [...] "
        "or seeds_file"
    )
    assert error_of(tmp_path, MINIMAL + '[[component]]\nkind = "mw"\n').startswith(
        "component[2].transform: component 'mw': kind 'mw' has raw values outside [0, 1]"
    )
    assert error_of(
        tmp_path, MINIMAL + '[component.transform]\ntype = "clamp"\nlow = 1\nhigh = 1\n'
    ) == ("component[1].transform: clamp: low and high must differ (both 1.0)")
    assert error_of(tmp_path, MINIMAL + '[[component]]\nkind = "qed"\n').startswith(
        "component: component 'qed' makes a column 'qed' that component 'qed' makes too"
    )
    assert error_of(tmp_path, MINIMAL + '[[filter]]\nkind = "sa"\n').startswith(
        "filter[1].min: filter 'sa': give min, max or both"
    )
    assert error_of(
        tmp_path, MINIMAL + '[[objective]]\ncomponent = "sa"\ndirection = "minimize"\n'
    ).startswith("objective: objective names no component 'sa'; components: qed")
    assert error_of(tmp_path, MINIMAL + '[[objective]]\ncomponent = "qed"\ndirection = "up"\n') == (
        "objective[1].direction: unknown direction 'up'; expected one of: maximize, minimize"
    )


def test_unreadable_files(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(CampaignError, match=f"^{re.escape(str(missing))}: cannot read"):
        load_campaign(missing)
    assert error_of(tmp_path, "[campaign\nname = 1").startswith("not valid TOML: ")


def test_campaign_is_frozen_and_the_transform_is_a_dataclass(tmp_path):
    campaign = load_campaign(
        write(tmp_path, MINIMAL + '[component.transform]\ntype = "clamp"\nlow = 0\nhigh = 1\n')
    )
    assert isinstance(campaign, Campaign)
    with pytest.raises(AttributeError):
        campaign.budget = 5  # type: ignore[misc]
    assert campaign.components[0].transform == Clamp(low=0.0, high=1.0)


def test_max_ring_is_a_setting_that_round_trips(tmp_path):
    from molvae.optimization.campaign import loads_campaign, parse_campaign

    default = loads_campaign(MINIMAL)
    assert default.max_ring == 0
    mine = loads_campaign(MINIMAL.replace('name = "t"', 'name = "t"\nmax_ring = 7'))
    assert mine.max_ring == 7 and parse_campaign(mine.to_dict()) == mine
    assert default.with_overrides(max_ring=12).max_ring == 12
    assert error_of(tmp_path, MINIMAL.replace('name = "t"', 'name = "t"\nmax_ring = -1')) == (
        "campaign.max_ring: must be at least 0 (got -1)"
    )

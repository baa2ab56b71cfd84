"""The start population: a campaign without seeds spends its first tenth of the budget on the
model's training molecules (the centres of its sampling distribution), then searches."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from molvae.errors import CampaignError
from molvae.optimization import optimize
from molvae.optimization.campaign import loads_campaign
from molvae.optimization.space import model_space
from molvae.optimization.start import StartPopulation, start_points, start_size

CAMPAIGN = textwrap.dedent("""
    [campaign]
    name = "start"
    budget = 200
    batch_size = 8
    [[component]]
    kind = "qed"
""")


def test_start_points_are_distinct_centres_of_the_sampling_distribution(tiny_model) -> None:
    centres = tiny_model.network.prior.means.numpy()
    k = len(centres)
    points = start_points(tiny_model, min(k, 16), seed=0)
    if k > 1:  # a fitted mixture: its centres, each once
        rows = {tuple(np.round(p, 5)) for p in points}
        assert len(rows) == len(points)
        assert rows <= {tuple(np.round(c, 5)) for c in centres}
    more = start_points(tiny_model, k + 5, seed=0)  # past the centres: draws from the prior
    assert more.shape == (k + 5, centres.shape[1]) and np.isfinite(more).all()
    assert np.array_equal(start_points(tiny_model, 5, seed=3), start_points(tiny_model, 5, seed=3))


def test_the_start_population_is_proposed_until_the_study_holds_its_size(tiny_model) -> None:
    space = model_space(tiny_model)
    calls = [0]
    start = StartPopulation.of(tiny_model, space, start_size(100), seed=0,
                               calls=lambda: calls[0])
    assert start.size == 10
    first = start.take(4)
    assert [p.source for p in first] == ["start"] * 4
    assert all(np.all((p.w >= space.lower) & (p.w <= space.upper)) for p in first)
    calls[0] = 4
    assert len(start.take(50)) == 6  # no more than the rest of its size
    calls[0] = 10
    assert start.take(8) == []


def test_a_campaign_without_seeds_starts_from_the_start_population(tiny_model, tmp_path) -> None:
    table = optimize(loads_campaign(CAMPAIGN), model=tiny_model, out=tmp_path / "run")
    assert len(table) == 200 and table["smiles"].is_unique
    is_start = table["source"] == "start"
    assert 0 < is_start.sum() <= start_size(200) + 8  # its size, at most one batch over
    assert table.loc[is_start, "trial"].max() < table.loc[~is_start, "trial"].min()  # first
    assert {"cmaes", "edit"} & set(table.loc[~is_start, "source"])  # then the search


def test_a_campaign_with_seeds_has_no_start_population(tiny_model, tmp_path) -> None:
    seeded = CAMPAIGN.replace('name = "start"', 'name = "start"\nseeds = ["CCOC(=O)c1ccccc1"]')
    table = optimize(loads_campaign(seeded), model=tiny_model, out=tmp_path / "run")
    assert "start" not in set(table["source"])
    assert "seed" in set(table["source"])


def test_the_start_setting_sizes_or_removes_the_start_population(tiny_model, tmp_path) -> None:
    none = CAMPAIGN.replace('batch_size = 8', 'batch_size = 8\nstart = 0')
    table = optimize(loads_campaign(none), model=tiny_model, out=tmp_path / "none")
    assert "start" not in set(table["source"])
    assert loads_campaign(none).to_dict()["campaign"]["start"] == 0
    seeded = none.replace("start = 0", 'start = 5\nseeds = ["CCO"]')
    with pytest.raises(CampaignError, match="campaign.start.*seeds"):
        loads_campaign(seeded)
    with pytest.raises(CampaignError, match="campaign.start"):
        loads_campaign(none.replace("start = 0", "start = -1"))

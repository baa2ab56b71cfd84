"""molvae.optimize on the tiny model: budget and cache, failures, resume, outputs, seeds and
trust region, samplers, what each trial holds. (Several processes: test_processes.py.)"""

from __future__ import annotations

import dataclasses
import json
import math
import textwrap
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
from rdkit import Chem

from molvae import optimize
from molvae.errors import CampaignError, OptimizeError, StorageError
from molvae.optimization import SearchSpace, qed_objective, study_results
from molvae.optimization.campaign import loads_campaign
from molvae.optimization.records import ATTR, point_of, seed_of


class Counting:
    """A cheap objective that remembers every SMILES it was asked to score."""

    def __init__(self, fail_odd: bool = False) -> None:
        self.seen: list[str] = []
        self.fail_odd = fail_odd
        self.__name__ = "counting"

    def __call__(self, smiles: list[str]) -> list[float]:
        self.seen.extend(smiles)
        return [
            math.nan if self.fail_odd and len(s) % 2 else len(s) / 100 for s in smiles
        ]


def _proposals(trials: list) -> list:
    """The trials that evaluated a point (not the budget's reservations: see budget.py)."""
    return [t for t in trials if "w" in t.user_attrs.get(ATTR, {})]


def _load(path: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=JournalStorage(JournalFileBackend(str(path))))


def test_budget_counts_unique_molecules_and_duplicates_are_free(tiny_model, tmp_path):
    fn = Counting()
    table = optimize(fn, budget=16, batch_size=8, model=tiny_model, out=tmp_path, sampler="random")
    assert len(fn.seen) == len(set(fn.seen)) == 16  # each molecule scored once
    assert len(table) == 16 and table["smiles"].is_unique
    assert set(table["smiles"]) == set(fn.seen)
    study = _load(tmp_path / "study.log", "counting")
    trials = _proposals(study.get_trials(deepcopy=False))
    assert len(trials) > 16  # duplicates are told too
    cached = [t for t in trials if t.user_attrs.get("molvae", {}).get("oracle") is False]
    assert len(trials) == 16 + len(cached) + sum(t.user_attrs.get("smiles") is None for t in trials)
    for t in cached:  # a cached trial is told the stored score
        assert t.value == pytest.approx(len(t.user_attrs["smiles"]) / 100)


def test_cmaes_trials_are_written_whole_with_their_point(tiny_model, tmp_path):
    """The default sampler's trials are written once, told: no parameters, no optimizer state,
    the point in the record, and the point decodes to the molecule the trial recorded."""
    fn = Counting()
    table = optimize(fn, budget=48, batch_size=16, model=tiny_model, out=tmp_path,
                     sampler="cmaes", seed=3, operators=())  # the sampler's own trials alone
    study = _load(tmp_path / "study.log", "counting")
    every = study.get_trials(deepcopy=False)
    trials = _proposals(every)
    assert all(t.state in (TrialState.COMPLETE, TrialState.FAIL) for t in every)
    assert {t.user_attrs["smiles"] for t in trials if "smiles" in t.user_attrs} == set(fn.seen)
    assert all(not t.params and not t.system_attrs for t in trials)
    space = SearchSpace.box(tiny_model.network.latent_mean.numpy(),
                            tiny_model.network.latent_std.numpy())
    points = np.array([point_of(t, list(space.names)) for t in trials[:16]])
    decoded = [smi for _, smi in tiny_model.decode_latents(space.latents(points))]
    assert decoded == [t.user_attrs.get("smiles") for t in trials[:16]]
    assert {t.user_attrs[ATTR]["source"] for t in trials} == {"cmaes"}
    assert len(study_results(study)) == len(table) == 48
    lines = (tmp_path / "study.log").read_text().splitlines()
    assert len(lines) == len(every) + 2  # the study, its attributes, then one line a trial


def test_an_optuna_sampler_s_trials_hold_their_parameters(tiny_model, tmp_path):
    optimize(Counting(), budget=8, batch_size=4, model=tiny_model, out=tmp_path, sampler="tpe")
    trials = _proposals(_load(tmp_path / "study.log", "counting").get_trials(deepcopy=False))
    assert all(len(t.params) == tiny_model.latent_dim for t in trials)
    assert {t.user_attrs[ATTR]["source"] for t in trials} == {"TPESampler"}


def test_callable_failures_are_recorded_and_the_run_goes_on(tiny_model):
    fn = Counting(fail_odd=True)
    table = optimize(fn, budget=20, batch_size=8, model=tiny_model, sampler="random", seed=1)
    assert len(table) == 20  # in memory: no out dir
    failed = table[table["state"] == "failed"]
    assert len(failed) and (failed["smiles"].str.len() % 2 == 1).all()
    assert failed["score"].isna().all()
    assert failed["failure"].str.contains("returned nan").all()
    assert (table.loc[table["state"] == "ok", "failure"] == "").all()
    assert table["rank"].tolist() == list(range(1, 21))
    assert table["score"].iloc[: len(table) - len(failed)].is_monotonic_decreasing


def test_resume_keeps_the_first_molecules_and_scores_only_new_ones(tiny_model, tmp_path):
    first = Counting()
    optimize(first, budget=20, batch_size=8, model=tiny_model, out=tmp_path, sampler="random")
    second = Counting()
    table = optimize(second, budget=40, batch_size=8, model=tiny_model, out=tmp_path,
                     sampler="random")
    assert len(first.seen) == len(second.seen) == 20
    assert not set(first.seen) & set(second.seen)  # nothing rescored
    assert len(table) == 40 and set(first.seen) <= set(table["smiles"])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [s["molecules_already_scored"] for s in manifest["sessions"]] == [0, 20]
    again = Counting()
    assert len(optimize(again, budget=40, model=tiny_model, out=tmp_path)) == 40
    assert again.seen == []  # budget already reached: nothing to do


def test_outputs_and_their_schema(tiny_model, tmp_path):
    campaign = loads_campaign(textwrap.dedent("""
        [campaign]
        name = "qed_small"
        budget = 16
        batch_size = 8
        top_k = 5
        sampler = "cmaes"
        [campaign.diversity]
        max_per_scaffold = 1
        [[component]]
        name = "quality"
        kind = "qed"
    """))
    table = optimize(campaign, model=tiny_model, out=tmp_path)
    results = pd.read_csv(tmp_path / "results.csv", keep_default_na=False, na_values=[""])
    head = ["rank", "smiles", "score", "state", "failure", "passed_filters", "quality",
            "quality_score", "trial", "worker", "source", "time"]
    assert list(results.columns[: len(head)]) == head
    assert {"qed", "sa", "logp", "mw", "novel"} <= set(results.columns)
    assert len(results) == 16 and results["smiles"].is_unique
    assert results["score"].is_monotonic_decreasing
    assert np.allclose(results["score"], results["quality"])
    assert list(table.columns) == list(results.columns)
    top = pd.read_csv(tmp_path / "top.csv")
    assert 1 <= len(top) <= 5 and set(top["smiles"]) <= set(results["smiles"])
    sdf = [m for m in Chem.SDMolSupplier(str(tmp_path / "top.sdf")) if m is not None]
    assert len(sdf) == len(top)
    for name in ("top.png", "progress.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    progress = pd.read_csv(tmp_path / "progress.csv")
    assert list(progress.columns) == ["calls", "best", "top10_mean", "elapsed_s"]
    assert progress["calls"].tolist() == list(range(1, 17))
    assert progress["best"].iloc[-1] == pytest.approx(results["score"].max(), abs=1e-5)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["campaign"]["campaign"]["name"] == "qed_small"
    assert len(manifest["model"]["tensors_sha256"]) == 64
    assert manifest["seed"] == 0 and manifest["sampler"]["name"] == "cmaes"
    assert manifest["storage"].startswith("journal:") and "torch" in manifest["versions"]
    timing = json.loads((tmp_path / "timing.json").read_text())
    assert {"ask", "decode", "score", "tell", "write"} <= set(timing["seconds"])
    assert 0 < timing["sampler_s"] < timing["seconds"]["ask"] + timing["seconds"]["tell"]
    # the storage alone gives the same molecules and scores
    stored = study_results(_load(tmp_path / "study.log", "qed_small"))
    assert set(stored["smiles"]) == set(results["smiles"])
    assert np.allclose(stored["score"], results["score"])


def test_trust_region_box():
    space = SearchSpace.trust_region(np.zeros(3), np.full(3, 2.0),
                                     np.array([[0.0, 2.0, 5.8], [1.0, 2.0, 0.0]]), 0.5, 3.0)
    # whitened seeds: (0, 1, 2.9) and (0.5, 1, 0)
    assert np.allclose(space.lower, [-0.5, 0.5, -0.5])
    assert np.allclose(space.upper, [1.0, 1.5, 3.0])  # clipped to the prior box
    far = SearchSpace.trust_region(np.zeros(1), np.ones(1), np.array([[4.0]]), 0.5, 3.0)
    assert far.lower[0] == pytest.approx(3.5) and far.upper[0] == pytest.approx(4.0)  # holds it


@pytest.mark.parametrize("sampler", ["tpe", "cmaes"])
def test_seeds_come_first_inside_the_trust_region(tiny_model, small_smiles, tmp_path, sampler):
    enc = tiny_model.encode_latents(small_smiles[:2])
    assert enc.ok.all()
    campaign = loads_campaign(textwrap.dedent(f"""
        [campaign]
        name = "lead"
        budget = 10
        batch_size = 4
        sampler = "{sampler}"
        seeds = ["{small_smiles[0]}", "{small_smiles[1]}"]
        trust_region = 0.5
        [[component]]
        kind = "qed"
    """))
    optimize(campaign, model=tiny_model, out=tmp_path)
    net = tiny_model.network
    w = (enc.z - net.latent_mean.numpy()) / net.latent_std.numpy()
    trials = _proposals(_load(tmp_path / "study.log", "lead").get_trials(deepcopy=False))
    names = [f"w{i}" for i in range(tiny_model.latent_dim)]
    assert [seed_of(t) for t in trials[:2]] == [0, 1]
    assert all(seed_of(t) is None for t in trials[2:])
    for i in range(2):
        assert np.allclose(point_of(trials[i], names), w[i], atol=1e-5)
    lower = np.maximum(w.min(0) - 0.5, -3.0)
    upper = np.minimum(w.max(0) + 0.5, 3.0)
    for t in trials:
        x = point_of(t, names)
        assert (x >= lower - 1e-5).all() and (x <= upper + 1e-5).all()


def test_seeds_are_evaluated_once_across_resumes(tiny_model, small_smiles, tmp_path):
    seeds = small_smiles[:5]
    campaign = loads_campaign(textwrap.dedent(f"""
        [campaign]
        name = "screen"
        batch_size = 4
        seeds = {json.dumps(seeds)}
        [[component]]
        kind = "qed"
    """))
    optimize(campaign, budget=3, model=tiny_model, out=tmp_path)  # stops with seeds waiting
    optimize(campaign, budget=12, model=tiny_model, out=tmp_path)
    trials = _proposals(_load(tmp_path / "study.log", "screen").get_trials(deepcopy=False))
    evaluated = [seed_of(t) for t in trials if seed_of(t) is not None]
    assert evaluated == [0, 1, 2, 3, 4]  # each once, first, in order, across the resume
    assert [i for i, t in enumerate(trials) if seed_of(t) is not None] == list(range(5))
    assert all(t.state in (TrialState.COMPLETE, TrialState.FAIL) for t in trials)


class _Reconstructs:
    """The tiny model, except that it gives back only the seeds ``back`` marks, and decodes the
    others to ethanol."""

    def __init__(self, model, back: list[bool]) -> None:
        self._model, self._back = model, np.array(back)

    def __getattr__(self, name):
        return getattr(self._model, name)

    def encode_exact(self, smiles):
        return dataclasses.replace(self._model.encode_exact(smiles), reconstructs=self._back)

    def decode_latents(self, z, **kwargs):
        return [(None, "CCO") for _ in z]


@pytest.mark.parametrize("wrong", [0, 2, 6])
def test_seeds_the_model_does_not_reconstruct_are_named(tiny_model, small_smiles, caplog, wrong):
    """``wrong`` of six seeds decode to another molecule: the first three are named, with the
    molecule they decode to, and a count when there are more."""
    seeds = small_smiles[:6]
    campaign = loads_campaign(textwrap.dedent(f"""
        [campaign]
        name = "seeds"
        budget = 8
        batch_size = 8
        seeds = {json.dumps(seeds)}
        [[component]]
        kind = "qed"
    """))
    with caplog.at_level("WARNING", logger="molvae.optimization.session"):
        optimize(campaign, model=_Reconstructs(tiny_model, [True] * (6 - wrong) + [False] * wrong))
    named = [r.getMessage() for r in caplog.records if "does not reconstruct" in r.getMessage()]
    assert len(named) == min(wrong, 3)
    missed = seeds[6 - wrong:]
    assert all(any(m in text and "CCO" in text for text in named) for m in missed[:3])
    assert (f"{wrong} of 6 seeds are not reconstructed" in caplog.text) == (wrong > 3)


def test_a_sampler_instance_is_used_with_an_rdb_storage(tiny_model, tmp_path):
    class Recording(optuna.samplers.RandomSampler):
        calls = 0

        def sample_independent(self, *args, **kwargs):
            Recording.calls += 1
            return super().sample_independent(*args, **kwargs)

    url = f"sqlite:///{tmp_path / 'study.db'}"
    table = optimize(qed_objective(), budget=4, batch_size=4, model=tiny_model,
                     sampler=Recording(seed=0), storage=url, study="q")
    assert len(study_results(optuna.load_study(study_name="q", storage=url))) == 4
    assert len(table) == 4 and Recording.calls >= 4 * tiny_model.latent_dim
    assert (table["state"] == "ok").all() and table["qed"].between(0, 1).all()


def test_a_database_study_holds_every_trial_whole(tiny_model, tmp_path):
    """In a database too, each default-sampler trial is one row with its record: its point
    decodes to the molecule the trial recorded."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    optimize(qed_objective(), budget=24, batch_size=8, model=tiny_model, storage=url,
             study="q", sampler="cmaes", seed=0)
    study = optuna.load_study(study_name="q", storage=url)
    trials = _proposals(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    assert len(trials) >= 24
    space = SearchSpace.box(tiny_model.network.latent_mean.numpy(),
                            tiny_model.network.latent_std.numpy())
    points = np.array([point_of(t, list(space.names)) for t in trials[:8]])
    decoded = [smi for _, smi in tiny_model.decode_latents(space.latents(points))]
    assert decoded == [t.user_attrs["smiles"] for t in trials[:8]]


def test_bad_settings_fail_before_any_work(tiny_model, tmp_path):
    with pytest.raises(CampaignError, match="unknown sampler 'bogus'"):
        optimize(Counting(), sampler="bogus", model=tiny_model)
    with pytest.raises(OptimizeError, match="not writable|is a file"):
        (tmp_path / "file").write_text("x")
        optimize(Counting(), model=tiny_model, out=tmp_path / "file")
    with pytest.raises(OptimizeError, match="not .*int"):
        optimize(42, model=tiny_model)
    with pytest.raises(StorageError, match="storage 'nowhere'"):
        optimize(Counting(), model=tiny_model, storage="nowhere")


def test_a_study_of_another_objective_is_not_resumed(tiny_model, tmp_path):
    shared = tmp_path / "shared.log"
    optimize(Counting(), budget=4, batch_size=4, model=tiny_model, out=tmp_path / "a",
             storage=shared, study="s")
    with pytest.raises(OptimizeError, match="different objective"):
        optimize(qed_objective(), budget=8, model=tiny_model, out=tmp_path / "b",
                 storage=shared, study="s")
    with pytest.raises(OptimizeError, match="holds the run of campaign 'counting'"):
        optimize(qed_objective(), budget=8, model=tiny_model, out=tmp_path / "a")


def test_pareto_campaign_writes_the_front(tiny_model, tmp_path):
    campaign = loads_campaign(textwrap.dedent("""
        [campaign]
        name = "pareto"
        budget = 12
        batch_size = 6
        [[component]]
        kind = "qed"
        [[component]]
        kind = "sa"
        weight = 0
        [[objective]]
        component = "qed"
        direction = "maximize"
        [[objective]]
        component = "sa"
        direction = "minimize"
    """))
    optimize(campaign, model=tiny_model, out=tmp_path)
    front = pd.read_csv(tmp_path / "pareto.csv")
    results = pd.read_csv(tmp_path / "results.csv")
    assert 1 <= len(front) <= len(results) == 12
    best_qed = results.loc[results["qed"].idxmax(), "smiles"]
    assert best_qed in set(front["smiles"])




def test_a_scoring_function_that_calls_sys_exit_stops_the_run_cleanly(tiny_model, tmp_path):
    """sys.exit in the user's function: the run stops, saying so, with what was told before
    it in the outputs; the same call resumes."""
    import sys

    from molvae.errors import ScoringStopped

    calls = []

    def exits(smiles):
        calls.append(len(smiles))
        if len(calls) == 3:
            sys.exit(3)
        return [len(s) / 100 for s in smiles]

    with pytest.raises(ScoringStopped, match=r"called sys.exit\(3\)"):
        optimize(exits, budget=16, batch_size=4, model=tiny_model, out=tmp_path,
                 sampler="random")
    written = pd.read_csv(tmp_path / "results.csv")
    assert len(written) == sum(calls[:2]) and (written["state"] == "ok").all()
    table = optimize(exits, budget=16, batch_size=4, model=tiny_model, out=tmp_path,
                     sampler="random")
    assert len(table) == 16 and set(written["smiles"]) <= set(table["smiles"])


def test_a_finished_run_rewrites_its_outputs_without_scoring(tiny_model, tmp_path):
    """Killed during its final write, a run has its study but not its files: the same command
    writes them from the study, scoring nothing; temporaries a killed write left are removed."""
    import os
    import time

    optimize(Counting(), budget=12, batch_size=4, model=tiny_model, out=tmp_path,
             sampler="random")
    before = pd.read_csv(tmp_path / "results.csv")
    for name in ("results.csv", "top.csv", "progress.csv"):
        (tmp_path / name).unlink()
    stale = tmp_path / ".results.csv.abc123.tmp"
    stale.write_text("half a file")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / ".top.csv.def456.tmp"  # a write in progress elsewhere: left alone
    fresh.write_text("")
    again = Counting()
    optimize(again, budget=12, batch_size=4, model=tiny_model, out=tmp_path, sampler="random")
    assert again.seen == []  # nothing scored
    after = pd.read_csv(tmp_path / "results.csv")
    assert set(after["smiles"]) == set(before["smiles"]) and (tmp_path / "top.csv").is_file()
    assert not stale.exists() and fresh.exists()


def test_the_rest_of_the_budget_is_shared_among_the_active_workers():
    import time

    from molvae.optimization.loop import ACTIVE_SECONDS, Run

    run = Run.__new__(Run)  # the share needs only when each worker last told and its own name
    run.worker, run.latest = "me", {}
    assert run.share(10) == 10  # alone: all of it, so one worker ends exactly on the budget
    now = time.time()
    run.latest = {"other": now, "third": now, "gone": now - 2 * ACTIVE_SECONDS}
    assert run.share(10) == 4 and run.share(2) == 1  # three active workers (one has stopped)


def test_seeds_outside_the_domain_or_standardized_are_named(tiny_model, small_smiles, caplog,
                                                            monkeypatch):
    """A seed the model places outside its domain, and a seed given as a salt, each get a
    warning naming them before the search starts from them."""
    far, salt = small_smiles[0], small_smiles[1] + ".Cl"
    campaign = loads_campaign(textwrap.dedent(f"""
        [campaign]
        name = "domain"
        budget = 8
        batch_size = 8
        seeds = {json.dumps([far, salt])}
        [[component]]
        kind = "qed"
    """))
    monkeypatch.setattr(type(tiny_model), "knows_domain",
                        lambda self, z: np.array([0.001, 0.5])[: len(z)])
    with caplog.at_level("WARNING"):
        optimize(campaign, model=tiny_model)
    text = caplog.text
    assert f"seed {far} is outside the model's domain" in text
    assert f"seed {salt} is outside" not in text
    assert f"seed {salt} standardized before encoding: removed fragment Cl" in text


def test_a_seed_the_mean_misreads_is_searched_from_itself(caplog):
    """Ibuprofen's posterior mean decodes to another molecule: with refinement (the default) the
    seed trial scores ibuprofen itself, without a warning; with ``refine=False`` it scores the
    molecule the mean decodes to, and says so."""
    import molvae

    ibuprofen = "CC(C)Cc1ccc(C(C)C(=O)O)cc1"
    campaign = loads_campaign(textwrap.dedent(f"""
        [campaign]
        name = "seed"
        budget = 4
        batch_size = 4
        seeds = ["{ibuprofen}"]
        [[component]]
        kind = "qed"
    """))
    model = molvae.load_model()
    with caplog.at_level("WARNING", logger="molvae.optimization.session"):
        refined = optimize(campaign, model=model)
    assert refined.loc[refined["source"] == "seed", "smiles"].tolist() == [ibuprofen]
    assert "does not reconstruct" not in caplog.text
    with caplog.at_level("WARNING", logger="molvae.optimization.session"):
        plain = optimize(campaign, model=model, refine=False)
    seeded = plain.loc[plain["source"] == "seed", "smiles"].tolist()
    assert len(seeded) == 1 and seeded != [ibuprofen]
    assert f"seed {ibuprofen} decodes to {seeded[0]}" in caplog.text


def test_candidates_with_large_rings_are_not_scored(tmp_path):
    """The shipped decoder writes a ring of more than 7 atoms at about one point in five: with
    ``max_ring=7`` the search leaves those unscored (no oracle call, the trial failed with the
    reason) and still spends its whole budget on other molecules; by default it scores them."""
    import molvae
    from molvae.chem import largest_ring

    model = molvae.load_model()
    fn = Counting()
    table = optimize(fn, budget=48, batch_size=16, model=model, out=tmp_path / "a",
                     sampler="random", operators=(), max_ring=7)
    assert len(table) == 48 == len(set(fn.seen))
    assert max(largest_ring(s) for s in fn.seen) <= 7
    study = _load(tmp_path / "a" / "study.log", "counting")
    failures = [t.user_attrs.get("failure", "")
                for t in _proposals(study.get_trials(deepcopy=False))]
    refused = [f for f in failures if "more than max_ring = 7: not scored" in f]
    assert refused, failures

    every = Counting()
    optimize(every, budget=48, batch_size=16, model=model, sampler="random", operators=())
    assert max(largest_ring(s) for s in every.seen) > 7

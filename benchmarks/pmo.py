"""Sample efficiency of latent-space optimization under the PMO protocol (Gao et al. 2022,
"Sample efficiency matters", NeurIPS Datasets and Benchmarks): how good are the best molecules
found, and how soon, within a budget of unique molecules scored (oracle calls).

    python benchmarks/pmo.py --budget 10000 --seeds 0 1 2 3 4 \
        --tasks qed,osimertinib_mpo,celecoxib_rediscovery
    python benchmarks/pmo.py --budget 10000 --seeds 0 1 2 --tasks lead_improvement
    python benchmarks/pmo.py --budget 10000 --seeds 0 1 2 --methods molvae+screen \
        --screen 1000 --tasks qed,osimertinib_mpo,celecoxib_rediscovery
    python benchmarks/pmo.py --budget 10000 --seeds 0 1 2 3 4 --methods molvae,graph-ga \
        --tasks median1,fexofenadine_mpo,deco_hop,osimertinib_mpo,celecoxib_rediscovery,qed

reproduce the README numbers (2 to 5 minutes per optimizer run on 2 cores; each finished run
is one JSON file, so an interrupted benchmark resumes where it stopped).

Tasks are campaign files in ``optimize/``: ``qed``, ``osimertinib_mpo``,
``celecoxib_rediscovery``, ``median1``, ``fexofenadine_mpo`` and ``deco_hop`` are PMO oracles
(GuacaMol's objectives, the same as :mod:`molvae.optimization.presets`); ``lead_improvement``
(QED of a lead subject to Tanimoto >= 0.4) is not, and has no published reference. Methods:

- ``molvae-<sampler>``: :func:`molvae.optimize` on the campaign, one Optuna sampler;
- ``molvae-<sampler>+screen<N>`` (``--methods molvae+screen --screen N``): the same, with N
  random MOSES training molecules as seeds: screened first (N of the budget), and the search
  starts from the best of them (a campaign's ``seeds_file`` + ``seeds_sample``);
- ``prior``: molecules drawn from the model's prior, in order, without any feedback;
- ``moses``: a seeded random order of the MOSES training set (PMO's "screening" baseline
  screens ZINC the same way);
- ``graph-ga``: Jensen's Graph GA as the ``mol-ga`` package (0.2.1, Tripp) runs it
  (:func:`run_graph_ga`), on the same oracle (the campaign's objective), budget and seeds. It
  needs the optional ``bench`` extra (``pip install 'molvae[bench]'``).

Each run scores at most ``--budget`` unique molecules and records, in oracle-call order, the
mean of the 10 best scores every 100 calls; its ``auc_top10`` (see :func:`auc_top_k`) is PMO's
headline metric. It also records the diversity of its 100 best molecules
(:func:`top_diversity`) and its wall time. Results: ``<out>/<task>/<method>/seed<k>.json``, then
``<out>/summary.md`` and ``<out>/summary.json`` (mean and std over seeds, the wall-time ratio of
each molvae method to graph-ga, the published PMO numbers beside them).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import logging
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from annotate import hardware
from rdkit import DataStructs

from molvae.chem import canonical_smiles, implausible_atoms, without_rdkit_log
from molvae.errors import MolVAEError
from molvae.io import atomic_write_text
from molvae.optimization.campaign import load_campaign
from molvae.similarity import morgan_fingerprint

log = logging.getLogger("pmo")

ROOT = Path(__file__).resolve().parent.parent
#: Task name -> campaign file.
TASKS = {
    "qed": ROOT / "optimize" / "qed.toml",
    "osimertinib_mpo": ROOT / "optimize" / "osimertinib_mpo.toml",
    "celecoxib_rediscovery": ROOT / "optimize" / "celecoxib_rediscovery.toml",
    "median1": ROOT / "optimize" / "median1.toml",
    "fexofenadine_mpo": ROOT / "optimize" / "fexofenadine_mpo.toml",
    "deco_hop": ROOT / "optimize" / "deco_hop.toml",
    "lead_improvement": ROOT / "optimize" / "lead_improvement.toml",
}
#: The tasks that are PMO oracles (with published numbers).
PMO_TASKS = ("qed", "osimertinib_mpo", "celecoxib_rediscovery", "median1", "fexofenadine_mpo",
             "deco_hop")
METHODS = ("molvae", "molvae+screen", "prior", "moses", "graph-ga")
#: PMO records the top-k curve every FREQ oracle calls.
FREQ = 100

#: Published AUC top-10 (budget 10,000 oracle calls), by task and method. Source: the PMO
#: authors' leaderboard, https://github.com/pmo-benchmark/pmo-benchmark.github.io (qed/index.md
#: at commit 25e0577; osimertinib_mpo, celecoxib_rediscovery, median1, fexofenadine_mpo and
#: deco_hop /index.md at commit 3ce0f4d), which lists the results of Gao et al. 2022 (means over
#: 5 independent runs in the paper). "Screening" is PMO's random screening of ZINC, the
#: counterpart of our ``moses``. GenMol (Lee et al. 2025, a discrete-diffusion generator, on
#: PMO's protocol) is as the issue "Beat Graph GA and REINVENT" quotes it, not read here from the
#: paper; it gives no QED value.
PUBLISHED_AUC_TOP10 = {
    "REINVENT": {"qed": 0.941, "osimertinib_mpo": 0.837, "celecoxib_rediscovery": 0.713,
                 "median1": 0.356, "fexofenadine_mpo": 0.784, "deco_hop": 0.666},
    "Graph GA": {"qed": 0.940, "osimertinib_mpo": 0.831, "celecoxib_rediscovery": 0.630,
                 "median1": 0.294, "fexofenadine_mpo": 0.760, "deco_hop": 0.619},
    "GP BO": {"qed": 0.937, "osimertinib_mpo": 0.787, "celecoxib_rediscovery": 0.723,
              "median1": 0.301, "fexofenadine_mpo": 0.722, "deco_hop": 0.629},
    "SMILES-LSTM-HC": {"qed": 0.939, "osimertinib_mpo": 0.796, "celecoxib_rediscovery": 0.539,
                       "median1": 0.255, "fexofenadine_mpo": 0.725, "deco_hop": 0.826},
    "SELFIES-VAE BO": {"qed": 0.936, "osimertinib_mpo": 0.765, "celecoxib_rediscovery": 0.326,
                       "median1": 0.201, "fexofenadine_mpo": 0.670, "deco_hop": 0.579},
    "Screening": {"qed": 0.938, "osimertinib_mpo": 0.764, "celecoxib_rediscovery": 0.351,
                  "median1": 0.205, "fexofenadine_mpo": 0.666, "deco_hop": 0.590},
    "GenMol": {"osimertinib_mpo": 0.876, "celecoxib_rediscovery": 0.826, "median1": 0.398,
               "fexofenadine_mpo": 0.894, "deco_hop": 0.960},
}
PUBLISHED_SOURCE = (
    "PMO leaderboard by the paper's authors, github.com/pmo-benchmark/pmo-benchmark.github.io "
    "(qed/index.md @25e0577; osimertinib_mpo, celecoxib_rediscovery, median1, fexofenadine_mpo "
    "and deco_hop /index.md @3ce0f4d); Gao et al. 2022 report means over 5 runs. GenMol (Lee et "
    "al. 2025) as quoted by the issue \"Beat Graph GA and REINVENT\", not checked against the "
    "paper here"
)


# --- Metrics --------------------------------------------------------------------------------------


def top_k_mean(scores: np.ndarray, k: int) -> float:
    """Mean of the ``k`` best scores; NaN (failed) has no value, and places left empty when
    fewer than ``k`` scores exist count 0, so a run is not rewarded for finding few molecules.

    >>> top_k_mean(np.array([0.5, np.nan, 0.9]), 3)
    0.4666666666666666
    """
    finite = np.sort(scores[np.isfinite(scores)])[::-1][:k]
    return float(finite.sum() / k)


def top_k_curve(scores: Sequence[float], k: int = 10, freq: int = FREQ) -> list[tuple[int, float]]:
    """``(calls, mean of the k best so far)`` every ``freq`` calls, and at the last call when the
    run does not end on a multiple of ``freq``; ``scores`` in oracle-call order."""
    values = np.asarray(scores, dtype=float)
    marks = list(range(freq, len(values) + 1, freq))
    if len(values) and (not marks or marks[-1] != len(values)):
        marks.append(len(values))
    return [(m, top_k_mean(values[:m], k)) for m in marks]


def auc_top_k(
    scores: Sequence[float], budget: int, k: int = 10, freq: int = FREQ, origin: bool = True
) -> float:
    """PMO's AUC of the top-k mean: the area under the curve ``(calls, mean of the k best scores
    so far)``, over ``[0, budget]``, divided by ``budget``; 1.0 only if the first ``freq``
    molecules already hold k perfect scores.

    Exactly what is computed: the curve's points are :func:`top_k_curve` (every ``freq``
    calls, plus the last call) over the first ``budget`` scores, after ``(0, 0)`` as in PMO's
    code (``origin=False`` starts at the first point, so ``[0, freq]`` adds nothing). A run
    that stops early (fewer molecules than the budget) keeps its last value up to ``budget``.
    The area between points is the trapezoid rule. Failed molecules (NaN) count as calls
    without a value; missing places in the top k count 0 (:func:`top_k_mean`).

    PMO's code (``top_auc`` in mol_opt's ``main/optimizer.py``) sums the same trapezoids from
    ``(0, 0)``, so the numbers compare with its published ones. It also
    averages the scores it has when fewer than k exist (here they count 0; this only matters
    when more than ``freq - k`` of the first ``freq`` molecules fail), and it extends a short
    run to the budget only when the run was marked finished (here always).

    Args:
        scores: one score per oracle call, in call order (NaN: failed).
        budget: the oracle calls allowed; the x-axis runs to it.
        k: how many of the best scores to average.
        freq: record the top-k mean every ``freq`` calls.
        origin: start the curve at ``(0, 0)`` as PMO's code does (default).

    Worked example (k = 2, freq = 2, budget 6, a run that stops after 5 calls): the top-2 mean
    is (0.2 + 0) / 2 = 0.1 after 2 calls (the failed call has no value), (0.6 + 0.4) / 2 = 0.5
    after 4 and after 5, and stays 0.5 up to 6. Trapezoids: [2, 4] 2 * (0.1 + 0.5) / 2 = 0.6,
    [4, 5] 0.5, [5, 6] 0.5; total 1.6, / 6 = 0.2667. From the origin, [0, 2] adds 0.1: 0.2833.

    >>> scores = [0.2, float("nan"), 0.6, 0.4, 0.0]
    >>> round(auc_top_k(scores, budget=6, k=2, freq=2), 4)
    0.2833
    >>> round(auc_top_k(scores, budget=6, k=2, freq=2, origin=False), 4)
    0.2667
    """
    curve = top_k_curve(list(scores)[:budget], k, freq)
    if not curve:
        return 0.0
    points = [(0, 0.0)] if origin else []
    points += curve
    if points[-1][0] < budget:
        points.append((budget, points[-1][1]))
    pairs = zip(points, points[1:], strict=False)
    area = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in pairs)
    return area / budget


def top_diversity(table: pd.DataFrame, k: int = 100) -> float | None:
    """Diversity of the ``k`` best-scored molecules: one minus their mean pairwise Tanimoto
    similarity (Morgan radius 2, 2048 bits) over distinct pairs, as PMO reports the diversity of
    the top 100 (TDC's ``diversity``); None with fewer than two molecules.

    >>> top_diversity(pd.DataFrame({"smiles": ["CCO", "CCO", "c1ccccc1"], "score": [3, 2, 1]}),
    ...               k=2)
    0.0
    """
    scores = table["score"].to_numpy(dtype=float)
    best = table[np.isfinite(scores)].nlargest(k, "score")["smiles"]
    fps = [fp for fp in map(morgan_fingerprint, best) if fp is not None]
    if len(fps) < 2:
        return None
    sims = [v for i, fp in enumerate(fps[:-1]) for v in DataStructs.BulkTanimotoSimilarity(
        fp, fps[i + 1:])]
    return round(1.0 - float(np.mean(sims)), 6)


def implausible_share(smiles: Sequence[str]) -> float | None:
    """Share of ``smiles`` with an atom no chemist can make (``molvae.chem.implausible_atoms``:
    an oxonium, a charged carbon, a radical, ...): a score bought with such atoms is not a
    molecule to make, so every table shows it beside the AUC. None for no molecules.

    >>> implausible_share(["CCO", "CC[OH2+]"])
    0.5
    """
    found = [implausible_atoms(s) for s in smiles]
    found = [f for f in found if f is not None]
    return round(sum(bool(f) for f in found) / len(found), 6) if found else None


def metrics(table: pd.DataFrame, budget: int) -> dict[str, Any]:
    """The run's numbers from its scored molecules (``smiles``, ``score``, ``state``), in
    oracle-call order."""
    table = table.head(budget)
    scores = table["score"].to_numpy(dtype=float)
    best = table[np.isfinite(scores)].nlargest(10, "score")
    return {
        "calls": len(table),
        "failed": int((table["state"] == "failed").sum()),
        "filtered": int((table["state"] == "filtered").sum()),
        "auc_top1": auc_top_k(scores, budget, k=1),
        "auc_top10": auc_top_k(scores, budget, k=10),
        "auc_top100": auc_top_k(scores, budget, k=100),
        "top1": top_k_mean(scores, 1),
        "top10": top_k_mean(scores, 10),
        "top100": top_k_mean(scores, 100),
        "diversity_top100": top_diversity(table, 100),
        "implausible_top10": implausible_share(best["smiles"]),
        "curve_top10": [[c, round(v, 6)] for c, v in top_k_curve(scores, 10)],
        "best": [[s, round(float(v), 6)]
                 for s, v in zip(best["smiles"], best["score"], strict=True)],
    }


# --- Methods: each returns its scored molecules in oracle-call order ----------------------------


@dataclass
class Inputs:
    """The model and the MOSES molecules, loaded once and only when a run needs them."""

    model_path: Path | None
    moses_path: Path
    _model: Any = field(default=None, repr=False)
    _moses: list[str] | None = field(default=None, repr=False)

    def model(self) -> Any:
        if self._model is None:
            from molvae.trained import load_model

            self._model = load_model(self.model_path)
        return self._model

    def moses(self) -> list[str]:
        if self._moses is None:
            self._moses = pd.read_csv(self.moses_path, usecols=["SMILES"])["SMILES"].tolist()
        return self._moses


def run_molvae(
    campaign: Path, *, sampler: str, seed: int, budget: int, model: Any, run_dir: Path,
    seeds: Sequence[str] = (), operators: Sequence[str] | None = None,
    start: int | None = None, max_ring: int | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The optimizer on a campaign, in a fresh run directory; its molecules by trial (the order
    of the oracle calls for one worker) and its ``timing.json``. ``seeds`` are screened first
    (scored as the first trials; the search starts from the best of them); ``start`` sizes the
    start population and ``max_ring`` the largest ring scored (None: the campaign's)."""
    from molvae import optimize

    if run_dir.exists():  # a study left there would be resumed: its wall time would be wrong
        shutil.rmtree(run_dir)
    resolved = load_campaign(campaign)
    if seeds:
        resolved = dataclasses.replace(resolved, seeds=tuple(seeds))
    if operators is not None:
        resolved = resolved.with_overrides(operators=operators)
    if start is not None:
        resolved = dataclasses.replace(resolved, start=start)
    if max_ring is not None:
        resolved = resolved.with_overrides(max_ring=max_ring)
    table = optimize(
        resolved, budget=budget, seed=seed, sampler=sampler, model=model, out=run_dir,
        progress=False,
    )
    timing = json.loads((run_dir / "timing.json").read_text(encoding="utf-8"))
    return table.sort_values("trial", kind="stable").reset_index(drop=True), timing


def prior_smiles(model: Any, n: int, seed: int) -> list[str]:
    """The first ``n`` distinct valid molecules decoded from the prior (fewer if the model runs
    out of new ones within the sampler's attempt limit)."""
    seen: dict[str, None] = {}
    # The decoder's own samples, large rings included, as the stored PMO tables were measured.
    batches = model.iter_samples(20 * n, seed=seed, batch_size=min(2048, max(n, 64)),
                                 max_ring=None)
    with contextlib.closing(batches), contextlib.suppress(MolVAEError):
        for batch in batches:
            for _, smi in batch:
                seen.setdefault(smi)
                if len(seen) == n:
                    return list(seen)
    log.warning("prior: only %d distinct molecules for a budget of %d", len(seen), n)
    return list(seen)


def moses_smiles(train: Sequence[str], n: int, seed: int) -> list[str]:
    """The first ``n`` distinct canonical SMILES of MOSES train in a seeded random order."""
    seen: dict[str, None] = {}
    with without_rdkit_log():
        for i in np.random.default_rng(seed).permutation(len(train)):
            smi = canonical_smiles(train[i])
            if smi is not None:
                seen.setdefault(smi)
                if len(seen) == n:
                    break
    return list(seen)


def score_in_order(campaign: Path, smiles: list[str]) -> pd.DataFrame:
    """The campaign's objective on molecules, one oracle call each, in the given order."""
    return load_campaign(campaign).objective().score(smiles)


MOL_GA_MISSING = (
    "method graph-ga needs the mol-ga package (Graph GA): pip install 'molvae[bench]' "
    "(or pip install mol-ga==0.2.1)"
)
#: mol-ga's quick example (its README): 1,000 random ZINC250k molecules, 100 offspring a
#: generation, ``default_ga``'s population of 10,000.
GA_START, GA_OFFSPRING = 1000, 100


class _Stop(Exception):
    """The oracle has spent its budget, or the GA stalled: end the run."""


@dataclass
class BudgetedOracle:
    """A campaign's objective as mol-ga's scoring function, counting oracle calls as PMO does:
    each new canonical SMILES is one call, scored once; a molecule seen before gets its score
    again without a call. The new molecules of a batch are scored in an order shuffled by
    ``seed`` from their sorted order (mol-ga hands them over in the order of a Python set, which
    changes with the hash seed), so a run is the same in every process, and a batch cut by the
    budget keeps a random part of it. The run ends (:class:`_Stop`) when ``budget`` calls are
    made, the last batch cut to fit, or after ``patience`` batches in a row with nothing new. A
    molecule that cannot be scored (NaN) is a call and counts 0 for the GA (it needs a
    number)."""

    objective: Any
    budget: int
    seed: int = 0
    patience: int = 20
    tables: list[pd.DataFrame] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)
    stalled: int = 0

    def __post_init__(self) -> None:
        self._order = np.random.default_rng(self.seed)

    @property
    def calls(self) -> int:
        return len(self.seen)

    def __call__(self, smiles: list[str]) -> list[float]:
        with without_rdkit_log():
            keys = [canonical_smiles(s) or s for s in smiles]
        new = sorted({k for k in keys if k not in self.seen})
        new = [new[i] for i in self._order.permutation(len(new))]
        self.stalled = 0 if new else self.stalled + 1
        if self.stalled >= self.patience:
            raise _Stop
        take = new[: self.budget - self.calls]
        if take:
            table = self.objective.score(take)
            self.tables.append(table)
            self.seen.update(zip(take, table["score"].to_numpy(dtype=float), strict=True))
        if self.calls >= self.budget:
            raise _Stop
        return [float(v) if np.isfinite(v := self.seen[k]) else 0.0 for k in keys]

    def table(self) -> pd.DataFrame:
        """Every molecule scored, in oracle-call order."""
        return pd.concat(self.tables, ignore_index=True)


def run_graph_ga(campaign: Path, *, seed: int, budget: int,
                 start_size: int = GA_START) -> pd.DataFrame:
    """Graph GA (Jensen 2019) as ``mol-ga`` 0.2.1 runs it, on the campaign's objective: its
    scored molecules in oracle-call order.

    Everything is mol-ga's default, as its README's example uses it: the starting population is
    ``mol_libraries.random_zinc(1000)``, 1,000 draws (with replacement) from the 249,456
    ZINC250k SMILES the package ships (``mol_ga/data/zinc250k.smiles``, JT-VAE's ZINC list),
    all scored first (so they are the first calls of the budget, as PMO's Graph GA scores its
    ZINC start); then ``default_ga`` with 100 offspring a generation (Graph GA crossover with a
    little mutation, and mutation alone for a tenth), parents drawn from the top quantiles of a
    population of up to 10,000. One ``random.Random(seed)`` drives the draw and the GA;
    offspring are made in this process (no joblib workers). The run stops on the budget
    (:class:`BudgetedOracle`), as PMO's does.

    Raises:
        RuntimeError: mol-ga is not installed (``pip install 'molvae[bench]'``).
    """
    import random

    try:
        from mol_ga import default_ga, mol_libraries
    except ImportError as err:
        raise RuntimeError(MOL_GA_MISSING) from err

    rng = random.Random(seed)
    oracle = BudgetedOracle(load_campaign(campaign).objective(), budget, seed=seed)
    start = mol_libraries.random_zinc(start_size, rng=rng)
    with contextlib.suppress(_Stop), without_rdkit_log():
        default_ga(starting_population_smiles=start, scoring_function=oracle,
                   max_generations=10 * budget, offspring_size=GA_OFFSPRING, rng=rng)
    return oracle.table()


# --- Runs -----------------------------------------------------------------------------------------


def method_names(task: str, methods: Sequence[str], samplers: Sequence[str] | None,
                 screen: int = 0, operators: Sequence[str] | None = None) -> list[str]:
    """``molvae`` expands to ``molvae-<sampler>`` (default: the campaign's sampler),
    ``molvae+screen`` to ``molvae-<sampler>+screen<N>``; with ``operators`` (sets of search
    operators, ``+``-joined, or ``none``) each becomes ``...@<set>``, one method per set: the
    ablation of the search's mechanisms.

    >>> method_names("qed", ["molvae"], ["cmaes"], operators=["none", "local+mutate"])
    ['molvae-cmaes@none', 'molvae-cmaes@local+mutate']
    """
    names = []
    for method in methods:
        if method == "molvae":
            names += [f"molvae-{s}" for s in (samplers or [load_campaign(TASKS[task]).sampler])]
        elif method == "molvae+screen":
            names += [f"molvae-{s}+screen{screen}"
                      for s in (samplers or [load_campaign(TASKS[task]).sampler])]
        else:
            names.append(method)
    if operators:
        names = [f"{n}@{ops}" if n.startswith("molvae-") else n
                 for n in names for ops in operators]
        names = list(dict.fromkeys(names))
    return names


#: The token of an ablation set that turns the start population off (``all+nostart``).
NO_START = "nostart"
#: The token of an ablation set that sets the campaign's ``max_ring`` (``all+maxring7``: leave
#: candidates with a ring of more than 7 atoms unscored; ``+anyring``: score every ring, 0).
MAX_RING = "maxring"
ANY_RING = "anyring"


def operator_set(text: str) -> tuple[str, ...]:
    """The operators of an ablation set: ``none``, ``all`` or ``+``-joined names, any of them
    with ``+nostart`` (no start population, :func:`start_of`) or ``+maxring<N>`` / ``+anyring``
    (the largest ring scored, :func:`max_ring_of`).

    >>> operator_set("local+mutate"), operator_set("none"), len(operator_set("all+nostart"))
    (('local', 'mutate'), (), 5)
    """
    from molvae.optimization.operators import OPERATORS

    tokens = [t for t in text.split("+")
              if t not in (NO_START, ANY_RING) and not t.startswith(MAX_RING)]
    if tokens == ["none"]:
        return ()
    if tokens == ["all"]:
        return OPERATORS
    names = tuple(tokens)
    unknown = [n for n in names if n not in OPERATORS]
    if unknown:
        raise ValueError(f"unknown operator {unknown[0]!r}; expected none, all or a +-list of "
                         f"{', '.join(OPERATORS)}")
    return names


def start_of(text: str) -> int | None:
    """The start population an ablation set asks for: 0 with ``+nostart``, else the campaign's.

    >>> start_of("all+nostart"), start_of("all")
    (0, None)
    """
    return 0 if NO_START in text.split("+") else None


def max_ring_of(text: str) -> int | None:
    """The campaign's ``max_ring`` an ablation set asks for: N with ``+maxring<N>``, 0 (every
    ring scored) with ``+anyring``, else the campaign's.

    >>> max_ring_of("all+maxring7"), max_ring_of("all+anyring"), max_ring_of("all")
    (7, 0, None)
    """
    for token in text.split("+"):
        if token == ANY_RING:
            return 0
        if token.startswith(MAX_RING):
            return int(token.removeprefix(MAX_RING))
    return None


def run_one(
    task: str, method: str, seed: int, budget: int, inputs: Inputs, workdir: Path
) -> dict[str, Any]:
    """One (task, method, seed) run: its metrics, wall time and (optimizer) timing."""
    campaign = TASKS[task]
    timing = None
    needs_model = method not in ("moses", "graph-ga")
    model = inputs.model() if needs_model else None  # loaded outside the timed part
    method_part, _, ops = method.partition("@")
    sampler, _, screen = method_part.removeprefix("molvae-").partition("+screen")
    train = inputs.moses() if method == "moses" or screen else []
    start = time.perf_counter()
    if method.startswith("molvae-"):
        table, timing = run_molvae(
            campaign, sampler=sampler, seed=seed, budget=budget, model=model,
            run_dir=workdir / task / method / f"seed{seed}",
            seeds=moses_smiles(train, int(screen), seed) if screen else (),
            operators=operator_set(ops) if ops else None, start=start_of(ops),
            max_ring=max_ring_of(ops),
        )
    elif method == "prior":
        table = score_in_order(campaign, prior_smiles(model, budget, seed))
    elif method == "moses":
        table = score_in_order(campaign, moses_smiles(train, budget, seed))
    elif method == "graph-ga":
        table = run_graph_ga(campaign, seed=seed, budget=budget)
    else:
        raise ValueError(f"unknown method {method!r}")
    wall = time.perf_counter() - start
    return {
        "task": task, "method": method, "seed": seed, "budget": budget,
        "campaign": str(campaign.relative_to(ROOT)),
        "model": (str(inputs.model_path) if inputs.model_path else "shipped") if needs_model
        else None,
        **metrics(table, budget),
        "wall_s": round(wall, 3),
        "timing": timing,
        "finished": _now(),
        "command": _command(),
        "hardware": hardware(),
        "versions": versions(graph_ga=method == "graph-ga"),
    }  # fmt: skip


def run_all(args: argparse.Namespace, workdir: Path) -> None:
    """Every (task, method, seed) not yet recorded (or all, with ``--force``)."""
    inputs = Inputs(args.model, args.moses)
    for task in args.tasks:
        for method in method_names(task, args.methods, args.sampler, args.screen,
                                   args.operators):
            for seed in args.seeds:
                path = args.out / task / method / f"seed{seed}.json"
                if path.exists() and not args.force:
                    log.info("%s %s seed %d: done before, skipped (%s)", task, method, seed, path)
                    continue
                result = run_one(task, method, seed, args.budget, inputs, workdir)
                atomic_write_text(path, json.dumps(result, indent=1) + "\n")
                log.info(
                    "%s %s seed %d: auc_top10 %.4f, top1 %.4f, %d calls, %.1f s", task, method,
                    seed, result["auc_top10"], result["top1"], result["calls"], result["wall_s"],
                )


# --- Summary --------------------------------------------------------------------------------------


def load_results(out: Path) -> list[dict[str, Any]]:
    """Every result file under ``out`` (``<task>/<method>/seed<k>.json``)."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*/*/seed*.json"))]


def _stats(values: list[float]) -> dict[str, Any]:
    arr = np.asarray(values, dtype=float)
    std = float(arr.std(ddof=1)) if len(arr) > 1 else None
    return {"mean": float(arr.mean()), "std": std, "values": [float(v) for v in arr]}


def _cell(stats: dict[str, Any]) -> str:
    if stats["std"] is None:
        return f"{stats['mean']:.3f}"
    return f"{stats['mean']:.3f} ± {stats['std']:.3f}"


def _method_order(method: str) -> tuple[int, str]:
    return ({"graph-ga": 1, "prior": 2, "moses": 3}.get(method, 0), method)


def time_ratios(methods: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Mean wall time of each molvae method over graph-ga's, for a task's summary entries
    (``"molvae-cmaes / graph-ga": 2.5`` when molvae takes 2.5 times as long).

    >>> time_ratios({"molvae-cmaes": {"wall_s": {"mean": 30.0}},
    ...              "graph-ga": {"wall_s": {"mean": 12.0}}})
    {'molvae-cmaes / graph-ga': 2.5}
    """
    if "graph-ga" not in methods:
        return {}
    ga = methods["graph-ga"]["wall_s"]["mean"]
    return {f"{m} / graph-ga": round(e["wall_s"]["mean"] / ga, 3)
            for m, e in methods.items() if m.startswith("molvae") and ga > 0}


def summarize(results: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    """Mean and std over seeds per task and method; writes ``summary.json`` and ``summary.md``."""
    keys = ("auc_top10", "top1", "top10", "top100", "calls", "wall_s")
    tasks: dict[str, dict[str, Any]] = {}
    for task in [t for t in TASKS if any(r["task"] == t for r in results)]:
        rows = [r for r in results if r["task"] == task]
        tasks[task] = {}
        for method in sorted({r["method"] for r in rows}, key=_method_order):
            runs = sorted((r for r in rows if r["method"] == method), key=lambda r: r["seed"])
            entry = {k: _stats([r[k] for r in runs]) for k in keys}
            diversity = [r["diversity_top100"] for r in runs
                         if r.get("diversity_top100") is not None]  # older results lack it
            entry["diversity_top100"] = _stats(diversity) if diversity else None
            implausible = [r["implausible_top10"] for r in runs
                           if r.get("implausible_top10") is not None]  # older results lack it
            entry["implausible_top10"] = _stats(implausible) if implausible else None
            entry["seeds"] = [r["seed"] for r in runs]
            entry["budget"] = sorted({r["budget"] for r in runs})
            shares = [{**r["timing"]["share"],
                       "other": r["timing"]["other_s"] / max(r["timing"]["total_s"], 1e-9)}
                      for r in runs if r.get("timing")]
            if shares:
                phases = sorted({p for s in shares for p in s})
                entry["time_share"] = {p: float(np.mean([s.get(p, 0.0) for s in shares]))
                                       for p in phases}
            tasks[task][method] = entry
    summary = {
        "date": _now(),
        "command": _command(),
        "run_commands": sorted({r["command"] for r in results}),
        "hardware": hardware(),
        "versions": versions(),
        "tasks": tasks,
        "time_ratios": {task: r for task, methods in tasks.items()
                        if (r := time_ratios(methods))},
        "published_auc_top10": {"source": PUBLISHED_SOURCE, "values": PUBLISHED_AUC_TOP10},
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    atomic_write_text(out / "summary.md", summary_markdown(summary))
    return summary


def summary_markdown(summary: dict[str, Any]) -> str:
    """The summary as Markdown: one table per task, time shares, the published numbers."""
    hw, ver = summary["hardware"], summary["versions"]
    lines = [
        "# PMO benchmark (Gao et al. 2022 protocol)", "",
        "auc_top10: area under the top-10 mean against oracle calls, recorded every 100 calls "
        "from (0, 0) as PMO's code does, divided by the budget (`auc_top_k` in "
        "benchmarks/pmo.py), so it compares with the published numbers. "
        "Mean ± sample std over seeds. div top100: diversity of the 100 best molecules, 1 - "
        "mean pairwise Tanimoto (Morgan radius 2, 2048 bits) over distinct pairs. implausible "
        "top10: share of the 10 best molecules with an atom no chemist can make (an oxonium, a "
        "charged carbon, a radical: `molvae.chem.implausible_atoms`).", "",
        f"- date: {summary['date']}",
        f"- command: `{summary['command']}`",
    ]
    for cmd in summary["run_commands"]:
        if cmd != summary["command"]:
            lines.append(f"- runs made by: `{cmd}`")
    lines += [
        f"- hardware: {hw['cpu']}, {hw['cores']} cores; Python {hw['python']}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in ver.items()),
        "",
    ]
    for task, methods in summary["tasks"].items():
        budgets = sorted({b for m in methods.values() for b in m["budget"]})
        header = ("method", "auc_top10", "top1", "top10", "div top100", "implausible top10",
                  "calls", "wall s", "seeds")
        lines += [f"## {task} (budget {', '.join(map(str, budgets))})", "",
                  "| " + " | ".join(header) + " |", "| --- |" + " --- |" * (len(header) - 1)]
        for method, m in methods.items():
            cells = [_cell(m[k]) for k in ("auc_top10", "top1", "top10")]
            cells.append(_cell(m["diversity_top100"]) if m.get("diversity_top100") else "n/a")
            cells.append(_cell(m["implausible_top10"]) if m.get("implausible_top10") else "n/a")
            lines.append(f"| {method} | " + " | ".join(cells)
                         + f" | {m['calls']['mean']:.0f} | {m['wall_s']['mean']:.1f}"
                         + f" | {len(m['seeds'])} |")
        lines.append("")
        ratios = summary.get("time_ratios", {}).get(task, {})
        if ratios:
            lines += ["Wall time (mean over seeds): "
                      + "; ".join(f"{k} = {v:.2f}" for k, v in ratios.items()), ""]
        shared = {k: m["time_share"] for k, m in methods.items() if "time_share" in m}
        if shared:
            phases = sorted({p for s in shared.values() for p in s})
            lines += ["Share of the optimizer's wall time by phase (timing.json):", "",
                      "| method | " + " | ".join(phases) + " |",
                      "| --- |" + " --- |" * len(phases)]
            for method, s in shared.items():
                lines.append(f"| {method} | "
                             + " | ".join(f"{s.get(p, 0.0):.2f}" for p in phases) + " |")
            lines.append("")
    published = summary["published_auc_top10"]
    task_names = list(PMO_TASKS)
    lines += ["## Published AUC top-10, budget 10,000 (PMO)", "",
              "| method | " + " | ".join(task_names) + " |", "| --- |" + " --- |" * len(task_names)]
    for method, values in published["values"].items():
        lines.append(f"| {method} | "
                     + " | ".join(f"{values[t]:.3f}" if t in values else "not given"
                                  for t in task_names) + " |")
    lines += ["", f"Source: {published['source']}. PMO scores an invalid SMILES 0 without "
              "counting a call; here a molecule that cannot be scored is a call with no value. "
              "lead_improvement is not a PMO task.", ""]
    return "\n".join(lines)


# --- Environment ----------------------------------------------------------------------------------


def versions(graph_ga: bool = False) -> dict[str, str]:
    """Versions of the packages that shape the numbers (mol-ga's too for a graph-ga run)."""
    from molvae.checkpoint import versions as package_versions

    return package_versions(extra=("optuna", "numpy", "pandas", *(["mol-ga"] * graph_ga)))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _command() -> str:
    return shlex.join([Path(sys.executable).name, *sys.argv])


# --- CLI ------------------------------------------------------------------------------------------


def _names(value: str, known: Sequence[str], what: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown) or '(none)'}; choose from {', '.join(known)}"
        )
    return names


def _operator_sets(value: str) -> list[str]:
    sets = [v.strip() for v in value.split(",") if v.strip()]
    try:
        for v in sets:
            operator_set(v)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return sets


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from molvae.optimization.samplers import SAMPLERS

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=int, default=10_000,
                        help="unique molecules scored per run (oracle calls)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--tasks", type=lambda v: _names(v, list(TASKS), "task"),
                        default=list(TASKS), help="comma list (default: all)")
    parser.add_argument("--methods", type=lambda v: _names(v, METHODS, "method"),
                        default=["molvae", "prior", "moses"],
                        help="comma list of molvae, molvae+screen, prior, moses, graph-ga "
                             "(default: molvae, prior, moses)")
    parser.add_argument("--sampler", type=lambda v: _names(v, SAMPLERS, "sampler"), default=None,
                        help="comma list; each is a method molvae-<sampler> (default: the "
                             "campaign's)")
    parser.add_argument("--operators", type=_operator_sets, default=None,
                        help="comma list of search-operator sets for an ablation (each none, "
                             "all, or +-joined names such as local+mutate); each is a method "
                             "molvae-<sampler>@<set> (default: the campaign's operators)")
    parser.add_argument("--screen", type=int, default=1000,
                        help="molvae+screen: MOSES molecules screened first (seeds of the search)")
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--moses", type=Path, default=ROOT / "datasets/moses/train.csv.gz")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/pmo"))
    parser.add_argument("--workdir", type=Path, default=None,
                        help="optimizer run directories (default: a temporary one, deleted)")
    parser.add_argument("--force", action="store_true", help="rerun results that exist")
    parser.add_argument("--summarize-only", action="store_true",
                        help="only rebuild the summary from the result files")
    parser.add_argument("-v", "--verbose", action="store_true", help="molvae's own logging too")
    args = parser.parse_args(argv)
    if args.budget < 1:
        parser.error("--budget must be at least 1")
    if "graph-ga" in args.methods and importlib.util.find_spec("mol_ga") is None:
        parser.error(MOL_GA_MISSING)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    if not args.summarize_only:
        if args.workdir is not None:
            run_all(args, args.workdir)
        else:
            with tempfile.TemporaryDirectory(prefix="pmo-") as tmp:
                run_all(args, Path(tmp))
    results = load_results(args.out)
    if not results:
        log.error("no results under %s", args.out)
        return 1
    summarize(results, args.out)
    print((args.out / "summary.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Sample efficiency of latent-space optimization under the PMO protocol (Gao et al. 2022,
"Sample efficiency matters", NeurIPS Datasets and Benchmarks): how good are the best molecules
found, and how soon, within a budget of unique molecules scored (oracle calls).

    python benchmarks/pmo.py --budget 10000 --seeds 0 1 2 3 4 \
        --tasks qed,osimertinib_mpo,celecoxib_rediscovery
    python benchmarks/pmo.py --budget 10000 --seeds 0 1 2 --tasks lead_improvement
    python benchmarks/pmo.py --budget 10000 --seeds 0 1 2 --methods molvae+screen \
        --screen 1000 --tasks qed,osimertinib_mpo,celecoxib_rediscovery

reproduce the README numbers (2 to 5 minutes per optimizer run on 2 cores; each finished run
is one JSON file, so an interrupted benchmark resumes where it stopped).

Tasks are campaign files in ``optimize/``: ``qed``, ``osimertinib_mpo`` and
``celecoxib_rediscovery`` are PMO oracles (GuacaMol's objectives); ``lead_improvement``
(QED of a lead subject to Tanimoto >= 0.4) is not, and has no published reference. Methods:

- ``molvae-<sampler>``: :func:`molvae.optimize` on the campaign, one Optuna sampler;
- ``molvae-<sampler>+screen<N>`` (``--methods molvae+screen --screen N``): the same, with N
  random MOSES training molecules as seeds: screened first (N of the budget), and the search
  starts from the best of them (a campaign's ``seeds_file`` + ``seeds_sample``);
- ``prior``: molecules drawn from the model's prior, in order, without any feedback;
- ``moses``: a seeded random order of the MOSES training set (PMO's "screening" baseline
  screens ZINC the same way).

Each run scores at most ``--budget`` unique molecules and records, in oracle-call order, the
mean of the 10 best scores every 100 calls; its ``auc_top10`` (see :func:`auc_top_k`) is PMO's
headline metric. Results: ``<out>/<task>/<method>/seed<k>.json``, then ``<out>/summary.md``
and ``<out>/summary.json`` (mean and std over seeds, the published PMO numbers beside them).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
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

from molvae.chem import canonical_smiles, without_rdkit_log
from molvae.errors import MolVAEError
from molvae.io import atomic_write_text
from molvae.optimization.campaign import load_campaign

log = logging.getLogger("pmo")

ROOT = Path(__file__).resolve().parent.parent
#: Task name -> campaign file.
TASKS = {
    "qed": ROOT / "optimize" / "qed.toml",
    "osimertinib_mpo": ROOT / "optimize" / "osimertinib_mpo.toml",
    "celecoxib_rediscovery": ROOT / "optimize" / "celecoxib_rediscovery.toml",
    "lead_improvement": ROOT / "optimize" / "lead_improvement.toml",
}
METHODS = ("molvae", "molvae+screen", "prior", "moses")
#: PMO records the top-k curve every FREQ oracle calls.
FREQ = 100

#: Published AUC top-10 (budget 10,000 oracle calls), by task and method. Source: the PMO
#: authors' leaderboard, https://github.com/pmo-benchmark/pmo-benchmark.github.io (qed/index.md
#: at commit 25e0577; osimertinib_mpo/index.md and celecoxib_rediscovery/index.md at commit
#: 3ce0f4d), which lists the results of Gao et al. 2022 (means over 5 independent runs in the
#: paper). "Screening" is PMO's random screening of ZINC, the counterpart of our ``moses``.
PUBLISHED_AUC_TOP10 = {
    "REINVENT": {"qed": 0.941, "osimertinib_mpo": 0.837, "celecoxib_rediscovery": 0.713},
    "Graph GA": {"qed": 0.940, "osimertinib_mpo": 0.831, "celecoxib_rediscovery": 0.630},
    "GP BO": {"qed": 0.937, "osimertinib_mpo": 0.787, "celecoxib_rediscovery": 0.723},
    "SMILES-LSTM-HC": {"qed": 0.939, "osimertinib_mpo": 0.796, "celecoxib_rediscovery": 0.539},
    "SELFIES-VAE BO": {"qed": 0.936, "osimertinib_mpo": 0.765, "celecoxib_rediscovery": 0.326},
    "Screening": {"qed": 0.938, "osimertinib_mpo": 0.764, "celecoxib_rediscovery": 0.351},
}
PUBLISHED_SOURCE = (
    "PMO leaderboard by the paper's authors, github.com/pmo-benchmark/pmo-benchmark.github.io "
    "(qed/index.md @25e0577, osimertinib_mpo/index.md and celecoxib_rediscovery/index.md "
    "@3ce0f4d); Gao et al. 2022 report means over 5 runs"
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
    seeds: Sequence[str] = (),
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The optimizer on a campaign, in a fresh run directory; its molecules by trial (the order
    of the oracle calls for one worker) and its ``timing.json``. ``seeds`` are screened first
    (scored as the first trials; the search starts from the best of them)."""
    from molvae import optimize

    if run_dir.exists():  # a study left there would be resumed: its wall time would be wrong
        shutil.rmtree(run_dir)
    resolved = load_campaign(campaign)
    if seeds:
        resolved = dataclasses.replace(resolved, seeds=tuple(seeds))
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
    batches = model.iter_samples(20 * n, seed=seed, batch_size=min(2048, max(n, 64)))
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


# --- Runs -----------------------------------------------------------------------------------------


def method_names(task: str, methods: Sequence[str], samplers: Sequence[str] | None,
                 screen: int = 0) -> list[str]:
    """``molvae`` expands to ``molvae-<sampler>`` (default: the campaign's sampler),
    ``molvae+screen`` to ``molvae-<sampler>+screen<N>``."""
    names = []
    for method in methods:
        if method == "molvae":
            names += [f"molvae-{s}" for s in (samplers or [load_campaign(TASKS[task]).sampler])]
        elif method == "molvae+screen":
            names += [f"molvae-{s}+screen{screen}"
                      for s in (samplers or [load_campaign(TASKS[task]).sampler])]
        else:
            names.append(method)
    return names


def run_one(
    task: str, method: str, seed: int, budget: int, inputs: Inputs, workdir: Path
) -> dict[str, Any]:
    """One (task, method, seed) run: its metrics, wall time and (optimizer) timing."""
    campaign = TASKS[task]
    timing = None
    model = inputs.model() if method != "moses" else None  # loaded outside the timed part
    sampler, _, screen = method.removeprefix("molvae-").partition("+screen")
    train = inputs.moses() if method == "moses" or screen else []
    start = time.perf_counter()
    if method.startswith("molvae-"):
        table, timing = run_molvae(
            campaign, sampler=sampler, seed=seed, budget=budget, model=model,
            run_dir=workdir / task / method / f"seed{seed}",
            seeds=moses_smiles(train, int(screen), seed) if screen else (),
        )
    elif method == "prior":
        table = score_in_order(campaign, prior_smiles(model, budget, seed))
    elif method == "moses":
        table = score_in_order(campaign, moses_smiles(train, budget, seed))
    else:
        raise ValueError(f"unknown method {method!r}")
    wall = time.perf_counter() - start
    return {
        "task": task, "method": method, "seed": seed, "budget": budget,
        "campaign": str(campaign.relative_to(ROOT)),
        "model": str(inputs.model_path) if inputs.model_path else "shipped",
        **metrics(table, budget),
        "wall_s": round(wall, 3),
        "timing": timing,
        "finished": _now(),
        "command": _command(),
        "hardware": hardware(),
        "versions": versions(),
    }  # fmt: skip


def run_all(args: argparse.Namespace, workdir: Path) -> None:
    """Every (task, method, seed) not yet recorded (or all, with ``--force``)."""
    inputs = Inputs(args.model, args.moses)
    for task in args.tasks:
        for method in method_names(task, args.methods, args.sampler, args.screen):
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
    return ({"prior": 1, "moses": 2}.get(method, 0), method)


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
        "Mean ± sample std over seeds.", "",
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
        header = ("method", "auc_top10", "top1", "top10", "calls", "wall s",
                  "seeds")
        lines += [f"## {task} (budget {', '.join(map(str, budgets))})", "",
                  "| " + " | ".join(header) + " |", "| --- |" + " --- |" * (len(header) - 1)]
        for method, m in methods.items():
            cells = [_cell(m[k]) for k in ("auc_top10", "top1", "top10")]
            lines.append(f"| {method} | " + " | ".join(cells)
                         + f" | {m['calls']['mean']:.0f} | {m['wall_s']['mean']:.1f}"
                         + f" | {len(m['seeds'])} |")
        lines.append("")
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
    task_names = ["qed", "osimertinib_mpo", "celecoxib_rediscovery"]
    lines += ["## Published AUC top-10, budget 10,000 (PMO)", "",
              "| method | " + " | ".join(task_names) + " |", "| --- |" + " --- |" * len(task_names)]
    for method, values in published["values"].items():
        lines.append(f"| {method} | "
                     + " | ".join(f"{values[t]:.3f}" if t in values else "not found"
                                  for t in task_names) + " |")
    lines += ["", f"Source: {published['source']}. PMO scores an invalid SMILES 0 without "
              "counting a call; here a molecule that cannot be scored is a call with no value. "
              "lead_improvement is not a PMO task.", ""]
    return "\n".join(lines)


# --- Environment ----------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    """Versions of the packages that shape the numbers."""
    from molvae.checkpoint import versions as package_versions

    return package_versions(extra=("optuna", "numpy", "pandas"))


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


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from molvae.optimization.samplers import SAMPLERS

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=int, default=10_000,
                        help="unique molecules scored per run (oracle calls)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--tasks", type=lambda v: _names(v, list(TASKS), "task"),
                        default=list(TASKS), help="comma list (default: all four)")
    parser.add_argument("--methods", type=lambda v: _names(v, METHODS, "method"),
                        default=["molvae", "prior", "moses"],
                        help="comma list of molvae, molvae+screen, prior, moses")
    parser.add_argument("--sampler", type=lambda v: _names(v, SAMPLERS, "sampler"), default=None,
                        help="comma list; each is a method molvae-<sampler> (default: the "
                             "campaign's)")
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

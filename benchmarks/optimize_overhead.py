"""Where an optimization run's time goes: the QED campaign, each run in a fresh process.

    python benchmarks/optimize_overhead.py --budget 10000 --repeats 3 \\
        --out benchmarks/results/optimize_overhead.json

Runs ``molvae optimize optimize/qed.toml`` ``--repeats`` times (seeds 0, 1, ...) with the
default sampler and storage, and reports the median wall time of the whole command, the median
seconds of each phase from ``timing.json`` (asking, decoding, scoring, telling, the property
table, writing the files; ``sampler_s`` is the sampler's own part of asking and telling) and
the size of the study's journal. ``--source DIR`` runs another checkout's molvae instead (its
``molvae`` package is put first on ``PYTHONPATH``), for before/after comparisons.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from annotate import hardware, revision  # noqa: E402 - the house description of the machine

ROOT = Path(__file__).resolve().parents[1]


def one_run(budget: int, seed: int, source: Path | None, work: Path) -> dict[str, Any]:
    """One ``molvae optimize`` in a fresh process: wall seconds, timing.json, journal size."""
    out = work / f"run{seed}"
    env = dict(os.environ)
    cwd = ROOT
    if source is not None:  # the other checkout's package, found first from its own folder
        env["PYTHONPATH"] = str(source)
        cwd = source
    command = [sys.executable, "-c", "from molvae.cli import run; run()", "optimize",
               str(ROOT / "optimize" / "qed.toml"), "--budget", str(budget), "--seed", str(seed),
               "--out", str(out), "--no-progress"]
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=cwd, env=env, capture_output=True)
    wall = time.perf_counter() - start
    timing = json.loads((out / "timing.json").read_text())
    return {"wall_s": wall, "timing": timing, "journal_bytes": (out / "study.log").stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source", type=Path, default=None,
                        help="another checkout to measure (default: this one)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="overhead-") as tmp:
        runs = []
        for seed in range(args.repeats):
            runs.append(one_run(args.budget, seed, args.source, Path(tmp)))
            t = runs[-1]["timing"]
            print(f"run {seed}: {runs[-1]['wall_s']:.1f} s, "
                  + ", ".join(f"{k} {v:.1f}" for k, v in t["seconds"].items()), flush=True)
    phases = sorted({k for r in runs for k in r["timing"]["seconds"]})
    median = {k: statistics.median(r["timing"]["seconds"].get(k, 0.0) for r in runs)
              for k in phases}
    sampler = [r["timing"].get("sampler_s") for r in runs]
    summary = {
        "command": " ".join(sys.argv),
        "source": revision(args.source or ROOT),
        "budget": args.budget,
        "repeats": args.repeats,
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "engine_s": statistics.median(r["timing"]["total_s"] for r in runs),
        "seconds": median,
        "sampler_s": statistics.median(sampler) if None not in sampler else None,
        "trials": statistics.median(r["timing"]["trials_asked_here"] for r in runs),
        "journal_mb": statistics.median(r["journal_bytes"] for r in runs) / 1e6,
        "hardware": hardware(),
        "runs": runs,
    }
    total = summary["engine_s"]
    print(f"median: {summary['wall_s']:.1f} s for the command, {total:.1f} s in the engine; "
          + ", ".join(f"{k} {v / total:.0%}" for k, v in median.items())
          + (f"; sampler itself {summary['sampler_s'] / total:.1%}" if summary["sampler_s"]
             else "")
          + f"; journal {summary['journal_mb']:.0f} MB")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""What a study costs on disk, and what resuming it costs: the QED campaign, default sampler and
journal storage, this checkout against another one (``--before DIR``), in one invocation.

    python benchmarks/journal.py --budgets 1000 10000 --before /tmp/journal-before \\
        --out benchmarks/results/journal.json

For each budget and checkout: one ``molvae optimize optimize/qed.toml --budget N`` in a fresh
process (journal bytes per trial and per molecule, wall seconds), then the same command again on
the finished run directory (a resume that has nothing left to score: what reading the study
back costs), and the seconds Optuna itself takes to load the study and list its trials.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from annotate import hardware, revision  # noqa: E402 - the house description of the machine

ROOT = Path(__file__).resolve().parents[1]

LOAD = """
import sys, time, optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
optuna.logging.set_verbosity(optuna.logging.WARNING)
start = time.perf_counter()
study = optuna.load_study(study_name="qed", storage=JournalStorage(JournalFileBackend(sys.argv[1])))
n = len(study.get_trials(deepcopy=False))
print(n, time.perf_counter() - start)
"""


def _run(command: list[str], source: Path | None) -> float:
    env = dict(os.environ)
    cwd = ROOT
    if source is not None:  # the other checkout's package, found first from its own folder
        env["PYTHONPATH"] = str(source)
        cwd = source
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=cwd, env=env, capture_output=True)
    return time.perf_counter() - start


def measure(budget: int, source: Path | None, work: Path) -> dict[str, Any]:
    out = work / f"{'before' if source else 'after'}-{budget}"
    command = [sys.executable, "-c", "from molvae.cli import run; run()", "optimize",
               str(ROOT / "optimize" / "qed.toml"), "--budget", str(budget), "--out", str(out),
               "--no-progress"]
    wall = _run(command, source)
    resume = _run(command, source)
    log = out / "study.log"
    loaded = subprocess.run([sys.executable, "-c", LOAD, str(log)], check=True,
                            capture_output=True, text=True).stdout.split()
    trials, load_s = int(loaded[0]), float(loaded[1])
    timing = json.loads((out / "timing.json").read_text())
    size = log.stat().st_size
    return {
        "budget": budget,
        "wall_s": round(wall, 2),
        "resume_s": round(resume, 2),
        "optuna_load_s": round(load_s, 3),
        "trials": trials,
        "journal_bytes": size,
        "bytes_per_trial": round(size / trials),
        "bytes_per_molecule": round(size / timing["molecules_in_study"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budgets", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--before", type=Path, default=None, help="the checkout to compare with")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sources = [("after", None)] + ([("before", args.before)] if args.before else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="journal-") as tmp:
        for budget in args.budgets:
            for label, source in sources:
                row = {"code": label, "revision": revision(source or ROOT),
                       **measure(budget, source, Path(tmp))}
                rows.append(row)
                print(json.dumps(row), flush=True)
    summary = {"command": " ".join(sys.argv), "hardware": hardware(), "runs": rows}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()

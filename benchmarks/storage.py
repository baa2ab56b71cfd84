"""What a study's storage costs per trial: the same QED campaign on each storage.

    python benchmarks/storage.py --budget 1000 --repeats 3 \\
        --out benchmarks/results/storage.json

With the default sampler every trial is written once, told, with its record (the molecule, its
scores, its point); every batch reads back what other workers told. This runs
``optimize/qed.toml`` with the same seed on each storage (in-memory, the default journal file,
SQLite, and PostgreSQL when ``--postgres`` reaches a server), repeats the set ``--repeats`` times
in rotating order, and reports per storage the median seconds per trial spent asking (the
sampler plus the parameter writes), telling and reading the storage, from each run's
``timing.json``, and the whole run's seconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from annotate import hardware  # noqa: E402 - the house description of the machine

log = logging.getLogger("storage")

CAMPAIGN = Path(__file__).resolve().parents[1] / "optimize" / "qed.toml"
PHASES = ("ask", "tell", "storage_read")


def reachable(url: str) -> bool:
    """Whether a database URL answers (so a missing server skips its storage)."""
    import sqlalchemy

    try:
        with sqlalchemy.create_engine(url).connect():
            return True
    except Exception as err:  # noqa: BLE001 - any failure means: not usable here
        log.warning("skipping %s: %s", url, err)
        return False


def storages(workdir: Path, postgres: str | None) -> dict[str, Any]:
    """Storage name -> a function of the run directory giving the ``storage`` argument."""
    found: dict[str, Any] = {
        "memory": lambda run: _memory(),
        "journal": lambda run: None,  # the default: run/study.log
        "sqlite": lambda run: f"sqlite:///{run / 'study.db'}",
    }
    if postgres and reachable(postgres):
        found["postgresql"] = lambda run: postgres
    return found


def _memory() -> Any:
    from optuna.storages import InMemoryStorage

    return InMemoryStorage()


def one_run(model: Any, storage: Any, run: Path, budget: int) -> dict[str, Any]:
    from molvae import optimize

    shutil.rmtree(run, ignore_errors=True)
    start = time.perf_counter()
    optimize(CAMPAIGN, budget=budget, model=model, out=run, storage=storage, seed=0,
             study=f"qed-{uuid.uuid4().hex[:8]}")  # a fresh study in a shared database
    wall = time.perf_counter() - start
    timing = json.loads((run / "timing.json").read_text())
    trials = timing["trials_asked_here"]
    per_trial = {k: timing["seconds"].get(k, 0.0) / trials * 1000 for k in PHASES}
    return {"wall_s": wall, "trials": trials, "ms_per_trial": per_trial,
            "share": {k: timing["share"].get(k, 0.0) for k in PHASES}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="a PostgreSQL URL ('' to skip)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("molvae").setLevel(logging.WARNING)

    from molvae.trained import load_model

    model = load_model()
    workdir = Path(tempfile.mkdtemp(prefix="storage-"))
    kinds = storages(workdir, args.postgres or None)
    names = list(kinds)
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for r in range(args.repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:  # rotate the order
            run = workdir / name
            result = one_run(model, kinds[name](run), run, args.budget)
            runs[name].append(result)
            log.info("run %d %-10s %5.1f s, ask %.2f tell %.2f read %.2f ms/trial", r, name,
                     result["wall_s"], *(result["ms_per_trial"][k] for k in PHASES))
    shutil.rmtree(workdir, ignore_errors=True)

    summary = {
        name: {
            "wall_s": statistics.median(x["wall_s"] for x in rs),
            "ms_per_trial": {k: statistics.median(x["ms_per_trial"][k] for x in rs)
                             for k in PHASES},
            "share": {k: statistics.median(x["share"][k] for x in rs) for k in PHASES},
            "runs": rs,
        }
        for name, rs in runs.items()
    }
    print(f"{'storage':<11} {'run s':>7} {'ask ms':>7} {'tell ms':>8} {'read ms':>8}  per trial")
    for name, s in summary.items():
        ms = s["ms_per_trial"]
        print(f"{name:<11} {s['wall_s']:>7.1f} {ms['ask']:>7.2f} {ms['tell']:>8.2f} "
              f"{ms['storage_read']:>8.2f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        record = {"command": " ".join(sys.argv), "budget": args.budget,
                  "repeats": args.repeats, "hardware": hardware(), "storages": summary}
        args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Crash safety under load: a campaign killed with SIGKILL at random moments and resumed each
time, by several workers on one study, must end with no molecule lost, none listed twice, the
budget kept and every output file readable.

    python benchmarks/soak.py --budget 20000 --kills 10 --out benchmarks/results/soak.json

Two phases, each on the QED campaign with the shipped model: two workers on one journal file,
then three on PostgreSQL (``--postgres URL``; skipped when no server answers). Every few seconds
(uniform in ``--interval``, seeded) a random live worker is killed with SIGKILL and started
again with the same command; after ``--kills`` kills the workers run to the budget. Checked at
the end: every molecule the study held after any kill is still there; the study lists each
molecule once in its results; the study holds exactly the budget of molecules (workers reserve
what they are about to score: ``molvae/optimization/budget.py``); each worker's
``results.csv``, ``top.csv``, ``progress.csv``, ``top.sdf``, ``manifest.json`` and
``timing.json`` parse.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from annotate import hardware, revision  # noqa: E402 - the house description of the machine

ROOT = Path(__file__).resolve().parents[1]
CAMPAIGN = ROOT / "optimize" / "qed.toml"
BATCH = 32


def _command(storage: str, out: Path, worker: str, budget: int, study: str) -> list[str]:
    return [sys.executable, "-c", "from molvae.cli import run; run()", "-q", "optimize",
            str(CAMPAIGN), "--storage", storage, "--study", study, "--out", str(out),
            "--worker", worker, "--budget", str(budget), "--batch-size", str(BATCH),
            "--no-progress"]


def _scored(storage: Any, study: str) -> set[str]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            trials = optuna.load_study(study_name=study, storage=storage).get_trials(
                deepcopy=False)
        except KeyError:
            return set()
    return {t.user_attrs["smiles"] for t in trials
            if t.user_attrs.get("molvae", {}).get("oracle") and "smiles" in t.user_attrs}


def _reader(storage: str) -> Any:
    if "://" in storage:
        return storage
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(storage))


def _outputs_parse(out: Path) -> list[str]:
    """The output files of a run directory that do not parse (empty: all do)."""
    import pandas as pd
    from rdkit import Chem

    bad = []
    for name in ("results.csv", "top.csv", "progress.csv"):
        try:
            pd.read_csv(out / name)
        except Exception as err:  # noqa: BLE001 - any failure is a finding
            bad.append(f"{name}: {err}")
    for name in ("manifest.json", "timing.json"):
        try:
            json.loads((out / name).read_text())
        except Exception as err:  # noqa: BLE001
            bad.append(f"{name}: {err}")
    try:
        if not all(m is not None for m in Chem.SDMolSupplier(str(out / "top.sdf"))):
            bad.append("top.sdf: unreadable records")
    except OSError as err:
        bad.append(f"top.sdf: {err}")
    return bad


def phase(name: str, storage: str, workers: int, budget: int, kills: int,
          interval: tuple[float, float], work: Path, rng: random.Random) -> dict[str, Any]:
    from molvae.optimization import study_results

    study = f"soak-{name}-{uuid.uuid4().hex[:8]}"
    outs = {f"w{i}": work / name / f"w{i}" for i in range(workers)}
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = {w: subprocess.Popen(_command(storage, out, w, budget, study), env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for w, out in outs.items()}
    seen: set[str] = set()  # every molecule the study held after any kill
    killed = 0
    start = time.monotonic()
    failures: list[str] = []
    while killed < kills and any(p.poll() is None for p in procs.values()):
        time.sleep(rng.uniform(*interval))
        live = [w for w, p in procs.items() if p.poll() is None]
        if not live:
            break
        victim = rng.choice(live)
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait()
        killed += 1
        held = _scored(_reader(storage), study)
        lost = seen - held
        if lost:
            failures.append(f"after kill {killed}: {len(lost)} molecules lost")
        seen |= held
        procs[victim] = subprocess.Popen(_command(storage, outs[victim], victim, budget, study),
                                         env=env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
    for w, p in procs.items():
        _, err = p.communicate()
        if p.returncode != 0:
            failures.append(f"worker {w} exited {p.returncode}: {err.decode()[-500:]}")
    import optuna

    final = optuna.load_study(study_name=study, storage=_reader(storage))
    results = study_results(final)
    held = _scored(_reader(storage), study)
    if seen - held:
        failures.append(f"{len(seen - held)} molecules held after a kill are gone at the end")
    if not results["smiles"].is_unique:
        failures.append("the results list a molecule twice")
    scored = len(results)
    if scored != budget:
        failures.append(f"{scored} molecules scored for a budget of {budget}")
    for w, out in outs.items():
        failures += [f"{w}: {b}" for b in _outputs_parse(out)]
    if "://" in storage:
        optuna.delete_study(study_name=study, storage=storage)
    return {"phase": name, "workers": workers, "kills": killed, "budget": budget,
            "molecules_scored": scored, "over_budget": scored - budget,
            "oracle_trials": len(held), "seconds":
            round(time.monotonic() - start, 1), "failures": failures, "passed": not failures}


def _reachable(url: str) -> bool:
    import sqlalchemy

    try:
        with sqlalchemy.create_engine(url).connect():
            return True
    except Exception:  # noqa: BLE001 - any failure: no server
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=20_000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--interval", type=float, nargs=2, default=(3.0, 12.0))
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    phases = []
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        work = Path(tmp)
        phases.append(phase("journal", str(work / "shared.log"), 2, args.budget, args.kills,
                            tuple(args.interval), work, rng))
        print(json.dumps(phases[-1]), flush=True)
        if args.postgres and _reachable(args.postgres):
            phases.append(phase("postgresql", args.postgres, 3, args.budget, args.kills,
                                tuple(args.interval), work, rng))
            print(json.dumps(phases[-1]), flush=True)
    record = {"command": " ".join(sys.argv), "revision": revision(ROOT), "hardware": hardware(),
              "phases": phases, "passed": all(p["passed"] for p in phases)}
    print("PASSED" if record["passed"] else "FAILED")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n")
    sys.exit(0 if record["passed"] else 1)


if __name__ == "__main__":
    main()

"""Property-table speed: ``molvae.properties.annotate`` on the first ``--n`` SMILES of a file.

    python benchmarks/annotate.py --n 100000 --repeats 3 --out benchmarks/results/annotate.json

Reports the median of ``--repeats`` runs in molecules per second and the seconds for the whole
input (all cores), the same on ``--serial-n`` molecules in one process (the per-core rate), the
one-off start-up (building the alert catalogs), and the machine with its load average, since other
work on a small machine slows every number down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import rdkit

from molvae import properties
from molvae.alerts import alert_screen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("datasets/moses/test.csv.gz"))
    parser.add_argument("--column", default="SMILES")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="default: all cores")
    parser.add_argument("--serial-n", type=int, default=5_000,
                        help="molecules for the one-process rate (0: skip)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    smiles = pd.read_csv(args.data, usecols=[args.column])[args.column].head(args.n).tolist()
    workers = args.workers or os.cpu_count() or 1
    load_before = os.getloadavg()
    t = time.perf_counter()
    alert_screen()  # catalogs and alert patterns, built once per process
    startup = time.perf_counter() - t

    seconds, serial_rates = [], []
    table = None
    for r in range(args.repeats):
        t = time.perf_counter()
        table = properties.annotate(smiles, workers=workers)
        seconds.append(time.perf_counter() - t)
        line = f"run {r}: {len(smiles)} molecules in {seconds[-1]:.1f} s, "
        line += f"{len(smiles) / seconds[-1]:.0f}/s on {workers} workers"
        if args.serial_n:
            subset = smiles[: args.serial_n]
            t = time.perf_counter()
            properties.annotate(subset, workers=1)
            serial_rates.append(len(subset) / (time.perf_counter() - t))
            line += f"; one process {serial_rates[-1]:.0f}/s"
        print(line, flush=True)

    median = statistics.median(seconds)
    result = {
        "data": str(args.data), "n": len(smiles), "repeats": args.repeats, "workers": workers,
        "mol_per_s_median": len(smiles) / median,
        "seconds_median": median,
        "serial_n": min(args.serial_n, len(smiles)),
        "serial_mol_per_s_median": statistics.median(serial_rates) if serial_rates else None,
        "startup_s": startup,
        "unreadable": int(table["mw"].isna().sum()),
        "with_pains": int((table["pains"].fillna("") != "").sum()),
        "with_brenk": int((table["brenk"].fillna("") != "").sum()),
        "runs": {"seconds": seconds, "serial_mol_per_s": serial_rates},
        "hardware": hardware(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }  # fmt: skip
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


def hardware() -> dict:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "rdkit": rdkit.__version__, "numpy": np.__version__, "pandas": pd.__version__}

def revision(checkout: Path) -> str:
    """The measured code as a git commit (a path would only mean something on this machine)."""
    import subprocess

    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    return f"commit {done.stdout.strip()}" if done.returncode == 0 else "unknown revision"


if __name__ == "__main__":
    main()

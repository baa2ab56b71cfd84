"""Memory of ``molvae sample`` as it streams N molecules to disk: flat, whatever N is.

    python benchmarks/sampling_memory.py --n 100000 1000000 --out benchmarks/results/memory.json

Runs the CLI in a subprocess per N and polls the resident memory of its whole process tree
(main process and decoding workers) every 0.2 s; reports the peak and the median, and the
molecules per second of the whole command.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, from /proc (Linux)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            stack.extend(int(c) for c in children)
        except (OSError, ValueError):
            continue
    return total / 1024


def measure(n: int, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "samples.csv"
        cmd = [sys.executable, "-m", "molvae", "-q", "sample", "-n", str(n), "--out", str(out),
               "--seed", "0", *extra]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        samples = []
        while proc.poll() is None:
            samples.append(tree_rss_mib(proc.pid))
            time.sleep(0.2)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
        rows = sum(1 for _ in out.open()) - 1
    return {"n": n, "rows_written": rows, "wall_s": wall, "mol_per_s": n / wall,
            "peak_rss_mib": max(samples), "median_rss_mib": statistics.median(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    extra = ["--model", args.model] if args.model else []
    results = []
    for n in args.n:
        results.append(measure(n, extra))
        print(json.dumps(results[-1]), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"runs": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Speed of the proposal verbs on 100k molecules: ``encode`` (SMILES -> latents) and ``sample``
(with and without the property columns), through the same code the CLI runs.

    python benchmarks/proposals.py --n 100000 --repeats 3 --out benchmarks/results/proposals.json

Reports medians of ``--repeats`` runs in molecules per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import pandas as pd
from sampling import hardware  # first: it sets GOMP_SPINCOUNT before torch loads, as the CLI does

from molvae.explore import iter_sample_tables
from molvae.trained import load_model


def timed(fn) -> float:  # noqa: ANN001
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("datasets/moses/test.csv.gz"))
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    model = load_model()
    smiles = pd.read_csv(args.data)["SMILES"].tolist()[: args.n]
    # (the property columns alone are measured by benchmarks/annotate.py)
    runs: dict[str, list[float]] = {"encode": [], "sample": [], "sample_with_properties": []}
    for r in range(args.repeats):
        runs["encode"].append(len(smiles) / timed(
            lambda: model.encode(smiles, properties=False)))
        for key, props in (("sample", False), ("sample_with_properties", True)):
            runs[key].append(args.n / timed(lambda p=props, r=r: sum(
                len(t) for t in iter_sample_tables(model, args.n, seed=r, properties=p))))
        print(f"run {r}: " + ", ".join(f"{k} {v[-1]:.0f}/s" for k, v in runs.items()),
              flush=True)
    result = {"n": args.n, "repeats": args.repeats,
              **{f"{k}_mol_per_s_median": statistics.median(v) for k, v in runs.items()},
              "runs": runs, "hardware": hardware()}
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""The decoder width's trade-off: reconstruction against sampling speed, for model files trained
with the same recipe at different widths, measured in one invocation on the same machine.

    python benchmarks/default_model.py train --run runs/width256 --decoder-hidden 256
    python benchmarks/default_model.py prior --run runs/width256
    python benchmarks/decoder_width.py runs/width256/model.safetensors \
        --out benchmarks/results/decoder_width.json

For each file (the shipped model first, then those named): the greedy reconstruction of the
posterior mean on the same seeded 1,000 held-out ZINC250k and MOSES test molecules ``molvae
evaluate`` draws, and sampling speed from the file's own sampling distribution: the network
alone (greedy token generation) and end to end (network, SELFIES, RDKit canonical SMILES, on all
cores). Speed runs are interleaved between the files (file A, file B, file A, ...) so that a
machine whose load changes during the run slows them alike; medians of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("GOMP_SPINCOUNT", "10000")  # before torch loads, as the molvae CLI does

import torch  # noqa: E402
from default_model import _relative  # noqa: E402
from refine import SETS, cpu_name, held_out  # noqa: E402

from molvae.precision import autocast_dtype  # noqa: E402
from molvae.trained import TrainedModel, default_model_path, load_model  # noqa: E402


def reconstruction(model: TrainedModel, smiles: list[str]) -> float:
    """Share of ``smiles`` whose posterior mean decodes greedily to the molecule itself."""
    model.refine = False
    return float(model.encode_exact(smiles).reconstructs.sum()) / len(smiles)


def network_rate(model: TrainedModel, n: int, seed: int, batch: int) -> float:
    """Molecules/s of greedy token generation alone, from the file's sampling distribution."""
    z = torch.from_numpy(model.sample_latents(n, seed=seed))
    start = time.perf_counter()
    for i in range(0, n, batch):
        model.generate_tokens(z[i:i + batch])
    return n / (time.perf_counter() - start)


def end_to_end_rate(model: TrainedModel, n: int, seed: int, batch: int, workers: int) -> float:
    """Valid molecules/s of sampling: latents, network, SELFIES, RDKit canonical SMILES."""
    start = time.perf_counter()
    got = sum(len(b) for b in model.iter_samples(n, seed=seed, batch_size=batch,
                                                 workers=workers))
    return got / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+", help="model files besides the shipped one")
    parser.add_argument("--n", type=int, default=1000, help="held-out molecules per test set")
    parser.add_argument("--samples", type=int, default=20_000, help="molecules per speed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    paths = [default_model_path(), *args.models]
    models = [load_model(p) for p in paths]
    workers = os.cpu_count() or 1
    rows = [{"model": _relative(p), "decoder_hidden": m.network.cfg.decoder_hidden,
             "parameters": sum(t.numel() for t in m.network.parameters()),
             "file_mb": round(p.stat().st_size / 1e6, 1),
             "precision": str(autocast_dtype(m.precision, m.device, purpose="inference"))}
            for p, m in zip(paths, models, strict=True)]
    for name in ("zinc250k_test", "moses_test"):
        smiles = held_out(SETS[name], args.n)
        for row, model in zip(rows, models, strict=True):
            row[f"reconstruction_{name}"] = reconstruction(model, smiles)
            print(row["model"], name, row[f"reconstruction_{name}"], flush=True)
    speeds: list[dict[str, list[float]]] = [{"network": [], "end_to_end": []} for _ in models]
    for r in range(args.repeats):
        for model, speed, row in zip(models, speeds, rows, strict=True):
            speed["network"].append(network_rate(model, args.samples, r, args.batch_size))
            speed["end_to_end"].append(end_to_end_rate(model, args.samples, r, args.batch_size,
                                                       workers))
            print(row["model"], f"run {r}: network {speed['network'][-1]:.0f}/s, end to end "
                  f"{speed['end_to_end'][-1]:.0f}/s", flush=True)
    for row, speed in zip(rows, speeds, strict=True):
        row["network_mol_per_s_median"] = statistics.median(speed["network"])
        row["end_to_end_valid_mol_per_s_median"] = statistics.median(speed["end_to_end"])
        row["runs"] = speed
    result = {"hardware": f"{cpu_name()}, {workers} cores", "torch": torch.__version__,
              "samples_per_run": args.samples, "repeats": args.repeats, "models": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(args.out)
    print(json.dumps([{k: v for k, v in row.items() if k != "runs"} for row in rows], indent=2))


if __name__ == "__main__":
    main()

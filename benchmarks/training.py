"""Training throughput (molecules/s) of the default architecture, fp32 against bf16 autocast.

    python benchmarks/training.py --data datasets/moses/train.csv.gz --steps 40 --repeats 5 \
        --out benchmarks/results/training.json

Times ``--repeats`` windows of ``--steps`` optimizer steps each (after two warm-up steps) on
real batches, and reports the median window. The peak resident memory of the process is reported
too (it includes the prepared data set held in memory).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from molvae.data import default_cache_dir, prepare
from molvae.loss import vae_loss
from molvae.model import VAE, VAEConfig
from molvae.tokens import dataset_vocabulary, encode
from molvae.train import TrainConfig

try:
    from sampling import hardware  # run as a script from benchmarks/
except ImportError:  # pragma: no cover
    from benchmarks.sampling import hardware


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    # properties are not timed here: reuse the labelled fraction the training run cached
    prepared = prepare(args.data, cache_dir=default_cache_dir(), property_fraction=0.15)
    vocab = dataset_vocabulary(prepared)
    enc = encode(prepared, vocab)
    tokens, props = torch.from_numpy(enc.tokens), torch.from_numpy(enc.props)
    rng = np.random.default_rng(0)
    device = torch.device(args.device)
    cfg = TrainConfig()
    results = {}
    for precision in args.precision:
        torch.manual_seed(0)
        model = VAE(VAEConfig(vocab_size=len(vocab), max_len=vocab.max_len)).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        dtype = torch.bfloat16 if precision == "bf16" else None
        rates = []
        for window in range(args.repeats):
            steps = args.steps + (2 if window == 0 else 0)
            start = None
            for s in range(steps):
                if window == 0 and s == 2 or window > 0 and s == 0:
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    start = time.perf_counter()
                idx = torch.from_numpy(rng.integers(0, len(tokens), args.batch_size))
                x, y = tokens[idx].to(device), props[idx].to(device)
                with torch.autocast(device.type, dtype=dtype or torch.float32,
                                    enabled=dtype is not None):
                    out = model(x)
                loss, _ = vae_loss(out, x, y, beta=cfg.beta, free_bits=cfg.free_bits,
                                   prop_weight=cfg.prop_weight)
                opt.zero_grad()
                loss.backward()
                opt.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            rates.append(args.steps * args.batch_size / (time.perf_counter() - start))
            print(f"{precision} window {window}: {rates[-1]:.0f} molecules/s", flush=True)
        results[precision] = {"median_mol_per_s": statistics.median(rates), "windows": rates}
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"device": str(device), "batch_size": args.batch_size, "steps_per_window":
              args.steps, "molecules": len(tokens), "results": results,
              "peak_rss_mib": peak_mib, "hardware": hardware()}
    if "fp32" in results and "bf16" in results:
        report["bf16_speedup"] = (results["bf16"]["median_mol_per_s"]
                                  / results["fp32"]["median_mol_per_s"])
    print(json.dumps({k: v for k, v in report.items() if k != "results"}, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

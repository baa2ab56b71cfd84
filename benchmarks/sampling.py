"""Sampling speed end to end (prior -> network -> SELFIES -> RDKit canonical SMILES), and the
ceiling set by SELFIES decoding plus RDKit canonicalization alone.

    python benchmarks/sampling.py --n 20000 --repeats 5 --out benchmarks/results/sampling.json

Reports the median of ``--repeats`` runs in valid molecules per second, as ``molvae sample``
runs (samples with a ring of more than 7 atoms, and samples the model does not read back, drawn
again), as ``molvae sample --no-round-trip`` runs (rings only), and keeping every sample, and the
ratio to the ceiling (the same decoding work with no network, on all cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("GOMP_SPINCOUNT", "10000")  # before torch loads, as the molvae CLI does

import torch  # noqa: E402

from molvae.decoding import MoleculeDecoder
from molvae.prior import MAX_SAMPLED_RING
from molvae.trained import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="intra-op threads of the network (default: torch's choice)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)

    model = load_model(args.model, precision=args.precision)
    workers = args.workers or os.cpu_count() or 1
    end_to_end, rings_only, all_rings, network_only, decode_only = [], [], [], [], []
    for r in range(args.repeats):
        # As molvae sample runs (larger rings than MAX_SAMPLED_RING and samples not read back
        # drawn again), with rings alone drawn again, then keeping every sample: the cost of
        # the redraws, interleaved so all three see the same machine.
        for rates, max_ring, round_trip in ((end_to_end, MAX_SAMPLED_RING, True),
                                            (rings_only, MAX_SAMPLED_RING, False),
                                            (all_rings, None, False)):
            t = time.perf_counter()
            got = sum(len(b) for b in model.iter_samples(
                args.n, seed=r, batch_size=args.batch_size, workers=workers, max_ring=max_ring,
                round_trip=round_trip))
            rates.append(got / (time.perf_counter() - t))

        z = torch.randn(args.n, model.latent_dim, generator=torch.Generator().manual_seed(r))
        t = time.perf_counter()
        batches = [model.generate_tokens(z[i:i + args.batch_size])
                   for i in range(0, args.n, args.batch_size)]
        tokens = model.vocab.pad([row for batch in batches for row in batch])
        network_only.append(args.n / (time.perf_counter() - t))

        with MoleculeDecoder(model.vocab, workers=workers) as dec:
            t = time.perf_counter()
            dec.decode(tokens)
            decode_only.append(args.n / (time.perf_counter() - t))
        print(f"run {r}: end to end {end_to_end[-1]:.0f}/s ({rings_only[-1]:.0f}/s without the "
              f"round trip, {all_rings[-1]:.0f}/s keeping every sample), "
              f"network {network_only[-1]:.0f}/s, "
              f"SELFIES+RDKit {decode_only[-1]:.0f}/s", flush=True)

    result = {
        "n": args.n, "repeats": args.repeats, "workers": workers,
        "torch_threads": torch.get_num_threads(), "precision": model.precision,
        "end_to_end_valid_mol_per_s_median": statistics.median(end_to_end),
        "max_ring": MAX_SAMPLED_RING,
        "end_to_end_without_round_trip_median": statistics.median(rings_only),
        "end_to_end_every_ring_kept_median": statistics.median(all_rings),
        "network_mol_per_s_median": statistics.median(network_only),
        "decode_ceiling_mol_per_s_median": statistics.median(decode_only),
        "ratio_to_ceiling": statistics.median(end_to_end) / statistics.median(decode_only),
        "runs": {"end_to_end": end_to_end, "without_round_trip": rings_only,
                 "every_ring_kept": all_rings, "network": network_only,
                 "decode": decode_only},
        "hardware": hardware(),
    }
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
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "python": platform.python_version()}


if __name__ == "__main__":
    main()

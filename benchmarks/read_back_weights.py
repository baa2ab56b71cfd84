"""Whether weighting the sampling distribution's components by how often the model reads their
samples back makes better or cheaper samples (tried 2026-12-07, not shipped: model card,
"Samples the model reads back").

Draws ``--draws`` latents from every component of the model's sampling distribution (seed
``--seed``), decodes them greedily and counts per component the samples ``molvae sample`` would
keep (a ring of at most 7 atoms, read back: ``TrainedModel.iter_samples``). Then writes the model
file again with each component's weight proportional to that rate (a component none of whose
draws read back gets none) to ``--out``; the weights, whitening and domain calibration are
otherwise those of the model. About 3 minutes for 16 draws of 10,000 components on 2 cores.

    python benchmarks/read_back_weights.py --draws 16 --out runs/read-back-weights.safetensors
    python benchmarks/model_quality.py --model runs/read-back-weights.safetensors --samples 10000 \\
        --threads 1 --fcd-ref 50000 --fcd-sanity 0 --fcd-mix 0 --paths 0 --r2 0 --speed 0 \\
        --ref-size 0 --out benchmarks/results/read_back_weights/weighted.json

The rates themselves go to ``--rates`` (JSON: the histogram, the mean rate, and the share of
samples kept per draw under each weighting).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_quality import environment, revision  # noqa: E402

from molvae.checkpoint import save_model  # noqa: E402
from molvae.decoding import MoleculeDecoder, iter_batches  # noqa: E402
from molvae.io import atomic_write_text  # noqa: E402
from molvae.prior import MAX_SAMPLED_RING  # noqa: E402
from molvae.trained import TrainedModel, load_model  # noqa: E402


def read_back_counts(model: TrainedModel, draws: int, seed: int, batch_size: int = 2000,
                     workers: int = 2) -> np.ndarray:
    """For each component (K,), how many of ``draws`` samples the sampler would keep."""
    prior = model.network.prior
    k = len(prior.weights)
    gen = torch.Generator().manual_seed(seed)
    comps = torch.arange(k).repeat(draws)
    kept = np.zeros(k, dtype=np.int64)

    def batches():  # noqa: ANN202 - a generator of token arrays
        for i in range(0, len(comps), batch_size):
            yield model.generate_tokens(prior.draw(comps[i:i + batch_size], gen), generator=gen)

    done = 0
    with MoleculeDecoder(model.vocab, workers=workers, max_ring=MAX_SAMPLED_RING,
                         read_back=True) as dec:
        for decoded in iter_batches(batches(), dec):
            batch = decoded.get()
            keep = model._reads_back(decoded.read_back())
            np.add.at(kept, comps[done:done + len(batch)].numpy(), keep)
            done += len(batch)
    return kept


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--draws", type=int, default=16)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--rule", choices=["rate", "drop"], default="rate",
                        help="rate: weights proportional to the read-back rate; drop: equal "
                             "weights, none for a component none of whose draws read back")
    parser.add_argument("--out", type=Path, required=True, help="the reweighted model file")
    parser.add_argument("--rates", type=Path,
                        default=Path("benchmarks/results/read_back_weights/rates.json"))
    args = parser.parse_args(argv)
    model = load_model(args.model)
    start = time.perf_counter()
    kept = read_back_counts(model, args.draws, args.seed)
    rate = kept / args.draws
    weights = rate if args.rule == "rate" else (kept > 0).astype(np.float64)
    weights = weights / weights.sum()
    network, meta = model.network, model.meta
    network.prior_weights.copy_(torch.as_tensor(weights, dtype=torch.float32))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_model(args.out, network, meta.vocab,
               {**meta.info, "prior": {**meta.info.get("prior", {}),
                                       "weights": f"{args.rule}: read-back of {args.draws} draws"}},
               training_set=meta.training_set)
    record = {
        "command": "python benchmarks/read_back_weights.py " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "components": len(rate), "draws": args.draws, "seed": args.seed, "rule": args.rule,
        "mean_rate": float(rate.mean()),
        "components_never_read_back": int((kept == 0).sum()),
        "histogram_of_kept_draws": np.bincount(kept, minlength=args.draws + 1).tolist(),
        "kept_per_draw_equal_weights": float(rate.mean()),
        "kept_per_draw_read_back_weights": float((rate ** 2).sum() / rate.sum()),
        "effective_components_read_back_weights": float(rate.sum() ** 2 / (rate ** 2).sum()),
        "seconds": time.perf_counter() - start, "revision": revision(), **environment(),
    }
    atomic_write_text(args.rates, json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k not in ("hardware", "versions")},
                     indent=1))


if __name__ == "__main__":
    main()

"""Whether training the encoder alone reads held-out ZINC250k better: the amortization gap.

The refined latents (``molvae.refine``) show that a latent decoding back to the molecule lies near
the posterior mean of 99% of held-out ZINC250k molecules, while the mean itself decodes back for
83%. This trains only the encoder (convolutions and the layers to mean and log-variance; the
token embedding, decoder and heads frozen) from the shipped weights on ZINC250k train, for
``--steps`` batches of ``--batch-size`` at a constant ``--lr``, with one of two objectives:

- ``elbo``: the training objective (reconstruction of a posterior draw + 0.05 x free-bits KL);
- ``mean``: reconstruction of the posterior mean itself + the same KL term, the objective of the
  metric (the greedy decode of the mean).

Before and every ``--every`` steps it measures the greedy decode of the mean, token for token
(the SELFIES of the canonical SMILES, as the sampler's round trip compares them), on 1,000
held-out ZINC250k and 1,000 MOSES test molecules (seeded picks). One core, bf16 where the CPU
has it; about 5 minutes per 400 steps on the 2-core EPYC. The JSON at ``--out`` is written
atomically.

    python benchmarks/encoder_only.py --objective elbo \
        --out benchmarks/results/encoder_only/elbo.json
    python benchmarks/encoder_only.py --objective mean \
        --out benchmarks/results/encoder_only/mean.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_quality import environment, revision  # noqa: E402

from molvae.data import default_cache_dir, prepare  # noqa: E402
from molvae.io import atomic_write_text  # noqa: E402
from molvae.precision import autocast_dtype  # noqa: E402
from molvae.tokens import encode  # noqa: E402
from molvae.trained import TrainedModel, load_model  # noqa: E402
from molvae.vocab import PAD_ID  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "datasets/zinc250k/train.smi.gz"
TESTS = {"zinc250k_test": ROOT / "datasets/zinc250k/test.smi.gz",
         "moses_test": ROOT / "datasets/moses/test.csv.gz"}
ENCODER = ("conv", "enc_fc", "to_stats")
BETA, FREE_BITS = 0.05, 0.1  # the shipped model's (model card, "Training")


def tokens_of(model: TrainedModel, path: Path, n: int | None = None, seed: int = 1
              ) -> torch.Tensor:
    """Padded token ids of a file's molecules the alphabet writes (``n`` of them, seeded)."""
    prepared = prepare(path, property_fraction=0.0, cache_dir=default_cache_dir(), workers=1)
    enc = encode(prepared, model.vocab)
    tokens = torch.from_numpy(enc.tokens.astype(np.int64))
    if n is not None:
        tokens = tokens[torch.from_numpy(np.random.default_rng(seed).permutation(len(tokens))[:n])]
    return tokens


@torch.no_grad()
def read_back(model: TrainedModel, tokens: torch.Tensor) -> float:
    """The share of molecules whose mean's greedy decode writes their tokens again."""
    model.network.eval()
    mean, _ = model.network.posterior(tokens)
    again = torch.from_numpy(model.vocab.pad(list(model.generate_tokens(mean))).astype(np.int64))
    return float((again == tokens).all(1).float().mean())


def loss_of(model: TrainedModel, tokens: torch.Tensor, objective: str,
            gen: torch.Generator) -> tuple[torch.Tensor, float, float]:
    """The objective of a batch, its reconstruction term and its KL (nats per molecule)."""
    net = model.network
    dtype = autocast_dtype("auto", torch.device("cpu"), purpose="training")
    with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        mu, logvar = net.encode(tokens)
        z = mu if objective == "mean" else net.reparameterize(mu, logvar, gen)
        length = int((tokens != PAD_ID).sum(1).max())
        logits = net.decode_logits(z, tokens[:, :length])
    target = tokens[:, :length]
    ce = F.cross_entropy(logits.float().transpose(1, 2), target, reduction="none")
    recon = (ce * (target != PAD_ID)).sum(1).mean()
    kl_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(0)
    return (recon + BETA * kl_dim.clamp(min=FREE_BITS).sum(), float(recon.detach()),
            float(kl_dim.sum().detach()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objective", choices=["elbo", "mean"], required=True)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--every", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    model = load_model(None)
    train = tokens_of(model, TRAIN)
    tests = {name: tokens_of(model, path, 1000) for name, path in TESTS.items()}
    curve = [{"step": 0, **{k: read_back(model, t) for k, t in tests.items()}}]
    print(curve[-1], flush=True)
    params = []
    for name, param in model.network.named_parameters():
        param.requires_grad_(name.split(".")[0] in ENCODER)
        if param.requires_grad:
            params.append(param)
    opt = torch.optim.Adam(params, lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(len(train), generator=gen)
    losses, start = [], time.perf_counter()
    for step in range(1, args.steps + 1):
        model.network.train()
        batch = train[order[(step - 1) * args.batch_size % len(train):][:args.batch_size]]
        loss, recon, kl = loss_of(model, batch, args.objective, gen)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append({"step": step, "recon": recon, "kl": kl})
        if step % args.every == 0:
            curve.append({"step": step, **{k: read_back(model, t) for k, t in tests.items()}})
            print(curve[-1], f"recon {recon:.3f} kl {kl:.1f}", flush=True)
    record = {
        "command": "python benchmarks/encoder_only.py " + " ".join(sys.argv[1:] if argv is None
                                                                  else argv),
        "objective": args.objective, "steps": args.steps, "batch_size": args.batch_size,
        "lr": args.lr, "seed": args.seed, "beta": BETA, "free_bits": FREE_BITS,
        "read_back": curve, "train_batches": losses[::10],
        "seconds": time.perf_counter() - start, "revision": revision(),
        "hardware": environment(),
    }
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()

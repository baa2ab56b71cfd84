"""Large rings in samples: refusing them while decoding (tried, not shipped) or redrawing them.

Compares, on the same latents drawn from the default model's sampling distribution:

- ``plain``: the greedy decode as shipped before the ring limit;
- ``index`` / ``symbol``: decodes that take back a ring closure making a ring of more than 7
  atoms (``molvae.ring_guard``: the closure's index symbol, or the ring symbol itself, refused
  and the molecule decoded again, up to 4 times);
- ``redraw``: ``iter_samples`` with ``max_ring=7``, which leaves such samples out and draws
  more (what ``molvae sample`` does).

For each: share of rings of more than 7 atoms, mean QED, the MOSES filters, FCD to MOSES test.

    python benchmarks/ring_guard.py --samples 3000 --out benchmarks/results/ring_guard.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from model_quality import chemistry_profile, environment  # noqa: E402

from molvae import load_model  # noqa: E402
from molvae.decoding import tokens_to_molecules  # noqa: E402
from molvae.ring_guard import SymbolTable, refuse_large_rings  # noqa: E402
from molvae.vocab import selfies_constraints  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=3000)
    p.add_argument("--fcd-ref", type=int, default=10000)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/ring_guard.json")
    args = p.parse_args()
    from fcd_torch import FCD

    model = load_model(refine=False)
    vocab, net = model.vocab, model.network
    table = SymbolTable.from_vocab(vocab)

    def gen(z: torch.Tensor, **kw) -> torch.Tensor:
        with model._autocast():
            return net.generate(z, min_len=vocab.min_len, first_allowed=model._first_allowed, **kw)

    z = net.sample_latents(args.samples, torch.Generator().manual_seed(0))
    ref = pd.read_csv(ROOT / "datasets/moses/test.csv.gz").iloc[:, 0].tolist()[: args.fcd_ref]
    fcd = FCD(device="cpu", n_jobs=2, batch_size=512)
    ref_stats = fcd.precalc(ref)
    runs = {
        "plain": lambda: gen(z),
        "index": lambda: refuse_large_rings(gen, z, table, 7),
        "symbol": lambda: refuse_large_rings(gen, z, table, 7, take_back="symbol"),
    }
    out = {"samples": args.samples, "fcd_reference": f"first {len(ref)} of MOSES test",
           "environment": environment(), "variants": {}}
    for name in [*runs, "redraw"]:
        t0 = time.perf_counter()
        with selfies_constraints(vocab.constraints):
            if name == "redraw":
                smiles = model.sample_smiles(args.samples, seed=0, max_ring=7)
            else:
                smiles = [s for _, s in tokens_to_molecules(
                    runs[name]().to(torch.uint8).numpy(), vocab)]
        seconds = time.perf_counter() - t0
        prof = chemistry_profile(smiles, workers=2)
        valid = [s for s in smiles if s]
        row = {"seconds": seconds, "ring_gt7": prof["ring_gt7"], "qed_mean": prof["qed_mean"],
               "moses_filters": prof["moses_filters"]["pass"],
               "fcd_moses_test": float(fcd.metric(ref_stats, fcd.precalc(valid)))}
        if name != "plain":
            plain = out["variants"]["plain_smiles"]
            row["changed"] = sum(a != b for a, b in zip(plain, smiles, strict=False))
        else:
            out["variants"]["plain_smiles"] = smiles
        out["variants"][name] = row
        print(name, json.dumps(row), flush=True)
    out["variants"].pop("plain_smiles")
    args.out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

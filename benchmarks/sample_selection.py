"""Which of the decoder's samples look like the training chemistry: the study behind ``molvae
sample``'s round trip (model card, "Sampling distribution").

    python benchmarks/sample_selection.py --out benchmarks/results/sample_selection/width2.json
    python benchmarks/sample_selection.py --width 2.5 --out .../width2.5.json   # wider kernels

Draws ``--n`` (6,000) latents from the model's sampling distribution (seed ``--seed``; with
``--width W`` its kernels scaled to W times the training posteriors' standard deviations, where the
file's own are ``prior.width`` times them) and decodes them greedily, every ring kept: the
decoder's own samples. For each sample it records:

- the decoder's confidence: the log-probability of each token of the greedy decode (teacher
  forced, fp32), its minimum, mean and sum over the molecule;
- the domain score of the sample's own posterior mean (``TrainedModel.knows_domain``);
- whether the model reads it back: ``reconstructs`` as the commands that encode report it (the
  greedy decode of the posterior mean is the same canonical SMILES) and the sampler's own check
  (``iter_samples(round_trip=True)``: the same SELFIES tokens);
- QED, a ring of more than 7 atoms, the MOSES filters (``model_quality.py``'s definitions) and
  novelty (not in the training set the model file carries).

Then, for each rule that keeps part of the samples (rings of at most 7 atoms, and the top share by
each score, or those read back), the kept samples' mean QED, MOSES filter pass rate, novelty and
FCD to a seeded ``--fcd-ref`` (5,000) of MOSES test; beside them the training mix itself (equal
parts of ZINC250k train and MOSES train, as the model's), the floor of every number. About 5
minutes on one core for 6,000 samples. The JSON at ``--out`` is written atomically.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import model_quality as mq  # noqa: E402

from molvae.decoding import read_back_tokens, tokens_to_molecules  # noqa: E402
from molvae.io import atomic_write_text  # noqa: E402
from molvae.proposals import novelty  # noqa: E402
from molvae.trained import TrainedModel, load_model  # noqa: E402
from molvae.vocab import PAD_ID, selfies_constraints  # noqa: E402

log = logging.getLogger("sample_selection")
SHARES = (0.9, 0.7, 0.5)


@torch.no_grad()
def token_log_probs(model: TrainedModel, z: torch.Tensor, tokens: np.ndarray,
                    batch: int = 1000) -> np.ndarray:
    """log p of each decoded token given the latent and the tokens before it (N, T), 0 at
    padding: the decoder's confidence in its own greedy choices."""
    t = torch.from_numpy(tokens.astype(np.int64))
    out = []
    for i in range(0, len(t), batch):
        logits = model.network.decode_logits(z[i:i + batch], t[i:i + batch]).float()
        out.append(logits.log_softmax(-1).gather(-1, t[i:i + batch, :, None])[..., 0])
    lp = torch.cat(out)
    return lp.masked_fill(t == PAD_ID, 0.0).numpy()


def per_sample(model: TrainedModel, n: int, seed: int) -> dict[str, np.ndarray]:
    """Every per-sample column of the module docstring."""
    gen = torch.Generator().manual_seed(seed)
    z, _ = model.network.prior.sample_with_components(n, gen)
    tokens = model.generate_tokens(z)
    lp = token_log_probs(model, z, tokens)
    length = (tokens != PAD_ID).sum(1)
    with selfies_constraints(model.vocab.constraints):
        decoded = tokens_to_molecules(tokens, model.vocab)
        sampler_back = model._reads_back(read_back_tokens(decoded, model.vocab))
    smiles = [smi for _, smi in decoded]
    valid = np.array([smi is not None for smi in smiles])
    rows = np.flatnonzero(valid)
    enc = model.encode_latents([smiles[i] for i in rows], canonical=True)
    encoded = rows[enc.ok]
    reconstructs = np.zeros(n, dtype=bool)
    again = model.decode_latents(enc.z.astype(np.float32))
    reconstructs[encoded] = [smi == smiles[i] for (_, smi), i in zip(again, encoded,
                                                                     strict=True)]
    domain = np.full(n, np.nan)
    domain[encoded] = model.knows_domain(enc.z)
    profile = mq._profile_chunk([smi or "" for smi in smiles], str(mq.FILTERS))
    novel = novelty(smiles, model)
    return {
        "smiles": np.array([smi or "" for smi in smiles], dtype=object), "valid": valid,
        "min_log_p": np.where(length > 0, lp.min(1), np.nan),
        "mean_log_p": lp.sum(1) / np.maximum(length, 1), "sum_log_p": lp.sum(1),
        "domain": domain, "reconstructs": reconstructs, "reads_back": sampler_back,
        "qed": np.array([p[0] for p in profile]), "ring_gt7": np.array([p[1] for p in profile]),
        "passes_filters": np.array([p[3] == 0 for p in profile]),
        "novel": novel.fillna(False).to_numpy(dtype=bool),  # no molecule: not novel
    }


def fcd_tool(reference: list[str]) -> tuple[Any, dict[str, np.ndarray]]:
    from fcd_torch import FCD

    fcd = FCD(device="cpu", n_jobs=1, batch_size=512)
    return fcd, fcd.precalc(reference)


def fcd_of(fcd: Any, ref: dict[str, np.ndarray], act: np.ndarray) -> float:
    return float(fcd.metric(ref, {"mu": act.mean(0), "sigma": np.cov(act.T)}))


def rules(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The masks of the samples each rule keeps."""
    valid, small = cols["valid"], cols["valid"] & ~cols["ring_gt7"].astype(bool)
    out = {"every sample (the decoder's own)": valid, "rings of at most 7 atoms": small}
    for key in ("min_log_p", "mean_log_p", "sum_log_p", "domain"):
        for share in SHARES:
            cut = np.nanquantile(cols[key][small], 1 - share)
            out[f"rings <= 7, top {share:.0%} by {key}"] = small & (cols[key] >= cut)
    out["rings <= 7, reconstructs (SMILES)"] = small & cols["reconstructs"]
    out["rings <= 7, read back (the sampler's tokens)"] = small & cols["reads_back"]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=float, default=None,
                        help="kernel width, times the posteriors' std (default: the file's)")
    parser.add_argument("--fcd-ref", type=int, default=5000)
    parser.add_argument("--mix", type=int, default=6000, help="training mix molecules (0: none)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    warnings.simplefilter("ignore", DeprecationWarning)  # fcd_torch's numpy and scipy calls
    torch.set_num_threads(1)

    model = load_model(args.model)
    width = model.meta.info.get("prior", {}).get("width")
    if args.width is not None:
        if not width:
            raise SystemExit("--width needs a model whose sampling distribution is posteriors")
        model.network.prior_stds.mul_(args.width / width)
    log.info("sampling %d latents", args.n)
    cols = per_sample(model, args.n, args.seed)
    fcd, ref = fcd_tool(mq.pick(mq.read_smiles(mq.MOSES_TEST), args.fcd_ref, args.seed))
    valid = cols["valid"]
    act = np.full((args.n, 512), np.nan)
    log.info("ChemNet of %d valid samples", int(valid.sum()))
    act[valid] = fcd.get_predictions(list(cols["smiles"][valid]))
    table = []
    for name, keep in rules(cols).items():
        table.append({"rule": name, "kept": int(keep.sum()), "share": float(keep.sum() / args.n),
                      "qed": float(np.nanmean(cols["qed"][keep])),
                      "filters": float(cols["passes_filters"][keep].mean()),
                      "ring_gt7": float(cols["ring_gt7"][keep].mean()),
                      "novelty": float(cols["novel"][keep].mean()),
                      "fcd_moses_test": fcd_of(fcd, ref, act[keep])})
    if args.mix:
        half = args.mix // 2
        mix = (mq.pick(mq.read_smiles(mq.ZINC_TRAIN), half, args.seed + 1)
               + mq.pick(mq.read_smiles(mq.MOSES_TRAIN), half, args.seed + 1))
        profile = mq.chemistry_profile(mix)
        table.append({"rule": "the training mix itself", "kept": len(mix), "share": None,
                      "qed": profile["qed_mean"], "filters": profile["moses_filters"]["pass"],
                      "ring_gt7": profile["ring_gt7"], "novelty": 0.0,
                      "fcd_moses_test": fcd_of(fcd, ref, fcd.get_predictions(mix))})
    small = valid & ~cols["ring_gt7"].astype(bool)
    agree = float((cols["reconstructs"][small] == cols["reads_back"][small]).mean())
    record = {"benchmark": "sample_selection",
              "command": shlex.join([Path(sys.executable).name, *sys.argv]),
              "revision": mq.revision(), "finished": mq._now(), **mq.environment(),
              "model": {"path": mq._shown(model.path), "sha256": mq.file_sha256(model.path),
                        "file_width": width},
              "parameters": {"n": args.n, "seed": args.seed, "width": args.width or width,
                             "fcd_ref": args.fcd_ref, "mix": args.mix},
              "reconstructs_and_read_back_agree": agree, "table": table}
    atomic_write_text(args.out, json.dumps(mq._finite(record), indent=1) + "\n")
    head = f"{'rule':<48} {'kept':>6} {'QED':>6} {'filters':>8} {'novel':>7} {'FCD':>6}"
    print(head)
    for row in table:
        print(f"{row['rule']:<48} {row['kept']:>6} {row['qed']:>6.3f} {row['filters']:>8.1%} "
              f"{row['novelty']:>7.1%} {row['fcd_moses_test']:>6.2f}")
    print(f"reconstructs (SMILES) and the sampler's read-back (tokens) agree on {agree:.1%}")


if __name__ == "__main__":
    main()

"""Build the default model's training set and train (or resume training) the default model.

The recipe of the shipped model, kept runnable so that a stopped run continues where it was:

    python benchmarks/default_model.py data            # runs/default-model/mix.smi (seeded)
    python benchmarks/default_model.py long            # the shipped weights: starts, or resumes
    python benchmarks/default_model.py prior --model runs/default-model-long/model.safetensors
    python benchmarks/default_model.py heads --model runs/default-model-long/model.safetensors
    python benchmarks/default_model.py train           # stage 1 (shipped until 2026-12-07)
    python benchmarks/default_model.py train --device cuda   # the same recipe on a GPU
    python benchmarks/default_model.py tensors         # runs/default-model/mix.npz (molvae prepare)
    python benchmarks/default_model.py long --tensors --device cuda  # train from it: no RDKit
    python benchmarks/default_model.py prior --components 1  # refit the sampling distribution
    python benchmarks/default_model.py extend          # stage 2: train the stage-1 model longer
    python benchmarks/default_model.py heads           # refit the property heads (frozen latents)
    python benchmarks/default_model.py decoder         # stage 3, not shipped: the decoder alone

``extend`` continues from stage 1's best model (``runs/default-model/model.safetensors``; on a
fresh machine the stage-1 file is the one shipped at commit a0c1a83:
``git show a0c1a83:molvae/models/default/model.safetensors > runs/default-model/model.safetensors``)
with a fresh optimizer and a second cosine schedule, into ``runs/default-model-extended``; like
``train`` it resumes by itself from that directory's checkpoint.

The training set is every molecule of ZINC250k's training split (``datasets/zinc250k/train.smi.gz``,
244,456) and as many molecules drawn at random (seed 0) from MOSES train
(``datasets/moses/train.csv.gz``): equal weight for the wide ZINC chemistry (stereo, charges,
up to 500 Da) and the MOSES lead-like core. Held out, never seen in training: ZINC250k's test split
and MOSES test. ``train`` runs ``molvae train`` with the settings below; it resumes by itself when
the run directory holds a checkpoint, so the same command continues a stopped run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from molvae.io import atomic_write_bytes

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "runs" / "default-model"
EXTENDED = ROOT / "runs" / "default-model-extended"
ZINC = ROOT / "datasets" / "zinc250k" / "train.smi.gz"
MOSES = ROOT / "datasets" / "moses" / "train.csv.gz"

#: The settings of the default model's training (the model card explains each choice).
TRAIN_ARGS = (
    "--epochs", "12", "--batch-size", "512", "--lr", "1.5e-3", "--beta", "0.05",
    "--kl-warmup-steps", "2000", "--free-bits", "0.1", "--precision", "bf16",
    "--property-fraction", "0.5", "--patience", "3", "--seed", "0", "--decoder-hidden", "384",
)


#: Stage 2 (``extend``): stage 1 stopped under-trained, reconstruction still rising 2 points an
#: epoch as its schedule ran out. A warm restart of the cosine at a lower peak after a short
#: warm-up (at lr 1e-3 with no warm-up the loss spiked tenfold within 600 steps), the KL weight
#: at its final value from the first step (the latent space is already organized).
EXTEND_ARGS = (
    "--epochs", "5", "--batch-size", "512", "--lr", "4e-4", "--lr-warmup-steps", "300",
    "--beta", "0.05",
    "--kl-warmup-steps", "0", "--free-bits", "0.1", "--precision", "bf16",
    "--property-fraction", "0.5", "--patience", "3", "--seed", "0",
)

#: Stage 3 (``decoder``): the decoder alone trained longer on the shipped model's frozen encoder
#: (``--freeze-encoder``), so the latents, and the sampling distribution, domain calibration and
#: refitted heads fitted on them, stay valid. Fresh Adam moments on trained weights: a short
#: warm-up to a peak near the learning rate stage 1 still gained at in its last third (about
#: 2e-4 at epoch 10), then a cosine. Precision ``auto``: bf16 where the hardware has it (a GPU,
#: a CPU with AVX512-BF16), fp32 otherwise (emulated bf16 ran 30 times slower on an AVX2 CPU).
DECODER_ARGS = (
    "--epochs", "4", "--batch-size", "512", "--lr", "2e-4", "--lr-warmup-steps", "300",
    "--kl-warmup-steps", "0", "--precision", "auto", "--property-fraction", "0",
    "--patience", "3", "--seed", "0", "--freeze-encoder",
)
DECODER_RUN = ROOT / "runs" / "default-decoder"

#: The long run (``long``; trained and shipped 2026-12-07): stage 1's recipe, data, split and
#: seed, from scratch, over a cosine twice as long (24 epochs, 22,464 steps). Stage 1 ended
#: under-trained (greedy reconstruction still rising 2 points an epoch as its schedule ran out);
#: a warm restart (stage 2) spent its first epochs recovering from the fresh optimizer's dip, and
#: training the decoder alone (stage 3) bought 1.6 points. On this 2-core CPU it spans sessions:
#: ``stash`` keeps its resumable state in the repository (LONG_KEPT), and ``long`` resumes from
#: there on a fresh checkout.
LONG_ARGS = tuple("24" if prev == "--epochs" else arg
                  for prev, arg in zip(("",) + TRAIN_ARGS, TRAIN_ARGS, strict=False))
LONG_RUN = ROOT / "runs" / "default-model-long"
LONG_KEPT = ROOT / "benchmarks" / "checkpoints" / "default-model-long"
#: What ``stash`` copies from a run directory: the resumable state and the run's record.
KEPT_FILES = ("last.pt", "metrics.jsonl", "config.json")

#: The shipped model's sampling distribution: the posteriors of PRIOR_COMPONENTS training
#: molecules, widened PRIOR_WIDTH times; the other PRIOR_MOLECULES - PRIOR_COMPONENTS drawn
#: molecules calibrate the domain. Measured on stage 1's weights, 3,000 samples (model card,
#: "Sampling distribution"): one fitted Gaussian gave FCD to MOSES test 19.8 and rings of more than
#: 7 atoms in 30%; 16 EM components the same; 4,096 posteriors at width 1 FCD 3.1 and 5.5%, but
#: only 35% novel; at width 2 FCD 11.6, 22% and 92% novel (the novelty target is 90%). Since
#: molvae sample keeps only samples the model reads back (closer to their training molecules),
#: width 2.375: the narrowest that keeps novelty above 90% with it (91.7%, against 76.5% at width
#: 2; the long run's weights, 3,000 samples; model card, "Samples the model reads back").
#: The heads' refit (``heads``): all of ZINC250k train and the first HEADS_MOSES[-1] molecules
#: of a seeded (HEADS_SEED) order of MOSES train, every one labelled, in files cut at HEADS_MOSES
#: (each prepared and cached on its own, so a larger refit reuses a smaller one's labels); see
#: molvae.heads and the model card (the heads were short of data, not of width).
HEADS_MOSES = (300_000, 900_000)
HEADS_SEED = 1

PRIOR_COMPONENTS = 10_000
PRIOR_WIDTH = 2.375
PRIOR_MOLECULES = 50_000


def read_lines(path: Path) -> list[str]:
    """The SMILES rows of a one-column file with a header line."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [line.strip() for line in fh][1:]


def build_mix(out: Path, seed: int = 0) -> int:
    """Write ZINC train plus an equal-sized seeded sample of MOSES train to ``out``."""
    zinc = read_lines(ZINC)
    moses = read_lines(MOSES)
    pick = np.sort(np.random.default_rng(seed).permutation(len(moses))[: len(zinc)])
    rows = zinc + [moses[i] for i in pick]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text("smiles\n" + "\n".join(rows) + "\n", encoding="utf-8")
    tmp.replace(out)
    return len(rows)


def build_heads_data(run: Path, cuts: tuple[int, ...] = HEADS_MOSES,
                     seed: int = HEADS_SEED) -> list[Path]:
    """Write the heads' data to ``run``: ``heads.smi`` (ZINC train, then MOSES train up to the
    first cut, seeded order), then ``heads-more.smi`` (the next cut's MOSES molecules), ...;
    files already there are kept."""
    rng = np.random.default_rng(seed)
    zinc, moses = read_lines(ZINC), read_lines(MOSES)
    first = [zinc[i] for i in rng.permutation(len(zinc))]
    order = rng.permutation(len(moses))
    paths = []
    for k, (lo, hi) in enumerate(zip((0, *cuts[:-1]), cuts, strict=True)):
        path = run / ("heads.smi" if k == 0 else f"heads-{'more' if k == 1 else k}.smi")
        rows = (first if k == 0 else []) + [moses[i] for i in order[lo:hi]]
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text("smiles\n" + "\n".join(rows) + "\n", encoding="utf-8")
            tmp.replace(path)
            print(f"{path}: {len(rows):,} molecules")
        paths.append(path)
    return paths


def stash(run: Path, kept: Path) -> list[Path]:
    """Copy a run's resumable state (KEPT_FILES) into ``kept``, a folder of the repository:
    ``runs/`` is not kept between sessions, the repository is. Each file is written atomically.

    Raises:
        SystemExit: the run has no checkpoint.
    """
    if not (run / "last.pt").exists():
        raise SystemExit(f"{_relative(run)}: no last.pt to keep")
    kept.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in KEPT_FILES:
        if (run / name).exists():
            atomic_write_bytes(kept / name, (run / name).read_bytes())
            copied.append(kept / name)
    return copied


def unstash(kept: Path, run: Path) -> bool:
    """Start ``run`` from the state kept in ``kept`` when the run directory has no checkpoint
    of its own (a fresh checkout); True if it did. A run directory's own, newer state wins."""
    if (run / "last.pt").exists() or not (kept / "last.pt").exists():
        return False
    run.mkdir(parents=True, exist_ok=True)
    for name in KEPT_FILES:
        if (kept / name).exists():
            shutil.copyfile(kept / name, run / name)
    return True


def validation_table(metrics: Path) -> str:
    """A run's per-epoch validation as the model card's Markdown table, with the median training
    speed of each epoch. The greedy column reads the validation split's first 500 molecules,
    which are ZINC250k's (the split is sorted and ZINC's rows come first in the mix)."""
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    speed: dict[int, list[float]] = {}
    for r in rows:
        if r["kind"] == "train":
            speed.setdefault(r["epoch"], []).append(r["mol_per_s"])
    lines = ["| epoch | reconstruction loss (nats/molecule) | KL (nats) | token accuracy | all "
             "tokens right (teacher-forced, whole mix) | greedy reconstruction (500 ZINC250k) | "
             "molecules/s (median) |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in (r for r in rows if r["kind"] == "val"):
        rate = np.median(speed.get(r["epoch"] - 1, [float("nan")]))
        lines.append(f"| {r['epoch']} | {r['recon']:.2f} | {r['kl']:.1f} | "
                     f"{r['token_acc']:.3f} | {100 * r['mol_acc']:.1f}% | "
                     f"{100 * r['greedy_recon']:.1f}% | {rate:,.0f} |")
    return "\n".join(lines)


def _relative(path: Path) -> str:
    """``path`` relative to the repository root when it lies inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["data", "tensors", "train", "prior", "extend", "heads",
                                         "decoder", "long", "stash", "curve"])
    parser.add_argument("--run", type=Path, default=RUN)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--tensors", action="store_true",
                        help="train, extend, decoder, long: train on RUN/mix.npz (the tensors "
                             "step), which needs neither RDKit nor selfies (a GPU machine)")
    parser.add_argument("--components", type=int, default=PRIOR_COMPONENTS,
                        help="prior: components of the sampling distribution")
    parser.add_argument("--posteriors", type=float, default=PRIOR_WIDTH,
                        help="prior: a mixture of training posteriors widened by this factor "
                             "(0: a Gaussian mixture fitted by EM)")
    parser.add_argument("--molecules", type=int, default=PRIOR_MOLECULES,
                        help="prior: training molecules drawn for the fit")
    parser.add_argument("--model", type=Path, default=None,
                        help="prior, heads: the model file (default RUN/model.safetensors)")
    parser.add_argument("--out", type=Path, default=None,
                        help="prior, heads: where to write the refitted model (default: in "
                             "place)")
    args, extra = parser.parse_known_args()
    mix = args.run / "mix.smi"
    if args.step == "heads":
        from molvae.heads import refit_heads

        out, record = refit_heads(args.model or args.run / "model.safetensors",
                                  build_heads_data(args.run), out=args.out)
        print(f"{out}: heads refitted, kept epoch {record['kept_epoch'][0]}: validation R^2 "
              + " / ".join(f"{r:.3f}" for r in record["kept"]))
        return
    tensors = mix.with_suffix(".npz")
    if args.step == "data" or not (mix.exists() or args.tensors and tensors.exists()):
        print(f"{mix}: {build_mix(mix):,} molecules")
    if args.step == "tensors":  # the head labels of the recipe's fraction, as TRAIN_ARGS says
        fraction = TRAIN_ARGS[TRAIN_ARGS.index("--property-fraction") + 1]
        raise SystemExit(subprocess.call(
            [sys.executable, "-m", "molvae", "prepare", _relative(mix), "--out",
             _relative(tensors), "--property-fraction", fraction], cwd=ROOT))
    if args.step == "prior":
        from molvae.train import fit_sampling_distribution

        model = args.model or args.run / "model.safetensors"
        out = fit_sampling_distribution(model, mix, components=args.components, out=args.out,
                                        molecules=args.molecules,
                                        posteriors=args.posteriors or None)
        kind = f"posteriors widened {args.posteriors}x" if args.posteriors else "Gaussians"
        print(f"{out}: sampling distribution refitted: {args.components} {kind}")
    if args.step == "curve":
        print(validation_table(LONG_RUN / "metrics.jsonl"))
        return
    if args.step == "stash":
        for path in stash(LONG_RUN, LONG_KEPT):
            print(f"{_relative(path)}: kept")
        return
    if args.step in ("train", "extend", "decoder", "long"):
        out, settings = {"train": (args.run, TRAIN_ARGS), "extend": (EXTENDED, EXTEND_ARGS),
                         "decoder": (DECODER_RUN, DECODER_ARGS),
                         "long": (LONG_RUN, LONG_ARGS)}[args.step]
        if args.step == "long" and unstash(LONG_KEPT, LONG_RUN):
            print(f"{_relative(LONG_RUN)}: resuming from the state kept in "
                  f"{_relative(LONG_KEPT)}")
        if (out / "last.pt").exists():
            start = ["--resume"]
        elif args.step == "extend":
            start = ["--init", _relative(args.run / "model.safetensors")]
        elif args.step == "decoder":
            from molvae.trained import default_model_path

            start = ["--init", _relative(args.model or default_model_path())]
        else:
            start = []
        # paths relative to the repository root: the model file records the data path
        cmd = [sys.executable, "-m", "molvae", "train", _relative(tensors if args.tensors else mix),
               "--out", _relative(out), *settings, "--device", args.device,
               "--no-progress", *start, *extra]
        print(" ".join(cmd), flush=True)
        raise SystemExit(subprocess.call(cmd, cwd=ROOT))


if __name__ == "__main__":
    main()

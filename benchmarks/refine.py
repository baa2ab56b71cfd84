"""How many held-out molecules a refined latent gives back (molvae.refine), at what cost, and how
far from the posterior mean it lies.

    python benchmarks/refine.py --out benchmarks/results/refine.json
    python benchmarks/refine.py --grid --out benchmarks/results/refine_grid.json   # settings tried
    python benchmarks/refine.py --far --out benchmarks/results/refine_far.json     # a wider search

For 1,000 held-out ZINC250k molecules, 1,000 MOSES test molecules (the same seeded draws as
``molvae evaluate``) and the marketed-drug list: the share reconstructed from the posterior mean
(the model card's metric) and from the latent the commands use, the seconds per molecule of the
refinement, and, for each refined latent, its whitened distance from its own mean beside the
distance from that mean to the nearest of 10,000 training molecules' means (the sampling
distribution's centres): a refined point should stay nearer its own molecule than any other
molecule lies. And whether what is built on a refined latent is nearer the molecule: the mean
Tanimoto to the molecule of ten analogs built on its refined latent, against ten built on its
mean, for 40 refined molecules of ZINC250k and of the drugs. One thread, so numbers are
comparable between runs of this script.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from molvae import load_model
from molvae.data import default_cache_dir, prepare
from molvae.refine import RefineConfig
from molvae.trained import Encoding, TrainedModel

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "zinc250k_test": ROOT / "datasets" / "zinc250k" / "test.smi.gz",
    "moses_test": ROOT / "datasets" / "moses" / "test.csv.gz",
    "marketed_drugs": ROOT / "datasets" / "drugs" / "marketed.csv",
}
#: Settings tried with --grid: each differs from BASE (the first settings tried) in one or two
#: places.
BASE = {"steps": 20, "lr": 0.3, "pull": 0.01, "radius": 2.0}
GRID = [
    {}, {"steps": 10}, {"steps": 40}, {"lr": 0.1}, {"lr": 0.6}, {"pull": 0.1}, {"pull": 1.0},
    {"radius": 1.0}, {"radius": 4.0}, {"steps": 40, "radius": 4.0}, {"steps": 80, "radius": 4.0},
    {"steps": 40, "radius": 8.0},
]
#: --far: a search that may go where the default may not (no pull to the mean, twice the radius,
#: more steps), measured beside the default, with the question that decides whether it helps:
#: are the analogs built on the points it alone finds any nearer the molecule?
FAR = {"steps": 100, "pull": 0.0, "radius": 8.0}


def cpu_name() -> str:
    """The CPU's model name (Linux), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def held_out(path: Path, n: int, seed: int = 0) -> list[str]:
    """The seeded draw of ``n`` molecules ``molvae evaluate`` reconstructs."""
    test = prepare(path, workers=1, property_fraction=0.0, cache_dir=default_cache_dir())
    pick = np.random.default_rng(seed).permutation(len(test.smiles))[:n]
    return [test.smiles[i] for i in pick]


def measure(model: TrainedModel, smiles: list[str]) -> dict[str, float]:
    """Reconstruction from means and from refined latents, cost and distances."""
    return measure_encoding(model, smiles)[1]


def measure_encoding(model: TrainedModel, smiles: list[str]) -> tuple[Encoding, dict[str, float]]:
    """The refined encoding of ``smiles``, and :func:`measure`'s numbers read from it."""
    model.refine = False
    start = time.perf_counter()
    plain = model.encode_exact(smiles)
    plain_s = time.perf_counter() - start
    model.refine = True
    start = time.perf_counter()
    enc = model.encode_exact(smiles)
    refine_s = time.perf_counter() - start - plain_s
    n, misread = len(smiles), int((~plain.reconstructs).sum())
    centres = model.whiten(model.network.prior.means.cpu().numpy())
    moved, nearest = [], []
    for i in np.flatnonzero(enc.refined):
        w, w0 = model.whiten(enc.z[i:i + 1]), model.whiten(enc.mean[i:i + 1])
        moved.append(float(np.linalg.norm(w - w0)))
        d = np.linalg.norm(centres - w0, axis=1)
        nearest.append(float(np.min(d[d > 1e-6])))
    moved_a, nearest_a = np.array(moved), np.array(nearest)
    return enc, {
        "molecules": n,
        "encoded": int(enc.ok.sum()),
        "reconstructed_mean": float(plain.reconstructs.sum()) / n,
        "reconstructed_refined": float(enc.reconstructs.sum()) / n,
        "refined": int(enc.refined.sum()),
        "misread_by_mean": misread,
        "seconds_per_misread_molecule": refine_s / max(1, misread),
        "seconds_per_molecule_encode_check": plain_s / n,
        "median_moved_whitened": float(np.median(moved_a)) if len(moved) else None,
        "median_nearest_other_mean_whitened": float(np.median(nearest_a)) if len(moved) else None,
        "share_moved_less_than_nearest_other": float(np.mean(moved_a < nearest_a))
        if len(moved) else None,
    }


def analogs_nearness(model: TrainedModel, smiles: list[str], n: int = 10,
                     limit: int = 40) -> dict[str, float]:
    """For up to ``limit`` molecules whose latent is refined: the mean Tanimoto to the molecule
    of its ``n`` analogs (``molvae analogs``, default radius, seed 0) built on the refined
    latent and on the posterior mean, and the share of molecules whose analogs are closer with
    the refined one."""
    from molvae.explore import analogs
    from molvae.similarity import tanimoto_to

    enc = model.encode_exact(smiles)
    canon = [smiles[i] for i in np.flatnonzero(enc.ok)]
    picked = [canon[i] for i in np.flatnonzero(enc.refined)][:limit]
    got: dict[bool, list[float]] = {True: [], False: []}
    for refine in (True, False):
        model.refine = refine
        for smi in picked:
            table = analogs(model, smi, n, seed=0, properties=False)
            got[refine].append(float(np.mean(tanimoto_to(smi, table["smiles"].tolist()))))
    model.refine = True
    on, off = np.array(got[True]), np.array(got[False])
    return {"molecules": len(picked), "analogs_each": n,
            "mean_similarity_refined": float(on.mean()), "mean_similarity_mean": float(off.mean()),
            "share_closer_refined": float(np.mean(on > off))}


def analogs_similarity(model: TrainedModel, smiles: list[str], n: int = 10) -> list[float]:
    """The mean Tanimoto to each molecule of ``n`` of its analogs (default radius, seed 0),
    built on the latent ``model`` encodes it to."""
    from molvae.explore import analogs
    from molvae.similarity import tanimoto_to

    return [float(np.mean(tanimoto_to(smi, analogs(model, smi, n, seed=0,
                                                     properties=False)["smiles"].tolist())))
            for smi in smiles]


def far_search(model: TrainedModel, sets: dict[str, list[str]]) -> dict:
    """The default settings against FAR on ZINC250k and the drugs, and for the molecules only
    FAR gives back, their analogs' similarity from FAR's point and from the mean (where the
    default leaves them)."""
    default, far = RefineConfig(), replace(RefineConfig(), **FAR)
    result: dict = {"far": asdict(far)}
    for name in ("zinc250k_test", "marketed_drugs"):
        smiles = sets[name]
        model.refine_config = default
        before, row = measure_encoding(model, smiles)
        row = {"default": row}
        model.refine_config = far
        after, row["far"] = measure_encoding(model, smiles)
        canon = [smiles[i] for i in np.flatnonzero(after.ok)]
        gained = [canon[i] for i in np.flatnonzero(after.reconstructs & ~before.reconstructs)]
        gained = gained[:40]
        row["gained"] = gained
        row["analogs_of_gained_from_far_point"] = analogs_similarity(model, gained)
        model.refine_config = default
        row["analogs_of_gained_from_mean"] = analogs_similarity(model, gained)
        result[name] = row
        print(name, json.dumps({k: v for k, v in row.items() if k != "gained"}), flush=True)
    model.refine_config = default
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="held-out molecules per test set")
    parser.add_argument("--grid", action="store_true",
                        help="try the GRID settings on ZINC250k and the drugs")
    parser.add_argument("--far", action="store_true",
                        help="the default settings against a wider search (FAR)")
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model)
    sets = {name: held_out(path, args.n) for name, path in SETS.items()}
    result: dict = {"hardware": f"{cpu_name()}, 1 thread",
                    "torch": torch.__version__}
    if args.grid:
        rows = []
        for change in GRID:
            model.refine_config = replace(RefineConfig(**BASE), **change)
            rows.append({"config": asdict(model.refine_config), "change": change,
                         **{name: measure(model, sets[name])
                            for name in ("zinc250k_test", "marketed_drugs")}})
            print(json.dumps(rows[-1]), flush=True)
        result["grid"] = rows
    elif args.far:
        result.update(far_search(model, sets))
    else:
        result["config"] = asdict(model.refine_config)
        for name, smiles in sets.items():
            result[name] = measure(model, smiles)
            print(name, json.dumps(result[name]), flush=True)
        result["analogs"] = {name: analogs_nearness(model, sets[name])
                             for name in ("zinc250k_test", "marketed_drugs")}
        print("analogs", json.dumps(result["analogs"]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

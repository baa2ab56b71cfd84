"""A model's sample quality and latent-space smoothness, by the MOSES definitions: the numbers of
a model card.

    python benchmarks/model_quality.py --out benchmarks/results/model_quality.json
    python benchmarks/model_quality.py --samples 2000 --ref-size 2000 --paths 20 --fcd-ref 5000 \\
        --fcd-sanity 5000 --speed 5000 --out /tmp/model_quality.json    # 2.5 minutes on 2 cores

Every part has a size option; 0 switches it off (``--no-filters``, ``--no-fcd`` for those two).
The slow parts are ChemNet (about 300 molecules/s on 2 cores: all of MOSES test takes some 10
minutes) and the filters' 502 SMARTS (about 150 molecules/s on 2 cores).
The JSON at ``--out`` (written atomically) holds the command, git revision, machine, versions, the
model file's sha256, every parameter, each part's metrics and seconds; a table is printed too.
Molecules are compared as RDKit canonical SMILES throughout.

**Samples** (``--samples``, 30,000): that many latents drawn from the model's sampling
distribution and decoded greedily by ``TrainedModel.iter_samples``, the call behind ``molvae
sample`` (seed ``--seed``); as there, samples with a ring of more than ``--max-ring`` (7) atoms
and samples the model does not read back (decode(encode(x)) != x) are drawn again, so that many
molecules are measured (``--no-round-trip`` keeps the ones not read back; with ``--max-ring 0``
too: exactly that many latents, every ring kept, the decoder's own samples):

- validity: share of the draws that decode to a valid molecule;
- unique@10k: distinct molecules among the first 10,000 valid ones (all of them when fewer), as
  MOSES's ``fraction_unique``;
- novelty: share of the distinct valid molecules not in the model's training set (the hashes the
  model file carries, ``molvae.novelty``, read as ``molvae sample``'s ``novel`` column); null for a
  model file without them;
- IntDiv1 / IntDiv2: ``1 - mean T`` and ``1 - mean_i sqrt(mean_j T_ij^2)`` over every ordered pair
  (i, j) of valid samples, self-pairs and repeats included, T the Tanimoto similarity of Morgan
  fingerprints of radius 2 and 1,024 bits: MOSES's ``internal_diversity`` (``molvae evaluate``
  uses 2,048 bits and at most 10,000 molecules, so its IntDiv1 differs slightly);
- the chemistry profile, of the valid samples (repeats included, as MOSES scores them) and of a
  seeded random ``--ref-size`` (10,000) of each ``--train-ref`` file: mean QED, share with a ring
  of more than 7 atoms (RDKit's ring perception, ``AtomRings``), share with a radical (an atom
  with radical electrons), and the MOSES filters below.

**MOSES filters**: the definition of ``mol_passes_filters`` in molsets 0.3.1
(``moses/metrics/utils.py``), written anew here. A molecule passes when it (checked in this order)
parses (``unreadable`` otherwise); has no ring of 8 or more atoms (``ring``); has no atom with a
formal charge (``charge``; MOSES's ``allowed`` argument widens the atom list only, never the
charges); has only C, N, S, O, F, Cl, Br and H atoms (``atoms``); matches none of the 22 MCF
(``mcf``) and 480 PAINS (``pains``) SMARTS of ``datasets/moses_filters/``, matched on the molecule
with explicit hydrogens as MOSES does; and its non-isomeric SMILES parses again (``smiles``).
Reported: the pass rate, the share failing each check (a molecule may fail several) and the share
whose first failed check is each one (those and the pass rate add up to 1). ZINC250k keeps charged
molecules, so its own pass rate is far below MOSES train's (which MOSES built with these filters).

**FCD** (``fcd_torch``, an optional dependency: ``pip install --no-deps fcd_torch==1.0.7`` with
scipy present; skipped, saying so, when missing): the Fréchet ChemNet Distance of the valid
samples (repeats included, as MOSES's ``FCD/Test``) to MOSES test (all of it, or a seeded random
``--fcd-ref`` of it) and to ZINC250k's held-out split; and, as a check of the setting, the FCD of a
seeded random ``--fcd-sanity`` (30,000) of MOSES train to the same MOSES test reference (about 0.05
at full size). That last number depends only on the data, so it is kept from an earlier JSON at
``--out`` measured with the same settings rather than computed again. And the floor: the FCD to
each reference of ``--fcd-mix`` (30,000) training molecules themselves, equal parts of each
``--train-ref`` file (seeded), as the default model's training mix is made: what a sampler that
drew the training molecules would score (kept from an earlier JSON the same way). ChemNet runs on
the CPU with at most 2 SMILES-reading workers.

**Holes** (``--paths``, 100): pairs of held-out molecules (ZINC250k test): a seeded permutation of
the file, the molecules the model cannot encode left out, paired in order (first with second,
third with fourth...; no molecule in two pairs). Each path is the slerp (``molvae.explore.slerp``,
in whitened coordinates, as ``molvae interpolate``) between the latents ``molvae interpolate``
starts from (``TrainedModel.encode_exact``: the posterior mean, or where the mean decodes to
another molecule a refined latent that decodes back, ``molvae.refine``; ``--no-refine``: the
means), at
``--path-points`` (10) interior points ``t = k / 11``, k = 1..10, decoded greedily. The ends' QED
and rings are those of the held-out molecules themselves (not of their decodings); a ring is any
ring RDKit perceives. Over the interior points that decode to a valid molecule:

- ``qed_kept``: share with QED >= half the lower of the two ends' QED;
- ``ring_kept``: on paths whose two ends both have a ring, share of points whose molecule has one;
- ``smooth`` (the headline, target >= 90%): share meeting both: ``qed_kept`` and, on paths whose
  ends both have a ring, a ring;
- ``smooth_strict``: ``smooth`` with every interior point in the denominator (invalid ones fail);
  ``paths_smooth``: share of paths with every interior point valid and smooth.

**Property heads** (``--r2``, 1,000 each): R^2 (``molvae.evaluate.r_squared``) of the heads'
QED, logP and SA predictions at the posterior mean against RDKit's values, on seeded random
molecules of ZINC250k test and of MOSES test; molecules the model cannot encode are counted and
left out.

**Speed** (``--speed``, 20,000): valid molecules per second end to end, prior to canonical SMILES,
of ``iter_samples`` with ``--threads`` (2) decoding workers and torch threads, as
``benchmarks/sampling.py`` measures it; the median of ``--speed-repeats`` (3) runs, seeds 0, 1, 2.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import json
import logging
import math
import os
import shlex
import statistics
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")  # before torch loads, as the molvae CLI does

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rdkit import Chem  # noqa: E402
from rdkit.Chem import rdFingerprintGenerator  # noqa: E402

from molvae.chem import PROPERTY_NAMES, qed, to_mol, without_rdkit_log  # noqa: E402
from molvae.data import compute_properties  # noqa: E402
from molvae.errors import MolVAEError  # noqa: E402
from molvae.evaluate import draw_samples, r_squared  # noqa: E402
from molvae.explore import slerp  # noqa: E402
from molvae.io import atomic_write_text  # noqa: E402
from molvae.prior import MAX_SAMPLED_RING  # noqa: E402
from molvae.proposals import novelty  # noqa: E402
from molvae.smiles_file import iter_smiles  # noqa: E402
from molvae.trained import TrainedModel, load_model  # noqa: E402
from molvae.workers import map_chunks  # noqa: E402

log = logging.getLogger("model_quality")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "datasets"
FILTERS = DATA / "moses_filters"
ZINC_TRAIN = DATA / "zinc250k" / "train.smi.gz"
ZINC_TEST = DATA / "zinc250k" / "test.smi.gz"
MOSES_TRAIN = DATA / "moses" / "train.csv.gz"
MOSES_TEST = DATA / "moses" / "test.csv.gz"

#: unique@k, as the MOSES paper reports it.
UNIQUE_AT = 10_000
#: MOSES's fingerprint for internal diversity: Morgan, radius 2, 1,024 bits.
FP_RADIUS, FP_BITS = 2, 1024
#: The atoms MOSES's filters allow.
ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})
#: The filters' checks, in the order MOSES applies them; bit i of a failure mask is CHECKS[i].
CHECKS = ("unreadable", "ring", "charge", "atoms", "mcf", "pains", "smiles")
#: The smallest ring MOSES's filters reject; the profile's "ring > 7 atoms" is the same ring.
BIG_RING = 8
FCD_INSTALL = ("fcd_torch is not installed: pip install --no-deps fcd_torch==1.0.7 (it needs "
               "scipy: pip install scipy)")


# --- MOSES filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MosesFilters:
    """The MCF and PAINS SMARTS of MOSES's filters, parsed."""

    mcf: tuple[Chem.Mol, ...]
    pains: tuple[Chem.Mol, ...]

    @classmethod
    def load(cls, folder: Path = FILTERS) -> MosesFilters:
        """Read ``mcf.csv`` (a ``names,smarts`` header) and ``wehi_pains.csv`` (``smarts,name``
        rows, no header; the SMARTS padded with spaces) from ``folder``.

        Raises:
            MolVAEError: a file is missing or holds a SMARTS RDKit cannot parse (names both).
        """
        def parse(path: Path, rows: Iterable[tuple[str, str]]) -> tuple[Chem.Mol, ...]:
            patterns = []
            for name, smarts in rows:
                pattern = Chem.MolFromSmarts(smarts.strip())
                if pattern is None:
                    raise MolVAEError(f"{path}: RDKit cannot parse the SMARTS of {name!r}")
                patterns.append(pattern)
            return tuple(patterns)

        try:
            with open(folder / "mcf.csv", encoding="utf-8", newline="") as fh:
                mcf = parse(folder / "mcf.csv",
                            ((r["names"], r["smarts"]) for r in csv.DictReader(fh)))
            with open(folder / "wehi_pains.csv", encoding="utf-8", newline="") as fh:
                pains = parse(folder / "wehi_pains.csv", ((r[1], r[0]) for r in csv.reader(fh)))
        except OSError as err:
            raise MolVAEError(f"cannot read the MOSES filters in {folder}: {err}") from None
        return cls(mcf=mcf, pains=pains)

    def failures(self, mol: str | Chem.Mol | None) -> tuple[str, ...]:
        """The checks (:data:`CHECKS`) a molecule fails, in order; empty when it passes."""
        mol = to_mol(mol)
        if mol is None or mol.GetNumAtoms() == 0:
            return ("unreadable",)
        failed = []
        if any(len(ring) >= BIG_RING for ring in mol.GetRingInfo().AtomRings()):
            failed.append("ring")
        if any(atom.GetFormalCharge() != 0 for atom in mol.GetAtoms()):
            failed.append("charge")
        if any(atom.GetSymbol() not in ALLOWED_ATOMS for atom in mol.GetAtoms()):
            failed.append("atoms")
        with_h = Chem.AddHs(mol)
        if any(with_h.HasSubstructMatch(p) for p in self.mcf):
            failed.append("mcf")
        if any(with_h.HasSubstructMatch(p) for p in self.pains):
            failed.append("pains")
        with without_rdkit_log():
            flat = Chem.MolToSmiles(mol, isomericSmiles=False)
            if not flat or Chem.MolFromSmiles(flat) is None:
                failed.append("smiles")
        return tuple(failed)

    def passes(self, mol: str | Chem.Mol | None) -> bool:
        """MOSES's ``mol_passes_filters`` (default ``allowed`` atoms)."""
        return not self.failures(mol)


@cache
def _filters(folder: str) -> MosesFilters:
    """The filters of ``folder``, parsed once per process (forked workers inherit them)."""
    return MosesFilters.load(Path(folder))


def failure_mask(failed: Sequence[str]) -> int:
    """The failed checks as bits: bit i for ``CHECKS[i]``."""
    return sum(1 << CHECKS.index(name) for name in failed)


def filter_summary(masks: np.ndarray) -> dict[str, Any]:
    """Pass rate, share failing each check, share by first failed check, of failure masks."""
    masks = np.asarray(masks, dtype=np.int64)
    n = max(1, len(masks))
    lowest = masks & -masks  # the first failed check's bit (0 when it passes)
    return {
        "pass": float((masks == 0).sum() / n),
        "failing": {c: float(((masks >> i) & 1).sum() / n) for i, c in enumerate(CHECKS)},
        "first_failed": {c: float((lowest == 1 << i).sum() / n) for i, c in enumerate(CHECKS)},
    }


# --- chemistry profile --------------------------------------------------------------------------


def has_big_ring(mol: Chem.Mol) -> bool:
    return any(len(ring) >= BIG_RING for ring in mol.GetRingInfo().AtomRings())


def has_radical(mol: Chem.Mol) -> bool:
    return any(atom.GetNumRadicalElectrons() > 0 for atom in mol.GetAtoms())


def has_ring(mol: str | Chem.Mol | None) -> bool:
    mol = to_mol(mol)
    return mol is not None and mol.GetRingInfo().NumRings() > 0


def _profile_chunk(smiles: list[str], folder: str | None) -> list[tuple[float, bool, bool, int]]:
    """(QED, ring > 7 atoms, radical, filter failure mask; -1 without filters) per molecule."""
    filters = _filters(folder) if folder is not None else None
    rows = []
    for smi in smiles:
        mol = to_mol(smi)
        if mol is None or mol.GetNumAtoms() == 0:
            rows.append((math.nan, False, False, failure_mask(("unreadable",))))
            continue
        mask = failure_mask(filters.failures(mol)) if filters is not None else -1
        rows.append((qed(mol), has_big_ring(mol), has_radical(mol), mask))
    return rows


def chemistry_profile(smiles: Sequence[str], *, filters: Path | None = FILTERS,
                      workers: int = 1) -> dict[str, Any]:
    """Mean QED, ring > 7 and radical shares and (unless ``filters`` is None) the MOSES filters'
    summary of molecules, on ``workers`` processes."""
    fn = partial(_profile_chunk, folder=None if filters is None else str(filters))
    if filters is not None:
        _filters(str(filters))  # parsed here once, before the workers fork
    rows = list(map_chunks(fn, list(smiles), workers=workers, chunk_size=250))
    qeds = np.array([r[0] for r in rows], dtype=float)
    n = max(1, len(rows))
    out: dict[str, Any] = {
        "molecules": len(rows),
        "unreadable": int(np.isnan(qeds).sum()),
        "qed_mean": float(np.nanmean(qeds)) if len(rows) else math.nan,
        "qed_std": float(np.nanstd(qeds)) if len(rows) else math.nan,
        "ring_gt7": sum(r[1] for r in rows) / n,
        "radical": sum(r[2] for r in rows) / n,
    }
    if filters is not None:
        out["moses_filters"] = filter_summary(np.array([r[3] for r in rows]))
    return out


# --- samples ------------------------------------------------------------------------------------


def internal_diversity(smiles: Sequence[str], *, p: int = 1, block: int = 1024) -> float:
    """MOSES's IntDiv_p: ``1 - mean_i (mean_j T_ij^p)^(1/p)`` over every ordered pair of molecules
    (self-pairs and repeats included), T the Tanimoto of 1,024-bit Morgan radius-2 fingerprints.

    >>> round(internal_diversity(["CCO", "CCO"]), 3)
    0.0
    """
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=FP_RADIUS, fpSize=FP_BITS)
    mols = [m for m in map(to_mol, smiles) if m is not None]
    if not mols:
        return math.nan
    x = np.stack([gen.GetFingerprintAsNumPy(m) for m in mols]).astype(np.float32)  # (N, bits)
    counts = x.sum(1)
    per_row = np.empty(len(x))
    for i in range(0, len(x), block):
        inter = x[i:i + block] @ x.T  # (B, N) common bits, exact in float32
        union = counts[i:i + block, None] + counts[None, :] - inter
        tanimoto = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
        per_row[i:i + block] = (tanimoto.astype(np.float64) ** p).mean(1) ** (1 / p)
    return float(1.0 - per_row.mean())


def sample_metrics(model: TrainedModel, valid: Sequence[str], drawn: int,
                   latents: int | None = None) -> dict[str, Any]:
    """Validity, unique@10k, novelty and internal diversity of ``valid`` of ``drawn`` samples
    asked for, and the ``latents`` decoded for them (redraws included)."""
    first = valid[:UNIQUE_AT]
    distinct = list(dict.fromkeys(valid))
    novel = novelty(distinct, model)
    return {
        "drawn": drawn,
        "latents_decoded": latents,
        "valid": len(valid),
        "validity": len(valid) / max(1, drawn),
        "unique_at": len(first),
        "unique": len(set(first)) / max(1, len(first)),
        "distinct": len(distinct),
        "novelty": None if novel.isna().all() else float(novel.mean()),
        "int_div1": internal_diversity(valid, p=1),
        "int_div2": internal_diversity(valid, p=2),
    }


# --- FCD ----------------------------------------------------------------------------------------


def fcd_part(samples: Sequence[str], refs: dict[str, list[str]], *, sanity: list[str] | None,
             sanity_ref: str, cached_sanity: dict[str, Any] | None, sanity_key: dict[str, Any],
             workers: int, mix: list[str] | None = None, mix_key: dict[str, Any] | None = None,
             cached_mix: dict[str, Any] | None = None) -> dict[str, Any]:
    """FCD of ``samples`` to each reference, the sanity FCD of ``sanity`` to
    ``refs[sanity_ref]`` (or ``cached_sanity`` when its key matches), and the training mix's own
    FCD of ``mix`` to each reference (or ``cached_mix`` when its key matches)."""
    try:
        from fcd_torch import FCD
    except ImportError:
        log.warning("skipping FCD: %s", FCD_INSTALL)
        return {"skipped": FCD_INSTALL}
    from importlib.metadata import version

    sanity_key = {**sanity_key, "fcd_torch": version("fcd_torch")}
    fcd = FCD(device="cpu", n_jobs=min(2, workers), batch_size=512)
    out: dict[str, Any] = {}
    with warnings.catch_warnings():  # fcd_torch 1.0.7 calls numpy/scipy functions since deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        stats: dict[str, dict[str, np.ndarray]] = {}

        def ref_stats(name: str) -> dict[str, np.ndarray]:  # ChemNet statistics, once each
            if name not in stats:
                log.info("FCD: ChemNet statistics of %s (%d molecules)", name, len(refs[name]))
                stats[name] = fcd.precalc(refs[name])
            return stats[name]

        if len(samples) >= 2:
            log.info("FCD: ChemNet statistics of %d samples", len(samples))
            pgen = fcd.precalc(list(samples))
            for name in refs:
                out[f"samples_to_{name}"] = float(fcd.metric(ref_stats(name), pgen))
        if cached_sanity is not None and cached_sanity.get("key") == sanity_key:
            out["sanity"] = {**cached_sanity, "cached": True}
            log.info("FCD: sanity value %.4f kept from the earlier result", cached_sanity["fcd"])
        elif sanity:
            log.info("FCD: sanity check, %d train molecules", len(sanity))
            value = float(fcd.metric(ref_stats(sanity_ref), fcd.precalc(sanity)))
            out["sanity"] = {"fcd": value, "key": sanity_key, "measured": _now(),
                             "revision": revision(), "cached": False}
        mix_key = {**(mix_key or {}), "fcd_torch": version("fcd_torch")}
        if cached_mix is not None and cached_mix.get("key") == mix_key:
            out["training_mix"] = {**cached_mix, "cached": True}
            log.info("FCD: the training mix's values kept from the earlier result")
        elif mix:
            log.info("FCD: the training mix itself, %d molecules", len(mix))
            stats_mix = fcd.precalc(list(mix))
            out["training_mix"] = {
                "fcd": {name: float(fcd.metric(ref_stats(name), stats_mix)) for name in refs},
                "key": mix_key, "measured": _now(), "revision": revision(), "cached": False}
    out["reference_sizes"] = {name: len(smiles) for name, smiles in refs.items()}
    return out


# --- holes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlerpPath:
    """The ends of a latent path and the molecules decoded at its interior points (None where a
    point decodes to no molecule)."""

    a: str
    b: str
    interior: tuple[str | None, ...]


def slerp_paths(model: TrainedModel, molecules: Sequence[str], n_paths: int, *, points: int = 10,
                seed: int = 0) -> list[SlerpPath]:
    """``n_paths`` slerp paths between disjoint pairs of ``molecules``: consecutive encodable
    molecules of a seeded permutation of them."""
    shuffled = [molecules[i] for i in np.random.default_rng(seed).permutation(len(molecules))]
    ends: list[str] = []
    latents: list[np.ndarray] = []
    start = 0
    while len(ends) < 2 * n_paths and start < len(shuffled):  # encode only what is needed
        chunk = shuffled[start:start + 2 * n_paths + 16]
        start += len(chunk)
        enc = model.encode_exact(chunk)
        ends += [s for s, ok in zip(chunk, enc.ok, strict=True) if ok]
        latents += list(enc.z)
    if len(ends) < 2 * n_paths:
        log.warning("holes: only %d encodable molecules, %d paths", len(ends), len(ends) // 2)
    n_paths = min(n_paths, len(ends) // 2)
    if n_paths == 0:
        return []
    w = model.whiten(np.stack(latents[: 2 * n_paths]))
    t = np.arange(1, points + 1) / (points + 1)
    path_latents = [model.unwhiten(slerp(w[2 * k], w[2 * k + 1], t)) for k in range(n_paths)]
    decoded = model.decode_latents(np.concatenate(path_latents), workers=1)  # greedy
    return [SlerpPath(ends[2 * k], ends[2 * k + 1],
                      tuple(smi for _, smi in decoded[k * points:(k + 1) * points]))
            for k in range(n_paths)]


def holes(paths: Sequence[SlerpPath]) -> dict[str, Any]:
    """The holes metrics of paths (definitions in the module docstring).

    >>> path = SlerpPath("c1ccccc1O", "c1ccccc1N", ("c1ccccc1C", "CCCCO", None))
    >>> m = holes([path])
    >>> m["interior_validity"], m["ring_kept"], m["smooth"]
    (0.6666666666666666, 0.5, 0.5)
    """
    points = valid = qed_kept = ringed_points = ring_kept = smooth = paths_smooth = 0
    for path in paths:
        floor = 0.5 * min(qed(path.a), qed(path.b))
        ringed = has_ring(path.a) and has_ring(path.b)
        all_smooth = True
        for smi in path.interior:
            points += 1
            if smi is None:
                all_smooth = False
                continue
            valid += 1
            q_ok = qed(smi) >= floor
            r_ok = has_ring(smi) if ringed else True
            qed_kept += q_ok
            ringed_points += ringed
            ring_kept += ringed and r_ok
            smooth += q_ok and r_ok
            all_smooth &= q_ok and r_ok
        paths_smooth += all_smooth
    return {
        "paths": len(paths),
        "interior_points": points,
        "interior_validity": valid / max(1, points),
        "qed_kept": qed_kept / valid if valid else math.nan,
        "ring_kept": ring_kept / ringed_points if ringed_points else math.nan,
        "ringed_paths": sum(has_ring(p.a) and has_ring(p.b) for p in paths),
        "smooth": smooth / valid if valid else math.nan,
        "smooth_strict": smooth / points if points else math.nan,
        "paths_smooth": paths_smooth / len(paths) if paths else math.nan,
        "distinct_per_path": (float(np.mean([len({s for s in p.interior if s}) for p in paths]))
                              if paths else math.nan),
    }


# --- property heads and speed -------------------------------------------------------------------


def head_r2(model: TrainedModel, smiles: Sequence[str], *, workers: int) -> dict[str, Any]:
    """R^2 of the property heads at the posterior mean against RDKit's values."""
    enc = model.encode_latents(list(smiles))
    pred = model.predict_properties(enc.z)
    truth = compute_properties(list(smiles), workers=workers)[enc.ok]
    return {"molecules": len(smiles), "unencodable": int((~enc.ok).sum()),
            "r2": {name: r_squared(truth[:, j].astype(float), pred[:, j].astype(float))
                   for j, name in enumerate(PROPERTY_NAMES)}}


def sampling_speed(model: TrainedModel, n: int, *, repeats: int, workers: int,
                   batch_size: int = 2048, max_ring: int | None = None,
                   round_trip: bool = False) -> dict[str, Any]:
    """Valid molecules per second of ``iter_samples`` end to end, median of ``repeats`` runs."""
    rates = []
    for r in range(repeats):
        start = time.perf_counter()
        got = sum(len(b) for b in model.iter_samples(n, seed=r, batch_size=batch_size,
                                                     workers=workers, max_ring=max_ring,
                                                     round_trip=round_trip))
        rates.append(got / (time.perf_counter() - start))
        log.info("speed run %d: %.0f valid molecules/s", r, rates[-1])
    return {"n": n, "repeats": repeats, "workers": workers, "round_trip": round_trip,
            "torch_threads": torch.get_num_threads(), "precision": model.precision,
            "valid_mol_per_s_median": statistics.median(rates), "runs": rates}


# --- data and environment -----------------------------------------------------------------------


def read_smiles(path: Path) -> list[str]:
    """The SMILES of a one-column file with a header (``.smi.gz``, ``.csv.gz``)."""
    return [smi for _, smi in iter_smiles(path) if smi]


def pick(smiles: Sequence[str], n: int | None, seed: int) -> list[str]:
    """A seeded random ``n`` of ``smiles`` (all, in order, when ``n`` is None or not smaller)."""
    if n is None or n >= len(smiles):
        return list(smiles)
    return [smiles[i] for i in np.random.default_rng(seed).permutation(len(smiles))[:n]]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _shown(path: Path) -> str:
    """A path relative to the checkout when inside it (an absolute one means little elsewhere)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


@cache
def _annotate() -> Any:
    """``benchmarks/annotate.py``, which holds the house ``hardware()`` and ``revision()``."""
    spec = importlib.util.spec_from_file_location("annotate", Path(__file__).with_name(
        "annotate.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def revision() -> str:
    """The measured code as a git commit."""
    return _annotate().revision(ROOT)


def environment() -> dict[str, Any]:
    """The machine and the versions that shape the numbers."""
    from molvae.checkpoint import versions

    return {"hardware": {**_annotate().hardware(), "torch": torch.__version__,
                         "torch_threads": torch.get_num_threads()},
            "versions": versions(extra=("numpy", "fcd_torch", "scipy"))}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None: strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _earlier(out: Path) -> dict[str, Any]:
    try:
        return json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# --- the run ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every part asked for; the record written to ``--out``."""
    torch.set_num_threads(args.threads)
    workers = args.threads
    model = load_model(args.model, precision=args.precision, refine=not args.no_refine)
    filters = None if args.no_filters else FILTERS
    metrics: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    load_before = os.getloadavg()

    def timed(name: str, fn: Any, *a: Any, **kw: Any) -> Any:
        log.info("%s ...", name)
        start = time.perf_counter()
        result = fn(*a, **kw)
        seconds[name] = round(time.perf_counter() - start, 1)
        log.info("%s: %.0f s", name, seconds[name])
        return result

    valid: list[str] = []
    if args.samples:
        valid, tally, _ = timed("sampling", draw_samples, model, args.samples, seed=args.seed,
                                workers=workers, batch_size=args.batch_size,
                                max_ring=args.max_ring or None,
                                round_trip=not args.no_round_trip)
        metrics["samples"] = timed("sample_metrics", sample_metrics, model, valid, args.samples,
                                   tally.drawn)
        metrics["profile"] = {"samples": timed("profile_samples", chemistry_profile, valid,
                                               filters=filters, workers=workers)}
    if args.ref_size:
        for path in args.train_ref:
            ref = pick(read_smiles(path), args.ref_size, args.seed)
            metrics.setdefault("profile", {})[_shown(path)] = timed(
                f"profile_{path.name}", chemistry_profile, ref, filters=filters, workers=workers)
    if not args.no_fcd and importlib.util.find_spec("fcd_torch") is None:
        log.warning("skipping FCD: %s", FCD_INSTALL)
        metrics["fcd"] = {"skipped": FCD_INSTALL}
    elif not args.no_fcd and (valid or args.fcd_sanity or args.fcd_mix):
        refs = {"moses_test": pick(read_smiles(args.moses_test), args.fcd_ref, args.seed),
                "zinc250k_test": read_smiles(args.zinc_test)}
        sanity_key = {"train": _shown(args.moses_train), "train_n": args.fcd_sanity,
                      "ref": _shown(args.moses_test), "ref_n": len(refs["moses_test"]),
                      "seed": args.seed}
        sanity = (pick(read_smiles(args.moses_train), args.fcd_sanity, args.seed)
                  if args.fcd_sanity else None)
        earlier = _earlier(args.out).get("metrics", {}).get("fcd", {})
        share = args.fcd_mix // max(1, len(args.train_ref))  # equal parts, as the model's mix
        mix = ([smi for path in args.train_ref for smi in pick(read_smiles(path), share, args.seed)]
               if share else [])  # the training files are read only when the floor is asked for
        mix_key = {"train": [_shown(path) for path in args.train_ref], "each_n": share,
                   "refs": {name: len(smiles) for name, smiles in refs.items()},
                   "seed": args.seed}
        metrics["fcd"] = timed("fcd", fcd_part, valid, refs, sanity=sanity,
                               sanity_ref="moses_test", cached_sanity=earlier.get("sanity"),
                               sanity_key=sanity_key, workers=workers, mix=mix or None,
                               mix_key=mix_key, cached_mix=earlier.get("training_mix"))
    if args.paths:
        paths = timed("holes_paths", slerp_paths, model, read_smiles(args.zinc_test), args.paths,
                      points=args.path_points, seed=args.seed)
        ends = "posterior means" if args.no_refine else "refined where the mean is misread"
        metrics["holes"] = {**holes(paths), "ends": ends}
    if args.r2:
        metrics["property_heads"] = {
            name: timed(f"r2_{name}", head_r2, model, pick(read_smiles(path), args.r2, args.seed),
                        workers=workers)
            for name, path in (("zinc250k_test", args.zinc_test), ("moses_test", args.moses_test))}
    if args.speed:
        metrics["speed"] = timed("speed", sampling_speed, model, args.speed,
                                 repeats=args.speed_repeats, workers=workers,
                                 batch_size=args.batch_size, max_ring=args.max_ring or None,
                                 round_trip=not args.no_round_trip)

    info = model.meta.info
    known = model.meta.training_set
    return _finite({
        "benchmark": "model_quality",
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "revision": revision(),
        "finished": _now(),
        **environment(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "model": {"path": _shown(model.path), "sha256": file_sha256(model.path),
                  "training_data": info.get("data"), "data_hash": info.get("data_hash"),
                  "training_set_molecules": None if known is None else len(known),
                  "latent_dim": model.latent_dim},
        "parameters": {k: (_shown(v) if isinstance(v, Path) else
                           [_shown(p) for p in v] if isinstance(v, list) else v)
                       for k, v in vars(args).items()},
        "metrics": metrics,
        "seconds": seconds,
    })


# --- the table ----------------------------------------------------------------------------------


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _num(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def summary(record: dict[str, Any]) -> str:
    """The record as tables for people."""
    m = record["metrics"]
    rows: list[tuple[str, str]] = [("model", f"{record['model']['path']} "
                                             f"(sha256 {record['model']['sha256'][:12]})")]
    if s := m.get("samples"):
        decoded = (f", {s['latents_decoded']:,} latents decoded"
                   if s.get("latents_decoded") is not None else "")
        rows += [(f"validity ({s['drawn']:,} samples asked{decoded})", _pct(s["validity"])),
                 (f"unique@{s['unique_at']:,}", _pct(s["unique"])),
                 ("novelty (distinct valid, vs training set)", _pct(s["novelty"])),
                 ("IntDiv1 / IntDiv2", f"{_num(s['int_div1'], 4)} / {_num(s['int_div2'], 4)}")]
    if f := m.get("fcd"):
        if "skipped" in f:
            rows.append(("FCD", f"skipped: {f['skipped']}"))
        for key, value in f.items():
            if key.startswith("samples_to_"):
                ref = key.removeprefix("samples_to_")
                size = f["reference_sizes"][ref]
                rows.append((f"FCD samples -> {ref} ({size:,})", _num(value)))
        if mixed := f.get("training_mix"):
            for ref, value in mixed["fcd"].items():
                rows.append((f"FCD the training mix itself ({mixed['key']['each_n']:,} of each "
                             f"training file) -> {ref}{' (cached)' if mixed.get('cached') else ''}",
                             _num(value)))
        if sanity := f.get("sanity"):
            rows.append((f"FCD sanity: {sanity['key']['train_n']:,} MOSES train -> MOSES test"
                         f"{' (cached)' if sanity.get('cached') else ''}", _num(sanity["fcd"])))
    if h := m.get("holes"):
        rows += [(f"holes: {h['paths']} slerp paths, interior validity",
                  _pct(h["interior_validity"])),
                 ("  QED >= half the lower end's", _pct(h["qed_kept"])),
                 (f"  ring kept ({h['ringed_paths']} paths with rings at both ends)",
                  _pct(h["ring_kept"])),
                 ("  smooth: both (target >= 90%)", _pct(h["smooth"])),
                 ("  smooth, invalid points failing / whole paths smooth",
                  f"{_pct(h['smooth_strict'])} / {_pct(h['paths_smooth'])}")]
    for name, r in (m.get("property_heads") or {}).items():
        r2 = " / ".join(_num(r["r2"][p]) for p in PROPERTY_NAMES)
        rows.append((f"R^2 {'/'.join(PROPERTY_NAMES)} heads, {name} ({r['molecules']:,}, "
                     f"{r['unencodable']} unencodable)", r2))
    if sp := m.get("speed"):
        rows.append((f"sampling speed ({sp['n']:,} molecules, {sp['workers']} workers, median of "
                     f"{sp['repeats']})", f"{sp['valid_mol_per_s_median']:.0f} valid/s"))
    width = max(len(k) for k, _ in rows)
    text = "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    if profile := m.get("profile"):
        names = list(profile)
        lines = [("", *names), ("molecules", *(f"{p['molecules']:,}" for p in profile.values())),
                 ("mean QED", *(_num(p["qed_mean"]) for p in profile.values())),
                 ("ring > 7 atoms", *(_pct(p["ring_gt7"]) for p in profile.values())),
                 ("radical", *(_pct(p["radical"]) for p in profile.values()))]
        if all("moses_filters" in p for p in profile.values()):
            lines.append(("MOSES filters: pass",
                          *(_pct(p["moses_filters"]["pass"]) for p in profile.values())))
            lines += [(f"  failing {c}", *(_pct(p["moses_filters"]["failing"][c])
                                           for p in profile.values())) for c in CHECKS]
        widths = [max(len(str(row[i])) for row in lines) for i in range(len(lines[0]))]
        text += "\n\n" + "\n".join("  ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}"
                                             for i, (c, w) in enumerate(zip(row, widths,
                                                                            strict=True)))
                                   for row in lines)
    return text


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/model_quality.json"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads and worker processes (FCD: at most 2)")
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--max-ring", type=int, default=MAX_SAMPLED_RING,
                        help="samples with a larger ring are drawn again, as molvae sample does "
                             "(0: the decoder's own samples, every ring kept)")
    parser.add_argument("--samples", type=int, default=30_000,
                        help="latents drawn and decoded (0: no samples, profile or sample FCD)")
    parser.add_argument("--train-ref", type=Path, nargs="+", default=[ZINC_TRAIN, MOSES_TRAIN],
                        help="training files whose random --ref-size molecules are profiled")
    parser.add_argument("--ref-size", type=int, default=10_000, help="0: no reference profiles")
    parser.add_argument("--no-filters", action="store_true",
                        help="leave the MOSES filters out of the profiles (the slow part)")
    parser.add_argument("--no-fcd", action="store_true")
    parser.add_argument("--fcd-ref", type=int, default=None,
                        help="MOSES test molecules for the FCD reference (default: all)")
    parser.add_argument("--fcd-sanity", type=int, default=30_000,
                        help="MOSES train molecules for the sanity FCD (0: skip)")
    parser.add_argument("--fcd-mix", type=int, default=30_000,
                        help="molecules of the training mix (equal parts of each --train-ref) "
                             "whose own FCD to each reference is the floor (0: skip)")
    parser.add_argument("--no-round-trip", action="store_true",
                        help="keep samples the model does not read back (molvae sample "
                             "--no-round-trip)")
    parser.add_argument("--paths", type=int, default=100, help="slerp paths (0: skip holes)")
    parser.add_argument("--path-points", type=int, default=10, help="interior points per path")
    parser.add_argument("--no-refine", action="store_true",
                        help="paths between posterior means, not the latents interpolate uses")
    parser.add_argument("--r2", type=int, default=1000,
                        help="molecules of each test file for the heads' R^2 (0: skip)")
    parser.add_argument("--speed", type=int, default=20_000,
                        help="valid molecules per speed run (0: skip)")
    parser.add_argument("--speed-repeats", type=int, default=3)
    parser.add_argument("--zinc-test", type=Path, default=ZINC_TEST)
    parser.add_argument("--moses-test", type=Path, default=MOSES_TEST)
    parser.add_argument("--moses-train", type=Path, default=MOSES_TRAIN,
                        help="the sanity FCD's molecules")
    parser.add_argument("-v", "--verbose", action="store_true", help="molvae's own logging too")
    args = parser.parse_args(argv)
    for name in ("samples", "ref_size", "fcd_sanity", "fcd_mix", "paths", "r2", "speed"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be >= 0 (0 switches the part off)")
    if args.threads < 1 or args.path_points < 1 or args.speed_repeats < 1:
        parser.error("--threads, --path-points and --speed-repeats must be at least 1")
    if args.fcd_ref is not None and args.fcd_ref < 2:
        parser.error("--fcd-ref must be at least 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    record = run(args)
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(summary(record))
    print(f"\n-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Quality of a trained model on a test set: reconstruction, prior sampling, property heads.

Definitions (as in MOSES / JT-VAE):
- reconstruction: greedy decode of the posterior mean; canonical SMILES (stereo included) must
  match exactly the molecule encoded (after standardization, which is counted: a salt is
  encoded as its parent); molecules the model cannot encode count as failures and are reported
  separately; the share outside the model's domain (``molvae.prior.DOMAIN_THRESHOLD``) too;
- reconstruction after refinement: the same, from the latent the commands build on (the mean, or
  where the mean is misread a refined point, ``molvae.refine``); reported when refinement is on;
- samples: drawn as ``molvae sample`` draws them (``TrainedModel.iter_samples``): from the model's
  sampling distribution, a sample with a ring of more than ``max_ring`` atoms or that the model
  does not read back (``round_trip``) drawn again from its component; ``latents_drawn`` says
  what that cost. validity: the share of the ``n_samples`` asked for that came back as valid
  molecules (with ``round_trip=False, max_ring=None`` the MOSES definition: valid molecules among
  ``n_samples`` latents decoded once each); unique@k: distinct among the first k valid;
- novelty: valid unique samples not in the training set (``train_file``, or else the training
  set the model file carries, as the ``novel`` column of the commands reads it);
- IntDiv1: 1 - mean pairwise Tanimoto (Morgan radius 2, 2048 bits) over the valid samples;
- property heads: R^2 of the heads' predictions at the posterior mean against RDKit values.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from rdkit import DataStructs
from rdkit.Chem import rdFingerprintGenerator

from molvae.chem import PROPERTY_NAMES, to_mol
from molvae.data import compute_properties, prepare
from molvae.errors import MolVAEError
from molvae.prior import DOMAIN_THRESHOLD, MAX_SAMPLED_RING
from molvae.proposals import novelty as novel_flags
from molvae.sampler import SampleTally
from molvae.trained import TrainedModel

log = logging.getLogger(__name__)


@dataclass
class Metrics:
    """What ``molvae evaluate`` reports."""

    test_file: str
    n_reconstruct: int
    reconstruction: float
    reconstruction_refined: float | None
    unencodable: int
    standardized: int
    outside_domain: float
    n_samples: int
    round_trip: bool
    max_ring: int | None
    latents_drawn: int
    validity: float
    unique: float
    novelty: float | None
    novelty_reference: str | None
    int_div1: float
    r2: dict[str, float]
    samples_per_s: float
    seed: int

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        """A table for people."""
        rows = [
            ("test file", self.test_file),
            (f"reconstruction (greedy, {self.n_reconstruct} molecules)",
             f"{self.reconstruction:.2%}"),
            ("  with refined latents (molvae.refine)",
             "n/a (--no-refine)" if self.reconstruction_refined is None
             else f"{self.reconstruction_refined:.2%}"),
            ("  of which not encodable", str(self.unencodable)),
            ("  standardized before encoding", str(self.standardized)),
            ("  outside the model's domain", f"{self.outside_domain:.2%}"),
            (f"validity ({self.n_samples} samples, {self._sampler()})", f"{self.validity:.2%}"),
            ("  latents decoded per sample asked",
             f"{self.latents_drawn / max(1, self.n_samples):.2f}"),
            (f"unique@{self.n_samples}", f"{self.unique:.2%}"),
            (f"novelty vs {self.novelty_reference or 'training set'}",
             "n/a (no --train, and the model file holds no training set)"
             if self.novelty is None else f"{self.novelty:.2%}"),
            ("internal diversity (IntDiv1)", f"{self.int_div1:.4f}"),
            *((f"R^2 {name} head", f"{r2:.3f}") for name, r2 in self.r2.items()),
            ("sampling speed (valid molecules/s)", f"{self.samples_per_s:.0f}"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    def _sampler(self) -> str:
        rules = ([f"rings of at most {self.max_ring} atoms"] if self.max_ring else []) + \
            (["read back"] if self.round_trip else [])
        return " and ".join(rules) if rules else "the decoder's own"


def r_squared(y: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination over the finite pairs.

    >>> r_squared(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    1.0
    """
    keep = np.isfinite(y) & np.isfinite(pred)
    y, pred = y[keep], pred[keep]
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - pred) ** 2).sum()) / ss_tot if ss_tot > 0 else math.nan


def internal_diversity(smiles: list[str], *, max_molecules: int = 10_000) -> float:
    """IntDiv1: one minus the mean pairwise Tanimoto similarity (self-pairs included, as MOSES)."""
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fps = [gen.GetFingerprint(m) for m in map(to_mol, smiles[:max_molecules]) if m is not None]
    if not fps:
        return math.nan
    total = sum(sum(DataStructs.BulkTanimotoSimilarity(fp, fps)) for fp in fps)
    return 1.0 - total / (len(fps) ** 2)


def draw_samples(model: TrainedModel, n: int, *, seed: int, workers: int | None,
                 round_trip: bool, max_ring: int | None, batch_size: int = 2048,
                 ) -> tuple[list[str], SampleTally, float]:
    """Up to ``n`` valid samples as ``molvae sample`` draws them, what they cost, and the
    seconds they took. Without redraws exactly ``n`` latents are decoded; with them as many as
    ``iter_samples`` allows, and a model that reads back too few of its samples gives fewer than
    ``n`` (a lower validity) rather than an error."""
    tally = SampleTally()
    redraws = bool(max_ring) or round_trip
    log.info("drawing %d samples as molvae sample does (%s)", n,
             "read back: several latents decoded for each, about 100 a second on 2 cores"
             if round_trip else "without the round trip")
    valid: list[str] = []
    start = time.perf_counter()
    try:
        for batch in model.iter_samples(n, seed=seed, workers=workers, max_ring=max_ring,
                                        round_trip=round_trip, batch_size=batch_size,
                                        max_attempts=None if redraws else n, tally=tally):
            valid += [smi for _, smi in batch]  # only valid molecules come out
    except MolVAEError as err:  # the attempts are spent: report what came back
        log.warning("%s", err)
    return valid, tally, time.perf_counter() - start


def evaluate(
    model: TrainedModel,
    test_file: str | Path,
    *,
    train_file: str | Path | None = None,
    n_reconstruct: int = 1000,
    n_samples: int = 10_000,
    n_properties: int = 10_000,
    seed: int = 0,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    round_trip: bool = True,
    max_ring: int | None = MAX_SAMPLED_RING,
) -> Metrics:
    """Measure a model on a test file (novelty against ``train_file`` when given, else against
    the training set the model file carries, if any); its
    samples as ``molvae sample`` draws them (``round_trip``, ``max_ring``: as
    :meth:`TrainedModel.iter_samples` takes them)."""
    test = prepare(test_file, workers=workers, cache_dir=cache_dir, property_fraction=0.0)
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(test.smiles))

    recon_idx = pick[:n_reconstruct]
    targets = [test.smiles[i] for i in recon_idx]
    recon = model.encode(targets, properties=False)
    encoded = recon["state"] != "rejected"
    back = recon["reconstructs"].fillna(False).to_numpy(bool)
    from_mean = back & ~recon["refined"].fillna(False).to_numpy(bool)
    reconstruction = float(from_mean.sum()) / max(1, len(targets))
    refined = float(back.sum()) / max(1, len(targets)) if model.refine else None
    outside = float((recon.loc[encoded, "domain"] < DOMAIN_THRESHOLD).mean()) if encoded.any() \
        else math.nan

    valid, tally, seconds = draw_samples(model, n_samples, seed=seed, workers=workers,
                                         round_trip=round_trip, max_ring=max_ring)
    samples_per_s = len(valid) / max(1e-9, seconds)
    validity = len(valid) / max(1, n_samples)
    unique_set = set(valid)
    unique = len(unique_set) / max(1, len(valid))
    novelty, novelty_reference = None, None
    if train_file is not None:
        train = prepare(train_file, workers=workers, cache_dir=cache_dir, property_fraction=0.0)
        known = set(train.smiles)
        novelty = sum(s not in known for s in unique_set) / max(1, len(unique_set))
        novelty_reference = str(train_file)
    elif model.meta.training_set is not None and unique_set:
        novelty = float(novel_flags(sorted(unique_set), model).mean())
        novelty_reference = "the model file's training set"

    prop_smiles = [test.smiles[i] for i in pick[:n_properties]]
    enc_p = model.encode_latents(prop_smiles)
    pred = model.predict_properties(enc_p.z)
    truth = compute_properties(prop_smiles, workers=workers)[enc_p.ok]
    r2 = {name: r_squared(truth[:, j], pred[:, j]) for j, name in enumerate(PROPERTY_NAMES)}

    return Metrics(
        test_file=str(test_file), n_reconstruct=len(targets), reconstruction=reconstruction,
        reconstruction_refined=refined,
        unencodable=int((~encoded).sum()), standardized=int((recon["standardized"] != "").sum()),
        outside_domain=outside, n_samples=n_samples, round_trip=round_trip,
        max_ring=max_ring or None, latents_drawn=tally.drawn, validity=validity,
        unique=unique, novelty=novelty, novelty_reference=novelty_reference,
        int_div1=internal_diversity(valid), r2=r2,
        samples_per_s=samples_per_s, seed=seed,
    )

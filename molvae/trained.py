"""A trained model ready to use: the network, its vocabulary and provenance, with molecule verbs.

The verbs return the proposal table (``molvae.proposals``: smiles, selfies, state, reason, the
verb's own columns, then properties and novelty); the ``*_latents`` / ``*_smiles`` methods are
the array-level versions the table verbs are built on.

>>> from molvae import load_model
>>> model = load_model()                     # the shipped default model
>>> model.sample(5, seed=0)["state"].tolist()
['valid', 'valid', 'valid', 'valid', 'valid']
>>> enc = model.encode(["CCOc1ccc(C(=O)N2CCCC2)cc1", "not a molecule"])
>>> enc[["state", "reason"]].values.tolist()[1]
['rejected', "invalid SMILES 'not a molecule': RDKit cannot parse it"]
>>> model.decode(enc).loc[0, "smiles"]       # greedy: the molecule comes back
'CCOc1ccc(C(=O)N2CCCC2)cc1'
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from molvae.checkpoint import ModelFile
from molvae.checkpoint import load_model as load_model_file
from molvae.chem import without_rdkit_log
from molvae.decoding import Decoded, MoleculeDecoder, iter_pipelined
from molvae.errors import InvalidSmilesError, MolVAEError, VocabularyError
from molvae.latent import unwhiten, whiten
from molvae.model import VAE
from molvae.precision import autocast_dtype
from molvae.prior import DOMAIN_THRESHOLD, MAX_SAMPLED_RING
from molvae.proposals import proposal_table
from molvae.refine import RefineConfig, refine_latents
from molvae.sampler import SampleTally, iter_samples
from molvae.standardize import Standardized, standardize
from molvae.vocab import Vocabulary, canonical_and_selfies, smiles_to_selfies

log = logging.getLogger(__name__)


def default_model_path() -> Path:
    """The model shipped inside the package."""
    return Path(str(resources.files("molvae") / "models" / "default" / "model.safetensors"))


@dataclass(frozen=True)
class Tokenized:
    """Molecules as the encoder takes them: padded ids of the encodable ones, which they are,
    why the others are not, and for each input its canonical SMILES and SELFIES (None when not
    encodable) and what standardization changed ("" when nothing)."""

    tokens: np.ndarray
    ok: np.ndarray
    errors: dict[int, str]
    canon: list[str | None]
    selfies: list[str | None]
    notes: list[str]


@dataclass(frozen=True)
class EncodeResult:
    """Latents of the molecules that could be encoded, and why the others could not."""

    z: np.ndarray  # (n_ok, Z) float32
    ok: np.ndarray  # (N,) bool, which inputs have a row in ``z``
    errors: dict[int, str]  # input position -> reason


@dataclass(frozen=True)
class Encoding(EncodeResult):
    """Latents of molecules as the commands that build on them use them (:meth:`TrainedModel.
    encode_exact`), with what the model knows of each encoded molecule (arrays of n_ok rows):
    its posterior ``mean``, whether ``z`` decodes back to it (``reconstructs``), whether ``z``
    is a refined point rather than the mean (``refined``, :mod:`molvae.refine`) and its
    ``domain`` score (of the mean)."""

    mean: np.ndarray  # (n_ok, Z)
    reconstructs: np.ndarray  # (n_ok,) bool
    refined: np.ndarray  # (n_ok,) bool
    domain: np.ndarray  # (n_ok,) float32


class TrainedModel:
    """A loaded VAE with its vocabulary; every output molecule is RDKit-validated and canonical."""

    def __init__(self, network: VAE, meta: ModelFile, path: Path | None = None,
                 device: torch.device | str = "cpu", precision: str = "auto",
                 standardize: bool = True, refine: bool = True) -> None:
        self.network = network.eval()
        self.meta = meta
        self.path = path
        self.device = torch.device(device)
        self.precision = precision
        #: Standardize input molecules before encoding (``molvae.standardize``); off, a salt or a
        #: symbol outside the alphabet is an error, as the strict behaviour wants.
        self.standardize = standardize
        #: Refine the latent of a molecule the encoder's mean does not give back
        #: (:mod:`molvae.refine`) wherever a molecule is encoded to be built on; off, the mean.
        self.refine = refine
        self.refine_config = RefineConfig()
        self._first_allowed = torch.zeros(len(meta.vocab), dtype=torch.bool)
        self._first_allowed[meta.vocab.atom_ids()] = True

    def _generator(self, seed: int | None) -> torch.Generator:
        """A private generator: seeded when asked, else from OS entropy (never the global one)."""
        gen = torch.Generator(device=self.device)
        if seed is None:
            gen.seed()
        else:
            gen.manual_seed(seed)
        return gen

    @property
    def vocab(self) -> Vocabulary:
        return self.meta.vocab

    @property
    def latent_dim(self) -> int:
        return self.network.cfg.latent_dim

    def _autocast(self) -> torch.autocast:
        """bf16 where the hardware runs it natively (about 2x faster sampling on such CPUs); see
        :func:`molvae.precision.autocast_dtype`."""
        dtype = autocast_dtype(self.precision, self.device, purpose="inference")
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=dtype is not None)

    # --- whitened coordinates -------------------------------------------------------------------
    def whiten(self, z: np.ndarray) -> np.ndarray:
        """Whitened coordinates of latents (:func:`molvae.latent.whiten` with this model's
        sampling distribution): every dimension on the same scale."""
        mean, std = self.latent_stats()
        return whiten(z, mean, std)

    def unwhiten(self, w: np.ndarray) -> np.ndarray:
        """Latents (float32) of whitened points; the inverse of :meth:`whiten`."""
        mean, std = self.latent_stats()
        return unwhiten(w, mean, std)

    def latent_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension mean and standard deviation (Z,) of the model's sampling distribution."""
        net = self.network
        return net.latent_mean.detach().cpu().numpy(), net.latent_std.detach().cpu().numpy()

    # --- molecules -> latents ------------------------------------------------------------------
    def tokenize(self, smiles: Sequence[str], *,
                 canonical: bool = False) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        """Token ids of the encodable molecules, a mask of which they are, and the errors;
        ``canonical``: the SMILES are RDKit's canonical ones already."""
        t = self._tokenize(smiles, canonical=canonical)
        return t.tokens, t.ok, t.errors

    def missing_symbols(self, smiles: str) -> list[str]:
        """The SELFIES symbols of a SMILES that this model's alphabet lacks."""
        return self.vocab.missing_symbols(smiles_to_selfies(smiles))

    def standardized(self, smiles: str) -> Standardized:
        """What this model encodes for ``smiles`` (see :mod:`molvae.standardize`); the input
        unchanged when standardization is off."""
        if not self.standardize:
            return Standardized(smiles, smiles)
        return standardize(smiles, self.missing_symbols)

    def _tokenize(self, smiles: Sequence[str], *, canonical: bool = False) -> Tokenized:
        """:meth:`tokenize`, plus each molecule's canonical SMILES, SELFIES and standardization
        note (one RDKit and one SELFIES pass per molecule: they are the expensive part; the
        SELFIES pass alone for ``canonical`` SMILES that need no standardization)."""
        rows, ok, errors = [], np.zeros(len(smiles), dtype=bool), {}
        canon: list[str | None] = [None] * len(smiles)
        selfies: list[str | None] = [None] * len(smiles)
        notes = [""] * len(smiles)
        with without_rdkit_log():  # failures are reported per molecule, not printed
            for i, smi in enumerate(smiles):
                try:
                    if self.standardize and isinstance(smi, str) and "." not in smi:
                        try:  # the common case: nothing to standardize, one RDKit pass
                            can, sel = canonical_and_selfies(smi, canonical=canonical)
                            rows.append(self.vocab.encode_selfies(sel, smiles=smi))
                            ok[i], canon[i], selfies[i] = True, can, sel
                            continue
                        except VocabularyError:
                            pass
                    st = self.standardized(smi)
                    notes[i] = st.note
                    can, sel = canonical_and_selfies(st.smiles or smi)
                    rows.append(self.vocab.encode_selfies(sel, smiles=smi))
                    ok[i], canon[i], selfies[i] = True, can, sel
                except (InvalidSmilesError, VocabularyError) as exc:
                    errors[i] = str(exc) + (f" (after standardization: {notes[i]})"
                                            if notes[i] else "")
        return Tokenized(self.vocab.pad(rows), ok, errors, canon, selfies, notes)

    @torch.no_grad()
    def encode_latents(self, smiles: Sequence[str], *, stochastic: bool = False,
                       seed: int | None = None, batch_size: int = 4096,
                       canonical: bool = False) -> EncodeResult:
        """Latent points of molecules: the posterior mean, or a sample with ``stochastic``;
        ``canonical``: the SMILES are RDKit's canonical ones already (what a search operator
        writes), which saves a parse of each.

        Molecules the model cannot encode are reported in ``errors``, never silently dropped.
        """
        tokens, ok, errors = self.tokenize(list(smiles), canonical=canonical)
        return self._encode_tokens(tokens, ok, errors, stochastic=stochastic, seed=seed,
                                   batch_size=batch_size)

    @torch.no_grad()
    def _encode_tokens(self, tokens: np.ndarray, ok: np.ndarray, errors: dict[int, str], *,
                       stochastic: bool, seed: int | None, batch_size: int) -> EncodeResult:
        mu, logvar = self.network.posterior(torch.from_numpy(tokens), batch_size)
        if stochastic:  # drawn batch by batch, as the generator's stream has always been used
            gen = self._generator(seed)
            mu = torch.cat([self.network.reparameterize(m, v, gen) for m, v in
                            zip(mu.split(batch_size), logvar.split(batch_size), strict=True)]
                           or [mu])
        return EncodeResult(z=mu.cpu().numpy(), ok=ok, errors=errors)

    def encode_exact(self, smiles: Sequence[str]) -> Encoding:
        """Latents of molecules to build on (leads, seeds, what ``molvae encode`` writes): the
        posterior mean, or where its greedy decode is another molecule and :attr:`refine` is on,
        a nearby point that decodes to the molecule itself (:mod:`molvae.refine`); with whether
        each decodes back and its domain score."""
        return self._encode_exact(self._tokenize(list(smiles)))

    def _encode_exact(self, t: Tokenized, *, refine: bool | None = None) -> Encoding:
        canon = [c for c in t.canon if c is not None]
        mean, logvar = (x.cpu().numpy() for x in self.network.posterior(torch.from_numpy(t.tokens)))
        z, back = mean, self._gives_back(mean, canon)
        refined = np.zeros(len(mean), dtype=bool)
        if (self.refine if refine is None else refine) and not back.all():
            z = refine_latents(self.network, torch.from_numpy(t.tokens), torch.from_numpy(mean),
                               torch.from_numpy(logvar), self._greedy, self.refine_config,
                               todo=torch.from_numpy(~back))[0].numpy()
            refined = (z != mean).any(axis=1)
            rows = np.flatnonzero(refined)  # the canonical check, as for the means
            back[rows] = self._gives_back(z[rows], [canon[i] for i in rows])
            if (lost := refined & ~back).any():  # a refined point must give the molecule back
                z = np.where(lost[:, None], mean, z)
                refined &= ~lost
        return Encoding(z=z, ok=t.ok, errors=t.errors, mean=mean, reconstructs=back,
                        refined=refined, domain=self.knows_domain(mean))

    def _greedy(self, z: torch.Tensor) -> torch.Tensor:
        """Greedy token ids of latents, decoded as every command decodes them."""
        return torch.from_numpy(self.generate_tokens(z.detach())).to(z.device)

    def _gives_back(self, z: np.ndarray, canon: Sequence[str]) -> np.ndarray:
        """Whether the greedy decode of each latent is its molecule (canonical SMILES)."""
        if len(z) == 0:
            return np.zeros(0, dtype=bool)
        decoded = self.decode_latents(np.asarray(z, dtype=np.float32))
        return np.array([smi == c for (_, smi), c in zip(decoded, canon, strict=True)])

    def warn_unfamiliar(self, smiles: Sequence[str], z: np.ndarray, *,
                        what: str = "molecule") -> None:
        """Log a warning for each molecule (encoded as ``z``) that standardization changed or
        whose latent lies outside the model's domain: what is built on it (analogs, a walk, a
        search) starts from a molecule the model knows little about."""
        domain = self.knows_domain(z)
        for smi, score in zip(smiles, domain, strict=True):
            note = self.standardized(smi).note
            if note:
                log.warning("%s %s standardized before encoding: %s", what, smi, note)
            if score < DOMAIN_THRESHOLD:
                log.warning(
                    "%s %s is outside the model's domain (domain score %.4f < %g: its latent "
                    "is less typical than that of %.1f%% of the training molecules); proposals "
                    "built on it are extrapolations", what, smi, score, DOMAIN_THRESHOLD,
                    100 * (1 - score))

    def knows_domain(self, z: np.ndarray) -> np.ndarray:
        """Domain scores (N,) of latents: the share of training molecules whose mean latent is
        less probable under the sampling distribution; below
        :data:`molvae.prior.DOMAIN_THRESHOLD` a molecule is outside what the model knows."""
        with torch.no_grad():
            zt = torch.as_tensor(np.asarray(z, dtype=np.float32), device=self.device)
            return self.network.domain(zt).cpu().numpy()

    # --- latents -> molecules ------------------------------------------------------------------
    @torch.no_grad()
    def generate_tokens(self, z: np.ndarray | torch.Tensor, *, temperature: float = 0.0,
                        generator: torch.Generator | None = None) -> np.ndarray:
        """Token ids decoded from latents (greedy when ``temperature`` is 0).

        Raises:
            MolVAEError: a latent that is not finite (NaN, inf), or a temperature that is
                negative or not finite: neither means anything to the decoder.
        """
        check_finite(z, temperature)
        zt = torch.as_tensor(z, dtype=torch.float32, device=self.device)
        with self._autocast():
            tok = self.network.generate(zt, temperature=temperature, generator=generator,
                                        min_len=self.vocab.min_len,
                                        first_allowed=self._first_allowed)
        return tok.to(torch.uint8).cpu().numpy()

    def decode_latents(self, z: np.ndarray, *, temperature: float = 0.0,
                       seed: int | None = None, batch_size: int = 2048,
                       workers: int | None = 1) -> list[Decoded]:
        """``(selfies, canonical smiles or None)`` for each latent row."""
        gen = self._generator(seed)
        batches = (self.generate_tokens(z[i:i + batch_size], temperature=temperature,
                                        generator=gen) for i in range(0, len(z), batch_size))
        with MoleculeDecoder(self.vocab, workers=workers) as dec:
            return [m for batch in iter_pipelined(batches, dec) for m in batch]

    def iter_samples(self, n: int, *, temperature: float = 0.0, seed: int | None = None,
                     batch_size: int = 2048, workers: int | None = None,
                     max_attempts: int | None = None,
                     max_ring: int | None = MAX_SAMPLED_RING,
                     round_trip: bool = True,
                     tally: SampleTally | None = None) -> Iterator[list[Decoded]]:
        """Stream batches of prior samples until ``n`` valid molecules have been yielded: none
        with a ring of more than ``max_ring`` atoms (None or 0: any ring) and, with
        ``round_trip``, only molecules the model reads back, each rejected sample drawn again
        from its own component (:func:`molvae.sampler.iter_samples`, which says why); a
        ``tally`` given says what they cost.

        Raises:
            MolVAEError: more than ``max_attempts`` (default ``10 * n + 1000``) latents were
                decoded without reaching ``n`` valid molecules.
        """
        return iter_samples(self, n, temperature=temperature, seed=seed, batch_size=batch_size,
                            workers=workers, max_attempts=max_attempts, max_ring=max_ring,
                            round_trip=round_trip, tally=tally)

    @torch.no_grad()
    def _reads_back(self, read_back: Sequence[np.ndarray | None]) -> np.ndarray:
        """Whether the greedy decode of each molecule's posterior mean writes the molecule's
        own tokens again (False where the alphabet cannot write the molecule)."""
        back = np.zeros(len(read_back), dtype=bool)
        rows = [i for i, ids in enumerate(read_back) if ids is not None]
        if not rows:
            return back
        tokens = self.vocab.pad([read_back[i] for i in rows])  # (R, max_len)
        mean, _ = self.network.posterior(torch.from_numpy(tokens))  # as encode_exact reads it
        again = self.vocab.pad(list(self.generate_tokens(mean)))  # padded after the end token
        back[rows] = (tokens == again).all(axis=1)
        return back

    def sample_smiles(self, n: int, *, temperature: float = 0.0, seed: int | None = None,
                      workers: int | None = 1, max_ring: int | None = MAX_SAMPLED_RING,
                      round_trip: bool = True) -> list[str]:
        """``n`` valid canonical SMILES decoded from the sampling distribution
        (:meth:`iter_samples`)."""
        return [smi for batch in self.iter_samples(n, temperature=temperature, seed=seed,
                                                   workers=workers, max_ring=max_ring,
                                                   round_trip=round_trip)
                for _, smi in batch if smi is not None]

    def sample_latents(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` latents (n, Z) from the model's sampling distribution (see ``model.py``)."""
        return self.network.sample_latents(n, self._generator(seed)).cpu().numpy()

    # --- the table verbs ------------------------------------------------------------------------
    def encode(self, smiles: Sequence[str], *, stochastic: bool = False,
               seed: int | None = None, properties: bool = True) -> pd.DataFrame:
        """Latents of molecules as a table: one row per input (``input``, canonical ``smiles``
        of what was encoded, ``selfies``, ``state``, ``reason``), what standardization changed
        (``standardized``), whether the latent gives the molecule back (``reconstructs``),
        whether it is a refined point of the molecule's posterior rather than its mean
        (``refined``, see :meth:`encode_exact`), how typical the molecule is of the training
        chemistry (``domain``), the latent in columns ``z0``.. (empty for a molecule the model
        cannot encode, whose reason is given), then the properties. With ``stochastic`` the
        latents are draws from the posteriors, and ``reconstructs`` is that of the means."""
        smiles = list(smiles)
        t = self._tokenize(smiles)
        if stochastic:
            exact = self._encode_exact(t, refine=False)
            z_ok = self._encode_tokens(t.tokens, t.ok, t.errors, stochastic=True, seed=seed,
                                       batch_size=4096).z
        else:
            exact = self._encode_exact(t)
            z_ok = exact.z
        z = np.full((len(smiles), self.latent_dim), np.nan, dtype=np.float32)
        z[t.ok] = z_ok
        reconstructs = pd.array([pd.NA] * len(smiles), dtype="boolean")
        reconstructs[t.ok] = exact.reconstructs
        refined = pd.array([pd.NA] * len(smiles), dtype="boolean")
        refined[t.ok] = exact.refined
        known = np.full(len(smiles), np.nan, dtype=np.float32)
        known[t.ok] = exact.domain
        columns = {"input": smiles, "standardized": t.notes, "reconstructs": reconstructs,
                   "refined": refined, "domain": np.round(known, 4),
                   **{f"z{i}": z[:, i] for i in range(self.latent_dim)}}
        return proposal_table(t.canon, t.selfies, columns=columns, reasons=[
            t.errors.get(i) for i in range(len(smiles))], model=self, properties=properties,
            duplicates=False)

    def decode(self, z: np.ndarray | pd.DataFrame, *, temperature: float = 0.0,
               seed: int | None = None, properties: bool = True) -> pd.DataFrame:
        """Molecules decoded from latents (an (N, Z) array, or a table with ``z0``.. columns as
        :meth:`encode` writes), one row per latent in order; a row without a finite latent
        (NaN, inf) is ``rejected``; greedy unless ``temperature`` > 0."""
        z = latents_of(z, self.latent_dim)
        ok = np.isfinite(z).all(axis=1)
        decoded = self.decode_latents(z[ok], temperature=temperature, seed=seed)
        smiles: list[str | None] = [None] * len(z)
        selfies: list[str | None] = [None] * len(z)
        for i, (sel, smi) in zip(np.flatnonzero(ok), decoded, strict=True):
            smiles[i], selfies[i] = smi, sel
        reasons = [None if k else "no latent vector (missing or infinite values)" for k in ok]
        return proposal_table(smiles, selfies, reasons=reasons, columns={"row": range(len(z))},
                              model=self, properties=properties)

    def sample(self, n: int, *, unique: bool = False, temperature: float = 0.0,
               seed: int | None = None, properties: bool = True,
               max_ring: int | None = MAX_SAMPLED_RING, round_trip: bool = True) -> pd.DataFrame:
        """``n`` valid molecules from the sampling distribution (repeats marked ``duplicate``;
        ``unique`` draws until ``n`` distinct ones exist; rings of more than ``max_ring`` atoms
        drawn again, None or 0 keeping every ring; with ``round_trip``, only molecules the model
        reads back: :meth:`iter_samples`)."""
        from molvae.explore import sample

        return sample(self, n, unique=unique, temperature=temperature, seed=seed,
                      properties=properties, workers=1, max_ring=max_ring, round_trip=round_trip)

    def analogs(self, smiles: str, n: int = 20, **kwargs) -> pd.DataFrame:
        """Distinct analogs of a lead, most similar first; see :func:`molvae.explore.analogs`."""
        from molvae.explore import analogs

        return analogs(self, smiles, n, **kwargs)

    def interpolate(self, a: str, b: str, steps: int = 10, **kwargs) -> pd.DataFrame:
        """The distinct molecules between two; see :func:`molvae.explore.interpolate`."""
        from molvae.explore import interpolate

        return interpolate(self, a, b, steps, **kwargs)

    def analogy(self, a: str, b: str, c: str, **kwargs) -> pd.DataFrame:
        """Decode z(a) - z(b) + z(c) and its neighbours; see :func:`molvae.explore.analogy`."""
        from molvae.explore import analogy

        return analogy(self, a, b, c, **kwargs)

    def walk(self, smiles: str, prop: str, **kwargs) -> pd.DataFrame:
        """Move a molecule along a property direction; see :func:`molvae.explore.walk`."""
        from molvae.explore import walk

        return walk(self, smiles, prop, **kwargs)

    def predict_properties(self, z: np.ndarray) -> np.ndarray:
        """The property heads' QED, logP and SA predictions for latents (N, Z) -> (N, 3)."""
        with torch.no_grad():
            zt = torch.as_tensor(z, dtype=torch.float32, device=self.device)
            return self.network.predict_properties(zt).cpu().numpy()


def check_finite(z: np.ndarray | torch.Tensor, temperature: float = 0.0) -> None:
    """Refuse latents and temperatures the decoder cannot give a meaning to.

    Raises:
        MolVAEError: naming the first non-finite latent row, or the temperature.
    """
    if not (math.isfinite(temperature) and temperature >= 0):
        raise MolVAEError(f"temperature must be a finite number >= 0, got {temperature}")
    values = z.detach().cpu().numpy() if isinstance(z, torch.Tensor) else np.asarray(z)
    bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1) if values.size else []
    if np.any(bad):
        raise MolVAEError(f"latent row {int(np.flatnonzero(bad)[0])} is not finite (NaN or "
                          "inf): a latent vector takes finite numbers only")


def latents_of(z: np.ndarray | pd.DataFrame, dim: int) -> np.ndarray:
    """(N, dim) float32 latents from an array or from a table's ``z0``.. columns.

    Raises:
        MolVAEError: the shape or the columns do not match the model's latent size.
    """
    if isinstance(z, pd.DataFrame):
        names = [f"z{i}" for i in range(dim)]
        missing = [c for c in names if c not in z.columns]
        if missing:
            raise MolVAEError(f"latent table lacks columns {', '.join(missing[:3])}"
                              f"{'...' if len(missing) > 3 else ''}; this model needs "
                              f"z0..z{dim - 1}")
        z = z[names].to_numpy(dtype=np.float32, na_value=np.nan)
    z = np.asarray(z, dtype=np.float32)
    if z.ndim != 2 or z.shape[1] != dim:
        raise MolVAEError(f"latents must have shape (N, {dim}) for this model, got {z.shape}")
    return z


def load_model(path: str | Path | None = None, *, device: str = "cpu",
               precision: str = "auto", standardize: bool = True,
               refine: bool = True) -> TrainedModel:
    """Load a model file (default: the one shipped with molvae); never executes code from it.
    ``standardize=False`` encodes molecules exactly as given (see :mod:`molvae.standardize`);
    ``refine=False`` encodes every molecule as its posterior mean (see :mod:`molvae.refine`).

    Raises:
        CheckpointError: the file is missing, corrupt or not a molvae model.
    """
    path = Path(path) if path is not None else default_model_path()
    network, meta = load_model_file(path, device=device)
    log.info("loaded model %s (latent %d, %d symbols)", path, network.cfg.latent_dim,
             len(meta.vocab))
    return TrainedModel(network, meta, path=path, device=device, precision=precision,
                        standardize=standardize, refine=refine)

"""A trained model ready to use: the network, its vocabulary and provenance, with molecule verbs.

>>> from molvae import load_model
>>> model = load_model()                     # the shipped default model
>>> smiles = model.sample(5, seed=0)
>>> len(smiles)
5
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from molvae.checkpoint import ModelFile
from molvae.checkpoint import load_model as load_model_file
from molvae.decoding import Decoded, MoleculeDecoder, iter_pipelined
from molvae.errors import InvalidSmilesError, MolVAEError, VocabularyError
from molvae.model import VAE
from molvae.vocab import Vocabulary

log = logging.getLogger(__name__)


def default_model_path() -> Path:
    """The model shipped inside the package."""
    return Path(str(resources.files("molvae") / "models" / "default" / "model.safetensors"))


@dataclass(frozen=True)
class EncodeResult:
    """Latents of the molecules that could be encoded, and why the others could not."""

    z: np.ndarray  # (n_ok, Z) float32
    ok: np.ndarray  # (N,) bool, which inputs have a row in ``z``
    errors: dict[int, str]  # input position -> reason


class TrainedModel:
    """A loaded VAE with its vocabulary; every output molecule is RDKit-validated and canonical."""

    def __init__(self, network: VAE, meta: ModelFile, path: Path | None = None,
                 device: torch.device | str = "cpu", precision: str = "auto") -> None:
        self.network = network.eval()
        self.meta = meta
        self.path = path
        self.device = torch.device(device)
        self.precision = precision
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
        """bf16 where the hardware runs it natively (about 2x faster sampling on such CPUs)."""
        if self.precision == "fp32":
            enabled = False
        elif self.precision == "bf16":
            enabled = True
        elif self.device.type == "cuda":
            enabled = torch.cuda.is_bf16_supported()
        else:
            enabled = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=enabled)

    # --- molecules -> latents ------------------------------------------------------------------
    def tokenize(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        """Token ids of the encodable molecules, a mask of which they are, and the errors."""
        rows, ok, errors = [], np.zeros(len(smiles), dtype=bool), {}
        for i, smi in enumerate(smiles):
            try:
                rows.append(self.vocab.encode_smiles(smi))
                ok[i] = True
            except (InvalidSmilesError, VocabularyError) as exc:
                errors[i] = str(exc)
        return self.vocab.pad(rows), ok, errors

    @torch.no_grad()
    def encode(self, smiles: Sequence[str], *, stochastic: bool = False,
               seed: int | None = None, batch_size: int = 4096) -> EncodeResult:
        """Latent points of molecules: the posterior mean, or a sample with ``stochastic``.

        Molecules the model cannot encode are reported in ``errors``, never silently dropped.
        """
        tokens, ok, errors = self.tokenize(list(smiles))
        gen = self._generator(seed)
        out = []
        for i in range(0, len(tokens), batch_size):
            x = torch.from_numpy(tokens[i:i + batch_size]).to(self.device)
            mu, logvar = self.network.encode(x)
            out.append(self.network.reparameterize(mu, logvar, gen) if stochastic else mu)
        z = torch.cat(out).float().cpu().numpy() if out else np.zeros((0, self.latent_dim),
                                                                       np.float32)
        return EncodeResult(z=z, ok=ok, errors=errors)

    # --- latents -> molecules ------------------------------------------------------------------
    @torch.no_grad()
    def generate_tokens(self, z: np.ndarray | torch.Tensor, *, temperature: float = 0.0,
                        generator: torch.Generator | None = None) -> np.ndarray:
        """Token ids decoded from latents (greedy when ``temperature`` is 0)."""
        zt = torch.as_tensor(z, dtype=torch.float32, device=self.device)
        with self._autocast():
            tok = self.network.generate(zt, temperature=temperature, generator=generator,
                                        min_len=self.vocab.min_len,
                                        first_allowed=self._first_allowed)
        return tok.to(torch.uint8).cpu().numpy()

    def decode(self, z: np.ndarray, *, temperature: float = 0.0, seed: int | None = None,
               batch_size: int = 2048, workers: int | None = 1) -> list[Decoded]:
        """``(selfies, canonical smiles or None)`` for each latent row."""
        gen = self._generator(seed)
        batches = (self.generate_tokens(z[i:i + batch_size], temperature=temperature,
                                        generator=gen) for i in range(0, len(z), batch_size))
        with MoleculeDecoder(self.vocab, workers=workers) as dec:
            return [m for batch in iter_pipelined(batches, dec) for m in batch]

    def iter_samples(self, n: int, *, temperature: float = 0.0, seed: int | None = None,
                     batch_size: int = 2048, workers: int | None = None,
                     max_attempts: int | None = None) -> Iterator[list[Decoded]]:
        """Stream batches of prior samples until ``n`` valid molecules have been yielded.

        Only valid molecules are yielded; memory stays flat however large ``n`` is.

        Raises:
            MolVAEError: more than ``max_attempts`` (default ``10 * n + 1000``) latents were
                decoded without reaching ``n`` valid molecules.
        """
        if n <= 0:
            raise MolVAEError(f"number of molecules must be positive, got {n}")
        max_attempts = max_attempts or 10 * n + 1000
        gen = self._generator(seed)
        drawn = 0

        def batches() -> Iterator[np.ndarray]:
            nonlocal drawn
            while drawn < max_attempts:
                size = min(batch_size, max_attempts - drawn)
                drawn += size
                z = self.network.sample_latents(size, generator=gen)
                yield self.generate_tokens(z, temperature=temperature, generator=gen)

        remaining = n
        with MoleculeDecoder(self.vocab, workers=workers) as dec:
            for batch in iter_pipelined(batches(), dec):
                valid = [m for m in batch if m[1] is not None][:remaining]
                remaining -= len(valid)
                if valid:
                    yield valid
                if remaining == 0:
                    return
        raise MolVAEError(f"only {n - remaining} valid molecules after decoding {drawn} latents "
                          f"(limit {max_attempts})")

    def sample(self, n: int, *, temperature: float = 0.0, seed: int | None = None,
               workers: int | None = 1) -> list[str]:
        """``n`` valid canonical SMILES decoded from latents drawn from the prior N(0, I)."""
        return [smi for batch in self.iter_samples(n, temperature=temperature, seed=seed,
                                                   workers=workers)
                for _, smi in batch if smi is not None]

    def sample_latents(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` latents (n, Z) from the model's sampling distribution (see ``model.py``)."""
        return self.network.sample_latents(n, self._generator(seed)).cpu().numpy()

    def predict_properties(self, z: np.ndarray) -> np.ndarray:
        """The property heads' QED, logP and SA predictions for latents (N, Z) -> (N, 3)."""
        with torch.no_grad():
            zt = torch.as_tensor(z, dtype=torch.float32, device=self.device)
            return self.network.predict_properties(zt).cpu().numpy()


def load_model(path: str | Path | None = None, *, device: str = "cpu",
               precision: str = "auto") -> TrainedModel:
    """Load a model file (default: the one shipped with molvae); never executes code from it.

    Raises:
        CheckpointError: the file is missing, corrupt or not a molvae model.
    """
    path = Path(path) if path is not None else default_model_path()
    network, meta = load_model_file(path, device=device)
    log.info("loaded model %s (latent %d, %d symbols)", path, network.cfg.latent_dim,
             len(meta.vocab))
    return TrainedModel(network, meta, path=path, device=device, precision=precision)

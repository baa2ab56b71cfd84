"""The sampler behind ``molvae sample``: ``n`` valid molecules from a model's sampling
distribution, each rejected sample (a ring of more than ``max_ring`` atoms, or one the model does
not read back) drawn again from its own component, in the place of the one it replaces.

Why a module of its own: the draws are bookkept as lineages (a fresh latent starts one, a redraw
keeps it, samples come out in lineage order), which is what keeps n samples to the stream's
first n latents, their components spread (unique@10k), and a :class:`SampleTally` says what the
samples cost. :meth:`molvae.trained.TrainedModel.iter_samples` is the public way in.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from molvae.decoding import Decoded, MoleculeDecoder, iter_batches
from molvae.errors import MolVAEError
from molvae.prior import MAX_SAMPLED_RING, REDRAWS

if TYPE_CHECKING:
    from molvae.trained import TrainedModel

__all__ = ["SampleTally", "iter_samples"]

log = logging.getLogger(__name__)


@dataclass
class SampleTally:
    """What :meth:`TrainedModel.iter_samples` has cost so far: latents decoded (``drawn``),
    samples yielded (``kept``), draws made again from their component (``redrawn``), samples
    left out after every redraw (``left_out``), and rejected draws by reason. Mutable: the
    sampler keeps its counts in it, so a caller that stops early still reads the truth."""

    drawn: int = 0
    kept: int = 0
    redrawn: int = 0
    left_out: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: {"ring": 0, "round trip": 0})

    @property
    def latents_per_sample(self) -> float:
        """Latents decoded per sample kept: the price of the redraws (1 without them)."""
        return self.drawn / self.kept if self.kept else math.nan


def iter_samples(model: TrainedModel, n: int, *, temperature: float = 0.0,
                 seed: int | None = None, batch_size: int = 2048, workers: int | None = None,
                 max_attempts: int | None = None, max_ring: int | None = MAX_SAMPLED_RING,
                 round_trip: bool = True,
                 tally: SampleTally | None = None) -> Iterator[list[Decoded]]:
    """Stream batches of prior samples until ``n`` valid molecules have been yielded.

    Only valid molecules are yielded, none with a ring of more than ``max_ring`` atoms
    (None or 0: any ring, as ``molvae sample --max-ring 0`` and a campaign's ``max_ring = 0``
    say) and, with ``round_trip``, only molecules the model reads back: the greedy decode of
    the sample's own posterior mean writes the sample again, token for token (the
    ``reconstructs`` of every command that encodes). The decoder writes a ring closure at
    the wrong place in about a fifth of its samples (the model card, "Large rings"), and two
    in three of its samples lie where it does not read its own output back, which is where
    the samples unlike the training chemistry come from (the model card, "Sampling
    distribution"). A rejected sample is drawn again from the same training posterior, up to
    :data:`~molvae.prior.REDRAWS` times, then left out (counted and logged); the decoding
    workers find the rings and write the encoder's input, on the molecule they parse anyway.
    Memory stays flat however large ``n`` is. A ``tally`` given holds the sampler's counts as
    it goes: what the samples cost, for a caller that reports it.

    Raises:
        MolVAEError: more than ``max_attempts`` (default ``10 * n + 1000``) latents were
            decoded without reaching ``n`` valid molecules.
    """
    if n <= 0:
        raise MolVAEError(f"number of molecules must be positive, got {n}")
    max_attempts = max_attempts or 10 * n + 1000
    max_ring = max_ring or None
    redraws = max_ring is not None or round_trip  # else an empty sample is simply dropped
    gen = model._generator(seed)
    step = min(batch_size, max_attempts)
    fresh = _Draws(model.network.iter_draws(step, gen))
    # Each fresh latent starts a lineage (its index in the stream); a sample drawn again
    # keeps its lineage, and samples come out in lineage order, so n samples are the first
    # n (+ those left out) lineages, whose components the stream spreads (VAE.iter_draws),
    # with each rejected sample replaced where it stood by its redraw.
    retries: deque[tuple[int, int, int]] = deque()  # (lineage, component, draws so far)
    in_flight: deque[tuple[list[int], list[int], list[int]]] = deque()  # per batch
    ended: dict[int, Decoded | None] = {}  # lineage -> its sample, None if it has none
    counts = tally if tally is not None else SampleTally()  # what a caller reads too
    if counts.drawn:
        raise ValueError("a SampleTally counts one call of iter_samples: pass a fresh one")
    lineages = next_id = dropped = 0

    def batches() -> Iterator[np.ndarray]:
        nonlocal lineages
        while counts.drawn < max_attempts:
            size = min(step, max_attempts - counts.drawn)
            again = [retries.popleft() for _ in range(min(len(retries), size))]
            new = size - len(again)
            # no lineage beyond those the n samples can need (one that ends without a
            # sample makes room for another): n = 20 decodes about 20 latents, not a batch
            new = min(new, max(n + dropped - lineages, 0 if again else 1))
            z, comp = fresh.take(new)
            ids = [i for i, _, _ in again] + list(range(lineages, lineages + new))
            lineages += new
            if again:  # the samples to draw again go first, from their own component
                old = torch.tensor([c for _, c, _ in again], dtype=comp.dtype)
                z = torch.cat([model.network.prior.draw(old, gen), z])
                comp = torch.cat([old, comp])
            counts.drawn += len(z)
            tries = [t for _, _, t in again] + [1] * new
            in_flight.append((ids, comp.tolist(), tries))
            yield model.generate_tokens(z, temperature=temperature, generator=gen)

    with MoleculeDecoder(model.vocab, workers=workers, max_ring=max_ring,
                         read_back=round_trip) as dec:
        for decoded in iter_batches(batches(), dec):
            batch = decoded.get()
            valid = np.array([smi is not None for _, smi in batch], dtype=bool)
            keep = model._reads_back(decoded.read_back()) if round_trip else valid
            counts.rejected["ring"] += int((~valid).sum()) if max_ring is not None else 0
            counts.rejected["round trip"] += int((valid & ~keep).sum())
            ids, comps, draws = in_flight.popleft()
            for m, ok, i, comp, tries in zip(batch, keep, ids, comps, draws, strict=True):
                if not ok and redraws and tries <= REDRAWS:
                    retries.append((i, comp, tries + 1))
                    counts.redrawn += 1
                    continue
                counts.left_out += not ok and redraws
                dropped += not ok
                ended[i] = m if ok else None
            out: list[Decoded] = []
            while next_id in ended and counts.kept + len(out) < n:
                m = ended.pop(next_id)
                next_id += 1
                if m is not None:
                    out.append(m)
            counts.kept += len(out)
            if out:
                yield out
            if counts.kept == n:
                if counts.redrawn:
                    log.info("drew %d samples again from their component (rejected: %s); "
                             "%d left out after %d draws", counts.redrawn,
                             _rejections(counts.rejected, max_ring), counts.left_out,
                             1 + REDRAWS)
                return
    counts.left_out += len(retries)
    lost = (f"; {counts.left_out} left out after {1 + REDRAWS} draws, rejected: "
            f"{_rejections(counts.rejected, max_ring)}" if counts.left_out else "")
    hint = ("; the model reads back few of its samples: --no-round-trip (round_trip=False) "
            "keeps them" if counts.rejected["round trip"] > counts.drawn / 2 else "")
    raise MolVAEError(f"only {counts.kept} valid molecules after decoding {counts.drawn} "
                      f"latents (limit {max_attempts}{lost}){hint}")


def _rejections(rejected: dict[str, int], max_ring: int | None) -> str:
    """``rejected``'s counts in words, for the log and the error."""
    names = {"ring": f"a ring of more than {max_ring} atoms or no molecule",
             "round trip": "not read back"}
    return ", ".join(f"{k} {names[r]}" for r, k in rejected.items() if k)


class _Draws:
    """Latents and their components from an endless stream of batches, taken in any sizes (the
    stream is read in order, so taking whole batches gives the stream itself)."""

    def __init__(self, stream: Iterator[tuple[torch.Tensor, torch.Tensor]]) -> None:
        self.stream = stream
        self.z: torch.Tensor | None = None
        self.comp: torch.Tensor | None = None

    def take(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        while self.z is None or len(self.z) < k:
            z, comp = next(self.stream)
            self.z = z if self.z is None else torch.cat([self.z, z])
            self.comp = comp if self.comp is None else torch.cat([self.comp, comp])
        z, comp = self.z[:k], self.comp[:k]
        self.z, self.comp = self.z[k:], self.comp[k:]
        return z, comp

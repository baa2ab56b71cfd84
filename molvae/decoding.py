"""Token ids -> SELFIES -> RDKit-validated canonical SMILES, on all cores.

SELFIES decoding plus RDKit canonicalization costs about as much as the network itself, so it
runs in worker processes while the main process decodes the next batch of latents.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future

import numpy as np
import selfies as sf
from rdkit import Chem

from molvae.chem import closed_shell_mol, largest_ring, without_rdkit_log
from molvae.vocab import Vocabulary, selfies_constraints
from molvae.workers import WorkerPool, worker_count

#: ``(selfies, canonical_smiles)``; the SMILES is ``None`` when the molecule is empty (or, where
#: the decoding was asked for a ``max_ring``, has a larger ring).
Decoded = tuple[str, str | None]


def tokens_to_molecules(tokens: np.ndarray, vocab: Vocabulary,
                        max_ring: int | None = None) -> list[Decoded]:
    """Decode rows of token ids (N, T) with the current SELFIES constraints; with ``max_ring``,
    a molecule with a ring of more than that many atoms comes back without its SMILES, as an
    empty one does (checked on the molecule already parsed: a sampler that draws such samples
    again would otherwise parse every sample twice)."""
    out: list[Decoded] = []
    with without_rdkit_log():
        for row in tokens:
            selfies = vocab.decode_ids(row)
            try:
                mol = closed_shell_mol(sf.decoder(selfies)) if selfies else None
            except sf.DecoderError:
                mol = None
            if mol is not None and max_ring is not None and largest_ring(mol) > max_ring:
                mol = None
            out.append((selfies, None if mol is None else Chem.MolToSmiles(mol)))
    return out


_WORKER_VOCAB: Vocabulary | None = None
_WORKER_MAX_RING: int | None = None


def _init_worker(vocab: Vocabulary, max_ring: int | None) -> None:
    global _WORKER_VOCAB, _WORKER_MAX_RING  # per worker process, set once by the initializer
    _WORKER_VOCAB, _WORKER_MAX_RING = vocab, max_ring
    sf.set_semantic_constraints(vocab.constraints)


def _decode_chunk(tokens: np.ndarray) -> list[Decoded]:
    return tokens_to_molecules(tokens, _WORKER_VOCAB, _WORKER_MAX_RING)


class MoleculeDecoder:
    """Decodes token batches to molecules, in worker processes when ``workers`` > 1.

    Use as a context manager; :meth:`submit` returns at once so the caller can overlap the
    network's work with decoding, :meth:`decode` blocks. The workers live as long as the block;
    one that dies makes the pending results raise :class:`~molvae.errors.MolVAEError`. With
    ``max_ring``, molecules with a ring of more than that many atoms come back without their
    SMILES (:func:`tokens_to_molecules`).

    >>> from molvae.vocab import Vocabulary
    >>> vocab = Vocabulary.build(["[C]", "[O]"], max_len=4)
    >>> with MoleculeDecoder(vocab, workers=1) as dec:
    ...     dec.decode(np.array([[3, 4, 2, 0]]))
    [('[C][O]', 'CO')]
    """

    def __init__(self, vocab: Vocabulary, workers: int | None = None,
                 max_ring: int | None = None) -> None:
        self.vocab, self.max_ring = vocab, max_ring
        self.workers = worker_count(workers)
        self._pool: WorkerPool | None = None

    def __enter__(self) -> MoleculeDecoder:
        if self.workers > 1:
            self._pool = WorkerPool(self.workers, initializer=_init_worker,
                                    initargs=(self.vocab, self.max_ring))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def submit(self, tokens: np.ndarray) -> _Pending:
        """Start decoding ``tokens`` (N, T); returns a handle whose ``get()`` gives the result."""
        if self._pool is None:
            with selfies_constraints(self.vocab.constraints):
                return _Pending(done=tokens_to_molecules(tokens, self.vocab, self.max_ring))
        chunks = np.array_split(tokens, min(len(tokens), self.workers * 2) or 1)
        pool = self._pool
        return _Pending(parts=[pool.submit(_decode_chunk, c) for c in chunks], pool=pool)

    def decode(self, tokens: np.ndarray) -> list[Decoded]:
        """Decode ``tokens`` (N, T) and wait for the result."""
        return self.submit(tokens).get()


class _Pending:
    """A batch being decoded: the result itself, or its chunks' futures in a pool."""

    def __init__(self, done: list[Decoded] | None = None,
                 parts: list[Future[list[Decoded]]] | None = None,
                 pool: WorkerPool | None = None) -> None:
        self._done, self._parts, self._pool = done, parts, pool

    def get(self) -> list[Decoded]:
        """The decoded batch, in order (waits for it).

        Raises:
            MolVAEError: a worker process died.
        """
        if self._done is None:
            pool = self._pool
            self._done = [m for part in self._parts or [] for m in pool.result(part)]
        return self._done


def iter_pipelined(
    batches: Iterator[np.ndarray], decoder: MoleculeDecoder
) -> Iterator[list[Decoded]]:
    """Decode a stream of token batches, keeping one batch in flight while the next is made."""
    pending: _Pending | None = None
    for tokens in batches:
        nxt = decoder.submit(tokens)
        if pending is not None:
            yield pending.get()
        pending = nxt
    if pending is not None:
        yield pending.get()

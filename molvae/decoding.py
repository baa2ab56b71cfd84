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
from molvae.errors import InvalidSmilesError, VocabularyError
from molvae.vocab import Vocabulary, canonical_and_selfies, selfies_constraints
from molvae.workers import WorkerPool, worker_count

#: ``(selfies, canonical_smiles)``; the SMILES is ``None`` when the molecule is empty (or, where
#: the decoding was asked for a ``max_ring``, has a larger ring).
Decoded = tuple[str, str | None]
#: The token ids (unpadded, end token included) of a decoded molecule as the model would encode
#: it (its canonical SMILES' SELFIES), or ``None`` when there is no molecule or the alphabet
#: cannot write it: what a round trip through the encoder reads.
ReadBack = np.ndarray | None


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


def read_back_tokens(molecules: list[Decoded], vocab: Vocabulary) -> list[ReadBack]:
    """The encoder's input for each decoded molecule (see :data:`ReadBack`): the canonical
    SMILES written as SELFIES again, in the current SELFIES constraints. Done beside the
    decoding, in the same worker: the SELFIES encoder costs about as much as the decoding."""
    out: list[ReadBack] = []
    for _, smiles in molecules:
        try:
            selfies = canonical_and_selfies(smiles, canonical=True)[1] if smiles else None
            out.append(None if selfies is None else vocab.encode_selfies(selfies))
        except (InvalidSmilesError, VocabularyError):
            out.append(None)
    return out


_WORKER_VOCAB: Vocabulary | None = None
_WORKER_MAX_RING: int | None = None
_WORKER_READ_BACK = False


def _init_worker(vocab: Vocabulary, max_ring: int | None, read_back: bool = False) -> None:
    global _WORKER_VOCAB, _WORKER_MAX_RING, _WORKER_READ_BACK  # per worker, set once
    _WORKER_VOCAB, _WORKER_MAX_RING, _WORKER_READ_BACK = vocab, max_ring, read_back
    sf.set_semantic_constraints(vocab.constraints)


def _decode_chunk(tokens: np.ndarray) -> tuple[list[Decoded], list[ReadBack] | None]:
    molecules = tokens_to_molecules(tokens, _WORKER_VOCAB, _WORKER_MAX_RING)
    return molecules, (read_back_tokens(molecules, _WORKER_VOCAB) if _WORKER_READ_BACK
                       else None)


class MoleculeDecoder:
    """Decodes token batches to molecules, in worker processes when ``workers`` > 1.

    Use as a context manager; :meth:`submit` returns at once so the caller can overlap the
    network's work with decoding, :meth:`decode` blocks. The workers live as long as the block;
    one that dies makes the pending results raise :class:`~molvae.errors.MolVAEError`. With
    ``max_ring``, molecules with a ring of more than that many atoms come back without their
    SMILES (:func:`tokens_to_molecules`); with ``read_back``, each batch also carries the
    encoder's input for each molecule (:meth:`DecodedBatch.read_back`, for a round trip).

    >>> from molvae.vocab import Vocabulary
    >>> vocab = Vocabulary.build(["[C]", "[O]"], max_len=4)
    >>> with MoleculeDecoder(vocab, workers=1) as dec:
    ...     dec.decode(np.array([[3, 4, 2, 0]]))
    [('[C][O]', 'CO')]
    """

    def __init__(self, vocab: Vocabulary, workers: int | None = None,
                 max_ring: int | None = None, read_back: bool = False) -> None:
        self.vocab, self.max_ring, self.read_back = vocab, max_ring, read_back
        self.workers = worker_count(workers)
        self._pool: WorkerPool | None = None

    def __enter__(self) -> MoleculeDecoder:
        if self.workers > 1:
            self._pool = WorkerPool(self.workers, initializer=_init_worker,
                                    initargs=(self.vocab, self.max_ring, self.read_back))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def submit(self, tokens: np.ndarray) -> DecodedBatch:
        """Start decoding ``tokens`` (N, T); returns a handle whose ``get()`` gives the result."""
        if self._pool is None:
            with selfies_constraints(self.vocab.constraints):
                done = tokens_to_molecules(tokens, self.vocab, self.max_ring)
                back = read_back_tokens(done, self.vocab) if self.read_back else None
            return DecodedBatch(done=(done, back))
        chunks = np.array_split(tokens, min(len(tokens), self.workers * 2) or 1)
        pool = self._pool
        return DecodedBatch(parts=[pool.submit(_decode_chunk, c) for c in chunks], pool=pool)

    def decode(self, tokens: np.ndarray) -> list[Decoded]:
        """Decode ``tokens`` (N, T) and wait for the result."""
        return self.submit(tokens).get()


_Chunk = tuple[list[Decoded], list[ReadBack] | None]


class DecodedBatch:
    """A batch being decoded: the result itself, or its chunks' futures in a pool."""

    def __init__(self, done: _Chunk | None = None, parts: list[Future[_Chunk]] | None = None,
                 pool: WorkerPool | None = None) -> None:
        self._done, self._parts, self._pool = done, parts, pool

    def _result(self) -> _Chunk:
        if self._done is None:
            chunks = [self._pool.result(part) for part in self._parts or []]
            back = [chunk[1] for chunk in chunks]
            self._done = ([m for mols, _ in chunks for m in mols],
                          None if None in back else [b for part in back for b in part])
        return self._done

    def get(self) -> list[Decoded]:
        """The decoded batch, in order (waits for it).

        Raises:
            MolVAEError: a worker process died.
        """
        return self._result()[0]

    def read_back(self) -> list[ReadBack]:
        """The encoder's input for each molecule of :meth:`get` (a decoder made with
        ``read_back``; waits for it)."""
        back = self._result()[1]
        if back is None:
            raise ValueError("this batch was decoded without read_back")
        return back


def iter_batches(batches: Iterator[np.ndarray],
                 decoder: MoleculeDecoder) -> Iterator[DecodedBatch]:
    """Decode a stream of token batches, keeping one batch in flight while the next is made:
    each batch is handed on once the next one has been submitted."""
    pending: DecodedBatch | None = None
    for tokens in batches:
        nxt = decoder.submit(tokens)
        if pending is not None:
            yield pending
        pending = nxt
    if pending is not None:
        yield pending


def iter_pipelined(
    batches: Iterator[np.ndarray], decoder: MoleculeDecoder
) -> Iterator[list[Decoded]]:
    """:func:`iter_batches`' decoded molecules."""
    for batch in iter_batches(batches, decoder):
        yield batch.get()

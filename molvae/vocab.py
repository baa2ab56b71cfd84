"""The SELFIES alphabet of a model and the mapping between molecules and integer tensors.

A ``Vocabulary`` is plain data (a tuple of symbols, a maximum length and the SELFIES semantic
constraints it was built under); it travels inside every saved model.

selfies and RDKit are imported where a molecule is read or written, not at import: the network
and the training loop (``molvae.model``, ``molvae.train`` on a prepared ``.npz``) import this
module and run where neither is installed (a GPU machine with torch alone).

>>> vocab = Vocabulary.build(["[C]", "[O]", "[=C]"], max_len=8)
>>> ids = vocab.encode_selfies("[C][O]")
>>> vocab.decode_ids(ids)
'[C][O]'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from molvae.errors import InvalidSmilesError, VocabularyError

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, BOS, EOS)
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2


def default_constraints() -> dict[str, int]:
    """The bond constraints of selfies' default preset, captured as plain data."""
    import selfies as sf

    return dict(sf.get_preset_constraints("default"))


@contextmanager
def selfies_constraints(constraints: dict[str, int]) -> Iterator[None]:
    """Decode under a model's constraints and restore the caller's afterwards (selfies keeps them
    as module state)."""
    import selfies as sf

    previous = sf.get_semantic_constraints()
    if previous == constraints:
        yield
        return
    sf.set_semantic_constraints(constraints)
    try:
        yield
    finally:
        sf.set_semantic_constraints(previous)


def smiles_to_selfies(smiles: str) -> str:
    """Canonicalize with RDKit, then encode as SELFIES.

    Raises:
        InvalidSmilesError: RDKit cannot parse ``smiles`` or SELFIES cannot encode it.
    """
    return canonical_and_selfies(smiles)[1]


def canonical_and_selfies(smiles: str, *, canonical: bool = False) -> tuple[str, str]:
    """The RDKit canonical SMILES and its SELFIES (see :func:`smiles_to_selfies`);
    ``canonical``: ``smiles`` is RDKit's canonical SMILES already (a molecule an operator
    wrote with ``MolToSmiles``), so the RDKit pass is skipped."""
    import selfies as sf

    from molvae.chem import canonical_smiles, why_unreadable

    canon = smiles if canonical else canonical_smiles(smiles)
    if canon is None:
        raise InvalidSmilesError(f"invalid SMILES {_shown(smiles)}: {why_unreadable(smiles)}")
    try:
        return canon, sf.encoder(canon, strict=True)
    except sf.EncoderError as exc:
        raise InvalidSmilesError(f"SMILES {smiles!r} cannot be encoded as SELFIES: {exc}") from exc


def _shown(smiles: str) -> str:
    """A SMILES for a message: cut short when it is very long."""
    return repr(smiles) if len(smiles) <= 80 else f"{smiles[:60]!r}... ({len(smiles):,} characters)"


def selfies_to_smiles(selfies: str) -> str | None:
    """Decode SELFIES and canonicalize with RDKit, radicals filled with hydrogens
    (:func:`molvae.chem.closed_shell_smiles`); ``None`` for an empty molecule."""
    import selfies as sf

    from molvae.chem import closed_shell_smiles

    try:
        return closed_shell_smiles(sf.decoder(selfies))
    except sf.DecoderError:
        return None


@dataclass(frozen=True)
class Vocabulary:
    """SELFIES symbols <-> integer ids, with padding, start and end tokens at ids 0, 1, 2.

    Attributes:
        symbols: every token, special tokens first; position is the id.
        max_len: most tokens a molecule may have, its end token included.
        constraints: the selfies semantic constraints the molecules were encoded under.
        min_len: fewest tokens (end token included) generation may produce: the shortest
            training molecule. Latents far from the data otherwise decode to tiny fragments.
    """

    symbols: tuple[str, ...]
    max_len: int
    constraints: dict[str, int] = field(default_factory=default_constraints, compare=False)
    min_len: int = 1

    @classmethod
    def build(cls, symbols: Iterable[str], max_len: int, min_len: int = 1) -> Vocabulary:
        """A vocabulary over ``symbols`` (sorted, so the same data always gives the same ids)."""
        alphabet = sorted(set(symbols) - set(SPECIAL_TOKENS))
        return cls(symbols=SPECIAL_TOKENS + tuple(alphabet), max_len=max_len, min_len=min_len)

    def atom_ids(self) -> list[int]:
        """Ids of the symbols that place an atom. A SELFIES string starting with one is never an
        empty molecule; ring and branch symbols only modify atoms placed before them.

        >>> Vocabulary.build(["[C]", "[Ring1]", "[=Branch1]"], max_len=4).atom_ids()
        [4]
        """
        return [i for i, s in enumerate(self.symbols)
                if i >= len(SPECIAL_TOKENS) and "Ring" not in s and "Branch" not in s]

    def __post_init__(self) -> None:
        if tuple(self.symbols[:3]) != SPECIAL_TOKENS:
            raise VocabularyError(f"vocabulary must start with {SPECIAL_TOKENS}")
        object.__setattr__(self, "_index", {s: i for i, s in enumerate(self.symbols)})

    def __len__(self) -> int:
        return len(self.symbols)

    def encode_selfies(self, selfies: str, *, smiles: str | None = None) -> np.ndarray:
        """Token ids of a SELFIES string followed by the end token (unpadded, uint8).

        Raises:
            VocabularyError: a symbol outside the alphabet, or more than ``max_len - 1`` symbols;
                the message names the molecule and the symbol.
        """
        import selfies as sf

        name = smiles if smiles is not None else selfies
        ids = []
        try:
            symbols = list(sf.split_selfies(selfies))
        except ValueError as exc:  # e.g. a hanging '[': selfies raises a bare ValueError
            raise VocabularyError(
                f"molecule {name!r} is not a valid SELFIES string: {exc}"
            ) from exc
        if "".join(symbols) != selfies:  # split_selfies skips text outside brackets
            raise VocabularyError(f"molecule {name!r} is not a valid SELFIES string: {selfies!r}")
        for symbol in symbols:
            idx = self._index.get(symbol)  # type: ignore[attr-defined]
            if idx is None or idx < len(SPECIAL_TOKENS):
                raise VocabularyError(
                    f"molecule {name!r} has SELFIES symbol {symbol} that is not in the model's "
                    f"alphabet ({len(self) - len(SPECIAL_TOKENS)} symbols)"
                )
            ids.append(idx)
        if len(ids) + 1 > self.max_len:
            raise VocabularyError(
                f"molecule {name!r} has {len(ids)} SELFIES symbols; the model allows at most "
                f"{self.max_len - 1}"
            )
        ids.append(EOS_ID)
        return np.asarray(ids, dtype=np.uint8 if len(self) < 256 else np.int32)

    def missing_symbols(self, selfies: str) -> list[str]:
        """The distinct symbols of a SELFIES string outside the alphabet, in order of appearance.

        >>> Vocabulary.build(["[C]"], max_len=4).missing_symbols("[C][O][C][O]")
        ['[O]']
        """
        import selfies as sf

        out: list[str] = []
        for symbol in sf.split_selfies(selfies):
            idx = self._index.get(symbol)  # type: ignore[attr-defined]
            if (idx is None or idx < len(SPECIAL_TOKENS)) and symbol not in out:
                out.append(symbol)
        return out

    def encode_smiles(self, smiles: str) -> np.ndarray:
        """Token ids of a SMILES string (canonicalized first).

        Raises:
            InvalidSmilesError: RDKit cannot parse it.
            VocabularyError: the model cannot represent it.
        """
        return self.encode_selfies(smiles_to_selfies(smiles), smiles=smiles)

    def decode_ids(self, ids: Sequence[int] | np.ndarray) -> str:
        """SELFIES string of a token sequence, stopping at the first end or padding token."""
        out = []
        for i in ids:
            i = int(i)
            if i in (EOS_ID, PAD_ID):
                break
            if i >= len(SPECIAL_TOKENS):
                out.append(self.symbols[i])
        return "".join(out)

    def pad(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Right-pad id sequences into one ``(N, max_len)`` array."""
        dtype = np.uint8 if len(self) < 256 else np.int32
        out = np.zeros((len(sequences), self.max_len), dtype=dtype)
        for row, seq in enumerate(sequences):
            out[row, : len(seq)] = seq
        return out

    def to_dict(self) -> dict:
        """Plain data for a checkpoint."""
        return {
            "symbols": list(self.symbols),
            "max_len": self.max_len,
            "constraints": dict(self.constraints),
            "min_len": self.min_len,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Vocabulary:
        """Inverse of :meth:`to_dict`."""
        return cls(
            symbols=tuple(data["symbols"]),
            max_len=int(data["max_len"]),
            constraints={str(k): int(v) for k, v in data["constraints"].items()},
            min_len=int(data.get("min_len", 1)),
        )

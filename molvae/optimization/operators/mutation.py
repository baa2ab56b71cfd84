"""Edits in SELFIES space, learned from in latent space: mutate the SELFIES of elites (every
SELFIES string is a molecule; STONED, Nigam et al. 2021, searches with such edits alone), and
encode each offspring, so the study holds its latent point and every sampler learns from it
whichever operator proposed it.

An edit replaces, inserts or deletes one symbol. New symbols are drawn mostly from those of the
elites themselves (the chemistry the run is finding), sometimes from the model's whole alphabet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import selfies as sf

from molvae.optimization.operators._base import Elites
from molvae.optimization.operators.encoding import Screen, encoded_proposals, new_children
from molvae.optimization.space import SearchSpace
from molvae.optimization.trials import Outcome, Proposal
from molvae.vocab import SPECIAL_TOKENS, selfies_constraints, selfies_to_smiles

__all__ = ["SelfiesMutation", "mutate"]

#: Shares of replacements, insertions and deletions among edits.
EDIT_SHARES = (0.5, 0.25, 0.25)
#: Share of new symbols drawn from the whole alphabet rather than from the elites' symbols.
ALPHABET_SHARE = 0.2
#: Attempts per proposal asked before giving up (an edit may give the parent or a repeat).
ATTEMPTS = 5


def mutate(symbols: Sequence[str], rng: np.random.Generator, choices: Sequence[str],
           weights: np.ndarray) -> list[str]:
    """One random edit of a SELFIES symbol list: replace, insert or delete a symbol; new
    symbols are drawn from ``choices`` with probabilities ``weights``.

    >>> rng = np.random.default_rng(0)
    >>> len(mutate(["[C]", "[O]"], rng, ["[N]"], np.ones(1))) in (1, 2, 3)
    True
    """
    out = list(symbols)
    edit = rng.choice(3, p=EDIT_SHARES) if len(out) > 1 else 1
    symbol = choices[rng.choice(len(choices), p=weights)]
    if edit == 0:
        out[rng.integers(len(out))] = symbol
    elif edit == 1:
        out.insert(int(rng.integers(len(out) + 1)), symbol)
    else:
        del out[rng.integers(len(out))]
    return out


@dataclass
class SelfiesMutation:
    """SELFIES edits of elites picked by rank, encoded by ``model`` into ``space``."""

    model: Any  # a TrainedModel
    space: SearchSpace
    name: str = "mutate"
    #: What a child must pass to be proposed (default :func:`~.encoding.plausible`).
    screen: Screen | None = None
    _selfies: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def propose(self, elites: Elites, n: int, rng: np.random.Generator) -> list[Proposal]:
        vocab = self.model.vocab
        alphabet = [s for s in vocab.symbols if s not in SPECIAL_TOKENS]
        with selfies_constraints(vocab.constraints):
            parents = [self._symbols(s) for s in elites.smiles]
            known_symbols = set(alphabet)
            pooled = Counter(s for p in parents for s in p if s in known_symbols)
            choices = alphabet
            weights = np.array([pooled[s] for s in alphabet], dtype=float)
            weights = ((1 - ALPHABET_SHARE) * weights / max(weights.sum(), 1.0)
                       + ALPHABET_SHARE / len(alphabet))
            weights /= weights.sum()

            def child() -> str | None:
                parent = parents[int(elites.pick(rng, 1)[0])]
                return selfies_to_smiles("".join(mutate(parent, rng, choices, weights)))

            children = new_children(elites, n, ATTEMPTS, child, self.screen)
        return encoded_proposals(self.model, self.space, children, self.name)

    def update(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome],
               improved: Sequence[bool]) -> None:
        """Stateless: the elites it edits are the study's."""

    def _symbols(self, smiles: str) -> list[str]:
        if smiles not in self._selfies:
            try:
                self._selfies[smiles] = list(sf.split_selfies(sf.encoder(smiles)))
            except sf.EncoderError:
                self._selfies[smiles] = []
        return self._selfies[smiles]

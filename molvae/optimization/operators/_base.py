"""The contract of a search operator: a mechanism that proposes points or molecules from the
best molecules found so far (the elites), beside the sampler.

The run's :class:`~molvae.optimization.portfolio.Portfolio` calls, once a batch:

1. :meth:`Operator.propose` with the current :class:`Elites` (read from the study, so every
   worker and every resumed session sees the same pool) and how many proposals it may make.
   It returns at most that many :class:`~molvae.optimization.trials.Proposal`\\ s: points ``w``
   for the run to decode, or molecules (``smiles`` set, ``w`` their encoded point) that need no
   decoding. An operator with nothing to offer returns fewer, or none.
2. :meth:`Operator.update`, after the batch was scored and told, with the operator's own
   proposals, their outcomes and which of them improved the elite pool: what an adaptive operator
   learns from (a trust region grows on success, shrinks on failure).

Every proposal's ``source`` is the operator's :attr:`Operator.name`: the ``source`` column of
``results.csv`` and the per-source costs of ``timing.json``. An operator keeps its state in
memory; a resumed run starts it afresh around the study's elites.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from molvae.optimization.trials import Outcome, Proposal

__all__ = ["Elites", "Operator"]


@dataclass(frozen=True)
class Elites:
    """The best molecules scored so far (the run's elite pool, :mod:`molvae.optimization.pool`),
    best first: canonical SMILES, scores (N,) and whitened points (N, Z) where their trials
    decoded them (or they were encoded); ``seen`` holds every molecule the study has scored (and
    the stereoisomers of each, once the objective is seen to be stereo-blind), so an operator
    that makes molecules makes new ones (a repeat costs no oracle call, but it is a proposal
    lost)."""

    smiles: tuple[str, ...]
    scores: np.ndarray
    w: np.ndarray
    seen: Container[str] = field(default=frozenset(), repr=False, compare=False)

    def is_new(self, smiles: str) -> bool:
        """Whether ``smiles`` is neither an elite nor any molecule scored so far."""
        return smiles not in self.seen and smiles not in self.smiles

    def __len__(self) -> int:
        return len(self.smiles)

    def pick(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` elite indices drawn with rank weights (the best most often, every elite
        sometimes): weight 1 / (rank + 1), as rank-based selection in GAs."""
        weights = 1.0 / (np.arange(len(self)) + 1.0)
        return rng.choice(len(self), size=n, p=weights / weights.sum())


class Operator(Protocol):
    """A search operator (see the module docstring for when each method is called)."""

    #: The ``source`` of its proposals.
    name: str

    def propose(self, elites: Elites, n: int, rng: np.random.Generator) -> list[Proposal]:
        """At most ``n`` proposals built from ``elites`` (never empty when called)."""
        ...

    def update(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome],
               improved: Sequence[bool]) -> None:
        """What became of this operator's proposals of the last batch."""
        ...

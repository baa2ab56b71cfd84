"""The elite pool the search operators work from: the study's best molecules, kept varied.

A pool of the plain top 32 collapses onto one family once a family leads: in PMO runs the top
of the study became ten stereoisomers of one molecule (median1), or thirty fluoro- and
aza-variants of one biaryl sulfonamide (celecoxib rediscovery), and every mutation, edit and
splice after that was a relative of the same few molecules, while the best score did not move
for thousands of calls. A genetic algorithm keeps variety by drawing parents from a population
of thousands; the pool keeps it by two rules, neither of them a per-task setting:

- **At most** :data:`PER_FRAMEWORK` **molecules per ring framework** (the generic Murcko
  framework, :func:`molvae.chem.ring_framework`): the leading family still gets about half of
  the operators' picks (they favour the best ranks), and the next families the rest. Acyclic
  molecules have no framework and no limit.
- **One molecule per constitution once the objective is seen to be stereo-blind**: the run
  compares the scores of the stereoisomers it scores; after :data:`STEREO_EVIDENCE` pairs
  scored alike and none apart, stereoisomers are one molecule to the pool, and an operator's
  child that is a stereoisomer of a scored molecule is not new (it would cost an oracle call to
  learn a score the run already has). One pair scored apart (an objective that reads stereo, a
  docking score, a noisy oracle) turns this off for the rest of the run.

The pool is rebuilt by every worker from the study's records, so a resumed run or another
worker sees the same pool.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping

from molvae.chem import has_stereo_marks, ring_framework, without_rdkit_log, without_stereo
from molvae.optimization.records import Record

__all__ = ["PER_FRAMEWORK", "STEREO_EVIDENCE", "ElitePool", "Seen"]

#: Most molecules of one ring framework in the pool.
PER_FRAMEWORK = 4
#: Stereoisomer pairs scored alike (and none apart) before stereoisomers are one molecule.
STEREO_EVIDENCE = 10
#: Scores this close (relative to their size, at least 1) are alike.
ALIKE = 1e-9


def rank_key(rec: Record) -> tuple[float, int, str] | None:
    """Where ``rec`` sorts among the scored molecules (best first, ties by trial); None when
    it has no finite score (failed, or a multi-objective row)."""
    score = rec.row.get("score", math.nan)
    if not isinstance(score, float | int) or not math.isfinite(score):
        return None
    return -float(score), rec.trial, rec.smiles


class ElitePool:
    """The ranking of a study's scored molecules and what the pool's rules read from it.
    :meth:`add` each record as it arrives; :meth:`top` reads the pool."""

    def __init__(self) -> None:
        # (-score, trial, SMILES), best first: the pool and the top 10 read its head
        self.ranking: list[tuple[float, int, str]] = []
        self.constitution: dict[str, str] = {}  # SMILES -> its stereo-free form (if it differs)
        self.scores: dict[str, float] = {}  # stereo-free form -> the first such score
        self.alike = 0
        self.apart = 0
        self._frameworks: dict[str, str | None] = {}

    @property
    def stereo_blind(self) -> bool:
        """Whether the run has seen stereoisomers scored alike, enough of them and never apart."""
        return self.apart == 0 and self.alike >= STEREO_EVIDENCE

    def add(self, rec: Record, replaces: Record | None = None) -> None:
        """A newly read record (``replaces``: the record of the same SMILES it supersedes)."""
        if replaces is not None and (old := rank_key(replaces)) is not None:
            del self.ranking[bisect.bisect_left(self.ranking, old)]
        key = rank_key(rec)
        if key is None:
            return
        bisect.insort(self.ranking, key)
        if replaces is not None:
            return
        flat = self.stereo_free(rec.smiles)
        if flat is None:
            return
        score = -key[0]
        if flat in self.scores:  # a stereoisomer of a molecule scored before
            first = self.scores[flat]
            same = abs(score - first) <= ALIKE * max(1.0, abs(first))
            self.alike += same
            self.apart += not same
        else:
            self.scores[flat] = score

    def stereo_free(self, smiles: str) -> str | None:
        """``smiles`` without its stereo marks (itself when it has none)."""
        if not has_stereo_marks(smiles):
            return smiles
        if smiles not in self.constitution:
            with without_rdkit_log():
                flat = without_stereo(smiles)
            if flat is None:
                return None
            self.constitution[smiles] = flat
        return self.constitution[smiles]

    def framework(self, smiles: str) -> str | None:
        if smiles not in self._frameworks:
            with without_rdkit_log():
                self._frameworks[smiles] = ring_framework(smiles)
        return self._frameworks[smiles]

    def is_repeat(self, smiles: str) -> bool:
        """Whether ``smiles`` is a stereoisomer of a scored molecule, and stereo-blind."""
        if not self.stereo_blind or not has_stereo_marks(smiles):
            return False
        flat = self.stereo_free(smiles)
        return flat is not None and flat in self.scores

    def top(self, k: int, records: Mapping[str, Record]) -> list[Record]:
        """The pool: the ``k`` best records of ``records`` that have a point, under the rules
        of the module docstring."""
        picked: list[Record] = []
        constitutions: set[str] = set()
        frameworks: dict[str, int] = {}
        blind = self.stereo_blind
        for _, _, smiles in self.ranking:
            if len(picked) == k:
                break
            rec = records[smiles]
            if rec.w is None:
                continue
            if blind:
                flat = self.stereo_free(smiles)
                if flat in constitutions:
                    continue
                constitutions.add(flat or smiles)
            framework = self.framework(smiles)
            if framework:
                if frameworks.get(framework, 0) >= PER_FRAMEWORK:
                    continue
                frameworks[framework] = frameworks.get(framework, 0) + 1
            picked.append(rec)
        return picked

    def best(self, n: int) -> list[float]:
        """The ``n`` best scores, best first."""
        return [-key[0] for key in self.ranking[:n]]


class Seen:
    """What the study has scored, as the operators ask it (:attr:`Elites.seen`): a molecule
    scored, or a stereoisomer of one when the objective is stereo-blind."""

    def __init__(self, records: Mapping[str, Record], pool: ElitePool) -> None:
        self.records, self.pool = records, pool

    def __contains__(self, smiles: object) -> bool:
        return isinstance(smiles, str) and (smiles in self.records
                                            or self.pool.is_repeat(smiles))

"""The run loop: ask a batch of latent points, decode them, score the new molecules, tell.

**The budget** counts unique molecules scored (oracle calls), as in the PMO benchmark (Gao et al.
2022): a latent point that decodes to a molecule already scored reuses the stored score, costs
nothing, and is still told to the sampler. A molecule whose scoring fails (``state`` failed) is
an oracle call too: its trial is told as failed (``TrialState.FAIL``) with the reason in the
trial's ``failure`` user attribute; a filtered molecule is told 0.

**Several workers** on one study: each worker reads the storage just before scoring and skips
molecules another worker has stored, and reserves the new molecules it is about to score
(:mod:`molvae.optimization.budget`): the study ends with exactly the budget, however many
workers share it and however often they are killed and restarted. Two workers that score the
same new molecule within the same few moments (between one's read and the other's write) both
call the oracle for it: the results keep one row per SMILES (the lower trial number). Near the
end of the budget each worker takes its share of what remains (the remainder over the workers
that told molecules in the last :data:`ACTIVE_SECONDS`), so they finish together.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
import pandas as pd

from molvae.chem import largest_ring
from molvae.optimization import budget as ledgers
from molvae.optimization.components import Batch
from molvae.optimization.objective import Objective
from molvae.optimization.operators import Elites
from molvae.optimization.outputs import results_table, write_outputs
from molvae.optimization.pool import ElitePool, Seen
from molvae.optimization.records import FINISHED, Record, plain, record_of
from molvae.optimization.space import SearchSpace
from molvae.optimization.trials import Outcome, Proposal, Proposer, SeedQueue
from molvae.properties import annotate, round_floats

if TYPE_CHECKING:
    from molvae.optimization.campaign import Campaign

__all__ = ["MAX_TRIALS_PER_MOLECULE", "REFRESH_SECONDS", "Run", "Timer"]

log = logging.getLogger(__name__)

#: Trials one call may ask for, per molecule of budget, before it gives up on a sampler that only
#: proposes molecules already scored.
MAX_TRIALS_PER_MOLECULE = 20
#: Seconds between refreshes of the output files during a run, at the least.
REFRESH_SECONDS = 10.0
#: A refresh waits at least this many times as long as the last one took, so that writing the
#: files of a large study (results, top list, plot: a second or more at 10,000 molecules) costs
#: at most a twentieth of the run.
REFRESH_FACTOR = 20.0
#: Seconds a worker waits before it reads the study again while the rest of the budget is
#: reserved by other workers.
WAIT_SECONDS = 0.5
#: A worker that told molecules within this many seconds is counted as active when the rest of
#: the budget is shared.
ACTIVE_SECONDS = 120.0


@dataclass
class Timer:
    """Seconds spent per named stage."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


class Run:
    """One worker's session on a study: the loop, the cache of scored molecules, the outputs.

    Args:
        campaign, objective: what to score, and the output settings.
        model: the ``TrainedModel`` that decodes the points.
        study: the study (records of every worker's trials).
        space: the search space the points live in.
        proposer: where the points come from (:mod:`molvae.optimization.trials`).
        seeds: the campaign seeds still to evaluate (None: no seeds).
        worker: this worker's name, in each record.
        out: the run directory (None: no files).
        journal: the journal file to sync once a batch (None: nothing to sync).
    """

    def __init__(
        self,
        campaign: Campaign,
        objective: Objective,
        model: Any,
        study: optuna.Study,
        space: SearchSpace,
        proposer: Proposer,
        seeds: SeedQueue | None,
        worker: str,
        out: Path | None,
        journal: Any = None,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self.campaign, self.objective, self.model = campaign, objective, model
        self.study, self.space, self.proposer, self.seeds = study, space, proposer, seeds
        self.worker, self.out, self.journal = worker, out, journal
        self.refresh_seconds = refresh_seconds
        self.columns = list(objective.columns)
        self.records: dict[str, Record] = {}
        self.pool = ElitePool()  # the ranking of the records, and the operators' elites
        self.latest: dict[str, float] = {}  # worker -> when it last told a scored molecule
        self.seen_trials: set[int] = set()
        self.properties: dict[str, dict[str, Any]] = {}  # SMILES -> its property-table row
        self.novel: dict[str, Any] = {}  # SMILES -> whether the training set lacks it
        self.timer = Timer()
        self.by_source: dict[str, dict[str, float]] = {}
        self.trials_asked = 0
        self.calls_here = 0
        self.last_write = -math.inf  # write as soon as anything is scored
        self.write_seconds = 0.0  # how long the last refresh took
        self.budget = campaign.budget
        self.session = uuid.uuid4().hex[:16]  # this process's session on the study
        self.seq = 0  # its reservations, numbered
        self.book = ledgers.Ledger(self.budget)

    # -- the cache --

    def sync(self) -> None:
        """Add the molecules told to the storage since the last sync (any worker's)."""
        with self.timer("storage_read"):
            trials = self.study.get_trials(deepcopy=False, states=FINISHED)
        new = [t for t in trials if t.number not in self.seen_trials]
        self.book.budget = self.budget
        self.book.add(new)
        for trial in new:
            self.seen_trials.add(trial.number)
            rec = record_of(trial)
            if rec is None:
                continue
            known = self.records.get(rec.smiles)
            if known is None or rec.trial < known.trial:
                self.records[rec.smiles] = rec
                self.latest[rec.worker] = max(rec.time, self.latest.get(rec.worker, -math.inf))
                self.pool.add(rec, known)
        if self.seeds is not None:
            self.seeds.note(new)

    @property
    def calls(self) -> int:
        """Molecules scored in the study (the budget spent)."""
        return len(self.records)

    def share(self, remaining: int) -> int:
        """This worker's share of the remaining budget: all of it alone, else an equal part
        among the workers that told molecules lately (this one included)."""
        recent = time.time() - ACTIVE_SECONDS
        workers = {w for w, t in self.latest.items() if t >= recent} | {self.worker}
        return max(1, math.ceil(remaining / len(workers)))

    def elites(self, k: int) -> Elites:
        """The operators' pool of ``k`` elites (:mod:`molvae.optimization.pool`: the best
        molecules in the study, any worker's, that have a recorded point, kept varied), and
        what the study has scored (``seen``)."""
        top = self.pool.top(k, self.records)
        dims = len(self.space.lower)
        return Elites(tuple(r.smiles for r in top),
                      np.array([r.row["score"] for r in top], dtype=float),
                      np.array([r.w for r in top], dtype=float).reshape(len(top), dims),
                      seen=Seen(self.records, self.pool))

    def best_and_top10(self) -> tuple[float, float]:
        """The best score and the PMO top-10 mean (missing places count 0)."""
        top = self.pool.best(10)
        return (top[0], sum(top) / 10) if top else (math.nan, math.nan)

    # -- one batch --

    def values(self, row: dict[str, Any]) -> float | list[float] | None:
        """What the sampler is told for a scored molecule; None: the trial failed."""
        if self.objective.multi_objective:
            table = pd.DataFrame([{**row, "smiles": ""}])
            values = self.objective.pareto_values(table)[0]
            return None if np.isnan(values).any() else [float(v) for v in values]
        score = row.get("score", math.nan)
        return None if score is None or not math.isfinite(score) else float(score)

    def ask(self, n: int) -> list[Proposal]:
        """Seeds first (a batch of seeds alone, so they are the study's first trials whatever
        the sampler), then the proposer's points."""
        seeds = self.seeds.take(n) if self.seeds is not None else []
        return seeds or self.proposer.ask(n)

    def step(self, n: int) -> int:
        """Ask ``n`` points, decode, score the new molecules, tell; the oracle calls made."""
        with self.timer("ask"):
            proposals = self.ask(n)
        self.trials_asked += len(proposals)
        told = False
        try:
            z = self.space.latents(np.array([p.w for p in proposals]))
            for i, p in enumerate(proposals):
                if p.z is not None:  # an operator's molecule: its own encoded latent
                    z[i] = p.z
            smiles: list[str | None] = [p.smiles for p in proposals]
            todo = [i for i, p in enumerate(proposals) if p.smiles is None]
            started = time.perf_counter()
            if todo:
                with self.timer("decode"):
                    for i, (_, smi) in zip(todo, self.model.decode_latents(z[todo]),
                                           strict=True):
                        smiles[i] = smi
            decode_s = time.perf_counter() - started
            self.sync()  # another worker may have scored some of them meanwhile
            refused = self.refused([smi for smi, p in zip(smiles, proposals, strict=True)
                                    if p.seed is None])  # a seed is always scored
            first: dict[str, int] = {}
            for i, smi in enumerate(smiles):
                if (smi is not None and smi not in self.records and smi not in first
                        and smi not in refused):
                    first[smi] = i
            if first:
                first = dict(list(first.items())[: self.reserve(len(first))])
            started = time.perf_counter()
            rows = self.score(list(first), z[list(first.values())]) if first else {}
            score_s = time.perf_counter() - started
            now = time.time()
            outcomes = []
            mark = {"worker": self.worker, "time": now, "session": self.session, "seq": self.seq}
            for i, smi in enumerate(smiles):
                if smi is None:
                    outcomes.append(Outcome(None, failure="decodes to no molecule", **mark))
                    continue
                if smi in refused:
                    outcomes.append(Outcome(smi, failure=refused[smi], **mark))
                    continue
                if smi not in rows and smi not in self.records:  # new, over what was granted
                    outcomes.append(Outcome(smi, failure="over the budget: the rest of it is "
                                            "reserved by other workers", **mark))
                    continue
                oracle = first.get(smi) == i
                row = rows[smi] if smi in rows else self.records[smi].row
                values = self.values(row)
                outcomes.append(Outcome(smi, oracle, {k: plain(v) for k, v in row.items()},
                                        values, str(row.get("failure") or "no score"), **mark))
            with self.timer("tell"):
                self.proposer.tell(proposals, outcomes)
                told = True
                if self.journal is not None:
                    self.journal.sync()
            self.count(proposals, outcomes, decoded=todo, decode_s=decode_s, score_s=score_s)
            return len(first)
        finally:
            if not told:  # interrupted before telling: leave nothing running
                self.proposer.abandon(proposals)

    def refused(self, smiles: Sequence[str | None]) -> dict[str, str]:
        """The new molecules not to score, with why: a ring larger than the campaign's
        ``max_ring`` (the decoder's misplaced ring closures; no oracle call is spent on them)."""
        limit = self.campaign.max_ring
        if not limit:
            return {}
        out = {}
        for smi in smiles:
            if smi is not None and smi not in self.records and smi not in out:
                ring = largest_ring(smi)
                if ring is not None and ring > limit:
                    out[smi] = (f"a ring of {ring} atoms, more than max_ring = {limit}: not "
                                "scored")
        return out

    def reserve(self, wanted: int) -> int:
        """Reserve ``wanted`` new molecules in the study; how many were granted (the rest of the
        budget may be reserved by other workers meanwhile)."""
        self.seq += 1
        with self.timer("tell"):
            ledgers.reserve(self.study, session=self.session, seq=self.seq, worker=self.worker,
                            molecules=wanted)
        self.sync()
        granted = self.book.allowed((self.session, self.seq))
        if granted < wanted:  # others reserved first: give the difference back
            with self.timer("tell"):
                ledgers.amend(self.study, session=self.session, seq=self.seq, worker=self.worker,
                              granted=granted)
        return granted

    def score(self, smiles: list[str], z: np.ndarray) -> dict[str, dict[str, Any]]:
        """Score new molecules; their objective rows (without smiles), by SMILES. Their property
        table is computed once, for the components that read it and for the results."""
        predict = self.model.predict_properties if self.objective.needs_latents else None
        with self.timer("score"):
            batch = Batch.of(smiles, z, predict)
            table = self.objective.score_batch(batch)
            properties = round_floats(batch.properties)
        self.properties.update(zip(smiles, properties.to_dict("records"), strict=True))
        self.calls_here += len(smiles)
        body = [c for c in self.columns if c != "smiles"]
        return dict(zip(smiles, table[body].to_dict("records"), strict=True))

    def count(self, proposals: list[Proposal], outcomes: list[Outcome], *,
              decoded: Sequence[int] = (), decode_s: float = 0.0, score_s: float = 0.0) -> None:
        """Per source: points asked, molecules scored, the best score they found, and the
        seconds of decoding and scoring they cost (the batch's, shared by what each source
        had decoded and scored in it)."""
        decoded_set = set(decoded)
        scored = sum(o.oracle for o in outcomes)
        for i, (p, o) in enumerate(zip(proposals, outcomes, strict=True)):
            stats = self.by_source.setdefault(p.source, {"asked": 0, "scored": 0,
                                                         "seconds": 0.0})
            stats["asked"] += 1
            if i in decoded_set:
                stats["seconds"] = stats.get("seconds", 0.0) + decode_s / len(decoded_set)
            if o.oracle and scored:
                stats["seconds"] = stats.get("seconds", 0.0) + score_s / scored
            if o.oracle:
                stats["scored"] += 1
                score = o.row.get("score") if o.row else None
                if isinstance(score, float | int):
                    stats["best"] = max(stats.get("best", -math.inf), float(score))

    # -- outputs --

    def results(self) -> pd.DataFrame:
        """The results table with the chemist's properties (from scoring; computed here only
        for molecules another worker or an earlier session scored) and ``novel``."""
        from molvae.proposals import novelty

        table = results_table(list(self.records.values()), self.columns)
        with self.timer("properties"):
            new = [s for s in table["smiles"] if s not in self.properties]
            if new:
                props = annotate(new, workers=1)
                self.properties.update(zip(new, props.to_dict("records"), strict=True))
            unknown = [s for s in table["smiles"] if s not in self.novel]
            if unknown:
                self.novel.update(zip(unknown, novelty(unknown, self.model), strict=True))
        if not len(table):
            return table
        props = pd.DataFrame([{**self.properties[s], "novel": self.novel[s]}
                              for s in table["smiles"]], index=table.index)
        rename, drop = {}, []
        kinds = {c.name: c.kind for c in self.objective.components}
        for col in props.columns:
            if col in table.columns:
                if kinds.get(col) == col:  # the same descriptor: keep the component's column
                    drop.append(col)
                else:
                    rename[col] = f"property_{col}"
        props = props.drop(columns=drop).rename(columns=rename)
        return pd.concat([table, props], axis=1)

    def write(self, final: bool = False) -> pd.DataFrame | None:
        """Refresh the output files (when due, or ``final``); the results table if built."""
        if self.out is None and not final:
            return None
        wait = max(self.refresh_seconds, REFRESH_FACTOR * self.write_seconds)
        if not final and time.monotonic() - self.last_write < wait:
            return None
        start = time.monotonic()
        self.sync()
        table = self.results()
        if self.out is not None:
            with self.timer("write"):
                write_outputs(self.out, table, list(self.records.values()), self.campaign,
                              self.objective)
        self.last_write = time.monotonic()
        self.write_seconds = self.last_write - start
        return table

    def until(self, budget: int, batch_size: int, progress: bool) -> pd.DataFrame:
        """Run batches until the study holds ``budget`` molecules; the results table."""
        from tqdm.auto import tqdm

        max_trials = MAX_TRIALS_PER_MOLECULE * budget
        self.budget = budget
        started = time.monotonic()
        table = None
        waiting: dict[str, int] | None = None
        with tqdm(
            total=budget, initial=min(self.calls, budget), unit="mol", disable=not progress,
            desc="optimizing", file=sys.stderr,
        ) as bar:
            try:
                while True:
                    self.sync()
                    remaining = budget - self.calls
                    if remaining <= 0:
                        break
                    free = self.book.free()
                    if free <= 0:  # the rest is reserved by other workers: let them tell it
                        gone = ledgers.gone(self.book, self.session, self.worker)
                        if gone:
                            ledgers.void(self.study, gone, self.worker)
                            continue
                        holders = self.book.holders(self.session)
                        if holders != waiting:
                            log.info("waiting for %s to score the rest of the budget (a worker "
                                     "killed meanwhile hands its share over when it is "
                                     "restarted, or after %.0f s)", ", ".join(
                                         f"{w} ({n} molecules)" for w, n in holders.items()),
                                     ledgers.STALE_SECONDS)
                            waiting = holders
                        time.sleep(WAIT_SECONDS)
                        continue
                    remaining = min(remaining, free)
                    if self.trials_asked >= max_trials:
                        log.warning(
                            "stopped after %d trials with %d of %d molecules scored: the sampler "
                            "keeps proposing molecules already scored (a collapsed search; try "
                            "another sampler, a larger box or trust region)",
                            self.trials_asked, self.calls, budget,
                        )
                        break
                    before = self.calls
                    self.step(min(batch_size, self.share(remaining)))
                    bar.update(max(0, min(self.calls, budget) - min(before, budget)))
                    best, top10 = self.best_and_top10()
                    rate = self.calls_here / max(time.monotonic() - started, 1e-9)
                    bar.set_postfix(best=f"{best:.3f}", top10=f"{top10:.3f}", rate=f"{rate:.1f}/s",
                                    refresh=False)
                    self.write()
            finally:
                table = self.write(final=True)
        assert table is not None
        best, top10 = self.best_and_top10()
        log.info("%d molecules scored (%d in this run); best %.4f, top-10 mean %.4f", self.calls,
                 self.calls_here, best, top10)
        return table

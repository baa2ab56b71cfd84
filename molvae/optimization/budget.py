"""How the workers of one study keep to its budget exactly: each reserves the new molecules it
is about to score, in the study, before scoring them.

Every worker reads the study's trials the same way:

- a **reservation** (a failed trial whose record holds ``reserve``: k molecules for batch
  ``seq`` of a worker's session) holds ``k`` molecules of the budget, or ``granted`` when an
  **amendment** record of its session says so, until its batch's oracle records are told;
- a worker that has written a reservation reads the study again and keeps only what the
  reservations *before its own* (by trial number) leave free: two workers that reserve at the
  same moment are ordered by the study, the later one gives back the difference (an
  amendment), and the earlier one keeps its reservation whole. No molecule is scored beyond
  the budget;
- a session stops holding its reservations when the same worker starts a new session (a
  restart after ``kill -9``), or when a **void** record names it: a worker writes one for a
  session whose process is gone (a ``host:pid`` worker of this host whose process is dead) or
  that has written nothing for :data:`STALE_SECONDS`.

A molecule counts once its oracle record is told (a finished trial). A worker killed between
scoring a batch and telling it leaves those trials running, holding molecules the study was
never told of: the budget does not count them, as it cannot count a call the storage never
heard of, and a resumed run may score them again.

The study ends with exactly the budget of molecules, however many workers share it (two
workers may still both score one molecule in the same moment: the results keep it once, and
the budget counts unique molecules, so the others go on until the budget is reached).
"""

from __future__ import annotations

import bisect
import contextlib
import os
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import TrialState, create_trial

from molvae.optimization.records import ATTR

__all__ = ["STALE_SECONDS", "Ledger", "amend", "gone", "ledger", "reserve", "void"]

#: A session that has written nothing for this long no longer holds the reservations it made
#: until then (restarting a killed worker under its own name hands them over at once). A live
#: worker whose batch takes longer than this to score keeps working: only the molecules of that
#: one batch may then pass the budget.
STALE_SECONDS = 300.0


@dataclass
class Ledger:
    """What the study's trials say about its budget."""

    budget: int
    told: set[str] = field(default_factory=set)  # molecules scored
    order: list[tuple[str, int]] = field(default_factory=list)  # reservations, by trial number
    held: dict[tuple[str, int], int] = field(default_factory=dict)  # reserved (or amended)
    settled: dict[tuple[str, int], int] = field(default_factory=dict)  # oracle records told
    void: dict[str, int] = field(default_factory=dict)  # session -> reservations void before
    position: dict[tuple[str, int], int] = field(default_factory=dict)  # reservation's trial
    owner: dict[str, str] = field(default_factory=dict)  # session -> worker
    last_seen: dict[str, float] = field(default_factory=dict)  # session -> its last event
    _amended: dict[tuple[str, int], int] = field(default_factory=dict, repr=False)
    _first: dict[str, int] = field(default_factory=dict, repr=False)  # session's first trial

    def outstanding(self, key: tuple[str, int]) -> int:
        """What a reservation still holds: nothing once void, else what is not yet told."""
        if self.position.get(key, -1) < self.void.get(key[0], -1):
            return 0
        return max(0, self.held.get(key, 0) - self.settled.get(key, 0))

    def pending(self, session: str | None = None) -> int:
        """Molecules reserved and not yet told by sessions other than ``session``."""
        return sum(self.outstanding(k) for k in self.order if k[0] != session)

    def free(self) -> int:
        """What may still be reserved: the budget less the molecules told and held."""
        return self.budget - len(self.told) - self.pending()

    def allowed(self, key: tuple[str, int]) -> int:
        """What reservation ``key`` may keep: the budget less the molecules told and less what
        the other sessions' reservations before it hold."""
        if key not in self.held:
            return 0
        before = self.order[: self.order.index(key)]
        held = sum(self.outstanding(k) for k in before if k[0] != key[0])
        return max(0, min(self.held[key], self.budget - len(self.told) - held))

    def add(self, trials: Iterable[optuna.trial.FrozenTrial]) -> None:
        """Read trials not read before (a run feeds each sync's new trials: the ledger is kept,
        not rebuilt). Only the reservations' order matters, and it is the trials' numbers,
        whatever order they arrive in."""
        for trial in sorted(trials, key=lambda t: t.number):
            self._read(trial)

    def _read(self, trial: optuna.trial.FrozenTrial) -> None:
        info = _info(trial)
        session = info.get("session")
        key = (session, int(info.get("seq", 0))) if isinstance(session, str) else None
        if key is not None:
            self.last_seen[session] = max(self.last_seen.get(session, 0.0),
                                          float(info.get("time", 0.0)))
        if "void" in info:
            voided = str(info["void"])
            self.void[voided] = max(self.void.get(voided, -1), trial.number)
        elif "reserve" in info and key is not None:
            worker = str(info.get("worker", ""))
            self.owner[session] = worker
            self.position[key] = trial.number
            bisect.insort(self.order, key, key=self.position.__getitem__)
            wanted = int(info["reserve"])
            self.held[key] = min(wanted, self._amended.get(key, wanted))
            self._first[session] = min(self._first.get(session, trial.number), trial.number)
            for other in [s for s, w in self.owner.items() if w == worker and s != session]:
                # the worker restarted: its earlier session ends where the later one begins
                if self._first.get(other, -1) < self._first[session]:
                    self.void[other] = max(self.void.get(other, -1), self._first[session])
                else:
                    self.void[session] = max(self.void.get(session, -1), self._first[other])
        elif "granted" in info and key is not None:
            self._amended[key] = int(info["granted"])
            if key in self.held:
                self.held[key] = min(self.held[key], self._amended[key])
        elif info.get("oracle"):
            smiles = trial.user_attrs.get("smiles", info.get("smiles"))
            if isinstance(smiles, str):
                self.told.add(smiles)
            if key is not None:
                self.settled[key] = self.settled.get(key, 0) + 1

    def holders(self, session: str | None = None) -> dict[str, int]:
        """Workers other than ``session``'s holding reservations, and how many molecules."""
        out: dict[str, int] = {}
        for key in self.order:
            n = self.outstanding(key)
            if key[0] != session and n:
                out[self.owner[key[0]]] = out.get(self.owner[key[0]], 0) + n
        return out


def _info(trial: optuna.trial.FrozenTrial) -> Mapping[str, Any]:
    info = trial.user_attrs.get(ATTR)
    return info if isinstance(info, Mapping) else {}


def ledger(trials: Iterable[optuna.trial.FrozenTrial], budget: int) -> Ledger:
    """Read the ledger from a study's finished trials (any order)."""
    book = Ledger(budget)
    book.add(trials)
    return book


def reserve(study: optuna.Study, *, session: str, seq: int, worker: str, molecules: int) -> None:
    """Write a reservation of ``molecules`` for this session's batch ``seq``."""
    info = {"reserve": molecules, "session": session, "seq": seq, "worker": worker,
            "time": time.time()}
    study.add_trial(create_trial(state=TrialState.FAIL, user_attrs={
        ATTR: info, "failure": f"a reservation of {molecules} molecules for worker {worker}"}))


def amend(study: optuna.Study, *, session: str, seq: int, worker: str, granted: int) -> None:
    """Write that batch ``seq`` of this session keeps only ``granted`` of its reservation."""
    info = {"granted": granted, "session": session, "seq": seq, "worker": worker,
            "time": time.time()}
    study.add_trial(create_trial(state=TrialState.FAIL, user_attrs={
        ATTR: info, "failure": f"worker {worker} keeps {granted} of its reservation"}))


def gone(book: Ledger, session: str, worker: str, now: float | None = None) -> list[str]:
    """Sessions other than ``session`` that still hold reservations but whose holder is
    evidently gone: an earlier session of this same ``worker`` (it was restarted), a
    ``host:pid`` worker of this host whose process is dead, or one silent for
    :data:`STALE_SECONDS`."""
    now = time.time() if now is None else now
    host = socket.gethostname()
    out = []
    for s in sorted({k[0] for k in book.order if k[0] != session and book.outstanding(k)}):
        owner = book.owner.get(s, "")
        name, _, pid = owner.rpartition(":")
        dead = name == host and pid.isdigit() and not _alive(int(pid))
        if owner == worker or dead or now - book.last_seen.get(s, now) > STALE_SECONDS:
            out.append(s)
    return out


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead for our purpose
            return fh.read().split(") ", 1)[-1][:1] != "Z"
    return True


def void(study: optuna.Study, sessions: Iterable[str], worker: str) -> None:
    """Write void records: these sessions hold no reservations any more."""
    trials = [create_trial(state=TrialState.FAIL, user_attrs={
        ATTR: {"void": s, "worker": worker, "time": time.time()},
        "failure": f"the reservations of session {s} are void: its worker is gone"})
        for s in sessions]
    if trials:
        study.add_trials(trials)

"""How a batch of latent points is asked for and told to the study.

Two ways, one contract (:class:`Proposer`): ``ask(n)`` gives ``n`` proposals, ``tell`` writes
their outcomes to the study, ``abandon`` cleans up after an interruption.

- :class:`WholeTrials`, for molvae's own samplers (:class:`~.samplers.LatentCmaEs`), which keep
  their state in memory: each trial is written once, told, with its point in its record (about
  1 kB of journal) -- never as 64 Optuna parameters (about 19 kB). Nothing is left running by
  ``kill -9``: a trial is in the study whole or not at all.
- :class:`OptunaTrials`, for any Optuna sampler: ``study.ask`` with the search space's
  distributions (Optuna's sampler reads the parameters back from the storage), ``study.tell``.

Campaign seeds come first in either (:class:`SeedQueue`), written whole; a resumed run or
another worker skips the seeds the study already holds.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import optuna
from optuna.trial import TrialState, create_trial

from molvae.optimization.records import ATTR, encode_point, seed_of
from molvae.optimization.samplers import LatentCmaEs
from molvae.optimization.space import SearchSpace

__all__ = ["OptunaTrials", "Outcome", "Proposal", "Proposer", "SeedQueue", "WholeTrials"]


@dataclass
class Proposal:
    """A point to evaluate: ``w`` (Z,) whitened, inside the box; ``source`` what proposed it;
    ``seed`` the campaign seed's index; ``ticket`` what its proposer needs to tell it. An
    operator that proposes a molecule rather than a point sets ``smiles`` (nothing to decode)
    and ``z``, its encoded latent (``w`` is that point, clipped into the box)."""

    w: np.ndarray
    source: str
    seed: int | None = None
    ticket: Any = None
    smiles: str | None = None
    z: np.ndarray | None = None


@dataclass
class Outcome:
    """What a proposal gave: the molecule (None: decoded to none), whether this trial scored it
    (``oracle``), the objective's row (oracle trials), the values to tell (None: failed) and why
    it failed."""

    smiles: str | None
    oracle: bool = False
    row: dict[str, Any] | None = None
    values: float | list[float] | None = None
    failure: str = ""
    worker: str = ""
    time: float = 0.0
    session: str = ""
    seq: int = 0

    def user_attrs(self, proposal: Proposal) -> dict[str, Any]:
        """The trial's user attributes (:mod:`molvae.optimization.records`)."""
        info: dict[str, Any] = {"oracle": self.oracle, "worker": self.worker, "time": self.time,
                                "source": proposal.source, "w": encode_point(proposal.w),
                                "session": self.session, "seq": self.seq}
        if proposal.seed is not None:
            info["seed"] = proposal.seed
        if self.oracle and self.row is not None:
            info["row"] = self.row
        attrs: dict[str, Any] = {ATTR: info}
        if self.smiles is not None:
            attrs["smiles"] = self.smiles
        if self.values is None:
            attrs["failure"] = self.failure or "no score"
        return attrs


class Proposer(Protocol):
    """Asks for points and tells their outcomes. ``ask`` is called once a batch, ``tell`` once
    with every proposal of that batch and its outcome (in order), ``abandon`` instead of
    ``tell`` when the batch was interrupted before it was scored."""

    #: Seconds the sampler itself computed (None: not measured).
    seconds: float | None

    def ask(self, n: int) -> list[Proposal]: ...

    def tell(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None: ...

    def abandon(self, proposals: Sequence[Proposal]) -> None: ...


def whole_trial(
    proposal: Proposal, outcome: Outcome, space: SearchSpace, with_params: bool
) -> optuna.trial.FrozenTrial:
    """A finished trial to add to the study in one write; ``with_params`` also gives it the
    point as Optuna parameters (for an Optuna sampler to learn from)."""
    params, distributions = {}, {}
    if with_params:
        params = space.params(proposal.w)
        distributions = space.distributions()
    state = TrialState.FAIL if outcome.values is None else TrialState.COMPLETE
    multi = isinstance(outcome.values, list)
    return create_trial(
        state=state,
        value=None if multi or outcome.values is None else outcome.values,
        values=outcome.values if multi else None,
        params=params,
        distributions=distributions,
        user_attrs=outcome.user_attrs(proposal),
    )


@dataclass
class SeedQueue:
    """The campaign seeds' points not yet in the study, to evaluate before the sampler's.

    Without a worker name they come in campaign order; a named worker takes them in an order
    of its own, so workers that start together mostly evaluate different seeds."""

    points: np.ndarray  # (S, Z) whitened
    worker: str | None = None
    done: set[int] = field(default_factory=set)
    order: list[int] = field(init=False)

    def __post_init__(self) -> None:
        order = list(range(len(self.points)))
        if self.worker is not None:
            order.sort(key=lambda i: hashlib.sha256(f"{self.worker}:{i}".encode()).digest())
        self.order = order

    def note(self, trials: Sequence[optuna.trial.FrozenTrial]) -> None:
        """Mark the seeds these trials evaluated (any worker's, any session's)."""
        for trial in trials:
            seed = seed_of(trial)
            if seed is not None:
                self.done.add(seed)

    def take(self, n: int) -> list[Proposal]:
        """Up to ``n`` seeds not yet evaluated; they count as done from now on."""
        picked = [i for i in self.order if i not in self.done][:n]
        self.done.update(picked)
        return [Proposal(self.points[i], "seed", seed=i) for i in picked]

    def __len__(self) -> int:
        return sum(1 for i in self.order if i not in self.done)


class WholeTrials:
    """Proposals of a :class:`LatentCmaEs`, written as whole trials when told."""

    def __init__(self, study: optuna.Study, sampler: LatentCmaEs, space: SearchSpace,
                 source: str = "cmaes") -> None:
        self.study, self.sampler, self.space, self.source = study, sampler, space, source

    @property
    def seconds(self) -> float | None:
        return self.sampler.seconds

    def ask(self, n: int) -> list[Proposal]:
        out = []
        for _ in range(n):
            ticket, x = self.sampler.ask(self.study)
            out.append(Proposal(np.clip(x, self.space.lower, self.space.upper), self.source,
                                ticket=ticket))
        return out

    def tell(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None:
        self.study.add_trials(
            [whole_trial(p, o, self.space, False) for p, o in zip(proposals, outcomes, strict=True)]
        )
        for p, o in zip(proposals, outcomes, strict=True):
            if p.ticket is not None:
                value = o.values if isinstance(o.values, float) else None
                self.sampler.tell(self.study, p.ticket, value, o.smiles)

    def abandon(self, proposals: Sequence[Proposal]) -> None:
        """Nothing was written; the sampler forgets the generation when it restarts."""


class OptunaTrials:
    """Proposals of any Optuna sampler, through ``study.ask`` and ``study.tell``."""

    seconds = None

    def __init__(self, study: optuna.Study, space: SearchSpace) -> None:
        self.study, self.space = study, space
        self.distributions = space.distributions()
        self.source = type(study.sampler).__name__

    def ask(self, n: int) -> list[Proposal]:
        names = self.space.names
        out = []
        for _ in range(n):
            trial = self.study.ask(self.distributions)
            params = trial.params
            w = np.array([params[name] for name in names], dtype=np.float64)
            out.append(Proposal(w, self.source, ticket=trial))
        return out

    def tell(self, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None:
        seeds = [(p, o) for p, o in zip(proposals, outcomes, strict=True) if p.ticket is None]
        if seeds:
            self.study.add_trials([whole_trial(p, o, self.space, True) for p, o in seeds])
        for p, o in zip(proposals, outcomes, strict=True):
            if p.ticket is None:
                continue
            trial: optuna.Trial = p.ticket
            for key, value in o.user_attrs(p).items():
                trial.set_user_attr(key, value)
            if o.values is None:
                self.study.tell(trial, state=TrialState.FAIL)
            else:
                self.study.tell(trial, o.values)

    def abandon(self, proposals: Sequence[Proposal]) -> None:
        """Leave no trial running: each asked trial is told failed, ``interrupted``."""
        for p in proposals:
            if p.ticket is None:
                continue
            with contextlib.suppress(Exception):
                p.ticket.set_user_attr("failure", "interrupted")
                self.study.tell(p.ticket, state=TrialState.FAIL, skip_if_finished=True)

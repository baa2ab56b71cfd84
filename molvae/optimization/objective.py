"""Scoring: what a chemist declares a good molecule to be.

An :class:`Objective` has the shape of REINVENT 4's scoring: named **components**, each a *kind*
of raw value (QED, a Tanimoto similarity, a user's Python function...) with its parameters, a
**transform** of the raw value onto [0, 1] and a **weight**; hard constraints (**filters**); and
an **aggregation** of the component scores into one total (weighted geometric mean by default,
or weighted arithmetic mean). Campaign files (:mod:`molvae.optimization.campaign`) declare the
same objects in TOML. The component kinds are in :mod:`molvae.optimization.components`, the
transforms in :mod:`molvae.optimization.transforms`.

>>> from molvae.optimization.components import Descriptor
>>> from molvae.optimization.transforms import Clamp, Step
>>> objective = Objective(components=(
...     Component("qed", Descriptor("qed")),
...     Component("sa", Descriptor("sa"), Clamp(low=6.0, high=2.0)),  # 2 (easy) -> 1, 6 -> 0
... ))
>>> table = objective.score(["CCO", "c1ccccc1O", "not a molecule"])
>>> table[["score", "state", "failure"]].round(3).values.tolist()
[[0.638, 'ok', ''], [0.717, 'ok', ''], [nan, 'failed', 'invalid SMILES']]

What a row of :meth:`Objective.score` means (its ``state`` column):

- ``"ok"``: every component has a value; ``score`` is the aggregate, in [0, 1].
- ``"filtered"``: the molecule breaks a hard constraint; ``score`` is **0.0** and ``failure``
  says which, e.g. ``"filter sa <= 4.5 failed (6.12)"``. It is a real, bad molecule.
- ``"failed"``: the molecule could not be scored: an unparsable SMILES, an RDKit error, a Python
  function that raised, returned NaN or the wrong number of values, or a component score outside
  [0, 1]. ``score`` is **NaN**, never 0, and ``failure`` gives the reason. A failed oracle call
  says nothing about the molecule: Optuna records a trial whose value is NaN as failed rather
  than teaching the sampler that the region is bad. An optimizer that wants 0 instead can use
  ``table["score"].fillna(0.0)``; the ``state`` column keeps the difference.

A filter beats a failure: a molecule that breaks a filter scores 0 even if another component
could not be computed (both reasons are recorded). Raw values are NaN wherever they could not be
computed, and for every component of an unparsable SMILES.

Multi-objective (Pareto) mode lists some components as :class:`ParetoTarget` with an explicit
direction; :meth:`Objective.pareto_values` gives their transformed values (the ``identity``
transform keeps raw units, so ``sa`` with ``identity`` and ``"minimize"`` is plain SA).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from molvae.optimization.components import Batch, ComponentKind, Head, Raw, scorer_dict
from molvae.optimization.parameters import finite, require
from molvae.optimization.transforms import Identity, Transform, transform_dict

__all__ = ["AGGREGATIONS", "DIRECTIONS", "Component", "Filter", "Objective", "ParetoTarget"]


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = frozenset({"smiles", "score", "state", "failure", "passed_filters"})


def _check_name(name: str, what: str) -> None:
    require(
        isinstance(name, str) and bool(_NAME.fullmatch(name)),
        f"{what} name {name!r} must be a letter or underscore followed by letters, digits "
        "or underscores",
        "name",
    )
    require(
        name not in _RESERVED,
        f"{what} name {name!r} is taken by a column of the score table "
        f"({', '.join(sorted(_RESERVED))})",
        "name",
    )


@dataclass(frozen=True)
class Component:
    """A named raw value (``scorer``), its ``transform`` onto [0, 1] and its ``weight`` in the
    total (0: reported, and usable as a Pareto objective, but not part of the total).

    >>> from molvae.optimization.components import Descriptor
    >>> from molvae.optimization.transforms import Step
    >>> Component("mw", Descriptor("mw"), Step(high=500.0)).score(["CCO"]).tolist()
    [1.0]
    """

    name: str
    scorer: ComponentKind
    transform: Transform = field(default_factory=Identity)
    weight: float = 1.0

    def __post_init__(self) -> None:
        _check_name(self.name, "component")
        require(
            isinstance(self.weight, int | float)
            and finite(float(self.weight))
            and self.weight >= 0,
            f"component {self.name!r}: weight must be a finite number >= 0 (got {self.weight!r})",
            "weight",
        )
        require(
            not (
                isinstance(self.transform, Identity)
                and self.weight > 0
                and self.scorer.unit_range is False
            ),
            f"component {self.name!r}: kind {self.kind!r} has raw values outside [0, 1], "
            "so the identity transform cannot score it; give it a transform (clamp, "
            "sigmoid, gaussian...) or weight 0",
            "transform",
        )

    @property
    def kind(self) -> str:
        return self.scorer.kind

    def raw(
        self,
        smiles: Sequence[str],
        z: np.ndarray | None = None,
        predict: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Raw values (N,), NaN where they cannot be computed."""
        return self.scorer(Batch.of(smiles, z, predict)).values

    def score(
        self,
        smiles: Sequence[str],
        z: np.ndarray | None = None,
        predict: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Transformed values (N,), NaN where the raw value is missing."""
        return self.transform(self.raw(smiles, z, predict))

    def to_dict(self) -> dict[str, Any]:
        """The component as a campaign file's ``[[component]]`` table."""
        return {
            "name": self.name,
            **scorer_dict(self.scorer),
            "weight": self.weight,
            "transform": transform_dict(self.transform),
        }


def _bound(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Filter:
    """A hard constraint: the raw value of ``scorer`` must be >= ``min`` and/or <= ``max``. A
    molecule that breaks one scores 0 with the reason, e.g. ``"filter sa <= 4.5 failed (6.12)"``.

    >>> from molvae.optimization.components import Descriptor
    >>> Filter("sa", Descriptor("sa"), max=4.5).describe()
    'sa <= 4.5'
    """

    name: str
    scorer: ComponentKind
    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "filter")
        require(
            self.min is not None or self.max is not None,
            f"filter {self.name!r}: give min, max or both (e.g. max = 4.5 for SA, min = 1 "
            "for a required substructure)",
            "min",
        )
        for key in ("min", "max"):
            value = getattr(self, key)
            require(
                value is None or (isinstance(value, int | float) and finite(value)),
                f"filter {self.name!r}: {key} must be a finite number (got {value!r})",
                key,
            )
        require(
            self.min is None or self.max is None or self.min <= self.max,
            f"filter {self.name!r}: min ({self.min}) exceeds max ({self.max})",
            "min",
        )

    @property
    def kind(self) -> str:
        return self.scorer.kind

    def describe(self) -> str:
        """The condition in words: ``"sa <= 4.5"``, ``"mw in [250, 450]"``."""
        if self.min is not None and self.max is not None:
            return f"{self.name} in [{_bound(self.min)}, {_bound(self.max)}]"
        if self.min is not None:
            return f"{self.name} >= {_bound(self.min)}"
        return f"{self.name} <= {_bound(self.max)}"

    def passes(self, values: np.ndarray) -> np.ndarray:
        """Whether each raw value meets the bounds (False for NaN)."""
        ok = ~np.isnan(values)
        if self.min is not None:
            ok &= values >= self.min
        if self.max is not None:
            ok &= values <= self.max
        return ok

    def to_dict(self) -> dict[str, Any]:
        """The filter as a campaign file's ``[[filter]]`` table."""
        out = {"name": self.name, **scorer_dict(self.scorer)}
        out.update({k: getattr(self, k) for k in ("min", "max") if getattr(self, k) is not None})
        return out


#: The directions of a Pareto objective.
DIRECTIONS: tuple[str, ...] = ("maximize", "minimize")
#: How component scores combine into the total.
AGGREGATIONS: tuple[str, ...] = ("geometric", "arithmetic")


@dataclass(frozen=True)
class ParetoTarget:
    """One objective of multi-objective mode: a component's transformed value and whether to
    ``"maximize"`` or ``"minimize"`` it (no default: the direction is always explicit)."""

    component: str
    direction: Literal["maximize", "minimize"]

    def __post_init__(self) -> None:
        require(
            self.direction in DIRECTIONS,
            f"objective {self.component!r}: unknown direction {self.direction!r}; expected "
            f"one of: {', '.join(DIRECTIONS)}",
            "direction",
        )


_TOLERANCE = 1e-9  # transforms may overshoot [0, 1] by rounding


@dataclass(frozen=True)
class Objective:
    """Components, filters and their aggregation: what a good molecule is.

    Args:
        components: at least one; names unique; weights >= 0 with a positive sum.
        filters: hard constraints (a molecule breaking one scores 0).
        aggregate: ``"geometric"`` (default: a component scoring 0 sinks the total, so every
            component matters) or ``"arithmetic"`` (components trade off linearly).
        objectives: Pareto targets for multi-objective mode (empty: single objective).

    Raises:
        ObjectiveError: duplicate or clashing names, no positive weight, an unknown aggregation,
            a Pareto target naming no component.
    """

    components: tuple[Component, ...]
    filters: tuple[Filter, ...] = ()
    aggregate: Literal["geometric", "arithmetic"] = "geometric"
    objectives: tuple[ParetoTarget, ...] = ()

    def __post_init__(self) -> None:
        for name in ("components", "filters", "objectives"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        require(len(self.components) > 0, "an objective needs at least one component", "component")
        require(
            self.aggregate in AGGREGATIONS,
            f"unknown aggregation {self.aggregate!r}; expected one of: {', '.join(AGGREGATIONS)}",
            "method",
        )
        require(
            sum(c.weight for c in self.components) > 0,
            "at least one component needs a weight above 0",
            "weight",
        )
        seen: dict[str, str] = {}
        for owner, columns in self._owned_columns():
            for column in columns:
                require(
                    column not in seen,
                    f"{owner} makes a column {column!r} that {seen.get(column)} makes too; "
                    "rename one",
                    "name",
                )
                seen[column] = owner
        names = [c.name for c in self.components]
        targets = [t.component for t in self.objectives]
        for target in targets:
            require(
                target in names,
                f"objective names no component {target!r}; components: {', '.join(names)}",
                "objective",
            )
        dupes = sorted({t for t in targets if targets.count(t) > 1})
        require(
            not dupes,
            f"component {dupes[0] if dupes else ''!r} is listed twice as an objective",
            "objective",
        )

    def _owned_columns(self) -> list[tuple[str, list[str]]]:
        out = []
        for c in self.components:
            cols = [c.name, f"{c.name}_score"]
            if c.scorer.has_details:
                cols.append(f"{c.name}_matches")
            out.append((f"component {c.name!r}", cols))
        out += [(f"filter {f.name!r}", [f"filter_{f.name}"]) for f in self.filters]
        return out

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of :meth:`score`'s table, in order."""
        head = ("smiles", "score", "state", "failure", "passed_filters")
        return head + tuple(col for _, cols in self._owned_columns() for col in cols)

    @property
    def multi_objective(self) -> bool:
        """Whether Pareto targets are listed."""
        return bool(self.objectives)

    @property
    def directions(self) -> tuple[str, ...]:
        """The direction of each Pareto target, in order (Optuna's ``directions``)."""
        return tuple(t.direction for t in self.objectives)

    def admits(self, smiles: Sequence[str]) -> np.ndarray:
        """Whether each molecule passes the **cheap** filters (those whose kind says
        ``cheap``: descriptors, similarity, substructures, alerts), computed without the
        components. The search operators ask before they propose a molecule, so a molecule
        that would only be ``filtered`` costs no oracle call; the run's scoring still applies
        every filter.

        >>> from molvae.optimization.components import Descriptor
        >>> Objective((Component("qed", Descriptor("qed")),),
        ...           filters=(Filter("mw", Descriptor("mw"), max=100.0),)).admits(
        ...     ["CCO", "c1ccccc1CCCCCC"]).tolist()
        [True, False]
        """
        ok = np.ones(len(smiles), dtype=bool)
        if self.cheap_filters and len(smiles):
            batch = Batch.of(list(smiles))
            for f in self.cheap_filters:
                ok &= f.passes(f.scorer(batch).values)
        return ok

    @property
    def cheap_filters(self) -> tuple[Filter, ...]:
        """The filters :meth:`admits` checks: those whose kind says ``cheap``."""
        return tuple(f for f in self.filters if f.scorer.cheap)

    @property
    def needs_latents(self) -> bool:
        """Whether a component reads the model's heads (score with ``z`` and ``predict``)."""
        return any(isinstance(c.scorer, Head) for c in self.components) or any(
            isinstance(f.scorer, Head) for f in self.filters
        )

    def score(
        self,
        smiles: Sequence[str],
        z: np.ndarray | None = None,
        predict: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """Score molecules: one row per input, in input order, with the columns
        :attr:`columns`: ``smiles``; ``score`` (the total); ``state`` (``"ok"``,
        ``"filtered"``, ``"failed"``; see the module docstring); ``failure`` (the reasons,
        ``"; "``-joined, or ``""``); ``passed_filters``; per component ``<name>`` (raw) and
        ``<name>_score`` (transformed), and ``<name>_matches`` for substructure and alerts;
        per filter ``filter_<name>`` (raw).

        Args:
            smiles: the molecules; unparsable ones fail.
            z: (N, Z) latents, for model-head components.
            predict: latents -> (N, 3) head predictions, for model-head components.

        Raises:
            ObjectiveError: a model-head component scored without ``z`` and ``predict``.
        """
        return self.score_batch(Batch.of(smiles, z, predict))

    def score_batch(self, batch: Batch) -> pd.DataFrame:
        """:meth:`score` of a parsed batch: the run loop keeps the batch, whose property table
        (computed once for every component) becomes the results table's columns."""
        n = len(batch)
        valid = np.array([m is not None for m in batch.mols], dtype=bool)
        failed = ~valid
        filtered = np.zeros(n, dtype=bool)
        reasons: list[list[str]] = [[] if ok else ["invalid SMILES"] for ok in valid]
        columns: dict[str, Any] = {}
        weighted = []  # (weight, scores) of components in the total

        def note_missing(label: str, raw: Raw) -> np.ndarray:
            missing = valid & np.isnan(raw.values)
            for i in np.flatnonzero(missing):
                given = raw.reasons[i] if raw.reasons else ""
                reasons[i].append(given if given else f"{label}: no value")
            return missing

        for c in self.components:
            raw = c.scorer(batch)
            scores = c.transform(raw.values)
            failed |= note_missing(f"component {c.name}", raw)
            if c.weight > 0:
                outside = valid & ((scores < -_TOLERANCE) | (scores > 1 + _TOLERANCE))
                for i in np.flatnonzero(outside):
                    reasons[i].append(
                        f"component {c.name}: score {scores[i]:.4g} outside [0, 1]; "
                        "give it a transform"
                    )
                failed |= outside
                weighted.append((c.weight, np.clip(scores, 0.0, 1.0)))
            columns[c.name] = raw.values
            columns[f"{c.name}_score"] = scores
            if c.scorer.has_details:
                columns[f"{c.name}_matches"] = list(raw.details or [None] * n)
        passed = valid.copy()
        for f in self.filters:
            raw = f.scorer(batch)
            failed |= note_missing(f"filter {f.name}", raw)
            ok = f.passes(raw.values)
            broken = valid & ~ok & ~np.isnan(raw.values)
            for i in np.flatnonzero(broken):
                reasons[i].append(f"filter {f.describe()} failed ({round(raw.values[i], 2):g})")
            filtered |= broken
            passed &= ok
            columns[f"filter_{f.name}"] = raw.values
        total = self._aggregate(weighted)
        state = np.where(filtered, "filtered", np.where(failed, "failed", "ok"))
        total = np.where(filtered, 0.0, np.where(failed, np.nan, total))
        table = {
            "smiles": list(batch.smiles),
            "score": total,
            "state": state.astype(object),
            "failure": ["; ".join(r) for r in reasons],
            "passed_filters": passed,
            **columns,
        }
        return pd.DataFrame(table, columns=list(self.columns))

    def _aggregate(self, weighted: list[tuple[float, np.ndarray]]) -> np.ndarray:
        weights = np.array([w for w, _ in weighted])
        scores = np.stack([s for _, s in weighted])  # (components, N)
        w = weights[:, None] / weights.sum()
        if self.aggregate == "arithmetic":
            return (w * scores).sum(axis=0)
        with np.errstate(divide="ignore"):  # log(0) = -inf, and exp(-inf) = 0: a zero sinks it
            return np.exp((w * np.log(scores)).sum(axis=0))

    def __call__(self, smiles: Sequence[str]) -> np.ndarray:
        """The total scores alone (NaN for failed molecules), for benchmarks.

        >>> from molvae.optimization.presets import qed_objective
        >>> qed_objective()(["CCO"]).round(3).tolist()
        [0.407]
        """
        return self.score(smiles)["score"].to_numpy()

    def pareto_values(self, table: pd.DataFrame) -> np.ndarray:
        """(N, k) values of the Pareto targets from a :meth:`score` table, in target order,
        with the directions :attr:`directions`. Rows that are not ``"ok"`` (failed or filtered
        molecules) get NaN: they have no place on the front, and Optuna records such a trial
        as failed.

        Raises:
            ObjectiveError: no Pareto targets are listed.
        """
        require(self.multi_objective, "this objective lists no Pareto objectives", "objective")
        values = np.column_stack(
            [table[f"{t.component}_score"].to_numpy(dtype=np.float64) for t in self.objectives]
        )
        values[(table["state"] != "ok").to_numpy()] = np.nan
        return values

    def to_dict(self) -> dict[str, Any]:
        """The objective as the tables of a campaign file (``component``, ``filter``,
        ``aggregate``, ``objective``)."""
        return {
            "component": [c.to_dict() for c in self.components],
            "filter": [f.to_dict() for f in self.filters],
            "aggregate": {"method": self.aggregate},
            "objective": [
                {"component": t.component, "direction": t.direction} for t in self.objectives
            ],
        }


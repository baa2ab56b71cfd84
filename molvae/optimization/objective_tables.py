"""The objective's tables of a campaign file -- ``[[component]]``, ``[[filter]]``,
``[[objective]]`` and ``[aggregate]`` -- read into the parts of an
:class:`~molvae.optimization.objective.Objective`, each problem named by its key path.

A ``python`` component names a module to import and run: :meth:`ObjectiveReader.check_python`
allows molvae's own, and others only when the reader is told the file is trusted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from molvae.errors import ObjectiveError
from molvae.optimization.coerce import TableReader, type_name
from molvae.optimization.components import build_scorer, kind_parameters, kinds
from molvae.optimization.objective import (
    AGGREGATIONS,
    DIRECTIONS,
    Component,
    Filter,
    Objective,
)
from molvae.optimization.transforms import (
    TRANSFORMS,
    Transform,
    build_transform,
    transform_parameters,
)

__all__ = ["AGGREGATE_KEYS", "COMPONENT_KEYS", "FILTER_KEYS", "OBJECTIVE_KEYS", "ObjectiveReader"]

COMPONENT_KEYS: dict[str, tuple[Any, bool]] = {
    "name": (str, False),
    "kind": (str, True),
    "weight": (float, False),
    "transform": (dict, False),
}
FILTER_KEYS: dict[str, tuple[Any, bool]] = {
    "name": (str, False),
    "kind": (str, True),
    "min": (float, False),
    "max": (float, False),
}
OBJECTIVE_KEYS: dict[str, tuple[Any, bool]] = {
    "component": (str, True),
    "direction": (Literal[DIRECTIONS], True),
}
AGGREGATE_KEYS: dict[str, tuple[Any, bool]] = {"method": (Literal[AGGREGATIONS], False)}
#: What an unknown value of a choice key is called in messages.


class ObjectiveReader(TableReader):
    """Reads the objective's tables; ``allow_python`` lets ``python`` components import the
    modules they name (molvae's own are always allowed)."""

    choice_names = {
        "catalogs": "catalog",
        "kind": "component kind",
        "type": "transform",
        "sampler": "sampler",
        "method": "aggregation",
        "direction": "direction",
    }

    def __init__(self, source: str, allow_python: bool = False) -> None:
        super().__init__(source)
        self.allow_python = allow_python

    def check_python(self, params: Mapping[str, Any], path: str) -> None:
        """A ``python`` component runs code named by the file: molvae's own, or with consent."""
        function = params.get("function")
        module = function.partition(":")[0] if isinstance(function, str) else ""
        if self.allow_python or module == "molvae" or module.startswith("molvae."):
            return
        raise self.error(
            f"{path}.function",
            f"kind 'python' would import module {module!r} and run {function!r}, code named "
            "by this campaign file; if you trust the file, run it with --allow-python "
            "(in Python: allow_python=True), or install the function as a component plugin",
        )


    def transform(self, data: Any, path: str) -> Transform:
        if not isinstance(data, dict):
            raise self.error(path, f"expected a table, got {type_name(data)}")
        if "type" not in data:
            raise self.error(
                path,
                f"missing required key 'type'; expected one of: {', '.join(sorted(TRANSFORMS))}",
            )
        type_ = self.coerce(data["type"], Literal[tuple(sorted(TRANSFORMS))], f"{path}.type")
        known = {"type": (str, True), **transform_parameters(type_)}
        params = self.table(data, path, known, f" for transform {type_!r}")
        del params["type"]
        return self.build(path, build_transform, type_, **params)

    def build(self, path: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call an objectives constructor, turning its errors into this file's errors."""
        try:
            return fn(*args, **kwargs)
        except ObjectiveError as err:
            raise self.error(f"{path}.{err.key}" if err.key else path, str(err)) from err

    def scored_part(
        self, data: Any, path: str, own: Mapping[str, tuple[Any, bool]]
    ) -> tuple[dict[str, Any], Any]:
        """The shared part of a component or filter table: its own keys, and the scorer built
        from ``kind`` and the kind's parameters."""
        if not isinstance(data, dict):
            raise self.error(path, f"expected a table, got {type_name(data)}")
        if "kind" not in data:
            raise self.error(
                path, f"missing required key 'kind'; expected one of: {', '.join(sorted(kinds()))}"
            )
        kind = self.coerce(data["kind"], own["kind"][0], f"{path}.kind")
        params = self.build(path, kind_parameters, kind)
        checked = self.table(data, path, {**own, **params}, f" for kind {kind!r}")
        scorer_params = {k: v for k, v in checked.items() if k in params}
        if kind == "python":
            self.check_python(scorer_params, path)
        scorer = self.build(path, build_scorer, kind, **scorer_params)
        return {k: v for k, v in checked.items() if k not in params}, scorer

    def component(self, data: Any, path: str) -> Component:
        own, scorer = self.scored_part(data, path, COMPONENT_KEYS)
        transform = (
            self.transform(own["transform"], f"{path}.transform")
            if "transform" in own
            else TRANSFORMS["identity"]()
        )
        return self.build(
            path, Component, own.get("name", own["kind"]), scorer, transform, own.get("weight", 1.0)
        )

    def filter(self, data: Any, path: str) -> Filter:
        own, scorer = self.scored_part(data, path, FILTER_KEYS)
        return self.build(
            path, Filter, own.get("name", own["kind"]), scorer, own.get("min"), own.get("max")
        )

    # -- the settings --

    def build_objective(
        self, components: tuple, filters: tuple, aggregate: str, objectives: tuple
    ) -> Objective:
        try:
            return Objective(components, filters, aggregate, objectives)
        except ObjectiveError as err:
            where = {"objective": "objective", "method": "aggregate.method"}.get(err.key or "")
            raise self.error(where or "component", str(err)) from err

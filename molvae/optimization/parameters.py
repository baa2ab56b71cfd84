"""The parameters of a plugin (a transform or a component kind) as a campaign file gives them.

Transforms and component kinds are frozen dataclasses: their init fields are the TOML keys, their
type hints the types a campaign file may give, and a field without a default is required. The
helpers here read that contract, check a table's keys against it, and turn an instance back into
plain data for a run's manifest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, get_type_hints

from molvae.errors import ObjectiveError

__all__ = ["check_keys", "finite", "parameters", "plain_parameters", "require"]


def require(ok: bool, message: str, key: str | None = None) -> None:
    """Raise :class:`ObjectiveError` naming ``key`` unless ``ok``: the one-line check every
    ``__post_init__`` uses, so each message can point at the campaign key at fault."""
    if not ok:
        raise ObjectiveError(message, key)


def finite(value: float | None) -> bool:
    """Whether ``value`` is a finite number (None is not)."""
    return value is not None and math.isfinite(value)


def parameters(cls: type, fixed: Mapping[str, Any] = {}) -> dict[str, tuple[Any, bool]]:
    """A dataclass's campaign keys: name -> (type hint, required). Private fields (``_x``),
    non-init fields and those ``fixed`` by the kind's name are not keys.

    >>> from molvae.optimization.transforms import Clamp
    >>> parameters(Clamp)
    {'low': (<class 'float'>, True), 'high': (<class 'float'>, True)}
    """
    hints = get_type_hints(cls)
    return {
        f.name: (hints[f.name], f.default is MISSING and f.default_factory is MISSING)
        for f in fields(cls)
        if f.init and not f.name.startswith("_") and f.name not in fixed
    }


def check_keys(what: str, params: Mapping[str, Any], known: Mapping[str, tuple]) -> None:
    """Unknown or missing keys as an :class:`ObjectiveError` naming the first one."""
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ObjectiveError(
            f"{what}: unknown parameter {unknown[0]!r}; valid parameters: "
            f"{', '.join(sorted(known)) or '(none)'}",
            unknown[0],
        )
    missing = [name for name, (_, required) in known.items() if required and name not in params]
    if missing:
        raise ObjectiveError(f"{what}: missing required parameter {missing[0]!r}", missing[0])


def plain_parameters(obj: Any) -> dict[str, Any]:
    """The init parameters of a dataclass as plain data (tuples as lists; None left out)."""
    out = {}
    for f in fields(obj):
        if not f.init or f.name.startswith("_"):
            continue
        value = getattr(obj, f.name)
        if value is None:
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out

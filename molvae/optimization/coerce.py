"""TOML tables read against type hints: the generic half of reading a campaign file.

A schema is a mapping ``key -> (type hint, required)``; TOML gives only its own types, so the
hints used are ``bool``, ``int``, ``float`` (ints pass), ``str``, ``dict``, ``tuple[X, ...]``,
``Literal[...]`` (a choice) and unions of these. Nothing is evaluated: values are TOML data.

>>> TableReader("x.toml").table({"budget": 10}, "campaign", {"budget": (int, True)})
{'budget': 10}
>>> TableReader("x.toml").coerce("a", int, "campaign.budget")
Traceback (most recent call last):
...
molvae.errors.CampaignError: x.toml: campaign.budget: expected an integer, got a string
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union, get_args, get_origin

from molvae.errors import CampaignError

__all__ = ["TableReader", "describe", "type_name"]



def type_name(value: Any) -> str:
    """What a TOML value is, in words: ``"an integer"``, ``"a table"``."""
    if isinstance(value, bool):
        return "a boolean"
    return {
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def describe(hint: Any) -> str:
    """What a type hint asks for, in words: ``"one of: a, b"``, ``"a list of strings"``."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in args if _tomlable(a))
    if origin is Literal:
        return "one of: " + ", ".join(map(str, args))
    if origin is tuple and get_origin(args[0]) is Literal:
        return "a list of values from: " + ", ".join(map(str, get_args(args[0])))
    if origin is tuple:
        return f"a list of {describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
    return {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        dict: "a table",
    }.get(hint, str(hint))


def _tomlable(hint: Any) -> bool:
    """Whether a TOML value can have this type (not None, not a Python callable)."""
    return hint is not type(None) and (get_origin(hint) or hint) is not Callable


class TableReader:
    """Checks TOML data against type hints; every message starts with the source and the key
    path (``qed.toml: component[2].weight: expected a number, got a string``).

    Subclasses add the checks of their own schema.
    """

    #: What an unknown value of a choice key (by the key's name) is called in messages.
    choice_names: Mapping[str, str] = {}

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, path: str, message: str) -> CampaignError:
        """The error at ``path`` of this source."""
        return CampaignError(f"{self.source}: {path}: {message}")

    def coerce(self, value: Any, hint: Any, path: str) -> Any:
        """``value`` as type ``hint`` (TOML's types only; ints pass as floats), or an error."""
        origin, args = get_origin(hint), get_args(hint)
        if origin in (Union, types.UnionType):
            for option in (a for a in args if _tomlable(a)):
                try:
                    return self.coerce(value, option, path)
                except CampaignError:
                    continue
            raise self.error(path, f"expected {describe(hint)}, got {type_name(value)}")
        if origin is Literal:
            if isinstance(value, str) and value in args:
                return value
            key = path.rsplit(".", 1)[-1].split("[")[0].split(" ")[0]
            what = self.choice_names.get(key, key)
            shown = repr(value) if isinstance(value, str) else type_name(value)
            raise self.error(
                path, f"unknown {what} {shown}; expected one of: {', '.join(map(str, args))}"
            )
        if origin is tuple:
            if not isinstance(value, list | tuple):
                raise self.error(path, f"expected {describe(hint)}, got {type_name(value)}")
            return tuple(self.coerce(v, args[0], f"{path}[{i}]") for i, v in enumerate(value, 1))
        ok = {
            bool: lambda v: isinstance(v, bool),
            int: lambda v: isinstance(v, int) and not isinstance(v, bool),
            float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            str: lambda v: isinstance(v, str),
            dict: lambda v: isinstance(v, dict),
        }[hint]
        if not ok(value):
            raise self.error(path, f"expected {describe(hint)}, got {type_name(value)}")
        return float(value) if hint is float else value

    def table(
        self, data: Any, path: str, known: Mapping[str, tuple[Any, bool]], what: str = ""
    ) -> dict[str, Any]:
        """Check a table's keys (unknown, missing) and coerce its values."""
        if not isinstance(data, dict):
            raise self.error(path, f"expected a table, got {type_name(data)}")
        for key in data:
            if key not in known:
                raise self.error(path, f"unknown key {key!r}{what}; valid keys: {', '.join(known)}")
        for key, (_, required) in known.items():
            if required and key not in data:
                raise self.error(path, f"missing required key {key!r}{what}")
        return {
            key: self.coerce(value, known[key][0], f"{path}.{key}") for key, value in data.items()
        }

    def array(self, data: Mapping[str, Any], key: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of tables [[{key}]], got {type_name(value)}")
        return value

    # -- the objective's parts --

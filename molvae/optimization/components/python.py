"""Python kind: a user's function of a list of SMILES, imported by its path."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from molvae.errors import ObjectiveError, ScoringStopped
from molvae.optimization.components._base import Batch, ComponentKind, Raw
from molvae.optimization.parameters import require

__all__ = ["PythonFunction"]


def _import_function(path: str) -> Callable[..., Any]:
    module_name, sep, qualname = path.partition(":")
    require(
        bool(sep and module_name and qualname),
        f"python: {path!r} is not 'package.module:function'",
        "function",
    )
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except Exception as err:  # an import runs the user's code: anything can go wrong
        raise ObjectiveError(
            f"python: cannot import {path!r}: {type(err).__name__}: {err}", "function"
        ) from err
    require(callable(target), f"python: {path!r} is not callable", "function")
    return target


@dataclass(frozen=True)
class PythonFunction(ComponentKind):
    """A user's function as a component: ``"package.module:function"`` (or the callable
    itself), called with a list of SMILES (only those RDKit can read) and returning one float
    per SMILES, NaN (or None) where it cannot score one.

    A function that raises, or returns the wrong number of values or a non-number, marks every
    molecule of that batch failed with the reason; the run goes on. ``sys.exit`` (raised as
    :class:`~molvae.errors.ScoringStopped`) and ``KeyboardInterrupt`` stop the run instead,
    with its outputs written.

    >>> plogp = PythonFunction("molvae.optimization.presets:penalized_logp")
    >>> plogp(Batch.of(["CCO"])).values.round(2)
    array([-0.26])

    Raises:
        ObjectiveError: the path cannot be imported (named), or is not callable.
    """

    function: str | Callable[[list[str]], Sequence[float]]
    kind: ClassVar[str] = "python"
    unit_range: ClassVar[None] = None
    _fn: Callable = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.function, str):
            object.__setattr__(self, "_fn", _import_function(self.function))
        else:
            require(
                callable(self.function), "python: function must be a path or a callable", "function"
            )
            object.__setattr__(self, "_fn", self.function)

    @property
    def path(self) -> str:
        """``module:function`` for messages."""
        if isinstance(self.function, str):
            return self.function
        fn = self.function
        return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"

    def __call__(self, batch: Batch) -> Raw:
        present = [i for i, m in enumerate(batch.mols) if m is not None]
        values = np.full(len(batch), np.nan)
        reasons = [""] * len(batch)

        def fail(reason: str) -> Raw:
            for i in present:
                reasons[i] = reason
            return Raw(values, tuple(reasons))

        if not present:
            return Raw(values, tuple(reasons))
        try:
            out = self._fn([batch.smiles[i] for i in present])
        except SystemExit as err:  # the function asks to stop: the run stops, cleanly
            raise ScoringStopped(f"{self.path} called sys.exit({err.code!r})") from None
        except Exception as err:  # the user's code: report, never crash the run
            return fail(f"{self.path} raised {type(err).__name__}: {err}")
        try:
            out = list(out)
        except TypeError:
            return fail(f"{self.path} returned {type(out).__name__}, not a list of floats")
        if len(out) != len(present):
            return fail(f"{self.path} returned {len(out)} values for {len(present)} molecules")
        try:
            got = np.array([np.nan if v is None else float(v) for v in out], dtype=np.float64)
        except (TypeError, ValueError):
            bad = next(v for v in out if not _is_number(v))
            return fail(f"{self.path} returned a non-number {bad!r}")
        values[present] = got
        for i, value in zip(present, got, strict=True):
            if not math.isfinite(value):
                reasons[i] = f"{self.path} returned {value}"
                values[i] = np.nan
        return Raw(values, tuple(reasons))


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


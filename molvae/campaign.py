"""Deprecated alias of :mod:`molvae.optimization`, kept for one release."""

import importlib
import warnings
from typing import Any

warnings.warn(
    "molvae.campaign is deprecated and goes in the next release: import from molvae.optimization",
    DeprecationWarning,
    stacklevel=2,
)

_MODULES = (
    "molvae.optimization.campaign",
    "molvae.optimization.samplers",
    "molvae.errors",
)


def __getattr__(name: str) -> Any:
    for module in _MODULES:
        found = importlib.import_module(module)
        if hasattr(found, name):
            return getattr(found, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

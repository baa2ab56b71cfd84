"""The old module paths of a release that moved names: one warning, then the names from where
they live now."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Sequence
from typing import Any


def moved(old: str, modules: Sequence[str]) -> Callable[[str], Any]:
    """Warn that module ``old`` is deprecated (once, when it is imported) and return its
    module-level ``__getattr__``: each name from the first of ``modules`` that has it."""
    warnings.warn(
        f"{old} is deprecated and goes in the next release: import from molvae.optimization",
        DeprecationWarning,
        stacklevel=4,  # the importer's line, past importlib's frames
    )

    def __getattr__(name: str) -> Any:
        for module in modules:
            found = importlib.import_module(module)
            if hasattr(found, name):
                return getattr(found, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__

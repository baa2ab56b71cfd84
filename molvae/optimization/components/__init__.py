"""Scoring component kinds: one module per kind, a contract in :mod:`._base`, plugins by entry
point.

A campaign file's ``kind = "..."`` names one of :func:`kinds`: the descriptors (``qed``, ``sa``,
``logp``, ...), ``similarity``, ``substructure``, ``alerts``, ``isomer``, the model heads
(``pred_qed``, ``pred_logp``, ``pred_sa``), ``python``, and every kind an installed package
registers in the entry-point group ``molvae.components``::

    # pyproject.toml of a third-party package
    [project.entry-points."molvae.components"]
    docking = "mypackage.scoring:DockingScore"   # a frozen dataclass subclassing ComponentKind

Its parameters are then keys of ``[[component]]`` tables with ``kind = "docking"``. The kind
must pass :mod:`molvae.testing.components`.

>>> build_scorer("similarity", references=["CCO"], radius=3).radius
3
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from molvae import chem
from molvae.errors import ObjectiveError
from molvae.optimization.components._base import Batch, ComponentKind, Raw, parse, per_molecule
from molvae.optimization.components.alerts import Alerts
from molvae.optimization.components.descriptor import DESCRIPTORS, Descriptor
from molvae.optimization.components.head import Head
from molvae.optimization.components.isomer import Isomer, parse_formula
from molvae.optimization.components.python import PythonFunction
from molvae.optimization.components.similarity import FINGERPRINTS, Similarity
from molvae.optimization.components.substructure import Substructure
from molvae.optimization.parameters import check_keys, parameters, plain_parameters

__all__ = [
    "DESCRIPTORS",
    "ENTRY_POINT_GROUP",
    "FINGERPRINTS",
    "Alerts",
    "Batch",
    "ComponentKind",
    "Descriptor",
    "Head",
    "Isomer",
    "PythonFunction",
    "Raw",
    "Similarity",
    "Substructure",
    "build_scorer",
    "kind_parameters",
    "kinds",
    "parse",
    "parse_formula",
    "per_molecule",
    "scorer_dict",
]

log = logging.getLogger(__name__)

#: The entry-point group through which installed packages add component kinds.
ENTRY_POINT_GROUP = "molvae.components"

#: The kinds molvae ships: name -> (class, the parameters the kind's name fixes).
BUILTIN: dict[str, tuple[type, dict[str, str]]] = {
    **{name: (Descriptor, {"descriptor": name}) for name in DESCRIPTORS},
    "similarity": (Similarity, {}),
    "substructure": (Substructure, {}),
    "alerts": (Alerts, {}),
    "isomer": (Isomer, {}),
    **{f"pred_{name}": (Head, {"target": name}) for name in chem.PROPERTY_NAMES},
    "python": (PythonFunction, {}),
}


def kinds() -> dict[str, tuple[type, dict[str, str]]]:
    """Every component kind: the shipped ones, then those of installed plugins (read from the
    entry points on each call, so a package installed meanwhile is seen). A plugin's class
    declares ``kind`` equal to its entry-point name and may not take a shipped kind's name; one
    that breaks these rules or cannot be imported is left out with a warning."""
    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            log.warning("component plugin %s (%s) is ignored: %r is a kind molvae ships",
                        ep.name, ep.value, ep.name)
            continue
        try:
            cls = ep.load()
        except Exception as err:  # a plugin's import runs its code: anything can go wrong
            log.warning("component plugin %s (%s) cannot be imported: %s: %s",
                        ep.name, ep.value, type(err).__name__, err)
            continue
        if not (isinstance(cls, type) and issubclass(cls, ComponentKind)):
            log.warning("component plugin %s (%s) is not a ComponentKind subclass", ep.name,
                        ep.value)
            continue
        if cls.kind != ep.name:
            log.warning("component plugin %s (%s) is ignored: its class says kind = %r",
                        ep.name, ep.value, cls.kind)
            continue
        found[ep.name] = (cls, {})
    return found


def kind_parameters(kind: str) -> dict[str, tuple[Any, bool]]:
    """The parameters of component kind ``kind``: name -> (type hint, required).

    >>> kind_parameters("substructure")["mode"][1]
    False
    >>> kind_parameters("qed")
    {}

    Raises:
        ObjectiveError: an unknown kind, with the valid choices.
    """
    known = kinds()
    if kind not in known:
        raise ObjectiveError(
            f"unknown component kind {kind!r}; expected one of: {', '.join(sorted(known))}",
            "kind",
        )
    cls, fixed = known[kind]
    return parameters(cls, fixed)


def build_scorer(kind: str, **params: Any) -> ComponentKind:
    """A component kind from its name and parameters, as a campaign file gives them.

    Raises:
        ObjectiveError: an unknown kind, an unknown or missing parameter, a bad value.
    """
    known = kind_parameters(kind)
    check_keys(f"component kind {kind!r}", params, known)
    cls, fixed = kinds()[kind]
    return cls(**fixed, **params)


def scorer_dict(scorer: ComponentKind) -> dict[str, Any]:
    """A component kind as the ``kind`` and parameter keys of a campaign table."""
    known = kinds()
    fixed = known[scorer.kind][1] if scorer.kind in known else {}
    params = {k: v for k, v in plain_parameters(scorer).items() if k not in fixed}
    if isinstance(scorer, PythonFunction):
        params["function"] = scorer.path
    return {"kind": scorer.kind, **params}

"""The contract of a scoring component kind: what molvae gives it, when, and what it returns.

A *component kind* (``qed``, ``similarity``, a plugin's ``docking``...) is a **frozen dataclass**
whose init fields are its parameters, the keys of a campaign file's ``[[component]]`` or
``[[filter]]`` table beside ``kind``; it subclasses :class:`ComponentKind`.

When each part is used:

- ``__init__`` / ``__post_init__``: once, when a campaign file is read or an ``Objective`` is
  built, before any molecule is scored. Check the parameters here and raise
  :class:`~molvae.errors.ObjectiveError` (``key`` = the parameter at fault), so a bad campaign
  fails before the run starts. Parse references, SMARTS and the like here, once.
- ``__call__(batch)``: once per scoring batch (the distinct new molecules of a batch of trials;
  a batch may hold one molecule), in the process of the worker that scores them. It returns a
  :class:`Raw` whose ``values`` has one float per molecule of the batch, in batch order, and
  **NaN** where it cannot compute one -- always for a molecule RDKit could not read
  (``batch.mols[i] is None``). It must not raise for one bad molecule: give NaN and, in
  ``reasons``, why. It must be deterministic (the same batch, the same values) and give a
  molecule the same value in any batch (a batch equals one molecule at a time). Raising is kept
  for misuse that no molecule causes (e.g. a model-head kind scored without latents).
- ``kind``: the name campaign files give (``kind = "..."``); for a plugin, its entry-point name.
- ``unit_range``: True when every raw value lies in [0, 1] (it may be scored with the identity
  transform), False when not (a transform is required), None when unknown (a user's function).
- ``has_details``: True when ``Raw.details`` names what matched (a ``<name>_matches`` column).
- ``cheap``: True when a molecule's value costs about what parsing it costs (RDKit descriptors,
  fingerprints, SMARTS). The search operators check a cheap **filter** before they propose a
  molecule, so that a hard constraint costs no oracle call; False (the default, and a plugin's
  unless it says otherwise) for anything slower or unknown.

Parameters must be picklable plain data (numbers, strings, tuples), so a component can be sent
to another process and written to a run's manifest. :mod:`molvae.testing.components` checks all
of this for any kind: run it on your plugin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
from rdkit import Chem

from molvae import chem

__all__ = ["Batch", "ComponentKind", "Raw", "per_molecule"]


@dataclass(frozen=True)
class Batch:
    """The molecules one scoring call sees: each SMILES parsed once for every component.

    ``z`` (N, Z) and ``predict`` (latents -> (N, 3) head predictions in
    :data:`molvae.chem.PROPERTY_NAMES` order, e.g. ``TrainedModel.predict_properties``) are only
    needed by the model-head components (``pred_qed``, ``pred_logp``, ``pred_sa``).

    >>> batch = Batch.of(["CCO", "not a molecule"])
    >>> len(batch), batch.mols[1] is None
    (2, True)
    """

    smiles: tuple[str, ...]
    mols: tuple[Chem.Mol | None, ...]
    z: np.ndarray | None = None
    predict: Callable[[np.ndarray], np.ndarray] | None = None

    @classmethod
    def of(
        cls,
        smiles: Sequence[str],
        z: np.ndarray | None = None,
        predict: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> Batch:
        """Parse ``smiles`` (``None``, empty and unparsable entries get no molecule)."""
        smiles = tuple(smiles)
        with chem.without_rdkit_log():
            mols = tuple(parse(s) for s in smiles)
        return cls(smiles, mols, z, predict)

    def __len__(self) -> int:
        return len(self.smiles)

    @cached_property
    def properties(self) -> pd.DataFrame:
        """The chemist's property table of the batch (:mod:`molvae.properties`: QED, SA, the
        descriptors and the PAINS / Brenk alerts), computed once on first use and shared by
        every component that reads it and by the run's results table."""
        from molvae.properties import annotate

        return annotate(list(self.mols), workers=1, decimals=None)


def parse(smiles: Any) -> Chem.Mol | None:
    """A molecule with at least one atom, or None (not a string, unreadable, empty)."""
    if not isinstance(smiles, str):
        return None
    mol = chem.to_mol(smiles)
    return mol if mol is not None and mol.GetNumAtoms() else None


class Raw(NamedTuple):
    """What a component kind gives for a batch: ``values`` (N,) float, NaN where it could not
    compute one; optional per-molecule ``reasons`` for those NaNs; optional ``details`` to report
    beside the value (e.g. the names of the alerts matched, ";"-joined)."""

    values: np.ndarray
    reasons: tuple[str, ...] | None = None
    details: tuple[str | None, ...] | None = None


class ComponentKind:
    """Base class of component kinds (see the module docstring for the contract).

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Atoms(ComponentKind):
    ...     kind: ClassVar[str] = "atoms"
    ...     unit_range: ClassVar[bool] = False
    ...     def __call__(self, batch):
    ...         return per_molecule(batch, lambda m: m.GetNumAtoms(), self.kind)
    >>> Atoms()(Batch.of(["CCO", "?"])).values.tolist()
    [3.0, nan]
    """

    kind: ClassVar[str] = ""
    unit_range: ClassVar[bool | None] = None
    has_details: ClassVar[bool] = False
    cheap: ClassVar[bool] = False

    def __call__(self, batch: Batch) -> Raw:
        raise NotImplementedError

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the parameters alone and rebuild from them: what ``__post_init__`` derives
        (fingerprint generators, parsed references) may not pickle, and is rebuilt."""
        if not dataclasses.is_dataclass(self):
            return super().__reduce__()
        params = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        return (_rebuild, (type(self), params))


def _rebuild(cls: type, params: dict[str, Any]) -> ComponentKind:
    return cls(**params)


def per_molecule(batch: Batch, fn: Callable[[Chem.Mol], float | int | None], label: str) -> Raw:
    """Apply ``fn`` to each parsed molecule; NaN (with the reason) where it fails."""
    values = np.full(len(batch), np.nan)
    reasons = [""] * len(batch)
    for i, mol in enumerate(batch.mols):
        if mol is None:
            continue
        try:
            value = fn(mol)
        except (RuntimeError, ValueError, ArithmeticError) as err:
            reasons[i] = f"{label}: RDKit error: {err}"
            continue
        values[i] = np.nan if value is None else float(value)
    return Raw(values, tuple(reasons))

"""Scoring: what a chemist declares a good molecule to be.

An :class:`Objective` has the shape of REINVENT 4's scoring: named **components**, each a *kind*
of raw value (QED, a Tanimoto similarity, a user's Python function...) with its parameters, a
**transform** of the raw value onto [0, 1] and a **weight**; hard constraints (**filters**); and
an **aggregation** of the component scores into one total (weighted geometric mean by default,
or weighted arithmetic mean). Campaign files (:mod:`molvae.campaign`) declare the same objects
in TOML.

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

import importlib
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from typing import Any, ClassVar, Literal, NamedTuple, Protocol, get_type_hints

import numpy as np
import pandas as pd
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from molvae import chem
from molvae.errors import MolVAEError

__all__ = [
    "AGGREGATIONS",
    "CELECOXIB",
    "DESCRIPTORS",
    "DIRECTIONS",
    "KINDS",
    "OSIMERTINIB",
    "TRANSFORMS",
    "Alerts",
    "Batch",
    "Clamp",
    "Component",
    "Descriptor",
    "DoubleSigmoid",
    "Filter",
    "Gaussian",
    "Head",
    "Identity",
    "Isomer",
    "Objective",
    "ObjectiveError",
    "ParetoTarget",
    "PythonFunction",
    "Raw",
    "ReverseSigmoid",
    "Sigmoid",
    "Similarity",
    "Step",
    "Substructure",
    "build_scorer",
    "build_transform",
    "celecoxib_rediscovery",
    "kind_parameters",
    "osimertinib_mpo",
    "penalized_logp",
    "qed_objective",
    "transform_parameters",
]


class ObjectiveError(MolVAEError, ValueError):
    """An objective that cannot be built: an unknown kind or transform, a bad parameter, an
    invalid SMARTS or reference SMILES, a Python function that cannot be imported.

    ``key`` names the parameter at fault (e.g. ``"smarts"``) when there is one, so a campaign
    file can point at the exact key.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def _floats(x: Any) -> np.ndarray:
    """A float64 copy of ``x`` (ints, lists, arrays) for the transforms."""
    return np.array(x, dtype=np.float64)


def _logistic(t: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-t)) without overflow; NaN stays NaN."""
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def _require(ok: bool, message: str, key: str | None = None) -> None:
    if not ok:
        raise ObjectiveError(message, key)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


# --- Transforms: raw value -> [0, 1], vectorized, NaN in -> NaN out -------------------------------


class Transform(Protocol):
    """A map of raw values onto [0, 1] (``identity`` excepted); NaN maps to NaN."""

    type: ClassVar[str]

    def __call__(self, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Identity:
    """The raw value unchanged: for components already in [0, 1] (qed, similarity...), or for
    a Pareto objective kept in its own units.

    >>> Identity()(np.array([0.2, np.nan])).tolist()
    [0.2, nan]
    """

    type: ClassVar[str] = "identity"

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return _floats(x)


@dataclass(frozen=True)
class Clamp:
    """A linear ramp from 0 at ``low`` to 1 at ``high``, clipped to [0, 1]. ``low > high`` ramps
    down: ``Clamp(low=6, high=2)`` scores SA 2 (easy) as 1 and SA 6 as 0.

    >>> Clamp(low=0.0, high=0.8)(np.array([-1.0, 0.4, 0.8, 2.0, np.nan])).tolist()
    [0.0, 0.5, 1.0, 1.0, nan]
    """

    low: float
    high: float
    type: ClassVar[str] = "clamp"

    def __post_init__(self) -> None:
        _require(_finite(self.low) and _finite(self.high), "clamp: low and high must be finite")
        _require(self.low != self.high, f"clamp: low and high must differ (both {self.low})")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip((_floats(x) - self.low) / (self.high - self.low), 0.0, 1.0)


def _sigmoid_argument(x: np.ndarray, low: float, high: float, k: float) -> np.ndarray:
    """The logistic argument of REINVENT's sigmoid: 0 at the midpoint of [low, high]."""
    return 10.0 * k * (_floats(x) - 0.5 * (low + high)) / (high - low) * math.log(10.0)


def _check_sigmoid(name: str, low: float, high: float, k: float) -> None:
    _require(_finite(low) and _finite(high), f"{name}: low and high must be finite")
    _require(low < high, f"{name}: low ({low}) must be below high ({high})")
    _require(_finite(k) and k > 0, f"{name}: k must be positive (got {k})", "k")


@dataclass(frozen=True)
class Sigmoid:
    """REINVENT's sigmoid: rises from ~0 at ``low`` to ~1 at ``high``, 0.5 at the midpoint;
    ``k`` sets the steepness (0.5: about 0.003 at ``low`` and 0.997 at ``high``;
    ``1 / (1 + 10 ** (-10 k (x - mid) / (high - low)))``).

    >>> Sigmoid(low=0.0, high=10.0)(np.array([5.0, np.nan])).tolist()
    [0.5, nan]
    """

    low: float
    high: float
    k: float = 0.5
    type: ClassVar[str] = "sigmoid"

    def __post_init__(self) -> None:
        _check_sigmoid(self.type, self.low, self.high, self.k)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return _logistic(_sigmoid_argument(x, self.low, self.high, self.k))


@dataclass(frozen=True)
class ReverseSigmoid:
    """:class:`Sigmoid` mirrored: ~1 at ``low``, ~0 at ``high``, 0.5 at the midpoint.

    >>> ReverseSigmoid(low=0.0, high=10.0)(np.array([0.0, 5.0])).round(3).tolist()
    [0.997, 0.5]
    """

    low: float
    high: float
    k: float = 0.5
    type: ClassVar[str] = "reverse_sigmoid"

    def __post_init__(self) -> None:
        _check_sigmoid(self.type, self.low, self.high, self.k)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return _logistic(-_sigmoid_argument(x, self.low, self.high, self.k))


@dataclass(frozen=True)
class DoubleSigmoid:
    """A window with soft edges: ~1 well inside [``low``, ``high``], 0.5 at either edge, and
    0.9 / 0.1 at ``softness`` inside / outside an edge (default: a tenth of the window).
    The product of a rising logistic at ``low`` and a falling one at ``high``.

    >>> DoubleSigmoid(low=1.0, high=3.0)(np.array([2.0, 1.0, 0.8, 3.2])).round(2).tolist()
    [1.0, 0.5, 0.1, 0.1]
    """

    low: float
    high: float
    softness: float | None = None
    type: ClassVar[str] = "double_sigmoid"

    def __post_init__(self) -> None:
        _require(_finite(self.low) and _finite(self.high), "double_sigmoid: low/high not finite")
        _require(
            self.low < self.high,
            f"double_sigmoid: low ({self.low}) must be below high ({self.high})",
        )
        _require(
            self.softness is None or (_finite(self.softness) and self.softness > 0),
            f"double_sigmoid: softness must be positive (got {self.softness})",
            "softness",
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        softness = self.softness if self.softness is not None else (self.high - self.low) / 10
        rate = math.log(9.0) / softness  # logistic(rate * softness) == 0.9
        x = _floats(x)
        return _logistic(rate * (x - self.low)) * _logistic(rate * (self.high - x))


@dataclass(frozen=True)
class Step:
    """1 inside [``low``, ``high``] (bounds included), 0 outside; a missing bound is open.

    >>> Step(low=1.0, high=3.0)(np.array([0.0, 1.0, 3.0, 4.0, np.nan])).tolist()
    [0.0, 1.0, 1.0, 0.0, nan]
    """

    low: float | None = None
    high: float | None = None
    type: ClassVar[str] = "step"

    def __post_init__(self) -> None:
        _require(self.low is not None or self.high is not None, "step: give low, high or both")
        _require(
            self.low is None or self.high is None or self.low <= self.high,
            f"step: low ({self.low}) must not exceed high ({self.high})",
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = _floats(x)
        inside = np.ones(x.shape, dtype=bool)
        if self.low is not None:
            inside &= x >= self.low
        if self.high is not None:
            inside &= x <= self.high
        return np.where(np.isnan(x), np.nan, inside.astype(np.float64))


@dataclass(frozen=True)
class Gaussian:
    """``exp(-((x - mu) / sigma)**2 / 2)``: 1 at ``mu``. ``plateau="below"`` scores every value
    at or below ``mu`` 1 (GuacaMol's MinGaussian: "at most mu"), ``"above"`` every value at or
    above it (MaxGaussian: "at least mu").

    >>> Gaussian(mu=1.0, sigma=1.0, plateau="below")(np.array([-3.0, 1.0, 2.0])).round(3).tolist()
    [1.0, 1.0, 0.607]
    """

    mu: float
    sigma: float
    plateau: Literal["none", "below", "above"] = "none"
    type: ClassVar[str] = "gaussian"

    def __post_init__(self) -> None:
        _require(_finite(self.mu), "gaussian: mu must be finite", "mu")
        _require(
            _finite(self.sigma) and self.sigma > 0,
            f"gaussian: sigma must be positive (got {self.sigma})",
            "sigma",
        )
        _require(
            self.plateau in ("none", "below", "above"),
            f"gaussian: plateau must be 'none', 'below' or 'above' (got {self.plateau!r})",
            "plateau",
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = _floats(x)
        if self.plateau == "below":
            x = np.maximum(x, self.mu)  # NaN propagates
        elif self.plateau == "above":
            x = np.minimum(x, self.mu)
        return np.exp(-0.5 * ((x - self.mu) / self.sigma) ** 2)


#: Transform classes by the name a campaign file gives in ``transform.type``.
TRANSFORMS: dict[str, type] = {
    cls.type: cls
    for cls in (Identity, Clamp, Sigmoid, ReverseSigmoid, DoubleSigmoid, Step, Gaussian)
}


def transform_parameters(type_: str) -> dict[str, tuple[Any, bool]]:
    """The parameters of transform ``type_``: name -> (type hint, required).

    >>> sorted(transform_parameters("sigmoid"))
    ['high', 'k', 'low']
    """
    if type_ not in TRANSFORMS:
        raise ObjectiveError(
            f"unknown transform {type_!r}; expected one of: {', '.join(sorted(TRANSFORMS))}",
            "type",
        )
    return _parameters(TRANSFORMS[type_])


def build_transform(type_: str, **params: Any) -> Transform:
    """A transform from its name and parameters, as a campaign file gives them.

    >>> build_transform("clamp", low=0, high=2)
    Clamp(low=0, high=2)

    Raises:
        ObjectiveError: an unknown transform, an unknown or missing parameter, a bad value.
    """
    _check_keys(f"transform {type_!r}", params, transform_parameters(type_))
    return TRANSFORMS[type_](**params)


def _transform_dict(transform: Transform) -> dict[str, Any]:
    return {"type": transform.type, **_plain(transform)}


# --- Batches and raw values -----------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """The molecules one scoring call sees: each SMILES parsed once for every component.

    ``z`` (N, Z) and ``predict`` (latents -> (N, 3) head predictions in
    :data:`molvae.chem.PROPERTY_NAMES` order, e.g. ``TrainedModel.predict_properties``) are only
    needed by the model-head components (``pred_qed``, ``pred_logp``, ``pred_sa``).
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
            mols = tuple(_parse(s) for s in smiles)
        return cls(smiles, mols, z, predict)

    def __len__(self) -> int:
        return len(self.smiles)


def _parse(smiles: Any) -> Chem.Mol | None:
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


class Scorer(Protocol):
    """A component kind: a frozen dataclass of parameters whose call gives the raw values."""

    @property
    def kind(self) -> str: ...

    #: Whether every raw value lies in [0, 1] (True), may not (False) or nobody knows (None).
    @property
    def unit_range(self) -> bool | None: ...

    def __call__(self, batch: Batch) -> Raw: ...


def _per_molecule(batch: Batch, fn: Callable[[Chem.Mol], float | int | None], label: str) -> Raw:
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


def _heavy_atoms(mol: Chem.Mol) -> int:
    return mol.GetNumHeavyAtoms()


#: The descriptor kinds: name -> the :mod:`molvae.chem` verb computing it from a molecule.
DESCRIPTORS: dict[str, Callable[[Chem.Mol], float | int | None]] = {
    "qed": chem.qed,
    "sa": chem.sa_score,
    "logp": chem.logp,
    "mw": chem.mol_weight,
    "tpsa": chem.tpsa,
    "hbd": chem.hbd,
    "hba": chem.hba,
    "rotatable_bonds": chem.rotatable_bonds,
    "rings": chem.ring_count,
    "aromatic_rings": chem.aromatic_ring_count,
    "fraction_sp3": chem.fraction_sp3,
    "formal_charge": chem.formal_charge,
    "lipinski_violations": chem.lipinski_violations,
    "heavy_atoms": _heavy_atoms,
}
_UNIT_DESCRIPTORS = frozenset({"qed", "fraction_sp3"})


@dataclass(frozen=True)
class Descriptor:
    """A :mod:`molvae.chem` descriptor (a key of :data:`DESCRIPTORS`) as a component kind.

    >>> Descriptor("mw")(Batch.of(["CCO", "?"])).values.round(2).tolist()
    [46.07, nan]
    """

    descriptor: str

    def __post_init__(self) -> None:
        _require(
            self.descriptor in DESCRIPTORS,
            f"unknown descriptor {self.descriptor!r}; expected one of: "
            f"{', '.join(sorted(DESCRIPTORS))}",
            "kind",
        )

    @property
    def kind(self) -> str:
        return self.descriptor

    @property
    def unit_range(self) -> bool:
        return self.descriptor in _UNIT_DESCRIPTORS

    def __call__(self, batch: Batch) -> Raw:
        return _per_molecule(batch, DESCRIPTORS[self.descriptor], self.descriptor)


@dataclass(frozen=True)
class Similarity:
    """Tanimoto similarity to one or more reference molecules (combined by ``combine``: the
    ``"max"`` over references by default).

    The fingerprint is Morgan's: ``radius`` 2 (ECFP4-like) by default, ``bits`` long (0: not
    folded, RDKit's sparse fingerprint, as GuacaMol uses), of ``counts`` instead of bits
    (Tanimoto on counts), with ``features`` (pharmacophoric atom invariants: FCFP) instead of
    atom identities. GuacaMol's ECFP4 is ``radius=2, bits=0, counts=True``; ECFP6 ``radius=3``;
    FCFP4 ``radius=2, features=True`` (both unfolded, counts).

    >>> Similarity(("c1ccccc1O",))(Batch.of(["c1ccccc1O", "c1ccccc1N", "?"])).values.round(2)
    array([1.  , 0.38,  nan])
    """

    references: tuple[str, ...]
    radius: int = 2
    bits: int = 2048
    counts: bool = False
    features: bool = False
    combine: Literal["max", "mean", "min"] = "max"
    kind: ClassVar[str] = "similarity"
    unit_range: ClassVar[bool] = True
    _fps: tuple = field(init=False, repr=False, compare=False)
    _generator: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.references, str):
            object.__setattr__(self, "references", (self.references,))
        object.__setattr__(self, "references", tuple(self.references))
        _require(
            len(self.references) > 0, "similarity: give at least one reference SMILES", "references"
        )
        _require(
            isinstance(self.radius, int) and self.radius >= 0,
            f"similarity: radius must be a non-negative integer (got {self.radius})",
            "radius",
        )
        _require(
            isinstance(self.bits, int) and self.bits >= 0,
            f"similarity: bits must be a non-negative integer, 0 for unfolded (got {self.bits})",
            "bits",
        )
        _require(
            self.combine in ("max", "mean", "min"),
            f"similarity: combine must be 'max', 'mean' or 'min' (got {self.combine!r})",
            "combine",
        )
        kwargs: dict[str, Any] = {"radius": self.radius, "fpSize": self.bits or 2048}
        if self.features:
            kwargs["atomInvariantsGenerator"] = rdFingerprintGenerator.GetMorganFeatureAtomInvGen()
        object.__setattr__(self, "_generator", rdFingerprintGenerator.GetMorganGenerator(**kwargs))
        fps = []
        for smiles in self.references:
            mol = _parse(smiles) if isinstance(smiles, str) else None
            _require(
                mol is not None, f"similarity: invalid reference SMILES {smiles!r}", "references"
            )
            fps.append(self.fingerprint(mol))
        object.__setattr__(self, "_fps", tuple(fps))

    def fingerprint(self, mol: Chem.Mol) -> Any:
        """The fingerprint these parameters describe."""
        gen = self._generator
        if self.bits == 0:
            return (
                gen.GetSparseCountFingerprint(mol) if self.counts else gen.GetSparseFingerprint(mol)
            )
        return gen.GetCountFingerprint(mol) if self.counts else gen.GetFingerprint(mol)

    def __call__(self, batch: Batch) -> Raw:
        present = [i for i, m in enumerate(batch.mols) if m is not None]
        values = np.full(len(batch), np.nan)
        if present:
            fps = [self.fingerprint(batch.mols[i]) for i in present]
            sims = np.array([DataStructs.BulkTanimotoSimilarity(ref, fps) for ref in self._fps])
            combine = {"max": np.max, "mean": np.mean, "min": np.min}[self.combine]
            values[present] = combine(sims, axis=0)  # (references, present) -> (present,)
        return Raw(values)


def _smarts(pattern: str) -> Chem.Mol:
    with chem.without_rdkit_log():
        query = Chem.MolFromSmarts(pattern) if isinstance(pattern, str) and pattern else None
    _require(query is not None, f"invalid SMARTS {pattern!r}", "smarts")
    return query


@dataclass(frozen=True)
class Substructure:
    """SMARTS patterns a molecule must contain (``mode="required"``: 1 if all match, else 0) or
    must not (``"forbidden"``: 1 if none match, else 0). ``details`` lists the patterns missing
    (required) or present (forbidden).

    >>> Substructure(("c1ccccc1",))(Batch.of(["c1ccccc1O", "CCO"])).values.tolist()
    [1.0, 0.0]

    Raises:
        ObjectiveError: an invalid SMARTS, named.
    """

    smarts: tuple[str, ...]
    mode: Literal["required", "forbidden"] = "required"
    kind: ClassVar[str] = "substructure"
    unit_range: ClassVar[bool] = True
    _queries: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.smarts, str):
            object.__setattr__(self, "smarts", (self.smarts,))
        object.__setattr__(self, "smarts", tuple(self.smarts))
        _require(len(self.smarts) > 0, "substructure: give at least one SMARTS", "smarts")
        _require(
            self.mode in ("required", "forbidden"),
            f"substructure: mode must be 'required' or 'forbidden' (got {self.mode!r})",
            "mode",
        )
        object.__setattr__(self, "_queries", tuple(_smarts(s) for s in self.smarts))

    def __call__(self, batch: Batch) -> Raw:
        values = np.full(len(batch), np.nan)
        details: list[str | None] = [None] * len(batch)
        for i, mol in enumerate(batch.mols):
            if mol is None:
                continue
            hits = [mol.HasSubstructMatch(q) for q in self._queries]
            if self.mode == "required":
                values[i] = float(all(hits))
                noted = [s for s, hit in zip(self.smarts, hits, strict=True) if not hit]
            else:
                values[i] = float(not any(hits))
                noted = [s for s, hit in zip(self.smarts, hits, strict=True) if hit]
            details[i] = ";".join(noted)
        return Raw(values, None, tuple(details))


@dataclass(frozen=True)
class Alerts:
    """Structural alerts: 1 if the molecule matches none of the ``catalogs`` (``"pains"``,
    ``"brenk"``), else 0; ``details`` names the alerts matched.

    >>> raw = Alerts(("pains",))(Batch.of(["O=C1C(=Cc2ccc(O)c(O)c2)SC(=S)N1", "CCO"]))
    >>> raw.values.tolist(), raw.details
    ([0.0, 1.0], ('ene_rhod_A(235);catechol_A(92)', ''))
    """

    catalogs: tuple[Literal["pains", "brenk"], ...] = ("pains", "brenk")
    kind: ClassVar[str] = "alerts"
    unit_range: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if isinstance(self.catalogs, str):
            object.__setattr__(self, "catalogs", (self.catalogs,))
        object.__setattr__(self, "catalogs", tuple(self.catalogs))
        _require(len(self.catalogs) > 0, "alerts: give at least one catalog", "catalogs")
        for name in self.catalogs:
            _require(
                name in ("pains", "brenk"),
                f"alerts: unknown catalog {name!r}; expected one of: brenk, pains",
                "catalogs",
            )

    def __call__(self, batch: Batch) -> Raw:
        values = np.full(len(batch), np.nan)
        details: list[str | None] = [None] * len(batch)
        for i, mol in enumerate(batch.mols):
            if mol is None:
                continue
            names = [name for c in self.catalogs for name in chem.alerts(mol, c) or []]
            values[i] = float(not names)
            details[i] = ";".join(names)
        return Raw(values, None, tuple(details))


@cache
def _elements() -> frozenset[str]:
    table = Chem.GetPeriodicTable()
    return frozenset(table.GetElementSymbol(z) for z in range(1, 119))


def parse_formula(formula: str) -> dict[str, int]:
    """Element counts of a molecular formula such as ``"C9H10N2O2PF2Cl"``.

    >>> parse_formula("C7H8N2O2")
    {'C': 7, 'H': 8, 'N': 2, 'O': 2}

    Raises:
        ObjectiveError: not a formula, or an unknown element.
    """
    _require(
        isinstance(formula, str) and re.fullmatch(r"(?:[A-Z][a-z]?\d*)+", formula or ""),
        f"isomer: {formula!r} is not a molecular formula such as 'C11H24'",
        "formula",
    )
    counts: Counter[str] = Counter()
    for element, number in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        _require(
            element in _elements(), f"isomer: unknown element {element!r} in {formula!r}", "formula"
        )
        counts[element] += int(number) if number else 1
    return dict(counts)


@dataclass(frozen=True)
class Isomer:
    """Closeness to a molecular formula, as GuacaMol scores isomer tasks: a Gaussian of each
    element's count (hydrogens included) around its target (sigma 1), and one of the total atom
    count (sigma 2), combined by a geometric (default) or arithmetic mean. 1 for an isomer;
    elements absent from the formula count only through the total.

    >>> Isomer("C2H6O")(Batch.of(["CCO", "COC", "CCC"])).values.round(3).tolist()
    [1.0, 1.0, 0.417]
    """

    formula: str
    mean: Literal["geometric", "arithmetic"] = "geometric"
    kind: ClassVar[str] = "isomer"
    unit_range: ClassVar[bool] = True
    _target: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _require(
            self.mean in ("geometric", "arithmetic"),
            f"isomer: mean must be 'geometric' or 'arithmetic' (got {self.mean!r})",
            "mean",
        )
        object.__setattr__(self, "_target", tuple(parse_formula(self.formula).items()))

    def _score(self, mol: Chem.Mol) -> float:
        counts = Counter(atom.GetSymbol() for atom in Chem.AddHs(mol).GetAtoms())
        total = sum(n for _, n in self._target)
        terms = [math.exp(-0.5 * (counts[e] - n) ** 2) for e, n in self._target]
        terms.append(math.exp(-0.5 * ((sum(counts.values()) - total) / 2.0) ** 2))
        if self.mean == "arithmetic":
            return sum(terms) / len(terms)
        return math.prod(terms) ** (1.0 / len(terms))

    def __call__(self, batch: Batch) -> Raw:
        return _per_molecule(batch, self._score, "isomer")


@dataclass(frozen=True)
class Head:
    """A property head of the model (``target`` ``"qed"``, ``"logp"`` or ``"sa"``): its
    prediction from the latent point rather than RDKit's value from the decoded molecule.
    Scoring needs ``z`` and ``predict`` (see :class:`Batch`).

    >>> fake = lambda z: np.column_stack([z[:, 0], 2 * z[:, 0], 3 * z[:, 0]])  # (N, 3)
    >>> Head("logp")(Batch.of(["CCO"], z=np.array([[0.5, 0.0]]), predict=fake)).values.tolist()
    [1.0]
    """

    target: Literal["qed", "logp", "sa"]

    def __post_init__(self) -> None:
        _require(
            self.target in chem.PROPERTY_NAMES,
            f"unknown model head {self.target!r}; expected one of: "
            f"{', '.join(chem.PROPERTY_NAMES)}",
            "kind",
        )

    @property
    def kind(self) -> str:
        return f"pred_{self.target}"

    @property
    def unit_range(self) -> bool:
        return self.target == "qed"

    def __call__(self, batch: Batch) -> Raw:
        if batch.z is None or batch.predict is None:
            raise ObjectiveError(
                f"component kind {self.kind!r} reads the model's property head: score with the "
                "latents and a predictor, e.g. objective.score(smiles, z=z, "
                "predict=model.predict_properties)"
            )
        z = np.asarray(batch.z)
        if z.ndim != 2 or z.shape[0] != len(batch):
            raise ObjectiveError(
                f"{self.kind}: z must be (N, Z) with N = {len(batch)} molecules; got {z.shape}"
            )
        pred = np.asarray(batch.predict(z), dtype=np.float64)
        if pred.shape != (len(batch), len(chem.PROPERTY_NAMES)):
            raise ObjectiveError(
                f"{self.kind}: predict must return (N, {len(chem.PROPERTY_NAMES)}) values in "
                f"the order {chem.PROPERTY_NAMES}; got shape {pred.shape}"
            )
        values = pred[:, chem.PROPERTY_NAMES.index(self.target)].copy()
        values[[m is None for m in batch.mols]] = np.nan  # no molecule, no score
        return Raw(values)


def _import_function(path: str) -> Callable[..., Any]:
    module_name, sep, qualname = path.partition(":")
    _require(
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
    _require(callable(target), f"python: {path!r} is not callable", "function")
    return target


@dataclass(frozen=True)
class PythonFunction:
    """A user's function as a component: ``"package.module:function"`` (or the callable
    itself), called with a list of SMILES (only those RDKit can read) and returning one float
    per SMILES, NaN (or None) where it cannot score one.

    A function that raises, or returns the wrong number of values or a non-number, marks every
    molecule of that batch failed with the reason; the run goes on.

    >>> PythonFunction("molvae.objectives:penalized_logp")(Batch.of(["CCO"])).values.round(2)
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
            _require(
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


#: Component kinds: name -> (class, the parameters the kind's name fixes).
KINDS: dict[str, tuple[type, dict[str, str]]] = {
    **{name: (Descriptor, {"descriptor": name}) for name in DESCRIPTORS},
    "similarity": (Similarity, {}),
    "substructure": (Substructure, {}),
    "alerts": (Alerts, {}),
    "isomer": (Isomer, {}),
    **{f"pred_{name}": (Head, {"target": name}) for name in chem.PROPERTY_NAMES},
    "python": (PythonFunction, {}),
}


def _parameters(cls: type, fixed: Mapping[str, Any] = {}) -> dict[str, tuple[Any, bool]]:
    hints = get_type_hints(cls)
    return {
        f.name: (hints[f.name], f.default is MISSING and f.default_factory is MISSING)
        for f in fields(cls)
        if f.init and not f.name.startswith("_") and f.name not in fixed
    }


def kind_parameters(kind: str) -> dict[str, tuple[Any, bool]]:
    """The parameters of component kind ``kind``: name -> (type hint, required).

    >>> kind_parameters("substructure")["mode"][1]
    False
    >>> kind_parameters("qed")
    {}

    Raises:
        ObjectiveError: an unknown kind, with the valid choices.
    """
    if kind not in KINDS:
        raise ObjectiveError(
            f"unknown component kind {kind!r}; expected one of: {', '.join(sorted(KINDS))}",
            "kind",
        )
    cls, fixed = KINDS[kind]
    return _parameters(cls, fixed)


def _check_keys(what: str, params: Mapping[str, Any], known: Mapping[str, tuple]) -> None:
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


def build_scorer(kind: str, **params: Any) -> Scorer:
    """A component kind from its name and parameters, as a campaign file gives them.

    >>> build_scorer("similarity", references=["CCO"], radius=3).radius
    3

    Raises:
        ObjectiveError: an unknown kind, an unknown or missing parameter, a bad value.
    """
    known = kind_parameters(kind)
    _check_keys(f"component kind {kind!r}", params, known)
    cls, fixed = KINDS[kind]
    return cls(**fixed, **params)


def _plain(obj: Any) -> dict[str, Any]:
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


def _scorer_dict(scorer: Scorer) -> dict[str, Any]:
    cls, fixed = KINDS[scorer.kind]
    params = {k: v for k, v in _plain(scorer).items() if k not in fixed}
    if isinstance(scorer, PythonFunction):
        params["function"] = scorer.path
    return {"kind": scorer.kind, **params}


# --- Components, filters, objective ---------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = frozenset({"smiles", "score", "state", "failure", "passed_filters"})


def _check_name(name: str, what: str) -> None:
    _require(
        isinstance(name, str) and bool(_NAME.fullmatch(name)),
        f"{what} name {name!r} must be a letter or underscore followed by letters, digits "
        "or underscores",
        "name",
    )
    _require(
        name not in _RESERVED,
        f"{what} name {name!r} is taken by a column of the score table "
        f"({', '.join(sorted(_RESERVED))})",
        "name",
    )


@dataclass(frozen=True)
class Component:
    """A named raw value (``scorer``), its ``transform`` onto [0, 1] and its ``weight`` in the
    total (0: reported, and usable as a Pareto objective, but not part of the total).

    >>> Component("mw", Descriptor("mw"), Step(high=500.0)).score(["CCO"]).tolist()
    [1.0]
    """

    name: str
    scorer: Scorer
    transform: Transform = field(default_factory=Identity)
    weight: float = 1.0

    def __post_init__(self) -> None:
        _check_name(self.name, "component")
        _require(
            isinstance(self.weight, int | float)
            and _finite(float(self.weight))
            and self.weight >= 0,
            f"component {self.name!r}: weight must be a finite number >= 0 (got {self.weight!r})",
            "weight",
        )
        _require(
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
            **_scorer_dict(self.scorer),
            "weight": self.weight,
            "transform": _transform_dict(self.transform),
        }


def _bound(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Filter:
    """A hard constraint: the raw value of ``scorer`` must be >= ``min`` and/or <= ``max``. A
    molecule that breaks one scores 0 with the reason, e.g. ``"filter sa <= 4.5 failed (6.12)"``.

    >>> Filter("sa", Descriptor("sa"), max=4.5).describe()
    'sa <= 4.5'
    """

    name: str
    scorer: Scorer
    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "filter")
        _require(
            self.min is not None or self.max is not None,
            f"filter {self.name!r}: give min, max or both (e.g. max = 4.5 for SA, min = 1 "
            "for a required substructure)",
            "min",
        )
        for key in ("min", "max"):
            value = getattr(self, key)
            _require(
                value is None or (isinstance(value, int | float) and _finite(value)),
                f"filter {self.name!r}: {key} must be a finite number (got {value!r})",
                key,
            )
        _require(
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
        out = {"name": self.name, **_scorer_dict(self.scorer)}
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
        _require(
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
        _require(len(self.components) > 0, "an objective needs at least one component", "component")
        _require(
            self.aggregate in AGGREGATIONS,
            f"unknown aggregation {self.aggregate!r}; expected one of: {', '.join(AGGREGATIONS)}",
            "method",
        )
        _require(
            sum(c.weight for c in self.components) > 0,
            "at least one component needs a weight above 0",
            "weight",
        )
        seen: dict[str, str] = {}
        for owner, columns in self._owned_columns():
            for column in columns:
                _require(
                    column not in seen,
                    f"{owner} makes a column {column!r} that {seen.get(column)} makes too; "
                    "rename one",
                    "name",
                )
                seen[column] = owner
        names = [c.name for c in self.components]
        targets = [t.component for t in self.objectives]
        for target in targets:
            _require(
                target in names,
                f"objective names no component {target!r}; components: {', '.join(names)}",
                "objective",
            )
        dupes = sorted({t for t in targets if targets.count(t) > 1})
        _require(
            not dupes,
            f"component {dupes[0] if dupes else ''!r} is listed twice as an objective",
            "objective",
        )

    def _owned_columns(self) -> list[tuple[str, list[str]]]:
        out = []
        for c in self.components:
            cols = [c.name, f"{c.name}_score"]
            if isinstance(c.scorer, Substructure | Alerts):
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
        batch = Batch.of(smiles, z, predict)
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
            if isinstance(c.scorer, Substructure | Alerts):
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
        _require(self.multi_objective, "this objective lists no Pareto objectives", "objective")
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


# --- A plain function a user might write, and the benchmark objectives ----------------------------

# JT-VAE's normalization of penalized logP (Jin et al. 2018): means and standard deviations of
# logP, -SA and -cycle over the 250k ZINC molecules of Gomez-Bombarelli et al.
_PLOGP_NORM = {
    "logp": (2.4570953396190123, 1.434324401111988),
    "sa": (-3.0525811293166134, 0.8335207024513095),
    "cycle": (-0.0485696876403053, 0.2860212110245455),
}


def penalized_logp(smiles: Sequence[str]) -> list[float]:
    """Penalized logP as JT-VAE's constrained optimization scores it: standardized logP minus
    standardized SA minus a standardized penalty for rings larger than six atoms (largest ring
    size - 6, from RDKit's ring perception); NaN for unreadable SMILES.

    A plain function of the shape the ``python`` component takes (list of SMILES -> list of
    floats); ``optimize/custom_python.toml`` uses it as the example.

    >>> [round(v, 2) for v in penalized_logp(["c1ccccc1CCCC", "not a molecule"])]
    [2.91, nan]
    """
    out = []
    for s in smiles:
        with chem.without_rdkit_log():
            mol = _parse(s)
        if mol is None:
            out.append(math.nan)
            continue
        rings = [len(r) for r in mol.GetRingInfo().AtomRings()]
        cycle = max(0, max(rings, default=0) - 6)
        terms = {"logp": chem.logp(mol), "sa": -chem.sa_score(mol), "cycle": -cycle}
        out.append(sum((v - _PLOGP_NORM[k][0]) / _PLOGP_NORM[k][1] for k, v in terms.items()))
    return out


#: Osimertinib and celecoxib as GuacaMol gives them (``guacamol/standard_benchmarks.py``).
OSIMERTINIB = "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34"
CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"


def qed_objective() -> Objective:
    """GuacaMol's QED task: maximize RDKit's QED (its ceiling is about 0.948)."""
    return Objective(components=(Component("qed", Descriptor("qed")),))


def osimertinib_mpo() -> Objective:
    """GuacaMol's Osimertinib MPO: near osimertinib (FCFP4 counts Tanimoto, linear up to 0.8)
    but not too near (ECFP6 counts Tanimoto, 1 up to 0.85 then a Gaussian, sigma 0.1), TPSA of
    at least 100 (Gaussian below, sigma 10) and logP of at most 1 (Gaussian above, sigma 1),
    geometric mean. Osimertinib itself scores only about 0.13: its ECFP6 similarity to itself
    (1.0) is "too similar", its TPSA (87.6) below 100 and its logP (4.5) far above 1.

    >>> round(float(osimertinib_mpo()([OSIMERTINIB])[0]), 3)
    0.133
    """
    fcfp4 = Similarity((OSIMERTINIB,), radius=2, bits=0, counts=True, features=True)
    ecfp6 = Similarity((OSIMERTINIB,), radius=3, bits=0, counts=True)
    return Objective(
        components=(
            Component("similarity_fcfp4", fcfp4, Clamp(low=0.0, high=0.8)),
            Component("similarity_ecfp6", ecfp6, Gaussian(mu=0.85, sigma=0.1, plateau="below")),
            Component("tpsa", Descriptor("tpsa"), Gaussian(mu=100.0, sigma=10.0, plateau="above")),
            Component("logp", Descriptor("logp"), Gaussian(mu=1.0, sigma=1.0, plateau="below")),
        ),
        aggregate="geometric",
    )


def celecoxib_rediscovery() -> Objective:
    """GuacaMol's Celecoxib rediscovery: Tanimoto similarity to celecoxib on ECFP4 (Morgan
    radius 2, unfolded counts); 1.0 only for celecoxib itself.

    >>> float(celecoxib_rediscovery()([CELECOXIB])[0])
    1.0
    """
    ecfp4 = Similarity((CELECOXIB,), radius=2, bits=0, counts=True)
    return Objective(components=(Component("similarity", ecfp4, Clamp(low=0.0, high=1.0)),))

"""Transforms: a component's raw value onto [0, 1], vectorized, NaN in -> NaN out.

Each is a frozen dataclass whose fields are the keys of a campaign file's ``transform`` table
(``type`` names the class). They follow REINVENT 4's score transforms, plus GuacaMol's Gaussian
plateaus (``MinGaussian`` / ``MaxGaussian``).

>>> build_transform("clamp", low=0.0, high=2.0)(np.array([1.0, 3.0, np.nan])).tolist()
[0.5, 1.0, nan]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

import numpy as np

from molvae.errors import ObjectiveError
from molvae.optimization.parameters import (
    check_keys,
    finite,
    parameters,
    plain_parameters,
    require,
)

__all__ = [
    "TRANSFORMS",
    "Clamp",
    "DoubleSigmoid",
    "Gaussian",
    "Identity",
    "ReverseSigmoid",
    "Sigmoid",
    "Step",
    "Transform",
    "build_transform",
    "transform_dict",
    "transform_parameters",
]


def _floats(x: Any) -> np.ndarray:
    """A float64 copy of ``x`` (ints, lists, arrays) for the transforms."""
    return np.array(x, dtype=np.float64)


def _logistic(t: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-t)) without overflow; NaN stays NaN."""
    return 0.5 * (1.0 + np.tanh(0.5 * t))


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
        require(finite(self.low) and finite(self.high), "clamp: low and high must be finite")
        require(self.low != self.high, f"clamp: low and high must differ (both {self.low})")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.clip((_floats(x) - self.low) / (self.high - self.low), 0.0, 1.0)


def _sigmoid_argument(x: np.ndarray, low: float, high: float, k: float) -> np.ndarray:
    """The logistic argument of REINVENT's sigmoid: 0 at the midpoint of [low, high]."""
    return 10.0 * k * (_floats(x) - 0.5 * (low + high)) / (high - low) * math.log(10.0)


def _check_sigmoid(name: str, low: float, high: float, k: float) -> None:
    require(finite(low) and finite(high), f"{name}: low and high must be finite")
    require(low < high, f"{name}: low ({low}) must be below high ({high})")
    require(finite(k) and k > 0, f"{name}: k must be positive (got {k})", "k")


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
        require(finite(self.low) and finite(self.high), "double_sigmoid: low/high not finite")
        require(
            self.low < self.high,
            f"double_sigmoid: low ({self.low}) must be below high ({self.high})",
        )
        require(
            self.softness is None or (finite(self.softness) and self.softness > 0),
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
        require(self.low is not None or self.high is not None, "step: give low, high or both")
        require(
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
        require(finite(self.mu), "gaussian: mu must be finite", "mu")
        require(
            finite(self.sigma) and self.sigma > 0,
            f"gaussian: sigma must be positive (got {self.sigma})",
            "sigma",
        )
        require(
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
    return parameters(TRANSFORMS[type_])


def build_transform(type_: str, **params: Any) -> Transform:
    """A transform from its name and parameters, as a campaign file gives them.

    >>> build_transform("clamp", low=0, high=2)
    Clamp(low=0, high=2)

    Raises:
        ObjectiveError: an unknown transform, an unknown or missing parameter, a bad value.
    """
    check_keys(f"transform {type_!r}", params, transform_parameters(type_))
    return TRANSFORMS[type_](**params)


def transform_dict(transform: Transform) -> dict[str, Any]:
    """A transform as a campaign file's ``transform`` table."""
    return {"type": transform.type, **plain_parameters(transform)}


"""What a study's trial holds for molvae: the molecule, its scores, where its point came from.

A trial stores, in its user attributes:

- ``smiles``: the decoded molecule (shown by Optuna's dashboard beside the trial's value);
- ``molvae``: the record, ``{"oracle", "worker", "time", "source", "w", "row"?, "seed"?}``:
  ``oracle`` is true for the trial that scored the molecule (one per molecule: the budget counts
  these), false for a later trial that decoded to a molecule already scored and reused its
  score; ``row`` (oracle trials only) the objective's columns; ``w`` the whitened latent point,
  float32, base64 (:func:`encode_point`), so the point is in the study whether or not the
  sampler wrote it as Optuna parameters; ``source`` what proposed it (``seed``, a sampler's
  name...); ``seed`` the index of a campaign seed.

A trial written whole by molvae's own samplers has no Optuna parameters: 64 parameters cost
about 19 kB of journal a trial, the record about 1 kB. Trials asked through an Optuna sampler
also hold their parameters, as that sampler needs. Every record also names its worker's
``session`` and batch (``seq``): the budget's reservations (failed trials of their own, one a
batch: :mod:`molvae.optimization.budget`) are settled by them.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

__all__ = [
    "ATTR",
    "FINISHED",
    "Record",
    "decode_point",
    "encode_point",
    "plain",
    "point_of",
    "record_of",
]

#: The trial user attribute holding molvae's record.
ATTR = "molvae"
#: Trial states whose records count.
FINISHED = (TrialState.COMPLETE, TrialState.FAIL)


def encode_point(w: np.ndarray) -> str:
    """A point as base64 of its float32 values: exact for float32, a quarter of a JSON list.

    >>> decode_point(encode_point(np.array([0.5, -1.25]))).tolist()
    [0.5, -1.25]
    """
    return base64.b64encode(np.asarray(w, dtype="<f4").tobytes()).decode("ascii")


def decode_point(text: str) -> np.ndarray:
    """The float64 point :func:`encode_point` wrote."""
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float64)


def plain(value: Any) -> Any:
    """JSON-safe scalars: numpy -> Python, NaN -> None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is None:
        return None
    return value


@dataclass
class Record:
    """One scored molecule: the first (oracle) trial that scored it."""

    smiles: str
    row: dict[str, Any]  # the objective's columns (without smiles)
    trial: int
    worker: str
    time: float
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    w: np.ndarray | None = None  # the whitened point its trial evaluated (None: not recorded)


def record_of(trial: optuna.trial.FrozenTrial) -> Record | None:
    """The scored molecule of an oracle trial; None for any other trial."""
    info = trial.user_attrs.get(ATTR)
    if not isinstance(info, Mapping) or not info.get("oracle"):
        return None
    smiles = trial.user_attrs.get("smiles", info.get("smiles"))  # older studies: in the record
    if not isinstance(smiles, str):
        return None
    row = {k: (math.nan if v is None else v) for k, v in info.get("row", {}).items()}
    w = None
    if isinstance(info.get("w"), str):
        try:
            w = decode_point(info["w"])
        except ValueError:
            w = None
    return Record(smiles, row, trial.number, info.get("worker", ""), info.get("time", 0.0),
                  info.get("source", ""), w=w)


def point_of(trial: optuna.trial.FrozenTrial, names: list[str]) -> np.ndarray | None:
    """A trial's whitened point: its record's ``w``, else its Optuna parameters ``names``;
    None when it has neither (or another dimension)."""
    info = trial.user_attrs.get(ATTR)
    if isinstance(info, Mapping) and isinstance(info.get("w"), str):
        try:
            w = decode_point(info["w"])
        except ValueError:
            w = None
        if w is not None and len(w) == len(names):
            return w
    params = trial.params
    if names and all(n in params for n in names):
        return np.array([params[n] for n in names], dtype=np.float64)
    return None


def seed_of(trial: optuna.trial.FrozenTrial) -> int | None:
    """The campaign seed a trial evaluated (its index), if any."""
    info = trial.user_attrs.get(ATTR)
    seed = info.get("seed") if isinstance(info, Mapping) else None
    return seed if isinstance(seed, int) else None

"""Model-head kinds (``pred_qed``, ``pred_logp``, ``pred_sa``): the model's own prediction of a
property from the latent point, free of RDKit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from molvae import chem
from molvae.errors import ObjectiveError
from molvae.optimization.components._base import Batch, ComponentKind, Raw
from molvae.optimization.parameters import require

__all__ = ["Head"]


@dataclass(frozen=True)
class Head(ComponentKind):
    """A property head of the model (``target`` ``"qed"``, ``"logp"`` or ``"sa"``): its
    prediction from the latent point rather than RDKit's value from the decoded molecule.
    Scoring needs ``z`` and ``predict`` (see :class:`Batch`).

    >>> fake = lambda z: np.column_stack([z[:, 0], 2 * z[:, 0], 3 * z[:, 0]])  # (N, 3)
    >>> Head("logp")(Batch.of(["CCO"], z=np.array([[0.5, 0.0]]), predict=fake)).values.tolist()
    [1.0]
    """

    target: Literal["qed", "logp", "sa"]

    def __post_init__(self) -> None:
        require(
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


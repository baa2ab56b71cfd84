"""The values a latent map is coloured by: an RDKit property of each molecule, a prediction of
the model's property heads, or a numeric column of the input file.

>>> colour_values(["CCO", "c1ccccc1"], "qed").round(2).tolist()
[0.41, 0.44]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from molvae.chem import logp, qed, sa_score, without_rdkit_log
from molvae.errors import MolVAEError
from molvae.workers import map_chunks

if TYPE_CHECKING:
    from molvae.trained import TrainedModel

#: Properties computed with RDKit from the SMILES.
CHEM_PROPERTIES: dict[str, Callable[[str], float]] = {"qed": qed, "logp": logp, "sa": sa_score}
#: Properties predicted by the model's heads from the latents (column of ``predict_properties``).
PREDICTED_PROPERTIES: dict[str, int] = {"pred_qed": 0, "pred_logp": 1, "pred_sa": 2}

_LABELS = {
    "qed": "QED",
    "logp": "logP (Crippen)",
    "sa": "SA score",
    "pred_qed": "QED (predicted)",
    "pred_logp": "logP (predicted)",
    "pred_sa": "SA score (predicted)",
}


def property_label(name: str) -> str:
    """A readable axis label for a property name (the name itself for data-file columns).

    >>> property_label("logp")
    'logP (Crippen)'
    """
    return _LABELS.get(name, name)


def check_property(name: str, columns: Sequence[str] = ()) -> None:
    """Raise unless ``name`` is a known property or one of ``columns``.

    >>> check_property("qed")

    Raises:
        MolVAEError: an unknown name; the message lists the choices.
    """
    if name in CHEM_PROPERTIES or name in PREDICTED_PROPERTIES or name in columns:
        return
    choices = ", ".join([*CHEM_PROPERTIES, *PREDICTED_PROPERTIES])
    cols = f"; columns of the data file: {', '.join(columns)}" if columns else ""
    raise MolVAEError(f"unknown property {name!r} to colour by: choose {choices} "
                      f"or a numeric column of the data file{cols}")


def _property_chunk(name: str, smiles: list[str]) -> list[float]:
    fn = CHEM_PROPERTIES[name]
    with without_rdkit_log():
        return [fn(s) for s in smiles]


def colour_values(smiles: Sequence[str], property_name: str, *,
                  model: TrainedModel | None = None, table: Mapping[str, Any] | None = None,
                  z: np.ndarray | None = None, workers: int | None = None) -> np.ndarray:
    """One float per molecule to colour a map by; NaN where it cannot be had.

    Args:
        smiles: the molecules.
        property_name: ``qed``, ``logp`` or ``sa`` (RDKit), ``pred_qed``, ``pred_logp`` or
            ``pred_sa`` (the model's property heads), or a numeric column of ``table``. The
            built-in names win over table columns of the same name.
        model: needed for the ``pred_*`` names.
        table: columns of the input file, each as long as ``smiles`` (e.g. a DataFrame).
        z: the molecules' latents, if already encoded (``pred_*``; else ``model`` encodes them).
        workers: processes for RDKit properties of more than 1000 molecules (default: all cores).

    Raises:
        MolVAEError: an unknown name, ``pred_*`` without a model, or a column that is not
            numeric or has the wrong length.

    >>> colour_values(["CCO", "c1ccccc1"], "qed").round(2).tolist()
    [0.41, 0.44]
    """
    smiles = list(smiles)
    columns = [str(c) for c in table.keys()] if table is not None else []
    check_property(property_name, columns)
    if property_name in CHEM_PROPERTIES:
        values = map_chunks(partial(_property_chunk, property_name), smiles,
                            workers=workers if len(smiles) > 1000 else 1, chunk_size=500)
        return np.asarray(list(values), dtype=np.float64)
    if property_name in PREDICTED_PROPERTIES:
        if model is None:
            raise MolVAEError(f"colouring by {property_name!r} needs a model")
        out = np.full(len(smiles), np.nan)
        if z is None:
            enc = model.encode_latents(smiles)
            z, ok = enc.z, enc.ok
        else:
            ok = np.ones(len(smiles), dtype=bool)
            if len(z) != len(smiles):
                raise MolVAEError(f"{len(z)} latents for {len(smiles)} molecules")
        if len(z):
            out[ok] = model.predict_properties(z)[:, PREDICTED_PROPERTIES[property_name]]
        return out
    column = table[property_name]
    if len(column) != len(smiles):
        raise MolVAEError(f"column {property_name!r} has {len(column)} values "
                          f"for {len(smiles)} molecules")
    return _numeric(column, property_name)


def _numeric(column: Any, name: str) -> np.ndarray:
    """Floats of a column; empty cells are NaN, other unreadable cells an error."""
    out = np.full(len(column), np.nan)
    for i, v in enumerate(column):
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        try:
            out[i] = float(v)
        except (TypeError, ValueError):
            raise MolVAEError(f"column {name!r} is not numeric: value {v!r} at data row {i + 1}"
                              ) from None
    return out


__all__ = [
    "CHEM_PROPERTIES",
    "PREDICTED_PROPERTIES",
    "check_property",
    "colour_values",
    "property_label",
]

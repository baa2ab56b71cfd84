"""The table every proposal writes: one schema across commands, so a chemist's filters and
scripts work on the output of any of them.

Columns, in order:

- ``smiles`` (RDKit canonical), ``selfies`` (what the decoder wrote);
- ``state``: ``valid``, ``duplicate`` (the same molecule as an earlier row) or ``rejected``,
  with the ``reason`` (empty for valid rows); rows are marked, never silently dropped;
- the command's own columns (``similarity``, ``step``, ``source``, ...);
- the chemist's properties (:data:`molvae.properties.COLUMNS`) and ``novel`` (not in the
  model's training data; empty when the model does not carry its training set).

>>> states(["CCO", None, "CCO"])
(['valid', 'rejected', 'duplicate'], ['', 'decodes to no molecule', 'same molecule as row 0'])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from molvae.properties import COLUMNS as PROPERTY_COLUMNS

#: The leading columns of every proposal table.
BASE_COLUMNS: tuple[str, ...] = ("smiles", "selfies", "state", "reason")
#: The trailing columns: the chemist's properties and novelty.
TRAILING_COLUMNS: tuple[str, ...] = (*PROPERTY_COLUMNS, "novel")


def states(smiles: Sequence[str | None], reasons: Sequence[str | None] | None = None,
           seen: dict[str, int] | None = None, offset: int = 0,
           duplicates: bool = True) -> tuple[list[str], list[str]]:
    """``state`` and ``reason`` of each row: rejected when there is no molecule (with its given
    reason), duplicate when an earlier row (or ``seen``, for streamed batches) has it, unless
    ``duplicates`` is False (rows that stand for inputs, as in ``encode``)."""
    seen = {} if seen is None else seen
    state, why = [], []
    for i, smi in enumerate(smiles):
        given = reasons[i] if reasons is not None else None
        if not smi:
            state.append("rejected")
            why.append(given or "decodes to no molecule")
        elif duplicates and smi in seen:
            state.append("duplicate")
            why.append(f"same molecule as row {seen[smi]}")
        else:
            seen[smi] = offset + i
            state.append("valid")
            why.append("")
    return state, why


def proposal_table(smiles: Sequence[str | None], selfies: Sequence[str | None], *,
                   columns: dict[str, Sequence] | None = None,
                   reasons: Sequence[str | None] | None = None,
                   model=None,  # noqa: ANN001 - a TrainedModel; typed loosely to avoid a cycle
                   properties: bool = True, workers: int | None = None,
                   seen: dict[str, int] | None = None, offset: int = 0,
                   duplicates: bool = True) -> pd.DataFrame:
    """Assemble the schema's table from decoded molecules and a command's own ``columns``.

    ``properties=False`` leaves out the property columns (fast streaming of huge samples);
    ``model`` supplies the training set for ``novel``.
    """
    state, why = states(smiles, reasons, seen, offset, duplicates)
    table = pd.DataFrame({"smiles": list(smiles), "selfies": list(selfies), "state": state,
                          "reason": why})
    for name, values in (columns or {}).items():
        table[name] = list(values)
    if properties:
        table = with_properties(table, model=model, workers=workers)
    return table


def with_properties(table: pd.DataFrame, *, model=None,  # noqa: ANN001 - TrainedModel
                    workers: int | None = None) -> pd.DataFrame:
    """``table`` with the property columns and ``novel`` appended (rejected rows left empty)."""
    from molvae.properties import annotate

    present = [s if isinstance(s, str) and s else None for s in table["smiles"]]
    props = annotate(present, workers=workers)
    props.index = table.index
    out = pd.concat([table.drop(columns=[c for c in TRAILING_COLUMNS if c in table]), props],
                    axis=1)
    out["novel"] = novelty(present, model)
    out.index = table.index
    return out


def novelty(smiles: Sequence[str | None], model=None) -> pd.Series:  # noqa: ANN001
    """True when a molecule is not in ``model``'s training data; missing when unknown."""
    known = getattr(getattr(model, "meta", None), "training_set", None)
    if known is None:
        return pd.Series(pd.NA, index=range(len(smiles)), dtype="boolean")
    present = np.array([bool(s) for s in smiles], dtype=bool)
    novel = pd.array(~known.contains(list(smiles)), dtype="boolean")
    novel[~present] = pd.NA
    return pd.Series(novel)

"""The whole latent map: subsample a data set, encode it, fit a projection, colour the points,
place the highlighted molecules and draw the picture.

>>> parse_highlight("CC(=O)Oc1ccccc1C(=O)O aspirin")
('CC(=O)Oc1ccccc1C(=O)O', 'aspirin')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from molvae.errors import MolVAEError
from molvae.latent_map.colours import (
    CHEM_PROPERTIES,
    PREDICTED_PROPERTIES,
    check_property,
    colour_values,
)
from molvae.latent_map.plot import Highlight, figure_format, plot_map
from molvae.latent_map.projection import Projection, fit_projection, resolve_method

if TYPE_CHECKING:
    import pandas as pd

    from molvae.trained import TrainedModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LatentMap:
    """The result of ``latent_map``.

    ``table`` has one row per drawn molecule and one per highlight, with columns ``smiles``,
    ``x``, ``y``, ``value``, ``highlighted`` and ``label`` (the highlight's label, else empty).
    ``skipped`` maps positions in the input to why the model could not encode those molecules.
    """

    table: pd.DataFrame
    projection: Projection
    property_name: str
    skipped: dict[int, str]
    n_input: int  # molecules given, before subsampling
    path: Path | None = None


def parse_highlight(text: str) -> tuple[str, str]:
    """``(smiles, label)`` of a highlight written as ``"SMILES"`` or ``"SMILES label words"``.

    >>> parse_highlight("CC(=O)Oc1ccccc1C(=O)O aspirin")
    ('CC(=O)Oc1ccccc1C(=O)O', 'aspirin')
    >>> parse_highlight("c1ccccc1")
    ('c1ccccc1', 'c1ccccc1')
    """
    parts = text.strip().split(maxsplit=1)
    if not parts:
        raise MolVAEError("empty highlight: give a SMILES, optionally followed by a label")
    smiles = parts[0]
    label = parts[1].strip() if len(parts) > 1 else (
        smiles if len(smiles) <= 32 else smiles[:30] + "...")
    return smiles, label


def subsample(n: int, max_points: int, seed: int = 0) -> np.ndarray:
    """Sorted positions of at most ``max_points`` of ``n`` items, the same for the same seed.

    >>> subsample(5, 10).tolist()
    [0, 1, 2, 3, 4]
    >>> len(subsample(1000, 10, seed=1))
    10
    """
    if max_points < 1:
        raise MolVAEError(f"max_points must be positive, got {max_points}")
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def latent_map(model: TrainedModel, smiles: Sequence[str], *, colour_by: str = "qed",
               highlight: Sequence[str] = (), method: str = "pca", max_points: int = 20_000,
               seed: int = 0, path: str | Path | None = None,
               table: Mapping[str, Sequence[Any]] | None = None, title: str | None = None,
               workers: int | None = None) -> LatentMap:
    """Project a data set's molecules to 2-D, colour them and (with ``path``) save a picture.

    Above ``max_points`` molecules a seeded random subset is drawn (before encoding). Molecules
    the model cannot encode are skipped, logged and returned in ``skipped``.

    Args:
        model: the trained model whose latent space is drawn.
        smiles: the data set.
        colour_by: see ``colour_values``.
        highlight: molecules to mark, each ``"SMILES"`` or ``"SMILES label"``; they are placed
            with the projection fitted on the data set.
        method: ``"pca"``, ``"umap"`` or ``"auto"``.
        max_points: the most data-set molecules drawn.
        seed: subsampling and UMAP seed.
        path: ``.png``/``.svg`` file to save the picture to (none: no picture).
        table: other columns of the input, aligned with ``smiles`` (for colouring by a column).
        title: the picture's title.
        workers: processes for RDKit properties.

    Raises:
        MolVAEError: a highlight the model cannot encode (named with the reason), fewer than 2
            encodable molecules, an unknown method or property, or a bad output path.

    >>> from molvae import load_model                          # doctest: +SKIP
    >>> m = latent_map(load_model(), ["CCO", "CCN", "c1ccccc1"], path="map.png")  # doctest: +SKIP
    >>> m.table.columns.tolist()                               # doctest: +SKIP
    ['smiles', 'x', 'y', 'value', 'highlighted', 'label']
    """
    import pandas as pd

    smiles = list(smiles)
    columns = [str(c) for c in table.keys()] if table is not None else []
    check_property(colour_by, columns)
    resolved = resolve_method(method)
    if path is not None:
        path = Path(path)
        figure_format(path)
        if not path.parent.is_dir():
            raise MolVAEError(f"{path}: directory {path.parent} does not exist")

    marks = [parse_highlight(h) for h in highlight]
    hl_z = np.zeros((0, model.latent_dim), dtype=np.float32)
    if marks:
        enc = model.encode_latents([s for s, _ in marks])
        if enc.errors:
            i, reason = min(enc.errors.items())
            raise MolVAEError(f"highlight {marks[i][0]!r} cannot be encoded: {reason}")
        hl_z = enc.z

    keep = subsample(len(smiles), max_points, seed)
    if len(keep) < len(smiles):
        log.info("drawing %d of %d molecules (seed %d)", len(keep), len(smiles), seed)
    chosen = [smiles[i] for i in keep]
    column = None  # the file column to colour by, if that is what was asked for
    if table is not None and colour_by in columns and colour_by not in CHEM_PROPERTIES \
            and colour_by not in PREDICTED_PROPERTIES:
        column = np.asarray(table[colour_by], dtype=object)
        if len(column) != len(smiles):
            raise MolVAEError(f"column {colour_by!r} has {len(column)} values "
                              f"for {len(smiles)} molecules")
        column = column[keep]

    enc = model.encode_latents(chosen)
    for _, reason in sorted(enc.errors.items())[:5]:
        log.warning("skipped: %s", reason)
    if enc.errors:
        log.warning("skipped %d of %d molecules the model cannot encode", len(enc.errors),
                    len(chosen))
    if len(enc.z) < 2:
        raise MolVAEError(f"a map needs at least 2 molecules the model can encode, got "
                          f"{len(enc.z)} of {len(chosen)}")
    ok_smiles = [s for s, ok in zip(chosen, enc.ok, strict=True) if ok]
    sub_table = {colour_by: column[enc.ok]} if column is not None else None

    proj = fit_projection(enc.z, resolved, seed)
    coords = proj.coords_
    values = colour_values(ok_smiles, colour_by, model=model, table=sub_table, z=enc.z,
                           workers=workers)
    if marks:
        hl_coords = proj.transform(hl_z)
        if colour_by in CHEM_PROPERTIES or colour_by in PREDICTED_PROPERTIES:
            hl_values = colour_values([s for s, _ in marks], colour_by, model=model, z=hl_z,
                                      workers=1)
        else:
            hl_values = np.full(len(marks), np.nan)  # a file column has no value for them
    else:
        hl_coords, hl_values = np.zeros((0, 2)), np.zeros(0)

    n = len(ok_smiles)
    frame = pd.DataFrame({
        "smiles": ok_smiles + [s for s, _ in marks],
        "x": np.concatenate([coords[:, 0], hl_coords[:, 0]]),
        "y": np.concatenate([coords[:, 1], hl_coords[:, 1]]),
        "value": np.concatenate([values, hl_values]),
        "highlighted": np.arange(n + len(marks)) >= n,
        "label": [""] * n + [lab for _, lab in marks],
    })
    if path is not None:
        hls = [Highlight(lab, float(x), float(y), float(v)) for (_, lab), (x, y), v in
               zip(marks, hl_coords, hl_values, strict=True)]
        plot_map(coords, values, property_name=colour_by, path=path, highlights=hls,
                 title=title, axis_labels=proj.axis_labels())
        log.info("wrote %s", path)
    return LatentMap(table=frame, projection=proj, property_name=colour_by,
                     skipped={int(keep[i]): r for i, r in enc.errors.items()},
                     n_input=len(smiles),
                     path=Path(path) if path is not None else None)


__all__ = ["LatentMap", "latent_map", "parse_highlight", "subsample"]

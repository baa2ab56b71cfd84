"""Latent-space maps: where a data set's molecules sit in the latent space, in two dimensions.

Flow: SMILES -> latents (``TrainedModel.encode``) -> a 2-D projection fitted on the data set
(``fit_projection``: PCA with numpy, or UMAP when umap-learn is installed) -> colour values
(``colour_values``: an RDKit property, a property-head prediction or a numeric column of the
input file) -> a PNG or SVG picture (``plot_map``). ``latent_map`` ties them together and returns
the coordinate table. Highlighted molecules are projected with the projection fitted on the data
set, so they land where their data-set twins are.

>>> import numpy as np
>>> z = np.random.default_rng(0).normal(size=(100, 8))
>>> proj = fit_projection(z, "pca")
>>> proj.transform(z[:3]).shape
(3, 2)
"""

from __future__ import annotations

import csv
import gzip
import importlib
import io
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from molvae.chem import logp, qed, sa_score, without_rdkit_log
from molvae.errors import DataError, MolVAEError
from molvae.io import atomic_write_bytes

if TYPE_CHECKING:
    import pandas as pd

    from molvae.trained import TrainedModel

log = logging.getLogger(__name__)

#: Projection methods; ``auto`` is UMAP when umap-learn is installed, else PCA.
METHODS: tuple[str, ...] = ("pca", "umap", "auto")
#: Properties computed with RDKit from the SMILES.
CHEM_PROPERTIES: dict[str, Callable[[str], float]] = {"qed": qed, "logp": logp, "sa": sa_score}
#: Properties predicted by the model's heads from the latents (column of ``predict_properties``).
PREDICTED_PROPERTIES: dict[str, int] = {"pred_qed": 0, "pred_logp": 1, "pred_sa": 2}
#: Picture formats by file suffix.
FORMATS: dict[str, str] = {".png": "png", ".svg": "svg"}

_LABELS = {
    "qed": "QED",
    "logp": "logP (Crippen)",
    "sa": "SA score",
    "pred_qed": "QED (predicted)",
    "pred_logp": "logP (predicted)",
    "pred_sa": "SA score (predicted)",
}
_UMAP_HINT = "install it with `pip install umap-learn`"


# --- projections ---------------------------------------------------------------------------------
class Projection(Protocol):
    """A 2-D projection fitted on a data set's latents; ``transform`` places new latents on it."""

    method: str
    info: dict[str, Any]

    def transform(self, z: np.ndarray) -> np.ndarray:
        """Coordinates (N, 2) of latents (N, Z)."""
        ...

    def axis_labels(self) -> tuple[str, str]:
        """Labels of the two axes of a picture."""
        ...


@dataclass(frozen=True)
class PCAProjection:
    """The first two principal components of the fitted latents (numpy only).

    ``components_`` is (2, Z); each component's sign is fixed so that its largest loading is
    positive, so the picture does not flip between machines.
    """

    mean_: np.ndarray  # (Z,)
    components_: np.ndarray  # (2, Z)
    explained_variance_ratio_: np.ndarray  # (2,)
    coords_: np.ndarray = field(repr=False)  # (N, 2) of the fitted latents
    method: str = "pca"

    @property
    def info(self) -> dict[str, Any]:
        return {"method": "pca",
                "explained_variance_ratio": [float(v) for v in self.explained_variance_ratio_]}

    def transform(self, z: np.ndarray) -> np.ndarray:
        z = _as_latents(z, len(self.mean_))
        return (z - self.mean_) @ self.components_.T

    def axis_labels(self) -> tuple[str, str]:
        r = self.explained_variance_ratio_
        return f"PC1 ({100 * r[0]:.1f}% var.)", f"PC2 ({100 * r[1]:.1f}% var.)"


@dataclass(frozen=True)
class UMAPProjection:
    """A fitted ``umap.UMAP``. Latents equal (to float32 rounding) to a fitted one are placed
    exactly on its embedding; others go through ``UMAP.transform`` (an approximation)."""

    reducer: Any
    fitted_: np.ndarray = field(repr=False)  # (N, Z) the fitted latents
    coords_: np.ndarray = field(repr=False)  # (N, 2) their embedding
    info: dict[str, Any] = field(default_factory=dict)
    method: str = "umap"

    def transform(self, z: np.ndarray) -> np.ndarray:
        z = _as_latents(z, self.fitted_.shape[1])
        out = np.empty((len(z), 2), dtype=np.float64)
        twin = _twins(self.fitted_, z)
        if (twin >= 0).any():
            out[twin >= 0] = self.coords_[twin[twin >= 0]]
        if (twin < 0).any():
            out[twin < 0] = np.asarray(self.reducer.transform(z[twin < 0]), dtype=np.float64)
        return out

    def axis_labels(self) -> tuple[str, str]:
        return "UMAP 1", "UMAP 2"


def _as_latents(z: np.ndarray, dim: int | None = None) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or (dim is not None and z.shape[1] != dim):
        want = f"(N, {dim})" if dim is not None else "(N, Z)"
        raise MolVAEError(f"latents must have shape {want}, got {z.shape}")
    return z


def _twins(fitted: np.ndarray, z: np.ndarray, rtol: float = 1e-5) -> np.ndarray:
    """Index of a fitted row equal to each row of ``z`` up to float32 rounding, else -1.

    Exact (float32) matches are looked up by hash; the rest are compared with a tolerance (the
    same molecule encoded in another batch can differ in the last bits) when that is cheap.
    """
    keys = {row.tobytes(): i for i, row in enumerate(fitted.astype(np.float32))}
    out = np.array([keys.get(row.tobytes(), -1) for row in z.astype(np.float32)], dtype=np.int64)
    rest = np.flatnonzero(out < 0)
    if len(fitted) and 0 < len(rest) * len(fitted) <= 50_000_000:
        tol = rtol * (1.0 + float(np.abs(fitted).max()))
        for i in rest:
            d = np.abs(fitted - z[i]).max(axis=1)
            j = int(np.argmin(d))
            if d[j] <= tol:
                out[i] = j
    return out


def _import_umap() -> Any | None:
    """The umap-learn module, or None when it is not installed (or is another 'umap')."""
    try:
        umap = importlib.import_module("umap")
    except ImportError:
        return None
    return umap if hasattr(umap, "UMAP") else None


def resolve_method(method: str) -> str:
    """The projection a method name stands for: ``"pca"`` or ``"umap"``.

    >>> resolve_method("pca")
    'pca'

    Raises:
        MolVAEError: an unknown method, or ``"umap"`` without umap-learn installed.
    """
    if method not in METHODS:
        raise MolVAEError(f"unknown projection method {method!r}: choose {', '.join(METHODS)}")
    if method == "pca":
        return "pca"
    if _import_umap() is None:
        if method == "umap":
            raise MolVAEError(f"method 'umap' needs the umap-learn package: {_UMAP_HINT}")
        log.info("umap-learn is not installed; method 'auto' uses PCA")
        return "pca"
    return "umap"


def fit_projection(z: np.ndarray, method: str = "pca", seed: int = 0) -> Projection:
    """Fit a 2-D projection on latents (N, Z); place more latents on it with ``.transform``.

    Args:
        z: the data set's latents, at least 2 rows.
        method: ``"pca"``, ``"umap"`` (needs umap-learn) or ``"auto"`` (UMAP if installed).
        seed: UMAP's ``random_state`` (PCA is deterministic).

    Returns:
        A projection with ``transform(z)``, ``axis_labels()``, ``method`` and ``info``; its
        ``coords_`` are the fitted latents' coordinates.

    Raises:
        MolVAEError: unknown method, UMAP not installed, or fewer than 2 latents.

    >>> import numpy as np
    >>> z = np.random.default_rng(0).normal(size=(50, 4)) * [3.0, 2.0, 1.0, 0.1]
    >>> proj = fit_projection(z)
    >>> proj.axis_labels()[0].startswith("PC1")
    True
    >>> bool(np.allclose(proj.transform(z), proj.coords_))
    True
    """
    resolved = resolve_method(method)
    z = _as_latents(z)
    if len(z) < 2:
        raise MolVAEError(f"a map needs at least 2 molecules, got {len(z)}")
    if resolved == "pca":
        return _fit_pca(z)
    return _fit_umap(z, seed)


def _fit_pca(z: np.ndarray) -> PCAProjection:
    mean = z.mean(axis=0)
    centred = z - mean  # (N, Z)
    # The eigenvectors of the (Z, Z) scatter matrix: 10x faster than an SVD of (N, Z) for N >> Z,
    # and exact enough in float64 for two components of a picture.
    var, vecs = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(var)[::-1]
    var, vecs = np.clip(var[order], 0.0, None), vecs[:, order]
    components = np.zeros((2, z.shape[1]))
    k = min(2, z.shape[1])
    components[:k] = vecs[:, :k].T
    for c in components:  # deterministic signs: the largest loading is positive
        if c[np.argmax(np.abs(c))] < 0:
            c *= -1
    total = var.sum()
    ratio = np.zeros(2)
    if total > 0:
        ratio[:k] = var[:k] / total
    return PCAProjection(mean_=mean, components_=components, explained_variance_ratio_=ratio,
                         coords_=centred @ components.T)


def _fit_umap(z: np.ndarray, seed: int) -> UMAPProjection:
    umap = _import_umap()
    n_neighbors = max(2, min(15, len(z) - 1))
    # A seed makes UMAP single-threaded; n_jobs=1 says so and keeps it from warning about it.
    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, random_state=seed, n_jobs=1)
    coords = np.asarray(reducer.fit_transform(z), dtype=np.float64)
    info = {"method": "umap", "n_neighbors": n_neighbors, "seed": seed,
            "umap_version": getattr(umap, "__version__", "unknown")}
    return UMAPProjection(reducer=reducer, fitted_=z, coords_=coords, info=info)


def project(z: np.ndarray, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, dict]:
    """2-D coordinates (N, 2) of latents (N, Z) and a description of the projection.

    For PCA the description holds ``explained_variance_ratio`` (two numbers summing to <= 1).
    Use ``fit_projection`` to place further latents on the same projection.

    Raises:
        MolVAEError: see ``fit_projection``.

    >>> import numpy as np
    >>> coords, info = project(np.random.default_rng(0).normal(size=(20, 5)))
    >>> coords.shape, info["method"]
    ((20, 2), 'pca')
    """
    proj = fit_projection(z, method, seed)
    return proj.coords_, dict(proj.info)


# --- colour values -------------------------------------------------------------------------------
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
        workers = workers or os.cpu_count() or 1
        if workers > 1 and len(smiles) > 1000:
            chunks = [smiles[i:i + 500] for i in range(0, len(smiles), 500)]
            ctx = get_context("spawn" if os.name == "nt" else "fork")
            with ctx.Pool(min(workers, len(chunks))) as pool:
                parts = pool.map(partial(_property_chunk, property_name), chunks)
            values = [v for part in parts for v in part]
        else:
            values = _property_chunk(property_name, smiles)
        return np.asarray(values, dtype=np.float64)
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


# --- reading the table of a data file -------------------------------------------------------------
def read_header(path: str | Path) -> list[str]:
    """Column names of a ``.csv``/``.tsv`` file (gzipped or not); ``[]`` for other files.

    Raises:
        DataError: the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if not suffixes or suffixes[-1] not in (".csv", ".tsv"):
        return []
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open(path, "rt", encoding="utf-8", newline="") if gz else open(
        path, encoding="utf-8", newline="")
    with opener as fh:
        row = next(csv.reader(fh, delimiter="\t" if suffixes[-1] == ".tsv" else ","), [])
    return [h.strip() for h in row]


# --- pictures ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Highlight:
    """A molecule marked on a map: its label, coordinates and colour value (NaN: none)."""

    label: str
    x: float
    y: float
    value: float = math.nan


def figure_format(path: str | Path) -> str:
    """The picture format a file name asks for: ``"png"`` or ``"svg"``.

    >>> figure_format("map.SVG")
    'svg'

    Raises:
        MolVAEError: any other suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise MolVAEError(f"{path}: a map is saved as .png or .svg, not {suffix or 'no suffix'!r}")
    return FORMATS[suffix]


def plot_map(coords: np.ndarray, values: np.ndarray, *, property_name: str, path: str | Path,
             highlights: Sequence[Highlight] = (), title: str | None = None,
             axis_labels: tuple[str, str] = ("x", "y")) -> Path:
    """Draw points coloured by ``values`` (grey where NaN) and save a PNG or SVG atomically.

    Uses matplotlib's ``Figure`` with the Agg canvas directly: pyplot's global state and the
    user's backend are left alone.

    Args:
        coords: (N, 2) point coordinates.
        values: (N,) colour values; the colour bar is labelled with ``property_name``.
        property_name: what the values are (see ``property_label``).
        path: ``.png`` or ``.svg`` file; its directory must exist.
        highlights: molecules drawn as large stars with text labels.
        title: the picture's title.
        axis_labels: e.g. ``PCAProjection.axis_labels()``.

    Returns:
        ``path``.

    Raises:
        MolVAEError: a suffix other than .png/.svg, a missing directory, or mismatched lengths.

    >>> import tempfile, pathlib, numpy as np
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "map.png"
    >>> _ = plot_map(np.zeros((3, 2)), np.arange(3.0), property_name="qed", path=out)
    >>> out.read_bytes()[:4]
    b'\\x89PNG'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    path = Path(path)
    fmt = figure_format(path)
    if not path.parent.is_dir():
        raise MolVAEError(f"{path}: directory {path.parent} does not exist")
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(coords) != len(values):
        raise MolVAEError(f"{len(coords)} points but {len(values)} colour values")

    fig = Figure(figsize=(7.5, 6.0), dpi=150, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    finite = np.isfinite(values)
    size = float(np.clip(3000.0 / math.sqrt(max(len(coords), 1)), 2.0, 30.0))
    many = len(coords) > 2000  # rasterize dense scatters so SVGs stay small
    if (~finite).any():
        ax.scatter(coords[~finite, 0], coords[~finite, 1], s=size, c="lightgrey", linewidths=0,
                   label=f"no value ({int((~finite).sum())})", rasterized=many)
    hl_values = np.array([h.value for h in highlights], dtype=np.float64)
    pool = np.concatenate([values[finite], hl_values[np.isfinite(hl_values)]])
    norm = Normalize(float(pool.min()), float(pool.max())) if len(pool) else Normalize(0.0, 1.0)
    label = property_label(property_name)
    if finite.any():
        order = np.argsort(values[finite], kind="stable")  # high values on top
        pts = coords[finite][order]
        sc = ax.scatter(pts[:, 0], pts[:, 1], s=size, c=values[finite][order], cmap="viridis",
                        norm=norm, linewidths=0, alpha=0.8, rasterized=many)
        fig.colorbar(sc, ax=ax, label=label)
    for h in highlights:
        colour = {"c": [h.value], "cmap": "viridis", "norm": norm} if math.isfinite(h.value) \
            else {"c": "white"}  # no value: an empty star
        ax.scatter([h.x], [h.y], s=260, marker="*", edgecolors="black", linewidths=1.2, zorder=3,
                   **colour)
        ax.annotate(h.label, (h.x, h.y), xytext=(7, 7), textcoords="offset points", fontsize=8,
                    zorder=4, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.8,
                                    "lw": 0.5})
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(title or f"{len(coords)} molecules in latent space, coloured by {label}")
    if (~finite).any():
        ax.legend(loc="best", fontsize=8)
    buf = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else None  # reproducible SVGs
    fig.savefig(buf, format=fmt, metadata=metadata)
    atomic_write_bytes(path, buf.getvalue())
    return path


# --- everything together -------------------------------------------------------------------------
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


__all__ = [
    "CHEM_PROPERTIES",
    "FORMATS",
    "METHODS",
    "PREDICTED_PROPERTIES",
    "Highlight",
    "LatentMap",
    "PCAProjection",
    "Projection",
    "UMAPProjection",
    "check_property",
    "colour_values",
    "figure_format",
    "fit_projection",
    "latent_map",
    "parse_highlight",
    "plot_map",
    "project",
    "property_label",
    "read_header",
    "resolve_method",
    "subsample",
]

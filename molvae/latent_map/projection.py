"""2-D projections of latents fitted on a data set: PCA (numpy only) or UMAP (umap-learn).

A projection is fitted once on the data set's latents; ``transform`` places more latents (the
highlighted molecules) on the same picture.

>>> import numpy as np
>>> z = np.random.default_rng(0).normal(size=(100, 8))
>>> proj = fit_projection(z, "pca")
>>> proj.transform(z[:3]).shape
(3, 2)
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from molvae.errors import MolVAEError

log = logging.getLogger(__name__)

#: Projection methods; ``auto`` is UMAP when umap-learn is installed, else PCA.
METHODS: tuple[str, ...] = ("pca", "umap", "auto")
_UMAP_HINT = "install it with `pip install umap-learn`"


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


__all__ = [
    "METHODS",
    "PCAProjection",
    "Projection",
    "UMAPProjection",
    "fit_projection",
    "project",
    "resolve_method",
]

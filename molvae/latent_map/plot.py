"""Pictures of a latent map: points coloured by a value, highlighted molecules as labelled stars,
saved as PNG or SVG through matplotlib's object API (pyplot's global state is left alone).

>>> figure_format("map.svg")
'svg'
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from molvae.errors import MolVAEError
from molvae.io import atomic_write_bytes
from molvae.latent_map.colours import property_label

#: Picture formats by file suffix.
FORMATS: dict[str, str] = {".png": "png", ".svg": "svg"}


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


__all__ = ["FORMATS", "Highlight", "figure_format", "plot_map"]

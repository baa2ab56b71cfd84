"""Latent-space maps: where a data set's molecules sit in the latent space, in two dimensions.

Flow: SMILES -> latents (``TrainedModel.encode``) -> a 2-D projection fitted on the data set
(``fit_projection`` in ``projection``: PCA with numpy, or UMAP when umap-learn is installed) ->
colour values (``colour_values`` in ``colours``: an RDKit property, a property-head prediction or
a numeric column of the input file) -> a PNG or SVG picture (``plot_map`` in ``plot``).
``latent_map`` (``assembly``) ties them together and returns the coordinate table. Highlighted
molecules are projected with the projection fitted on the data set, so they land where their
data-set twins are.

>>> import numpy as np
>>> z = np.random.default_rng(0).normal(size=(100, 8))
>>> proj = fit_projection(z, "pca")
>>> proj.transform(z[:3]).shape
(3, 2)
"""

from molvae.latent_map.assembly import LatentMap, latent_map, parse_highlight, subsample
from molvae.latent_map.colours import (
    CHEM_PROPERTIES,
    PREDICTED_PROPERTIES,
    check_property,
    colour_values,
    property_label,
)
from molvae.latent_map.plot import FORMATS, Highlight, figure_format, plot_map
from molvae.latent_map.projection import (
    METHODS,
    PCAProjection,
    Projection,
    UMAPProjection,
    fit_projection,
    project,
    resolve_method,
)
from molvae.smiles_file import read_header

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

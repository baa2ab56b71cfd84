"""Deprecated alias of :mod:`molvae.optimization`, kept for one release."""

from molvae._deprecated import moved

__getattr__ = moved(__name__, (
    "molvae.optimization.objective",
    "molvae.optimization.components",
    "molvae.optimization.transforms",
    "molvae.optimization.presets",
    "molvae.errors",
))

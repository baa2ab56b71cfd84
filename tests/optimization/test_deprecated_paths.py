"""The module paths of the previous release still import, for one release, with a warning."""

from __future__ import annotations

import importlib
import sys

import pytest

import molvae
from molvae.optimization import campaign, components, objective, outputs, presets, samplers
from molvae.optimization import storage as new_storage


@pytest.mark.parametrize("old, name, new", [
    ("molvae.objectives", "Objective", objective.Objective),
    ("molvae.objectives", "Similarity", components.Similarity),
    ("molvae.objectives", "osimertinib_mpo", presets.osimertinib_mpo),
    ("molvae.campaign", "load_campaign", campaign.load_campaign),
    ("molvae.campaign", "SAMPLERS", samplers.SAMPLERS),
    ("molvae.samplers", "LatentCmaEs", samplers.LatentCmaEs),
    ("molvae.storage", "open_storage", new_storage.open_storage),
    ("molvae.results", "study_results", outputs.study_results),
])
def test_an_old_path_warns_and_gives_the_new_object(old, name, new):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=f"{old} is deprecated"):
        module = importlib.import_module(old)
    assert getattr(module, name) is new
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018


def test_molvae_optimize_stays_the_function():
    assert callable(molvae.optimize) and molvae.optimize.__name__ == "optimize"
    importlib.import_module("molvae.optimization")
    assert molvae.optimize is importlib.import_module("molvae.optimization").optimize

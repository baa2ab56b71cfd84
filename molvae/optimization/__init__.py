"""Property-guided optimization in the model's latent space.

The package reads in the order a run flows:

- :mod:`~.campaign` -- campaign files (TOML) into frozen dataclasses, by way of the generic
  typed reader :mod:`~.coerce`;
- :mod:`~.objective` -- components, filters, aggregation and Pareto targets: what a good
  molecule is; each component's raw value is one of the kinds of :mod:`~.components` (a
  ``_base.py`` contract, one module per kind, plugins by entry point), mapped onto [0, 1] by one
  of :mod:`~.transforms`; ready-made GuacaMol objectives are in :mod:`~.presets`;
- :mod:`~.space` -- the latent search space (a box in whitened coordinates);
- :mod:`~.samplers` -- CMA-ES that keeps its state in memory, and Optuna's samplers by name;
- :mod:`~.storage` -- where the study lives (a journal file, a database, ...), and
  :mod:`~.records`, what each of its trials holds;
- :mod:`~.trials` and :mod:`~.loop` -- asking, decoding, scoring and telling a batch;
- :mod:`~.outputs` -- results table, top list, Pareto front, progress, the run's files;
- :mod:`~.session` -- :func:`optimize`, which puts them together.

>>> from molvae.optimization import Component, Descriptor, Objective
>>> Objective((Component("qed", Descriptor("qed")),))(["CCO"]).round(3).tolist()
[0.407]
"""

from molvae.errors import CampaignError, ObjectiveError, OptimizeError, StorageError
from molvae.optimization.campaign import Campaign, Diversity, load_campaign, loads_campaign
from molvae.optimization.components import (
    Alerts,
    Batch,
    ComponentKind,
    Descriptor,
    Head,
    Isomer,
    PythonFunction,
    Raw,
    Similarity,
    Substructure,
)
from molvae.optimization.objective import Component, Filter, Objective, ParetoTarget
from molvae.optimization.outputs import pareto_front, select_top, study_results
from molvae.optimization.presets import (
    celecoxib_rediscovery,
    deco_hop,
    fexofenadine_mpo,
    median1,
    osimertinib_mpo,
    penalized_logp,
    qed_objective,
)
from molvae.optimization.samplers import SAMPLERS, LatentCmaEs, make_sampler
from molvae.optimization.session import optimize
from molvae.optimization.space import SearchSpace

__all__ = [
    "SAMPLERS",
    "Alerts",
    "Batch",
    "Campaign",
    "CampaignError",
    "Component",
    "ComponentKind",
    "Descriptor",
    "Diversity",
    "Filter",
    "Head",
    "Isomer",
    "LatentCmaEs",
    "Objective",
    "ObjectiveError",
    "OptimizeError",
    "ParetoTarget",
    "PythonFunction",
    "Raw",
    "SearchSpace",
    "Similarity",
    "StorageError",
    "Substructure",
    "celecoxib_rediscovery",
    "deco_hop",
    "fexofenadine_mpo",
    "load_campaign",
    "loads_campaign",
    "make_sampler",
    "median1",
    "optimize",
    "osimertinib_mpo",
    "pareto_front",
    "penalized_logp",
    "qed_objective",
    "select_top",
    "study_results",
]

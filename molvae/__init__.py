"""molvae: molecular design in the latent space of a SELFIES variational autoencoder.

>>> from molvae import load_model
>>> model = load_model()                         # the model shipped with molvae
>>> table = model.sample(3, seed=0)              # a table: smiles, selfies, state, properties
>>> latents = model.encode(table["smiles"])      # one row per molecule, latent in z0..z63
>>> back = model.decode(latents)                 # greedy decoding of those latents
>>> analogs = model.analogs("CCOc1ccc(C(=O)N2CCCC2)cc1", n=5)   # most similar first
>>> len(analogs), analogs["similarity"].is_monotonic_decreasing
(5, True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "DataError",
    "InvalidSmilesError",
    "MolVAEError",
    "TrainedModel",
    "VocabularyError",
    "__version__",
    "load_model",
    "optimize",
]

_LAZY = {  # imported on first use, so `import molvae` and `molvae --help` stay fast
    "load_model": "molvae.trained",
    "TrainedModel": "molvae.trained",
    "MolVAEError": "molvae.errors",
    "InvalidSmilesError": "molvae.errors",
    "VocabularyError": "molvae.errors",
    "DataError": "molvae.errors",
    "CheckpointError": "molvae.errors",
    "optimize": "molvae.optimization.session",
}

if TYPE_CHECKING:
    from molvae.errors import (
        CheckpointError,
        DataError,
        InvalidSmilesError,
        MolVAEError,
        VocabularyError,
    )
    from molvae.optimization.session import optimize
    from molvae.trained import TrainedModel, load_model


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'molvae' has no attribute {name!r}")

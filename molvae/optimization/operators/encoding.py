"""Molecules an operator proposes are encoded before they are told: the study then holds their
latent points, so the samplers and the latent operators learn from every molecule, whichever
mechanism made it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from molvae.optimization.space import SearchSpace
from molvae.optimization.trials import Proposal

__all__ = ["encoded_proposals"]


def encoded_proposals(model: Any, space: SearchSpace, smiles: Sequence[str],
                      source: str) -> list[Proposal]:
    """Molecule proposals for ``smiles`` with their encoded points, whitened into ``space``'s
    box; molecules ``model`` (a TrainedModel) cannot write are left out."""
    if not smiles:
        return []
    enc = model.encode_latents(list(smiles))
    kept = [s for s, ok in zip(smiles, enc.ok, strict=True) if ok]
    w = np.clip(space.whiten(enc.z), space.lower, space.upper)
    return [Proposal(x, source, smiles=s, z=z) for s, x, z in zip(kept, w, enc.z, strict=True)]

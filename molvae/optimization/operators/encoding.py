"""What the operators that make molecules share: drawing distinct new children, parsing the
elites once, and encoding the children before they are told, so that the study holds their
latent points and the samplers and latent operators learn from every molecule, whichever
mechanism made it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from rdkit import Chem

from molvae.chem import implausible_atoms, to_mol
from molvae.optimization.operators._base import Elites
from molvae.optimization.space import SearchSpace
from molvae.optimization.trials import Proposal

__all__ = ["Parsed", "Screen", "campaign_screen", "encoded_proposals", "new_children", "plausible"]


def encoded_proposals(model: Any, space: SearchSpace, smiles: Sequence[str],
                      source: str) -> list[Proposal]:
    """Molecule proposals for ``smiles`` (RDKit canonical SMILES, as every operator writes
    them) with their encoded points, whitened into ``space``'s box; molecules ``model`` (a
    TrainedModel) cannot write are left out."""
    if not smiles:
        return []
    enc = model.encode_latents(list(smiles), canonical=True)
    kept = [s for s, ok in zip(smiles, enc.ok, strict=True) if ok]
    w = np.clip(space.whiten(enc.z), space.lower, space.upper)
    return [Proposal(x, source, smiles=s, z=z) for s, x, z in zip(kept, w, enc.z, strict=True)]


#: What an operator's child must pass to be proposed.
Screen = Callable[[str], bool]


def new_children(elites: Elites, n: int, attempts: int, make: Callable[[], str | None],
                 screen: Screen | None = None) -> list[str]:
    """Up to ``n`` distinct molecules from ``make`` (None: an attempt that made nothing) that
    the study has not scored and that ``screen`` admits (default :func:`plausible`), in at most
    ``attempts * n`` attempts."""
    screen = screen or plausible
    children: dict[str, None] = {}
    for _ in range(attempts * n):
        if len(children) >= n:
            break
        child = make()
        if child and child not in children and elites.is_new(child) and screen(child):
            children[child] = None
    return list(children)


def plausible(smiles: str) -> bool:
    """Whether ``smiles`` reads as a molecule with no :func:`~molvae.chem.implausible_atoms`.
    An operator may write any atom; one that games the objective with an oxonium or a radical
    proposes nothing a chemist can use, so such children are dropped before they cost an oracle
    call."""
    return implausible_atoms(smiles) == []


def campaign_screen(objective: Any) -> Screen:
    """The screen of a campaign's operators: :func:`plausible`, and what the ``objective``'s
    cheap filters admit (:meth:`~molvae.optimization.objective.Objective.admits`), so a child
    that would only be ``filtered`` costs no oracle call; plain :func:`plausible` when it has
    none."""
    if not objective.cheap_filters:
        return plausible

    def screen(smiles: str) -> bool:
        return plausible(smiles) and bool(objective.admits([smiles])[0])

    return screen


class Parsed(dict[str, Chem.Mol | None]):
    """The elites' molecules, parsed on first use: an operator sees the same elites batch after
    batch."""

    def __missing__(self, smiles: str) -> Chem.Mol | None:
        self[smiles] = mol = to_mol(smiles)
        return mol

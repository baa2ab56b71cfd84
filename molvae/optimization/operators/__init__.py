"""Search operators: mechanisms that propose from the best molecules found so far, beside the
sampler (``_base.py`` is the contract; :mod:`molvae.optimization.portfolio` runs them).

- ``local``: a trust region around the elites that grows on success, shrinks on failure;
- ``crossover``: uniform crossover of two elites' latent points;
- ``mutate``: SELFIES edits of elites, encoded so that the study learns from them;
- ``splice``: a piece of one elite joined to a piece of another (a GA's graph crossover), encoded;
- ``edit``: one atom or bond of an elite changed (a GA's graph mutation), encoded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from molvae.optimization.operators._base import Elites, Operator

if TYPE_CHECKING:
    from molvae.optimization.operators.encoding import Screen

#: Operator names, in the order a campaign lists them.
OPERATORS: tuple[str, ...] = ("local", "crossover", "mutate", "splice", "edit")
#: The operators of a single-objective campaign that names none: all of them, the portfolio
#: giving each its share by success (the choice and its ablation: README, "Benchmarks").
DEFAULT_OPERATORS: tuple[str, ...] = OPERATORS

__all__ = ["DEFAULT_OPERATORS", "OPERATORS", "Elites", "Operator", "make_operators"]


def make_operators(names: tuple[str, ...], model: object, space: object,
                   screen: Screen | None = None) -> list[Operator]:
    """The operators of a campaign, by name, over ``model`` and the search ``space``; those
    that make molecules propose only what ``screen`` admits (default: plausible chemistry)."""
    from molvae.optimization.operators.crossover import LatentCrossover
    from molvae.optimization.operators.edit import GraphEdit
    from molvae.optimization.operators.local import TrustRegion
    from molvae.optimization.operators.mutation import SelfiesMutation
    from molvae.optimization.operators.splice import FragmentSplice

    lower, upper = space.lower, space.upper  # type: ignore[attr-defined]
    factories = {
        "local": lambda: TrustRegion(lower, upper),
        "crossover": lambda: LatentCrossover(lower, upper),
        "mutate": lambda: SelfiesMutation(model, space, screen=screen),  # type: ignore[arg-type]
        "splice": lambda: FragmentSplice(model, space, screen=screen),  # type: ignore[arg-type]
        "edit": lambda: GraphEdit(model, space, screen=screen),  # type: ignore[arg-type]
    }
    return [factories[n]() for n in names]

"""``molvae arithmetic``: molecular analogies by latent arithmetic, z(A) - z(B) + z(C)."""

from __future__ import annotations

from pathlib import Path

import typer

from molvae.cli import app
from molvae.cli._output import (
    FORMAT,
    IMAGE,
    MODEL,
    NO_PROPERTIES,
    OUT,
    REFINE,
    STANDARDIZE,
    check,
    emit,
    load,
)


@app.command()
def arithmetic(
    a: str = typer.Argument(..., help="A in 'A is to B as ? is to C' (SMILES)."),
    b: str = typer.Argument(..., help="B (SMILES)."),
    c: str = typer.Argument(..., help="C (SMILES)."),
    n: int = typer.Option(10, "-n", "--n", help="Neighbours of the result to add."),
    radius: float = typer.Option(0.3, help="Neighbourhood scale, in latent std units."),
    seed: int = typer.Option(0),
    out: Path | None = OUT,
    fmt: str = FORMAT,
    image: Path | None = IMAGE,
    model: Path | None = MODEL,
    standardize: bool = STANDARDIZE,
    refine: bool = REFINE,
    no_properties: bool = NO_PROPERTIES,
) -> None:
    """Decode z(A) - z(B) + z(C) and its neighbours."""
    from molvae.explore import analogy

    check(out, fmt, image)
    m = load(model, standardize=standardize, refine=refine)
    table = analogy(m, a, b, c, n=n, radius=radius, seed=seed,
                    properties=not no_properties)
    emit(table, out, fmt, image)

"""``molvae walk``: move a molecule along the latent direction that raises a property."""

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
def walk(
    smiles: str = typer.Argument(..., help="The starting molecule (SMILES)."),
    prop: str = typer.Option(..., "--property", "-p",
                             help="qed, logp or sa (heads); any numeric column with --direction "
                                  "fitted (mw, tpsa, ...)"),
    steps: int = typer.Option(10, "--steps", "-k"),
    step_size: float = typer.Option(0.25, help="Step length, in latent std units."),
    decrease: bool = typer.Option(False, "--decrease", help="Lower the property instead."),
    direction: str = typer.Option("heads", help="heads (gradient of the property head) | fitted "
                                                "(regression on prior samples)"),
    seed: int = typer.Option(0),
    out: Path | None = OUT,
    fmt: str = FORMAT,
    image: Path | None = IMAGE,
    model: Path | None = MODEL,
    standardize: bool = STANDARDIZE,
    refine: bool = REFINE,
    no_properties: bool = NO_PROPERTIES,
) -> None:
    """Decode K steps along a property direction and report each step's properties."""
    from molvae.explore import walk as property_walk

    check(out, fmt, image)
    m = load(model, standardize=standardize, refine=refine)
    table = property_walk(m, smiles, prop, steps=steps, step_size=step_size,
                          decrease=decrease, direction=direction, seed=seed,
                          properties=not no_properties)
    emit(table, out, fmt, image)

"""``molvae interpolate``: the molecules on the latent path between two molecules."""

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
def interpolate(
    a: str = typer.Argument(..., help="Start molecule (SMILES)."),
    b: str = typer.Argument(..., help="End molecule (SMILES)."),
    steps: int = typer.Option(10, "--steps", "-k", help="Points on the path, ends included."),
    method: str = typer.Option("slerp", help="slerp (spherical) | linear"),
    out: Path | None = OUT,
    fmt: str = FORMAT,
    image: Path | None = IMAGE,
    model: Path | None = MODEL,
    standardize: bool = STANDARDIZE,
    refine: bool = REFINE,
    no_properties: bool = NO_PROPERTIES,
) -> None:
    """Each distinct molecule on the path from A to B once, in order."""
    from molvae.explore import interpolate as path

    check(out, fmt, image)
    table = path(load(model, standardize=standardize, refine=refine), a, b, steps, method=method,
                 properties=not no_properties)
    emit(table, out, fmt, image)

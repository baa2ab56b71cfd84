"""``molvae analogs``: distinct analogs of a lead from its latent neighbourhood."""

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
def analogs(
    smiles: str = typer.Argument(..., help="The lead molecule (SMILES)."),
    n: int = typer.Option(20, "-n", "--n", help="Number of analogs."),
    radius: float = typer.Option(0.5, help="Noise scale around the lead, in latent std units."),
    seed: int = typer.Option(0, help="Seed for reproducible proposals."),
    out: Path | None = OUT,
    fmt: str = FORMAT,
    image: Path | None = IMAGE,
    model: Path | None = MODEL,
    standardize: bool = STANDARDIZE,
    refine: bool = REFINE,
    no_properties: bool = NO_PROPERTIES,
) -> None:
    """Analogs of a lead, most similar first (Tanimoto, Morgan radius 2)."""
    from molvae.errors import MolVAEError
    from molvae.explore import analogs as find_analogs

    if n <= 0:
        raise MolVAEError(f"-n must be a positive number of analogs, got {n}")
    check(out, fmt, image)
    m = load(model, standardize=standardize, refine=refine)
    table = find_analogs(m, smiles, n, radius=radius, seed=seed, properties=not no_properties)
    if len(table) < n:
        typer.echo(f"found {len(table)} distinct analogs of {n} in "
                   f"{table.attrs['latents_decoded']} latent points; try a larger --radius",
                   err=True)
    emit(table, out, fmt, image)

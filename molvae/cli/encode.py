"""``molvae encode`` and ``molvae decode``: molecules to latent vectors and back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
def encode(
    data: Path = typer.Argument(..., help="SMILES file (.csv/.tsv/.smi/.txt, gzipped or not)."),
    out: Path = typer.Option(..., "--out", "-o",
                             help="latents.csv (z0.. columns) or latents.npy (+ latents.csv "
                                  "beside it, row for row)."),
    smiles_column: str | None = typer.Option(None, help="SMILES column of a CSV file."),
    stochastic: bool = typer.Option(False, "--stochastic",
                                    help="Sample z ~ q(z|x) instead of the mean."),
    seed: int | None = typer.Option(None, help="Seed for --stochastic."),
    model: Path | None = MODEL,
    standardize: bool = STANDARDIZE,
    refine: bool = REFINE,
    no_properties: bool = NO_PROPERTIES,
) -> None:
    """Latent vectors of a SMILES file; a molecule the model cannot encode is kept as a
    ``rejected`` row with its reason, the rest go through."""
    from molvae.errors import MolVAEError
    from molvae.export import write_table
    from molvae.io import atomic_open
    from molvae.smiles_file import iter_smiles

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".npy"):
        raise MolVAEError(f"--out {out}: write latents to a .csv or .npy file")
    check(out.with_suffix(".csv"), "csv", inputs=(data,))
    check(out, "csv", inputs=(data,))
    pairs = list(iter_smiles(data, smiles_column))
    rows, smiles = (tuple(x) for x in zip(*pairs, strict=True)) if pairs else ((), ())
    if not smiles:
        raise MolVAEError(f"{data}: no molecules to encode")
    m = load(model, standardize=standardize, refine=refine)
    table = m.encode(list(smiles), stochastic=stochastic, seed=seed,
                     properties=not no_properties)
    table.insert(0, "row", list(rows))
    if suffix == ".npy":
        names = [f"z{i}" for i in range(m.latent_dim)]
        with atomic_open(out, "wb") as fh:
            np.save(fh, table[names].to_numpy(dtype=np.float32))
        table = table.drop(columns=names)
        out = out.with_suffix(".csv")
    write_table(table, out, "csv")
    bad = int((table["state"] == "rejected").sum())
    typer.echo(f"encoded {len(table) - bad} of {len(table)} molecules"
               f"{f' ({bad} rejected, reasons in the state/reason columns)' if bad else ''}",
               err=True)


@app.command()
def decode(
    latents: Path = typer.Argument(..., help="latents.csv (z0.. columns) or latents.npy."),
    temperature: float = typer.Option(0.0, min=0.0, help="0 decodes greedily."),
    seed: int | None = typer.Option(None),
    out: Path | None = OUT,
    fmt: str = FORMAT,
    image: Path | None = IMAGE,
    model: Path | None = MODEL,
    no_properties: bool = NO_PROPERTIES,
) -> None:
    """Molecules of latent vectors, one row per vector (empty vectors are ``rejected``)."""
    import pandas as pd

    from molvae.errors import MolVAEError

    check(out, fmt, image, inputs=(latents,))
    if not latents.is_file():
        raise MolVAEError(f"{latents}: no such file")
    try:
        z = (np.load(latents, allow_pickle=False) if latents.suffix.lower() == ".npy"
             else pd.read_csv(latents))
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise MolVAEError(f"{latents}: cannot read latents ({exc})") from exc
    table = load(model).decode(z, temperature=temperature, seed=seed,
                               properties=not no_properties)
    emit(table, out, fmt, image)

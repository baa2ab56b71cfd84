"""``molvae prepare``: a SMILES file as the token tensors ``molvae train`` reads, in one file."""

from __future__ import annotations

from pathlib import Path

import typer

from molvae.cli import app


@app.command()
def prepare(
    data: Path = typer.Argument(..., help="SMILES file (.csv/.smi/.txt, optionally .gz)."),
    out: Path = typer.Option(..., "--out", "-o", help="The prepared data set (.npz)."),
    smiles_column: str | None = typer.Option(None, help="CSV column holding SMILES."),
    property_fraction: float = typer.Option(
        1.0, min=0.0, max=1.0, help="Share of molecules labelled (QED/logP/SA) for the heads."
    ),
    workers: int | None = typer.Option(None, min=1, help="Processes for data preparation."),
    cache_dir: Path | None = typer.Option(None, help="Cache of prepared data."),
) -> None:
    """Prepare a training set once (RDKit, SELFIES, head labels) for `molvae train OUT.npz`,
    which then needs neither RDKit nor selfies: train on a GPU machine with torch alone."""
    from molvae.dataset import SUFFIX, prepare_token_dataset
    from molvae.errors import MolVAEError
    from molvae.io import default_cache_dir

    if out.suffix.lower() != SUFFIX:
        raise MolVAEError(f"--out {out}: name a {SUFFIX} file (molvae train tells a prepared "
                          f"data set by its suffix)")
    dataset = prepare_token_dataset(data, column=smiles_column, workers=workers,
                                    cache_dir=cache_dir or default_cache_dir(),
                                    property_fraction=property_fraction)
    dataset.save(out)
    typer.echo(f"{out}: {len(dataset):,} molecules ({dataset.report}), "
               f"{len(dataset.vocab) - 3} SELFIES symbols, at most {dataset.vocab.max_len - 1} "
               f"a molecule; {out.stat().st_size / 1e6:.1f} MB")

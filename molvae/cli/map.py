"""``molvae map``: a 2-D picture of a data set in the latent space, coloured by a property."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from molvae.cli import app


@app.command("map")
def map_command(
    data: Path = typer.Argument(..., help="SMILES file: .csv/.tsv/.smi/.txt, gzipped or not."),
    out: Path = typer.Option(..., "--out", "-o", help="Picture file: .png or .svg."),
    colour_by: str = typer.Option(
        "qed", "--colour-by", "--color-by",
        help="qed | logp | sa (RDKit), pred_qed | pred_logp | pred_sa (the model's property "
             "heads), or a numeric column of a .csv/.tsv data file (the built-in names win).",
    ),
    highlight: list[str] | None = typer.Option(
        None, "--highlight",
        help="A molecule to mark: 'SMILES' or 'SMILES label'. Repeat for more.",
    ),
    method: str = typer.Option("pca", help="pca | umap (needs umap-learn) | auto"),
    smiles_column: str | None = typer.Option(None, help="SMILES column of a .csv/.tsv file."),
    max_points: int = typer.Option(20_000, min=1, help="Most molecules drawn (seeded subset)."),
    seed: int = typer.Option(0, help="Seed of the subset and of UMAP."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model file."),
    coords: Path | None = typer.Option(
        None, "--coords", help="Also write the coordinates (smiles, x, y, value, ...) as CSV."
    ),
    title: str | None = typer.Option(None, help="Title of the picture."),
    workers: int | None = typer.Option(None, min=1, help="Processes for RDKit properties."),
) -> None:
    """Draw where the molecules of DATA sit in the latent space, coloured by a property."""
    from molvae.errors import MolVAEError
    from molvae.export import check_not_input
    from molvae.io import atomic_write_text
    from molvae.latent_map import (
        CHEM_PROPERTIES,
        PREDICTED_PROPERTIES,
        check_property,
        figure_format,
        latent_map,
        parse_highlight,
        read_header,
        resolve_method,
    )
    from molvae.smiles_file import iter_smiles
    from molvae.trained import load_model

    log = logging.getLogger(__name__)
    # Everything that can be checked cheaply is checked before the model and data are loaded.
    figure_format(out)
    if not out.parent.is_dir():
        raise MolVAEError(f"--out {out}: directory {out.parent} does not exist")
    check_not_input([out, *([coords] if coords is not None else [])], (data,))
    if coords is not None:
        if not coords.parent.is_dir():
            raise MolVAEError(f"--coords {coords}: directory {coords.parent} does not exist")
        if coords.resolve() == out.resolve():
            raise MolVAEError(f"--coords and --out are the same file: {out}")
    resolved = resolve_method(method)
    highlights = list(highlight or [])
    for h in highlights:
        parse_highlight(h)
    header = read_header(data)  # [] for .smi/.txt files
    check_property(colour_by, [c for c in header if c != smiles_column])
    log.info("map of %s coloured by %s, method %s, seed %d", data, colour_by, resolved, seed)

    rows = list(iter_smiles(data, smiles_column))
    smiles = [smi.strip() for _, smi in rows]
    table = None
    if colour_by not in CHEM_PROPERTIES and colour_by not in PREDICTED_PROPERTIES:
        table = {colour_by: [value for _, value in iter_smiles(data, colour_by)]}
    m = load_model(model)
    result = latent_map(m, smiles, colour_by=colour_by, highlight=highlights, method=resolved,
                        max_points=max_points, seed=seed, path=out, table=table, title=title,
                        workers=workers)
    if coords is not None:
        atomic_write_text(coords, result.table.to_csv(index=False))
    drawn = int((~result.table["highlighted"]).sum())
    of = f" of {result.n_input} rows" if result.n_input > max_points else ""
    typer.echo(
        f"drew {drawn} molecules{of} ({len(result.skipped)} skipped, {len(highlights)} "
        f"highlighted) with {result.projection.method} to {out}"
        + (f"; coordinates in {coords}" if coords is not None else ""),
        err=True,
    )

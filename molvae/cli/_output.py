"""What every proposal command shares: its output options and how it writes them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

OUT = typer.Option(None, "--out", "-o", help="Output file (default: CSV on stdout).")
FORMAT = typer.Option("csv", "--format", "-f", help="csv | sdf")
IMAGE = typer.Option(None, "--image", help="Also draw the molecules: a .png or .svg grid.")
MODEL = typer.Option(None, "--model", "-m", help="Model file (default: the shipped model).")
STANDARDIZE = typer.Option(
    True, "--standardize/--no-standardize",
    help="Standardize input molecules before encoding (largest organic fragment; charges, "
         "stereo and isotopes the model has no symbol for dropped), reporting each change; "
         "--no-standardize encodes them as given or fails.")
REFINE = typer.Option(
    True, "--refine/--no-refine",
    help="Where the greedy decode of a molecule's posterior mean is another molecule, refine its "
         "latent to a nearby point that decodes back to it (column refined); --no-refine "
         "encodes every molecule as its mean.")
MAX_RING = typer.Option(
    7, "--max-ring", min=0,
    help="Draw again samples with a ring of more than this many atoms (0: keep any ring).")
ROUND_TRIP = typer.Option(
    True, "--round-trip/--no-round-trip",
    help="Draw again samples the model does not read back (decode(encode(x)) != x): "
         "samples like the training chemistry, about 7x slower.")
NO_PROPERTIES = typer.Option(False, "--no-properties",
                             help="Leave out the property columns (faster for huge outputs).")


def check(out: Path | None, fmt: str, image: Path | None = None,
          inputs: tuple[Path, ...] = ()) -> None:
    """Fail on a bad output path or format, or one that would replace an input, before any
    expensive work."""
    from molvae.export import check_output

    check_output(out, fmt, image=image, inputs=inputs)


def emit(table: pd.DataFrame, out: Path | None, fmt: str, image: Path | None) -> None:
    """Write the table (and its picture), then a one-line summary on stderr."""
    from molvae.export import write_image, write_table

    write_table(table, out, fmt)
    if image is not None:
        write_image(table[table["state"] == "valid"] if "state" in table else table, image)
    typer.echo(f"{summary(table)}{'' if out is None else f' -> {out}'}"
               f"{'' if image is None else f', {image}'}", err=True)


def summary(table: pd.DataFrame) -> str:
    """``12 rows: 10 valid, 1 duplicate, 1 rejected``."""
    if "state" not in table:
        return f"{len(table)} rows"
    counts = table["state"].value_counts()
    parts = [f"{counts[s]} {s}" for s in ("valid", "duplicate", "rejected") if s in counts]
    return f"{len(table)} rows: {', '.join(parts) or 'none'}"


def load(model: Path | None, precision: str = "auto",  # noqa: ANN201 - a TrainedModel
         standardize: bool = True, refine: bool = True):
    from molvae.errors import MolVAEError
    from molvae.trained import load_model

    if precision not in ("auto", "fp32", "bf16"):
        raise MolVAEError(f"--precision {precision!r}: choose auto, fp32 or bf16")
    return load_model(model, precision=precision, standardize=standardize, refine=refine)

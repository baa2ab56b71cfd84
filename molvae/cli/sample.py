"""``molvae sample``: molecules from the model's sampling distribution, streamed to a file."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from tqdm.auto import tqdm

from molvae.cli import app
from molvae.cli._output import (
    FORMAT,
    IMAGE,
    MAX_RING,
    MODEL,
    NO_PROPERTIES,
    OUT,
    ROUND_TRIP,
    check,
    load,
)


@app.command()
def sample(
    n: int = typer.Option(..., "-n", "--n", help="Number of valid molecules to write."),
    unique: bool = typer.Option(False, "--unique",
                                help="Keep drawing until N distinct molecules exist."),
    temperature: float = typer.Option(0.0, min=0.0, help="0 decodes greedily."),
    seed: int | None = typer.Option(None, help="Seed for reproducible samples."),
    max_attempts: int | None = typer.Option(
        None, min=1, help="Latents to decode at most (default 20 N + 1000)."),
    max_ring: int = MAX_RING,
    round_trip: bool = ROUND_TRIP,
    out: Path | None = OUT,
    fmt: str = FORMAT,
    image: Path | None = IMAGE,
    model: Path | None = MODEL,
    no_properties: bool = NO_PROPERTIES,
    batch_size: int = typer.Option(2048, min=1),
    workers: int | None = typer.Option(None, min=1, help="Decoding processes (all cores)."),
    precision: str = typer.Option(
        "auto", help="auto (bf16 where the hardware runs it natively) | fp32 | bf16"
    ),
) -> None:
    """Write N valid molecules drawn from the model, with their properties.

    Repeats are kept and marked ``duplicate`` unless --unique. Samples with a ring of more than
    --max-ring atoms (a ring closure the decoder wrote at the wrong place, in about one sample
    in five) are drawn again, and so are samples the model does not read back (--no-round-trip
    keeps them: faster, further from the training chemistry). Memory stays flat for any N.
    """
    from molvae.errors import MolVAEError
    from molvae.explore import iter_sample_tables
    from molvae.export import table_writer, write_image
    from molvae.sampler import SampleTally

    if n <= 0:
        raise MolVAEError(f"-n must be a positive number of molecules, got {n}")
    check(out, fmt, image)
    m = load(model, precision)
    logging.getLogger(__name__).info("sampling %d molecules, seed %s, temperature %g", n, seed,
                                     temperature)
    tally = SampleTally()
    tables = iter_sample_tables(m, n, unique=unique, temperature=temperature, seed=seed,
                                batch_size=batch_size, workers=workers,
                                properties=not no_properties, max_attempts=max_attempts,
                                max_ring=max_ring,  # 0 keeps every ring (iter_samples)
                                round_trip=round_trip, tally=tally)
    drawn, duplicates, first = 0, 0, None
    with table_writer(out, fmt) as write, tqdm(total=n, unit="mol", disable=out is None,
                                               desc="sampling") as bar:
        for table in tables:  # the file appears only when complete, even on Ctrl-C
            write(table)
            drawn += len(table)
            duplicates += int((table["state"] == "duplicate").sum())
            first = table if first is None else first
            bar.update(len(table))
    if image is not None and first is not None:
        write_image(first[first["state"] == "valid"], image)
    typer.echo(f"{drawn} molecules ({drawn - duplicates} distinct, {duplicates} repeats) from "
               f"{tally.drawn} latents decoded{'' if out is None else f' -> {out}'}", err=True)

"""``molvae sample``: valid molecules from the prior, streamed to a CSV file."""

from __future__ import annotations

import csv
import logging
import sys
from pathlib import Path

import typer
from tqdm.auto import tqdm

from molvae.cli import app
from molvae.io import atomic_open


@app.command()
def sample(
    n: int = typer.Option(..., "-n", "--n", help="Number of valid molecules to write."),
    out: Path | None = typer.Option(None, "--out", "-o", help="CSV file (default: stdout)."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model file."),
    temperature: float = typer.Option(0.0, min=0.0, help="0 decodes greedily."),
    seed: int | None = typer.Option(None, help="Seed for reproducible samples."),
    batch_size: int = typer.Option(2048, min=1),
    workers: int | None = typer.Option(None, min=1, help="Decoding processes (all cores)."),
    precision: str = typer.Option(
        "auto", help="auto (bf16 where the hardware runs it natively) | fp32 | bf16"
    ),
) -> None:
    """Write N valid molecules (canonical SMILES and SELFIES) drawn from the model's prior."""
    from molvae.errors import MolVAEError
    from molvae.trained import load_model

    if n <= 0:
        raise MolVAEError(f"-n must be a positive number of molecules, got {n}")
    if out is not None and not out.parent.exists():
        raise MolVAEError(f"--out {out}: directory {out.parent} does not exist")
    if precision not in ("auto", "fp32", "bf16"):
        raise MolVAEError(f"--precision {precision!r}: choose auto, fp32 or bf16")
    m = load_model(model, precision=precision)
    logging.getLogger(__name__).info("sampling %d molecules, seed %s, temperature %g", n, seed,
                                     temperature)
    batches = m.iter_samples(n, temperature=temperature, seed=seed, batch_size=batch_size,
                             workers=workers)
    bar = tqdm(total=n, unit="mol", disable=out is None, desc="sampling")
    if out is None:
        writer = csv.writer(sys.stdout)
        writer.writerow(["smiles", "selfies"])
        for batch in batches:
            writer.writerows((smi, sel) for sel, smi in batch)
        return
    with atomic_open(out, "w") as fh, bar:  # never half a file, even on Ctrl-C
        writer = csv.writer(fh)
        writer.writerow(["smiles", "selfies"])
        for batch in batches:
            writer.writerows((smi, sel) for sel, smi in batch)
            bar.update(len(batch))
    typer.echo(f"wrote {n} molecules to {out}", err=True)

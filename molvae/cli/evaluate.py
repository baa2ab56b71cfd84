"""``molvae evaluate``: reconstruction, prior sampling and property-head quality on a test set."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from molvae.cli import app
from molvae.cli._output import MAX_RING, REFINE, ROUND_TRIP, STANDARDIZE


@app.command()
def evaluate(
    test: Path = typer.Argument(..., help="Test SMILES file."),
    model: Path | None = typer.Option(None, "--model", "-m", help="Model file."),
    train: Path | None = typer.Option(None, help="Training SMILES file, for novelty."),
    n_reconstruct: int = typer.Option(1000, min=1),
    n_samples: int = typer.Option(10_000, min=1),
    n_properties: int = typer.Option(10_000, min=1),
    seed: int = typer.Option(0),
    workers: int | None = typer.Option(None, min=1),
    precision: str = typer.Option(
        "auto", help="auto (bf16 where the hardware runs it natively) | fp32 | bf16"
    ),
    cache_dir: Path | None = typer.Option(None, help="Cache of prepared data."),
    standardize: bool = STANDARDIZE,
    refine: bool = REFINE,
    max_ring: int = MAX_RING,
    round_trip: bool = ROUND_TRIP,
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Measure a model (default: the shipped one) on a test file: reconstruction, samples as
    ``molvae sample`` draws them (the same --max-ring and --round-trip), property heads."""
    from molvae.data import default_cache_dir
    from molvae.errors import MolVAEError
    from molvae.evaluate import evaluate as run_evaluation
    from molvae.trained import load_model

    if precision not in ("auto", "fp32", "bf16"):
        raise MolVAEError(f"--precision {precision!r}: choose auto, fp32 or bf16")
    m = load_model(model, precision=precision, standardize=standardize, refine=refine)
    metrics = run_evaluation(
        m, test, train_file=train, n_reconstruct=n_reconstruct, n_samples=n_samples,
        n_properties=n_properties, seed=seed, workers=workers,
        cache_dir=cache_dir or default_cache_dir(), round_trip=round_trip,
        max_ring=max_ring or None,
    )
    typer.echo(json.dumps(metrics.to_dict(), indent=2) if as_json else metrics.table())

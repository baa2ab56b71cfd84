"""``molvae optimize``: run a campaign; an Optuna sampler walks the latent space toward its
objective."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from molvae.cli import app
from molvae.cli._output import MODEL, REFINE, STANDARDIZE


def operator_list(value: str | None) -> list[str] | None:
    """``--operators``: None (the campaign's), ``[]`` for ``none``, else the names.

    >>> operator_list("splice, edit"), operator_list("none")
    (['splice', 'edit'], [])
    """
    if value is None:
        return None
    names = [v.strip() for v in value.split(",") if v.strip()]
    return [] if names == ["none"] else names


@app.command()
def optimize(
    campaign: Path = typer.Argument(..., help="The campaign file (TOML; see optimize/)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Run directory (default: runs/<campaign name>); rerun to resume."
    ),
    budget: int | None = typer.Option(None, "--budget", help="Unique molecules to score in all."),
    seed: int | None = typer.Option(None, "--seed", help="Sampler seed."),
    sampler: str | None = typer.Option(
        None, "--sampler", help="cmaes | tpe | gp | random | qmc | nsga2"
    ),
    storage: str | None = typer.Option(
        None, "--storage",
        help="Optuna storage URL shared by workers (sqlite:///FILE, postgresql://USER@HOST/DB) "
             "or a journal file (*.log); default: RUN_DIR/study.log.",
    ),
    study: str | None = typer.Option(None, "--study", help="Study name (default: campaign name)."),
    batch_size: int | None = typer.Option(
        None, "--batch-size", help="Latent points decoded and scored together."
    ),
    operators: str | None = typer.Option(
        None, "--operators",
        help="Search operators beside the sampler, comma-separated (local, crossover, mutate, "
             "splice, edit), or 'none' for the sampler alone; default: the campaign's.",
    ),
    max_ring: int | None = typer.Option(
        None, "--max-ring", min=0,
        help="Leave unscored candidates with a ring of more than this many atoms (0: score "
             "every ring); default: the campaign's (0).",
    ),
    model: Path | None = MODEL,
    standardize: bool = STANDARDIZE,
    refine: bool = REFINE,
    worker: str | None = typer.Option(
        None, "--worker", help="This worker's name, distinct per worker (default: host:pid)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Live progress bar."),
    allow_python: bool = typer.Option(
        False, "--allow-python",
        help="Let the campaign's python components import and run the modules they name.",
    ),
) -> None:
    """Search for molecules that score well on a campaign; write the ranked results.

    Flags override the campaign file. Writes results.csv, top.csv, top.sdf, top.png,
    progress.csv, progress.png, manifest.json and timing.json into the run directory.
    Rerunning the same command resumes the study; several workers may share one with the same
    --storage and --study (and distinct --worker names).
    """
    from molvae.errors import MolVAEError, ScoringStopped
    from molvae.optimization.campaign import load_campaign
    from molvae.optimization.outputs import OUTPUT_FILES
    from molvae.optimization.session import check_run_dir
    from molvae.optimization.session import optimize as run_optimization

    resolved = load_campaign(campaign, allow_python=allow_python).with_overrides(
        budget=budget, seed=seed, sampler=sampler, batch_size=batch_size,
        operators=operator_list(operators), max_ring=max_ring,
    )
    run_dir = check_run_dir(out if out is not None else Path("runs") / resolved.name)
    if model is not None and not model.is_file():
        raise MolVAEError(f"--model {model}: no such file")
    logging.getLogger(__name__).info(
        "campaign %s: budget %d, sampler %s, seed %d, batch %d -> %s", resolved.name,
        resolved.budget, resolved.sampler, resolved.seed, resolved.batch_size, run_dir
    )
    try:
        table = run_optimization(
            resolved, model=model, out=run_dir, storage=storage, study=study, worker=worker,
            progress=progress, standardize=standardize, refine=refine,
        )
    except (KeyboardInterrupt, ScoringStopped) as stop:  # outputs written on the way out
        why = "interrupted" if isinstance(stop, KeyboardInterrupt) else f"stopped: {stop}"
        typer.echo(f"{why}: {_rows(run_dir / 'results.csv')} of {resolved.budget} molecules "
                   f"scored, outputs in {run_dir}; the same command resumes the run", err=True)
        raise typer.Exit(130 if isinstance(stop, KeyboardInterrupt) else 1) from None
    scored = table[table["state"] != "failed"] if "state" in table else table
    failed = len(table) - len(scored)
    lines = [f"{len(table)} molecules scored ({failed} failed) in study "
             f"{study or resolved.name!r}"]
    if len(scored) and scored["score"].notna().any():
        best = scored.loc[scored["score"].idxmax()]
        lines.append(f"best score {best['score']:.4f}: {best['smiles']}")
    written = [name for name in OUTPUT_FILES if (run_dir / name).is_file()]
    lines.append(f"wrote {', '.join(written)} -> {run_dir}")
    typer.echo("\n".join(lines), err=True)


def _rows(path: Path) -> int:
    """Data rows of a results file (0 when there is none yet)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return max(sum(1 for _ in fh) - 1, 0)
    except OSError:
        return 0

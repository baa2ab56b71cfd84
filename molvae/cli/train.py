"""``molvae train``: train a VAE on a SMILES file into a run directory."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from molvae.cli import app


@app.command()
def train(
    data: Path = typer.Argument(
        ..., help="SMILES file (.csv/.smi/.txt, optionally .gz), or a data set prepared by "
        "`molvae prepare` (.npz: no RDKit or selfies needed)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory (created)."),
    smiles_column: str | None = typer.Option(None, help="CSV column holding SMILES."),
    epochs: int = typer.Option(10, min=1),
    batch_size: int = typer.Option(512, min=1),
    lr: float = typer.Option(1e-3, min=0.0),
    lr_warmup_steps: int = typer.Option(0, min=0, help="Steps of linear learning-rate warm-up."),
    beta: float = typer.Option(0.1, min=0.0, help="Final KL weight."),
    kl_schedule: str = typer.Option("linear", help="linear | cyclical | constant"),
    kl_warmup_steps: int = typer.Option(3000, min=0),
    free_bits: float = typer.Option(0.1, min=0.0, help="Nats per latent dim not penalized."),
    latent_dim: int = typer.Option(64, min=1),
    decoder_hidden: int = typer.Option(384, min=1),
    prior_components: int = typer.Option(
        1, min=1, help="Gaussians in the sampling distribution fitted to the training latents."),
    max_steps: int | None = typer.Option(None, min=1, help="Stop after this many steps."),
    patience: int = typer.Option(3, min=1, help="Early stopping patience (epochs)."),
    seed: int = typer.Option(0),
    device: str = typer.Option("auto", help="auto | cpu | cuda | cuda:N"),
    precision: str = typer.Option("auto", help="auto | fp32 | bf16"),
    workers: int | None = typer.Option(None, min=1, help="Processes for data preparation."),
    property_fraction: float = typer.Option(
        1.0, min=0.0, max=1.0, help="Share of molecules labelled (QED/logP/SA) for the heads."
    ),
    cache_dir: Path | None = typer.Option(None, help="Cache of prepared data."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/last.pt."),
    init: Path | None = typer.Option(
        None, "--init", help="Start from this model file's weights, architecture and alphabet "
        "(a fresh optimizer and schedule): train a finished model longer, or adapt it."),
    freeze_encoder: bool = typer.Option(
        False, "--freeze-encoder", help="With --init: train the decoder alone. The latents, and "
        "the sampling distribution, domain and property heads fitted on them, stay as they are."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Train a model; the best one is written to OUT/model.safetensors."""
    from molvae.errors import MolVAEError
    from molvae.train import TrainConfig
    from molvae.train import train as run_training

    if kl_schedule not in ("linear", "cyclical", "constant"):
        raise MolVAEError(f"--kl-schedule {kl_schedule!r}: choose linear, cyclical or constant")
    if precision not in ("auto", "fp32", "bf16"):
        raise MolVAEError(f"--precision {precision!r}: choose auto, fp32 or bf16")
    cfg = TrainConfig(
        epochs=epochs, batch_size=batch_size, lr=lr, lr_warmup_steps=lr_warmup_steps, beta=beta,
        kl_schedule=kl_schedule, kl_warmup_steps=kl_warmup_steps, free_bits=free_bits,
        max_steps=max_steps, patience=patience, seed=seed, device=device, precision=precision,
        workers=workers, smiles_column=smiles_column, property_fraction=property_fraction,
        freeze_encoder=freeze_encoder,
    )
    path = run_training(data, out, cfg=cfg, resume=resume, init=init, cache_dir=cache_dir,
                        progress=progress, model_overrides={"latent_dim": latent_dim,
                                         "decoder_hidden": decoder_hidden,
                                         "prior_components": prior_components})
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun only the first process reports
        typer.echo(f"model written to {path}")

"""The training loop: data -> VAE, with KL annealing, free bits, checkpoints, resume and DDP.

A run directory holds ``config.json`` (the resolved configuration), ``metrics.jsonl`` (one line per
logged step and per validation), ``last.pt`` (the resumable state, written every epoch, every
``checkpoint_minutes`` and on a step limit) and ``model.safetensors`` (the best model by
validation loss). Launch with ``torchrun --nproc_per_node N -m molvae train ...`` for DDP.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm.auto import tqdm

from molvae.checkpoint import load_checkpoint, save_checkpoint, save_model, versions
from molvae.data import build_vocabulary, default_cache_dir, encode, prepare
from molvae.errors import MolVAEError
from molvae.io import atomic_write_text
from molvae.model import VAE, VAEConfig
from molvae.vocab import PAD_ID, Vocabulary

log = logging.getLogger(__name__)

Precision = Literal["auto", "fp32", "bf16"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimization hyperparameters (architecture lives in :class:`VAEConfig`)."""

    epochs: int = 10
    batch_size: int = 512
    lr: float = 1e-3
    lr_final_ratio: float = 0.05  # cosine decay to lr * ratio over the planned steps
    beta: float = 0.1  # final KL weight
    kl_schedule: Literal["linear", "cyclical", "constant"] = "linear"
    kl_warmup_steps: int = 3000  # linear: steps to reach beta; cyclical: period
    free_bits: float = 0.1  # nats per latent dimension below which KL is not penalized
    prop_weight: float = 1.0
    grad_clip: float = 1.0
    val_fraction: float = 0.02
    max_val: int = 10_000
    recon_eval: int = 500  # validation molecules decoded greedily each epoch
    patience: int = 3  # epochs without validation improvement before stopping
    max_steps: int | None = None  # stop (and checkpoint) after this many optimizer steps
    checkpoint_minutes: float = 10.0
    log_every: int = 50
    seed: int = 0
    device: str = "auto"
    precision: Precision = "auto"
    workers: int | None = None  # processes for data preparation (default: all cores)
    property_fraction: float = 1.0  # share of molecules labelled for the property heads
    smiles_column: str | None = None


@dataclass
class RunState:
    """Where training is; everything here goes into ``last.pt``."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_val: float = math.inf
    bad_epochs: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def resolve_precision(precision: Precision, device: torch.device) -> torch.dtype | None:
    """Autocast dtype: bf16 on CUDA when supported for ``auto``; CPU runs fp32 unless told bf16
    (fast on CPUs with AVX512-BF16/AMX, about 2x here)."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def kl_weight(cfg: TrainConfig, step: int) -> float:
    """The KL weight beta at ``step`` under the configured annealing schedule."""
    if cfg.kl_schedule == "constant" or cfg.kl_warmup_steps <= 0:
        return cfg.beta
    if cfg.kl_schedule == "linear":
        return cfg.beta * min(1.0, step / cfg.kl_warmup_steps)
    phase = (step % cfg.kl_warmup_steps) / cfg.kl_warmup_steps  # cyclical: ramp over half a period
    return cfg.beta * min(1.0, 2.0 * phase)


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """Cosine decay from ``lr`` to ``lr * lr_final_ratio`` over the planned steps."""
    progress = min(1.0, step / max(1, total_steps))
    ratio = cfg.lr_final_ratio + (1 - cfg.lr_final_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    return cfg.lr * ratio


def vae_loss(
    out: dict[str, torch.Tensor],
    tokens: torch.Tensor,
    props: torch.Tensor,
    *,
    beta: float,
    free_bits: float,
    prop_weight: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss per molecule: reconstruction (summed over tokens) + beta * free-bits KL + heads MSE.

    Free bits: each latent dimension's batch-mean KL is penalized only above ``free_bits`` nats,
    so the decoder cannot profit from ignoring z (posterior collapse).
    """
    logits = out["logits"].float()
    target = tokens[:, : logits.shape[1]].long()
    mask = target != PAD_ID
    ce = F.cross_entropy(logits.transpose(1, 2), target, reduction="none")  # (B, T')
    recon = (ce * mask).sum(1).mean()
    mu, logvar = out["mu"], out["logvar"]
    kl_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(0)  # (Z,)
    kl = kl_dim.sum()
    kl_penalized = torch.clamp(kl_dim, min=free_bits).sum()
    finite = torch.isfinite(props)
    prop_err = (out["props"] - torch.nan_to_num(props)).pow(2) * finite
    prop_loss = prop_err.sum() / finite.sum().clamp(min=1)
    loss = recon + beta * kl_penalized + prop_weight * prop_loss
    with torch.no_grad():
        pred = logits.argmax(-1)
        tok_acc = ((pred == target) & mask).sum() / mask.sum()
        mol_acc = ((pred == target) | ~mask).all(1).float().mean()
    stats = {
        "loss": float(loss.detach()),
        "recon": float(recon.detach()),
        "kl": float(kl.detach()),
        "prop_mse": float(prop_loss.detach()),
        "token_acc": float(tok_acc),
        "mol_acc": float(mol_acc),
        "beta": beta,
    }
    return loss, stats


def split_indices(n: int, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """A seeded train/validation split of ``n`` molecules."""
    rng = np.random.default_rng(cfg.seed)
    perm = rng.permutation(n)
    n_val = min(cfg.max_val, max(1, int(round(n * cfg.val_fraction)))) if n > 1 else 0
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _dist_info() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def train(
    data: str | Path,
    out_dir: str | Path,
    *,
    cfg: TrainConfig = TrainConfig(),
    model_overrides: dict[str, Any] | None = None,
    resume: bool = False,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Train a VAE on a SMILES file; returns the path of the best model file.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) each process trains on its shard of every epoch with
    DDP (NCCL on GPUs, gloo on CPU); rank 0 alone writes files.

    Raises:
        MolVAEError: unusable data, or ``resume`` without a checkpoint in ``out_dir``.
    """
    out_dir = Path(out_dir)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(cfg.device)
    if world > 1 and not dist.is_initialized():
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank, world = _dist_info()
    try:
        return _train(data, out_dir, cfg, model_overrides or {}, resume, cache_dir, progress,
                      device, rank, world)
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(data, out_dir, cfg, model_overrides, resume, cache_dir, progress, device, rank, world):
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    ckpt_path = out_dir / "last.pt"
    saved = None
    if resume:
        if not ckpt_path.is_file():
            raise MolVAEError(f"--resume: no checkpoint {ckpt_path}; start without --resume")
        saved = load_checkpoint(ckpt_path)
        cfg = TrainConfig(**{**asdict(cfg), **saved["train_config"], **_resumable(cfg)})
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        prepared = prepare(data, column=cfg.smiles_column, workers=cfg.workers,
                           cache_dir=cache_dir, rejects_path=out_dir / "rejects.csv",
                           property_fraction=cfg.property_fraction)
    if world > 1:
        dist.barrier()  # rank 0 has filled the cache; the others read it
    if rank != 0:
        prepared = prepare(data, column=cfg.smiles_column, workers=1, cache_dir=cache_dir,
                           property_fraction=cfg.property_fraction)
    vocab = (Vocabulary.from_dict(saved["vocab"]) if saved
             else build_vocabulary(prepared.selfies))
    encoded = encode(prepared, vocab, cache_dir=cache_dir)
    train_idx, val_idx = split_indices(len(encoded.tokens), cfg)
    tokens = torch.from_numpy(encoded.tokens)
    props = torch.from_numpy(encoded.props)

    model_cfg = (VAEConfig.from_dict(saved["model_config"]) if saved else
                 VAEConfig(vocab_size=len(vocab), max_len=vocab.max_len, **model_overrides))
    torch.manual_seed(cfg.seed)  # parameter initialization only; every other draw has a generator
    model = VAE(model_cfg)
    if not saved:
        train_props = encoded.props[train_idx]
        model.prop_mean.copy_(torch.from_numpy(np.nanmean(train_props, 0)))
        model.prop_std.copy_(torch.from_numpy(np.nanstd(train_props, 0) + 1e-6))
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    noise = torch.Generator(device=device)
    state = RunState()
    if saved:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        state = RunState(**saved["run_state"])
        log.info("resumed from %s at epoch %d, step %d", ckpt_path, state.epoch, state.step)
    ddp = (torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model)
    autocast = resolve_precision(cfg.precision, device)
    batches_per_epoch = math.ceil(len(train_idx) // world / cfg.batch_size)
    total_steps = batches_per_epoch * cfg.epochs
    info = {"data": str(data), "data_hash": prepared.data_hash, "seed": cfg.seed,
            "train_size": int(len(train_idx)), "val_size": int(len(val_idx)),
            "data_report": prepared.report.summary()}
    if rank == 0:
        resolved = {"train": asdict(cfg), "model": model_cfg.to_dict(), "vocab": vocab.to_dict(),
                    "device": str(device), "world_size": world,
                    "precision": str(autocast or "fp32"), **info, "versions": versions()}
        atomic_write_text(out_dir / "config.json", json.dumps(resolved, indent=2))
        log.info("molvae %s; seed %d", ", ".join(f"{k} {v}" for k, v in versions().items()),
                 cfg.seed)
        log.info("training on %s (%s, %s), %d train / %d validation molecules, %d steps/epoch",
                 device, autocast or "fp32", f"world size {world}", len(train_idx),
                 len(val_idx), batches_per_epoch)

    def checkpoint() -> None:
        if rank != 0:
            return
        save_checkpoint(ckpt_path, {
            "model": model.state_dict(), "optimizer": opt.state_dict(),
            "run_state": asdict(state),
            "train_config": _plain(asdict(cfg)), "model_config": model_cfg.to_dict(),
            "vocab": vocab.to_dict(), "info": info,
        })

    metrics_file = out_dir / "metrics.jsonl"
    stop = False
    last_ckpt = time.monotonic()
    while state.epoch < cfg.epochs and not stop:
        order = _epoch_order(train_idx, cfg.seed, state.epoch)
        order = order[: len(order) // world * world][rank::world]  # equal shards for DDP
        batches = [order[i:i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
        batches = batches[:batches_per_epoch]
        bar = tqdm(total=len(batches), initial=state.batch_in_epoch, disable=not progress or rank,
                   desc=f"epoch {state.epoch + 1}/{cfg.epochs}", unit="batch", dynamic_ncols=True)
        model.train()
        t0, seen = time.monotonic(), 0
        for b in range(state.batch_in_epoch, len(batches)):
            idx = torch.from_numpy(batches[b])
            x, y = tokens[idx].to(device), props[idx].to(device)
            for group in opt.param_groups:
                group["lr"] = learning_rate(cfg, state.step, total_steps)
            beta = kl_weight(cfg, state.step)
            noise.manual_seed(_noise_seed(cfg.seed, rank, state.step))  # resume replays it
            with torch.autocast(device.type, dtype=autocast or torch.float32,
                                enabled=autocast is not None):
                out = ddp(x, noise)
            loss, stats = vae_loss(out, x, y, beta=beta, free_bits=cfg.free_bits,
                                   prop_weight=cfg.prop_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            state.step += 1
            state.batch_in_epoch = b + 1
            seen += len(idx)
            rate = seen * world / max(1e-9, time.monotonic() - t0)
            bar.update(1)
            bar.set_postfix(loss=f"{stats['loss']:.2f}", acc=f"{stats['token_acc']:.3f}",
                            kl=f"{stats['kl']:.1f}", mol_s=f"{rate:.0f}", refresh=False)
            if rank == 0 and state.step % cfg.log_every == 0:
                _append_jsonl(metrics_file, {"kind": "train", "epoch": state.epoch,
                                             "step": state.step, "mol_per_s": rate,
                                             "lr": opt.param_groups[0]["lr"], **stats})
            if cfg.max_steps is not None and state.step >= cfg.max_steps:
                stop = True
                break
            if time.monotonic() - last_ckpt > cfg.checkpoint_minutes * 60:
                checkpoint()
                last_ckpt = time.monotonic()
        bar.close()
        if stop:
            break
        state.epoch += 1
        state.batch_in_epoch = 0
        val = evaluate_split(model, tokens[val_idx], props[val_idx], cfg, device, vocab)
        val["epoch"] = state.epoch
        state.history.append(val)
        improved = val["loss"] < state.best_val
        if improved:
            state.best_val, state.bad_epochs = val["loss"], 0
        else:
            state.bad_epochs += 1
        if rank == 0:
            _append_jsonl(metrics_file, {"kind": "val", "step": state.step, **val})
            log.info("epoch %d validation: %s", state.epoch,
                     ", ".join(f"{k} {v:.4g}" for k, v in val.items()))
            if improved:
                save_model(out_dir / "model.safetensors", model, vocab, {**info, "val": val,
                           "epoch": state.epoch, "step": state.step})
        checkpoint()
        last_ckpt = time.monotonic()
        if state.bad_epochs >= cfg.patience:
            log.info("early stopping: no validation improvement for %d epochs", cfg.patience)
            break
    if stop:
        checkpoint()
        if rank == 0 and not (out_dir / "model.safetensors").exists():
            save_model(out_dir / "model.safetensors", model, vocab,
                       {**info, "epoch": state.epoch, "step": state.step})
    return out_dir / "model.safetensors"


def _resumable(cfg: TrainConfig) -> dict[str, Any]:
    """Settings a resumed run may change (the rest come from the checkpoint)."""
    return {k: getattr(cfg, k) for k in ("max_steps", "checkpoint_minutes", "log_every",
                                         "device", "workers", "epochs", "patience")}


def _noise_seed(seed: int, rank: int, step: int) -> int:
    """Seed of the reparameterization noise of one step: no RNG state to checkpoint."""
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1)[0])


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(d))


def _epoch_order(train_idx: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of an epoch: a pure function of seed and epoch, so resume replays it."""
    return np.random.default_rng([seed, epoch]).permutation(train_idx)


def _append_jsonl(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


@torch.no_grad()
def evaluate_split(model: VAE, tokens: torch.Tensor, props: torch.Tensor, cfg: TrainConfig,
                   device: torch.device, vocab: Vocabulary) -> dict[str, float]:
    """Validation loss terms (at the final beta, z = mu) and greedy exact-match token
    reconstruction of the first ``recon_eval`` molecules."""
    model.eval()
    totals: dict[str, float] = {}
    n = 0
    for i in range(0, len(tokens), 2048):
        x, y = tokens[i:i + 2048].to(device), props[i:i + 2048].to(device)
        mu, logvar = model.encode(x)
        length = int((x != PAD_ID).sum(1).max())
        out = {"logits": model.decode_logits(mu, x[:, :length]), "mu": mu, "logvar": logvar,
               "props": model.predict_properties(mu, standardized=True)}
        _, stats = vae_loss(out, x, y, beta=cfg.beta, free_bits=cfg.free_bits,
                            prop_weight=cfg.prop_weight)
        for k, v in stats.items():
            totals[k] = totals.get(k, 0.0) + v * len(x)
        n += len(x)
    result = {k: v / max(1, n) for k, v in totals.items() if k != "beta"}
    k = min(cfg.recon_eval, len(tokens))
    if k:
        x = tokens[:k].to(device)
        mu, _ = model.encode(x)
        gen = model.generate(mu)
        width = max(gen.shape[1], x.shape[1])
        same = (F.pad(gen, (0, width - gen.shape[1])) == F.pad(x.long(), (0, width - x.shape[1])))
        result["greedy_recon"] = float(same.all(1).float().mean())
    model.train()
    return result

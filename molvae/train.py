"""The training loop: data -> VAE, with KL annealing, free bits, checkpoints, resume and DDP.

A run directory holds ``config.json`` (the resolved configuration), ``metrics.jsonl`` (one line per
logged step and per validation), ``last.pt`` (the resumable state, written every epoch, every
``checkpoint_minutes`` and on a step limit) and ``model.safetensors`` (the best model by
validation loss). Launch with ``torchrun --nproc_per_node N -m molvae train ...`` for DDP.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from molvae.checkpoint import load_checkpoint, load_model, save_checkpoint, save_model, versions
from molvae.dataset import TokenDataset, is_token_dataset, prepare_token_dataset
from molvae.errors import DataError, MolVAEError
from molvae.io import atomic_write_text, default_cache_dir
from molvae.loss import evaluate_split, vae_loss
from molvae.model import VAE, VAEConfig, upgrade_state
from molvae.precision import Precision, autocast_dtype
from molvae.vocab import Vocabulary

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class TrainConfig:
    """Optimization hyperparameters (architecture lives in :class:`VAEConfig`)."""

    epochs: int = 10
    batch_size: int = 512
    lr: float = 1e-3
    lr_final_ratio: float = 0.05  # cosine decay to lr * ratio over the planned steps
    lr_warmup_steps: int = 0  # linear ramp from 0 first (fresh Adam moments on trained weights)
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
    length_buckets: bool = True  # batch molecules of similar length (see epoch_batches)
    freeze_encoder: bool = False  # train the decoder alone (trainable_parameters)


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
    """Training's autocast dtype (:func:`molvae.precision.autocast_dtype`): bf16 on CUDA when
    supported for ``auto``; CPU runs fp32 unless told bf16 (fast on CPUs with AVX512-BF16/AMX,
    about 2x here)."""
    return autocast_dtype(precision, device, purpose="training")


def initial_model(cfg: VAEConfig, seed: int) -> VAE:
    """A VAE with parameters initialized from ``seed``, on the CPU. The caller's global torch RNG
    is left as it was: training draws everything else from its own generators."""
    with torch.random.fork_rng(devices=[]):  # CPU state only: the parameters are made on the CPU
        torch.default_generator.manual_seed(seed)
        return VAE(cfg)


def kl_weight(cfg: TrainConfig, step: int) -> float:
    """The KL weight beta at ``step`` under the configured annealing schedule."""
    if cfg.kl_schedule == "constant" or cfg.kl_warmup_steps <= 0:
        return cfg.beta
    if cfg.kl_schedule == "linear":
        return cfg.beta * min(1.0, step / cfg.kl_warmup_steps)
    phase = (step % cfg.kl_warmup_steps) / cfg.kl_warmup_steps  # cyclical: ramp over half a period
    return cfg.beta * min(1.0, 2.0 * phase)


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """Cosine decay from ``lr`` to ``lr * lr_final_ratio`` over the planned steps, after a
    linear warm-up over ``lr_warmup_steps``: a fresh optimizer on trained weights (``--init``)
    takes full-size steps at once, which made the loss spike at lr 1e-3."""
    progress = min(1.0, step / max(1, total_steps))
    ratio = cfg.lr_final_ratio + (1 - cfg.lr_final_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    warmup = min(1.0, (step + 1) / cfg.lr_warmup_steps) if cfg.lr_warmup_steps > 0 else 1.0
    return cfg.lr * ratio * warmup


def split_indices(n: int, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """A seeded train/validation split of ``n`` molecules.

    Raises:
        DataError: fewer than two molecules: nothing to train on or nothing to validate with.
    """
    if n < 2:
        raise DataError(f"{n} valid molecule{'' if n == 1 else 's'}: training needs at least two "
                        "(one to train on, one to validate with)")
    rng = np.random.default_rng(cfg.seed)
    perm = rng.permutation(n)
    n_val = min(cfg.max_val, max(1, int(round(n * cfg.val_fraction))))
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
    init: str | Path | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> Path:
    """Train a VAE on a SMILES file; returns the path of the best model file.

    ``init`` names a model file to continue from: its weights, architecture and alphabet, with a
    fresh optimizer and schedule (training longer than a finished run planned, or adapting a
    model to new data). Molecules its alphabet cannot write are skipped and counted.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) each process trains on its shard of every epoch with
    DDP (NCCL on GPUs, gloo on CPU); rank 0 alone writes files.

    Raises:
        MolVAEError: unusable data, an ``out_dir`` that is a file or cannot be created, or
            ``resume`` without a checkpoint in ``out_dir``, or both ``resume`` and ``init``.
        CheckpointError: ``init`` is not a readable model file.
    """
    if resume and init is not None:
        raise MolVAEError("--resume continues OUT/last.pt and --init starts from a model file: "
                          "choose one")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise MolVAEError(f"--out {out_dir} is a file; training writes a run directory there")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MolVAEError(f"--out {out_dir}: cannot create the run directory: "
                          f"{err.strerror or err}") from None
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
        return _train(data, out_dir, cfg, model_overrides or {}, resume, init, cache_dir,
                      progress, device, rank, world)
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(data, out_dir, cfg, model_overrides, resume, init, cache_dir, progress, device, rank,
           world):
    trainer = Trainer(data, out_dir, cfg, model_overrides, resume,
                      Path(cache_dir) if cache_dir else default_cache_dir(), device, rank, world,
                      init=Path(init) if init is not None else None)
    return trainer.fit(progress)


class Trainer:
    """One training run: data, model and optimizer set up (or restored from ``last.pt``) at
    construction; :meth:`fit` runs the epochs. Rank 0 alone writes files."""

    def __init__(self, data: str | Path, out_dir: Path, cfg: TrainConfig,
                 model_overrides: dict[str, Any], resume: bool, cache_dir: Path,
                 device: torch.device, rank: int, world: int, init: Path | None = None) -> None:
        self.out_dir, self.device, self.rank, self.world = out_dir, device, rank, world
        self.ckpt_path = out_dir / "last.pt"
        saved = self._saved_state(cfg) if resume else None
        start, start_meta = load_model(init) if init is not None and not saved else (None, None)
        if cfg.freeze_encoder and start is None and not saved:
            raise MolVAEError("--freeze-encoder trains the decoder of a trained model: name it "
                              "with --init")
        if saved:
            cfg = TrainConfig(**{**asdict(cfg), **saved["train_config"], **_resumable(cfg),
                                 "max_steps": cfg.max_steps})  # a stop for this invocation only
        self.cfg = cfg
        vocab = (Vocabulary.from_dict(saved["vocab"]) if saved
                 else start_meta.vocab if start_meta else None)
        encoded = self._load_data(data, cache_dir, vocab)
        cfg = self.cfg
        self.vocab = encoded.vocab
        # every molecule of the file, validation included: "novel" means not seen in the data
        self.training_set = encoded.known if rank == 0 else None
        self.train_idx, self.val_idx = split_indices(len(encoded.tokens), cfg)
        self.tokens = torch.from_numpy(encoded.tokens)
        self.lengths = (encoded.tokens != 0).sum(1)  # tokens per molecule, end token included

        self.model_cfg = (VAEConfig.from_dict(saved["model_config"]) if saved else
                          start_meta.config if start_meta else
                          VAEConfig(vocab_size=len(self.vocab), max_len=self.vocab.max_len,
                                    **model_overrides))
        # a model from ``init`` keeps its weights and the heads' target statistics
        self.model = start if start is not None else initial_model(self.model_cfg, cfg.seed)
        if start is not None:
            log.info("starting from the weights of %s", init)
        elif not saved:  # standardize head targets with training-split statistics
            mean, std = _property_stats(encoded.props[self.train_idx])
            self.model.prop_mean.copy_(mean)
            self.model.prop_std.copy_(std)
        self.model.to(device)
        self.opt = torch.optim.Adam(trainable_parameters(self.model, cfg.freeze_encoder),
                                    lr=cfg.lr)
        self.state = RunState()
        if saved:
            self.model.load_state_dict(upgrade_state(saved["model"]))
            self.opt.load_state_dict(saved["optimizer"])
            self.state = RunState(**saved["run_state"])
            log.info("resumed from %s at epoch %d, step %d", self.ckpt_path, self.state.epoch,
                     self.state.step)
        # the heads learn standardized targets; the model's buffers turn predictions into units
        self.props = ((torch.from_numpy(encoded.props) - self.model.prop_mean.cpu())
                      / self.model.prop_std.cpu())
        self.net = (torch.nn.parallel.DistributedDataParallel(self.model) if world > 1
                    else self.model)
        self.noise = torch.Generator(device=device)
        self.autocast = resolve_precision(cfg.precision, device)
        self.batches_per_epoch = math.ceil(len(self.train_idx) // world / cfg.batch_size)
        self.total_steps = self.batches_per_epoch * cfg.epochs
        # the file's name and hash, not its path: a model file names no directory of the
        # machine that trained it
        self.info = {"data": encoded.name, "data_hash": encoded.data_hash, "seed": cfg.seed,
                     "train_size": int(len(self.train_idx)), "val_size": int(len(self.val_idx)),
                     "data_report": encoded.report}
        started_from = str(init) if start is not None else (saved or {}).get("info", {}).get("init")
        if started_from:  # a resumed run still says where its weights began
            self.info["init"] = started_from
        if cfg.freeze_encoder:  # the latents are the start's: so is what was fitted on them
            kept = start_meta.info if start_meta else saved.get("info", {})
            self.info.update({k: kept[k] for k in FITTED_ON_LATENTS if k in kept})
        self.metrics_file = out_dir / "metrics.jsonl"
        if rank == 0:
            self._write_config()

    def _saved_state(self, cfg: TrainConfig) -> dict[str, Any]:
        if not self.ckpt_path.is_file():
            raise MolVAEError(f"--resume: no checkpoint {self.ckpt_path}; start without --resume")
        return load_checkpoint(self.ckpt_path)

    def _load_data(self, data: str | Path, cache_dir: Path,
                   vocab: Vocabulary | None) -> TokenDataset:
        """The training molecules under ``vocab`` (default: the data's own alphabet): a
        prepared ``.npz`` (``molvae prepare``) is read as it is, without RDKit or selfies; a
        SMILES file is prepared here, rank 0 first (it fills the cache the others read)."""
        cfg = self.cfg
        if is_token_dataset(data):
            encoded = TokenDataset.load(data)
            if encoded.property_fraction != cfg.property_fraction:  # config.json says what was
                log.info("%s: head labels as prepared, for %g of the molecules", data,
                         encoded.property_fraction)
                self.cfg = replace(cfg, property_fraction=encoded.property_fraction)
            return encoded.under(vocab) if vocab is not None else encoded
        common = {"vocab": vocab, "column": cfg.smiles_column, "cache_dir": cache_dir,
                  "property_fraction": cfg.property_fraction}
        if self.rank == 0:
            encoded = prepare_token_dataset(data, workers=cfg.workers,
                                            rejects_path=self.out_dir / "rejects.csv", **common)
        if self.world > 1:
            dist.barrier()  # rank 0 has filled the cache; the others read it
        if self.rank != 0:
            encoded = prepare_token_dataset(data, workers=1, **common)
        return encoded

    def _write_config(self) -> None:
        precision = str(self.autocast or "fp32")
        resolved = {"train": asdict(self.cfg), "model": self.model_cfg.to_dict(),
                    "vocab": self.vocab.to_dict(), "device": str(self.device),
                    "world_size": self.world, "precision": precision, **self.info,
                    "versions": versions()}
        atomic_write_text(self.out_dir / "config.json", json.dumps(resolved, indent=2))
        log.info("molvae %s; seed %d", ", ".join(f"{k} {v}" for k, v in versions().items()),
                 self.cfg.seed)
        log.info("training on %s (%s, world size %d), %d train / %d validation molecules, "
                 "%d steps/epoch", self.device, precision, self.world, len(self.train_idx),
                 len(self.val_idx), self.batches_per_epoch)

    def checkpoint(self) -> None:
        """Write the resumable state (rank 0 only)."""
        if self.rank != 0:
            return
        save_checkpoint(self.ckpt_path, {
            "model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
            "run_state": asdict(self.state), "train_config": _plain(asdict(self.cfg)),
            "model_config": self.model_cfg.to_dict(), "vocab": self.vocab.to_dict(),
            "info": self.info,
        })

    def _save_model(self, extra: dict[str, Any]) -> None:
        if self.rank != 0:
            return
        if not self.cfg.freeze_encoder:  # a frozen encoder keeps the start's distribution
            sample = np.random.default_rng(self.cfg.seed).permutation(self.train_idx)[:20_000]
            gen = torch.Generator(device=self.device).manual_seed(self.cfg.seed)
            self.model.fit_latent_distribution(self.tokens[torch.from_numpy(sample)], gen)
        save_model(self.out_dir / "model.safetensors", self.model, self.vocab,
                   {**self.info, "epoch": self.state.epoch, "step": self.state.step, **extra},
                   training_set=self.training_set)

    def fit(self, progress: bool = True) -> Path:
        """Train until the planned epochs, early stopping or ``max_steps``; returns the best
        model file. Ctrl-C or SIGTERM (how a session's processes are stopped) writes a
        checkpoint first, so ``--resume`` loses nothing."""
        state = self.state
        try:
            with _terminate_as_interrupt():
                self._fit(progress)
        except KeyboardInterrupt:
            self.checkpoint()
            log.warning("interrupted at step %d; checkpoint written to %s", state.step,
                        self.ckpt_path)
            raise
        return self.out_dir / "model.safetensors"

    def _fit(self, progress: bool) -> None:
        state, cfg = self.state, self.cfg
        while state.epoch < cfg.epochs:
            if not self._epoch(progress):  # stopped at max_steps
                self.checkpoint()
                if not (self.out_dir / "model.safetensors").exists():
                    self._save_model({})
                break
            if self._end_of_epoch():
                break

    def _epoch(self, progress: bool) -> bool:
        """Run (the rest of) the current epoch; False if ``max_steps`` stopped it."""
        state, cfg = self.state, self.cfg
        order = _epoch_order(self.train_idx, cfg.seed, state.epoch)
        order = order[: len(order) // self.world * self.world][self.rank::self.world]
        lengths = self.lengths if cfg.length_buckets else None
        batches = epoch_batches(order, cfg.batch_size, lengths, [cfg.seed, state.epoch])
        batches = batches[:self.batches_per_epoch]  # the same count on every rank
        bar = tqdm(total=len(batches), initial=state.batch_in_epoch, unit="batch",
                   disable=not progress or self.rank != 0, dynamic_ncols=True,
                   desc=f"epoch {state.epoch + 1}/{cfg.epochs}")
        self.model.train()
        start, seen, last_ckpt = time.monotonic(), 0, time.monotonic()
        with bar:
            for b in range(state.batch_in_epoch, len(batches)):
                stats = self._step(torch.from_numpy(batches[b]))
                state.batch_in_epoch = b + 1
                seen += len(batches[b])
                rate = seen * self.world / max(1e-9, time.monotonic() - start)
                bar.update(1)
                bar.set_postfix(loss=f"{stats['loss']:.2f}", acc=f"{stats['token_acc']:.3f}",
                                kl=f"{stats['kl']:.1f}", mol_s=f"{rate:.0f}", refresh=False)
                if self.rank == 0 and state.step % cfg.log_every == 0:
                    _append_jsonl(self.metrics_file, {
                        "kind": "train", "epoch": state.epoch, "step": state.step,
                        "mol_per_s": rate, "lr": self.opt.param_groups[0]["lr"], **stats})
                if cfg.max_steps is not None and state.step >= cfg.max_steps:
                    return False
                if time.monotonic() - last_ckpt > cfg.checkpoint_minutes * 60:
                    self.checkpoint()
                    last_ckpt = time.monotonic()
        return True

    def _step(self, idx: torch.Tensor) -> dict[str, float]:
        """One optimizer step on the molecules at ``idx``."""
        cfg, state = self.cfg, self.state
        x, y = self.tokens[idx].to(self.device), self.props[idx].to(self.device)
        for group in self.opt.param_groups:
            group["lr"] = learning_rate(cfg, state.step, self.total_steps)
        self.noise.manual_seed(_noise_seed(cfg.seed, self.rank, state.step))  # resume replays it
        with torch.autocast(self.device.type, dtype=self.autocast or torch.float32,
                            enabled=self.autocast is not None):
            out = self.net(x, self.noise)
        loss, stats = vae_loss(out, x, y, beta=kl_weight(cfg, state.step),
                               free_bits=cfg.free_bits, prop_weight=cfg.prop_weight)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.opt.step()
        state.step += 1
        return stats

    def _end_of_epoch(self) -> bool:
        """Validate, keep the best model, checkpoint; True when early stopping ends the run."""
        state, cfg = self.state, self.cfg
        state.epoch += 1
        state.batch_in_epoch = 0
        val = evaluate_split(self.model, self.tokens[self.val_idx], self.props[self.val_idx],
                             cfg, self.device, self.vocab)
        val["epoch"] = state.epoch
        state.history.append(val)
        improved = val["loss"] < state.best_val
        state.best_val = min(state.best_val, val["loss"])
        state.bad_epochs = 0 if improved else state.bad_epochs + 1
        if self.rank == 0:
            _append_jsonl(self.metrics_file, {"kind": "val", "step": state.step, **val})
            log.info("epoch %d validation: %s", state.epoch,
                     ", ".join(f"{k} {v:.4g}" for k, v in val.items()))
        if improved:
            self._save_model({"val": val})
        self.checkpoint()
        if state.bad_epochs >= cfg.patience:
            log.info("early stopping: no validation improvement for %d epochs", cfg.patience)
            return True
        return False


def fit_sampling_distribution(
    model_file: str | Path, data: str | Path, *, components: int, out: str | Path | None = None,
    molecules: int = 50_000, seed: int = 0, cache_dir: str | Path | None = None,
    smiles_column: str | None = None, posteriors: float | None = None,
) -> Path:
    """Refit a trained model's sampling distribution and domain calibration to ``molecules`` of
    its training data drawn with ``seed``; the weights are untouched. Writes ``out`` (default:
    in place). The distribution is a ``components``-Gaussian mixture fitted by EM, or with
    ``posteriors`` (a width) the widened posteriors of ``components`` of the molecules, the
    others calibrating the domain (:mod:`molvae.prior`).

    Raises:
        MolVAEError: unusable data or model file.
        ValueError: ``posteriors`` with ``components`` not below ``molecules``.
    """
    from molvae.checkpoint import load_model
    from molvae.data import prepare
    from molvae.tokens import encode

    network, meta = load_model(model_file)
    prepared = prepare(data, column=smiles_column, cache_dir=cache_dir or default_cache_dir(),
                       property_fraction=0.0)
    tokens = torch.from_numpy(encode(prepared, meta.vocab).tokens)
    pick = np.random.default_rng(seed).permutation(len(tokens))[:molecules]
    if posteriors is None:  # the order of the pick matters only to a posterior mixture
        pick = np.sort(pick)
    gen = torch.Generator().manual_seed(seed)
    network.fit_latent_distribution(tokens[torch.from_numpy(pick)], gen, components=components,
                                    seed=seed, posteriors=posteriors)
    prior = {"kind": "mixture" if posteriors is None else "posteriors", "components": components,
             "molecules": len(pick), "seed": seed, "data_hash": prepared.data_hash}
    if posteriors is not None:
        prior["width"] = posteriors
    out = Path(out) if out is not None else Path(model_file)
    save_model(out, network, meta.vocab, {**meta.info, "prior": prior},
               training_set=meta.training_set)
    return out


def trainable_parameters(model: VAE, freeze_encoder: bool) -> list[torch.nn.Parameter]:
    """The parameters an optimizer steps; with ``freeze_encoder`` only those of
    :attr:`VAE.DECODER`, the others set not to require gradients.

    Why freeze: a trained model's latents carry everything fitted on them afterwards (the
    sampling distribution, the domain calibration, the refitted property heads). A decoder
    trained longer on the same posteriors reads them better and leaves all of that valid.
    """
    if not freeze_encoder:
        return list(model.parameters())
    keep = []
    for name, param in model.named_parameters():
        learns = name.split(".")[0] in model.DECODER
        param.requires_grad_(learns)
        if learns:
            keep.append(param)
    return keep


#: Records of a model file's info about what was fitted on its latents, which a decoder-only run
#: keeps with the latents.
FITTED_ON_LATENTS = ("prior", "heads")


#: Settings a resumed run may change; the others always come from the checkpoint.
RESUMABLE = ("epochs", "patience", "beta", "checkpoint_minutes", "log_every",
             "device", "workers")


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt, as Ctrl-C does (main thread only:
    elsewhere signals cannot be handled); the caller's handler is back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _resumable(cfg: TrainConfig) -> dict[str, Any]:
    """The resumable settings the caller set to something other than the default: a plain
    ``--resume`` continues with the checkpoint's settings, ``--resume --epochs 5`` extends it."""
    default = TrainConfig()
    return {k: getattr(cfg, k) for k in RESUMABLE if getattr(cfg, k) != getattr(default, k)}


def _property_stats(props: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of each labelled property (0 and 1 where none is labelled)."""
    labelled = np.isfinite(props)
    count = labelled.sum(0)
    mean = np.where(count > 0, np.nansum(props, 0) / np.maximum(count, 1), 0.0)
    var = np.nansum((props - mean) ** 2 * labelled, 0) / np.maximum(count, 1)
    std = np.where(count > 1, np.sqrt(var), 1.0) + 1e-6
    return torch.tensor(mean, dtype=torch.float32), torch.tensor(std, dtype=torch.float32)


def _noise_seed(seed: int, rank: int, step: int) -> int:
    """Seed of the reparameterization noise of one step: no RNG state to checkpoint."""
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1)[0])


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(d))


#: Batches whose molecules are sorted by length together: a window of this many batches.
BUCKET_BATCHES = 64


def epoch_batches(order: np.ndarray, batch_size: int, lengths: np.ndarray | None,
                  seed: list[int]) -> list[np.ndarray]:
    """The batches of an epoch, from its shuffled ``order``: consecutive slices, or with
    ``lengths`` slices of windows of :data:`BUCKET_BATCHES` batches sorted by length, the
    batches then shuffled (seeded, so resume replays them). The decoder runs to the longest
    molecule of a batch: on ZINC (37 tokens on average, 72 at most) random batches cost it
    about 1.7 times what length-sorted ones do, and every molecule is still seen once.

    >>> [b.tolist() for b in epoch_batches(np.arange(6), 2, None, [0])]
    [[0, 1], [2, 3], [4, 5]]
    """
    if lengths is None:
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    window = batch_size * BUCKET_BATCHES
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start:start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    perm = np.random.default_rng([*seed, 1]).permutation(len(batches))
    return [batches[i] for i in perm]


def _epoch_order(train_idx: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of an epoch: a pure function of seed and epoch, so resume replays it."""
    return np.random.default_rng([seed, epoch]).permutation(train_idx)


def _append_jsonl(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")

"""Saving and loading models as plain data: never code.

A *model file* is one ``.safetensors`` file: the network's tensors plus a JSON header with the
architecture, the vocabulary (alphabet, length limit, SELFIES constraints), package versions, the
training data's hash and the seed. A *training checkpoint* (``last.pt``, for ``--resume``) also
holds the optimizer state; it is a dict of tensors and plain data read with
``torch.load(weights_only=True)``, which refuses pickled classes.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as st_save

from molvae.errors import CheckpointError
from molvae.io import atomic_write_bytes
from molvae.model import VAE, VAEConfig, upgrade_state
from molvae.novelty import LOW, OFFSETS, TrainingSet
from molvae.vocab import Vocabulary

FORMAT = "molvae-model"
#: 2: the sampling distribution is a Gaussian mixture with a domain calibration (``prior_*``,
#: ``domain_quantiles``); files of version 1 load with their Gaussian as a one-component mixture.
#: 3: property heads may have several hidden layers (config ``head_layers``, ``molvae.heads``);
#: files of version 2 or less have one, and load as before.
FORMAT_VERSION = 3


#: The packages :func:`versions` always reports: those that shape a model.
CORE_PACKAGES: tuple[str, ...] = ("molvae", "torch", "rdkit", "selfies")


def versions(extra: Iterable[str] = ()) -> dict[str, str]:
    """Installed versions of what produced a file, for provenance: Python, ``CORE_PACKAGES`` and
    the ``extra`` distributions (e.g. ``("optuna", "numpy", "pandas")`` for an optimization
    run); ``"unknown"`` for one not installed. Read from package metadata: some packages'
    ``__version__`` strings lag their releases.

    >>> sorted(versions(extra=["numpy"]))
    ['molvae', 'numpy', 'python', 'rdkit', 'selfies', 'torch']
    """
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in (*CORE_PACKAGES, *extra):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "unknown"
    return found


@dataclass
class ModelFile:
    """What a model file holds besides the weights."""

    config: VAEConfig
    vocab: Vocabulary
    info: dict[str, Any] = field(default_factory=dict)  # data hash, seed, metrics, versions...
    training_set: TrainingSet | None = None  # for the ``novel`` column; None in older files


def save_model(path: str | Path, model: VAE, vocab: Vocabulary, info: dict[str, Any],
               training_set: TrainingSet | None = None) -> None:
    """Write ``model``, its vocabulary and (optionally) its training set's keys to one
    safetensors file, atomically."""
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.cfg.to_dict(),
        "vocab": vocab.to_dict(),
        "info": {"versions": versions(), **info},  # a re-saved model keeps its training versions
    }
    state = {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()}
    if training_set is not None:
        state.update(training_set.to_tensors())
        header["training_set_size"] = len(training_set)
    header["tensors_sha256"] = _tensors_digest(state)
    atomic_write_bytes(path, st_save(state, metadata={"molvae": json.dumps(header)}))


def _tensors_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over names and bytes of the tensors: flipped bits in the weights are caught."""
    h = hashlib.sha256()
    for name in sorted(state):
        h.update(name.encode())
        h.update(state[name].contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[VAE, ModelFile]:
    """Read a model file written by :func:`save_model`.

    Raises:
        CheckpointError: the file is missing, truncated, corrupt, not a molvae model, or its
            tensors do not match its declared architecture.
    """
    path = Path(path)
    header, state = _read(path, tensors=True)
    expected = header.get("tensors_sha256")
    if expected is not None and expected != _tensors_digest(state):
        raise CheckpointError(f"{path}: the weights do not match their checksum (corrupted or "
                              "tampered with)")
    if header.get("format") != FORMAT or header.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: unsupported model format {header.get('format')!r} "
            f"version {header.get('format_version')!r}; this molvae reads {FORMAT} "
            f"<= {FORMAT_VERSION}"
        )
    try:
        cfg = VAEConfig.from_dict(header["config"])
        vocab = Vocabulary.from_dict(header["vocab"])
        if cfg.vocab_size != len(vocab) or cfg.max_len != vocab.max_len:
            raise ValueError("architecture does not match the vocabulary")
        known = {k: state.pop(k) for k in (LOW, OFFSETS) if k in state}
        training_set = TrainingSet.from_tensors(known) if known else None
        model = VAE(cfg)
        model.load_state_dict(upgrade_state(state), strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path}: tensors do not match the model's description: {exc}"
        ) from exc
    model.to(device).eval()
    return model, ModelFile(cfg, vocab, header.get("info", {}), training_set)


def read_model_header(path: str | Path) -> dict[str, Any]:
    """The header of a model file (format, config, vocab, info, ``tensors_sha256``...) without
    reading its weights: milliseconds even for a large model.

    Raises:
        CheckpointError: the file is missing, not a safetensors file, or not a molvae model.
    """
    return _read(Path(path), tensors=False)[0]


def tensors_sha256(path: str | Path) -> str | None:
    """The SHA-256 of a model file's tensors as its header records it (what :func:`load_model`
    checks the weights against), read without loading them: a cheap identity for the model a
    result came from. None for a file written before models carried checksums.

    Raises:
        CheckpointError: see :func:`read_model_header`.
    """
    digest = read_model_header(path).get("tensors_sha256")
    return str(digest) if digest is not None else None


def _read(path: Path, *, tensors: bool) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """A model file's molvae header and (with ``tensors``) its tensors. safetensors checks the
    layout (a truncated or garbage file is refused before any tensor is read)."""
    try:
        with safe_open(path, "pt") as fh:
            metadata = fh.metadata() or {}
            state = {name: fh.get_tensor(name) for name in fh.keys()} if tensors else {}
        header = json.loads(metadata["molvae"])
        if not isinstance(header, dict):
            raise ValueError("the molvae header is not a JSON object")
    except OSError as exc:  # missing, a directory, unreadable
        raise CheckpointError(f"{path}: cannot read model file ({exc.strerror or exc})") from exc
    except (SafetensorError, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"{path}: not a valid molvae model file (corrupt, truncated or another format): {exc}"
        ) from exc
    return header, state


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write a training checkpoint (tensors and plain data only), atomically."""
    import io

    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a training checkpoint with ``weights_only=True``: pickled code is refused.

    Raises:
        CheckpointError: missing, corrupt, or holding anything but tensors and plain data.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise CheckpointError(f"{path}: no such checkpoint") from exc
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError...
        raise CheckpointError(
            f"{path}: refused to load checkpoint (corrupt, truncated, or holds code rather "
            f"than plain data): {str(exc).splitlines()[0]}"
        ) from exc


def export_checkpoint(checkpoint: str | Path, out: str | Path,
                      training_set: TrainingSet | None = None) -> Path:
    """Write the model file of a training checkpoint (``last.pt``), e.g. of a run stopped
    mid-epoch; the file records the step and epoch it was taken at. Without ``training_set``
    (the checkpoint does not hold the data) the model cannot tell novel molecules.

    Returns:
        ``out``.

    Raises:
        CheckpointError: the checkpoint is missing, corrupt or holds code.
    """
    saved = load_checkpoint(checkpoint)
    model = VAE(VAEConfig.from_dict(saved["model_config"]))
    model.load_state_dict(upgrade_state(saved["model"]))
    run = saved["run_state"]
    info = {**saved.get("info", {}), "step": run["step"], "epoch": run["epoch"],
            "batch_in_epoch": run["batch_in_epoch"], "exported_from": str(checkpoint)}
    save_model(out, model, Vocabulary.from_dict(saved["vocab"]), info, training_set)
    return Path(out)

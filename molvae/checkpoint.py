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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from molvae.errors import CheckpointError
from molvae.io import atomic_write_bytes
from molvae.model import VAE, VAEConfig
from molvae.novelty import LOW, OFFSETS, TrainingSet
from molvae.vocab import Vocabulary

FORMAT = "molvae-model"
FORMAT_VERSION = 1


def versions() -> dict[str, str]:
    """Installed versions of what produced a file, for provenance (from package metadata: some
    packages' ``__version__`` strings lag their releases)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("molvae", "torch", "rdkit", "selfies"):
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
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read model file ({exc.strerror})") from exc
    try:
        state = st_load(raw)
        header = json.loads(_metadata(raw)["molvae"])
    except (SafetensorError, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(
            f"{path}: not a valid molvae model file (corrupt, truncated or another format): {exc}"
        ) from exc
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
        model.load_state_dict(state, strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path}: tensors do not match the model's description: {exc}"
        ) from exc
    model.to(device).eval()
    return model, ModelFile(cfg, vocab, header.get("info", {}), training_set)


def _metadata(raw: bytes) -> dict[str, str]:
    """The string metadata of a safetensors buffer (its JSON header's ``__metadata__``)."""
    if len(raw) < 8:
        raise ValueError("file shorter than a safetensors header")
    n = int.from_bytes(raw[:8], "little")
    if n > len(raw) - 8:
        raise ValueError("header runs past the end of the file")
    return json.loads(raw[8 : 8 + n].decode("utf-8"))["__metadata__"]


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

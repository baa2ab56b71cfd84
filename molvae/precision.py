"""The one decision of where the network runs in bfloat16 (autocast) and where in float32.

``"fp32"`` and ``"bf16"`` are obeyed. ``"auto"`` picks bf16 where the hardware runs it natively --
a CUDA GPU that supports it, or a CPU with AVX512-BF16/AMX (oneDNN's check) -- with one
difference between the two uses: *inference* (sampling, decoding) takes bf16 on such a CPU (about
2x faster sampling, and a greedy decode rarely changes), while *training* on a CPU stays in fp32
unless told ``"bf16"`` (about 2x faster too, but it changes the loss trajectory of a run, so it is
opted into, not chosen for you). On CUDA both uses agree.

>>> import torch
>>> autocast_dtype("fp32", torch.device("cpu"), purpose="inference") is None
True
>>> autocast_dtype("auto", torch.device("cpu"), purpose="training") is None
True
"""

from __future__ import annotations

from typing import Literal

import torch

Precision = Literal["auto", "fp32", "bf16"]
Purpose = Literal["training", "inference"]


def bf16_is_native(device: torch.device) -> bool:
    """Whether ``device`` runs bfloat16 matrix products natively (so autocast speeds it up)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def autocast_dtype(precision: str, device: torch.device, *, purpose: Purpose) -> torch.dtype | None:
    """``torch.bfloat16`` to autocast to, or None to run in float32 (see the module docstring).

    Args:
        precision: ``"auto"``, ``"fp32"`` or ``"bf16"``.
        device: where the network runs.
        purpose: ``"training"`` or ``"inference"``.
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cpu" and purpose == "training":
        return None
    return torch.bfloat16 if bf16_is_native(device) else None


__all__ = ["Precision", "Purpose", "autocast_dtype", "bf16_is_native"]

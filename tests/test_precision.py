"""molvae.precision: the one bf16 decision behind training and inference."""

from __future__ import annotations

import pytest
import torch

from molvae import precision
from molvae.precision import autocast_dtype


@pytest.mark.parametrize("purpose", ["training", "inference"])
def test_explicit_choices_are_obeyed(purpose) -> None:
    for device in (torch.device("cpu"), torch.device("cuda")):
        assert autocast_dtype("fp32", device, purpose=purpose) is None
        assert autocast_dtype("bf16", device, purpose=purpose) is torch.bfloat16


@pytest.mark.parametrize("native", [True, False])
def test_auto_follows_the_hardware_except_training_on_a_cpu(monkeypatch, native: bool) -> None:
    monkeypatch.setattr(precision, "bf16_is_native", lambda device: native)
    want = torch.bfloat16 if native else None
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert autocast_dtype("auto", cpu, purpose="inference") is want
    assert autocast_dtype("auto", cuda, purpose="inference") is want
    assert autocast_dtype("auto", cuda, purpose="training") is want
    assert autocast_dtype("auto", cpu, purpose="training") is None  # opt in with "bf16"


def test_train_and_trained_model_use_it(tiny_model, monkeypatch) -> None:
    from molvae.train import resolve_precision

    monkeypatch.setattr(precision, "bf16_is_native", lambda device: True)
    assert resolve_precision("auto", torch.device("cpu")) is None
    for choice, enabled in (("auto", True), ("fp32", False), ("bf16", True)):
        monkeypatch.setattr(tiny_model, "precision", choice)
        with tiny_model._autocast():
            assert torch.is_autocast_enabled("cpu") is enabled

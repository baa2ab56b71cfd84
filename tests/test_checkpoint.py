"""molvae.checkpoint: plain-data model files and training checkpoints; corrupt files refused."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as st_save

from molvae.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    _tensors_digest,
    load_checkpoint,
    load_model,
    read_model_header,
    save_checkpoint,
    save_model,
    tensors_sha256,
    versions,
)
from molvae.errors import CheckpointError
from molvae.model import VAE, VAEConfig
from molvae.vocab import Vocabulary


@pytest.fixture
def vocab() -> Vocabulary:
    return Vocabulary.build(["[C]", "[O]", "[N]", "[=C]", "[Ring1]", "[Branch1]"], max_len=12)


@pytest.fixture
def network(vocab: Vocabulary) -> VAE:
    torch.manual_seed(0)
    net = VAE(
        VAEConfig(
            vocab_size=len(vocab),
            max_len=vocab.max_len,
            latent_dim=4,
            embed_dim=8,
            conv_channels=8,
            encoder_hidden=16,
            decoder_hidden=16,
            head_hidden=4,
        )
    )
    net.prop_mean.copy_(torch.tensor([0.5, 2.0, 3.0]))
    return net.eval()


@pytest.fixture
def model_file(tmp_path: Path, network: VAE, vocab: Vocabulary) -> Path:
    path = tmp_path / "model.safetensors"
    save_model(path, network, vocab, {"seed": 7, "data_hash": "abc"})
    return path


def test_round_trip_identical_tensors_and_decodes(
    model_file: Path, network: VAE, vocab: Vocabulary
) -> None:
    loaded, meta = load_model(model_file)
    assert meta.config == network.cfg
    assert meta.vocab == vocab and meta.vocab.constraints == vocab.constraints
    assert meta.info["seed"] == 7 and meta.info["data_hash"] == "abc"
    assert set(meta.info["versions"]) >= {"molvae", "torch", "rdkit", "selfies", "python"}
    original, restored = network.state_dict(), loaded.state_dict()
    assert original.keys() == restored.keys()
    for key in original:
        assert torch.equal(original[key], restored[key]), key
    assert not loaded.training
    z = torch.randn(16, network.cfg.latent_dim, generator=torch.Generator().manual_seed(0))
    assert torch.equal(network.generate(z), loaded.generate(z))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="cannot read") as err:
        load_model(tmp_path / "absent.safetensors")
    assert "absent.safetensors" in str(err.value)


def _corrupt(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_truncated_file(model_file: Path, tmp_path: Path) -> None:
    raw = model_file.read_bytes()
    for cut in (4, 100, len(raw) // 2, len(raw) - 1):
        bad = _corrupt(tmp_path / f"cut{cut}.safetensors", raw[:cut])
        with pytest.raises(CheckpointError) as err:
            load_model(bad)
        assert str(bad) in str(err.value)


def test_flipped_bytes_in_header(model_file: Path, tmp_path: Path) -> None:
    raw = bytearray(model_file.read_bytes())
    n = int.from_bytes(raw[:8], "little")
    for i, pos in enumerate((8, 9, 8 + n // 2, 8 + n - 1)):
        data = bytearray(raw)
        data[pos] ^= 0xFF
        with pytest.raises(CheckpointError):
            load_model(_corrupt(tmp_path / f"flip{i}.safetensors", bytes(data)))
    data = bytearray(raw)
    data[0] ^= 0x01  # the header length itself
    with pytest.raises(CheckpointError):
        load_model(_corrupt(tmp_path / "len.safetensors", bytes(data)))


def test_random_bytes(tmp_path: Path) -> None:
    rng = random.Random(0)
    for size in (0, 7, 64, 4096):
        bad = _corrupt(tmp_path / f"rand{size}.safetensors", rng.randbytes(size))
        with pytest.raises(CheckpointError):
            load_model(bad)


def test_foreign_safetensors(tmp_path: Path) -> None:
    plain = _corrupt(tmp_path / "plain.safetensors", st_save({"w": torch.zeros(3)}))
    with pytest.raises(CheckpointError, match="not a valid molvae model"):
        load_model(plain)
    other = _corrupt(
        tmp_path / "other.safetensors", st_save({"w": torch.zeros(3)}, metadata={"format": "pt"})
    )
    with pytest.raises(CheckpointError):
        load_model(other)
    wrong_format = st_save(
        {"w": torch.zeros(3)}, metadata={"molvae": json.dumps({"format": "not-molvae"})}
    )
    with pytest.raises(CheckpointError, match="unsupported model format"):
        load_model(_corrupt(tmp_path / "fmt.safetensors", wrong_format))


def test_newer_format_version_refused(
    model_file: Path, tmp_path: Path, network: VAE, vocab: Vocabulary
) -> None:
    header = {
        "format": FORMAT,
        "format_version": 99,
        "config": network.cfg.to_dict(),
        "vocab": vocab.to_dict(),
        "info": {},
    }
    state = {k: v.contiguous() for k, v in network.state_dict().items()}
    path = _corrupt(
        tmp_path / "v99.safetensors", st_save(state, metadata={"molvae": json.dumps(header)})
    )
    with pytest.raises(CheckpointError, match="version 99"):
        load_model(path)


def test_tensors_not_matching_description(tmp_path: Path, network: VAE, vocab: Vocabulary) -> None:
    header = {
        "format": FORMAT,
        "format_version": 1,
        "config": {**network.cfg.to_dict(), "decoder_hidden": 32},
        "vocab": vocab.to_dict(),
        "info": {},
    }
    state = {k: v.contiguous() for k, v in network.state_dict().items()}
    path = _corrupt(
        tmp_path / "mismatch.safetensors", st_save(state, metadata={"molvae": json.dumps(header)})
    )
    with pytest.raises(CheckpointError, match="do not match"):
        load_model(path)
    header["config"] = {**network.cfg.to_dict(), "vocab_size": len(vocab) + 1}
    path.write_bytes(st_save(state, metadata={"molvae": json.dumps(header)}))
    with pytest.raises(CheckpointError, match="do not match"):
        load_model(path)


def test_header_and_checksum_read_without_the_weights(
    model_file: Path, network: VAE, vocab: Vocabulary
) -> None:
    header = read_model_header(model_file)
    assert header["format"] == FORMAT and header["vocab"] == vocab.to_dict()
    state = {k: v.detach().float().contiguous() for k, v in network.state_dict().items()}
    assert tensors_sha256(model_file) == header["tensors_sha256"] == _tensors_digest(state)


def test_checksum_of_a_file_without_one_is_none(tmp_path: Path) -> None:
    header = {"format": FORMAT, "format_version": 1}
    path = _corrupt(tmp_path / "old.safetensors",
                    st_save({"w": torch.zeros(3)}, metadata={"molvae": json.dumps(header)}))
    assert tensors_sha256(path) is None


@pytest.mark.parametrize("data", [b"", b"garbage" * 10, b"\x08" + b"\x00" * 7 + b"{"])
def test_checksum_of_a_bad_file_is_a_checkpoint_error(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(CheckpointError):
        tensors_sha256(_corrupt(tmp_path / "bad.safetensors", data))
    with pytest.raises(CheckpointError, match="cannot read"):
        tensors_sha256(tmp_path / "absent.safetensors")
    plain = _corrupt(tmp_path / "plain.safetensors", st_save({"w": torch.zeros(3)}))
    with pytest.raises(CheckpointError, match="not a valid molvae model"):
        read_model_header(plain)


def test_versions_report_extra_packages() -> None:
    found = versions(extra=("numpy", "no-such-package-molvae"))
    assert set(found) == {"python", "molvae", "torch", "rdkit", "selfies", "numpy",
                          "no-such-package-molvae"}
    assert found["no-such-package-molvae"] == "unknown" and found["numpy"] != "unknown"
    assert set(versions()) == {"python", "molvae", "torch", "rdkit", "selfies"}


# --- training checkpoints -------------------------------------------------------------------
def test_training_checkpoint_round_trip(tmp_path: Path, network: VAE) -> None:
    opt = torch.optim.Adam(network.parameters())
    state = {
        "model": network.state_dict(),
        "optimizer": opt.state_dict(),
        "run_state": {"step": 3, "best_val": float("inf"), "history": [{"loss": 1.0}]},
        "vocab": {"symbols": ["<pad>"], "max_len": 4},
    }
    save_checkpoint(tmp_path / "last.pt", state)
    back = load_checkpoint(tmp_path / "last.pt")
    assert back["run_state"] == state["run_state"]
    for k, v in state["model"].items():
        assert torch.equal(back["model"][k], v)


class Payload:
    """A class the test defines: loading an instance would mean unpickling code."""

    def __init__(self) -> None:
        self.value = 42


class Sneaky:
    """Unpickling this would call ``Path.touch`` on a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickled_class_instance_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "payload": Payload()}, path)
    with pytest.raises(CheckpointError, match="refused") as err:
        load_checkpoint(path)
    assert str(path) in str(err.value)


def test_pickled_callable_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"x": Sneaky(marker)}, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not marker.exists()


def test_checkpoint_missing_and_corrupt(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "absent.pt")
    save_checkpoint(tmp_path / "ok.pt", {"x": torch.ones(1000)})
    raw = (tmp_path / "ok.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "cut.pt")
    (tmp_path / "rand.pt").write_bytes(random.Random(1).randbytes(512))
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "rand.pt")


def test_a_format_1_file_loads_with_its_gaussian_as_the_sampling_distribution(
    tmp_path: Path, network: VAE, vocab: Vocabulary
) -> None:
    """Files written before the mixture prior (format 1: no ``prior_*``, no domain calibration)
    still load: they sample from the Gaussian they were fitted with, as before."""
    from molvae.model import PRIOR_BUFFERS

    network.latent_mean.copy_(torch.tensor([1.0, -1.0, 0.5, 0.0]))
    network.latent_std.copy_(torch.tensor([0.5, 2.0, 1.0, 1.0]))
    state = {k: v.contiguous() for k, v in network.state_dict().items() if k not in PRIOR_BUFFERS}
    header = {"format": FORMAT, "format_version": 1, "config": network.cfg.to_dict(),
              "vocab": vocab.to_dict(), "info": {}}
    path = tmp_path / "old.safetensors"
    path.write_bytes(st_save(state, metadata={"molvae": json.dumps(header)}))
    loaded, _ = load_model(path)
    assert loaded.cfg.prior_components == 1
    assert torch.equal(loaded.prior_means[0], network.latent_mean)
    assert torch.equal(loaded.prior_stds[0], network.latent_std)
    z = loaded.sample_latents(20000, torch.Generator().manual_seed(0))
    assert torch.allclose(z.mean(0), network.latent_mean, atol=0.05)
    assert torch.allclose(z.std(0), network.latent_std, atol=0.05)
    assert 0.0 <= float(loaded.domain(z).min()) and float(loaded.domain(z).max()) <= 1.0


def test_a_fitted_mixture_round_trips(tmp_path: Path, network: VAE, vocab: Vocabulary) -> None:
    from molvae.prior import fit_mixture

    g = torch.Generator().manual_seed(0)
    network.set_prior(fit_mixture(torch.randn(500, 4, generator=g), 3, seed=0))
    assert network.cfg.prior_components == 3
    path = tmp_path / "mix.safetensors"
    save_model(path, network, vocab, {})
    assert read_model_header(path)["format_version"] == FORMAT_VERSION
    loaded, meta = load_model(path)
    assert meta.config.prior_components == 3
    assert torch.equal(loaded.prior_means, network.prior_means)
    assert torch.equal(loaded.sample_latents(8, torch.Generator().manual_seed(1)),
                       network.sample_latents(8, torch.Generator().manual_seed(1)))


def test_a_format_2_file_loads_with_one_layer_heads(tmp_path: Path, network: VAE,
                                                   vocab: Vocabulary) -> None:
    """Files written before the heads could be deepened (no ``head_layers`` in the config) load
    with the one-hidden-layer heads they hold, predicting what they predicted."""
    config = {k: v for k, v in network.cfg.to_dict().items() if k != "head_layers"}
    header = {"format": FORMAT, "format_version": 2, "config": config,
              "vocab": vocab.to_dict(), "info": {}}
    state = {k: v.contiguous() for k, v in network.state_dict().items()}
    path = tmp_path / "v2.safetensors"
    path.write_bytes(st_save(state, metadata={"molvae": json.dumps(header)}))
    loaded, _ = load_model(path)
    assert loaded.cfg.head_layers == 1
    z = torch.randn(5, network.cfg.latent_dim, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded.predict_properties(z), network.predict_properties(z))

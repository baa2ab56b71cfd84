"""Refined latents (molvae.refine): a molecule the encoder's mean does not give back gets a nearby
point that does, and nothing else changes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import molvae
from molvae.refine import RefineConfig, refine_latents, same_tokens
from molvae.trained import TrainedModel

#: Aspirin, whose posterior mean the shipped model decodes back (the control), and ibuprofen,
#: whose mean it decodes to another molecule and a refined latent gives back (both from
#: datasets/drugs/marketed.csv).
MISREAD = ["CC(=O)Oc1ccccc1C(=O)O", "CC(C)Cc1ccc(C(C)C(=O)O)cc1"]


@pytest.fixture(scope="module")
def shipped() -> TrainedModel:
    return molvae.load_model()


def _tokens(model: TrainedModel, smiles: list[str]) -> torch.Tensor:
    tokens, ok, _ = model.tokenize(smiles)
    assert ok.all()
    return torch.from_numpy(tokens)


def test_same_tokens_ignores_padding_width() -> None:
    a = torch.tensor([[3, 4, 2, 0, 0], [3, 5, 2, 0, 0]])
    b = torch.tensor([[3, 4, 2], [3, 4, 2]])
    assert same_tokens(a, b).tolist() == [True, False]


def test_refined_latents_decode_back_within_the_radius(tiny_model: TrainedModel,
                                                       small_smiles: list[str]) -> None:
    """Whatever the model, a latent marked as found decodes to its molecule's tokens, a latent
    not found is its mean, every latent lies within the radius, and the weights are untouched."""
    net = tiny_model.network
    tokens = _tokens(tiny_model, small_smiles[:24])
    with torch.no_grad():
        mu, logvar = net.encode(tokens)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    cfg = RefineConfig(steps=15, lr=0.5)
    z, found = refine_latents(net, tokens, mu, logvar, tiny_model._greedy, cfg)
    assert z.shape == mu.shape and found.shape == (24,)
    assert same_tokens(tiny_model._greedy(z[found]), tokens[found]).all()
    assert torch.equal(z[~found], mu[~found])
    eps = (z - mu) / torch.exp(0.5 * logvar)
    assert (eps.norm(dim=1) <= cfg.radius * math.sqrt(z.shape[1]) + 1e-4).all()
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.requires_grad for p in net.parameters())


def test_a_mean_that_decodes_back_is_kept(shipped: TrainedModel) -> None:
    tokens = _tokens(shipped, MISREAD[:1])
    with torch.no_grad():
        mu, logvar = shipped.network.encode(tokens)
    z, found = refine_latents(shipped.network, tokens, mu, logvar, shipped._greedy)
    assert found.all() and torch.equal(z, mu)


def test_encode_gives_back_what_the_mean_misreads(shipped: TrainedModel) -> None:
    """Ibuprofen's mean decodes to another molecule; the table's latent decodes to ibuprofen,
    marked ``refined``, and stays closer to the mean than the two nearest of 50 other molecules'
    means; with refinement off the latent is the mean again and does not give it back."""
    table = shipped.encode(MISREAD, properties=False)
    assert table["reconstructs"].tolist() == [True, True]
    assert table["refined"].tolist() == [False, True]
    z = table[[f"z{i}" for i in range(shipped.latent_dim)]].to_numpy(np.float32)
    decoded = [smi for _, smi in shipped.decode_latents(z)]
    assert decoded == table["smiles"].tolist()

    shipped.refine = False
    try:
        plain = shipped.encode(MISREAD, properties=False)
    finally:
        shipped.refine = True
    assert plain["refined"].tolist() == [False, False]
    assert plain["reconstructs"].tolist() == [True, False]
    mean = plain[[f"z{i}" for i in range(shipped.latent_dim)]].to_numpy(np.float32)
    assert np.array_equal(mean[0], z[0])
    others = shipped.sample_latents(50, seed=0)
    nearest = np.sort(np.linalg.norm(shipped.whiten(others) - shipped.whiten(mean[1:2]), axis=1))
    assert np.linalg.norm(shipped.whiten(z[1:2]) - shipped.whiten(mean[1:2])) < nearest[1]


def test_stochastic_encoding_is_not_refined(shipped: TrainedModel) -> None:
    table = shipped.encode(MISREAD, stochastic=True, seed=0, properties=False)
    assert not table["refined"].any()
    assert table["reconstructs"].tolist() == [True, False]  # of the means


def test_a_lead_is_built_on_from_its_refined_latent(shipped: TrainedModel, caplog) -> None:
    """What analogs, walks and interpolations start from decodes to the lead itself, without a
    warning; with refinement off it is the mean, and the warning names what it decodes to."""
    from molvae.explore import encode_one

    with caplog.at_level("WARNING", logger="molvae.explore"):
        z = encode_one(shipped, MISREAD[1])
    assert shipped.decode_latents(z[None])[0][1] == MISREAD[1]
    assert "not to itself" not in caplog.text
    shipped.refine = False
    try:
        with caplog.at_level("WARNING", logger="molvae.explore"):
            encode_one(shipped, MISREAD[1])
    finally:
        shipped.refine = True
    assert "not to itself" in caplog.text


def test_the_benchmark_measures_what_the_commands_do(shipped: TrainedModel) -> None:
    """benchmarks/refine.py: its counts agree with encode's columns, and refinement is left on."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "refine.py"
    spec = importlib.util.spec_from_file_location("refine_benchmark", script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    got = bench.measure(shipped, MISREAD)
    assert shipped.refine
    assert got["molecules"] == got["encoded"] == 2
    assert got["reconstructed_mean"] == 0.5 and got["reconstructed_refined"] == 1.0
    assert got["refined"] == got["misread_by_mean"] == 1
    assert got["median_moved_whitened"] < got["median_nearest_other_mean_whitened"]

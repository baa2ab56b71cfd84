"""molvae.model: shapes, generation semantics, and an overfit-one-batch integration test."""

from __future__ import annotations

import pytest
import selfies as sf
import torch

from molvae.loss import vae_loss
from molvae.model import VAE, VAEConfig
from molvae.vocab import BOS_ID, EOS_ID, PAD_ID, Vocabulary, smiles_to_selfies

V, T, Z = 12, 10, 4


@pytest.fixture
def model() -> VAE:
    torch.manual_seed(0)
    cfg = VAEConfig(
        vocab_size=V,
        max_len=T,
        latent_dim=Z,
        embed_dim=8,
        conv_channels=8,
        encoder_hidden=16,
        decoder_hidden=16,
        head_hidden=4,
    )
    return VAE(cfg).eval()


def _tokens(B: int = 3) -> torch.Tensor:
    x = torch.zeros(B, T, dtype=torch.uint8)
    x[0, :4] = torch.tensor([3, 4, 5, EOS_ID])
    x[1, :2] = torch.tensor([6, EOS_ID])
    x[2, :7] = torch.tensor([3, 3, 3, 4, 4, 4, EOS_ID])
    return x


def _force_logits(model: VAE, favourite: int, eos_bias: float | None = None) -> None:
    """Make the decoder ignore its state: ``favourite`` always wins (or EOS sampled with bias)."""
    with torch.no_grad():
        model.to_logits.weight.zero_()
        model.to_logits.bias.fill_(-5.0)
        model.to_logits.bias[favourite] = 5.0
        if eos_bias is not None:
            model.to_logits.bias[EOS_ID] = eos_bias


def test_config_dict_round_trip_ignores_unknown_keys() -> None:
    cfg = VAEConfig(vocab_size=V, max_len=T, latent_dim=Z)
    assert VAEConfig.from_dict({**cfg.to_dict(), "from_the_future": 1}) == cfg


def test_encode_shapes(model: VAE) -> None:
    with torch.no_grad():
        mu, logvar = model.encode(_tokens())
    assert mu.shape == logvar.shape == (3, Z)
    assert mu.dtype == torch.float32
    assert float(logvar.min()) >= -12.0 and float(logvar.max()) <= 6.0


def test_decode_logits_shapes(model: VAE) -> None:
    z = torch.randn(3, Z)
    assert model.decode_logits(z, _tokens()).shape == (3, T, V)
    assert model.decode_logits(z, _tokens()[:, :5]).shape == (3, 5, V)


def test_decode_logits_is_causal(model: VAE) -> None:
    """Teacher forcing: the logits at position t never see targets at t or later."""
    z = torch.randn(3, Z)
    x = _tokens()
    y = x.clone()
    y[:, 3:] = 7
    a, b = model.decode_logits(z, x), model.decode_logits(z, y)
    torch.testing.assert_close(a[:, :4], b[:, :4])
    assert not torch.allclose(a[:, 4:], b[:, 4:])


def test_forward_decodes_up_to_longest_molecule(model: VAE) -> None:
    out = model(_tokens(), torch.Generator().manual_seed(0))
    assert out["logits"].shape == (3, 7, V)
    assert out["mu"].shape == out["logvar"].shape == out["z"].shape == (3, Z)
    assert out["props"].shape == (3, 3)


def test_reparameterize_is_reproducible_with_generator() -> None:
    mu, logvar = torch.zeros(2, Z), torch.zeros(2, Z)
    a = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(1))
    b = VAE.reparameterize(mu, logvar, torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    tight = VAE.reparameterize(mu + 3.0, torch.full((2, Z), -12.0), torch.Generator())
    torch.testing.assert_close(tight, mu + 3.0, atol=0.05, rtol=0)


def test_predict_properties_undoes_standardization(model: VAE) -> None:
    model.prop_mean.copy_(torch.tensor([1.0, 2.0, 3.0]))
    model.prop_std.copy_(torch.tensor([2.0, 0.5, 10.0]))
    z = torch.randn(5, Z)
    std = model.predict_properties(z, standardized=True)
    torch.testing.assert_close(model.predict_properties(z), std * model.prop_std + model.prop_mean)


# --- generation -----------------------------------------------------------------------------
def test_generate_greedy_shape_and_determinism(model: VAE) -> None:
    z = torch.randn(4, Z)
    a, b = model.generate(z), model.generate(z)
    assert a.shape[0] == 4 and 1 <= a.shape[1] <= T and a.dtype == torch.long
    assert torch.equal(a, b)


def test_generate_stops_when_all_have_ended(model: VAE) -> None:
    _force_logits(model, EOS_ID)
    out = model.generate(torch.randn(5, Z))
    assert out.shape == (5, 2)  # the first token is never the end: no empty molecule
    assert (out[:, 0] != EOS_ID).all() and (out[:, 1] == EOS_ID).all()


def test_generate_min_len_bans_an_early_end(model: VAE) -> None:
    _force_logits(model, EOS_ID)
    out = model.generate(torch.randn(3, Z), min_len=6)
    assert out.shape == (3, 6)
    assert (out[:, :5] != EOS_ID).all() and (out[:, 5] == EOS_ID).all()


def test_generate_first_token_is_restricted(model: VAE) -> None:
    _force_logits(model, 4)
    allowed = torch.zeros(model.cfg.vocab_size, dtype=torch.bool)
    allowed[5] = True
    out = model.generate(torch.randn(3, Z), first_allowed=allowed)
    assert (out[:, 0] == 5).all() and (out[:, 1] == 4).all()


def test_generate_never_emits_pad_or_bos(model: VAE) -> None:
    _force_logits(model, PAD_ID)
    with torch.no_grad():
        model.to_logits.bias[BOS_ID] = 5.0
        model.to_logits.bias[4] = 1.0
    out = model.generate(torch.randn(2, Z))
    assert (out[:, :-1] == 4).all()


def test_generate_forces_end_at_max_len(model: VAE) -> None:
    _force_logits(model, 5)
    out = model.generate(torch.randn(2, Z))
    assert out.shape == (2, T)
    assert (out[:, :-1] == 5).all() and (out[:, -1] == EOS_ID).all()
    assert model.generate(torch.randn(2, Z), max_len=4).shape == (2, 4)


def test_generate_pads_after_eos(model: VAE) -> None:
    _force_logits(model, 5, eos_bias=4.0)  # EOS about a quarter of the time: ragged lengths
    out = model.generate(
        torch.randn(64, Z), temperature=1.0, generator=torch.Generator().manual_seed(0)
    )
    ends = (out == EOS_ID).int().argmax(1)
    assert ((out == EOS_ID).sum(1) == 1).all(), "exactly one end token per molecule"
    assert len(set(ends.tolist())) > 2, "the test needs molecules of different lengths"
    assert out.shape[1] == int(ends.max()) + 1, "stops as soon as the last molecule ends"
    for row, end in zip(out, ends.tolist(), strict=True):
        assert (row[:end] != PAD_ID).all()
        assert (row[end + 1 :] == PAD_ID).all()


def test_generate_sampling_reproducible_with_generator(model: VAE) -> None:
    z = torch.randn(8, Z)
    a = model.generate(z, temperature=1.0, generator=torch.Generator().manual_seed(3))
    b = model.generate(z, temperature=1.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


# --- overfit one batch ------------------------------------------------------------------------
def test_overfits_one_batch(small_smiles: list[str]) -> None:
    """A tiny VAE memorizes 8 molecules: teacher-forced and greedy reconstruction both exact."""
    selfies = [smiles_to_selfies(s) for s in small_smiles[:8]]
    vocab = Vocabulary.build((t for s in selfies for t in sf.split_selfies(s)), max_len=48)
    x = torch.from_numpy(vocab.pad([vocab.encode_selfies(s) for s in selfies]))
    torch.manual_seed(0)
    net = VAE(
        VAEConfig(
            vocab_size=len(vocab),
            max_len=vocab.max_len,
            latent_dim=16,
            embed_dim=32,
            conv_channels=32,
            encoder_hidden=64,
            decoder_hidden=64,
            head_hidden=8,
        )
    )
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    noise = torch.Generator().manual_seed(0)
    props = torch.full((8, 3), float("nan"))  # no targets: the heads' loss must ignore NaN
    stats: dict[str, float] = {}
    for step in range(300):
        net.train()
        loss, stats = vae_loss(net(x, noise), x, props, beta=0.0, free_bits=0.0, prop_weight=1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= 100 and step % 25 == 0 and stats["mol_acc"] == 1.0:
            break
    assert stats["token_acc"] >= 0.99
    assert stats["mol_acc"] == 1.0
    net.eval()
    with torch.no_grad():
        mu, _ = net.encode(x)
    decoded = [vocab.decode_ids(row) for row in net.generate(mu)]
    assert decoded == selfies


def test_generate_matches_teacher_forced_greedy_decoding(model: VAE) -> None:
    """The unrolled, batch-shrinking decoder agrees with ``nn.GRU`` run over its own output."""
    with torch.no_grad():
        model.to_logits.bias[EOS_ID] += 0.5  # molecules of varied lengths
    z = torch.randn(16, Z, generator=torch.Generator().manual_seed(0))
    out = model.generate(z)
    lengths = (out != PAD_ID).sum(1)
    assert len(set(lengths.tolist())) >= 3  # some leave the batch early, some run to the end
    with torch.no_grad():
        logits = model.decode_logits(z, out)
    for row, row_logits in zip(out, logits, strict=True):
        length = int((row != PAD_ID).sum())
        expected = row_logits[:length].clone()
        expected[:, [PAD_ID, BOS_ID]] = float("-inf")
        expected[0, EOS_ID] = float("-inf")  # the first token is never the end
        if length < model.cfg.max_len:
            assert torch.equal(expected.argmax(-1)[: length], row[:length])

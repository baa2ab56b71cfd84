"""molvae.prior: the fitted sampling distribution and the domain score read off it."""

from __future__ import annotations

import torch

from molvae.prior import (
    DOMAIN_LEVELS,
    domain_quantiles,
    domain_score,
    fit_mixture,
    gaussian_domain_quantiles,
    posterior_mixture,
    spread_components,
)


def _two_clusters(n: int = 2000, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 3, generator=g) * 0.3
    z[: n // 4] += 5.0  # a quarter of the mass far away
    return z


def test_mixture_finds_the_clusters_and_their_weights() -> None:
    mix = fit_mixture(_two_clusters(), 2, seed=0)
    order = torch.argsort(mix.means[:, 0])
    assert torch.allclose(mix.means[order, 0], torch.tensor([0.0, 5.0]), atol=0.1)
    assert torch.allclose(mix.weights[order], torch.tensor([0.75, 0.25]), atol=0.02)
    assert torch.allclose(mix.stds, torch.full_like(mix.stds, 0.3), atol=0.05)


def test_samples_follow_the_mixture_not_the_gap_between_clusters() -> None:
    mix = fit_mixture(_two_clusters(), 2, seed=0)
    s = mix.sample(4000, torch.Generator().manual_seed(1))
    between = ((s[:, 0] > 1.5) & (s[:, 0] < 3.5)).float().mean()
    assert between < 0.01  # one Gaussian fitted to the same data puts ~20% there
    assert abs(float((s[:, 0] > 2.5).float().mean()) - 0.25) < 0.03


def test_seeded_fit_and_sampling_are_reproducible() -> None:
    a, b = fit_mixture(_two_clusters(), 3, seed=4), fit_mixture(_two_clusters(), 3, seed=4)
    assert torch.equal(a.means, b.means) and torch.equal(a.weights, b.weights)
    assert torch.equal(a.sample(5, torch.Generator().manual_seed(0)),
                       b.sample(5, torch.Generator().manual_seed(0)))


def test_domain_score_ranks_among_the_reference() -> None:
    z = _two_clusters()
    mix = fit_mixture(z, 2, seed=0)
    q = domain_quantiles(mix.log_density(z))
    scores = domain_score(mix.log_density(z), q)
    assert abs(float((scores < 0.01).float().mean()) - 0.01) < 0.005  # calibrated by design
    far = domain_score(mix.log_density(torch.tensor([[2.5, 0.0, 0.0], [0.0, 0.0, 0.0]])), q)
    assert far[0] == 0.0 and far[1] > 0.5


def test_gaussian_calibration_matches_the_gaussians_own_samples() -> None:
    std = torch.tensor([0.5, 1.0, 2.0, 1.5])
    g = torch.Generator().manual_seed(0)
    z = torch.randn(20000, 4, generator=g) * std
    mix = fit_mixture(z, 1, seed=0)
    q = gaussian_domain_quantiles(std)
    assert len(q) == len(DOMAIN_LEVELS)
    scores = domain_score(mix.log_density(z), q)
    for level in (0.01, 0.1, 0.5):
        assert abs(float((scores < level).float().mean()) - level) < 0.01 + 0.05 * level


def test_a_posterior_mixture_samples_around_the_molecules_it_holds() -> None:
    """Each sample lies near one of the held posteriors, spread as wide as it was widened; the
    density (by matrix products) matches the direct sum over components."""
    g = torch.Generator().manual_seed(0)
    mu, std = torch.randn(50, 4, generator=g) * 3, torch.full((50, 4), 0.1)
    mix = posterior_mixture(mu, std, 2.0)
    s = mix.sample(2000, torch.Generator().manual_seed(1))
    nearest = torch.cdist(s, mu).min(1).values
    assert float(nearest.median()) < 0.6 and float(nearest.max()) < 2.0  # 0.2 x sqrt(4) ~ 0.4
    z = torch.randn(7, 4, generator=g)
    direct = torch.logsumexp(torch.stack([
        torch.distributions.Normal(mu[k].double(), (0.2 * torch.ones(4)).double())
        .log_prob(z.double()).sum(1) for k in range(50)], 1) - torch.log(torch.tensor(50.0)), 1)
    assert torch.allclose(mix.log_density(z), direct, atol=1e-6)
    assert torch.allclose(mix.log_density(z, batch_size=2), direct, atol=1e-6)


def test_a_posterior_mixture_needs_a_positive_width() -> None:
    import pytest

    with pytest.raises(ValueError, match="width"):
        posterior_mixture(torch.zeros(2, 2), torch.ones(2, 2), 0.0)


def test_components_are_spread_as_evenly_as_the_weights_allow() -> None:
    """Each component is drawn floor(n w) or ceil(n w) times; with equal weights and no more
    draws than components, none twice (independent draws of 1,000 from 1,000 repeat ~370)."""
    g = torch.Generator().manual_seed(0)
    w = torch.tensor([0.5, 0.3, 0.15, 0.05])
    for n in (1, 7, 100, 1001):
        counts = torch.bincount(spread_components(w, n, g), minlength=4).double()
        assert int(counts.sum()) == n
        assert bool(((counts - n * w.double()).abs() < 1).all()), (n, counts)
    assert len(set(spread_components(torch.ones(1000), 1000, g).tolist())) == 1000
    assert len(set(spread_components(torch.ones(1000), 600, g).tolist())) == 600


def test_spread_draws_keep_each_draws_law() -> None:
    """Over many seeded calls of 3 draws from weights that do not divide evenly, each position
    of the call draws each component as often as its weight says, and the order is shuffled."""
    w = torch.tensor([0.6, 0.25, 0.1, 0.05])
    g = torch.Generator().manual_seed(1)
    draws = torch.stack([spread_components(w, 3, g) for _ in range(6000)])
    for position in range(3):
        freq = torch.bincount(draws[:, position], minlength=4).double() / len(draws)
        assert torch.allclose(freq, w.double(), atol=0.02), (position, freq)


def test_a_stream_of_batches_spreads_components_across_batches() -> None:
    """``VAE.iter_latents``: a stream from K equal posteriors uses each component once in its
    first K latents and once in the next K, for any batch of up to K (batches drawn one by one,
    or chunks rounded up to whole batches, would repeat some components and miss others), and a
    seeded stream is reproducible."""
    from molvae.model import VAE, VAEConfig

    net = VAE(VAEConfig(vocab_size=8, max_len=6))
    centres = torch.arange(100, dtype=torch.float32)[:, None] * torch.ones(1, net.cfg.latent_dim)
    net.set_prior(posterior_mixture(centres, torch.full_like(centres, 1e-6), 1.0))

    def first(seed: int, batches: int, size: int = 32) -> list[torch.Tensor]:
        stream = net.iter_latents(size, torch.Generator().manual_seed(seed))
        return [next(stream) for _ in range(batches)]

    for size in (32, 7, 100):
        got = torch.cat(first(0, -(-200 // size), size))[:200, 0].round().long()
        for part in (got[:100], got[100:]):
            assert torch.equal(part.sort()[0], torch.arange(100)), size
    assert all(torch.equal(a, b) for a, b in zip(first(3, 5), first(3, 5), strict=True))


def test_draw_samples_the_components_asked_for() -> None:
    """``draw`` (a sample drawn again from the posterior it came from) keeps the component:
    with tiny spreads each latent sits on its component's mean."""
    from molvae.prior import GaussianMixture

    means = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    mix = GaussianMixture(torch.full((4,), 0.25), means, torch.full((4, 3), 1e-6))
    z, comp = mix.sample_with_components(8, torch.Generator().manual_seed(0))
    assert torch.allclose(z, means[comp], atol=1e-4)
    again = mix.draw(torch.tensor([3, 0, 3]), torch.Generator().manual_seed(1))
    assert torch.allclose(again, means[[3, 0, 3]], atol=1e-4)
    plain = mix.sample(8, torch.Generator().manual_seed(0))
    assert torch.equal(plain, z)  # the same stream as before components were returned

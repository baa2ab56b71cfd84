"""molvae.latent: whitened coordinates, and the model's own whiten/unwhiten."""

from __future__ import annotations

import numpy as np

from molvae.latent import unwhiten, whiten


def test_round_trip_and_dtypes() -> None:
    rng = np.random.default_rng(0)
    mean = rng.normal(size=6).astype(np.float32)
    std = rng.uniform(0.5, 2.0, size=6).astype(np.float32)
    z = rng.normal(size=(10, 6)).astype(np.float32)
    w = whiten(z, mean, std)
    assert w.dtype == np.float32  # float32 in, float32 out: bit-for-bit the hand-written form
    np.testing.assert_array_equal(w, (z - mean) / std)
    back = unwhiten(w, mean, std)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, z, rtol=1e-6, atol=1e-6)
    w64 = whiten(z, mean.astype(np.float64), std.astype(np.float64))
    assert w64.dtype == np.float64


def test_a_dimension_that_never_varies_is_left_unscaled() -> None:
    w = whiten(np.array([[3.0, 3.0]]), np.array([1.0, 1.0]), np.array([2.0, 0.0]))
    assert w.tolist() == [[1.0, 2.0]]
    assert unwhiten(w, np.array([1.0, 1.0]), np.array([2.0, 0.0])).tolist() == [[3.0, 3.0]]


def test_model_whitens_with_its_sampling_distribution(tiny_model) -> None:
    mean, std = tiny_model.latent_stats()
    z = tiny_model.sample_latents(50, seed=0)
    w = tiny_model.whiten(z)
    np.testing.assert_array_equal(w, (z - mean) / std)
    np.testing.assert_allclose(tiny_model.unwhiten(w), z, rtol=1e-5, atol=1e-5)

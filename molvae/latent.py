"""Whitened latent coordinates: ``w = (z - mean) / std`` per dimension, with the mean and standard
deviation of the model's sampling distribution (``VAE.latent_mean`` / ``latent_std``, fitted on
the training set's latents after training).

In whitened coordinates every dimension has the same scale, so a radius, a step or a search box
means the same in each of them: explore's walks and the optimizer's search space both work there.

>>> import numpy as np
>>> mean, std = np.array([1.0, -2.0]), np.array([2.0, 0.5])
>>> w = whiten(np.array([[3.0, -2.0]]), mean, std)
>>> w.tolist(), unwhiten(w, mean, std).tolist()
([[1.0, 0.0]], [[3.0, -2.0]])
"""

from __future__ import annotations

import numpy as np


def _scale(std: np.ndarray) -> np.ndarray:
    """``std`` with a non-positive entry (a dimension that never varies) read as 1: unscaled."""
    std = np.asarray(std)
    return np.where(std > 0, std, np.ones((), dtype=std.dtype))


def whiten(z: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Whitened coordinates ``(z - mean) / std`` of latents (N, Z) or (Z,).

    The dtype follows numpy's promotion of the inputs (float32 latents with float32 statistics stay
    float32), so results are bit-for-bit those of the same expression written by hand.

    Args:
        z: latents.
        mean: (Z,) per-dimension mean.
        std: (Z,) per-dimension standard deviation; entries <= 0 count as 1.
    """
    return (np.asarray(z) - np.asarray(mean)) / _scale(std)


def unwhiten(w: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Latents ``w * std + mean`` (float32, as the network takes them) of whitened points.

    Args:
        w: whitened points (N, Z) or (Z,).
        mean: (Z,) per-dimension mean.
        std: (Z,) per-dimension standard deviation; entries <= 0 count as 1.
    """
    return (np.asarray(w) * _scale(std) + np.asarray(mean)).astype(np.float32)


__all__ = ["unwhiten", "whiten"]

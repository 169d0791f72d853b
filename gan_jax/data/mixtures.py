"""2D Gaussian mixtures of the PacGAN / VEEGAN mode-collapse benchmarks.

ring: 8 modes (cos 2pi k/8, sin 2pi k/8), std 0.01. grid: 25 modes at {-4,-2,0,2,4}^2, std 0.05.
A fixed training set of `num_points` (100k in PacGAN) is drawn from `seed` and lives on device.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from gan_jax.data.spec import Dataset, sample_by_index


def ring_modes(n: int = 8, radius: float = 1.0) -> np.ndarray:
    angles = 2 * np.pi * np.arange(n) / n
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_modes(values=(-4.0, -2.0, 0.0, 2.0, 4.0)) -> np.ndarray:
    xs, ys = np.meshgrid(values, values, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


MIXTURES = {"ring": (ring_modes, 0.01), "grid": (grid_modes, 0.05)}


def build(name: str, num_points: int = 100_000, seed: int = 0) -> Dataset:
    make_modes, std = MIXTURES[name]
    modes = make_modes().astype(np.float32)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(modes), num_points)
    points = modes[labels] + std * rng.standard_normal((num_points, 2)).astype(np.float32)
    arrays = {"x": jnp.asarray(points, jnp.float32), "y": jnp.asarray(labels, jnp.int32)}

    def sample(arrays, key, n):
        return sample_by_index(arrays, key, n, lambda x: x)

    return Dataset(name=name, arrays=arrays, sample=sample, shape=(2,), value_range=None,
                   modes=modes, mode_std=std)

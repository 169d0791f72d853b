"""Stacked Fashion-MNIST: three product images in the three channels, 1000 category triples.

The mode-collapse benchmark of VEEGAN / PacGAN (stacked MNIST) on product images. A fixed set of
`num_points` (128k in the papers) index triples into one Fashion-MNIST split is drawn once from
`seed`; only the indices and the 28x28 grey images live on the device, and the stacked images are
assembled inside the jitted step. The label of an example is its mode, 100*c0 + 10*c1 + c2.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data import fashion_mnist
from gan_jax.data.spec import Dataset

CHANNELS = 3
NUM_MODES = len(fashion_mnist.CLASS_NAMES) ** CHANNELS


def stack(images: jnp.ndarray, labels: jnp.ndarray, triples: jnp.ndarray):
    """(x uint8 [n, 28, 28, 3], mode int32 [n]) for index triples [n, 3] into grey images."""
    x = jnp.concatenate([images[triples[:, c]] for c in range(CHANNELS)], axis=-1)
    c = labels[triples]
    return x, (c[:, 0] * 10 + c[:, 1]) * 10 + c[:, 2]


def build(split: str = "train", root: str | None = None, download: bool = False,
          num_points: int = 128_000, seed: int = 0) -> Dataset:
    images, labels = fashion_mnist.load_numpy(split, root, download)
    triples = np.random.default_rng(seed).integers(0, len(images), (num_points, CHANNELS))
    arrays = {"images": jnp.asarray(images), "labels": jnp.asarray(labels),
              "x": jnp.asarray(triples, jnp.int32)}  # one row per example: its index triple

    def sample(arrays, key, n):
        idx = jax.random.randint(key, (n,), 0, arrays["x"].shape[0])
        x, mode = stack(arrays["images"], arrays["labels"], arrays["x"][idx])
        return fashion_mnist.to_unit_float(x), mode

    return Dataset(name="stacked_fashion_mnist", arrays=arrays, sample=sample,
                   shape=(28, 28, CHANNELS), value_range=(0.0, 1.0))

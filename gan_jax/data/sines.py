"""TimeGAN's sine sequences (Yoon, Jarrett & van der Schaar 2019), generated from a seed.

Each sequence has `seq_len` steps and `features` features; feature k is sin(f_k t + p_k) for
t = 0..seq_len-1, with f_k and p_k drawn uniformly from [0, 0.1] for every sequence and feature,
mapped to [0, 1] by (x + 1) / 2, as in the authors' `sine_data_generation`. TimeGAN then
min-max scales every feature over the whole training set (its `MinMaxScaler`) and maps its
samples back: the arrays the step samples from are the scaled training sequences, and `Series`
holds the scale and both splits on the host, in the data's own units. The held-out sequences are
drawn after the training ones from the same generator, so the training set is the authors'
(10,000 sequences) whatever the held-out size.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from gan_jax.data.spec import Dataset, sample_by_index

EPS = 1e-7  # the authors' MinMaxScaler divides by (max - min + 1e-7)


@dataclasses.dataclass(frozen=True)
class Series:
    """Sequences on the host, in the data's units: training [n, T, F], held-out [m, T, F], and
    the per-feature minimum and range the model's [0, 1] values are scaled by."""

    train: np.ndarray
    heldout: np.ndarray
    low: np.ndarray    # [F]
    span: np.ndarray   # [F]: max - min + EPS

    def scale(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.low) / self.span).astype(np.float32)

    def unscale(self, x: np.ndarray) -> np.ndarray:
        """Model outputs ([0, 1]) in the data's units."""
        return (np.asarray(x) * self.span + self.low).astype(np.float32)

    def heldout_windows(self, n: int) -> np.ndarray:
        """The first n held-out sequences in the model's units (cycled when n exceeds them): the
        windows whose prefixes a prefix-conditioned generator continues when it is sampled and
        evaluated, so that it is judged on prefixes it never trained on."""
        return self.scale(np.resize(self.heldout, (n, *self.heldout.shape[1:])))


def sine_sequences(n: int, seq_len: int, features: int, rng: np.random.Generator) -> np.ndarray:
    """[n, seq_len, features] of (sin(f t + p) + 1) / 2, f and p ~ U[0, 0.1] per sequence and
    feature."""
    freq = rng.uniform(0.0, 0.1, (n, 1, features))
    phase = rng.uniform(0.0, 0.1, (n, 1, features))
    t = np.arange(seq_len, dtype=np.float64)[None, :, None]
    return ((np.sin(freq * t + phase) + 1) / 2).astype(np.float32)


def build(num_sequences: int = 10_000, seq_len: int = 24, features: int = 5,
          heldout: int = 2_000, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    train = sine_sequences(num_sequences, seq_len, features, rng)
    test = sine_sequences(heldout, seq_len, features, rng)
    low = train.min(axis=(0, 1))
    series = Series(train, test, low, train.max(axis=(0, 1)) - low + EPS)
    arrays = {"x": jnp.asarray(series.scale(train)), "y": jnp.zeros((num_sequences,), jnp.int32)}

    def sample(arrays, key, n):
        return sample_by_index(arrays, key, n, lambda x: x)

    return Dataset(name="sines", arrays=arrays, sample=sample, shape=(seq_len, features),
                   value_range=(0.0, 1.0), series=series)

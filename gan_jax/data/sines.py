"""TimeGAN's sine sequences (Yoon, Jarrett & van der Schaar 2019), generated from a seed.

Each sequence has `seq_len` steps and `features` features; feature k is sin(f_k t + p_k) for
t = 0..seq_len-1, with f_k and p_k drawn uniformly from [0, 0.1] for every sequence and feature,
mapped to [0, 1] by (x + 1) / 2, as in the authors' `sine_data_generation`, then min-max
scaled per feature over the training set as TimeGAN does (`gan_jax.data.series.Series`). The
held-out sequences are drawn after the training ones from the same generator, so the training
set is the authors' (10,000 sequences) whatever the held-out size.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from gan_jax.data.series import Series
from gan_jax.data.spec import Dataset, sample_by_index


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
    series = Series.fit(train, test)
    arrays = {"x": jnp.asarray(series.scale(train)), "y": jnp.zeros((num_sequences,), jnp.int32)}

    def sample(arrays, key, n):
        return sample_by_index(arrays, key, n, lambda x: x)

    return Dataset(name="sines", arrays=arrays, sample=sample, shape=(seq_len, features),
                   value_range=(0.0, 1.0), series=series)

"""A Frechet distance of sequence features: FD (`metrics.frechet`) between Gaussians fitted to
the features of real and synthetic sequences, in the space of an encoder trained on the data.

Images have one packaged feature network (`feature_net`); sequences differ per data set, so the
encoder is trained here, on the real training sequences, deterministically from a seed: a one-
layer GRU (`hidden` units) reads a sequence standardised per feature with the training mean and
s.d., and a dense layer predicts the next step from each state (self-supervised, mean squared
error, Adam as `metrics.series`). A sequence's features are the GRU's last state: what the
encoder keeps of the sequence to predict what comes next. The FD of real held-out sequences
against the synthetic ones is then comparable between runs that share the data, seed and
encoder settings (as the image FD is within one feature network), not across data sets.
"""

from __future__ import annotations

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.metrics import frechet, series


class NextStep(nn.Module):
    """[n, T, F] -> (next-step predictions [n, T, F], last GRU state [n, hidden])."""

    hidden: int

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        last, states = nn.RNN(nn.GRUCell(self.hidden), return_carry=True)(x)
        return nn.Dense(x.shape[-1])(states), last


@functools.partial(jax.jit, static_argnames=("hidden", "iterations", "batch_size"))
def _train(key, x: jax.Array, hidden: int, iterations: int, batch_size: int):
    model = NextStep(hidden)
    k_init, k_fit = jax.random.split(key)

    def loss(params, key):
        b = series.batch(key, x, batch_size)
        predicted, _ = model.apply(params, b[:, :-1])
        return jnp.mean(jnp.square(predicted - b[:, 1:]))

    return series.fit(loss, model.init(k_init, x[:1]), k_fit, iterations)


@functools.partial(jax.jit, static_argnames="hidden")
def _features(params, x: jax.Array, hidden: int) -> jax.Array:
    return NextStep(hidden).apply(params, x)[1]


@dataclasses.dataclass(frozen=True)
class Encoder:
    """A trained encoder: `features(x)` maps sequences [n, T, F] in the data's units to [n, hidden]."""

    params: dict
    mean: np.ndarray  # [F], of the training sequences
    std: np.ndarray   # [F]; 1 for a constant feature
    hidden: int

    def features(self, x) -> np.ndarray:
        z = (np.asarray(x, np.float32) - self.mean) / self.std
        return np.asarray(_features(self.params, jnp.asarray(z), self.hidden))

    def distance(self, real_stats: tuple[np.ndarray, np.ndarray], synthetic) -> float:
        """FD between N(real_stats) (from `stats`) and the synthetic sequences' feature Gaussian."""
        return frechet.frechet_distance(*self.stats(synthetic), *real_stats)

    def stats(self, x) -> tuple[np.ndarray, np.ndarray]:
        return frechet.gaussian_stats(self.features(x))


def train_encoder(train, seed: int = 0, hidden: int = 32, iterations: int = 2000,
                  batch_size: int = 128) -> Encoder:
    """The encoder trained on real training sequences [n, T >= 2, F] (data's units) from `seed`."""
    train = np.asarray(train, np.float32)
    mean, std = train.mean(axis=(0, 1)), train.std(axis=(0, 1))
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    z = jnp.asarray((train - mean) / std)
    params = _train(jax.random.PRNGKey(seed), z, hidden, iterations, batch_size)
    return Encoder(params, mean, std, hidden)


def frechet_distance(encoder: Encoder, real, synthetic) -> float:
    """FD of the encoder's features of real [n, T, F] and synthetic [m, T, F] (n, m >= 2)."""
    return encoder.distance(encoder.stats(real), synthetic)

"""TimeGAN (Yoon, Jarrett & van der Schaar, NeurIPS 2019): five recurrent networks and their losses.

embedder   x [n, T, F] -> h [n, T, H]      (recurrent stack, then Dense + sigmoid)
recovery   h -> x~ [n, T, F]                (recurrent stack, then Dense + sigmoid)
generator  z [n, T, Z] -> e^ [n, T, H]      (recurrent stack, then Dense + sigmoid)
supervisor h -> h' [n, T, H]                (one layer fewer, then Dense + sigmoid)
critic     h -> logits [n, T]               (recurrent stack, then Dense: one logit per step)

As in the authors' `timegan.py`. The first four are one module, `TimeGAN`, whose call is the
sampling path x^ = recovery(supervisor(generator(z))) (so `generate` and `gan_jax.sample` draw
sequences as from any generator) and whose methods are the other paths; its parameters are
{embedder, recovery, generator, supervisor}. The recurrences run inside the modules (`nn.RNN`,
a `lax.scan`). The losses below are the authors', as pure functions.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

CELLS = {"gru": nn.GRUCell, "lstm": nn.OptimizedLSTMCell}
AUTOENCODER = ("embedder", "recovery")  # the parameter groups each optimizer updates
GENERATOR = ("generator", "supervisor")


class Recurrent(nn.Module):
    """`layers` recurrent layers of `hidden` units, then a Dense of `out` units per step."""

    cell: str
    hidden: int
    layers: int
    out: int
    sigmoid: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for _ in range(self.layers):
            x = nn.RNN(CELLS[self.cell](features=self.hidden))(x)
        x = nn.Dense(self.out)(x)
        return nn.sigmoid(x) if self.sigmoid else x


class TimeGAN(nn.Module):
    """Embedder, recovery, generator and supervisor; `__call__(z, y, train)` samples sequences.

    z: [n, seq_len * z_dim] latents in [-1, 1] (the GAN's uniform latents), read as the authors'
    per-step noise in [0, 1]: (z + 1) / 2 reshaped to [n, seq_len, z_dim].
    """

    seq_len: int
    features: int
    z_dim: int
    hidden: int = 24
    layers: int = 3
    cell: str = "gru"

    def setup(self):
        self.embedder = Recurrent(self.cell, self.hidden, self.layers, self.hidden)
        self.recovery = Recurrent(self.cell, self.hidden, self.layers, self.features)
        self.generator = Recurrent(self.cell, self.hidden, self.layers, self.hidden)
        self.supervisor = Recurrent(self.cell, self.hidden, self.layers - 1, self.hidden)

    def noise(self, z: jax.Array) -> jax.Array:
        return (z.reshape(z.shape[0], self.seq_len, self.z_dim) + 1) / 2

    def __call__(self, z: jax.Array, y=None, train: bool = True) -> jax.Array:
        if self.is_initializing():  # create every network's parameters, not only the sampler's
            self.recovery(self.embedder(jnp.zeros((z.shape[0], self.seq_len, self.features))))
        return self.recovery(self.supervisor(self.generator(self.noise(z))))

    def embed(self, x: jax.Array) -> jax.Array:
        return self.embedder(x)

    def recover(self, h: jax.Array) -> jax.Array:
        return self.recovery(h)

    def supervise(self, h: jax.Array) -> jax.Array:
        return self.supervisor(h)

    def latent(self, z: jax.Array) -> jax.Array:
        """e^ = generator(z): G's sequence in the embedding space, before the supervisor."""
        return self.generator(self.noise(z))


class Critic(nn.Module):
    """TimeGAN's discriminator: embeddings [n, T, H] -> one logit per step [n, T]."""

    hidden: int = 24
    layers: int = 3
    cell: str = "gru"

    @nn.compact
    def __call__(self, h: jax.Array, y=None, train: bool = True) -> jax.Array:
        return Recurrent(self.cell, self.hidden, self.layers, 1, sigmoid=False)(h)[..., 0]


def reconstruction(x: jax.Array, x_tilde: jax.Array) -> jax.Array:
    """Mean squared error of the autoencoder (the authors' E_loss_T0)."""
    return jnp.mean(jnp.square(x - x_tilde))


def supervised(h: jax.Array, h_next: jax.Array) -> jax.Array:
    """Mean squared error of the supervisor's next-step prediction (G_loss_S): h_next[:, t]
    predicts h[:, t + 1]."""
    return jnp.mean(jnp.square(h[:, 1:] - h_next[:, :-1]))


def moments(x: jax.Array, x_hat: jax.Array) -> jax.Array:
    """G_loss_V: mean |std difference| + mean |mean difference| over the batch, per step and
    feature (std as sqrt(variance + 1e-6), as the authors compute it)."""
    std = lambda a: jnp.sqrt(jnp.var(a, axis=0) + 1e-6)  # noqa: E731
    return (jnp.mean(jnp.abs(std(x_hat) - std(x)))
            + jnp.mean(jnp.abs(jnp.mean(x_hat, axis=0) - jnp.mean(x, axis=0))))


def root(x: jax.Array) -> jax.Array:
    """sqrt(x) for the losses' square roots of mean squared errors, with gradient 0 at x = 0
    instead of NaN (0 * inf): a perfect reconstruction leaves the weights as they are. Equal to
    jnp.sqrt in value everywhere and in gradient wherever x > 0."""
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)


def group(params: dict, names: Sequence[str]) -> dict:
    """The sub-dict of TimeGAN's parameters one optimizer updates."""
    return {k: params[k] for k in names}

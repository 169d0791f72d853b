"""Fully connected generator and discriminator (the classic GAN; 2D mixtures; flat images)."""

from __future__ import annotations

from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.models.layers import activation, batch_norm


class Generator(nn.Module):
    out_shape: tuple[int, ...]
    out_act: Callable[[jax.Array], jax.Array]
    hidden: Sequence[int] = (128, 128)
    act: str = "leaky_relu"
    batch_norm: bool = False
    num_classes: int = 0  # > 0: the one-hot label is appended to z (Mirza & Osindero 2014)

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        x = z
        if self.num_classes:
            x = jnp.concatenate([z, jax.nn.one_hot(y, self.num_classes, dtype=z.dtype)], axis=-1)
        for width in self.hidden:
            x = nn.Dense(width)(x)
            if self.batch_norm:
                x = batch_norm(train)(x)
            x = activation(self.act)(x)
        x = nn.Dense(int(np.prod(self.out_shape)))(x)
        return self.out_act(x).reshape(z.shape[0], *self.out_shape)


class Discriminator(nn.Module):
    """The trunk: x -> last hidden layer's features."""

    hidden: Sequence[int] = (128, 128)
    act: str = "leaky_relu"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        for width in self.hidden:
            x = activation(self.act)(nn.Dense(width)(x))
        return x

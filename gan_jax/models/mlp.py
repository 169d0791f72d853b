"""Fully connected generator and discriminator (the classic GAN; 2D mixtures; flat images)."""

from __future__ import annotations

from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.models.layers import Maxout, activation, batch_norm


def kernel_init(init_std: float | None) -> nn.initializers.Initializer:
    """N(0, init_std) weights, or flax's default (LeCun normal) for None."""
    return nn.initializers.lecun_normal() if init_std is None else nn.initializers.normal(init_std)


class Generator(nn.Module):
    out_shape: tuple[int, ...]
    out_act: Callable[[jax.Array], jax.Array]
    hidden: Sequence[int] = (128, 128)
    act: str = "leaky_relu"
    batch_norm: bool = False
    num_classes: int = 0  # > 0: the one-hot label is appended to z (Mirza & Osindero 2014)
    init_std: float | None = None
    batch_stats_axis: str | None = None  # synchronised batch norm (layers.batch_norm)

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True) -> jax.Array:
        init = kernel_init(self.init_std)
        x = z
        if self.num_classes:
            x = jnp.concatenate([z, jax.nn.one_hot(y, self.num_classes, dtype=z.dtype)], axis=-1)
        for width in self.hidden:
            x = nn.Dense(width, kernel_init=init)(x)
            if self.batch_norm:
                x = batch_norm(train, self.batch_stats_axis)(x)
            x = activation(self.act)(x)
        x = nn.Dense(int(np.prod(self.out_shape)), kernel_init=init)(x)
        return self.out_act(x).reshape(z.shape[0], *self.out_shape)


class Discriminator(nn.Module):
    """The trunk: x -> last hidden layer's features.

    maxout_pieces = 1: each hidden layer is Dense + act; k > 1: a maxout layer of k pieces
    (PacGAN's 2D discriminator), where `act` is unused.
    """

    hidden: Sequence[int] = (128, 128)
    act: str = "leaky_relu"
    maxout_pieces: int = 1
    init_std: float | None = None

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        init = kernel_init(self.init_std)
        x = x.reshape(x.shape[0], -1)
        for width in self.hidden:
            if self.maxout_pieces > 1:
                x = Maxout(width, self.maxout_pieces, kernel_init=init)(x)
            else:
                x = activation(self.act)(nn.Dense(width, kernel_init=init)(x))
        return x

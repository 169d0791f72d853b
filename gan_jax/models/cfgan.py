"""CFGAN (Chae et al., CIKM 2018): vector-wise collaborative filtering with a GAN.

G reads a training example's interaction vector c (a user's over items, or, item-based, an
item's over users) and outputs a real-valued vector r of the same length: its scores. D judges
the pair (c, x): x = c for a real pair, x = r * (c + k) for a fake one, where k marks the
negatives of partial masking (PM): unobserved entries D also sees, so G cannot score every entry
high. Zero reconstruction (ZR) adds zr_weight * mean_u sum_j n_j r_j^2 to G's loss over another
random set n of unobserved entries, pulling their scores to 0.

Both players see the same condition y [n, 3, length] = (c, k, n), made from the real batch at
every step (`pairing`). Masking the real vector is the identity (c * (c + k) = c), so D masks
every input alike. Negatives are Bernoulli(ratio) per unobserved entry; the original code draws
exactly floor(ratio * #unobserved) once per epoch, the same in expectation.

Sizes follow the original code (1 hidden layer each, sigmoid hidden units, linear outputs,
Glorot-uniform kernels, U(-0.01, 0.01) biases). `latent_dim` > 0 appends noise to G's input
(the variant of Perez Maurera et al. 2022); 0 is the paper's noise-free G.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

SCHEMES = ("zr", "pm", "zp")  # zero reconstruction, partial masking, both


def bias_init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -0.01, 0.01)


def dense(width: int) -> nn.Dense:
    return nn.Dense(width, kernel_init=nn.initializers.glorot_uniform(), bias_init=bias_init)


class Generator(nn.Module):
    length: int
    hidden: Sequence[int] = (400,)

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array, train: bool = True) -> jax.Array:
        h = jnp.concatenate([y[:, 0], z], axis=-1) if z.shape[-1] else y[:, 0]
        for width in self.hidden:
            h = nn.sigmoid(dense(width)(h))
        return dense(self.length)(h)


class Discriminator(nn.Module):
    """The trunk: (x, y) -> features of [c, x * (c + k)]; the shared Critic adds the logit."""

    hidden: Sequence[int] = (125,)

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array, train: bool = True) -> jax.Array:
        c, negatives = y[:, 0], y[:, 1]
        h = jnp.concatenate([c, x * (c + negatives)], axis=-1)
        for width in self.hidden:
            h = nn.sigmoid(dense(width)(h))
        return h


def negatives(key: jax.Array, c: jax.Array, ratio) -> jax.Array:
    """1.0 at a random `ratio` of the unobserved (0) entries of c, else 0.0."""
    return ((c == 0) & (jax.random.uniform(key, c.shape) < ratio)).astype(c.dtype)


def training_condition(scheme: str, pm_ratio, zr_ratio):
    """(key, real, real_y) -> y = (c, PM negatives, ZR negatives) for one batch."""
    def condition(key, real, real_y):
        kp, kz = jax.random.split(key)
        zero = jnp.zeros_like(real_y)
        pm = negatives(kp, real_y, pm_ratio) if scheme in ("pm", "zp") else zero
        zr = negatives(kz, real_y, zr_ratio) if scheme in ("zr", "zp") else zero
        return jnp.stack([real_y, pm, zr], axis=1)
    return condition


def inference_condition(c: jax.Array) -> jax.Array:
    """The condition at evaluation: the vector alone, no negatives."""
    zero = jnp.zeros_like(c)
    return jnp.stack([c, zero, zero], axis=1)


def zero_reconstruction(fake: jax.Array, y: jax.Array) -> jax.Array:
    """mean over the batch of sum_j n_j r_j^2: G's scores at the ZR negatives n, pulled to 0."""
    return jnp.mean(jnp.sum(jnp.square(fake) * y[:, 2], axis=-1))

"""Differentiable augmentations (DiffAugment, Zhao et al. 2020) as pure, jit-able functions.

Every augmentation is `f(key, x) -> x` on an NHWC float batch, with random parameters drawn
independently per example from `key`. They are built only from arithmetic, masks and exact
integer slicing, so gradients flow to `x`: the same augmentation is applied to real and
generated images before the discriminator sees them. Output dtype and shape equal the input's.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from gan_jax.errors import ConfigError

Augment = Callable[[jax.Array, jax.Array], jax.Array]


def _per_example(key: jax.Array, x: jax.Array, low: float, high: float) -> jax.Array:
    """One uniform draw in [low, high) per example, shaped to broadcast against NHWC."""
    return jax.random.uniform(key, (x.shape[0], 1, 1, 1), x.dtype, low, high)


def color(key: jax.Array, x: jax.Array) -> jax.Array:
    """Brightness, saturation and contrast, in that order, each with per-example strength.

    brightness: x + U(-0.5, 0.5);
    saturation: deviation from the per-pixel channel mean scaled by U(0, 2) (identity for C = 1);
    contrast:   deviation from the per-image mean scaled by U(0.5, 1.5).
    """
    k_bright, k_sat, k_con = jax.random.split(key, 3)
    x = x + _per_example(k_bright, x, -0.5, 0.5)
    if x.shape[-1] > 1:
        mean = jnp.mean(x, axis=3, keepdims=True)
        x = (x - mean) * _per_example(k_sat, x, 0.0, 2.0) + mean
    mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * _per_example(k_con, x, 0.5, 1.5) + mean


def _extent(size: int, ratio: float) -> int:
    return int(size * ratio + 0.5)


def translation(key: jax.Array, x: jax.Array, ratio: float = 0.125) -> jax.Array:
    """Shift each image by integer offsets in [-r, r] (r = int(size * ratio + 0.5) per axis).

    Pixels shifted in from outside are zero; the shift is exact (padding + slicing, no
    interpolation), so output pixels are either input pixels or zeros. A positive offset moves
    content down (rows) or right (columns): out[i, j] = x[i - dy, j - dx].
    """
    _, h, w, _ = x.shape
    rh, rw = _extent(h, ratio), _extent(w, ratio)
    k_y, k_x = jax.random.split(key)
    dy = jax.random.randint(k_y, (x.shape[0],), -rh, rh + 1)
    dx = jax.random.randint(k_x, (x.shape[0],), -rw, rw + 1)
    padded = jnp.pad(x, ((0, 0), (rh, rh), (rw, rw), (0, 0)))

    def shift(image: jax.Array, oy: jax.Array, ox: jax.Array) -> jax.Array:
        return jax.lax.dynamic_slice(image, (rh - oy, rw - ox, 0), (h, w, image.shape[-1]))

    return jax.vmap(shift)(padded, dy, dx)


def cutout(key: jax.Array, x: jax.Array, ratio: float = 0.5) -> jax.Array:
    """Zero a square of int(H*ratio+0.5) x int(W*ratio+0.5) pixels at a random centre per image.

    The square spans rows [cy - sh // 2, cy - sh // 2 + sh) (likewise columns) and is clipped at
    the border. The centre is drawn from [0, H + 1 - sh % 2), so even-sized squares can be clipped
    by the same amount on both sides. All channels are zeroed together.
    """
    b, h, w, _ = x.shape
    sh, sw = _extent(h, ratio), _extent(w, ratio)
    k_y, k_x = jax.random.split(key)
    top = jax.random.randint(k_y, (b, 1, 1, 1), 0, h + 1 - sh % 2) - sh // 2
    left = jax.random.randint(k_x, (b, 1, 1, 1), 0, w + 1 - sw % 2) - sw // 2
    rows = jnp.arange(h).reshape(1, h, 1, 1)
    cols = jnp.arange(w).reshape(1, 1, w, 1)
    inside = (rows >= top) & (rows < top + sh) & (cols >= left) & (cols < left + sw)
    return x * (~inside).astype(x.dtype)


def flip(key: jax.Array, x: jax.Array) -> jax.Array:
    """Mirror each image horizontally (along W) with probability 1/2."""
    flipped = jax.random.bernoulli(key, 0.5, (x.shape[0], 1, 1, 1))
    return jnp.where(flipped, x[:, :, ::-1, :], x)


def jitter(key: jax.Array, x: jax.Array, std: float) -> jax.Array:
    """Add N(0, std^2) noise elementwise: the augmentation for non-image data (e.g. 2-D points)."""
    return x + std * jax.random.normal(key, x.shape, x.dtype)


POLICIES: dict[str, Augment] = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(key: jax.Array, x: jax.Array, policy: tuple[str, ...]) -> jax.Array:
    """Apply the named augmentations of POLICIES in order, each with its own key.

    An empty policy is the identity. `policy` must be static under jit (it selects code).
    """
    unknown = [name for name in policy if name not in POLICIES]
    if unknown:
        raise ConfigError(f"unknown augmentation(s) {unknown}; choose from {sorted(POLICIES)}")
    if not policy:
        return x
    for name, k in zip(policy, jax.random.split(key, len(policy))):
        x = POLICIES[name](k, x)
    return x

"""Generator samples for grids and evaluation: the fixed latents of a run, drawn in chunks.

The training loop, `gan_jax.evaluate` and the experiments' plots all draw through here, so a
sample counted by a plot is the sample behind summary.json's numbers.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.models import GAN

# fold_in tags keep the fixed sample and eval latents apart from the training keys.
SAMPLE_KEY_TAG = 1
EVAL_KEY_TAG = 2
CHUNK = 1000  # samples generated per call (bounds activation memory)


def fixed_latents(gan: GAN, seed: int, tag: int, n: int) -> jax.Array:
    """The n latents a run with `seed` uses for its sample grids (SAMPLE_KEY_TAG) or evaluation
    (EVAL_KEY_TAG)."""
    return gan.sample_latent(jax.random.fold_in(jax.random.PRNGKey(int(seed)), tag), n)


def in_chunks(sample: Callable, z: jax.Array, y: jax.Array | None = None,
              chunk: int = CHUNK) -> np.ndarray:
    """`sample(z, y)` over chunks of the sample axis of z ([n, d], or [members, n, d] for a
    population), concatenated on the host; y ([n] labels or None) is chunked alike."""
    axis = z.ndim - 2
    n = z.shape[axis]
    parts = []
    for start in range(0, n, chunk):
        z_part = jax.lax.slice_in_dim(z, start, min(start + chunk, n), axis=axis)
        y_part = None if y is None else y[start:start + chunk]
        parts.append(np.asarray(sample(z_part, y_part)))
    return np.concatenate(parts, axis=axis)


def answer_inputs(gan: GAN, conditions, members: int = 1,
                  z: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
    """(z, y) that ask a paired generator (`gan.pairing`, e.g. CFGAN) for its answer to every
    example in `conditions` [n, ...]: the inference condition, and zero noise (the noise's mean)
    unless the pairing is `noisy` and latents `z` ([n, d] or [members, n, d]) are given;
    z gains a leading member axis for a population."""
    y = gan.pairing.infer(jnp.asarray(conditions))
    if z is not None and gan.pairing.noisy:
        return z, y
    z = jnp.zeros((len(y), gan.latent_dim), jnp.float32)
    return (z if members == 1 else jnp.broadcast_to(z, (members, *z.shape))), y


def fixed_reals(data, n: int):
    """n real training examples drawn with a fixed key: what a paired generator (GANomaly) is
    asked to reconstruct for sample grids and evaluation."""
    return data.sample(data.arrays, jax.random.fold_in(jax.random.PRNGKey(0), EVAL_KEY_TAG), n)[0]

"""Mode metrics for 2D Gaussian mixtures (VEEGAN / PacGAN protocol).

Each sample is assigned to its nearest mode; it is high quality when its distance to that mode
is below `threshold` standard deviations. Modes captured = modes with at least one high-quality
sample; reverse KL = KL(histogram of high-quality samples over modes || uniform).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


@jax.jit
def _assign(samples: jax.Array, modes: jax.Array) -> tuple[jax.Array, jax.Array]:
    d = jnp.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=-1)
    return jnp.argmin(d, axis=1), jnp.min(d, axis=1)


def mode_metrics(samples, modes, std: float, threshold: float = 3.0) -> dict[str, float]:
    """{'modes': captured count, 'hq': fraction high quality, 'rkl': reverse KL} of [n, 2] samples."""
    samples = jnp.asarray(samples, jnp.float32)
    modes = jnp.asarray(modes, jnp.float32)
    nearest, dist = _assign(samples, modes)
    hq = jnp.isfinite(dist) & (dist < threshold * std)
    counts = jnp.zeros(len(modes)).at[nearest].add(hq.astype(jnp.float32))
    total = counts.sum()
    p = counts / jnp.maximum(total, 1.0)
    rkl = jnp.sum(jnp.where(p > 0, p * jnp.log(p * len(modes)), 0.0))
    return {
        "modes": float(jnp.sum(counts > 0)),
        "hq": float(hq.mean()),
        "rkl": float(rkl) if total > 0 else float("inf"),
    }

"""A detector of generated product photos: a small CNN that tells real images from a generator's.

The architecture is the feature network's (`gan_jax.metrics.feature_net.FeatureNet`: 3x3
convolutions, max pools, a dense feature layer), narrower, with one logit on top: higher means
"generated". Trained with the logistic loss on balanced batches of real and generated images.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax.metrics.feature_net import FeatureNet

STAGES = ((16,), (32,), (64,))


class Detector(nn.Module):
    stages: tuple[tuple[int, ...], ...] = STAGES
    feature_dim: int = 64

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        features, _ = FeatureNet(self.stages, self.feature_dim)(x)
        return nn.Dense(1)(features)[:, 0]


def train(real: np.ndarray, fake: np.ndarray, steps: int = 500, batch_size: int = 128,
          lr: float = 1e-3, seed: int = 0):
    """Parameters of a Detector fitted on real vs fake images (float [n, 28, 28, 1] in [0, 1]);
    each step sees batch_size / 2 of each, drawn with replacement."""
    model = Detector()
    key, init_key = jax.random.split(jax.random.PRNGKey(seed))
    params = model.init(init_key, jnp.zeros((1, *real.shape[1:])))["params"]
    opt = optax.adam(lr)
    real, fake = jnp.asarray(real), jnp.asarray(fake)
    half = batch_size // 2
    labels = jnp.concatenate([jnp.zeros(half), jnp.ones(half)])

    def step(carry, key):
        params, opt_state = carry
        kr, kf = jax.random.split(key)
        x = jnp.concatenate([real[jax.random.randint(kr, (half,), 0, len(real))],
                             fake[jax.random.randint(kf, (half,), 0, len(fake))]])
        loss, grads = jax.value_and_grad(lambda p: jnp.mean(optax.sigmoid_binary_cross_entropy(
            model.apply({"params": p}, x), labels)))(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    (params, _), losses = jax.jit(lambda c, k: jax.lax.scan(step, c, k))(
        (params, opt.init(params)), jax.random.split(key, steps))
    return params, np.asarray(losses)


@jax.jit
def _logits(params, x):
    return Detector().apply({"params": params}, x)


def scores(params, images: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """Logits [n] (higher = more likely generated) of float images [n, 28, 28, 1]."""
    return np.concatenate([np.asarray(_logits(params, jnp.asarray(images[i:i + chunk])))
                           for i in range(0, len(images), chunk)])

"""Gradient penalties on critics whose input gradient is known in closed form."""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.mitigations import penalties
from gan_jax.models.critic import CriticOutput

W = jnp.array([3.0, -4.0])  # ||W|| = 5


def linear(x, y=None):  # grad = W everywhere
    return CriticOutput(x.reshape(x.shape[0], -1) @ W, x, None)


def quadratic(x, y=None):  # D(x) = ||x||^2 / 2, grad = x
    return CriticOutput(0.5 * jnp.sum(x ** 2, axis=-1), x, None)


X = jnp.array([[1.0, 2.0], [0.0, -3.0], [0.5, 0.5]])
F = jnp.array([[4.0, 0.0], [1.0, 1.0], [-2.0, 2.0]])
KEY = jax.random.PRNGKey(0)


def test_r1_and_r2_on_known_gradients():
    np.testing.assert_allclose(penalties.r1(linear, X), 0.5 * 25.0, rtol=1e-6)
    want = 0.5 * np.mean(np.sum(np.asarray(X) ** 2, axis=1))
    np.testing.assert_allclose(penalties.r1(quadratic, X), want, rtol=1e-6)
    np.testing.assert_allclose(penalties.r1(quadratic, F), 0.5 * np.mean(np.sum(np.asarray(F) ** 2, 1)),
                               rtol=1e-6)


def test_wgan_gp_on_known_gradients():
    # Linear critic: the gradient is W at every interpolate, so the penalty is (5 - 1)^2.
    np.testing.assert_allclose(penalties.wgan_gp(linear, X, F, KEY), 16.0, rtol=1e-6)
    # Quadratic critic: the gradient at x_hat is x_hat; recompute the interpolates from the key.
    eps = np.asarray(jax.random.uniform(KEY, (3, 1)))
    x_hat = eps * np.asarray(X) + (1 - eps) * np.asarray(F)
    want = np.mean((np.linalg.norm(x_hat, axis=1) - 1) ** 2)
    np.testing.assert_allclose(penalties.wgan_gp(quadratic, X, F, KEY), want, rtol=1e-5)


def test_dragan_on_known_gradients():
    np.testing.assert_allclose(penalties.dragan(linear, X, KEY), 16.0, rtol=1e-6)
    delta = 0.5 * np.std(np.asarray(X)) * np.asarray(jax.random.uniform(KEY, X.shape))
    want = np.mean((np.linalg.norm(np.asarray(X) + delta, axis=1) - 1) ** 2)
    np.testing.assert_allclose(penalties.dragan(quadratic, X, KEY), want, rtol=1e-5)


def test_gradient_penalty_is_finite_where_the_gradient_vanishes():
    zero = lambda x, y=None: CriticOutput(jnp.zeros(x.shape[0]) * jnp.sum(x), x, None)  # noqa: E731
    grad = jax.grad(lambda x: penalties.wgan_gp(quadratic, x, jnp.zeros_like(x), KEY))(jnp.zeros((3, 2)))
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(penalties.wgan_gp(zero, X, F, KEY), 1.0, rtol=1e-5)


def test_penalties_are_per_sample_under_packing():
    # A packed critic sees [B/2, 2*D]; the penalty still uses each sample's own gradient.
    def packed_linear(x, y=None):
        packed = x.reshape(x.shape[0] // 2, -1)
        return CriticOutput(packed @ jnp.concatenate([W, W]), packed, None)

    np.testing.assert_allclose(penalties.r1(packed_linear, jnp.ones((4, 2))), 12.5, rtol=1e-6)

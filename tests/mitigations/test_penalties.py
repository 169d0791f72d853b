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


WP = jnp.array([0.6, 0.0, 0.0, 0.8])  # a pack of two 2-d samples; ||WP|| = 1 exactly


def packed_linear(x, y=None):  # the critic of a pack is WP . [x_1, x_2]
    packed = x.reshape(x.shape[0] // 2, -1)
    return CriticOutput(packed @ WP, packed, None)


def test_penalties_take_one_gradient_norm_per_pack():
    # Catches: per-sample norms under PacGAN (0.6 and 0.8 here, so a positive WGAN-GP and DRAGAN
    # penalty); the papers take the norm of the whole packed input's gradient, exactly 1 here.
    x, f = jnp.ones((4, 2)), jnp.zeros((4, 2))
    np.testing.assert_allclose(penalties.wgan_gp(packed_linear, x, f, KEY, pack=2), 0.0, atol=1e-6)
    np.testing.assert_allclose(penalties.dragan(packed_linear, x, KEY, pack=2), 0.0, atol=1e-6)
    np.testing.assert_allclose(penalties.r1(packed_linear, x, pack=2), 0.5, rtol=1e-6)
    assert float(penalties.wgan_gp(packed_linear, x, f, KEY)) > 0.05  # per sample: not 0


def test_wgan_gp_draws_one_interpolation_weight_per_pack():
    # Catches: one eps per sample under packing. Both samples of every real pack are equal, and
    # so are both of every fake pack; D(pack) = ||x_1 - x_2||^2 / 2 has zero gradient wherever
    # the two interpolates are equal, i.e. when they share eps: the penalty is then exactly 1.
    def difference(x, y=None):
        packed = x.reshape(x.shape[0] // 2, 2, -1)
        return CriticOutput(0.5 * jnp.sum((packed[:, 0] - packed[:, 1]) ** 2, -1), packed, None)

    real = jnp.repeat(jnp.array([[1.0, 2.0], [3.0, -1.0], [0.0, 5.0]]), 2, axis=0)
    fake = jnp.repeat(jnp.array([[-4.0, 0.0], [2.0, 2.0], [1.0, -3.0]]), 2, axis=0)
    for seed in range(5):
        key = jax.random.PRNGKey(seed)
        np.testing.assert_allclose(penalties.wgan_gp(difference, real, fake, key, pack=2), 1.0,
                                   rtol=1e-5)


def test_penalties_differentiate_a_condition_the_critic_reads_as_input():
    # Catches: the condition vector left out of the gradient (CTGAN joins it to D's input, and
    # its penalty's norm includes it). D = a.x + b.y with ||(a, b)|| = 1.
    a, b = jnp.array([0.6, 0.0]), jnp.array([0.0, 0.8, 0.0])

    def joined(x, y):
        return CriticOutput(x @ a + y @ b, x, None)

    x, f = jnp.ones((4, 2)), jnp.zeros((4, 2))
    y = jnp.eye(3)[jnp.array([0, 1, 2, 1])]
    geometry = {"pack": 1, "condition_is_input": True}
    np.testing.assert_allclose(penalties.wgan_gp(joined, x, f, KEY, y, y, **geometry), 0.0, atol=1e-6)
    np.testing.assert_allclose(penalties.r1(joined, x, y, **geometry), 0.5, rtol=1e-6)
    np.testing.assert_allclose(penalties.dragan(joined, x, KEY, y, **geometry), 0.0, atol=1e-6)
    # Without the condition in the norm: (0.6 - 1)^2.
    np.testing.assert_allclose(penalties.wgan_gp(joined, x, f, KEY, y, y), 0.16, rtol=1e-5)

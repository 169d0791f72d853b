import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import losses
from gan_jax.errors import ConfigError

REAL = jnp.array([2.0, -1.0])
FAKE = jnp.array([0.5, -3.0])
sig = lambda v: 1 / (1 + np.exp(-np.asarray(v, np.float64)))  # noqa: E731


def test_discriminator_cross_entropy_by_hand():
    want = -np.mean(np.log(sig(REAL))) - np.mean(np.log(1 - sig(FAKE)))
    for name in ("minimax", "non_saturating"):
        got = jax.jit(losses.get(name).d_loss)(REAL, FAKE)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_generator_losses_by_hand():
    np.testing.assert_allclose(jax.jit(losses.get("minimax").g_loss)(REAL, FAKE),
                               np.mean(np.log(1 - sig(FAKE))), rtol=1e-6)
    np.testing.assert_allclose(jax.jit(losses.get("non_saturating").g_loss)(REAL, FAKE),
                               -np.mean(np.log(sig(FAKE))), rtol=1e-6)


def test_stable_at_extreme_logits():
    big = jnp.array([1e4, -1e4])
    for name in ("minimax", "non_saturating"):
        loss = losses.get(name)
        values = [loss.d_loss(big, big), loss.g_loss(big, big)]
        grads = jax.grad(loss.g_loss, argnums=1)(big, big)
        assert all(np.isfinite(v) for v in values) and np.all(np.isfinite(grads))
    np.testing.assert_allclose(losses.get("non_saturating").g_loss(big, big), 5e3, rtol=1e-6)


def test_minimax_saturates_where_non_saturating_does_not():
    # When D confidently rejects fakes (logit -10), the minimax gradient vanishes; NS does not.
    fake = jnp.array([-10.0])
    g_mm = jax.grad(losses.get("minimax").g_loss, argnums=1)(fake, fake)
    g_ns = jax.grad(losses.get("non_saturating").g_loss, argnums=1)(fake, fake)
    assert abs(float(g_mm[0])) < 1e-4 and abs(float(g_ns[0])) > 0.99


def test_unknown_loss_is_named():
    with pytest.raises(ConfigError, match="loss.name"):
        losses.get("wasserstein_typo")

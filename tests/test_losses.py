from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from omegaconf import OmegaConf

from gan_jax import losses
from gan_jax.errors import ConfigError

REAL = jnp.array([2.0, -1.0])
FAKE = jnp.array([0.5, -3.0])
sig = lambda v: 1 / (1 + np.exp(-np.asarray(v, np.float64)))  # noqa: E731
relu = lambda v: np.maximum(np.asarray(v, np.float64), 0)  # noqa: E731
CONF_LOSS = Path(__file__).resolve().parents[1] / "conf" / "loss"


def _relative(real, fake):
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    return real - fake.mean(), fake - real.mean()  # C_r - E C_f, C_f - E C_r


def _by_hand(name, real, fake):
    """(d_loss, g_loss) in float64 numpy, straight from each paper's formula."""
    r, f = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if name == "least_squares":
        return 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2), 0.5 * np.mean((f - 1) ** 2)
    if name in ("wasserstein", "wgan_gp"):
        return np.mean(f) - np.mean(r), -np.mean(f)
    if name == "hinge":
        return np.mean(relu(1 - r)) + np.mean(relu(1 + f)), -np.mean(f)
    if name == "rsgan":  # pair by pair: -log sigmoid(C_r,i - C_f,i)
        return -np.mean(np.log(sig(r - f))), -np.mean(np.log(sig(f - r)))
    rr, rf = _relative(r, f)
    if name == "ragan":
        return (-np.mean(np.log(sig(rr))) - np.mean(np.log(1 - sig(rf))),
                -np.mean(np.log(sig(rf))) - np.mean(np.log(1 - sig(rr))))
    if name == "ragan_hinge":
        return (np.mean(relu(1 - rr)) + np.mean(relu(1 + rf)),
                np.mean(relu(1 + rr)) + np.mean(relu(1 - rf)))
    raise KeyError(name)


NEW_LOSSES = ("least_squares", "wasserstein", "wgan_gp", "hinge", "ragan", "ragan_hinge", "rsgan")


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


@pytest.mark.parametrize("name", NEW_LOSSES)
def test_new_losses_by_hand(name):
    # Logits with distinct real/fake means (0.5 vs -1.25) so the relativistic shifts matter, and
    # values on both sides of the hinge margins.
    real, fake = jnp.array([2.0, -1.0, 0.5]), jnp.array([0.5, -3.0, -1.25])
    want_d, want_g = _by_hand(name, real, fake)
    loss = losses.get(name)
    np.testing.assert_allclose(jax.jit(loss.d_loss)(real, fake), want_d, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(jax.jit(loss.g_loss)(real, fake), want_g, rtol=1e-6, atol=1e-6)


def test_only_relativistic_generators_read_real_logits():
    fake = jnp.array([0.5, -3.0])
    for name, loss in losses.LOSSES.items():
        assert loss.g_uses_real == name.startswith(("ragan", "rsgan")), name
        if not loss.g_uses_real:  # g_loss must then ignore real logits
            np.testing.assert_allclose(loss.g_loss(REAL, fake), loss.g_loss(REAL + 7.0, fake))


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_stable_at_extreme_logits(name):
    big = jnp.array([1e4, -1e4])
    loss = losses.get(name)
    for real, fake in ((big, big), (big, -big), (-big, big)):
        for fn in (loss.d_loss, loss.g_loss):
            value, grads = jax.value_and_grad(fn, argnums=(0, 1))(real, fake)
            assert np.isfinite(value), (name, fn.__name__, real, fake)
            assert all(np.all(np.isfinite(g)) for g in grads), (name, fn.__name__, real, fake)


def test_non_saturating_exact_at_extreme_logits():
    big = jnp.array([1e4, -1e4])
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


def test_every_loss_config_names_a_registered_loss():
    paths = sorted(CONF_LOSS.glob("*.yaml"))
    assert paths, CONF_LOSS
    for path in paths:
        name = OmegaConf.load(path).name
        assert name == path.stem, path
        assert losses.get(name) is losses.LOSSES[name]
    assert {p.stem for p in paths} == set(losses.LOSSES)  # and every registered loss has a config

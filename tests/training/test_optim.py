"""The optim group selects the optimizer it names, with its own settings."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax.training import optim
from tests.conftest import make_cfg

GRADS = {"w": jnp.array([0.5, -2.0, 0.0])}
PARAMS = {"w": jnp.array([1.0, 1.0, 1.0])}


def two_updates(overrides):
    g_opt, _ = optim.build(make_cfg(overrides)["optim"])
    state = g_opt.init(PARAMS)
    first, state = g_opt.update(GRADS, state, PARAMS)
    second, _ = g_opt.update(GRADS, state, PARAMS)
    return np.asarray(first["w"]), np.asarray(second["w"])


def test_sgd_with_momentum_is_heavy_ball():
    first, second = two_updates(["optim=sgd", "optim.lr=0.1", "optim.momentum=0.9"])
    g = np.asarray(GRADS["w"])
    np.testing.assert_allclose(first, -0.1 * g, rtol=1e-6)
    np.testing.assert_allclose(second, -0.1 * (g + 0.9 * g), rtol=1e-6)


def test_sgd_nesterov_is_read():
    plain = two_updates(["optim=sgd", "optim.momentum=0.9"])[1]
    nesterov = two_updates(["optim=sgd", "optim.momentum=0.9", "optim.nesterov=true"])[1]
    assert not np.allclose(plain, nesterov)


def test_rmsprop_divides_by_the_root_mean_square():
    first, _ = two_updates(["optim=rmsprop", "optim.lr=0.01", "optim.decay=0.9", "optim.eps=1e-8"])
    g = np.asarray(GRADS["w"])
    np.testing.assert_allclose(first, -0.01 * g / np.sqrt(0.1 * g ** 2 + 1e-8), rtol=1e-5)


def test_adam_first_step_is_lr_times_sign():
    first, _ = two_updates(["optim=adam", "optim.lr=0.01"])
    np.testing.assert_allclose(first[:2], [-0.01, 0.01], rtol=1e-4)


@pytest.mark.parametrize("name", ["adam", "rmsprop", "sgd"])
def test_ttur_rates_apply_per_player(name):
    cfg = make_cfg([f"optim={name}", "optim.g_lr=0.001", "optim.d_lr=0.004"])["optim"]
    g_opt, d_opt = optim.build(cfg)
    g, _ = g_opt.update(GRADS, g_opt.init(PARAMS), PARAMS)
    d, _ = d_opt.update(GRADS, d_opt.init(PARAMS), PARAMS)
    np.testing.assert_allclose(4 * np.asarray(g["w"]), np.asarray(d["w"]), rtol=1e-5)


def test_every_optimizer_trains_a_tiny_gan():
    from gan_jax.training.setup import build
    from tests.conftest import TINY_RING
    for name in ("rmsprop", "sgd"):
        setup = build(make_cfg([*TINY_RING, f"optim={name}"]))
        state = setup.init_state()
        new, metrics = jax.jit(setup.step)(state, setup.data.arrays)
        assert np.isfinite(float(metrics["d/loss"]))
        moved = optax.tree.norm(jax.tree_util.tree_map(jnp.subtract, new.g_params, state.g_params))
        assert float(moved) > 0

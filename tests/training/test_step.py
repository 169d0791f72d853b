"""One real training step on tiny models, jitted, checked for what it must do."""

import jax
import numpy as np
import pytest

from gan_jax.training import setup as setup_lib
from gan_jax.training.step import make_train_chunk
from tests.conftest import TINY_DCGAN, TINY_RING, make_cfg


def leaves_equal(a, b) -> bool:
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    return len(la) == len(lb) and all(np.array_equal(x, y) for x, y in zip(la, lb))


@pytest.fixture(params=["ring", "dcgan", "dcgan_bn"])
def setup(request, fake_fmnist):
    overrides = {"ring": TINY_RING, "dcgan": TINY_DCGAN,
                 "dcgan_bn": TINY_DCGAN + ["model.d_batch_norm=true"]}[request.param]
    return setup_lib.build(make_cfg(overrides + [f"data.root={fake_fmnist}"] * (request.param != "ring")))


def test_one_step_updates_both_players(setup):
    state = setup.init_state()
    new, metrics = jax.jit(setup.step)(state, setup.data.arrays)
    assert int(new.step) == 1
    assert not leaves_equal(new.g_params, state.g_params)
    assert not leaves_equal(new.d_params, state.d_params)
    assert set(metrics) >= {"d/loss", "g/loss", "d/grad_norm", "g/grad_norm"}
    assert all(np.isfinite(v) for v in jax.device_get(metrics).values())


def test_step_is_deterministic_and_scan_equals_loop(setup):
    step = jax.jit(setup.step)
    state = setup.init_state()
    looped = state
    for _ in range(3):
        looped, _ = step(looped, setup.data.arrays)
    scanned, metrics = jax.jit(make_train_chunk(setup.step, 3))(setup.init_state(), setup.data.arrays)
    assert metrics["d/loss"].shape == (3,)
    for a, b in zip(jax.tree_util.tree_leaves(looped), jax.tree_util.tree_leaves(scanned)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_initial_discriminator_loss_is_near_2_log_2(setup):
    _, metrics = jax.jit(setup.step)(setup.init_state(), setup.data.arrays)
    assert abs(float(metrics["d/loss"]) - 2 * np.log(2)) < 0.3  # D(x) ~ 1/2 at init


def test_n_critic_and_ema():
    s = setup_lib.build(make_cfg(TINY_RING + ["optim.n_critic=3", "optim.ema_decay=0.5"]))
    state = s.init_state()
    new, _ = jax.jit(s.step)(state, s.data.arrays)
    # EMA after one update with decay 1/2 is the midpoint of old and new generator weights.
    mid = jax.tree_util.tree_map(lambda a, b: 0.5 * a + 0.5 * b, state.g_params, new.g_params)
    for a, b in zip(jax.tree_util.tree_leaves(new.ema_params), jax.tree_util.tree_leaves(mid)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    # Three critic updates: Adam's step count on D is 3, on G it is 1.
    assert int(new.d_opt[0].count) == 3 and int(new.g_opt[0].count) == 1


def test_ttur_learning_rates():
    s = setup_lib.build(make_cfg(TINY_RING + ["optim.g_lr=1e-4", "optim.d_lr=4e-4"]))
    state = s.init_state()
    new, _ = jax.jit(s.step)(state, s.data.arrays)
    # Adam's first update has magnitude ~lr in every coordinate with a nonzero gradient.
    dg = np.abs(np.asarray(new.g_params["Dense_0"]["kernel"] - state.g_params["Dense_0"]["kernel"])).max()
    dd = np.abs(np.asarray(new.d_params["trunk"]["Dense_0"]["kernel"]
                           - state.d_params["trunk"]["Dense_0"]["kernel"])).max()
    np.testing.assert_allclose([dg, dd], [1e-4, 4e-4], rtol=0.05)

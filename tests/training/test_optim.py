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


ZERO_GRADS = {"w": jnp.zeros(3)}
WEIGHTS = {"w": jnp.array([2.0, -1.0, 0.5])}


@pytest.mark.parametrize("player", ["g", "d"])
def test_l2_shrinks_weights_by_lr_times_l2_times_w(player):
    # Catches: g_l2/d_l2 ignored, applied to the other player, or with the wrong magnitude
    # (decoupled lr-free decay, or l2/2 instead of the gradient l2*w of (l2/2)||w||^2).
    cfg = make_cfg(["optim=sgd", "optim.lr=0.1", "optim.momentum=0.0", f"optim.{player}_l2=0.01"])
    g_opt, d_opt = optim.build(cfg["optim"])
    own, other = (g_opt, d_opt) if player == "g" else (d_opt, g_opt)
    update, _ = own.update(ZERO_GRADS, own.init(WEIGHTS), WEIGHTS)
    np.testing.assert_allclose(update["w"], -0.1 * 0.01 * WEIGHTS["w"], rtol=1e-6)
    untouched, _ = other.update(ZERO_GRADS, other.init(WEIGHTS), WEIGHTS)
    np.testing.assert_array_equal(untouched["w"], 0.0)


def test_l2_is_added_to_the_gradient_before_adam():
    # Catches: decay applied after Adam's normalisation (AdamW-style) instead of coupled L2 as in
    # CFGAN's code: with a zero loss gradient Adam's first step on g = l2*w is -lr*sign(w).
    cfg = make_cfg(["optim=adam", "optim.lr=0.01", "optim.g_l2=0.001"])
    g_opt, _ = optim.build(cfg["optim"])
    update, _ = g_opt.update(ZERO_GRADS, g_opt.init(WEIGHTS), WEIGHTS)
    np.testing.assert_allclose(update["w"], -0.01 * np.sign(WEIGHTS["w"]), rtol=1e-3)


def test_l2_in_a_training_step_equals_the_step_on_loss_plus_half_l2_norm():
    # Catches: the step dropping the l2 term (or doubling it): one SGD step with g_l2 moves G's
    # weights by exactly -lr*l2*w more than the same step without it (D is shared up to then).
    from gan_jax.training.setup import build
    from tests.conftest import TINY_RING
    base = [*TINY_RING, "optim=sgd", "optim.lr=0.05", "optim.momentum=0.0"]
    plain = build(make_cfg(base))
    decayed = build(make_cfg([*base, "optim.g_l2=0.1", "optim.d_l2=0.2"]))
    state = plain.init_state()  # same seed, same weights; the optimizer states differ in shape
    a, _ = jax.jit(plain.step)(state, plain.data.arrays)
    b, _ = jax.jit(decayed.step)(decayed.init_state(), decayed.data.arrays)
    # D: exactly lr*d_l2*w further towards 0 (its loss gradient is the same before the update).
    for w, pa, pb in zip(jax.tree_util.tree_leaves(state.d_params),
                         jax.tree_util.tree_leaves(a.d_params), jax.tree_util.tree_leaves(b.d_params)):
        np.testing.assert_allclose(pb - pa, -0.05 * 0.2 * w, atol=1e-6)
    # G's loss gradient is taken against the (different) updated D, so compare with a reference
    # SGD step on that gradient: b.g = w - lr * (grad + g_l2 * w).
    from gan_jax.training.step import g_update
    plain_game = plain.step.args[0]
    mid = state.replace(d_params=b.d_params)
    key = jax.random.split(jax.random.fold_in(state.key, state.step), 2)[1]
    no_l2, _ = g_update(plain_game, mid, decayed.data.arrays, key)
    for w, ref, got in zip(jax.tree_util.tree_leaves(state.g_params),
                           jax.tree_util.tree_leaves(no_l2.g_params), jax.tree_util.tree_leaves(b.g_params)):
        np.testing.assert_allclose(got - ref, -0.05 * 0.1 * w, atol=1e-6)


@pytest.mark.parametrize("n", [3])
def test_n_generator_updates_g_exactly_n_times(n):
    # Catches: n_generator ignored (G updated once), D updated again between G updates, or the
    # G updates sharing one batch. Reference: one D update then n hand-made G updates.
    from gan_jax.training.setup import build
    from gan_jax.training.step import d_update, g_update
    from tests.conftest import TINY_RING
    s = build(make_cfg([*TINY_RING, f"optim.n_generator={n}"]))
    game = s.step.args[0]
    state = s.init_state()
    new, _ = jax.jit(s.step)(state, s.data.arrays)
    assert int(new.g_opt[0].count) == n and int(new.d_opt[0].count) == 1
    keys = jax.random.split(jax.random.fold_in(state.key, state.step), 1 + n)
    ref, _ = d_update(game, state, s.data.arrays, keys[0])
    for k in keys[1:]:
        ref, _ = g_update(game, ref, s.data.arrays, k)
    for a, b in zip(jax.tree_util.tree_leaves(ref.g_params), jax.tree_util.tree_leaves(new.g_params)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(
        np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(ref.d_params)]),
        np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(new.d_params)]))

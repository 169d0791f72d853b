"""Mitigations inside the real training step: each alone, unrolling, input transforms, clipping."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import mitigations
from gan_jax.errors import ConfigError
from gan_jax.mitigations.base import Mitigation
from gan_jax.training import setup as setup_lib
from gan_jax.training.step import make_train_step
from tests.conftest import CONF, TINY_DCGAN, TINY_RING, make_cfg
from tests.training.test_step import leaves_equal

POINT_MITIGATIONS = [m for m in mitigations.BUILDERS if m != "diffaugment"]  # diffaugment: images


def run_steps(overrides, n=2):
    s = setup_lib.build(make_cfg(overrides))
    state, step = s.init_state(), jax.jit(s.step)
    for _ in range(n):
        state, metrics = step(state, s.data.arrays)
    return s, state, jax.device_get(metrics)


def assert_finite(metrics):
    bad = {k: v for k, v in metrics.items() if not np.isfinite(v)}
    assert not bad, bad


@pytest.mark.slow  # the fast suite runs each one in test_switchboard.py (one step, checked)
@pytest.mark.parametrize("name", POINT_MITIGATIONS)
def test_each_mitigation_trains_on_the_ring_and_logs_its_scalars(name):
    extra = ["mitigation.unrolled.steps=2"] if name == "unrolled" else []
    _, _, metrics = run_steps(TINY_RING + [f"mitigation=[{name}]"] + extra)
    assert_finite(metrics)
    assert any(k.startswith(f"mitigation/{name}/") for k in metrics), sorted(metrics)


@pytest.mark.slow  # ~40 s of compilation; the augmentations themselves are unit-tested
def test_diffaugment_trains_on_images(fake_fmnist):
    _, _, metrics = run_steps(TINY_DCGAN + [f"data.root={fake_fmnist}", "mitigation=[diffaugment]"])
    assert_finite(metrics)
    assert metrics["mitigation/diffaugment/mean_abs_change"] > 0


def test_unrolling_zero_steps_is_exactly_the_plain_step():
    overrides = TINY_RING + ["mitigation=[unrolled]"]
    _, plain, _ = run_steps(TINY_RING)
    _, zero, _ = run_steps(overrides + ["mitigation.unrolled.steps=0"])
    _, two, metrics = run_steps(overrides + ["mitigation.unrolled.steps=2"])
    assert leaves_equal(plain, zero)
    assert not leaves_equal(plain.g_params, two.g_params)  # G saw the look-ahead D
    assert metrics["mitigation/unrolled/d_param_shift"] > 0


def test_input_transforms_reach_real_and_fake_in_both_updates():
    s = setup_lib.build(make_cfg(TINY_RING))
    blind = Mitigation("blind", transform_input=lambda key, x, step: jnp.zeros_like(x))
    step = make_train_step(s.gan, setup_lib.losses.get("non_saturating"), s.data.sample, s.g_opt,
                           s.d_opt, 32, mitigations=[blind])
    _, metrics = jax.jit(step)(s.init_state(), s.data.arrays)
    # D sees only zeros for real and fake alike, and G gets no gradient through D's input.
    assert metrics["d/real_logit"] == metrics["d/fake_logit"]
    assert metrics["g/grad_norm"] == 0.0


def test_wasserstein_clips_discriminator_weights():
    _, state, _ = run_steps(TINY_RING + ["loss=wasserstein", "loss.clip=0.01", "optim.lr=0.1"], n=3)
    biggest = max(float(jnp.abs(p).max()) for p in jax.tree_util.tree_leaves(state.d_params))
    assert 0.0099 < biggest <= 0.01 + 1e-8


def test_wgan_gp_loss_adds_its_penalty_once():
    _, _, metrics = run_steps(TINY_RING + ["loss=wgan_gp"], n=1)
    assert "loss/wgan_gp/penalty" in metrics
    with pytest.raises(ConfigError, match="already includes"):
        setup_lib.build(make_cfg(TINY_RING + ["loss=wgan_gp", "mitigation=[wgan_gp]"]))


def test_feature_matching_replaces_or_adds_to_the_generator_loss():
    base = TINY_RING + ["mitigation=[feature_matching]"]
    _, replaced, _ = run_steps(base, n=1)
    _, added, _ = run_steps(base + ["mitigation.feature_matching.replace=false"], n=1)
    assert not leaves_equal(replaced.g_params, added.g_params)


def test_every_mitigation_config_has_a_builder_and_combines():
    files = {p.stem for p in (CONF / "mitigation").glob("*.yaml")}
    assert files == set(mitigations.BUILDERS)
    cfg = make_cfg(["mitigation=[pacgan,r1]", "mitigation.r1.gamma=1"])
    assert cfg["mitigation"] == {"pacgan": {"m": 2}, "r1": {"gamma": 1}}
    assert make_cfg([])["mitigation"] == {}


def test_unknown_mitigation_is_named():
    with pytest.raises(ConfigError, match="unknown mitigation"):
        mitigations.build({"pacgun": {}}, None, 64)


def test_settings_that_clash_inside_the_models_are_config_errors():
    # 12 / pacgan m=2 = 6 inputs per D batch, which group_size=4 does not divide.
    with pytest.raises(ConfigError, match="mitigation.minibatch_std.group_size"):
        setup_lib.build(make_cfg([o.replace("batch_size=32", "batch_size=12") for o in TINY_RING]
                                 + ["mitigation=[pacgan,minibatch_std]"]))


def test_unrolling_through_adam_stays_finite_where_a_gradient_is_exactly_zero():
    # Relativistic losses give D's head bias a zero gradient; d sqrt(v)/dv at v = 0 is infinite
    # unless Adam uses eps_root when its update is differentiated.
    _, _, metrics = run_steps(TINY_RING + ["loss=ragan", "mitigation=[unrolled]",
                                           "mitigation.unrolled.steps=1"])
    assert_finite(metrics)

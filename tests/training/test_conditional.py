"""Per-category generation: conditional generators, projection and ACGAN discriminators."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import data as data_lib
from gan_jax import models
from gan_jax.errors import ConfigError
from gan_jax.training import setup as setup_lib
from gan_jax.training.state import generate
from tests.conftest import TINY_DCGAN, TINY_RING, make_cfg


@pytest.mark.parametrize("conditioning", ["projection", "acgan"])
def test_conditional_dcgan_trains_and_depends_on_the_label(conditioning, fake_fmnist):
    s = setup_lib.build(make_cfg(TINY_DCGAN + [f"data.root={fake_fmnist}", "data.conditional=true",
                                               f"model.conditioning={conditioning}"]))
    state = s.init_state()
    step = jax.jit(s.step)
    for _ in range(3):
        state, metrics = step(state, s.data.arrays)
    assert all(np.isfinite(v) for v in jax.device_get(metrics).values())
    if conditioning == "acgan":
        assert {"conditioning/acgan/d_real_loss", "conditioning/acgan/g_loss"} <= set(metrics)
    else:
        assert "embed" in state.d_params  # the projection's class embedding
    z = jnp.repeat(s.gan.sample_latent(jax.random.PRNGKey(0), 1), 10, axis=0)
    x = np.asarray(generate(s.gan, state, z, jnp.arange(10)))
    assert not np.allclose(x[0], x[7])  # same z, different category, different image


def test_conditional_needs_labels_and_no_packing(fake_fmnist):
    cfg = make_cfg(TINY_RING)  # the mixtures' configs have no data.conditional key at all
    cfg["data"]["conditional"] = True
    with pytest.raises(ConfigError, match="data.conditional is not a setting of this option"):
        setup_lib.build(cfg)
    with pytest.raises(ConfigError, match="data.conditional=true needs labelled data"):
        models.build(cfg["model"], data_lib.build({**cfg["data"], "conditional": False}), True)
    with pytest.raises(ConfigError, match="pacgan"):
        setup_lib.build(make_cfg(TINY_DCGAN + [f"data.root={fake_fmnist}", "data.conditional=true",
                                               "mitigation=[pacgan]"]))


@pytest.mark.slow  # compiling the ResNet step takes about a minute on 2 cores
def test_sngan_setup_trains_a_conditional_resnet(fake_fmnist):
    """ResNet + spectral norm (D and G) + hinge + projection: the SNGAN/cGAN-pd recipe."""
    s = setup_lib.build(make_cfg([
        "model=resnet", "model.g_width=8", "model.d_width=8", "trainer.batch_size=8",
        f"data.root={fake_fmnist}", "data.conditional=true", "loss=hinge",
        "mitigation=[spectral_norm]", "mitigation.spectral_norm.generator=true"]))
    from gan_jax.mitigations.architecture import sigmas
    from gan_jax.training.state import apply_model
    state = s.init_state()
    new, metrics = jax.jit(s.step)(state, s.data.arrays)
    m = jax.device_get(metrics)
    assert all(np.isfinite(v) for v in m.values())
    # Catches spectral norm not reaching G (mitigation.spectral_norm.generator ignored) or D.
    assert sigmas(new.g_state) and sigmas(new.d_state)
    assert m["mitigation/spectral_norm/d_max_sigma"] == pytest.approx(
        max(float(v) for v in sigmas(state.d_state)), rel=1e-6)  # logged before D updates
    # Catches G or the projection D ignoring the category: same z / same image, other label.
    z = jnp.repeat(s.gan.sample_latent(jax.random.PRNGKey(0), 1), 2, axis=0)
    x = generate(s.gan, new, z, jnp.array([0, 9]))
    assert x.shape == (2, 28, 28, 1) and not np.allclose(x[0], x[1])
    assert "embed" in new.d_params["inner"]  # the projection (SN wraps D as "inner")
    logits = apply_model(s.gan.discriminator, new.d_params, new.d_state, jnp.repeat(x[:1], 2, axis=0),
                         jnp.array([0, 9]), train=False)[0].logits
    assert not np.allclose(logits[0], logits[1])

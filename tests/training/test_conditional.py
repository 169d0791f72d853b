"""Per-category generation: conditional generators, projection and ACGAN discriminators."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

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
    with pytest.raises(ConfigError, match="data.conditional=true needs labelled data"):
        setup_lib.build(make_cfg(TINY_RING + ["data.conditional=true"]))
    with pytest.raises(ConfigError, match="pacgan"):
        setup_lib.build(make_cfg(TINY_DCGAN + [f"data.root={fake_fmnist}", "data.conditional=true",
                                               "mitigation=[pacgan]"]))

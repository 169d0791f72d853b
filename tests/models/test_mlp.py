"""The MLP's PacGAN options: maxout discriminator layers and N(0, std) initialisation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax.config.validate import validate
from gan_jax.errors import ConfigError
from gan_jax.models.layers import Maxout
from tests.conftest import make_cfg
from tests.models.test_models import image_spec

PACGAN = ["model=mlp", "model.g_hidden=[400,400,400,400]", "model.d_hidden=[200,200,200]",
          "model.d_maxout_pieces=5", "model.init_std=0.02", "model.latent_dim=2"]


def build(overrides):
    return models.build(make_cfg(overrides)["model"], image_spec((2,), None))


def test_maxout_is_the_max_over_each_units_pieces():
    layer = Maxout(features=2, pieces=3)
    # Unit 0's pieces are x, 2x, 3x; unit 1's are -x, -2x, -3x + 1.
    kernel = jnp.array([[1.0, 2.0, 3.0, -1.0, -2.0, -3.0]])
    bias = jnp.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    params = {"params": {"Dense_0": {"kernel": kernel, "bias": bias}}}
    out = layer.apply(params, jnp.array([[1.0], [-1.0], [0.0]]))
    np.testing.assert_array_equal(out, [[3.0, -1.0], [-1.0, 4.0], [0.0, 1.0]])


def test_pacgan_discriminator_has_maxout_layers():
    gan = build(PACGAN)
    d = gan.discriminator.init(jax.random.PRNGKey(0), jnp.zeros((4, 2)))["params"]
    trunk = d["trunk"]
    assert [trunk[f"Maxout_{i}"]["Dense_0"]["kernel"].shape for i in range(3)] == [
        (2, 1000), (200, 1000), (200, 1000)]
    assert d["head"]["kernel"].shape == (200, 1)
    out = gan.discriminator.apply({"params": d}, jax.random.normal(jax.random.PRNGKey(1), (4, 2)))
    assert out.features.shape == (4, 200) and out.logits.shape == (4,)


def test_init_std_gives_normal_weights_everywhere():
    gan = build(PACGAN)
    g = gan.generator.init(jax.random.PRNGKey(0), jnp.zeros((4, 2)))["params"]
    d = gan.discriminator.init(jax.random.PRNGKey(1), jnp.zeros((4, 2)))["params"]
    kernels = [leaf for path, leaf in jax.tree_util.tree_flatten_with_path((g, d))[0]
               if path[-1].key == "kernel"]
    assert len(kernels) == 5 + 3 + 1  # G's 5 layers, D's 3 maxout layers and its head
    for k in kernels:
        assert abs(float(jnp.std(k)) - 0.02) < 0.003 and abs(float(jnp.mean(k))) < 0.003


def test_default_init_is_unchanged():
    gan = build(["model=mlp"])
    g = gan.generator.init(jax.random.PRNGKey(0), jnp.zeros((4, 100)))["params"]
    # LeCun normal: std 1/sqrt(fan_in), far from 0.02 for fan_in 100.
    assert abs(float(jnp.std(g["Dense_0"]["kernel"])) - 0.1) < 0.01


@pytest.mark.parametrize("override, name", [
    ("model.d_maxout_pieces=0", "model.d_maxout_pieces"),
    ("model.d_maxout_pieces=2.5", "model.d_maxout_pieces"),
    ("model.d_maxout_pieces=true", "model.d_maxout_pieces"),
    ("model.init_std=-0.02", "model.init_std"),
    ("model.init_std=wide", "model.init_std"),
])
def test_bad_values_are_named(override, name):
    with pytest.raises(ConfigError, match=name):
        validate(make_cfg(["model=mlp", override]))

import jax
import jax.numpy as jnp
import pytest

from gan_jax import models
from gan_jax.data.spec import Dataset
from gan_jax.errors import ConfigError
from tests.conftest import make_cfg


def image_spec(shape, value_range=(0.0, 1.0)):
    return Dataset(name="test", arrays={"x": jnp.zeros((1, *shape))}, sample=None, shape=shape,
                   value_range=value_range)


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_dcgan_shapes_follow_the_data(shape):
    cfg = make_cfg(["model=dcgan", "model.width=8", "model.fc_width=16", "model.d_batch_norm=true"])["model"]
    gan = models.build(cfg, image_spec(shape))
    z = gan.sample_latent(jax.random.PRNGKey(0), 4)
    assert z.shape == (4, 64) and float(jnp.abs(z).max()) <= 1.0  # U(-1, 1)^64
    g_vars = gan.generator.init(jax.random.PRNGKey(1), z)
    x = gan.generator.apply(g_vars, z, train=False)
    assert x.shape == (4, *shape) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0  # sigmoid
    d_vars = gan.discriminator.init(jax.random.PRNGKey(2), x)
    assert "batch_stats" in d_vars
    assert gan.discriminator.apply(d_vars, x, train=False).logits.shape == (4,)


def kernel_shapes(params) -> list[tuple[int, ...]]:
    return [leaf.shape for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]
            if path[-1].key == "kernel"]


def test_dcgan_has_the_lucic_architecture():
    gan = models.build(make_cfg()["model"], image_spec((28, 28, 1)))
    z = jnp.zeros((2, 64))
    p = gan.generator.init(jax.random.PRNGKey(0), z)["params"]
    shapes = [p[k]["kernel"].shape for k in sorted(p) if "kernel" in p[k]]
    assert shapes == [(4, 4, 128, 64), (4, 4, 64, 1), (64, 1024), (1024, 7 * 7 * 128)]
    d = gan.discriminator.init(jax.random.PRNGKey(0), jnp.zeros((2, 28, 28, 1)))["params"]
    assert sorted(kernel_shapes(d)) == sorted([(4, 4, 1, 64), (4, 4, 64, 128), (7 * 7 * 128, 1024),
                                               (1024, 1)])


def test_mlp_classic_preset():
    gan = models.build(make_cfg(["model=mlp"])["model"], image_spec((28, 28, 1)))
    p = gan.generator.init(jax.random.PRNGKey(0), jnp.zeros((2, 100)))["params"]
    assert [p[f"Dense_{i}"]["kernel"].shape for i in range(3)] == [(100, 128), (128, 128), (128, 784)]
    d = gan.discriminator.init(jax.random.PRNGKey(0), jnp.zeros((2, 28, 28, 1)))["params"]
    assert kernel_shapes(d) == [(128, 1), (784, 128), (128, 128)]  # head, then the trunk's layers


def test_mlp_on_2d_data_has_linear_output():
    spec = image_spec((2,), value_range=None)
    gan = models.build(make_cfg(["model=mlp"])["model"], spec)
    z = gan.sample_latent(jax.random.PRNGKey(0), 512)
    variables = gan.generator.init(jax.random.PRNGKey(0), z)
    big = jax.tree_util.tree_map(lambda a: 10 * a, variables)
    assert float(jnp.abs(gan.generator.apply(big, z)).max()) > 1.0  # not squashed


def test_dcgan_rejects_2d_data():
    with pytest.raises(ConfigError, match="model=mlp"):
        models.build(make_cfg()["model"], image_spec((2,), None))

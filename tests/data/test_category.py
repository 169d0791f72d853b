"""data.category: training on one category, also one category per population member."""

import jax
import numpy as np
import pytest

from gan_jax import data as data_lib
from gan_jax.data.spec import category_sampler
from gan_jax.errors import ConfigError
from gan_jax.training import population as population_lib
from gan_jax.training import setup as setup_lib
from tests.conftest import TINY_DCGAN, TINY_RING, make_cfg


def test_samples_come_from_the_chosen_category_only(fake_fmnist):
    data = data_lib.build(make_cfg([f"data.root={fake_fmnist}", "data.category=3"])["data"])
    labels = np.asarray(data.arrays["y"])
    x, y = jax.jit(category_sampler(data, 3), static_argnums=2)(data.arrays, jax.random.PRNGKey(0), 500)
    assert (np.asarray(y) == 3).all()
    # every example of the category is drawn (uniformly), none of another
    images = np.asarray(data.arrays["x"])[labels == 3].reshape((labels == 3).sum(), -1) / 255.0
    drawn = np.asarray(x).reshape(500, -1)
    matches = (np.abs(drawn[:, None] - images[None]).max(-1) < 1e-6).any(0)
    assert matches.all()


def test_each_population_member_trains_on_its_own_category(fake_fmnist):
    cfg = make_cfg([*TINY_DCGAN, f"data.root={fake_fmnist}", "trainer.population=2",
                    "data.category=[2,7]"])
    population = population_lib.build(cfg)
    assert [m["data"]["category"] for m in population.members] == [2, 7]
    # the sampler each member's step uses, traced per member as in the population step
    samplers = jax.vmap(lambda c: category_sampler(population.data, c)(
        population.data.arrays, jax.random.PRNGKey(0), 64)[1])
    labels = np.asarray(samplers(np.array([2.0, 7.0], np.float32)))
    assert (labels[0] == 2).all() and (labels[1] == 7).all()
    state = population.init_state()
    new, metrics = jax.jit(population.step)(state, population.data.arrays)
    assert np.isfinite(np.asarray(metrics["d/loss"])).all()


def test_bad_categories_are_refused(fake_fmnist):
    with pytest.raises(ConfigError, match="data.category=12 .*must be one of 0, 1"):
        setup_lib.build(make_cfg([*TINY_DCGAN, f"data.root={fake_fmnist}", "data.category=12"]))
    with pytest.raises(ConfigError, match="data.category"):
        setup_lib.build(make_cfg([*TINY_RING, "+data.category=1"]))

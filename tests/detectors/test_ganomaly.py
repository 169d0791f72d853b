"""GANomaly: its objective terms and score on cases with known answers, and a real step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models import ganomaly
from gan_jax.models.layers import output_activation
from gan_jax.training import setup as setup_lib
from tests.conftest import make_cfg

SHAPE = (28, 28, 1)


def small_generator():
    return ganomaly.Generator(SHAPE, output_activation((0.0, 1.0)), latent_dim=8, width=4, fc_width=16)


def init(g):
    x = jnp.zeros((2, *SHAPE))
    return g.init(jax.random.PRNGKey(0), jnp.zeros((2, 0)), x, train=True)


def test_objective_terms_are_zero_for_a_perfect_round_trip_and_l1_otherwise():
    g = small_generator()
    params = dict(init(g)["params"])
    params["encoder2"] = params["encoder1"]  # E2 = E1: a perfect reconstruction keeps the code
    x = jax.random.uniform(jax.random.PRNGKey(1), (4, *SHAPE))
    same = ganomaly.objective_terms(g, params, x, x)
    assert float(same["contextual"]) == 0.0 and float(same["encoder"]) == 0.0
    shifted = ganomaly.objective_terms(g, params, x, x + 0.1)
    assert float(shifted["contextual"]) == pytest.approx(0.1, rel=1e-4)  # float32 sums
    assert float(shifted["encoder"]) > 0


def test_score_is_the_code_distance_of_the_round_trip():
    g = small_generator()
    variables = init(g)
    x = jax.random.uniform(jax.random.PRNGKey(2), (3, *SHAPE))
    enc = ganomaly.Encoder(8, 4, 16)
    p = variables["params"]
    z = enc.apply({"params": p["encoder1"]}, x)
    x_hat = g.apply(variables, jnp.zeros((3, 0)), x, train=False)
    z_hat = enc.apply({"params": p["encoder2"]}, x_hat)
    expected = np.mean(np.square(np.asarray(z - z_hat)), axis=1)
    assert np.allclose(ganomaly.anomaly_score(g, variables, x), expected, rtol=1e-5, atol=1e-7)


def test_a_real_step_trains_both_encoders_and_the_decoder(fake_fmnist):
    cfg = make_cfg(["model=ganomaly", "model.width=4", "model.fc_width=16", "model.latent_dim=8",
                    f"data.root={fake_fmnist}", "data.category=3", "trainer.batch_size=8"])
    s = setup_lib.build(cfg)
    state = s.init_state()
    new, metrics = jax.jit(s.step)(state, s.data.arrays)
    assert {"model/ganomaly/contextual", "model/ganomaly/encoder"} <= set(metrics)
    for part in ("encoder1", "decoder", "encoder2"):
        before, after = (jax.tree_util.tree_leaves(p[part]) for p in (state.g_params, new.g_params))
        assert any(not np.allclose(a, b) for a, b in zip(before, after)), part

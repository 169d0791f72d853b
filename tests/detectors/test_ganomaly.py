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


def test_encoder_loss_is_the_mean_squared_distance_of_e1_x_and_e2_x_hat():
    # Catches an encoder loss on the wrong codes (E1 twice, E2 of x, E1 of x_hat) or not squared:
    # with E1 != E2 (fresh init) it must equal mean((E1(x) - E2(x_hat))^2) computed here.
    g = small_generator()
    params = init(g)["params"]
    x = jax.random.uniform(jax.random.PRNGKey(1), (4, *SHAPE))
    x_hat = jax.random.uniform(jax.random.PRNGKey(3), (4, *SHAPE))
    enc = ganomaly.Encoder(8, 4, 16)
    z = np.asarray(enc.apply({"params": params["encoder1"]}, x), np.float64)
    z_hat = np.asarray(enc.apply({"params": params["encoder2"]}, x_hat), np.float64)
    terms = ganomaly.objective_terms(g, params, x, x_hat)
    assert float(terms["encoder"]) == pytest.approx(np.mean((z - z_hat) ** 2), rel=1e-5)
    assert float(terms["contextual"]) == pytest.approx(np.mean(np.abs(np.asarray(x - x_hat))), rel=1e-5)


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


def test_a_real_step_adds_the_weighted_reconstruction_gradients_to_g(fake_fmnist):
    # Catches G's reconstruction terms dropped, sign-flipped, weighted wrongly (w_con and w_enc
    # swapped), or cut off from E1/E2/Dec: with plain SGD the G update with the terms minus the
    # update without them is exactly -lr * grad(w_con |x - x_hat|_1 + w_enc |E1(x) - E2(x_hat)|^2)
    # on the step's own batch, written out here from the paper's definitions.
    from gan_jax.training.state import apply_model
    base = ["model=ganomaly", "model.width=4", "model.fc_width=16", "model.latent_dim=8",
            f"data.root={fake_fmnist}", "data.category=3", "trainer.batch_size=8",
            "optim=sgd", "optim.lr=0.5", "optim.momentum=0.0"]
    w_con, w_enc = 3.0, 40.0  # unequal, and the encoder term large enough to measure on E2
    with_terms = setup_lib.build(make_cfg(base + [f"model.contextual_weight={w_con}",
                                                  f"model.encoder_weight={w_enc}"]))
    without = setup_lib.build(make_cfg(base + ["model.contextual_weight=0", "model.encoder_weight=0"]))
    state = with_terms.init_state()
    a, metrics = jax.jit(with_terms.step)(state, with_terms.data.arrays)
    b, _ = jax.jit(without.step)(state, without.data.arrays)
    assert {"model/ganomaly/contextual", "model/ganomaly/encoder"} <= set(metrics)
    # The G update's batch, drawn as the step draws it (D's update comes first, with key 0).
    game = with_terms.step.args[0]
    g_key = jax.random.split(jax.random.fold_in(state.key, state.step), 2)[1]
    _, kx, _, _, _ = jax.random.split(g_key, 5)
    real, _ = game.sample_data(with_terms.data.arrays, kx, 8)
    G = with_terms.gan.generator
    enc = ganomaly.Encoder(8, 4, 16)

    def terms(g_params):
        x_hat, _ = apply_model(G, g_params, state.g_state, jnp.zeros((8, 8)), real, train=True)
        z = enc.apply({"params": g_params["encoder1"]}, real)
        z_hat = enc.apply({"params": g_params["encoder2"]}, x_hat)
        return w_con * jnp.mean(jnp.abs(real - x_hat)) + w_enc * jnp.mean(jnp.square(z - z_hat))

    grad = jax.grad(terms)(state.g_params)
    flat = lambda tree: np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(tree)])  # noqa: E731
    for part in ("encoder1", "decoder", "encoder2"):
        expected = -0.5 * flat(grad[part])
        moved = flat(a.g_params[part]) - flat(b.g_params[part])
        assert np.linalg.norm(expected) > 1e-2, part  # every part is reached by the terms
        assert np.linalg.norm(moved - expected) < 1e-3 * np.linalg.norm(expected), part

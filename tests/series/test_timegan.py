"""TimeGAN's losses on cases with a known answer, and one jitted step of each phase."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.errors import ConfigError
from gan_jax.models import timegan as tg
from gan_jax.training import setup as setup_lib
from tests.conftest import TINY_SERIES, make_cfg


def test_reconstruction_and_supervised_losses_on_known_cases():
    x = jnp.linspace(0, 1, 2 * 5 * 3).reshape(2, 5, 3)
    assert float(tg.reconstruction(x, x)) == 0.0
    assert float(tg.reconstruction(x, x + 0.5)) == pytest.approx(0.25)
    ramp = jnp.broadcast_to(jnp.arange(6.0)[None, :, None] / 10, (2, 6, 4))
    # The supervisor's output at t is compared with h at t + 1.
    assert float(tg.supervised(ramp, jnp.roll(ramp, -1, axis=1))) == 0.0
    assert float(tg.supervised(ramp, ramp)) == pytest.approx(0.01)  # off by one step of 0.1


def test_moment_loss_on_hand_made_batches():
    # Two sequences of 0 and 1: mean 0.5, std 0.5 at every step and feature.
    x = jnp.stack([jnp.zeros((4, 2)), jnp.ones((4, 2))])
    assert float(tg.moments(x, x)) == 0.0
    assert float(tg.moments(x, x + 0.25)) == pytest.approx(0.25)  # means differ, stds not
    constant = jnp.full_like(x, 0.5)  # same mean, std sqrt(1e-6) against sqrt(0.25 + 1e-6)
    assert float(tg.moments(x, constant)) == pytest.approx(np.sqrt(0.250001) - 1e-3, rel=1e-5)


def built(*overrides):
    setup = setup_lib.build(make_cfg(TINY_SERIES + list(overrides)))
    return setup, setup.init_state()


def changed(before, after) -> set[str]:
    return {name for name in before
            if not all(np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(before[name]),
                                                            jax.tree_util.tree_leaves(after[name])))}


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_each_phase_updates_its_networks_only(cell):
    # Catches: a phase that trains the wrong networks (the supervised phase moving the embedder,
    # or the autoencoder moving G), or a step that does not advance.
    setup, state = built(f"model.cell={cell}")
    expected = [{"embedder", "recovery"}, {"supervisor"},  # G gets no gradient from S's loss
                {"embedder", "recovery", "generator", "supervisor"}]
    for phase, networks in zip(setup.schedule(), expected):
        new, metrics = jax.jit(phase.step)(state, setup.data.arrays)
        assert int(new.step) == 1
        assert changed(state.g_params, new.g_params) == networks, phase.name
        assert all(np.isfinite(float(v)) for v in metrics.values())
        d_changed = not np.array_equal(*(jax.tree_util.tree_leaves(s.d_params)[0] for s in (state, new)))
        assert d_changed == (phase.name == "joint")
    assert set(metrics) == {"d/loss", "d/updated", "g/loss", "g/adversarial", "g/supervised_rmse",
                            "g/moments", "embedder/rmse"}


def test_a_perfect_reconstruction_gives_no_autoencoder_update():
    # Known answer: data that is 0.5 everywhere, and a recovery whose output layer is zero
    # (sigmoid(0) = 0.5), reconstruct exactly: loss 0, zero gradient, nothing moves.
    setup, state = built()
    data = {**setup.data.arrays, "x": jnp.full_like(setup.data.arrays["x"], 0.5)}
    g = state.g_params
    out = {k: jnp.zeros_like(v) for k, v in g["recovery"]["Dense_0"].items()}
    state = state.replace(g_params={**g, "recovery": {**g["recovery"], "Dense_0": out}})
    phase = setup.schedule()[0]
    new, metrics = jax.jit(phase.step)(state, data)
    assert float(metrics["autoencoder/rmse"]) == 0.0
    assert not changed(state.g_params, new.g_params)


def test_the_critic_is_updated_only_above_its_threshold():
    # The authors skip D's update while its loss is at most 0.15.
    for threshold, updated in ((1e6, False), (0.0, True)):
        setup, state = built(f"model.d_threshold={threshold}")
        joint = setup.schedule()[-1]
        new, metrics = jax.jit(joint.step)(state, setup.data.arrays)
        assert float(metrics["d/updated"]) == float(updated)
        same = jax.tree_util.tree_all(jax.tree_util.tree_map(np.array_equal, state.d_params, new.d_params))
        assert same != updated
        assert jax.tree_util.tree_all(jax.tree_util.tree_map(  # its optimizer state likewise
            np.array_equal, state.d_opt, new.d_opt)) != updated


def test_two_generator_updates_per_step_as_the_authors():
    setup, state = built("optim.n_generator=2")
    new, _ = jax.jit(setup.schedule()[-1].step)(state, setup.data.arrays)
    assert int(new.g_opt["generator"][0].count) == int(new.g_opt["embedder"][0].count) == 2


def test_generated_sequences_have_the_data_shape_and_range():
    setup, state = built()
    z = setup.gan.sample_latent(jax.random.PRNGKey(0), 5)
    x = setup.gan.generator.apply({"params": state.g_params}, z)
    assert x.shape == (5, 6, 3) and float(x.min()) >= 0 and float(x.max()) <= 1


@pytest.mark.parametrize("override, says", [
    ("loss=hinge", "model=timegan trains in phases of its own steps, which do not apply loss=hinge"),
    ("mitigation=[r1]", "mitigation=r1"),
    ("optim.n_critic=2", "set optim.n_critic=1"),
    ("optim.ema_decay=0.9", "set optim.ema_decay=0"),
    ("trainer.parallel=pmap", "use trainer.parallel=none or data"),
    ("model.num_layers=1", "model.num_layers=1 must be at least 2"),
])
def test_settings_timegan_cannot_honour_are_refused(override, says):
    with pytest.raises(ConfigError, match=says.replace("[", r"\[")):
        setup_lib.build(make_cfg(TINY_SERIES + [override]))


def test_timegan_and_sines_pair_only_with_each_other():
    with pytest.raises(ConfigError, match="model=timegan needs sequences and data=ring holds 2D "
                                          "points: with data=ring use model=mlp"):
        setup_lib.build(make_cfg(["model=timegan", "data=ring"]))
    with pytest.raises(ConfigError, match="with data=sines use model=timegan"):
        setup_lib.build(make_cfg(["data=sines", "model=mlp"]))


def test_the_autoencoder_phase_learns_a_linear_embedding_to_near_zero_error():
    # Known answer: sequences that are a_i * w at every step (one number per sequence on a fixed
    # line) have an exact 1-dimensional embedding, so the autoencoder phase alone must drive its
    # reconstruction error from its initial ~0.4 to almost 0.
    setup, state = built("model.hidden_dim=8", "optim.lr=1e-2", "optim.beta1=0.9")
    x = setup.data.arrays["x"]
    a = jnp.linspace(0, 1, x.shape[0])[:, None, None]
    data = {**setup.data.arrays, "x": jnp.broadcast_to(a * jnp.array([0.2, 0.5, 0.8]), x.shape)}
    autoencoder = setup.schedule()[0]

    def body(s, _):
        s, metrics = autoencoder.step(s, data)
        return s, metrics["autoencoder/rmse"]

    _, rmse = jax.jit(lambda s: jax.lax.scan(body, s, None, length=400))(state)
    assert float(rmse[0]) > 0.2 and float(rmse[-1]) < 0.02

"""RCGAN on the plain step: its critic's score, every loss and mitigation, and conditioning on a
prefix of observed steps and on a series' category."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import losses, mitigations
from gan_jax.data.series import Series
from gan_jax.data.spec import Dataset, sample_by_index
from gan_jax.errors import ConfigError
from gan_jax.models import rcgan
from gan_jax.models.critic import Critic
from gan_jax.training import loop
from gan_jax.training import setup as setup_lib
from gan_jax.training import step as step_lib
from gan_jax.training.state import apply_model, generate
from tests.conftest import TINY_RCGAN, make_cfg
from tests.test_train_cli import run_cli

PREFIX = 2  # of TINY_RCGAN's 6 steps


def built(*overrides):
    setup = setup_lib.build(make_cfg(TINY_RCGAN + list(overrides)))
    return setup, jax.jit(setup.init_state)()  # jitted: the eager LSTM init is slower


def sampler(gan):
    """generate(gan, state, z, y), jitted (eager LSTMs dispatch op by op)."""
    return jax.jit(lambda state, z, y: generate(gan, state, z, y))


def finite_step(setup, state):
    new, metrics = jax.jit(setup.step)(state, setup.data.arrays)
    metrics = jax.device_get(metrics)
    bad = {k: v for k, v in metrics.items() if not np.isfinite(v)}
    assert not bad, bad
    assert int(new.step) == 1
    return new, metrics


class Steps(nn.Module):
    """The discriminator's recurrence alone (same parameter names): per-step outputs [n, T, H]."""

    @nn.compact
    def __call__(self, x):
        return rcgan.recurrent(x, "lstm", 4, 1)


def test_the_critic_score_is_the_mean_of_its_per_step_logits():
    # Known answer: the head's logit of the averaged recurrent outputs equals the average of the
    # head applied at every step (the paper's per-step logits).
    critic = Critic(rcgan.Discriminator(4, 1, "lstm"))
    x = jax.random.uniform(jax.random.PRNGKey(0), (3, 7, 2))
    params = jax.jit(critic.init)(jax.random.PRNGKey(1), x)["params"]
    h = jax.jit(Steps().apply)({"params": params["trunk"]}, x)  # [3, 7, 4]
    head = params["head"]
    per_step = (h @ head["kernel"] + head["bias"])[..., 0]
    assert per_step.shape == (3, 7)
    logits = jax.jit(critic.apply)({"params": params}, x).logits
    np.testing.assert_allclose(logits, per_step.mean(axis=1), rtol=1e-5, atol=1e-6)


# What config validation says when it refuses a switchboard option on sequences; every other
# loss and mitigation must train.
REFUSED = {"diffaugment": "mitigation=diffaugment augments images; data=sines holds sequences"}
# Settings that keep a cell small: one look-ahead D update instead of five.
SMALL = {"unrolled": ["mitigation.unrolled.steps=1"]}
# The default suite runs the cells where sequences meet code written for other shapes (packing
# [n, T, F], a minibatch layer on D's features, an input-gradient penalty, the image-only
# augmentation); the rest of the table (each cell compiles its own LSTM step) is opt-in with
# `-m matrix`, like the other models' switchboard matrices.
FAST = {("mitigation", "pacgan"), ("mitigation", "minibatch_std"), ("mitigation", "r1"),
        ("mitigation", "diffaugment")}
OPTIONS = [pytest.param(group, name, marks=() if (group, name) in FAST else pytest.mark.matrix)
           for group, names in (("loss", losses.LOSSES), ("mitigation", mitigations.BUILDERS))
           for name in names]


@pytest.mark.parametrize("group, name", OPTIONS)
def test_every_loss_and_mitigation_trains_rcgan_or_is_refused_in_one_line(group, name):
    # Catches: a switchboard option that crashes on sequences (a layer written for [n, F]
    # features, an augmentation for images) instead of training or saying why not.
    overrides = [f"{group}=[{name}]" if group == "mitigation" else f"{group}={name}",
                 *SMALL.get(name, [])]
    if name in REFUSED:
        with pytest.raises(ConfigError) as refusal:
            built(*overrides)
        assert REFUSED[name] in str(refusal.value) and "\n" not in str(refusal.value)
        return
    setup, state = built(*overrides)
    _, metrics = finite_step(setup, state)
    if group == "mitigation":  # it took part in the step: it logged its scalars
        assert any(key.startswith(f"mitigation/{name}/") for key in metrics), metrics


# -- prefix conditioning ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prefix_run():
    setup, state = built(f"model.prefix_steps={PREFIX}")
    return setup, state, setup.gan, setup.data.series.heldout_windows(4)


def test_every_generated_window_begins_with_its_real_prefix(prefix_run):
    setup, state, gan, windows = prefix_run
    z = gan.sample_latent(jax.random.PRNGKey(3), len(windows))
    y = gan.pairing.infer(jnp.asarray(windows))
    x = np.asarray(sampler(gan)(state, z, y))
    assert x.shape == windows.shape == (4, 6, 3)
    np.testing.assert_array_equal(x[:, :PREFIX], windows[:, :PREFIX])
    assert 0 <= x.min() and x.max() <= 1  # the data's range (sigmoid output)
    # In the step too: each fake window D judges begins with its real window's prefix.
    game = setup.step.args[0]
    batch, _ = step_lib.sample_batch(game, setup.data.arrays, jax.random.PRNGKey(4),
                                     state.g_params, state.g_state)
    assert batch.fake.shape == batch.real.shape
    np.testing.assert_array_equal(batch.fake[:, :PREFIX], batch.real[:, :PREFIX])


def test_the_continuation_depends_on_the_prefix_and_on_the_noise(prefix_run):
    _, state, gan, windows = prefix_run
    z = gan.sample_latent(jax.random.PRNGKey(5), 1)
    y = gan.pairing.infer(jnp.asarray(windows[:2]))
    sample = sampler(gan)
    same_noise = np.asarray(sample(state, jnp.repeat(z, 2, axis=0), y))
    assert np.abs(same_noise[0, PREFIX:] - same_noise[1, PREFIX:]).max() > 1e-4
    other_noise = np.asarray(sample(state, gan.sample_latent(jax.random.PRNGKey(6), 2),
                                    jnp.repeat(y[:1], 2, axis=0)))
    assert np.abs(other_noise[0, PREFIX:] - other_noise[1, PREFIX:]).max() > 1e-4
    assert gan.latent_dim == (6 - PREFIX) * 2  # noise only for the steps G writes


def test_a_prefix_run_is_evaluated_on_held_out_prefixes(tmp_path):
    # Catches: evaluation asking G to continue training windows (the default for a paired
    # generator), which it may have memorised.
    cfg = make_cfg(TINY_RCGAN + [f"model.prefix_steps={PREFIX}", "trainer.progress=false"])
    run = loop.Run(cfg, tmp_path / "run")
    heldout = run.setup.data.series.heldout
    np.testing.assert_array_equal(run.eval_y, run.setup.data.series.scale(heldout)[:, :PREFIX])
    assert run.eval_z.shape == (len(heldout), run.setup.gan.latent_dim)


def test_a_prefix_as_long_as_the_window_is_refused_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match="model.prefix_steps=-1 must be >= 0"):
        built("model.prefix_steps=-1")
    r = run_cli(*TINY_RCGAN, "model.prefix_steps=6", f"hydra.run.dir={tmp_path / 'run'}")
    assert r.returncode == 2, r.stderr[-2000:]
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "model.prefix_steps=6 must lie in 0..5" in lines[0], r.stderr
    assert not (tmp_path / "run").exists()


# -- a series' category -------------------------------------------------------------------------

def banded_sines(n: int = 64, seq_len: int = 6, features: int = 3) -> Dataset:
    """Labelled sines: label 0 oscillates slowly (f in [0, 0.1]), label 1 fast (f in [1, 1.5])."""
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 2
    freq = np.where(labels[:, None, None] == 1, rng.uniform(1.0, 1.5, (n, 1, features)),
                    rng.uniform(0.0, 0.1, (n, 1, features)))
    t = np.arange(seq_len)[None, :, None]
    x = ((np.sin(freq * t + rng.uniform(0, 0.1, (n, 1, features))) + 1) / 2).astype(np.float32)
    series = Series.fit(x, x[:8])
    arrays = {"x": jnp.asarray(series.scale(x)), "y": jnp.asarray(labels, jnp.int32)}
    return Dataset("banded_sines", arrays, lambda a, k, m: sample_by_index(a, k, m, lambda v: v),
                   (seq_len, features), (0.0, 1.0), class_names=("slow", "fast"), series=series)


@pytest.mark.parametrize("conditioning", ["projection", "acgan"])
def test_g_and_d_read_the_series_category(conditioning):
    cfg = make_cfg(TINY_RCGAN + [f"model.conditioning={conditioning}"])
    cfg["data"]["conditional"] = True  # as a labelled series file sets it
    setup = setup_lib.assemble(cfg, banded_sines())
    state, gan = jax.jit(setup.init_state)(), setup.gan
    assert gan.num_classes == 2
    z = jnp.repeat(gan.sample_latent(jax.random.PRNGKey(0), 1), 2, axis=0)
    x = np.asarray(sampler(gan)(state, z, jnp.array([0, 1])))
    assert np.abs(x[0] - x[1]).max() > 1e-4  # same noise, another category: another sequence
    out = jax.jit(lambda y: apply_model(gan.discriminator, state.d_params, state.d_state,
                                        jnp.asarray(x[:1]), y, train=False)[0])
    if conditioning == "projection":  # one sequence judged as each category
        assert abs(float(out(jnp.array([0])).logits[0] - out(jnp.array([1])).logits[0])) > 1e-6
        return  # one conditional step (below) is enough: projection adds no objective term
    assert out(jnp.array([0])).class_logits.shape == (1, 2)
    _, metrics = finite_step(setup, state)  # labels reach both players and ACGAN's terms
    assert "conditioning/acgan/g_loss" in metrics and "conditioning/acgan/d_real_loss" in metrics


def test_a_prefix_model_refuses_a_category_too():
    cfg = make_cfg(TINY_RCGAN + [f"model.prefix_steps={PREFIX}"])
    cfg["data"]["conditional"] = True
    with pytest.raises(ConfigError, match="a prefix model reads one condition, its prefix"):
        setup_lib.assemble(cfg, banded_sines())

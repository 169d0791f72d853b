"""model=tabular on a small table: training-by-sampling, the conditional loss, Gumbel noise from
the latent, D reading each row joined with its condition (packed by PacGAN), one real step."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from gan_jax.data import tabular
from gan_jax.models import tabular as tabular_model
from gan_jax.models.critic import Critic, input_geometry
from gan_jax.training import setup as setup_lib
from gan_jax.training.state import apply_sowing, sown
from tests.conftest import make_cfg


def small_frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.9, 0.08, 0.02])
    spend = np.where(plan == "basic", rng.normal(10, 1, n), rng.normal(50, 3, n)).clip(0)
    return pd.DataFrame({"spend": spend, "visits": rng.integers(1, 20, n), "plan": plan,
                         "churned": (rng.random(n) < 0.3).astype(int)})


def small_table(split="test", **kw):
    return tabular.build("table", small_frame(**kw), "churned", ["plan", "churned"], split,
                         0.2, 0.2, 0, None, 10)


def test_split_is_stratified_disjoint_and_validation_never_reads_test():
    frame = small_frame()
    labels = frame["churned"].to_numpy()
    train, test = tabular.split_rows(labels, "test", 0.2, 0.2, 0, None)
    v_train, validation = tabular.split_rows(labels, "validation", 0.2, 0.2, 0, None)
    assert not set(train) & set(test) and len(train) + len(test) == len(frame)
    assert set(v_train) | set(validation) == set(train)  # validation rows come from training only
    assert not (set(v_train) | set(validation)) & set(test)
    assert abs(labels[test].mean() - labels.mean()) < 0.02


def test_training_by_sampling_draws_categories_by_log_frequency_and_matching_rows():
    data = small_table()
    table = data.table
    x, y = data.sample(data.arrays, jax.random.PRNGKey(0), 20000)
    x, y = np.asarray(x), np.asarray(y)
    assert y.shape == (20000, table.num_options) and np.all(y.sum(1) == 1)
    # Every row drawn has the category its condition names (where its one-hot sits).
    assert np.all(x[np.arange(len(x)), table.positions[y.argmax(1)]] == 1)
    # Column chosen uniformly, then category with probability proportional to log(1 + count).
    plans = [i for i, (c, _) in enumerate(table.options) if c == "plan"]
    counts = np.array([(table.train["plan"] == table.options[i][1]).sum() for i in plans])
    expected = 0.5 * np.log1p(counts) / np.log1p(counts).sum()
    np.testing.assert_allclose(y[:, plans].mean(0), expected, atol=0.01)
    # The rare category is asked for far more often than its share of rows.
    rare = plans[int(np.argmin(counts))]
    assert y[:, rare].mean() > 3 * counts.min() / len(table.train) * 0.5


def test_empirical_conditions_follow_the_data_frequencies():
    table = small_table().table
    y = table.empirical_conditions(20000, seed=1)
    churn = [i for i, (c, v) in enumerate(table.options) if c == "churned" and v == 1][0]
    assert abs(y[:, churn].mean() - 0.5 * table.train["churned"].mean()) < 0.01


def test_condition_names_unknown_columns_and_values():
    table = small_table().table
    assert table.condition("plan", "pro").sum() == 1
    with pytest.raises(Exception, match="spend.*not a discrete column"):
        table.condition("spend", 3)
    with pytest.raises(Exception, match="gold.*choose one of"):
        table.condition("plan", "gold")


def test_condition_loss_gradient_is_the_cross_entropy_gradient_whatever_the_noise():
    # Catches: the loss taken as -log of the tau-0.2 Gumbel-softmax sample (CTGAN takes the
    # cross-entropy of the raw logits). There, when the asked category trails by 5 logits, the
    # gradient on it vanishes in most noise draws, exactly when G is most wrong.
    spans = ((0, 1, "tanh"), (1, 2, "softmax"), (3, 2, "softmax"))
    positions = np.array([1, 2, 3, 4])
    g = tabular_model.Generator(spans, latent_dim=3, hidden=(4,))
    n = 256
    z = jax.random.normal(jax.random.PRNGKey(0), (n, 3 + g.noise_dim))
    condition = jnp.tile(jnp.array([[0.0, 1.0, 0.0, 0.0]]), (n, 1))  # column 1, category 1
    params = g.init(jax.random.PRNGKey(1), z, condition, train=False)["params"]
    last = sorted(k for k in params if k.startswith("Dense"))[-1]
    # Logits equal the bias for every row: the asked category (row entry 2) trails by 5.
    params[last]["kernel"] = jnp.zeros_like(params[last]["kernel"])
    params[last]["bias"] = jnp.array([0.0, 5.0, 0.0, 0.0, 0.0])

    def loss(bias):
        p = {**params, last: {**params[last], "bias": bias}}
        _, _, sown_values = apply_sowing(g, p, {"batch_stats": batch_stats}, z, condition)
        return tabular_model.condition_loss(sown(sown_values, "logits"), condition, positions, spans)

    batch_stats = g.init(jax.random.PRNGKey(1), z, condition, train=False)["batch_stats"]
    grad = np.asarray(jax.grad(loss)(params[last]["bias"]))
    p_asked = 1 / (1 + np.exp(5.0))
    np.testing.assert_allclose(grad[2], -(1 - p_asked), rtol=1e-5)  # -0.993, in every draw
    np.testing.assert_allclose(grad[1], 1 - p_asked, rtol=1e-5)
    np.testing.assert_allclose(grad[[0, 3, 4]], 0, atol=1e-7)        # other columns untouched
    np.testing.assert_allclose(loss(params[last]["bias"]), np.log1p(np.exp(5.0)), rtol=1e-5)


def test_condition_loss_reads_only_the_asked_columns_span():
    # Catches: a log-softmax over the whole row (or another column's span) instead of the asked
    # column's categories.
    spans = ((0, 1, "tanh"), (1, 2, "softmax"), (3, 3, "softmax"))
    logits = jnp.array([[7.0, 1.0, 2.0, 0.0, 3.0, -1.0]])
    positions = np.array([1, 2, 3, 4, 5])
    condition = jnp.array([[0.0, 0.0, 0.0, 1.0, 0.0]])  # second column, its category 1
    want = -(3.0 - np.log(np.exp(0.0) + np.exp(3.0) + np.exp(-1.0)))
    np.testing.assert_allclose(tabular_model.condition_loss(logits, condition, positions, spans),
                               want, rtol=1e-6)


def test_gumbel_noise_from_normal_latents_has_the_gumbel_distribution():
    g = np.asarray(tabular_model.gumbel_from_normal(jax.random.normal(jax.random.PRNGKey(0), (200000,))))
    np.testing.assert_allclose(g.mean(), 0.5772, atol=0.01)        # Euler-Mascheroni
    np.testing.assert_allclose(g.var(), np.pi ** 2 / 6, atol=0.03)


def test_generator_outputs_tanh_scalars_and_one_hots_that_vary_with_the_noise():
    data = small_table()
    spans = tuple((s.start, s.width, s.activation) for s in data.table.transform.spans)
    g = tabular_model.Generator(spans, 8, (16,))
    z = jax.random.normal(jax.random.PRNGKey(0), (64, 8 + g.noise_dim))
    y = jnp.zeros((64, data.table.num_options))
    params = g.init(jax.random.PRNGKey(1), z, y, train=False)
    out = np.asarray(g.apply(params, z, y, train=False))
    for start, width, act in spans:
        block = out[:, start:start + width]
        if act == "tanh":
            assert np.all(np.abs(block) < 1)
        else:
            np.testing.assert_allclose(block.sum(1), 1, rtol=1e-5)
    # Same network input, other Gumbel noise: the one-hot choices change.
    z2 = z.at[:, 8:].set(jax.random.normal(jax.random.PRNGKey(2), (64, g.noise_dim)))
    assert not np.allclose(np.asarray(g.apply(params, z2, y, train=False)), out)


def test_critic_joins_each_row_with_its_condition_before_packing():
    class Flat(__import__("flax").linen.Module):
        def __call__(self, x, train=True):
            return x
    critic = Critic(Flat(), pack=2, joins_condition=True)
    x, y = jnp.arange(8.0).reshape(4, 2), 100 + jnp.arange(4.0).reshape(4, 1)
    out = critic.init_with_output(jax.random.PRNGKey(0), x, y)[0]
    np.testing.assert_array_equal(out.features[0], [0, 1, 100, 2, 3, 101])


@pytest.mark.parametrize("loss,mitigation", [("wgan_gp", "pacgan"), ("non_saturating", None)])
def test_one_jitted_step_on_a_table(tmp_path, loss, mitigation):
    path = tmp_path / "customers.csv"
    small_frame().to_csv(path, index=False)
    overrides = ["data=table", f"data.path={path}", "data.target=churned",
                 "data.discrete=[plan,churned]", "model=tabular", "model.g_hidden=[16]",
                 "model.d_hidden=[16]", "model.latent_dim=8", f"loss={loss}", "trainer.batch_size=20"]
    if mitigation:
        overrides += [f"mitigation=[{mitigation}]", "mitigation.pacgan.m=10"]
    setup = setup_lib.build(make_cfg(overrides))
    state = setup.init_state()
    # G's last layer set to zero: every logit is 0, so each row's cross-entropy is the log of
    # its asked column's size (3 plans or 2 churn values).
    last = sorted(k for k in state.g_params if k.startswith("Dense"))[-1]
    zeroed = jax.tree_util.tree_map(jnp.zeros_like, state.g_params[last])
    state = state.replace(g_params={**state.g_params, last: zeroed})
    new, metrics = jax.jit(setup.step)(state, setup.data.arrays)
    assert int(new.step) == 1
    # Catches: the step's conditional term reading anything but G's raw logits (-log of the
    # Gumbel-softmax sample gives noise-driven values off this lattice).
    value = float(metrics["model/condition/cross_entropy"])
    k = (value - np.log(2)) / (np.log(3) - np.log(2)) * 20  # rows that asked for a plan
    assert 0 <= round(k) <= 20 and abs(k - round(k)) < 1e-3, value
    # Catches: PacGAN's pack size not reaching the penalties (one norm per pack of 10 rows).
    assert input_geometry(setup.gan.discriminator) == ({"pack": 10, "condition_is_input": True}
                                                   if mitigation else
                                                   {"pack": 1, "condition_is_input": True})

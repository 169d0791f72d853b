"""model=tabular on a small table: training-by-sampling, the conditional loss, Gumbel noise from
the latent, D reading each row joined with its condition (packed by PacGAN), one real step."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from gan_jax.data import tabular
from gan_jax.models import tabular as tabular_model
from gan_jax.models.critic import Critic
from gan_jax.training import setup as setup_lib
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


def test_condition_loss_is_the_cross_entropy_at_the_asked_option():
    fake = jnp.array([[0.3, 0.2, 0.8, 0.7, 0.3]])  # spans: a scalar, then two one-hots of 2
    positions = np.array([1, 2, 3, 4])
    condition = jnp.array([[0.0, 1.0, 0.0, 0.0]])   # asks for option 1: the row's entry 2
    value = tabular_model.condition_loss(fake, condition, positions)
    np.testing.assert_allclose(value, -np.log(0.8 + 1e-6), rtol=1e-6)


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
    new, metrics = jax.jit(setup.step)(state, setup.data.arrays)
    assert int(new.step) == 1
    assert np.isfinite(float(metrics["g/loss"])) and np.isfinite(float(metrics["d/loss"]))
    assert float(metrics["model/condition/cross_entropy"]) > 0

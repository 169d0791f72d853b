"""CFGAN: negative sampling on a tiny matrix, its terms, one real step, and the commands."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import recommend as recommend_cli
from gan_jax.models import cfgan
from gan_jax.training import loop, setup as setup_lib
from tests.conftest import EVERY_100, TINY_CFGAN, make_cfg

C = jnp.array([[1, 0, 0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0, 1]], jnp.float32)


@pytest.mark.parametrize("scheme", cfgan.SCHEMES)
def test_negatives_fall_on_unobserved_entries_only(scheme):
    y = jax.jit(cfgan.training_condition(scheme, 0.5, 0.5))(jax.random.PRNGKey(0), C, C)
    assert y.shape == (2, 3, 8) and (y[:, 0] == C).all()
    pm, zr = np.asarray(y[:, 1]), np.asarray(y[:, 2])
    assert not (pm * np.asarray(C)).any() and not (zr * np.asarray(C)).any()
    assert pm.any() == (scheme in ("pm", "zp")) and zr.any() == (scheme in ("zr", "zp"))


def test_negative_ratio_is_the_fraction_of_unobserved_entries():
    c = (jax.random.uniform(jax.random.PRNGKey(1), (64, 500)) < 0.1).astype(jnp.float32)
    y = cfgan.training_condition("zp", 0.7, 0.3)(jax.random.PRNGKey(2), c, c)
    unobserved = float((c == 0).sum())
    assert float(y[:, 1].sum()) / unobserved == pytest.approx(0.7, abs=0.01)
    assert float(y[:, 2].sum()) / unobserved == pytest.approx(0.3, abs=0.01)


def test_discriminator_masks_fakes_and_leaves_reals_unchanged():
    y = cfgan.training_condition("pm", 0.5, 0.5)(jax.random.PRNGKey(0), C, C)
    d = cfgan.Discriminator((4,))
    params = d.init(jax.random.PRNGKey(0), C, y)
    # A real vector is unchanged by its mask: D sees the same as without negatives.
    assert jnp.allclose(d.apply(params, C, y), d.apply(params, C, cfgan.inference_condition(C)))
    # A fake is seen only on observed entries and PM negatives: changes elsewhere are invisible.
    fake = jax.random.normal(jax.random.PRNGKey(3), C.shape)
    hidden = (C + y[:, 1]) == 0
    assert jnp.allclose(d.apply(params, fake, y), d.apply(params, jnp.where(hidden, 99.0, fake), y))


def test_zero_reconstruction_sums_squared_scores_at_zr_negatives():
    fake = jnp.array([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    zr = jnp.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    y = jnp.stack([jnp.zeros_like(fake), jnp.zeros_like(fake), zr], axis=1)
    assert float(cfgan.zero_reconstruction(fake, y)) == pytest.approx(((4 + 9) + 0.25) / 2)


@pytest.mark.parametrize("loss", ["non_saturating", "wgan_gp"])
def test_one_real_step_trains_both_players(fake_movielens, loss):
    cfg = make_cfg([*TINY_CFGAN, f"data.root={fake_movielens}", f"loss={loss}",
                    "optim.n_generator=2", "optim.g_l2=0.001"])
    s = setup_lib.build(cfg)
    state = s.init_state()
    new, metrics = jax.jit(s.step)(state, s.data.arrays)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert "model/zr/penalty" in metrics
    for before, after in ((state.g_params, new.g_params), (state.d_params, new.d_params)):
        assert any(not np.allclose(a, b) for a, b in zip(jax.tree_util.tree_leaves(before),
                                                         jax.tree_util.tree_leaves(after)))


def test_pacgan_and_image_data_are_refused_clearly(fake_movielens, fake_fmnist):
    from gan_jax.errors import ConfigError
    with pytest.raises(ConfigError, match="model=cfgan needs interaction data"):
        setup_lib.build(make_cfg(["model=cfgan", f"data.root={fake_fmnist}"]))
    with pytest.raises(ConfigError, match="drop mitigation=pacgan"):
        setup_lib.build(make_cfg([*TINY_CFGAN, f"data.root={fake_movielens}", "mitigation=[pacgan]"]))


def test_run_evaluates_rankings_and_recommends_unseen_items(tmp_path, fake_movielens, capsys):
    cfg = make_cfg([*TINY_CFGAN, *EVERY_100, f"data.root={fake_movielens}", "trainer.steps=200",
                    "trainer.population=2", "seed=[0,1]"])
    summary = loop.train(cfg, tmp_path / "run")
    for member in summary["members"]:
        assert 0 <= member["eval"]["eval/precision_5"] <= 1 and "eval/ndcg_20" in member["eval"]
    assert "eval/precision_20" in summary["eval_reference"]  # the most-popular recommender

    code = recommend_cli.main([f"run_dir={tmp_path / 'run'}", "user=7", "n=5", "member=1"])
    out = capsys.readouterr().out
    assert code == 0 and out.count("(item ") == 5
    data = setup_lib.build(cfg | {"trainer": {**cfg["trainer"], "population": 1}, "seed": 0}).data
    inter = data.interactions
    user = int(np.flatnonzero(inter.user_ids == 7)[0])
    seen_ids = set(inter.item_ids[inter.train[user]].tolist())
    shown = {int(line.split("(item ")[1].split(",")[0]) for line in out.splitlines() if "(item " in line}
    assert shown and not shown & seen_ids

    assert recommend_cli.main([f"run_dir={tmp_path / 'run'}", "user=999"]) == 2
    assert "user=999 is not in the data" in capsys.readouterr().err
    assert recommend_cli.main([f"run_dir={tmp_path / 'run'}", "user=7", "member=5"]) == 2


def test_recommend_refuses_a_run_that_is_not_a_recommender(tmp_path, capsys):
    from tests.conftest import TINY_RING
    loop.train(make_cfg([*TINY_RING, *EVERY_100, "trainer.steps=100"]), tmp_path / "ring")
    assert recommend_cli.main([f"run_dir={tmp_path / 'ring'}", "user=1"]) == 2
    assert "not a recommender" in capsys.readouterr().err

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
def test_one_real_step_adds_the_zr_gradient_to_g(fake_movielens, loss):
    # Catches the ZR term dropped, sign-flipped (G pushed away from 0 on ZR negatives), taken on
    # the wrong entries or weighted wrongly: with plain SGD, G's update with zr_weight=w minus its
    # update with 0 is exactly -lr * grad(w * mean_rows sum_{ZR negatives} G(y)^2) on the batch.
    from gan_jax.training.state import apply_model
    from gan_jax.training.step import draw
    base = [*TINY_CFGAN, f"data.root={fake_movielens}", f"loss={loss}", "optim=sgd",
            "optim.lr=0.5", "optim.momentum=0.0", "model.scheme=zp"]
    w = 2.0
    with_zr = setup_lib.build(make_cfg(base + [f"model.zr_weight={w}"]))
    without = setup_lib.build(make_cfg(base + ["model.zr_weight=0"]))
    state = with_zr.init_state()
    a, metrics = jax.jit(with_zr.step)(state, with_zr.data.arrays)
    b, _ = jax.jit(without.step)(state, without.data.arrays)
    assert "model/zr/penalty" in metrics
    game = with_zr.step.args[0]
    g_key = jax.random.split(jax.random.fold_in(state.key, state.step), 2)[1]
    kz, kx, ky, _, _ = jax.random.split(g_key, 5)
    _, _, z, y = draw(game, with_zr.data.arrays, kz, kx, ky)
    assert float(y[:, 2].sum()) > 0  # the batch has ZR negatives

    def zr(g_params):
        fake, _ = apply_model(with_zr.gan.generator, g_params, state.g_state, z, y, train=True)
        return w * jnp.mean(jnp.sum(y[:, 2] * jnp.square(fake), axis=1))

    flat = lambda tree: np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(tree)])  # noqa: E731
    expected = -0.5 * flat(jax.grad(zr)(state.g_params))
    moved = flat(a.g_params) - flat(b.g_params)
    assert np.linalg.norm(expected) > 1e-3
    assert np.linalg.norm(moved - expected) < 1e-3 * np.linalg.norm(expected)
    np.testing.assert_array_equal(flat(a.d_params), flat(b.d_params))  # ZR is G's term only


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
    assert all("eval/ndcg_20" in member["eval"] for member in summary["members"])
    # Catches ranking against the training items, recommending seen items, or precision with
    # the wrong denominator: the most-popular reference's P@5/P@20, written out here per user.
    single = cfg | {"trainer": {**cfg["trainer"], "population": 1}, "seed": 0}
    inter = setup_lib.build(single).data.interactions
    assert not (inter.train & inter.heldout).any()
    counts = inter.train.sum(axis=0)
    for k in (5, 20):
        per_user = []
        for seen, held in zip(inter.train, inter.heldout):
            if held.any():
                order = sorted(np.flatnonzero(~seen), key=lambda i: (-counts[i], i))[:k]
                per_user.append(held[order].sum() / k)
        assert summary["eval_reference"][f"eval/precision_{k}"] == pytest.approx(np.mean(per_user), abs=1e-6)

    code = recommend_cli.main([f"run_dir={tmp_path / 'run'}", "user=7", "n=5", "member=1"])
    out = capsys.readouterr().out
    assert code == 0 and out.count("(item ") == 5
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

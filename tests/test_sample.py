"""`python -m gan_jax.sample`: grids and arrays from a checkpoint, per category, interpolations."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import sample
from gan_jax.training import setup as setup_lib
from gan_jax.training.checkpoint import Checkpoints
from gan_jax.training.loop import train
from gan_jax.training.state import generate
from tests.conftest import TINY_DCGAN, make_cfg

CONDITIONAL = TINY_DCGAN + ["data.conditional=true", "trainer.steps=20", "trainer.log_every=10",
                           "trainer.sample_every=20", "trainer.eval_every=20",
                           "trainer.checkpoint_every=20", "trainer.eval_samples=10",
                           "optim.ema_decay=0.9", "trainer.progress=false"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from tests.conftest import write_fake_fashion_mnist
    root = tmp_path_factory.mktemp("data")
    write_fake_fashion_mnist(root)
    out = tmp_path_factory.mktemp("run")
    train(make_cfg(CONDITIONAL + [f"data.root={root}"]), out)
    return out


def test_category_samples_come_from_the_ema_generator(run_dir):
    assert sample.main([f"run_dir={run_dir}", "n=6", "category=sneaker", "npy=true"]) == 0
    x = np.load(run_dir / "samples" / "step20_n6_Sneaker.npy")
    assert (run_dir / "samples" / "step20_n6_Sneaker.png").is_file()
    # Recompute with the restored EMA weights and label 7 (Sneaker).
    setup = setup_lib.build(json.loads((run_dir / "config.json").read_text()))
    ckpt = Checkpoints(run_dir / "checkpoints")
    state = ckpt.restore(jax.eval_shape(setup.init_state))
    ckpt.close()
    z = setup.gan.sample_latent(jax.random.PRNGKey(0), 6)
    y = jnp.full((6,), 7)
    np.testing.assert_allclose(x, generate(setup.gan, state, z, y, use_ema=True), atol=1e-6)
    assert not np.allclose(x, generate(setup.gan, state, z, y, use_ema=False), atol=1e-6)


def test_all_categories_give_one_named_row_each(run_dir):
    assert sample.main([f"run_dir={run_dir}", "n=3", "category=all", "npy=true"]) == 0
    x = np.load(run_dir / "samples" / "step20_n3_all.npy")
    assert x.shape == (30, 28, 28, 1)  # 10 categories x 3
    assert (run_dir / "samples" / "step20_n3_all.png").is_file()


def test_interpolation_rows_run_between_two_latents():
    gan = type("G", (), {"sample_latent": lambda self, k, n: jax.random.normal(k, (n, 3))})()
    cfg = sample.SampleConfig(run_dir="x", n=2, interpolate=True, steps=5)
    z = np.asarray(sample.latents(gan, jax.random.PRNGKey(0), cfg)).reshape(2, 5, 3)
    np.testing.assert_allclose(z[:, 2], (z[:, 0] + z[:, 4]) / 2, atol=1e-6)
    np.testing.assert_allclose(np.diff(z, axis=1), np.diff(z, axis=1)[:, :1].repeat(4, 1), atol=1e-6)


def test_bad_requests_exit_2_and_write_nothing(run_dir, tmp_path, capsys):
    before = sorted((run_dir / "samples").iterdir()) if (run_dir / "samples").exists() else []
    assert sample.main([f"run_dir={run_dir}", "category=Shoe"]) == 2
    assert "Sneaker" in capsys.readouterr().err  # the valid names are listed
    assert sample.main([f"run_dir={run_dir}", "nn=3"]) == 2
    assert sample.main([f"run_dir={run_dir}", "constraints=false"]) == 2  # a table setting
    assert sample.main([f"run_dir={tmp_path}"]) == 2
    assert sample.main([]) == 2
    after = sorted((run_dir / "samples").iterdir()) if (run_dir / "samples").exists() else []
    assert before == after

"""`gan_jax.stockout` on a tiny prefix RCGAN trained on a fake M5 history, its windows beginning
with each series' department x store one-hot (data.categories_as_channels)."""

import subprocess
import sys

import numpy as np
import pytest

from gan_jax import stockout
from gan_jax.data import m5
from tests.conftest import ROOT
from tests.series.test_m5 import write_fake_m5


@pytest.fixture(scope="module")
def m5_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("m5")
    data = write_fake_m5(root / "sales", days=42)  # 35 days before the final week: 3 windows each
    run_dir = root / "run"
    r = subprocess.run([sys.executable, "-m", "gan_jax.train", "data=m5", f"data.root={data}",
                        "data.heldout_fraction=0.5", "data.condition_on=dept_store",
                        "data.categories_as_channels=true", "model=rcgan", "model.prefix_steps=14",
                        "model.hidden_dim=4", "model.z_dim=2", "trainer.batch_size=8", "trainer.steps=4",
                        "trainer.log_every=2", "trainer.checkpoint_every=4", "trainer.eval_every=4",
                        "trainer.sample_every=4", "trainer.eval_samples=12", "trainer.progress=false",
                        f"hydra.run.dir={run_dir}"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    return run_dir


def test_stockout_reads_its_answers_off_the_demand_paths(m5_run, capsys):
    cfg = stockout.StockoutConfig(run_dir=str(m5_run), series="HOBBIES_1_002_TX_1", stock=20, days=5,
                                  paths=300)
    r = stockout.demand_paths(cfg)
    total = r["paths"].sum(axis=1)
    assert r["paths"].shape == (300, 5) and (r["paths"] >= 0).all()
    assert r["p_stockout"] == np.mean(total > 20)
    assert np.mean(total <= r["order_up_to"]) >= 0.95 > np.mean(total <= r["order_up_to"] - 1)
    never = stockout.demand_paths(stockout.StockoutConfig(run_dir=str(m5_run), series="HOBBIES_1_002_TX_1",
                                                          stock=total.max(), days=5, paths=300))
    assert never["p_stockout"] == 0.0  # the same seed: the same paths
    assert stockout.main([f"run_dir={m5_run}", "series=HOBBIES_1_002_TX_1", "stock=20", "paths=50"]) == 0
    assert (m5_run / "stockout" / "HOBBIES_1_002_TX_1.png").is_file()
    assert "P(demand > 20)" in capsys.readouterr().out


@pytest.mark.parametrize("argv, says", [
    (["series=NOT_AN_ITEM", "stock=5"], "series=NOT_AN_ITEM is not a series of"),
    (["series=FOODS_1_001_CA_1", "stock=-2"], "stock=-2 is negative"),
    (["series=FOODS_1_001_CA_1", "stock=5", "days=8"], "the run writes 7 days after its 14-day prefix"),
    (["series=FOODS_1_001_CA_1", "stock=5", "days=0"], "days=0 must be at least 1"),
    (["series=FOODS_1_001_CA_1", "stock=5", "service=1.5"], "service=1.5 must be a probability"),
])
def test_stockout_refuses_bad_input_in_one_line_and_writes_nothing(m5_run, argv, says, tmp_path, capsys):
    out = tmp_path / "chart.png"
    assert stockout.main([f"run_dir={m5_run}", *argv, f"out={out}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
    assert not out.exists()


def test_the_generator_keeps_each_series_category_channels(m5_run):
    # Catches: category channels that G rewrites (then demand would not be written given them).
    import jax
    import jax.numpy as jnp

    from gan_jax.training import saved_run
    from gan_jax.training.state import generate
    run = saved_run.load(m5_run)
    series, gan = run.setup.data.series, run.setup.gan
    assert series.static == 6 and run.setup.data.shape == (21, 7)  # 2 departments x 3 stores, units
    windows = series.heldout_windows(6)
    y = gan.pairing.infer(jnp.asarray(windows))
    x = np.asarray(generate(gan, run.member(0), gan.sample_latent(jax.random.PRNGKey(0), 6), y))
    np.testing.assert_array_equal(x[:, :, :6], np.repeat(windows[:, :1, :6], 21, axis=1))
    np.testing.assert_array_equal(x[:, :14], windows[:, :14])  # the prefix, units included


def test_category_channels_need_a_prefix(tmp_path):
    r = subprocess.run([sys.executable, "-m", "gan_jax.train", "data=m5",
                        f"data.root={write_fake_m5(tmp_path / 'sales')}", "data.categories_as_channels=true",
                        "model=rcgan", f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 2 and "set model.prefix_steps" in r.stderr, r.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_conditional_rcgan_writes_whole_series_of_the_asked_departments(tmp_path, m5_run):
    from gan_jax.errors import ConfigError
    from gan_jax.forecasting import gan_paths
    from gan_jax.training import saved_run
    data = write_fake_m5(tmp_path / "sales", days=42)  # 35 days before the final week: 3 windows
    sales = m5.load(str(data))
    r = subprocess.run([sys.executable, "-m", "gan_jax.train", "data=m5", f"data.root={data}",
                        "data.stores=[CA_1,TX_1]", "data.conditional=true", "data.condition_on=dept_id",
                        "data.heldout_fraction=0.5", "model=rcgan", "model.hidden_dim=4", "model.z_dim=2",
                        "trainer.batch_size=4", "trainer.steps=2", "trainer.log_every=2",
                        "trainer.checkpoint_every=2", "trainer.eval_every=2", "trainer.sample_every=2",
                        "trainer.eval_samples=12", "trainer.progress=false",
                        f"hydra.run.dir={tmp_path / 'run'}"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    run = saved_run.load(tmp_path / "run")
    assert run.setup.data.class_names == ("FOODS_1", "HOBBIES_1")
    departments = np.array([0, 1, 1, 0, 1])
    written = gan_paths.written_series(run, 0, departments, seed=3)
    assert written.shape == (5, 21) and written.dtype == np.int64 and (written >= 0).all()
    # G's [0, 1] output unscales into the range of the windows it learnt from (CA_1 and TX_1's)
    learnt = sales.units[sales.info["store_id"].isin(["CA_1", "TX_1"]).to_numpy(), :35]
    assert written.max() <= learnt.max()
    np.testing.assert_array_equal(written, gan_paths.written_series(run, 0, departments, seed=3))
    with pytest.raises(ConfigError, match="whole series are written by"):
        gan_paths.written_series(saved_run.load(m5_run), 0, np.array([0]))

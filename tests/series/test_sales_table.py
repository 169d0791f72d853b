"""`data=sales_table`: a shop's long-format daily sales read as M5's series are, bad files refused
in one line naming the value, and `gan_jax.stockout` on a run trained on one."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from gan_jax import stockout
from gan_jax.data import sales_table
from gan_jax.errors import DataError
from tests.conftest import ROOT


def write_sales(path, days: int = 35, seed: int = 0, drop_zero_days: bool = True):
    """Long rows of 6 products in 2 departments, Poisson days (product k sells about 1 + k a
    day), shuffled across series but in date order within each, with a price column; the days a
    product sold nothing left out, as exports often do. Returns (path, units [6, days])."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-03-01", periods=days, freq="D")
    units = np.stack([rng.poisson(1 + k, days) for k in range(6)])
    rows = [{"sku": f"P{k}", "day": d.strftime("%Y-%m-%d"), "sold": int(units[k, j]),
             "dept": "food" if k < 3 else "toys", "price": 2.5}
            for j, d in enumerate(dates) for k in range(6) if units[k, j] or not drop_zero_days]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path, units


def load(path, **kw):
    return sales_table.load(path, "sku", "day", "sold", kw.pop("category", "dept"), **kw)


def test_a_long_table_becomes_the_dense_daily_units_with_missing_days_as_zero(tmp_path):
    path, units = write_sales(tmp_path / "sales.csv")
    sales = load(path)
    assert sales.ids.tolist() == [f"P{k}" for k in range(6)]
    np.testing.assert_array_equal(sales.units, units)  # the left-out days read 0
    assert sales.days[0] == "2024-03-01" and sales.days[-1] == "2024-04-04" and len(sales.days) == 35
    assert sales.info["dept"].tolist() == ["food"] * 3 + ["toys"] * 3
    assert sales.index("P4") == 4


def test_the_windows_keep_the_final_week_out_as_m5s_do(tmp_path):
    path, units = write_sales(tmp_path / "sales.csv")
    data = sales_table.build({"path": str(path), "id_column": "sku", "date_column": "day",
                              "units_column": "sold", "category_column": "dept", "seq_len": 7,
                              "stride": 7, "final_days": 7, "heldout_fraction": 0.34,
                              "transform": "log1p", "seed": 0, "categories_as_channels": False,
                              "dequantize": False})
    assert data.name == "sales_table" and data.class_names == ("food", "toys")
    windows = np.concatenate([data.series.train, data.series.heldout])[..., 0]
    expected = {tuple(units[k, s:s + 7]) for k in range(6) for s in range(0, 28, 7)}
    assert {tuple(w) for w in windows} == expected


@pytest.mark.parametrize("edit, says", [
    (lambda f: f.assign(sold=f["sold"].where(f.index != 4, -3)), "holds -3 in row 5 (series 'P"),
    (lambda f: f.assign(sold=f["sold"].astype(float).where(f.index != 2, 1.5)), "1.5 in row 3"),
    (lambda f: pd.concat([f, f.iloc[[0]]], ignore_index=True), "two rows on"),
    (lambda f: pd.concat([f, f.iloc[[0]].assign(day="2024-02-01")], ignore_index=True),
     "goes back in time at '2024-02-01'"),
    (lambda f: f.assign(day=f["day"].where(f.index != 1, "yesterday")), "holds 'yesterday' in row 2"),
    (lambda f: f.assign(dept=f["dept"].where(f.index != 12, "garden")), "changes category column 'dept'"),
    (lambda f: f.drop(columns="sold"), "data.units_column names 'sold', which is not a column"),
    (lambda f: f[(f["sku"] != "P5") | (f["day"] < "2024-03-04")], "series 'P5' has rows over 3 days, "
     "fewer than data.seq_len=7"),
])
def test_bad_files_are_refused_naming_the_value(tmp_path, edit, says):
    path, _ = write_sales(tmp_path / "sales.csv", drop_zero_days=False)
    edit(pd.read_csv(path)).to_csv(path, index=False)
    with pytest.raises(DataError) as e:
        load(path, min_days=7)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_stockout_reads_a_run_trained_on_a_sales_table(tmp_path, capsys):
    path, _ = write_sales(tmp_path / "sales.csv", days=56)
    run_dir = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "gan_jax.train", "data=sales_table", f"data.path={path}",
                        "data.id_column=sku", "data.date_column=day", "data.units_column=sold",
                        "data.category_column=dept", "data.categories_as_channels=true",
                        "data.heldout_fraction=0.34", "model=rcgan", "model.prefix_steps=14",
                        "model.hidden_dim=4", "model.z_dim=2", "trainer.batch_size=8", "trainer.steps=2",
                        "trainer.log_every=2", "trainer.checkpoint_every=2", "trainer.eval_every=2",
                        "trainer.sample_every=2", "trainer.eval_samples=12", "trainer.progress=false",
                        f"hydra.run.dir={run_dir}"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    out = tmp_path / "p3.png"
    assert stockout.main([f"run_dir={run_dir}", "series=P3", "stock=30", "days=7", "paths=50",
                          f"out={out}"]) == 0
    printed = capsys.readouterr().out
    assert "P3, the 7 days after 2024-04-25" in printed and "P(demand > 30)" in printed
    assert out.is_file()
    assert stockout.main([f"run_dir={run_dir}", "series=P9", "stock=3"]) == 2
    assert "series=P9 is not a series of" in capsys.readouterr().err

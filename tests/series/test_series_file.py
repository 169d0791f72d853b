"""data=series_file: a user's long-format series file cut into windows, held out by series id,
min-max scaled as TimeGAN does; bad files refused in one line naming the column, series and row."""

import logging
import pathlib

import numpy as np
import pandas as pd
import pytest

from gan_jax import sample as sample_cli
from gan_jax.config.validate import validate
from gan_jax.data import series_file
from gan_jax.errors import ConfigError, DataError
from gan_jax.metrics import evaluator as evaluator_lib
from gan_jax.training.loop import train
from tests.conftest import make_cfg
from tests.test_train_cli import run_cli

# TimeGAN at the sizes of TINY_SERIES, on a file: 2 autoencoder steps, 2 supervised, 6 joint.
TINY_TIMEGAN = ["model=timegan", "model.hidden_dim=4", "model.num_layers=2",
                "model.autoencoder_steps=2", "model.supervised_steps=2", "trainer.batch_size=8"]
SHORT = ["trainer.steps=10", "trainer.log_every=10", "trainer.sample_every=10",
         "trainer.eval_every=10", "trainer.checkpoint_every=10", "trainer.eval_samples=10",
         "trainer.progress=false"]


def demand(n_series: int = 8, steps: int = 20) -> pd.DataFrame:
    """Daily demand of n stores, rows shuffled: demand = 100 * store + day tells each value's
    store and day apart; price varies; region is static per store; name is text."""
    rows = [{"store": f"s{s}", "day": t, "demand": 100.0 * s + t, "price": 1.0 + 0.1 * ((s + t) % 5),
             "region": "north" if s % 2 else "south", "name": f"shop {s}"}
            for s in range(n_series) for t in range(steps)]
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)


def settings(path, **changes) -> dict:
    """series_file.build's arguments: id store, time day, features found, no category."""
    return {"path": path, "id_column": "store", "time_column": "day", "feature_columns": [],
            "category_column": None, "seq_len": 3, "stride": 1, "heldout_fraction": 0.25,
            "seed": 0, **changes}


def file_overrides(path) -> list[str]:
    """The command line of a tiny series_file run (seq_len 6) on `path`."""
    return ["data=series_file", f"data.path={path}", "data.id_column=store",
            "data.time_column=day", "data.seq_len=6", *TINY_TIMEGAN]


def write(frame: pd.DataFrame, tmp_path, name: str = "demand.csv") -> pathlib.Path:
    path = tmp_path / name
    frame.to_parquet(path, index=False) if name.endswith(".parquet") else frame.to_csv(path, index=False)
    return path


# ---- windows, order, split and scale on files with a known answer ----


def test_the_windows_are_each_series_cut_in_time_order_every_stride_steps(tmp_path):
    # Three series of 5, 7 and 4 days in shuffled rows, plus one of 2 days (shorter than a window,
    # left out). seq_len 3, stride 2: starts 0, 2 (a: days 0-4), 0, 2, 4 (b), 0 (c: day 3 left over).
    lengths = {"a": 5, "b": 7, "c": 4, "d": 2}
    rows = [{"store": s, "day": t, "demand": 10.0 * i + t, "price": 0.5 * t}
            for i, (s, n) in enumerate(lengths.items()) for t in range(n)]
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=1).reset_index(drop=True)
    data = series_file.build(**settings(write(frame, tmp_path), seq_len=3, stride=2,
                                        heldout_fraction=0.3))
    starts = {"a": [0, 2], "b": [0, 2, 4], "c": [0]}
    first_seen = list(dict.fromkeys(frame["store"]))
    expected = {s: np.array([[[10.0 * i + t, 0.5 * t] for t in range(b, b + 3)] for b in starts[s]])
                for i, s in enumerate(lengths) if s in starts}
    held = {list(lengths)[int(w[0, 0]) // 10] for w in data.series.heldout}
    train = [s for s in first_seen if s in starts and s not in held]
    assert len(held) == 1 and held <= set(starts)  # round(0.3 * 3) = 1 series held out
    np.testing.assert_array_equal(data.series.train, np.concatenate([expected[s] for s in train]))
    np.testing.assert_array_equal(data.series.heldout, expected[held.pop()])
    assert data.shape == (3, 2) and data.series.columns.features == ("demand", "price")


def test_without_a_time_column_rows_keep_the_file_order(tmp_path):
    # Interleaved rows of two series; days written backwards would be reordered by a time column.
    frame = pd.DataFrame({"store": ["a", "b"] * 4, "v": [1.0, 10, 2, 20, 3, 30, 4, 40],
                          "w": [4.0, 3, 2, 1, 0, 1, 2, 3]})
    data = series_file.build(**settings(write(frame, tmp_path), time_column=None, seq_len=4,
                                        heldout_fraction=0.5))
    both = np.concatenate([data.series.train, data.series.heldout])[..., 0]
    assert sorted(map(list, both)) == [[1, 2, 3, 4], [10, 20, 30, 40]]


def test_dates_order_the_rows(tmp_path):
    frame = pd.DataFrame({"store": ["a"] * 3 + ["b"] * 3,
                          "date": ["2024-01-03", "2024-01-01", "2024-01-02"] * 2,
                          "v": [3.0, 1, 2, 30, 10, 20]})
    data = series_file.build(**settings(write(frame, tmp_path), time_column="date", seq_len=3,
                                        heldout_fraction=0.5))
    both = np.concatenate([data.series.train, data.series.heldout])[..., 0]
    assert sorted(map(list, both)) == [[1, 2, 3], [10, 20, 30]]


def test_features_are_min_max_scaled_over_the_training_windows_and_mapped_back(tmp_path):
    data = series_file.build(**settings(write(demand(), tmp_path)))
    x, s = np.asarray(data.arrays["x"]), data.series
    np.testing.assert_allclose(x.min(axis=(0, 1)), 0, atol=1e-6)
    np.testing.assert_allclose(x.max(axis=(0, 1)), 1, atol=1e-5)
    np.testing.assert_allclose(s.unscale(x), s.train, rtol=1e-6)
    np.testing.assert_allclose(s.unscale(s.scale(s.heldout)), s.heldout, rtol=1e-5)
    np.testing.assert_allclose(s.low, s.train.min(axis=(0, 1)))  # the training windows' scale
    assert data.num_examples == 6 * 18 and data.series.heldout.shape == (2 * 18, 3, 2)


def test_held_out_series_are_whole_and_drawn_from_the_seed(tmp_path):
    # Catches: windows of one series on both sides (a leak of its values into the held-out score).
    path = write(demand(n_series=20), tmp_path)

    def stores(windows):
        return {int(v) // 100 for v in windows[:, 0, 0]}

    a, b = (series_file.build(**settings(path, seed=seed)) for seed in (0, 1))
    assert len(stores(a.series.heldout)) == 5 and len(stores(a.series.train)) == 15
    assert not stores(a.series.train) & stores(a.series.heldout)
    assert stores(a.series.heldout) != stores(b.series.heldout)
    assert stores(series_file.build(**settings(path, seed=0)).series.heldout) == stores(a.series.heldout)


def test_the_category_gives_labels_and_every_category_keeps_training_series(tmp_path):
    frame = demand(n_series=6)
    frame.loc[frame["store"] == "s5", "region"] = "east"  # a category of one series: training only
    data = series_file.build(**settings(write(frame, tmp_path), category_column="region",
                                        heldout_fraction=0.5))
    assert data.class_names == ("east", "north", "south")
    y, stores = np.asarray(data.arrays["y"]), data.series.train[:, 0, 0].astype(int) // 100
    region = {s: ("east" if s == 5 else "north" if s % 2 else "south") for s in range(6)}
    assert [data.class_names[label] for label in y] == [region[s] for s in stores]
    # east's one series trains; north (2 series) and south (3) each hold out round(0.5 n) series
    # and keep one.
    assert sorted(region[s] for s in set(stores)) == ["east", "north", "south"]
    assert data.series.columns.categories == ("east", "north", "south")


def test_a_parquet_file_reads_as_its_csv(tmp_path):
    pytest.importorskip("pyarrow")
    frame = demand()
    from_csv = series_file.build(**settings(write(frame, tmp_path)))
    from_parquet = series_file.build(**settings(write(frame, tmp_path, "demand.parquet")))
    np.testing.assert_array_equal(from_csv.series.train, from_parquet.series.train)
    np.testing.assert_array_equal(from_csv.series.heldout, from_parquet.series.heldout)


def test_shorter_series_are_left_out_and_counted(tmp_path, caplog):
    frame = demand(n_series=4)
    frame = frame[(frame["store"] != "s1") | (frame["day"] < 2)]  # s1: 2 days
    with caplog.at_level(logging.WARNING):
        data = series_file.build(**settings(write(frame, tmp_path)))
    assert "1 of 4 series are shorter than data.seq_len=3 steps and are left out: 's1'" in caplog.text
    assert 1 not in {int(v) // 100 for v in np.concatenate([data.series.train, data.series.heldout])[:, 0, 0]}


def test_samples_are_written_in_the_files_columns():
    columns = series_file.Columns("store", "day", ("demand", "price"), "region", ("north", "south"))
    x = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)
    frame = columns.frame(x, labels=np.array([1, 0]))
    assert list(frame.columns) == ["store", "day", "demand", "price", "region"]
    assert frame["store"].tolist() == [0, 0, 0, 1, 1, 1] and frame["day"].tolist() == [0, 1, 2] * 2
    assert frame["demand"].tolist() == x[..., 0].reshape(-1).tolist()
    assert frame["region"].tolist() == ["south"] * 3 + ["north"] * 3


# ---- bad files: one DataError naming the column / series / row and the fix ----


def replace(column, row, value):
    """The frame with one cell changed (row counts data rows from 1, as the messages do)."""
    def change(frame):
        frame = frame.astype({column: object}) if not isinstance(value, float) else frame.copy()
        frame.loc[row - 1, column] = value
        return frame
    return change


def _store(row):
    return demand()["store"].iloc[row - 1]


def _repeat_day(frame):
    """Sorted by store and day, row 2 (s0's day 1) set to day 0."""
    frame = frame.sort_values(["store", "day"]).reset_index(drop=True)
    frame.loc[1, "day"] = 0
    return frame


LAST_DAY = int(np.argmax(demand()["day"].to_numpy() == 19)) + 1  # a row that is not its series' first


BAD = {  # name: (change of demand(), build settings, what the message must say)
    "missing file": (None, {"path": "nowhere.csv"}, ["nowhere.csv does not exist"]),
    "missing id column": (None, {"id_column": "shop"},
                          ["data.id_column names 'shop', which is not a column"]),
    "missing time column": (None, {"time_column": "date"}, ["data.time_column names 'date'"]),
    "missing feature column": (None, {"feature_columns": ["demand", "sales"]},
                               ["data.feature_columns names 'sales'"]),
    "missing value": (replace("demand", 7, np.nan), {},
                      ["column 'demand' has 1 missing", f"row 7 (series '{_store(7)}')", "fill them"]),
    "missing id": (replace("store", 4, np.nan), {},
                   ["column 'store' has 1 missing", "row 4", "every row needs the id of its series"]),
    "non-numeric cell": (replace("price", 12, "12,5"), {},
                         ["feature column 'price' holds '12,5' in row 12", f"(series '{_store(12)}')",
                          "clean the value"]),
    "infinite value": (replace("price", 5, np.inf), {}, ["feature column 'price' holds inf in row 5"]),
    "constant feature": (lambda f: f.assign(price=2.5), {},
                         ["feature column 'price' is 2.5 in every row", "divide by zero",
                          "data.feature_columns without it"]),
    # Each store's price is its own constant: whichever store trains, its feature does not vary.
    "constant in training": (lambda f: f[f["store"].isin(["s0", "s1"])].assign(
        price=lambda g: g["store"].str[1:].astype(float)), {"heldout_fraction": 0.5},
                             ["'price' is", "in every training window", "divide by zero"]),
    "windows longer than every series": (None, {"seq_len": 21},
                                         ["0 of 8 series are at least data.seq_len=21 steps long",
                                          "the longest has 20", "Lower data.seq_len"]),
    "one series long enough": (lambda f: f[(f["store"] == "s3") | (f["day"] < 5)], {"seq_len": 6},
                               ["1 of 8 series is at least data.seq_len=6 steps long", "needs two"]),
    "repeated time": (_repeat_day, {}, ["series 's0' has two rows at time 0 (rows 1 and 2)",
                                        "one row per series and step"]),
    "bad time": (replace("day", 3, "soon"), {},
                 ["time column 'day' holds 'soon' in row 3", "neither a number nor a date"]),
    "changing category": (replace("region", LAST_DAY, "west"), {"category_column": "region"},
                          [f"series '{_store(LAST_DAY)}' changes category column 'region'",
                           f"to 'west' in row {LAST_DAY}", "one value per series"]),
    "id listed as a feature": (None, {"feature_columns": ["demand", "store"]},
                               ["data.feature_columns lists 'store', which is data.id_column"]),
    "id is the time column": (None, {"time_column": "store"},
                              ["data.id_column and data.time_column both name 'store'"]),
    "no numeric feature": (lambda f: f[["store", "day", "name"]], {},
                           ["no column besides 'store', 'day' holds numbers", "data.feature_columns"]),
    "saved row index": (lambda f: f.rename(columns={"name": "Unnamed: 0"}), {},
                        ["column 6 ('Unnamed: 0') has no name", "index=False"]),
    "one series per category": (lambda f: f[f["store"].isin(["s0", "s1"])],
                                {"category_column": "region"}, ["no series can be held out"]),
    "empty file": (lambda f: f.iloc[:0], {}, ["has no rows"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_files_are_refused_in_one_line_naming_the_fault(tmp_path, case):
    change, changes, says = BAD[case]
    frame = change(demand()) if change else demand()
    path = write(frame, tmp_path)
    with pytest.raises(DataError) as caught:
        series_file.build(**settings(**{"path": path, **changes}))
    message = str(caught.value)
    assert "\n" not in message
    for part in says:
        assert part in message, message


def test_conditioning_without_a_category_column_is_refused_before_reading():
    cfg = make_cfg(["data=series_file", "data.path=x.csv", "data.id_column=store",
                    "model=timegan", "data.conditional=true"])
    with pytest.raises(ConfigError, match="data.conditional=true needs the series' categories: "
                                          "name their column in data.category_column"):
        validate(cfg)
    with pytest.raises(ConfigError, match="data.id_column=null must be set: name the column"):
        validate(make_cfg(["data=series_file", "data.path=x.csv", "model=timegan"]))


# ---- runs ----


def test_a_bad_file_exits_2_and_writes_nothing(tmp_path):
    path = write(replace("price", 12, "12,5")(demand()), tmp_path)
    r = run_cli(*file_overrides(path), *SHORT, f"hydra.run.dir={tmp_path / 'run'}")
    assert r.returncode == 2, r.stderr[-2000:]
    assert "feature column 'price' holds '12,5' in row 12" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "run").exists()


def test_timegan_trains_on_a_file_and_samples_in_its_columns(tmp_path, monkeypatch):
    # In-process (the command line's wiring is proven by the refusal above): the run goes
    # through every phase and gan_jax.sample writes the file's columns. The evaluator is left
    # out: it only reads `Dataset.series`, whose contract the tests above check, and its
    # classifiers would double this test's time (tests/series/test_scores.py covers them).
    monkeypatch.setattr(evaluator_lib, "build", lambda *args: None)
    frame = demand()
    path = write(frame, tmp_path)
    run_dir = tmp_path / "run"
    summary = train(make_cfg([*file_overrides(path), *SHORT]), run_dir)
    assert summary["status"] == "completed" and "d/loss" in summary["metrics"]  # the joint phase ran
    assert sample_cli.main([f"run_dir={run_dir}", "n=4"]) == 0
    written = pd.read_csv(run_dir / "samples" / "step10_n4.csv")
    assert list(written.columns) == ["store", "day", "demand", "price"] and len(written) == 4 * 6
    assert written["store"].tolist() == list(np.repeat(np.arange(4), 6))
    for column in ("demand", "price"):  # G's [0, 1] mapped back to the training windows' range
        real = frame[column]
        assert real.min() - 1e-3 <= written[column].min() and written[column].max() <= real.max() + 1e-3
    # The samples read back as a series file with the run's own settings.
    again = series_file.read_series(run_dir / "samples" / "step10_n4.csv", "store", "day", [], None)
    assert len(again.ids) == 4 and again.values[0].shape == (6, 2)

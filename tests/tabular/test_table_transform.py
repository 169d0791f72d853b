import json

import numpy as np
import pandas as pd
import pytest

from gan_jax.data.table_transform import TableTransform
from gan_jax.errors import DataError

DISCRETE = ["city", "segment", "flag"]


def make_table(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Every kind of column the transform handles, in a mixed order."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "bimodal": np.where(rng.random(n) < 0.4, rng.normal(0, 1, n), rng.normal(100, 1, n)),
        "city": rng.choice(["paris", "lyon", "nice"], n),
        "normal": rng.normal(50, 5, n),
        "spend": rng.exponential(20.0, n).astype(np.float32),  # non-negative, skewed
        "segment": rng.choice([3, 1, 7], n),
        "orders": rng.poisson(4, n).astype(np.int64),
        "flag": rng.random(n) < 0.3,
    })


@pytest.fixture(scope="module")
def table():
    return make_table()


@pytest.fixture(scope="module")
def transform(table):
    return TableTransform.fit(table, DISCRETE, seed=0)


def spec(transform, name):
    return next(s for s in transform.specs if s.name == name)


def test_round_trip(table, transform):
    x = transform.encode(table, seed=1)
    assert x.dtype == np.float32 and x.shape == (len(table), transform.width)
    back = transform.decode(x)
    for name in DISCRETE + ["orders"]:  # categories and integers come back exactly
        pd.testing.assert_series_equal(back[name], table[name])
    for name in ("bimodal", "normal", "spend"):
        s = spec(transform, name)
        start = next(sp.start for sp in transform.spans if sp.column == name and sp.role == "scalar")
        alpha = x[:, start]
        mode = x[:, start + 1:start + 1 + len(s.means)].argmax(1)
        unclipped = np.abs(alpha) < 0.99
        # Only values over 3.96 sigma from every mode are clipped: a handful at most.
        assert unclipped.mean() > 0.999, name
        err = np.abs(back[name].to_numpy(np.float64) - table[name].to_numpy(np.float64))
        scale = np.asarray(s.stds)[mode]
        assert (err[unclipped] <= 1e-5 * scale[unclipped] + 1e-5 * np.abs(table[name])[unclipped]).all(), name


def test_bimodal_column_has_a_mode_at_each_peak(transform):
    s = spec(transform, "bimodal")
    assert len(s.means) == 2
    np.testing.assert_allclose(s.means, [0, 100], atol=0.15)
    np.testing.assert_allclose(s.stds, [1, 1], rtol=0.1)
    np.testing.assert_allclose(s.weights, [0.4, 0.6], atol=0.03)


def test_single_gaussian_keeps_one_mode(transform):
    s = spec(transform, "normal")
    assert s.weights == (1.0,)
    np.testing.assert_allclose(s.means, [50], atol=0.5)
    np.testing.assert_allclose(s.stds, [5], rtol=0.05)


def test_decode_of_any_floats_is_a_valid_table(table, transform):
    x = np.random.default_rng(0).normal(0, 3, (500, transform.width))
    back = transform.decode(x)
    assert list(back.columns) == list(table.columns)
    assert back.dtypes.to_dict() == table.dtypes.to_dict()
    for name in DISCRETE:
        assert set(back[name]) <= set(table[name])
        assert transform.categories(name) == tuple(sorted(set(table[name])))
    for name in ("bimodal", "normal", "spend", "orders"):
        assert back[name].min() >= table[name].min() and back[name].max() <= table[name].max(), name
    assert back["spend"].min() >= 0  # clipped to the fitted range: never negative
    # A scalar at the tanh bound gives mu +- 4 sigma of its mode, clipped to the fitted range.
    ends = {}
    for sign, mode in ((1.0, -1), (-1.0, 0)):  # the top of the highest mode, the bottom of the lowest
        x = np.zeros((1, transform.width))
        for sp in transform.spans:
            x[0, sp.start + (sp.width - 1 if mode == -1 else 0)] = sign if sp.role == "scalar" else 1.0
        ends[sign] = back = transform.decode(x)
        for name in ("bimodal", "normal", "spend"):
            s = spec(transform, name)
            end = np.clip(s.means[mode] + sign * 4 * s.stds[mode], s.low, s.high)
            np.testing.assert_allclose(back[name][0], end, rtol=1e-6)
    assert ends[-1.0]["spend"][0] == table["spend"].min() >= 0  # clipped: never negative
    assert ends[1.0]["bimodal"][0] == table["bimodal"].max()


def test_to_dict_round_trips_through_json(table, transform):
    restored = TableTransform.from_dict(json.loads(json.dumps(transform.to_dict())))
    assert restored == transform
    assert restored.categories("segment") == (1, 3, 7) and restored.categories("flag") == (False, True)
    assert [type(v) for v in restored.categories("city")] == [str] * 3
    x = np.random.default_rng(1).normal(size=(200, transform.width))
    pd.testing.assert_frame_equal(restored.decode(x), transform.decode(x))
    np.testing.assert_array_equal(restored.encode(table, seed=3), transform.encode(table, seed=3))


def test_spans_tile_the_row(transform):
    assert transform.spans[0].start == 0
    for a, b in zip(transform.spans, transform.spans[1:]):
        assert b.start == a.start + a.width
    assert sum(sp.width for sp in transform.spans) == transform.width
    kinds = {(sp.role, sp.activation) for sp in transform.spans}
    assert kinds == {("scalar", "tanh"), ("mode", "softmax"), ("category", "softmax")}
    assert all(sp.width == 1 for sp in transform.spans if sp.role == "scalar")
    assert [sp.column for sp in transform.spans if sp.role != "mode"] == list(transform.columns)
    assert transform.discrete == tuple(DISCRETE)
    offsets = transform.option_offsets()
    assert [name for name, _, _ in offsets] == DISCRETE
    for name, start, size in offsets:
        assert size == len(transform.categories(name))
        assert spec(transform, name).values == transform.categories(name)
        assert any(sp.start == start and sp.width == size and sp.role == "category" for sp in transform.spans)


def test_same_seed_same_result(table, transform):
    again = TableTransform.fit(table, DISCRETE, seed=0)
    assert again.to_dict() == transform.to_dict()
    np.testing.assert_array_equal(again.encode(table, seed=5), transform.encode(table, seed=5))


def test_constant_and_tiny_columns():
    df = pd.DataFrame({"const": np.full(40, 2.5), "two": np.arange(40) % 2, "x": np.linspace(0, 1, 40)})
    t = TableTransform.fit(df, [], max_modes=3)
    assert spec(t, "const").means == (2.5,)
    assert len(spec(t, "two").means) == 2  # one spike mode per value
    back = t.decode(t.encode(df))
    pd.testing.assert_frame_equal(back[["const", "two"]], df[["const", "two"]])
    np.testing.assert_allclose(back["x"], df["x"], atol=1e-6)


def test_bad_columns_are_named():
    df = make_table(50)
    with pytest.raises(DataError, match="'region'"):
        TableTransform.fit(df, ["city", "region"])
    t = TableTransform.fit(df[["city"]], ["city"])
    with pytest.raises(DataError, match="'city'.*'rome'"):
        t.encode(pd.DataFrame({"city": ["paris", "rome"]}))

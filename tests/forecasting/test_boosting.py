"""Pooled quantile boosting on Poisson series whose rate its ids give away (slow: 12 boosting fits,
a minute and a half on 2 cores)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gan_jax.forecasting import boosting


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    rates = {"A": 1.0, "B": 4.0, "C": 10.0}
    cats = rng.choice(list(rates), 150)
    lam = np.array([rates[c] for c in cats])
    history = rng.poisson(lam[:, None], (150, 28))
    forecast = boosting.fit_predict(history, pd.DataFrame({"cat_id": cats}), horizon=7, max_iter=30,
                                    learning_rate=0.3, levels=(0.05, 0.25, 0.5, 0.75, 0.9, 0.95))
    return lam, forecast


@pytest.mark.slow
def test_quantile_boosting_finds_the_poisson_quantiles_of_each_category(fitted):
    lam, f = fitted
    for rate in (1.0, 4.0, 10.0):
        rows = lam == rate
        median = np.median(f.quantiles([0.5])[rows, :, 0])
        assert abs(median - stats.poisson.ppf(0.5, rate)) <= 1
        total_90 = np.median(f.order_up_to(0.9)[rows])
        assert abs(total_90 - stats.poisson.ppf(0.9, 7 * rate)) <= 0.15 * 7 * rate + 1


@pytest.mark.slow
def test_its_stockout_probabilities_follow_the_true_ones(fitted):
    lam, f = fitted
    # one stock for all: nearly never short at rate 1, about half the time at 4, nearly always at 10
    true = stats.poisson.sf(28, 7 * lam)
    p = f.total_exceeds(np.full(len(lam), 28))
    assert np.abs(p - true).mean() < 0.15
    by_rate = [p[lam == rate].mean() for rate in (1.0, 4.0, 10.0)]
    assert by_rate[0] < 0.1 < by_rate[1] < 0.9 < by_rate[2]
    assert (np.diff(f.total, axis=1) >= 0).all() and (f.daily >= 0).all()


def test_learning_from_other_series_is_the_same_model_when_they_are_the_forecast_series():
    rng = np.random.default_rng(1)
    history = rng.poisson(3.0, (40, 21))
    ids = pd.DataFrame({"cat_id": rng.choice(["A", "B"], 40)})
    kw = {"horizon": 7, "max_iter": 5, "levels": (0.1, 0.5, 0.9), "seed": 3}
    alone = boosting.fit_predict(history, ids, **kw)
    learnt_from = boosting.fit_predict(history, ids, train=(history.copy(), ids.copy()), **kw)
    np.testing.assert_array_equal(alone.daily, learnt_from.daily)
    np.testing.assert_array_equal(alone.total, learnt_from.total)
    # other series: forecasts for series it never saw, by ids coded as in the series it learnt from
    other = boosting.fit_predict(history[:5], ids.iloc[:5].reset_index(drop=True),
                                 train=(history[5:], ids.iloc[5:].reset_index(drop=True)), **kw)
    assert other.daily.shape == (5, 7, 3) and np.isfinite(other.total).all()
    with pytest.raises(ValueError, match="must cover the same days"):
        boosting.fit_predict(history, ids, train=(history[:, :14], ids), **kw)


def test_max_origins_learns_from_the_latest_origins_only():
    rng = np.random.default_rng(2)
    history = rng.poisson(3.0, (30, 60))
    ids = pd.DataFrame({"cat_id": rng.choice(["A", "B"], 30)})
    kw = {"horizon": 7, "max_iter": 5, "levels": (0.5,), "seed": 0, "max_origins": 2}
    early_changed = history.copy()
    early_changed[:, :20] = 40  # before every feature of origins 52 and 53 and of the forecast
    a, b = boosting.fit_predict(history, ids, **kw), boosting.fit_predict(early_changed, ids, **kw)
    np.testing.assert_array_equal(a.daily, b.daily)
    np.testing.assert_array_equal(a.total, b.total)

"""The demand baselines and their scores on series whose answer is known."""

import numpy as np
import pytest
from scipy import stats

from gan_jax.forecasting import baselines
from gan_jax.forecasting.forecast import CountForecast, SampleForecast
from gan_jax.metrics import demand


@pytest.fixture(scope="module")
def poisson_history():
    """200 series of 400 Poisson days, rates 0.5 to 8."""
    rates = np.linspace(0.5, 8, 200)
    return rates, np.random.default_rng(0).poisson(rates[:, None], (200, 400))


def test_the_negative_binomial_recovers_a_poisson_mean_and_little_overdispersion(poisson_history):
    rates, history = poisson_history
    f = baselines.negative_binomial(history, horizon=7)
    assert np.abs(f.mean[:, 0] - rates).max() < 4 * np.sqrt(rates.max() / 400)
    # Poisson data: r is infinite (no excess variance) or large enough for nearly Poisson quantiles
    poisson_q = stats.poisson.ppf(0.9, f.mean[:, :1])
    agree = (f.quantiles([0.9])[:, :1, 0] == poisson_q).mean()
    assert agree > 0.9


def test_overdispersed_series_get_their_dispersion_back():
    # NB(r = 2, mean 5): variance 5 + 25 / 2
    rng = np.random.default_rng(1)
    history = rng.poisson(rng.gamma(2.0, 5 / 2.0, (100, 2000)))
    f = baselines.negative_binomial(history, horizon=7)
    assert np.median(f.dispersion) == pytest.approx(2.0, rel=0.1)
    assert np.median(f.mean[:, 0]) == pytest.approx(5.0, rel=0.05)


def test_count_forecasts_answer_exactly():
    f = CountForecast(np.full((1, 7), 2.0), np.array([np.inf]))
    assert f.order_up_to(0.95)[0] == stats.poisson.ppf(0.95, 14)
    assert f.total_exceeds(16)[0] == pytest.approx(stats.poisson.sf(16, 14))
    nb = CountForecast(np.full((1, 7), 2.0), np.array([3.0]))
    # the week's total of NB(r = 3, mean 2) days is NB(r = 21, mean 14)
    assert nb.total_exceeds(16)[0] == pytest.approx(stats.nbinom.sf(16, 21, 21 / 35))
    assert nb.quantiles([0.5])[0, 0, 0] == stats.nbinom.ppf(0.5, 3, 3 / 5)
    paths = nb.sample(0, 20000)
    assert paths.shape == (1, 20000, 7)
    assert paths.sum(axis=2).var() == pytest.approx(14 + 14 ** 2 / 21, rel=0.05)


def test_sampled_forecasts_agree_with_the_exact_ones_they_were_drawn_from():
    exact = CountForecast(np.full((3, 7), [[0.5], [2.0], [6.0]]), np.array([np.inf, 2.0, 5.0]))
    sampled = SampleForecast(exact.sample(1, 40000))
    np.testing.assert_allclose(sampled.total_exceeds(10), exact.total_exceeds(10), atol=0.01)
    np.testing.assert_array_equal(sampled.order_up_to(0.95), exact.order_up_to(0.95))


def test_intermittent_methods_on_a_regular_series():
    # 3 units every third day: size 3, interval 3, rate 1 per day
    history = np.tile([0, 0, 3], 30)[None].astype(float)
    assert baselines.croston(history, 7, alpha=0.2).mean[0, 0] == pytest.approx(1.0)
    assert baselines.sba(history, 7, alpha=0.2).mean[0, 0] == pytest.approx(0.9)
    # TSB: the demand probability smooths towards 1/3 (it ends a demand day, so above it)
    rate = baselines.tsb(history, 7, alpha=0.2, beta=0.05).mean[0, 0]
    assert 0.9 < rate < 1.2
    never = np.zeros((1, 30))
    for name in ("croston", "sba", "tsb", "poisson", "negative_binomial"):
        assert baselines.FORECASTERS[name](never, 7).mean.max() == 0


def test_seasonal_naive_repeats_a_perfectly_weekly_series():
    week = np.array([1, 2, 3, 4, 5, 6, 7], float)
    f = baselines.seasonal_naive(np.tile(week, 4)[None], horizon=7, samples=50)
    assert (f.paths == week).all()  # every seasonal difference is 0
    with pytest.raises(ValueError, match="two seasons"):
        baselines.seasonal_naive(np.ones((1, 10)), 7)


def test_pinball_crps_and_brier_on_known_values():
    levels = [0.9]
    assert demand.pinball([[3.0]], [[[2.0]]], levels)[0] == pytest.approx(0.9)
    assert demand.pinball([[3.0]], [[[4.0]]], levels)[0] == pytest.approx(0.1)
    # a point forecast: CRPS is the absolute error
    point = CountForecast(np.zeros((1, 1)), np.array([np.inf]))
    assert demand.crps([[3.0]], point)[0] == pytest.approx(3.0)
    assert demand.m5_scale([[0, 0, 2, 4, 1]])[0] == pytest.approx((2 + 3) / 2)
    assert demand.coverage([[1, 5]], [[0, 0]], [[2, 2]]) == 0.5


def test_the_brier_score_of_the_true_probabilities_is_the_lowest():
    rng = np.random.default_rng(2)
    rates = rng.uniform(0.2, 6, 20000)
    truth = CountForecast(np.repeat(rates[:, None], 7, axis=1), np.full(len(rates), np.inf))
    stock = np.ceil(7 * rates)
    happened = rng.poisson(7 * rates) > stock
    best = demand.brier(truth.total_exceeds(stock), happened)
    for wrong in (rates * 0.8, rates * 1.25):
        off = CountForecast(np.repeat(wrong[:, None], 7, axis=1), np.full(len(rates), np.inf))
        assert demand.brier(off.total_exceeds(stock), happened) > best
    assert demand.brier(np.full(len(rates), happened.mean()), happened) > best

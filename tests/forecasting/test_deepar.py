"""DeepAR-NB: its likelihood against scipy's, and what it learns from Poisson series."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from gan_jax.forecasting.deepar import DeepAR, nb_log_prob


def test_the_negative_binomial_log_likelihood_is_scipys():
    y, mean, alpha = np.array([0.0, 3.0, 12.0]), np.array([2.0, 2.5, 9.0]), np.array([0.5, 0.1, 2.0])
    r = 1 / alpha
    np.testing.assert_allclose(nb_log_prob(jnp.asarray(y), jnp.asarray(mean), jnp.asarray(alpha)),
                               stats.nbinom.logpmf(y, r, r / (r + mean)), rtol=1e-5)


def test_deepar_learns_the_rates_of_poisson_series_by_category():
    rng = np.random.default_rng(0)
    categories = np.arange(60) % 3
    rates = np.array([1.0, 4.0, 12.0])[categories]
    history = rng.poisson(rates[:, None], (60, 70))
    model = DeepAR(context=7, horizon=7, hidden=16, steps=400, batch_size=64, learning_rate=1e-2)
    f = model.fit(history, categories).forecast(samples=200)
    assert f.paths.shape == (60, 200, 7)
    for c, rate in enumerate((1.0, 4.0, 12.0)):
        mean = f.paths[categories == c].mean()
        assert mean == pytest.approx(rate, rel=0.15), (c, mean)
    assert np.mean(model.losses[-50:]) < np.mean(model.losses[:50])

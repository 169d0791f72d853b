"""The simple demand forecasters a GAN must beat, each fitted to history [N, T] (units per day) and
returning the predictive distribution of the next `horizon` days (forecast.py).

poisson             Poisson days at each series' mean over the last `window` days
negative_binomial   the same mean; dispersion r per series by the method of moments over the window
                    (var = m + m^2 / r), Poisson where the window is not over-dispersed
croston, sba, tsb   intermittent demand (Croston 1972; Syntetos & Boylan 2005's bias correction;
                    Teunter, Syntetos & Babai 2011): exponential smoothing of the non-zero demand
                    sizes and of the intervals between them (Croston, SBA = Croston x (1 - alpha/2))
                    or of the probability of a demand (TSB); their rate per day, as Poisson days
seasonal_naive      each day as the same weekday a season ago plus a seasonal difference of the
                    series' own history drawn at random (empirical quantiles), floored at 0:
                    sampled paths

Tuning (window, alpha, beta) belongs to the caller, on validation days only.
"""

from __future__ import annotations

import numpy as np

from gan_jax.forecasting.forecast import CountForecast, SampleForecast


def _history(history) -> np.ndarray:
    h = np.asarray(history, np.float64)
    if h.ndim != 2 or h.shape[1] == 0:
        raise ValueError(f"history must be [series, days] with at least one day, got shape {h.shape}")
    if (h < 0).any() or not np.isfinite(h).all():
        raise ValueError("history must hold finite, non-negative units")
    return h


def _constant(rate: np.ndarray, horizon: int, dispersion=None) -> CountForecast:
    mean = np.repeat(np.maximum(rate, 0.0)[:, None], horizon, axis=1)
    r = np.full(len(rate), np.inf) if dispersion is None else dispersion
    return CountForecast(mean, r)


def _window(history, window: int | None) -> np.ndarray:
    """The last `window` days of the history (all of it for None)."""
    h = _history(history)
    return h[:, -window:] if window else h


def poisson(history, horizon: int, window: int | None = None) -> CountForecast:
    return _constant(_window(history, window).mean(axis=1), horizon)


def negative_binomial(history, horizon: int, window: int | None = None) -> CountForecast:
    h = _window(history, window)
    mean, var = h.mean(axis=1), h.var(axis=1, ddof=1) if h.shape[1] > 1 else np.zeros(len(h))
    excess = var - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(excess > 1e-12, mean ** 2 / excess, np.inf)
    r = np.where(mean > 0, r, np.inf)
    return _constant(mean, horizon, r)


def _croston_parts(h: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed demand size z and interval p per series (initialised at the first demand and
    the days up to it), updated at each non-zero day; rate z / p. Series with no demand: z = 0."""
    n, t = h.shape
    z, p = np.zeros(n), np.ones(n)
    started = np.zeros(n, bool)
    since = np.zeros(n)
    for day in range(t):
        since += 1
        demand = h[:, day] > 0
        first = demand & ~started
        z = np.where(first, h[:, day], z)
        p = np.where(first, since, p)
        update = demand & started
        z = np.where(update, z + alpha * (h[:, day] - z), z)
        p = np.where(update, p + alpha * (since - p), p)
        started |= demand
        since = np.where(demand, 0, since)
    return z, p


def croston(history, horizon: int, alpha: float = 0.1) -> CountForecast:
    z, p = _croston_parts(_history(history), alpha)
    return _constant(z / p, horizon)


def sba(history, horizon: int, alpha: float = 0.1) -> CountForecast:
    z, p = _croston_parts(_history(history), alpha)
    return _constant((1 - alpha / 2) * z / p, horizon)


def tsb(history, horizon: int, alpha: float = 0.1, beta: float = 0.1) -> CountForecast:
    """Demand probability d smoothed every day (beta), size z at demand days (alpha); rate d z.
    Initialised at the history's first day's demand indicator and its mean non-zero size."""
    h = _history(history)
    nonzero = h > 0
    counts = nonzero.sum(axis=1)
    z = np.where(counts > 0, (h * nonzero).sum(axis=1) / np.maximum(counts, 1), 0.0)
    d = nonzero[:, 0].astype(np.float64)
    for day in range(h.shape[1]):
        demand = nonzero[:, day]
        d = d + beta * (demand - d)
        z = np.where(demand, z + alpha * (h[:, day] - z), z)
    return _constant(d * z, horizon)


def seasonal_naive(history, horizon: int, season: int = 7, samples: int = 1000,
                   seed: int = 0) -> SampleForecast:
    h = _history(history)
    n, t = h.shape
    if t < 2 * season:
        raise ValueError(f"seasonal naive needs at least two seasons of history ({2 * season} days), "
                         f"got {t}")
    point = np.stack([h[:, t - season + (k % season)] for k in range(horizon)], axis=1)  # [N, h]
    differences = h[:, season:] - h[:, :-season]  # [N, t - season]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, differences.shape[1], (n, samples, horizon))
    paths = point[:, None, :] + differences[np.arange(n)[:, None, None], pick]
    return SampleForecast(np.maximum(paths, 0).round().astype(np.int32))


FORECASTERS = {"poisson": poisson, "negative_binomial": negative_binomial, "croston": croston,
               "sba": sba, "tsb": tsb, "seasonal_naive": seasonal_naive}

"""Predictive distributions of the next h days' demand of N series, in the two forms forecasters
give them, with the same questions asked of both:

    quantiles(levels)           [N, h, Q] daily demand quantiles (M5's scaled pinball loss)
    total_exceeds(stock)        [N] P(demand over the h days > stock): running out of `stock`
    order_up_to(service)        [N] the smallest stock s with P(total demand <= s) >= service

CountForecast  independent Poisson or negative-binomial days with a mean per series and day and a
               dispersion per series (r; infinite = Poisson); the total of days with one mean is
               negative binomial again (r h, the same p), so every answer is exact. Used by the
               count baselines and the intermittent-demand methods.
SampleForecast S sampled demand paths per series [N, S, h] (a GAN's, a bootstrap's): every
               answer is the paths' empirical one.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats


@dataclasses.dataclass(frozen=True)
class CountForecast:
    mean: np.ndarray        # [N, h] expected demand per day (>= 0)
    dispersion: np.ndarray  # [N] negative-binomial r (variance mean + mean^2 / r); inf: Poisson

    def _day(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = np.broadcast_to(self.dispersion[:, None], self.mean.shape)
        return self.mean, r, np.isinf(r)

    def quantiles(self, levels) -> np.ndarray:
        mean, r, poisson = self._day()
        levels = np.asarray(levels, np.float64)
        out = np.empty((*mean.shape, len(levels)))
        for k, q in enumerate(levels):
            out[..., k] = np.where(poisson, stats.poisson.ppf(q, mean),
                                   _nbinom(stats.nbinom.ppf, q, mean, r))
        return np.nan_to_num(out)  # ppf at a zero mean is nan in scipy: demand 0

    def _total(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and r of the h-day total: sum of the days' means, and r h when the days share one
        mean (the negative-binomial sum); for days with different means, r matched to the total's
        variance (sum of the days' variances), which the sum of equal-mean days reproduces."""
        mean, r, _ = self._day()
        total = mean.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            variance_excess = (mean ** 2 / r).sum(axis=1)  # 0 for Poisson days
            total_r = np.where(variance_excess > 0, total ** 2 / variance_excess, np.inf)
        return total, total_r

    def total_exceeds(self, stock) -> np.ndarray:
        total, r = self._total()
        stock = np.broadcast_to(np.asarray(stock, np.float64), total.shape)
        below = np.where(np.isinf(r), stats.poisson.cdf(stock, total),
                         _nbinom(stats.nbinom.cdf, stock, total, r))
        return 1.0 - np.nan_to_num(below, nan=1.0)

    def order_up_to(self, service: float) -> np.ndarray:
        total, r = self._total()
        level = np.where(np.isinf(r), stats.poisson.ppf(service, total),
                         _nbinom(stats.nbinom.ppf, service, total, r))
        return np.nan_to_num(level)

    def sample(self, key: int, n: int) -> np.ndarray:
        """[N, n, h] demand paths drawn from the forecast (seeded): Poisson days, or Poisson days
        at a gamma-distributed rate (shape r, mean `mean`) for negative-binomial ones."""
        rng = np.random.default_rng(key)
        mean, r, poisson = self._day()
        rate = np.repeat(mean[:, None], n, axis=1)
        nb = np.repeat(~poisson[:, None], n, axis=1)
        if nb.any():
            shape = np.where(nb, np.repeat(r[:, None], n, axis=1), 1.0)
            rate = np.where(nb, rng.gamma(shape, rate / shape), rate)
        return rng.poisson(rate)


def _nbinom(fn, x, mean, r):
    """scipy's negative binomial in (mean, r): p = r / (r + mean)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return fn(x, r, r / (r + mean))


@dataclasses.dataclass(frozen=True)
class SampleForecast:
    paths: np.ndarray  # [N, S, h] sampled daily demand

    def quantiles(self, levels) -> np.ndarray:
        return np.moveaxis(np.quantile(self.paths, levels, axis=1, method="inverted_cdf"), 0, -1)

    def total_exceeds(self, stock) -> np.ndarray:
        total = self.paths.sum(axis=2)
        return (total > np.asarray(stock, np.float64)[..., None]).mean(axis=1)

    def order_up_to(self, service: float) -> np.ndarray:
        return np.quantile(self.paths.sum(axis=2), service, axis=1, method="inverted_cdf")

    def sample(self, key: int, n: int) -> np.ndarray:
        rng = np.random.default_rng(key)
        return self.paths[:, rng.integers(0, self.paths.shape[1], n)]

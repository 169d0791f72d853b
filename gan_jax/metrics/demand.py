"""Scores of demand forecasts against the units actually sold (lower is better, except coverage):

    pinball       mean over days and levels of the quantile loss: tau (y - q) when y >= q, else
                  (1 - tau) (q - y); per series [N]
    scaled_pinball  pinball / the series' scale, M5's scaled pinball loss (SPL) with its scale: the
                  mean absolute first difference of the series' history (from its first sale)
    coverage      share of actual days inside [lower, upper]
    crps          the continuous ranked probability score, as 2 x the mean pinball loss over
                  the levels 0.01, ..., 0.99 (their integral approximated on that grid)
    brier         mean (p - outcome)^2 of stockout probabilities against whether it happened
M5_QUANTILES are the nine levels M5 Uncertainty scored.
"""

from __future__ import annotations

import numpy as np

M5_QUANTILES = (0.005, 0.025, 0.165, 0.25, 0.5, 0.75, 0.835, 0.975, 0.995)
CRPS_LEVELS = tuple(np.round(np.arange(1, 100) / 100, 2))


def pinball(actual, quantiles, levels) -> np.ndarray:
    """actual [N, h], quantiles [N, h, Q] at `levels` [Q] -> [N] mean pinball loss."""
    y = np.asarray(actual, np.float64)[..., None]
    q, tau = np.asarray(quantiles, np.float64), np.asarray(levels, np.float64)
    loss = np.where(y >= q, tau * (y - q), (1 - tau) * (q - y))
    return loss.mean(axis=(1, 2))


def m5_scale(history) -> np.ndarray:
    """[N] mean absolute first difference of each history from its first non-zero day (M5's
    convention); NaN for a series with fewer than two days from there on or no sale at all."""
    h = np.asarray(history, np.float64)
    out = np.full(len(h), np.nan)
    for i, row in enumerate(h):
        nonzero = np.flatnonzero(row)
        if len(nonzero) and len(row) - nonzero[0] > 1:
            out[i] = np.abs(np.diff(row[nonzero[0]:])).mean()
    return out


def scaled_pinball(actual, quantiles, levels, history) -> np.ndarray:
    """[N] pinball / m5_scale(history); NaN where the scale is 0 or undefined (leave those out,
    as M5 did for series without sales)."""
    scale = m5_scale(history)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, pinball(actual, quantiles, levels) / scale, np.nan)


def coverage(actual, lower, upper) -> float:
    y = np.asarray(actual, np.float64)
    return float(np.mean((y >= lower) & (y <= upper)))


def crps(actual, forecast) -> np.ndarray:
    """[N] CRPS per day averaged over the days, from the forecast's quantiles."""
    return 2.0 * pinball(actual, forecast.quantiles(CRPS_LEVELS), CRPS_LEVELS)


def brier(probabilities, happened) -> float:
    p = np.asarray(probabilities, np.float64)
    return float(np.mean((p - np.asarray(happened, np.float64)) ** 2))

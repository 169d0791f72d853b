"""Everything the study reports about one forecaster's predictive distributions for one target
week, against the units actually sold (gan_jax/metrics/demand.py for the formulas).

    spl            mean over series of M5's scaled pinball loss at its nine quantiles (series whose
                   history has no sale or no change are left out, and counted)
    coverage50/95  share of actual days inside the central 50% / 95% intervals
    crps           mean CRPS per series-day
    brier, auroc   of P(week's demand > s) against whether it happened, s the reference stock:
                   the week's expected demand from the history's mean, rounded up
    service95      share of series whose week the order-up-to level for a 95% target covered
    stock95        mean order-up-to level, over the mean week's demand actually sold (the stock a
                   shop holds for that service)
"""

from __future__ import annotations

import numpy as np

from gan_jax.metrics import demand
from gan_jax.metrics.auroc import auroc


def reference_stock(history: np.ndarray, horizon: int, days: int | None = None) -> np.ndarray:
    """The target's expected demand from the mean of the history's last `days` (all: None),
    rounded up."""
    return np.ceil(horizon * history[:, -days if days else 0:].mean(axis=1))


def score(forecast, history: np.ndarray, actual: np.ndarray, reference_days: int | None = None) -> dict:
    horizon = actual.shape[1]
    q = forecast.quantiles(demand.M5_QUANTILES)
    spl = demand.scaled_pinball(actual, q, demand.M5_QUANTILES, history)
    kept = np.isfinite(spl)
    i = {level: k for k, level in enumerate(demand.M5_QUANTILES)}
    stock = reference_stock(history, horizon, reference_days)
    p = forecast.total_exceeds(stock)
    happened = actual.sum(axis=1) > stock
    level = forecast.order_up_to(0.95)
    return {"spl": float(spl[kept].mean()), "spl_series": int(kept.sum()),
            "coverage50": demand.coverage(actual, q[..., i[0.25]], q[..., i[0.75]]),
            "coverage95": demand.coverage(actual, q[..., i[0.025]], q[..., i[0.975]]),
            "crps": float(demand.crps(actual, forecast).mean()),
            "brier": demand.brier(p, happened),
            "auroc": auroc(p, happened) if 0 < happened.mean() < 1 else None,
            "stockout_rate": float(happened.mean()),
            "service95": float(np.mean(actual.sum(axis=1) <= level)),
            "stock95": float(level.mean() / actual.sum(axis=1).mean())}

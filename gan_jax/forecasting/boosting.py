"""Pooled quantile gradient boosting on lags and ids: the offline stand-in for the LightGBM models
that won M5 (scikit-learn's HistGradientBoostingRegressor with the quantile loss).

One model per quantile level learns from every series and horizon day at once. Each row is
(series, forecast origin, horizon day k), and its features are:

- the last `lags` days' units before the origin, and the means of the last 7 and 28 days (or as
  many as there are);
- the target's weekday (day index mod 7), and k;
- the series' ids as categories (department, category, store, state).

The target is the units on day origin + k. A second set of models predicts the h-day total from
the same features (k left out), which is what stockout questions need. Origins roll over the
history wherever the target days are known. The answers come as a QuantileForecast:
`total_exceeds` and `order_up_to` interpolate the total's fitted quantile function.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

LEVELS = (0.005, 0.025, 0.05, 0.1, 0.165, 0.25, 0.35, 0.5, 0.65, 0.75, 0.835, 0.9, 0.95, 0.975, 0.995)


@dataclasses.dataclass(frozen=True)
class QuantileForecast:
    levels: tuple[float, ...]
    daily: np.ndarray  # [N, h, Q] quantiles per day at `levels`, sorted along Q
    total: np.ndarray  # [N, Q] quantiles of the h-day total

    def quantiles(self, levels) -> np.ndarray:
        grid = np.asarray(self.levels)
        return np.stack([np.stack([np.interp(levels, grid, row) for row in series]) for series in self.daily])

    def total_exceeds(self, stock) -> np.ndarray:
        """P(total > stock), the total's distribution function read off its fitted quantiles by
        linear interpolation (0 below the lowest level's quantile, 1 above the highest's)."""
        stock = np.broadcast_to(np.asarray(stock, np.float64), (len(self.total),))
        grid = np.asarray(self.levels)
        below = [np.interp(s, q, grid, left=0.0, right=1.0) for q, s in zip(self.total, stock)]
        return 1.0 - np.asarray(below)

    def order_up_to(self, service: float) -> np.ndarray:
        return np.ceil(np.array([np.interp(service, self.levels, q) for q in self.total]))


def weekday(day_index: np.ndarray) -> np.ndarray:
    return np.asarray(day_index) % 7


def features(history: np.ndarray, origin: int, ids: pd.DataFrame, lags: int, k: int | None,
             first_day: int) -> pd.DataFrame:
    """The feature table of every series at one origin (history[:, :origin] known), for horizon
    day k (1-based; None for the total's models)."""
    known = history[:, :origin].astype(np.float64)
    cols = {f"lag_{j}": known[:, origin - j] if origin - j >= 0 else np.full(len(known), np.nan)
            for j in range(1, lags + 1)}
    cols["mean_7"] = known[:, -7:].mean(axis=1)
    cols["mean_28"] = known[:, -28:].mean(axis=1)
    if k is not None:
        cols["k"] = np.full(len(known), k)
        cols["weekday"] = np.full(len(known), weekday(first_day + origin + k - 1))
    else:
        cols["weekday"] = np.full(len(known), weekday(first_day + origin))  # the week's first day
    frame = pd.DataFrame(cols)
    for c in ids.columns:
        frame[c] = ids[c].to_numpy()
    return frame


def _ids_as_codes(ids: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Categorical(ids[c]).codes for c in ids.columns})


def fit_predict(history, ids: pd.DataFrame, horizon: int, lags: int = 7, min_origin: int = 7,
                levels=LEVELS, max_rows: int = 200_000, max_iter: int = 100, learning_rate: float = 0.1,
                seed: int = 0, first_day: int = 0, train=None, max_origins: int | None = None
                ) -> QuantileForecast:
    """Train on rolling origins inside `history` [N, T] and forecast the `horizon` days after it.
    ids: one row per series of categorical columns; first_day: the history's first day index (its
    weekday). train: (history [M, T], ids) of other series to learn from instead, over the same
    days (e.g. one store's series, or GAN-written ones), when the forecast series are not to be
    learnt from. max_origins: learn from the latest origins only (a long history's rows would
    not fit in memory)."""
    history = np.asarray(history)
    n, t = history.shape
    learn_from, learn_ids = (history, ids) if train is None else (np.asarray(train[0]), train[1])
    if learn_from.shape[1] != t:
        raise ValueError(f"the series to learn from hold {learn_from.shape[1]} days and the series to "
                         f"forecast {t}: they must cover the same days")
    origins = list(range(min_origin, t - horizon + 1))[-max_origins if max_origins else 0:]
    if not origins:
        raise ValueError(f"a history of {t} days leaves no training origin with {min_origin} days "
                         f"before it and {horizon} after it")
    both = _ids_as_codes(pd.concat([ids, learn_ids], ignore_index=True))  # one coding for both
    codes, learn_codes = both.iloc[:n].reset_index(drop=True), both.iloc[n:].reset_index(drop=True)
    categorical = [c in codes.columns for c in features(history, t, codes, lags, 1, first_day).columns]
    rng = np.random.default_rng(seed)

    def rows(ks) -> tuple[pd.DataFrame, np.ndarray]:
        """Training rows of every origin and horizon day in ks ([None]: the total's)."""
        xs, ys = [], []
        for o in origins:
            for k in ks:
                xs.append(features(learn_from, o, learn_codes, lags, k, first_day))
                ys.append(learn_from[:, o + k - 1] if k is not None
                          else learn_from[:, o:o + horizon].sum(axis=1))
        x, y = pd.concat(xs, ignore_index=True), np.concatenate(ys)
        keep = rng.permutation(len(y))[:max_rows]
        return x.iloc[keep], y[keep]

    def model(level: float, cats) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(loss="quantile", quantile=level, max_iter=max_iter,
                                             learning_rate=learning_rate, categorical_features=cats,
                                             random_state=seed)

    x, y = rows(range(1, horizon + 1))  # one model per level for every horizon day (k a feature)
    future = [features(history, t, codes, lags, k, first_day) for k in range(1, horizon + 1)]
    daily = np.zeros((n, horizon, len(levels)))
    for j, level in enumerate(levels):
        fitted = model(level, categorical).fit(x, y)
        for k in range(horizon):
            daily[:, k, j] = fitted.predict(future[k])
    x, y = rows([None])
    total_cats = [c in codes.columns for c in x.columns]
    future_total = features(history, t, codes, lags, None, first_day)
    total = np.stack([model(level, total_cats).fit(x, y).predict(future_total) for level in levels], axis=1)
    # quantile models fitted apart can cross: sort, and demand is never negative
    return QuantileForecast(tuple(levels), np.sort(np.maximum(daily, 0), axis=2),
                            np.sort(np.maximum(total, 0), axis=1))

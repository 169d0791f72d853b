"""How good a synthetic table is: fidelity, machine-learning efficacy and a privacy check.

Tables are pandas DataFrames with the same columns; `discrete` names the categorical columns and
every other column is numeric. Every score is a plain Python float.

Fidelity, after the definitions of the SDMetrics Quality Report (1 = identical, 0 = disjoint),
with two deliberate differences, measured by scripts/check_sdmetrics.py: a numeric column in a
mixed pair is binned over the REAL column's range for both tables (SDMetrics 0.32 bins each table
over its own range, which hides a shifted range), and every pair counts (SDMetrics' default report
averages only pairs whose real correlation exceeds 0.5 or Cramer's V 0.3). Column shapes and
numeric pairs agree with SDMetrics exactly.
  column shape, numeric: 1 - KS, KS = max_x |F_real(x) - F_synth(x)| (two-sample Kolmogorov-
    Smirnov statistic of the empirical CDFs); discrete: 1 - TV, TV = 1/2 sum_k |p_real(k) - p_synth(k)|;
  pair trend, two numeric columns: 1 - |r_real - r_synth| / 2 (r: Pearson correlation); any other
    pair: 1 - 1/2 sum_ab |P_real(a, b) - P_synth(a, b)| over the 2D contingency table, a numeric
    column cut into `bins` equal-width bins over the REAL column's range (values outside it go to
    the end bins). A constant numeric column has no correlation, so its pairs use the table too.
  quality = (mean column shape + mean pair trend) / 2.
Non-finite numeric values are dropped from KS and (pairwise) from correlations, and form a bin of
their own in contingency tables; a missing discrete value is a category of its own.

Machine-learning efficacy: classifiers fit on one table (the synthetic rows) and scored on real
held-out rows, by ROC AUC and average precision.

Distance to closest record (DCR): the Euclidean distance from each synthetic row to its nearest
real training row, against the same distance from real holdout rows (what a fresh real row looks
like). A ratio below 1 says only that synthetic rows lie closer to training rows than fresh real
rows do; copying shows as exact copies (distance 0) above the holdout's own rate. Real held-out
rows in place of synthetic ones (`holdout_dcr`) are compared with the training rows the same way,
against the other half of the holdout, so their ratio is a measured baseline (near 1 up to sampling
noise), not 1 by construction. Encoding: numeric columns min-max scaled by the real training range;
discrete columns one-hot times 1/sqrt(2), so a category mismatch, like a numeric difference
spanning the whole range, adds 1 to the squared distance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# Query rows per block times reference rows: the distance block holds at most 8M float64 (64 MiB).
_BLOCK = 1 << 23


def _check_columns(frames: dict[str, pd.DataFrame], discrete: Sequence[str]) -> list[str]:
    """The first frame's columns, after checking every frame has them and `discrete` is among them."""
    if isinstance(discrete, str):
        raise TypeError("discrete must be a sequence of column names, not one string")
    (first, ref), *rest = frames.items()
    cols = list(ref.columns)
    for name, df in rest:
        if set(df.columns) != set(cols):
            raise ValueError(f"{name} columns {sorted(map(str, df.columns))} differ from {first}'s "
                             f"{sorted(map(str, cols))}")
    missing = set(discrete) - set(cols)
    if missing:
        raise ValueError(f"discrete columns {sorted(map(str, missing))} are not in the tables")
    return cols


def _finite(values) -> np.ndarray:
    x = np.asarray(values, np.float64).ravel()
    return x[np.isfinite(x)]


def _shared_codes(*columns) -> tuple[list[np.ndarray], int]:
    """Integer codes of several columns over their union of values (a missing value is one more)."""
    lengths = [len(c) for c in columns]
    arrays = [np.asarray(c) for c in columns]
    if all(a.dtype.kind in "iu" for a in arrays):
        pooled = np.concatenate(arrays)  # bin and cell codes: no need for slow object hashing
    else:
        # as objects, so that e.g. 1 and 1.0 (an int column against a float one) are one category
        pooled = np.concatenate([a.astype(object) for a in arrays])
    codes, uniques = pd.factorize(pooled, use_na_sentinel=False)
    return np.split(codes, np.cumsum(lengths)[:-1]), len(uniques)


def _tv_complement(codes_a: np.ndarray, codes_b: np.ndarray, k: int) -> float:
    if len(codes_a) == 0 or len(codes_b) == 0:
        raise ValueError("frequencies need at least one row on each side")
    p = np.bincount(codes_a, minlength=k) / len(codes_a)
    q = np.bincount(codes_b, minlength=k) / len(codes_b)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def ks_statistic(a, b) -> float:
    """Two-sample KS statistic: the largest gap between the empirical CDFs of a and b, evaluated
    exactly at every pooled value (the gap only changes there). Non-finite values are dropped."""
    a, b = np.sort(_finite(a)), np.sort(_finite(b))
    if a.size == 0 or b.size == 0:
        raise ValueError("the KS statistic needs finite values on both sides")
    pooled = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, pooled, side="right") / a.size
    cdf_b = np.searchsorted(b, pooled, side="right") / b.size
    return float(np.abs(cdf_a - cdf_b).max())


def ks_complement(real, synthetic) -> float:
    """1 - KS of a numeric column; 0 when the synthetic column holds no finite value at all."""
    if _finite(synthetic).size == 0:
        return 0.0
    return 1.0 - ks_statistic(real, synthetic)


def tv_complement(real, synthetic) -> float:
    """1 - total variation distance between the category frequencies of two columns."""
    (r, s), k = _shared_codes(real, synthetic)
    return _tv_complement(r, s, k)


def correlation_similarity(real_x, real_y, synth_x, synth_y) -> float:
    """1 - |r_real - r_synth| / 2, Pearson r over the rows where both values are finite."""
    return 1.0 - abs(_pearson(real_x, real_y) - _pearson(synth_x, synth_y)) / 2.0


def _pearson(x, y) -> float:
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        raise ValueError("a correlation needs two non-constant columns")
    return float(np.corrcoef(x, y)[0, 1])


def _correlated(x, y) -> bool:
    try:
        _pearson(x, y)
    except ValueError:
        return False
    return True


def contingency_similarity(real_a, real_b, synth_a, synth_b) -> float:
    """1 - TV distance between the joint frequencies of two categorical columns (a, b)."""
    (ra, sa), ka = _shared_codes(real_a, synth_a)
    (rb, sb), kb = _shared_codes(real_b, synth_b)
    # Cells present in either table, numbered densely: ka * kb cells can be far too many to count.
    (r, s), k = _shared_codes(ra.astype(np.int64) * kb + rb, sa.astype(np.int64) * kb + sb)
    return _tv_complement(r, s, k)


def bin_codes(real, values, bins: int = 10) -> np.ndarray:
    """Bin index of each of `values` among `bins` equal-width bins spanning the finite range of
    `real`; values outside go to the end bins and non-finite ones to an extra code, `bins`. A
    constant real column has no width to cut: codes are 0 below, 1 at and 2 above its value."""
    finite = _finite(real)
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
    x = np.asarray(values, np.float64).ravel()
    ok = np.isfinite(x)
    codes = np.full(x.shape, bins, np.int64)
    if hi > lo:
        codes[ok] = np.clip(np.floor((x[ok] - lo) / (hi - lo) * bins), 0, bins - 1)
    else:
        codes[ok] = np.sign(x[ok] - lo) + 1
    return codes


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame, discrete: Sequence[str]) -> dict[str, float]:
    """{"column_shapes": mean score, "shape/<col>": KS complement (numeric) or TV complement
    (discrete) of each column}."""
    cols = _check_columns({"real": real, "synthetic": synthetic}, discrete)
    scores = {}
    for c in cols:
        score = tv_complement if c in discrete else ks_complement
        scores[f"shape/{c}"] = score(real[c], synthetic[c])
    return {"column_shapes": float(np.mean(list(scores.values()))), **scores}


def pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame, discrete: Sequence[str],
                bins: int = 10) -> dict[str, float]:
    """{"pair_trends": mean over every pair of columns of its correlation similarity (two numeric,
    non-constant columns) or contingency similarity (any other pair)}."""
    cols = _check_columns({"real": real, "synthetic": synthetic}, discrete)
    if len(cols) < 2:
        raise ValueError("pair trends need at least two columns")

    def table_values(c):
        if c in discrete:
            return real[c], synthetic[c]
        return bin_codes(real[c], real[c], bins), bin_codes(real[c], synthetic[c], bins)

    tables = {c: table_values(c) for c in cols}
    scores = []
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            if (a not in discrete and b not in discrete and _correlated(real[a], real[b])
                    and _correlated(synthetic[a], synthetic[b])):
                scores.append(correlation_similarity(real[a], real[b], synthetic[a], synthetic[b]))
            else:
                scores.append(contingency_similarity(tables[a][0], tables[b][0], tables[a][1],
                                                     tables[b][1]))
    return {"pair_trends": float(np.mean(scores))}


def quality(real: pd.DataFrame, synthetic: pd.DataFrame, discrete: Sequence[str],
            bins: int = 10) -> dict[str, float]:
    """column_shapes and pair_trends merged, plus "quality": the mean of the two (the overall
    score of the SDMetrics Quality Report)."""
    out = {**column_shapes(real, synthetic, discrete), **pair_trends(real, synthetic, discrete, bins)}
    out["quality"] = (out["column_shapes"] + out["pair_trends"]) / 2.0
    return out


def _one_hot(frames: Sequence[pd.DataFrame], col, scale: float = 1.0) -> list[np.ndarray]:
    """One-hot [rows, categories] of `col` in each frame, categories from their union."""
    codes, k = _shared_codes(*(df[col] for df in frames))
    eye = np.eye(k) * scale
    return [eye[c] for c in codes]


def ml_efficacy(train: pd.DataFrame, test: pd.DataFrame, target: str, discrete: Sequence[str],
                seed: int = 0, positive=None) -> dict[str, float]:
    """ROC AUC and average precision on `test` of a logistic regression and a histogram gradient-
    boosted classifier (scikit-learn defaults, random_state=seed) fit on `train` to predict the
    binary discrete column `target` from all the others.

    Discrete features are one-hot over the categories of both tables; numeric ones are standardised
    by train's mean and std (non-finite values set to that mean). The positive class is `positive`,
    by default the larger of the target's two values. A train table with one class only (a collapsed
    generator) gets AUC 0.5 and AP = test's positive rate, what an uninformed classifier scores,
    with "one_class_train" 1.0.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score

    cols = _check_columns({"train": train, "test": test}, discrete)
    if target not in discrete:
        raise ValueError(f"target {target!r} must be a discrete column")
    if positive is None:
        values = pd.concat([train[target], test[target]]).dropna().unique()
        if len(values) != 2:
            raise ValueError(f"target {target!r} takes {len(values)} values; name the positive class "
                             "with positive= unless it takes exactly two")
        positive = sorted(values)[-1]
    y_train = (train[target] == positive).to_numpy()
    y_test = (test[target] == positive).to_numpy()
    if y_test.all() or not y_test.any():
        raise ValueError("the test rows must hold both target classes")

    blocks_train, blocks_test = [], []
    for c in cols:
        if c == target:
            continue
        if c in discrete:
            a, b = _one_hot([train, test], c)
        else:
            a, b = (np.asarray(df[c], np.float64) for df in (train, test))
            finite = _finite(a)
            mean = finite.mean() if finite.size else 0.0
            std = finite.std() if finite.size else 0.0
            a, b = (np.where(np.isfinite(x), (x - mean) / (std if std > 0 else 1.0), 0.0) for x in (a, b))
            a, b = a[:, None], b[:, None]
        blocks_train.append(a)
        blocks_test.append(b)
    x_train = np.hstack(blocks_train) if blocks_train else np.zeros((len(train), 0))
    x_test = np.hstack(blocks_test) if blocks_test else np.zeros((len(test), 0))

    models = {"logreg": LogisticRegression(max_iter=1000, random_state=seed),
              "hgb": HistGradientBoostingClassifier(random_state=seed)}
    one_class = bool(y_train.all() or not y_train.any())
    out = {}
    for name, model in models.items():
        if one_class:
            auc, ap = 0.5, float(y_test.mean())
        else:
            scores = model.fit(x_train, y_train).predict_proba(x_test)[:, list(model.classes_).index(True)]
            auc, ap = roc_auc_score(y_test, scores), average_precision_score(y_test, scores)
        out[f"auc_{name}"], out[f"ap_{name}"] = float(auc), float(ap)
    out["one_class_train"] = float(one_class)
    return out


def _dcr_encode(frames: Sequence[pd.DataFrame], real: pd.DataFrame, cols, discrete) -> list[np.ndarray]:
    blocks = [[] for _ in frames]
    for c in cols:
        if c in discrete:
            parts = _one_hot(frames, c, scale=np.sqrt(0.5))
        else:
            x = [np.asarray(df[c], np.float64) for df in frames]
            if not all(np.isfinite(v).all() for v in x):
                raise ValueError(f"numeric column {c!r} holds non-finite values: a distance needs "
                                 "every coordinate, so encode missing values first")
            ref = np.asarray(real[c], np.float64)
            lo, span = ref.min(), np.ptp(ref)
            parts = [((v - lo) / (span if span > 0 else 1.0))[:, None] for v in x]
        for block, part in zip(blocks, parts):
            block.append(part)
    return [np.hstack(b) for b in blocks]


def nearest_distances(queries: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distance [q] from each row of queries [q, d] to its nearest row of reference
    [r, d], in blocks of at most 8M pairs. The nearest row is found through |r|^2 - 2 q.r and its
    distance then recomputed from the difference, so that an exact copy is at exactly 0."""
    if len(reference) == 0:
        raise ValueError("no reference rows")
    ref_sq = np.einsum("ij,ij->i", reference, reference)
    step = max(1, _BLOCK // len(reference))
    out = np.empty(len(queries))
    for start in range(0, len(queries), step):
        q = queries[start:start + step]
        nearest = np.argmin(ref_sq[None, :] - 2.0 * q @ reference.T, axis=1)
        out[start:start + step] = np.sqrt(((q - reference[nearest]) ** 2).sum(axis=1))
    return out


def distance_to_closest_record(synthetic: pd.DataFrame, real: pd.DataFrame, holdout: pd.DataFrame,
                               discrete: Sequence[str], max_rows: int = 5000,
                               seed: int = 0) -> dict[str, float]:
    """Nearest-training-row distances of synthetic rows against those of real holdout rows.

    Up to `max_rows` synthetic and holdout rows (a seeded sample without replacement) are compared
    with every real training row. "dcr_ratio" = synthetic median / holdout median: near or above 1,
    synthetic rows are no closer to training rows than fresh real rows are; below 1, they are
    closer, which copying causes but so does a generator that favours dense regions (NaN when
    the holdout median is 0, e.g. a table of mostly duplicated rows). "dcr_*_exact_copies" are
    the fractions at distance 0, the holdout's being the baseline rate of duplicates among real
    rows. The synthetic and holdout rows must differ: a table against itself has ratio 1 by
    construction (score real held-out rows with `holdout_dcr`).
    """
    cols = _check_columns({"real": real, "synthetic": synthetic, "holdout": holdout}, discrete)
    if synthetic is holdout or synthetic.equals(holdout):
        raise ValueError("the synthetic and holdout rows are the same table, whose ratio is 1 by "
                         "construction; score held-out real rows with holdout_dcr")
    rng = np.random.default_rng(seed)

    def sample(df):
        return df.iloc[np.sort(rng.choice(len(df), max_rows, replace=False))] if len(df) > max_rows else df

    synthetic, holdout = sample(synthetic), sample(holdout)
    if len(synthetic) == 0 or len(holdout) == 0:
        raise ValueError("DCR needs synthetic and holdout rows")
    ref, syn, hold = _dcr_encode([real, synthetic, holdout], real, cols, discrete)
    d_syn, d_hold = nearest_distances(syn, ref), nearest_distances(hold, ref)
    med_syn, med_hold = float(np.median(d_syn)), float(np.median(d_hold))
    return {
        "dcr_synthetic_median": med_syn,
        "dcr_holdout_median": med_hold,
        "dcr_ratio": med_syn / med_hold if med_hold > 0 else float("nan"),
        "dcr_synthetic_exact_copies": float(np.mean(d_syn == 0.0)),
        "dcr_holdout_exact_copies": float(np.mean(d_hold == 0.0)),
    }


def holdout_dcr(real: pd.DataFrame, holdout: pd.DataFrame, discrete: Sequence[str],
                max_rows: int = 5000, seed: int = 0) -> dict[str, float]:
    """`distance_to_closest_record` of real held-out rows in place of synthetic ones: a seeded
    half of the holdout is compared with the training rows `real`, as synthetic rows are, and the
    other half is the baseline. What a table of fresh real rows scores: its ratio is near 1 up to
    sampling noise (not 1 by construction), its exact copies the real rate of duplicates."""
    if len(holdout) < 2:
        raise ValueError("the holdout DCR needs at least two held-out rows")
    order = np.random.default_rng(seed).permutation(len(holdout))
    half = len(holdout) // 2
    queries = holdout.iloc[np.sort(order[:half])].reset_index(drop=True)
    baseline = holdout.iloc[np.sort(order[half:])].reset_index(drop=True)
    return distance_to_closest_record(queries, real, baseline, discrete, max_rows, seed)

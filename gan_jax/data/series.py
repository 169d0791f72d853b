"""Sequences on the host and TimeGAN's min-max scaling, shared by every sequence source.

TimeGAN scales every feature to [0, 1] over the whole training set (the authors' `MinMaxScaler`)
and maps its samples back; the model only ever sees the scaled arrays. `Series` holds both
splits in the data's own units, the scale fitted on the training split, and, for a user's file
(`data=series_file`), the file's column layout that samples are written back in.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

EPS = 1e-7  # the authors' MinMaxScaler divides by (max - min + 1e-7)
# name -> (forward, inverse), applied before the min-max scaling and after its inverse
TRANSFORMS = {None: (np.asarray, np.asarray),
              "log1p": (lambda x: np.log1p(np.asarray(x, np.float64)), np.expm1)}


@dataclasses.dataclass(frozen=True)
class Series:
    """Sequences on the host, in the data's units: training [n, T, F], held-out [m, T, F], and
    the per-feature minimum and range the model's [0, 1] values are scaled by.

    columns: how samples are written as a table in the source file's column names
    (`series_file.Columns`), or None for generated data (samples are written as .npy)."""

    train: np.ndarray
    heldout: np.ndarray
    low: np.ndarray    # [F]
    span: np.ndarray   # [F]: max - min + EPS
    columns: Any = None
    transform: str | None = None  # "log1p": scaled are log(1 + x) (heavy-tailed counts, data=m5)
    static: int = 0  # the first `static` features are a series' fixed category (one-hot) channels

    @classmethod
    def fit(cls, train: np.ndarray, heldout: np.ndarray, columns: Any = None,
            transform: str | None = None, static: int = 0) -> Series:
        """The scale of `train` ([n, T, F], after `transform`): per feature, its minimum and range
        over every sequence and step."""
        t = TRANSFORMS[transform][0](train)
        low = t.min(axis=(0, 1))
        return cls(train, heldout, low, t.max(axis=(0, 1)) - low + EPS, columns, transform, static)

    def scale(self, x: np.ndarray) -> np.ndarray:
        return ((TRANSFORMS[self.transform][0](x) - self.low) / self.span).astype(np.float32)

    def unscale(self, x: np.ndarray) -> np.ndarray:
        """Model outputs ([0, 1]) in the data's units."""
        return TRANSFORMS[self.transform][1](np.asarray(x) * self.span + self.low).astype(np.float32)

    def heldout_windows(self, n: int) -> np.ndarray:
        """The first n held-out sequences in the model's units (cycled when n exceeds them): the
        windows whose prefixes a prefix-conditioned generator continues when it is sampled and
        evaluated, so that it is judged on prefixes it never trained on."""
        return self.scale(np.resize(self.heldout, (n, *self.heldout.shape[1:])))


def windows(values: np.ndarray, seq_len: int, stride: int) -> np.ndarray:
    """The windows of one series `values` [L, F]: [k, seq_len, F] starting at steps 0, stride,
    2 * stride, ... while a whole window fits (k = 0 when L < seq_len); a tail shorter than
    `stride` after the last window is left out."""
    if len(values) < seq_len:
        return np.zeros((0, seq_len, values.shape[1]), values.dtype)
    view = np.lib.stride_tricks.sliding_window_view(values, seq_len, axis=0)  # [L-T+1, F, T]
    return np.ascontiguousarray(view[::stride].transpose(0, 2, 1))

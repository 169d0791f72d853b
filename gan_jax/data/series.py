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
    # Counts seen as a density (Theis et al. 2016): the model reads each count u as u + U(0, 1),
    # so real values fill [u, u + 1) instead of a lattice that a continuous G cannot reach and any
    # D can tell apart; its outputs are floored back to counts (`unscale`).
    dequantize: bool = False

    @classmethod
    def fit(cls, train: np.ndarray, heldout: np.ndarray, columns: Any = None,
            transform: str | None = None, static: int = 0, dequantize: bool = False) -> Series:
        """The scale of `train` ([n, T, F], after `transform`): per feature, its minimum and range
        over every sequence and step (of the counts + 1 at the top, when dequantized)."""
        forward = TRANSFORMS[transform][0]
        low = forward(train).min(axis=(0, 1))
        top = (train + counts_mask(train.shape[-1], static)).astype(train.dtype) if dequantize else train
        high = forward(top).max(axis=(0, 1))
        return cls(train, heldout, low, high - low + EPS, columns, transform, static, dequantize)

    def scale(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """x (data units) in the model's [0, 1]; dequantized by `rng`'s uniform noise when the
        series is (`dequantize`) and an rng is given."""
        if self.dequantize and rng is not None:
            x = x + rng.uniform(size=x.shape) * counts_mask(x.shape[-1], self.static)
        return ((TRANSFORMS[self.transform][0](x) - self.low) / self.span).astype(np.float32)

    def unscale(self, x: np.ndarray) -> np.ndarray:
        """Model outputs ([0, 1]) in the data's units (counts floored, when dequantized)."""
        x = np.array(TRANSFORMS[self.transform][1](np.asarray(x) * self.span + self.low))
        if self.dequantize:
            mask = counts_mask(x.shape[-1], self.static).astype(bool)
            x[..., mask] = np.floor(x[..., mask])
        return x.astype(np.float32)

    def dequantized(self, x, key):
        """A batch of scaled training windows x (jnp, on the lattice) with each count u moved to
        u + U(0, 1) by `key`: what the model trains on when the series is dequantized."""
        import jax  # noqa: PLC0415
        import jax.numpy as jnp  # noqa: PLC0415

        forward, inverse = ((jnp.log1p, jnp.expm1) if self.transform == "log1p"
                            else (lambda v: v, lambda v: v))
        low, span = jnp.asarray(self.low, jnp.float32), jnp.asarray(self.span, jnp.float32)
        counts = jnp.round(inverse(x * span + low))
        noisy = (forward(counts + jax.random.uniform(key, x.shape)) - low) / span
        return jnp.where(counts_mask(x.shape[-1], self.static).astype(bool), noisy, x)

    def heldout_windows(self, n: int) -> np.ndarray:
        """The first n held-out sequences in the model's units (cycled when n exceeds them): the
        windows whose prefixes a prefix-conditioned generator continues when it is sampled and
        evaluated, so that it is judged on prefixes it never trained on (dequantized by a fixed
        seed, when the series is)."""
        return self.scale(np.resize(self.heldout, (n, *self.heldout.shape[1:])), np.random.default_rng(0))


def counts_mask(features: int, static: int) -> np.ndarray:
    """[features]: 1 on the measured channels, 0 on the `static` category channels before them."""
    return (np.arange(features) >= static).astype(np.float64)


def windows(values: np.ndarray, seq_len: int, stride: int) -> np.ndarray:
    """The windows of one series `values` [L, F]: [k, seq_len, F] starting at steps 0, stride,
    2 * stride, ... while a whole window fits (k = 0 when L < seq_len); a tail shorter than
    `stride` after the last window is left out."""
    if len(values) < seq_len:
        return np.zeros((0, seq_len, values.shape[1]), values.dtype)
    view = np.lib.stride_tricks.sliding_window_view(values, seq_len, axis=0)  # [L-T+1, F, T]
    return np.ascontiguousarray(view[::stride].transpose(0, 2, 1))

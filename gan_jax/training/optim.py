"""Optimizers from the optim config: Adam per player, with TTUR (separate learning rates)."""

from __future__ import annotations

from typing import Any

import optax


def learning_rates(cfg: Any) -> tuple[float, float]:
    """(g_lr, d_lr): `optim.g_lr` / `optim.d_lr` override the shared `optim.lr` (TTUR)."""
    lr = float(cfg["lr"])
    g_lr = cfg.get("g_lr")
    d_lr = cfg.get("d_lr")
    return (lr if g_lr is None else float(g_lr)), (lr if d_lr is None else float(d_lr))


def build(cfg: Any) -> tuple[optax.GradientTransformation, optax.GradientTransformation]:
    g_lr, d_lr = learning_rates(cfg)
    make = lambda lr: optax.adam(lr, b1=float(cfg["beta1"]), b2=float(cfg["beta2"]))  # noqa: E731
    return make(g_lr), make(d_lr)

"""Checks of the composed config, done before anything is built or written.

Hydra already rejects unknown options and keys; these checks catch values that are of the right
type but invalid, and name the setting and a fix.
"""

from __future__ import annotations

from typing import Any

from gan_jax.errors import ConfigError


def _number(cfg: Any, group: str, key: str) -> float:
    value = cfg[group][key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{group}.{key}={value!r} must be a number.")
    return float(value)


def _positive(cfg, group, key, integer=False):
    value = _number(cfg, group, key)
    if value <= 0 or (integer and value != int(value)):
        kind = "a positive integer" if integer else "positive"
        raise ConfigError(f"{group}.{key}={cfg[group][key]!r} must be {kind}, "
                          f"e.g. {group}.{key}={_example(group, key)}.")
    return value


def _example(group, key):
    return {"lr": "2e-4", "g_lr": "1e-4", "d_lr": "4e-4"}.get(key, "100")


def validate(cfg: Any) -> None:
    """Raise ConfigError for the first invalid value in `cfg`."""
    for key in ("lr", "beta2"):
        _positive(cfg, "optim", key)
    for key in ("g_lr", "d_lr"):
        if cfg["optim"].get(key) is not None:
            _positive(cfg, "optim", key)
    for key in ("beta1", "beta2", "ema_decay"):
        value = _number(cfg, "optim", key)
        if not 0 <= value < 1:
            raise ConfigError(f"optim.{key}={value} must lie in [0, 1).")
    _positive(cfg, "optim", "n_critic", integer=True)

    t = cfg["trainer"]
    for key in ("steps", "batch_size", "log_every", "sample_every", "eval_every",
                "eval_samples", "checkpoint_every", "keep_checkpoints"):
        _positive(cfg, "trainer", key, integer=True)
    for key in ("sample_every", "eval_every", "checkpoint_every"):
        if t[key] % t["log_every"]:
            raise ConfigError(f"trainer.{key}={t[key]} must be a multiple of "
                              f"trainer.log_every={t['log_every']} (steps run in chunks of "
                              f"log_every), e.g. trainer.{key}={t['log_every'] * max(1, t[key] // t['log_every'])}.")
    seed = cfg["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed={seed!r} must be a non-negative integer.")



def number(value: Any) -> Any:
    """A numeric setting as a float, or unchanged when it is a JAX value: a population run
    (`trainer.population`) traces the settings that vary per member."""
    import jax  # local: the config checks above need no JAX

    return value if isinstance(value, jax.Array) else float(value)

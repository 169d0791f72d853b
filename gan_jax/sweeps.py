"""What a Hydra sweeper reads back from a run: the value of `trainer.objective`."""

from __future__ import annotations

from typing import Any

from gan_jax.errors import ConfigError


def _available(result: dict[str, Any]) -> list[str]:
    return sorted({*result.get("eval", {}), *result.get("metrics", {})})


def _lookup(result: dict[str, Any], name: str) -> float | None:
    for section in ("eval", "metrics"):
        if name in result.get(section, {}):
            return float(result[section][name])
    return None


def objective_value(summary: dict[str, Any], name: str | None) -> float | None:
    """The summary metric `name` (e.g. `eval/hq`, `g/loss`), or None when `name` is None.

    Looked up in the final evaluation (`summary["eval"]`), then in the final training metrics
    (`summary["metrics"]`). A population run (`summary["members"]`) gives the mean over the
    members that report it: the best member would depend on the sweeper's direction, which a run
    does not know. A NaN from a diverged member makes the mean NaN, which Optuna records as a
    failed trial. Raises ConfigError, listing the names there are, when no result reports `name`.
    """
    if name is None:
        return None
    results = summary.get("members") or [summary]
    values = [v for v in (_lookup(r, name) for r in results) if v is not None]
    if not values:
        names = sorted({n for r in results for n in _available(r)})
        raise ConfigError(f"trainer.objective={name} is not in this run's summary.json; "
                          f"available: {', '.join(names) or 'none'}.")
    return sum(values) / len(values)  # NaN if any value is NaN

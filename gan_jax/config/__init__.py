"""Settings: their schemas (`schemas`), range checks (`checks`) and `validate.validate(cfg)`.

This package's top level stays free of imports so that any module may read settings through
`number` without import cycles.
"""

from __future__ import annotations

from typing import Any


def number(value: Any) -> Any:
    """A numeric setting as a float, or unchanged when it is a JAX value: a population run
    (`trainer.population`) traces the settings that vary per member."""
    import jax  # local: reading the config needs no JAX

    return value if isinstance(value, jax.Array) else float(value)

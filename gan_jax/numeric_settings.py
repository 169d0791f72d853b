"""Reading a numeric setting inside the step.

A module of its own, free of gan_jax imports, so that models, mitigations, training and the
config package can all use it without importing each other.
"""

from __future__ import annotations

from typing import Any


def number(value: Any) -> Any:
    """A numeric setting as a float, or unchanged when it is a JAX value: a population run
    (`trainer.population`) traces the settings that vary per member."""
    import jax  # local: reading the config needs no JAX

    return value if isinstance(value, jax.Array) else float(value)

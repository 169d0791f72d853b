"""Range checks of single settings: each returns None when a value is valid, else what it must be.

A schema field names its check with `setting(check)`; `gan_jax.config.validate` runs them all
before anything is built or written.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

Check = Callable[[Any], "str | None"]


def setting(check: Check | None = None, fix: str | None = None) -> Any:
    """A required schema field (its value comes from the yaml) with an optional range check and
    `fix`, a hint the error message ends with (e.g. "the folder of your photos, e.g. ...")."""
    return dataclasses.field(metadata={"check": check, "fix": fix})


def positive(v) -> str | None:
    return None if v > 0 else "must be positive"


def non_negative(v) -> str | None:
    return None if v >= 0 else "must be >= 0"


def at_least(low: int) -> Check:
    return lambda v: None if v >= low else f"must be at least {low}"


def fraction(v) -> str | None:
    """[0, 1): decays, momenta, smoothing."""
    return None if 0 <= v < 1 else "must lie in [0, 1)"


def open_fraction(v) -> str | None:
    """(0, 1): Adam's beta2 (0 would divide by |g|)."""
    return None if 0 < v < 1 else "must lie in (0, 1)"


def one_of(*options) -> Check:
    return lambda v: None if v in options else f"must be one of {', '.join(map(str, options))}"


def positive_multiple_of(k: int) -> Check:
    """Image sides that the models halve twice (multiples of 4), e.g. 32 or 64."""
    return lambda v: None if v > 0 and v % k == 0 else f"must be a positive multiple of {k}"


def only(allowed, why: str) -> Check:
    """A setting kept for a uniform group layout that this option fixes, e.g. conditional=false."""
    shown = str(allowed).lower() if isinstance(allowed, bool) else allowed
    return lambda v: None if v == allowed else f"must be {shown}: {why}"


def each(check: Check) -> Check:
    """Every element of a list setting (layer widths); the list may not be empty."""
    def check_all(values) -> str | None:
        if not values:
            return "must list at least one value"
        problems = [check(v) for v in values]
        bad = [v for v, p in zip(values, problems) if p]
        return None if not bad else f"has {bad}: each value {next(p for p in problems if p)}"
    return check_all


def comma_list_of(*options: str) -> Check:
    """A comma-separated choice, e.g. a DiffAugment policy "color,translation"."""
    def check(value) -> str | None:
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        unknown = [p for p in parts if p not in options]
        if not parts or unknown:
            return f"must be a comma list of {', '.join(options)}"
        return None
    return check

"""Declared cross-column rules of a table (`data.constraints`): parse, count violations, enforce.

A generator learns each column's shape and the pairs' trends, but nothing makes it keep a rule
such as "a customer's last purchase is not after the end of the period" row by row. Rules are
declared as short strings, one per list item:

    data:
      constraints:
        - recency <= T                            # an inequality between two numeric columns
        - monetary_value = 0 when frequency = 0   # a fixed value when another column has one

- `a <= b` (or `b >= a`): column a is at most column b in every row.
- `a = x when b = y`: where column b equals the number y, column a is the number x (e.g. no
  repeat spend without a repeat purchase). Equality is exact: meant for integer columns and for
  values the transform reaches exactly (a column's clipped minimum, e.g. 0).

Both columns must be numeric (not discrete) columns of the table; names are written without
spaces. Enforcement (`enforce`) is what SDV's constraints do at sampling time, in two ways:
- a fixed-value rule by construction: column a is set to x in the rows where b = y;
- an inequality by rejection: the rows that break it are dropped, and the sampler
  (`gan_jax.sample.synthetic_table`) draws more until it has enough, a bounded number of times.
  Rejection keeps the distribution of the rows that already hold (clipping would pile them up at
  a = b).
Rows that already satisfy every rule come out unchanged.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from gan_jax.errors import ConfigError

SETTING = "data.constraints"
SYNTAX = "write each as 'a <= b', 'a >= b' or 'a = 0 when b = 0' (numeric columns a, b)"
_NAME = r"([^\s<>=]+)"
_NUMBER = r"([^\s<>=]+)"
_INEQUALITY = re.compile(rf"^\s*{_NAME}\s*(<=|>=)\s*{_NAME}\s*$")
_FIXED = re.compile(rf"^\s*{_NAME}\s*=\s*{_NUMBER}\s+when\s+{_NAME}\s*=\s*{_NUMBER}\s*$")


@dataclasses.dataclass(frozen=True)
class Inequality:
    """low <= high in every row."""

    low: str
    high: str
    text: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.low, self.high)

    def holds(self, frame: pd.DataFrame) -> np.ndarray:
        return (frame[self.low].to_numpy(np.float64) <= frame[self.high].to_numpy(np.float64))


@dataclasses.dataclass(frozen=True)
class FixedWhen:
    """column = value wherever when == when_value."""

    column: str
    value: float
    when: str
    when_value: float
    text: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, self.when)

    def applies(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.when].to_numpy(np.float64) == self.when_value

    def holds(self, frame: pd.DataFrame) -> np.ndarray:
        return ~self.applies(frame) | (frame[self.column].to_numpy(np.float64) == self.value)


Constraint = Inequality | FixedWhen


def _number(token: str, text: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise ConfigError(f"{SETTING}: {text!r} compares with {token!r}, which is not a number; "
                          f"{SYNTAX}.") from None
    if not np.isfinite(value):
        raise ConfigError(f"{SETTING}: {text!r} uses {token!r}; the value must be a finite number.")
    return value


def parse_one(text) -> Constraint:
    """One rule from its string, or a ConfigError naming the setting and the syntax."""
    if not isinstance(text, str):
        raise ConfigError(f"{SETTING}: {text!r} is not a string; {SYNTAX}.")
    if m := _INEQUALITY.match(text):
        a, op, b = m.groups()
        low, high = (a, b) if op == "<=" else (b, a)
        return Inequality(low, high, " ".join(text.split()))
    if m := _FIXED.match(text):
        column, value, when, when_value = m.groups()
        return FixedWhen(column, _number(value, text), when, _number(when_value, text),
                         " ".join(text.split()))
    raise ConfigError(f"{SETTING}: {text!r} is not a rule I know; {SYNTAX}.")


def parse(texts: Sequence[str] | None, frame: pd.DataFrame | None = None,
          discrete: Sequence[str] = ()) -> tuple[Constraint, ...]:
    """The rules of `data.constraints` (a list of strings; None or [] for none).

    With `frame` (the table), each rule is also checked against it: its columns exist, are
    numeric (not in `discrete`) and differ, and a fixed value of an integer column is a whole
    number. Raises ConfigError with one line naming the setting and the fix."""
    if texts is None:
        return ()
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ConfigError(f"{SETTING}={texts!r} must be a list of rules, e.g. "
                          f"{SETTING}=['recency <= T']; {SYNTAX}.")
    rules = tuple(parse_one(t) for t in texts)
    if frame is not None:
        for rule in rules:
            check_columns(rule, frame, discrete)
    return rules


def check_columns(rule: Constraint, frame: pd.DataFrame, discrete: Sequence[str] = ()) -> None:
    """ConfigError unless `rule`'s columns are distinct numeric columns of `frame`."""
    names = [str(c) for c in frame.columns]
    for c in rule.columns:
        if c not in names:
            raise ConfigError(f"{SETTING}: {rule.text!r} names the column {c!r}, which the table "
                              f"lacks; its columns are {', '.join(names)}.")
        if c in discrete or not pd.api.types.is_numeric_dtype(frame[c]) \
                or pd.api.types.is_bool_dtype(frame[c]):
            raise ConfigError(f"{SETTING}: {rule.text!r} names {c!r}, a discrete column; rules "
                              f"relate numeric columns only.")
    if len(set(rule.columns)) == 1:
        raise ConfigError(f"{SETTING}: {rule.text!r} relates a column with itself; name two "
                          f"different columns.")
    if isinstance(rule, FixedWhen) and pd.api.types.is_integer_dtype(frame[rule.column]) \
            and not float(rule.value).is_integer():
        raise ConfigError(f"{SETTING}: {rule.text!r} sets the integer column {rule.column!r} to "
                          f"{rule.value:g}; use a whole number.")


def violations(frame: pd.DataFrame, rules: Sequence[Constraint]) -> dict[str, int]:
    """{rule text: number of rows breaking it} (NaN in a compared column breaks an inequality)."""
    return {rule.text: int((~rule.holds(frame)).sum()) for rule in rules}


def enforce(frame: pd.DataFrame, rules: Sequence[Constraint]) -> pd.DataFrame:
    """The rows of `frame` made to satisfy `rules` (a new frame, index reset): fixed values set
    by construction first, then the rows still breaking a rule dropped (those breaking an
    inequality, or, with chained fixed-value rules, one undone by a later rule). Rows that satisfied
    every rule are returned unchanged, in their order."""
    if not rules:
        return frame
    out = frame.copy()
    for rule in rules:
        if isinstance(rule, FixedWhen):
            wrong = rule.applies(out) & ~rule.holds(out)
            if wrong.any():
                value = rule.value
                if pd.api.types.is_integer_dtype(out[rule.column]):
                    value = int(value)
                out.loc[wrong, rule.column] = value
    keep = np.ones(len(out), bool)
    for rule in rules:  # inequalities; and a fixed value undone by a later rule (chained rules)
        keep &= rule.holds(out)
    return out[keep].reset_index(drop=True)

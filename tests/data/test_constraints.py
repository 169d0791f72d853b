"""Declared table rules (`data.constraints`): parsing, validation, violation counts, enforcement."""

import numpy as np
import pandas as pd
import pytest

from gan_jax.config.validate import validate
from gan_jax.data import constraints as rules_lib
from gan_jax.data.constraints import FixedWhen, Inequality
from gan_jax.errors import ConfigError
from tests.conftest import make_cfg

CDNOW_RULES = ["recency <= T", "monetary_value = 0 when frequency = 0"]


def customers():
    """Six hand-made customers: rows 1 and 4 break recency <= T, rows 2 and 4 have a repeat spend
    without a repeat purchase; rows 0, 3 and 5 keep both rules."""
    return pd.DataFrame({
        "frequency": np.array([0, 0, 0, 2, 0, 1], np.int64),
        "recency": np.array([0, 40, 0, 30, 90, 10], np.int64),
        "T": np.array([100, 30, 50, 30, 80, 20], np.int64),
        "monetary_value": [0.0, 0.0, 12.5, 20.0, 7.0, 0.0],
        "first_month": np.array([1, 2, 3, 1, 2, 3], np.int64),
    })


def test_rules_parse_in_both_directions_and_with_any_spacing():
    # Bug caught: `b >= a` kept as `b <= a` (enforced the wrong way round), or spacing mattering.
    a, b, c = rules_lib.parse(["recency <= T", "T>=recency", "monetary_value=0  when frequency = 0"])
    assert a == Inequality("recency", "T", "recency <= T")
    assert (b.low, b.high) == ("recency", "T")
    assert c == FixedWhen("monetary_value", 0.0, "frequency", 0.0, "monetary_value=0 when frequency = 0")
    assert rules_lib.parse(None) == () and rules_lib.parse([]) == ()


@pytest.mark.parametrize("texts, message", [
    (["recency < T"], "is not a rule I know"),
    (["recency <= "], "is not a rule I know"),
    (["monetary_value = 0 if frequency = 0"], "is not a rule I know"),
    (["monetary_value = zero when frequency = 0"], "'zero', which is not a number"),
    (["monetary_value = nan when frequency = 0"], "must be a finite number"),
    ([3], "is not a string"),
    ("recency <= T", "must be a list of rules"),
])
def test_malformed_rules_are_refused_naming_the_setting(texts, message):
    # Bug caught: a typo'd rule silently ignored (e.g. `<` read as nothing), so rows go unchecked.
    with pytest.raises(ConfigError, match=message) as e:
        rules_lib.parse(texts)
    assert str(e.value).startswith("data.constraints") and "\n" not in str(e.value)


@pytest.mark.parametrize("text, message", [
    ("recency <= age", "names the column 'age', which the table lacks"),
    ("recency <= first_month", "'first_month', a discrete column"),
    ("recency <= recency", "relates a column with itself"),
    ("frequency = 0.5 when recency = 0", "integer column 'frequency' to 0.5"),
])
def test_rules_are_checked_against_the_table(text, message):
    # Bug caught: a rule on a column the table lacks (or a category) crashing mid-sampling.
    with pytest.raises(ConfigError, match=message):
        rules_lib.parse([text], customers(), discrete=["first_month"])


def test_config_validation_refuses_a_bad_rule_in_one_line():
    # Bug caught: data.constraints untyped, so a malformed rule passes validation.
    with pytest.raises(ConfigError) as e:
        validate(make_cfg(["data=cdnow", "data.constraints=['recency < T']"]))
    assert str(e.value).startswith("data.constraints=['recency < T'] is refused")
    validate(make_cfg(["experiment=ctgan_cdnow"]))  # the preset's rules are valid


def test_cdnow_preset_declares_the_rules_the_study_counts():
    # Bug caught: the preset's rules drifting from quality.py's recency_above_T /
    # spend_without_repeat, so "violations after" would be measured on other rules.
    from experiments.cdnow_augment.quality import violations as study_counts

    texts = make_cfg(["experiment=ctgan_cdnow"])["data"]["constraints"]
    assert texts == CDNOW_RULES
    frame = customers()
    counts = rules_lib.violations(frame, rules_lib.parse(texts, frame))
    study = study_counts(frame)
    assert counts == {"recency <= T": 2, "monetary_value = 0 when frequency = 0": 2}
    assert [c / len(frame) for c in counts.values()] == [study["recency_above_T"],
                                                         study["spend_without_repeat"]]


def test_enforce_leaves_no_violation_and_keeps_rows_that_held():
    # Bug caught: enforcement that misses a rule, or that changes rows already keeping it.
    frame = customers()
    rules = rules_lib.parse(CDNOW_RULES, frame, ["first_month"])
    out = rules_lib.enforce(frame, rules)
    assert rules_lib.violations(out, rules) == {text: 0 for text in CDNOW_RULES}
    # rows 1 and 4 break the inequality: dropped; row 2's spend is set to 0 (by construction)
    expected = frame.iloc[[0, 2, 3, 5]].reset_index(drop=True)
    expected.loc[1, "monetary_value"] = 0.0
    pd.testing.assert_frame_equal(out, expected)
    assert frame.loc[2, "monetary_value"] == 12.5  # the input is not modified
    pd.testing.assert_frame_equal(rules_lib.enforce(expected, rules), expected)  # idempotent


def test_chained_fixed_values_still_leave_no_violation():
    # Bug caught: a later fixed-value rule undoing an earlier one in the same row.
    frame = pd.DataFrame({"a": [1.0, 1.0], "b": [1.0, 1.0], "c": [0.0, 5.0]})
    rules = rules_lib.parse(["a = 0 when b = 0", "b = 0 when c = 0"], frame)
    out = rules_lib.enforce(frame, rules)
    assert rules_lib.violations(out, rules) == {r.text: 0 for r in rules}
    assert out.to_dict("list") == {"a": [1.0], "b": [1.0], "c": [5.0]}

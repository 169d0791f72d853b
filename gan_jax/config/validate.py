"""`validate(cfg)`: every setting of a composed config, typed and range-checked, in one place.

Runs before anything is built or written (the entry points call it through `setup.build`). Types
and ranges come from `gan_jax.config.schemas`; the few rules that tie settings together are
below. A population (`trainer.population`) is validated member by member, each member's config
holding its own single values.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, Mapping

from gan_jax.config import schemas
from gan_jax.errors import ConfigError

GROUPS = ("data", "model", "loss", "optim", "trainer", "eval", "mitigation")
TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


@functools.cache
def _fields(schema: type) -> dict[str, tuple[Any, Any, str | None]]:
    """{key: (type, check, fix)} of a schema class."""
    hints = typing.get_type_hints(schema)
    return {f.name: (hints[f.name], f.metadata.get("check"), f.metadata.get("fix"))
            for f in dataclasses.fields(schema)}


def _type_problem(value: Any, kind: Any) -> str | None:
    """What is wrong with `value`'s type for the annotation `kind`, or None."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType):  # Optional[X]
        if value is None:
            return None
        kind = next(a for a in args if a is not type(None))
        args = typing.get_args(kind)
    elif value is None:
        return "must be set"
    if typing.get_origin(kind) is list:
        if not isinstance(value, list):
            noun = TYPE_WORDS[args[0]].split(" ", 1)[1]  # "an integer" -> "integer"
            return f"must be a list of {noun}s, e.g. " + ("['a','b']" if args[0] is str else "[128,128]")
        problems = [_type_problem(v, args[0]) for v in value]
        return next((f"has {v!r}: each value {p}" for v, p in zip(value, problems) if p), None)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return None  # 1 is a fine learning-rate multiplier of 1.0
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
        return f"must be {TYPE_WORDS[kind]} (got {type(value).__name__})"
    return None


def check_option(values: Any, schema: type, prefix: str) -> None:
    """Keys, types and ranges of one group option's settings (`prefix`: e.g. "model")."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{prefix} must be a group of settings, got {values!r}.")
    fields = _fields(schema)
    unknown = sorted(set(values) - set(fields))
    # A group option brings its own keys: `optim=sgd`, not `optim.name=sgd` on Adam's keys.
    others = schemas.SELECTED_BY_NAME.get(prefix, {}).values()
    renamed = any(set(values) == set(_fields(o)) for o in others if o is not schema)
    hint = (f" (choose an option with {prefix}={values['name']}, which brings its settings, "
            f"rather than setting {prefix}.name)" if renamed else "")
    if unknown:
        raise ConfigError(f"{prefix}.{unknown[0]} is not a setting of this option; its settings "
                          f"are {', '.join(fields)}{hint}.")
    missing = [k for k in fields if k not in values]
    if missing:
        raise ConfigError(f"{prefix}.{missing[0]} is missing; add it to the config (see conf/)"
                          f"{hint}.")
    for key, (kind, check, fix) in fields.items():
        value = values[key]
        problem = _type_problem(value, kind)
        if problem is None and check is not None and value is not None:
            problem = check(value)
        if problem:
            raise ConfigError(f"{prefix}.{key}={_show(value)} {problem}" + (f": {fix}." if fix else "."))


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else str(value)


def _selected(group: str, values: Mapping) -> type:
    options = schemas.SELECTED_BY_NAME[group]
    name = values.get("name") if isinstance(values, Mapping) else None
    if name not in options:
        raise ConfigError(f"{group}.name={_show(name)} is unknown; choose one of "
                          f"{', '.join(options)} (e.g. {group}={next(iter(options))}).")
    return options[name]


def validate_trainer(cfg: Mapping) -> None:
    """The trainer group alone: read first, to split a population into members."""
    check_option(cfg.get("trainer"), schemas.Trainer, "trainer")
    _check_schedule(cfg["trainer"])
    _check_parallel(cfg["trainer"])


def validate(cfg: Mapping) -> None:
    """Raise ConfigError, naming the setting and what it must be, for the first invalid value."""
    unknown = sorted(set(cfg) - {*GROUPS, "seed"})
    if unknown:
        raise ConfigError(f"{unknown[0]} is not a config group or setting; the config has "
                          f"{', '.join(GROUPS)} and seed.")
    for group in GROUPS:
        if group not in cfg:
            raise ConfigError(f"the config has no {group} group (see conf/config.yaml).")
    for group in schemas.SELECTED_BY_NAME:
        check_option(cfg[group], _selected(group, cfg[group]), group)
    for group, schema in schemas.SINGLE.items():
        check_option(cfg[group], schema, group)
    for name, params in (cfg["mitigation"] or {}).items():
        if name not in schemas.MITIGATIONS:
            raise ConfigError(f"mitigation {name!r} is unknown; choose from "
                              f"{', '.join(schemas.MITIGATIONS)} (e.g. mitigation=[pacgan,r1]).")
        check_option(params or {}, schemas.MITIGATIONS[name], f"mitigation.{name}")
    seed = cfg["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed={_show(seed)} must be a non-negative integer.")
    _check_schedule(cfg["trainer"])
    _check_parallel(cfg["trainer"])
    _check_model_fits_data(cfg["model"]["name"], cfg["data"])
    if cfg["model"]["name"] in PHASED:
        _check_phased(cfg)


# What each data option holds, and which kinds each model trains on: a pair that does not fit is
# refused here, before any data is read, rather than failing at the first evaluation.
DATA_KINDS = {"fashion_mnist": "images", "stacked_fashion_mnist": "images", "image_folder": "images",
              "ring": "2D points", "grid": "2D points", "movielens_100k": "interaction data",
              "cdnow": "a table", "adult": "a table", "table": "a table", "sines": "sequences",
              "series_file": "sequences", "m5": "sequences", "sales_table": "sequences",
              "coco_captions": "text", "text_file": "text",
              "reviews": "text", "review_table": "text"}
MODEL_KINDS = {"dcgan": ("images",), "resnet": ("images",), "ganomaly": ("images",),
               "mlp": ("images", "2D points", "a table"), "cfgan": ("interaction data",),
               "tabular": ("a table",), "timegan": ("sequences",), "rcgan": ("sequences",),
               "relgan": ("text",), "lm": ("text",)}
# Models whose G and D take category labels (data.conditional=true).
LABEL_CONDITIONED = ("dcgan", "mlp", "resnet", "rcgan", "relgan", "lm")


def _check_model_fits_data(model: str, data: Mapping) -> None:
    if data.get("conditional") and "category_column" in data and data["category_column"] is None:
        raise ConfigError("data.conditional=true needs the series' categories: name their column "
                          "in data.category_column (e.g. data.category_column=region), or drop "
                          "data.conditional.")
    if data["name"] == "review_table":
        _check_review_columns(data)
    kind = DATA_KINDS.get(data["name"])
    if kind is not None and model in MODEL_KINDS and kind not in MODEL_KINDS[model]:
        fits = [m for m, kinds in MODEL_KINDS.items() if kind in kinds]
        kinds = MODEL_KINDS[model]
        needs = " or ".join([", ".join(kinds[:-1]), kinds[-1]] if len(kinds) > 1 else kinds)
        use = f"use model={' or model='.join(fits)}" if fits else "no model trains on it yet"
        raise ConfigError(f"model={model} needs {needs} and data={data['name']} holds {kind}: "
                          f"with data={data['name']} {use}.")
    if data.get("conditional") and model not in LABEL_CONDITIONED:
        raise ConfigError(f"data.conditional=true: model={model} cannot be conditioned on "
                          f"categories (models that can: {', '.join(LABEL_CONDITIONED)}); drop "
                          f"data.conditional" + (", and learn one category as normal with "
                                                 "data.category=c." if model == "ganomaly" else "."))


def _check_review_columns(data: Mapping) -> None:
    on = data["condition_on"]
    if data["conditional"] and on is None:
        raise ConfigError("data.conditional=true needs categories: set data.condition_on=rating or "
                          "label (naming that column in data.rating or data.label), or drop "
                          "data.conditional.")
    if on is not None and data[on] is None:
        raise ConfigError(f"data.condition_on={on} needs the {on} column: name it in data.{on}=<column>, "
                          f"or set data.condition_on=null.")


# Models that train in phases of their own steps (`training.setup.MODEL_PHASES`): the plain
# step's switches that their steps do not read are refused rather than ignored.
PHASED = ("timegan",)
# Their D loss sums cross-entropies (TimeGAN's BCE of real, h^ and e^), defined for these losses.
CROSS_ENTROPY_LOSSES = ("non_saturating", "minimax")


def _check_phased(cfg: Mapping) -> None:
    model, optim = cfg["model"]["name"], cfg["optim"]
    problems = []
    if cfg["loss"]["name"] not in CROSS_ENTROPY_LOSSES:
        problems.append(f"loss={cfg['loss']['name']} (its D loss is a sum of cross-entropies: use "
                        f"loss={' or loss='.join(CROSS_ENTROPY_LOSSES)})")
    if cfg["mitigation"]:
        problems.append(f"mitigation={','.join(cfg['mitigation'])} (drop it)")
    if optim["n_critic"] != 1:
        problems.append(f"optim.n_critic={optim['n_critic']} (D updates once per joint step: "
                        f"set optim.n_critic=1)")
    if optim["ema_decay"] != 0:
        problems.append(f"optim.ema_decay={optim['ema_decay']} (set optim.ema_decay=0)")
    if cfg["trainer"]["parallel"] == "pmap":
        problems.append("trainer.parallel=pmap (use trainer.parallel=none or data)")
    if problems:
        raise ConfigError(f"model={model} trains in phases of its own steps, which do not apply "
                          f"{problems[0].split(' (')[0]}: {problems[0].split(' (', 1)[1][:-1]}.")


def _check_parallel(t: Mapping) -> None:
    if t["sync_batch_stats"] and t["parallel"] != "pmap":
        why = ("uses the global batch statistics already" if t["parallel"] == "data"
               else "has one device")
        raise ConfigError(f"trainer.sync_batch_stats=true applies to trainer.parallel=pmap only "
                          f"(trainer.parallel={t['parallel']} {why}); set trainer.parallel=pmap "
                          f"or drop trainer.sync_batch_stats.")


def _check_schedule(t: Mapping) -> None:
    for key in ("sample_every", "eval_every", "checkpoint_every"):
        if t[key] % t["log_every"]:
            fix = t["log_every"] * max(1, t[key] // t["log_every"])
            raise ConfigError(f"trainer.{key}={t[key]} must be a multiple of "
                              f"trainer.log_every={t['log_every']} (steps run in chunks of "
                              f"log_every), e.g. trainer.{key}={fix}.")


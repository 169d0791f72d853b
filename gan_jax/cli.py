"""key=value options of the small entry points (sample, evaluate) into a typed dataclass."""

from __future__ import annotations

import dataclasses
import logging
import sys
from typing import Any, Callable, TypeVar

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError

from gan_jax.errors import ConfigError, UserError

T = TypeVar("T")


def parse_options(schema: type[T], argv: list[str], usage: str) -> T:
    """`schema` filled from `key=value` arguments; a ConfigError names a bad key or value."""
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(schema), OmegaConf.from_cli(argv))
        return OmegaConf.to_object(cfg)
    except ConfigKeyError as e:
        raise ConfigError(f"{e.msg.splitlines()[0]}; options are "
                          f"{', '.join(f.name for f in dataclasses.fields(schema))}.") from e
    except Exception as e:  # missing required options, wrong types
        raise ConfigError(f"{str(e).splitlines()[0]}. Usage: {usage}") from e


def entry(schema: type[T], usage: str, action: Callable[[T], Any],
          report: Callable[[T, Any], None]) -> Callable[[list[str] | None], int]:
    """`main(argv)` of a small command: parse `key=value` options into `schema`, run `action`,
    `report` its result; a UserError is one line on stderr and exit code 2."""

    def main(argv: list[str] | None = None) -> int:
        logging.getLogger("absl").setLevel(logging.WARNING)
        try:
            cfg = parse_options(schema, sys.argv[1:] if argv is None else argv, usage)
            result = action(cfg)
        except UserError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        report(cfg, result)
        return 0

    return main

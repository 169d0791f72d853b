"""key=value options of the small entry points (sample, evaluate) into a typed dataclass."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError

from gan_jax.errors import ConfigError

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

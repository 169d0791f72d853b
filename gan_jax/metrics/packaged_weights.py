"""Networks whose weights ship with the metrics (`assets/<name>.msgpack` beside its `<name>.json`
metadata): read, checked against the architecture the metadata describes, or refused with the
command that recreates them."""

from __future__ import annotations

import functools
import json
import pathlib
from typing import Any, Callable

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp

from gan_jax.errors import DataError


def metadata_path(weights: pathlib.Path) -> pathlib.Path:
    return weights.with_suffix(".json")


def load(path: pathlib.Path, what: str, how_to_fix: str,
         architecture: Callable[[dict], tuple[nn.Module, Any]],
         init_params: Callable[[nn.Module, jax.Array], Any]) -> tuple[nn.Module, Any, Any]:
    """(module, what `architecture(metadata)` adds, parameters) of the weights at `path`.

    `architecture` builds the module from the metadata (raising ValueError, KeyError or TypeError
    when it is unusable); `init_params(module, key)` gives the parameter tree the file must match.
    Every problem is one DataError naming the file, `what` it is, and `how_to_fix`."""
    meta_path = metadata_path(path)
    if not path.is_file() or not meta_path.is_file():
        missing = path if not path.is_file() else meta_path
        raise DataError(f"{what} file {missing} not found. {how_to_fix}")
    try:
        module, extra = architecture(json.loads(meta_path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"{what} metadata {meta_path} is corrupt ({type(e).__name__}: {e}). "
                        f"{how_to_fix}") from e
    template = jax.eval_shape(functools.partial(init_params, module), jax.random.key(0))
    try:
        params = flax.serialization.from_bytes(template, path.read_bytes())
        shapes = lambda tree: jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), tree)  # noqa: E731
        if shapes(params) != shapes(template):
            raise ValueError(f"parameter shapes do not match the architecture in {meta_path.name}")
    except Exception as e:  # msgpack and flax raise many types; all mean an unusable file
        raise DataError(f"{what} weights {path} are corrupt or do not match {meta_path.name} "
                        f"({type(e).__name__}: {e}). {how_to_fix}") from e
    return module, extra, jax.tree_util.tree_map(jnp.asarray, params)

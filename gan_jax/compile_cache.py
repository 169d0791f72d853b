"""JAX's persistent compilation cache, which the entry points turn on (`trainer.compile_cache`).

A run compiles its training chunk, sampling and evaluation programs again in every new process:
each job of a sweep, each resume, each test. With the cache on, a process that compiles a program
some earlier process already compiled (same program, shapes, flags, JAX version and device) loads
the executable from disk instead.
"""

from __future__ import annotations

import os

import jax
from jax.experimental.compilation_cache import compilation_cache


def enable(path: str | os.PathLike | None) -> str | None:
    """Cache compiled programs under `path` (`~` expanded); None leaves the cache off.

    Call before anything compiles: JAX opens the cache once, at the first compilation. Returns the
    absolute directory, or None.
    """
    if path is None:
        return None
    path = os.path.abspath(os.path.expanduser(os.fspath(path)))
    current = jax.config.jax_compilation_cache_dir
    if current != path:
        if current is not None:  # another directory was opened earlier in this process
            compilation_cache.reset_cache()
        jax.config.update("jax_compilation_cache_dir", path)
    # JAX's defaults only cache programs that took >= 1 s to compile; most programs here (the 2D
    # models, sampling, evaluation) compile faster, but a sweep still pays for them in every job.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)  # -1: no size minimum
    return path

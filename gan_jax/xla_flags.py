"""XLA:CPU flags gan_jax sets by default, before JAX starts its CPU backend.

Importing gan_jax adds each flag below to the environment's XLA_FLAGS unless XLA_FLAGS already
names it (yours win); `GAN_JAX_XLA_DEFAULTS=0` adds none. The flags take effect only if JAX has
not yet run anything in the process, which holds for gan_jax's commands and scripts. They change
how XLA:CPU schedules and stores the same arithmetic, not what a step computes (results agree
to float rounding: tests/training/test_xla_flags.py), and GPU backends ignore them. Each is
documented in XLA's `xla/debug_options_flags.cc`; why each is here, with the measurements, is
in docs/performance.md.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

DEFAULTS = {
    # Copy insertion by region analysis: without it XLA copies each large loop-carried weight
    # once per step inside `lax.scan` (4 x 25 MB for the default DCGAN), and the DCGAN step at
    # batch 64 takes 15% longer on the 2-core CPU of docs/performance.md.
    "xla_cpu_copy_insertion_use_region_analysis": "true",
}
OFF = "GAN_JAX_XLA_DEFAULTS"


def set_defaults(environ: MutableMapping[str, str] = os.environ) -> str:
    """Add the DEFAULTS that XLA_FLAGS does not name; returns the resulting XLA_FLAGS."""
    flags = environ.get("XLA_FLAGS", "")
    if environ.get(OFF, "1") == "0":
        return flags
    named = {f.lstrip("-").split("=", 1)[0] for f in flags.split()}
    extra = [f"--{name}={value}" for name, value in DEFAULTS.items() if name not in named]
    environ["XLA_FLAGS"] = " ".join([flags, *extra]).strip()
    return environ["XLA_FLAGS"]

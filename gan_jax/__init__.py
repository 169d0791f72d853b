"""gan_jax: GANs in JAX for e-commerce data (product images, customer tables)."""

from gan_jax import xla_flags as _xla_flags

_xla_flags.set_defaults()  # before JAX starts its backend (see gan_jax/xla_flags.py)

__version__ = "0.1.0"

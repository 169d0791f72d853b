"""gan_jax: GANs in JAX for e-commerce data (product images, customer tables)."""

__version__ = "0.1.0"

"""`GANState`: everything needed to continue a run bit for bit, as one pytree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax

from gan_jax.models import GAN


@flax.struct.dataclass
class GANState:
    step: jax.Array          # int32 scalar: generator updates done so far
    key: jax.Array           # base PRNG key; the key of step t is fold_in(key, t)
    g_params: Any
    g_state: Any             # mutable collections of G (batch_stats, ...); {} if none
    d_params: Any
    d_state: Any
    g_opt: Any               # optax states
    d_opt: Any
    ema_params: Any          # EMA of g_params, or None when disabled
    extras: Any = None       # mitigations' own state, {name: pytree} (e.g. LeCam's anchors)


def split_variables(variables: dict) -> tuple[Any, dict]:
    variables = dict(variables)
    return variables.pop("params"), variables


def init_state(gan: GAN, shape: tuple[int, ...], g_opt: optax.GradientTransformation,
               d_opt: optax.GradientTransformation, seed: int, use_ema: bool,
               batch_size: int = 2, extras: Any = None) -> GANState:
    """Initialise parameters and optimizer states from `seed` (deterministically).

    The models are initialised on a batch of `batch_size` (packing and minibatch layers need
    the training batch's size); parameters do not depend on it.
    """
    init_key, train_key = jax.random.split(jax.random.PRNGKey(seed))
    kg, kd = jax.random.split(init_key)
    z = jnp.zeros((batch_size, gan.latent_dim), jnp.float32)
    x = jnp.zeros((batch_size, *shape), jnp.float32)
    y = jnp.zeros((batch_size,), jnp.int32) if gan.num_classes else None
    if gan.critic_shape is not None:  # D judges something else than data (TimeGAN: embeddings)
        x = jnp.zeros((batch_size, *gan.critic_shape), jnp.float32)
    if gan.pairing is not None:
        y = jnp.zeros((batch_size, *gan.pairing.shape), jnp.float32)
    g_params, g_state = split_variables(gan.generator.init(kg, z, y, train=True))
    d_params, d_state = split_variables(gan.discriminator.init(kd, x, y, train=True))
    return GANState(
        step=jnp.zeros((), jnp.int32), key=train_key,
        g_params=g_params, g_state=g_state, d_params=d_params, d_state=d_state,
        g_opt=g_opt.init(g_params), d_opt=d_opt.init(d_params),
        ema_params=jax.tree_util.tree_map(jnp.copy, g_params) if use_ema else None,
        extras=extras if extras is not None else {},
    )


def apply_model(module, params, collections: dict, x: jax.Array, y: jax.Array | None = None, *,
                train: bool):
    """Apply a generator or critic to x (labels y when conditional); in training mode also
    return its updated mutable collections."""
    variables = {"params": params, **collections}
    if train and collections:
        out, updated = module.apply(variables, x, y, train=True, mutable=list(collections))
        return out, dict(updated)
    return module.apply(variables, x, y, train=train), collections


def apply_sowing(module, params, collections: dict, x: jax.Array, y: jax.Array | None = None):
    """`apply_model` in training mode that also returns what the module sowed into
    'intermediates' (values G's objective terms read, e.g. CTGAN's raw logits) -> (out, updated
    collections, sown). The sown values never enter the state."""
    out, updated = module.apply({"params": params, **collections}, x, y, train=True,
                                mutable=[*collections, "intermediates"])
    updated = dict(updated)
    return out, updated, updated.pop("intermediates", {})


def sown(tree: Any, name: str) -> jax.Array | None:
    """The value sowed under `name` anywhere in an 'intermediates' tree (so a wrapper that nests
    the module, e.g. spectral normalisation of G, still finds it); None when nothing was."""
    if not isinstance(tree, Mapping):
        return None
    if name in tree:
        return tree[name][0]
    return next((v for v in (sown(c, name) for c in tree.values()) if v is not None), None)


def generate(gan: GAN, state: GANState, z: jax.Array, y: jax.Array | None = None,
             use_ema: bool = True) -> jax.Array:
    """Samples for evaluation: EMA weights when present, batch norm in inference mode."""
    params = state.ema_params if (use_ema and state.ema_params is not None) else state.g_params
    return apply_model(gan.generator, params, state.g_state, z, y, train=False)[0]


def apply_generator(gan: GAN, state: GANState, method: str, *args, use_ema: bool = True):
    """G's method `method` (e.g. a language model's `nll`) on args, with the weights `generate`
    uses."""
    params = state.ema_params if (use_ema and state.ema_params is not None) else state.g_params
    G = gan.generator
    return G.apply({"params": params, **state.g_state}, *args, method=getattr(G, method))

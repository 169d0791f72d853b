"""The pure training step: `n_critic` discriminator updates, then one generator update."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

from gan_jax.losses import AdversarialLoss
from gan_jax.models import GAN
from gan_jax.training.state import GANState, apply_model

Metrics = dict[str, jax.Array]


def make_train_step(gan: GAN, loss: AdversarialLoss, sample_data: Callable,
                    g_opt: optax.GradientTransformation, d_opt: optax.GradientTransformation,
                    batch_size: int, n_critic: int = 1, ema_decay: float = 0.0
                    ) -> Callable[[GANState, Any], tuple[GANState, Metrics]]:
    """Return `step(state, data_arrays) -> (state, metrics)`, pure and jit-able.

    Randomness comes from fold_in(state.key, state.step), so replaying from any saved state
    reproduces the same run exactly.
    """
    G, D = gan.generator, gan.discriminator

    def d_update(state: GANState, data, key) -> tuple[GANState, Metrics]:
        kz, kx = jax.random.split(key)
        real, _ = sample_data(data, kx, batch_size)
        fake, g_state = apply_model(G, state.g_params, state.g_state,
                                    gan.sample_latent(kz, batch_size), train=True)
        fake = jax.lax.stop_gradient(fake)

        def loss_fn(d_params):
            if state.d_state:  # batch statistics: real and fake batches normalised apart
                real_logits, d_state = apply_model(D, d_params, state.d_state, real, train=True)
                fake_logits, d_state = apply_model(D, d_params, d_state, fake, train=True)
            else:  # D is per-example, so one call on both halves is the same and faster
                logits, d_state = apply_model(D, d_params, state.d_state,
                                              jnp.concatenate([real, fake]), train=True)
                real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
            return loss.d_loss(real_logits, fake_logits), (d_state, real_logits, fake_logits)

        (d_loss, (d_state, real_logits, fake_logits)), grads = jax.value_and_grad(
            loss_fn, has_aux=True)(state.d_params)
        updates, d_opt_state = d_opt.update(grads, state.d_opt, state.d_params)
        state = state.replace(d_params=optax.apply_updates(state.d_params, updates),
                              d_opt=d_opt_state, d_state=d_state, g_state=g_state)
        return state, {"d/loss": d_loss, "d/grad_norm": optax.tree.norm(grads),
                       "d/real_logit": jnp.mean(real_logits), "d/fake_logit": jnp.mean(fake_logits)}

    def g_update(state: GANState, data, key) -> tuple[GANState, Metrics]:
        kz, kx = jax.random.split(key)
        z = gan.sample_latent(kz, batch_size)

        def loss_fn(g_params):
            fake, g_state = apply_model(G, g_params, state.g_state, z, train=True)
            fake_logits, d_state = apply_model(D, state.d_params, state.d_state, fake, train=True)
            real_logits = jnp.zeros_like(fake_logits)
            if loss.g_uses_real:
                real, _ = sample_data(data, kx, batch_size)
                real_logits, d_state = apply_model(D, state.d_params, d_state, real, train=True)
            return loss.g_loss(real_logits, fake_logits), (g_state, d_state)

        (g_loss, (g_state, d_state)), grads = jax.value_and_grad(
            loss_fn, has_aux=True)(state.g_params)
        updates, g_opt_state = g_opt.update(grads, state.g_opt, state.g_params)
        g_params = optax.apply_updates(state.g_params, updates)
        ema = state.ema_params
        if ema is not None:
            ema = jax.tree_util.tree_map(lambda e, p: ema_decay * e + (1 - ema_decay) * p, ema, g_params)
        state = state.replace(g_params=g_params, g_opt=g_opt_state, g_state=g_state,
                              d_state=d_state, ema_params=ema)
        return state, {"g/loss": g_loss, "g/grad_norm": optax.tree.norm(grads)}

    def step(state: GANState, data) -> tuple[GANState, Metrics]:
        keys = jax.random.split(jax.random.fold_in(state.key, state.step), n_critic + 1)
        metrics: Metrics = {}
        for i in range(n_critic):  # unrolled: n_critic is small and static
            state, metrics = d_update(state, data, keys[i])
        state, g_metrics = g_update(state, data, keys[n_critic])
        return state.replace(step=state.step + 1), {**metrics, **g_metrics}

    return step


def make_train_chunk(step: Callable, num_steps: int) -> Callable:
    """Run `num_steps` steps in one call with `lax.scan`; metrics come back stacked [num_steps]."""

    def chunk(state: GANState, data) -> tuple[GANState, Metrics]:
        return jax.lax.scan(lambda s, _: step(s, data), state, None, length=num_steps)

    return chunk

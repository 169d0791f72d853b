"""The pure training step: `n_critic` discriminator updates, then one generator update.

Mitigations plug in through their hooks (see `gan_jax.mitigations.base`): transforms of every
D input, extra terms of either objective, logged scalars, and look-ahead D updates for the
generator (unrolled GAN). The step never branches on a mitigation's name.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import optax

from gan_jax.losses import AdversarialLoss
from gan_jax.mitigations.base import Mitigation, TermInputs
from gan_jax.models import GAN, CriticOutput
from gan_jax.training.state import GANState, apply_model

Metrics = dict[str, jax.Array]


def make_train_step(gan: GAN, loss: AdversarialLoss, sample_data: Callable,
                    g_opt: optax.GradientTransformation, d_opt: optax.GradientTransformation,
                    batch_size: int, n_critic: int = 1, ema_decay: float = 0.0,
                    mitigations: Sequence[Mitigation] = (), shard_batch: Callable | None = None,
                    axis_name: str | None = None
                    ) -> Callable[[GANState, Any], tuple[GANState, Metrics]]:
    """Return `step(state, data_arrays) -> (state, metrics)`, pure and jit-able.

    Randomness comes from fold_in(state.key, state.step), so replaying from any saved state
    reproduces the same run exactly. `shard_batch` places each sampled batch (reals, labels,
    latents) for data parallelism; everything downstream of it follows the batch's placement.

    `axis_name`: the step runs as one replica of this named mapped axis (`jax.pmap`). Each
    replica draws its own `batch_size` examples (its index is folded into the step key);
    gradients are averaged over the axis before every optimizer update, and the updated mutable
    collections (batch-norm running statistics), mitigation state and metrics are averaged too,
    so all replicas hold the same state.
    """
    G, D = gan.generator, gan.discriminator
    transforms = [m.transform_input for m in mitigations if m.transform_input]
    d_terms = [m for m in mitigations if m.d_term]
    g_terms = [m for m in mitigations if m.g_term]
    logs = [m for m in mitigations if m.log]
    unroll_steps = sum(m.unroll_steps for m in mitigations)
    split_batches = any(m.couples_batch for m in mitigations)
    g_uses_real = loss.g_uses_real or any(m.g_needs_real for m in mitigations)
    g_adversarial = not any(m.replaces_g_loss for m in mitigations)

    shard = shard_batch or (lambda x: x)

    def replica_mean(tree):
        """Average floating leaves over the replicas (identity without `axis_name`)."""
        if axis_name is None:
            return tree
        return jax.tree_util.tree_map(
            lambda x: jax.lax.pmean(x, axis_name) if jnp.issubdtype(x.dtype, jnp.floating) else x,
            tree)

    def shard_all(*xs):
        return tuple(None if x is None else shard(x) for x in xs)

    def draw(data, kz, kx, ky):
        """One training batch: reals with labels, latents with the labels G is asked for."""
        real, real_y = sample_data(data, kx, batch_size)
        z, fake_y = gan.sample_latent(kz, batch_size), gan.sample_labels(ky, batch_size)
        return shard_all(real, labels(real_y), z, fake_y)

    def labels(y):  # data labels reach the models only when the GAN is conditional
        return y if gan.num_classes else None

    def transform(key, x, step):
        for i, t in enumerate(transforms):
            x = t(jax.random.fold_in(key, i), x, step)
        return x

    def critic_fn(d_params, d_state):
        """Raw D for terms: same parameters and statistics, updated collections discarded."""
        return lambda x, y=None: apply_model(D, d_params, d_state, x, y, train=True)[0]

    def discriminate(d_params, d_state, real, real_y, fake, fake_y, key, step):
        """D on (transformed) real and fake samples -> (real_out, fake_out, d_state)."""
        kr, kf = jax.random.split(key)
        real, fake = transform(kr, real, step), transform(kf, fake, step)
        if d_state or split_batches:  # batch statistics: real and fake batches apart
            real_out, d_state = apply_model(D, d_params, d_state, real, real_y, train=True)
            fake_out, d_state = apply_model(D, d_params, d_state, fake, fake_y, train=True)
            return real_out, fake_out, d_state
        # D is per-example, so one call on both halves is the same and faster.
        y = None if real_y is None else jnp.concatenate([real_y, fake_y])
        out, d_state = apply_model(D, d_params, d_state, jnp.concatenate([real, fake]), y, train=True)
        half = out.logits.shape[0] // 2
        first = lambda a: None if a is None else a[:half]  # noqa: E731
        second = lambda a: None if a is None else a[half:]  # noqa: E731
        return CriticOutput(*map(first, out)), CriticOutput(*map(second, out)), d_state

    def add_terms(pieces, attr, value, inputs, extras, key):
        scalars, extras = {}, dict(extras)
        for i, m in enumerate(pieces):
            term = getattr(m, attr)(inputs._replace(key=jax.random.fold_in(key, i),
                                                    state=extras.get(m.name)))
            value = value + term.value
            scalars.update(m.scalar_names(term.scalars))
            if term.state is not None:
                extras[m.name] = term.state
        return value, scalars, extras

    def d_objective(d_params, d_state, extras, real, real_y, fake, fake_y, key, step):
        k_in, k_terms, k_log = jax.random.split(key, 3)
        real_out, fake_out, new_d_state = discriminate(d_params, d_state, real, real_y, fake,
                                                       fake_y, k_in, step)
        adversarial = loss.d_loss(real_out.logits, fake_out.logits)
        inputs = TermInputs(critic_fn(d_params, d_state), real, real_y, fake, fake_y, real_out,
                            fake_out, k_terms, step, None, d_state)
        value, scalars, extras = add_terms(d_terms, "d_term", adversarial, inputs, extras, k_terms)
        for m in logs:
            scalars.update(m.scalar_names(jax.lax.stop_gradient(m.log(inputs._replace(key=k_log)))))
        scalars.update({"d/loss": adversarial, "d/real_logit": jnp.mean(real_out.logits),
                        "d/fake_logit": jnp.mean(fake_out.logits)})
        return value, (new_d_state, extras, scalars)

    def sample_batches(data, key, g_params, g_state):
        real, real_y, z, fake_y = draw(data, *jax.random.split(key, 3))
        fake, g_state = apply_model(G, g_params, g_state, z, fake_y, train=True)
        return real, real_y, fake, fake_y, g_state

    def d_update(state: GANState, data, key) -> tuple[GANState, Metrics]:
        kb, kd = jax.random.split(key)
        real, real_y, fake, fake_y, g_state = sample_batches(data, kb, state.g_params, state.g_state)
        fake = jax.lax.stop_gradient(fake)
        grads, (d_state, extras, scalars) = jax.grad(d_objective, has_aux=True)(
            state.d_params, state.d_state, state.extras, real, real_y, fake, fake_y, kd, state.step)
        grads, d_state, g_state, extras = replica_mean((grads, d_state, g_state, extras))
        updates, d_opt_state = d_opt.update(grads, state.d_opt, state.d_params)
        state = state.replace(d_params=optax.apply_updates(state.d_params, updates),
                              d_opt=d_opt_state, d_state=d_state, g_state=g_state, extras=extras)
        return state, {**scalars, "d/grad_norm": optax.tree.norm(grads)}

    def lookahead(state: GANState, data, g_params, key):
        """D after `unroll_steps` updates against G(g_params), differentiable in g_params."""
        d_params, d_opt_state = state.d_params, state.d_opt
        for i in range(unroll_steps):
            kb, kd = jax.random.split(jax.random.fold_in(key, i))
            real, real_y, fake, fake_y, _ = sample_batches(data, kb, g_params, state.g_state)
            grads, _ = jax.grad(d_objective, has_aux=True)(
                d_params, state.d_state, state.extras, real, real_y, fake, fake_y, kd, state.step)
            grads = replica_mean(grads)
            updates, d_opt_state = d_opt.update(grads, d_opt_state, d_params)
            d_params = optax.apply_updates(d_params, updates)
        return d_params

    def g_update(state: GANState, data, key) -> tuple[GANState, Metrics]:
        kz, kx, ky, kt, ku = jax.random.split(key, 5)
        real, real_y, z, fake_y = draw(data, kz, kx, ky)

        def loss_fn(g_params):
            fake, g_state = apply_model(G, g_params, state.g_state, z, fake_y, train=True)
            d_params = lookahead(state, data, g_params, ku) if unroll_steps else state.d_params
            kr, kf = jax.random.split(kt)
            fake_out, d_state = apply_model(D, d_params, state.d_state,
                                            transform(kf, fake, state.step), fake_y, train=True)
            real_out, real_logits = None, jnp.zeros_like(fake_out.logits)
            if g_uses_real:
                real_out, d_state = apply_model(D, d_params, d_state,
                                                transform(kr, real, state.step), real_y, train=True)
                real_logits = real_out.logits
            adversarial = loss.g_loss(real_logits, fake_out.logits)
            inputs = TermInputs(critic_fn(d_params, state.d_state), real, real_y, fake, fake_y,
                                real_out, fake_out, kt, state.step, None, state.d_state)
            value, scalars, _ = add_terms(g_terms, "g_term", adversarial if g_adversarial else 0.0,
                                          inputs, state.extras, kt)
            if unroll_steps:
                shift = optax.tree.norm(jax.tree_util.tree_map(jnp.subtract, d_params, state.d_params))
                scalars["mitigation/unrolled/d_param_shift"] = shift
            return value, (g_state, d_state, {**scalars, "g/loss": adversarial})

        grads, (g_state, d_state, scalars) = jax.grad(loss_fn, has_aux=True)(state.g_params)
        grads, g_state, d_state = replica_mean((grads, g_state, d_state))
        updates, g_opt_state = g_opt.update(grads, state.g_opt, state.g_params)
        g_params = optax.apply_updates(state.g_params, updates)
        ema = state.ema_params
        if ema is not None:
            ema = jax.tree_util.tree_map(lambda e, p: ema_decay * e + (1 - ema_decay) * p, ema, g_params)
        state = state.replace(g_params=g_params, g_opt=g_opt_state, g_state=g_state,
                              d_state=d_state, ema_params=ema)
        return state, {**scalars, "g/grad_norm": optax.tree.norm(grads)}

    def step(state: GANState, data) -> tuple[GANState, Metrics]:
        key = jax.random.fold_in(state.key, state.step)
        if axis_name is not None:  # every replica draws its own share of the batch
            key = jax.random.fold_in(key, jax.lax.axis_index(axis_name))
        keys = jax.random.split(key, n_critic + 1)
        metrics: Metrics = {}
        for i in range(n_critic):  # unrolled: n_critic is small and static
            state, metrics = d_update(state, data, keys[i])
        state, g_metrics = g_update(state, data, keys[n_critic])
        return state.replace(step=state.step + 1), replica_mean({**metrics, **g_metrics})

    return step


def make_train_chunk(step: Callable, num_steps: int) -> Callable:
    """Run `num_steps` steps in one call with `lax.scan`; metrics come back stacked [num_steps]."""

    def chunk(state: GANState, data) -> tuple[GANState, Metrics]:
        return jax.lax.scan(lambda s, _: step(s, data), state, None, length=num_steps)

    return chunk

"""Language GANs' phases (`model=relgan`, `model=lm`): maximum likelihood, then adversarial.

mle          G minimises the teacher-forced negative log-likelihood per token of a real batch
             (the authors' pretraining loss, end-of-sentence padding included), with its own
             optimizer: for RelGAN Adam at `model.pretrain_lr` with betas 0.9 / 0.999 and
             `optim.clip_norm` (the authors': 1e-2, clip 5); for `model=lm`, whose run is this
             phase alone, the `optim` group itself.
adversarial  the plain step (every loss and mitigation), after setting the inverse temperature
             beta of G's Gumbel-softmax from the step: beta_max ** min(1, t / N) for t steps into
             the phase (`model.temperature_schedule=exp`, the paper's), 1 + (beta_max - 1) t / N
             (`linear`) or beta_max (`constant`); N = `model.temperature_steps` (the authors'
             code fixes N = 5,000 whatever the run's length).

G's optimizer state in `GANState.g_opt` is {"mle": ..., "adversarial": ...}: each phase updates its
own, as the authors' separate pretraining and adversarial optimizers do. The EMA of G's weights
(optim.ema_decay) starts from the pretrained weights.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

from gan_jax.models import GAN
from gan_jax.numeric_settings import number
from gan_jax.training import optim
from gan_jax.training.phases import Phase, check
from gan_jax.training.state import GANState

SCHEDULES = ("exp", "linear", "constant")


def inverse_temperature(schedule: str, beta_max, t, n) -> jax.Array:
    """beta after t adversarial steps (see the module docstring)."""
    frac = jnp.minimum(jnp.asarray(t, jnp.float32) / n, 1.0)
    if schedule == "exp":
        return jnp.asarray(beta_max, jnp.float32) ** frac
    if schedule == "linear":
        return 1.0 + (beta_max - 1.0) * frac
    return jnp.asarray(beta_max, jnp.float32) * jnp.ones_like(frac)


def slots(**optimizers: optax.GradientTransformation) -> optax.GradientTransformation:
    """An optimizer whose state is one state per named phase; each phase updates its own with
    that phase's optimizer (this one's `update` is never called)."""
    def init(params):
        return {name: opt.init(params) for name, opt in optimizers.items()}

    def update(*args, **kwargs):
        raise NotImplementedError("a language GAN's phases update their own optimizer states")

    return optax.GradientTransformation(init, update)


def tokens_of(one_hot: jax.Array) -> jax.Array:
    return jnp.argmax(one_hot, axis=-1).astype(jnp.int32)


def build(cfg: Any, gan: GAN, sample: Callable, g_opt: optax.GradientTransformation,
          batch_size: int, adversarial_step: Callable | None
          ) -> tuple[optax.GradientTransformation, tuple[Phase, ...]]:
    """(G's optimizer as the state holds it, phases). `adversarial_step`: the plain step with
    `g_opt`, or None for a maximum-likelihood-only run (its `g_opt` is then the MLE optimizer)."""
    m = cfg["model"]
    G = gan.generator
    mle_opt = g_opt if adversarial_step is None else optim.with_clip_norm(
        cfg["optim"].get("clip_norm"), optax.adam(number(m["pretrain_lr"]), b1=0.9, b2=0.999))

    def mle_loss(g_params, g_state, tokens, labels):  # labels: read by a conditional G only
        return jnp.mean(G.apply({"params": g_params, **g_state}, tokens, labels, method=G.nll))

    def mle_step(state: GANState, data):
        real, labels = sample(data, jax.random.fold_in(state.key, state.step), batch_size)
        loss, grads = jax.value_and_grad(mle_loss)(state.g_params, state.g_state, tokens_of(real),
                                                   labels)
        updates, opt_state = mle_opt.update(grads, state.g_opt["mle"], state.g_params)
        g_params = optax.apply_updates(state.g_params, updates)
        ema = None if state.ema_params is None else g_params
        state = state.replace(g_params=g_params, g_opt={**state.g_opt, "mle": opt_state},
                              ema_params=ema, step=state.step + 1)
        return state, {"mle/nll": loss, "g/grad_norm": optax.tree.norm(grads)}

    if adversarial_step is None:
        phases = (Phase("mle", None, mle_step),)
        check(phases)
        return slots(mle=mle_opt), phases

    start = int(m["pretrain_steps"])
    schedule, n = m["temperature_schedule"], int(m["temperature_steps"])
    beta_max = number(m["max_temperature"])

    def adversarial(state: GANState, data):
        beta = inverse_temperature(schedule, beta_max, state.step - start, n)
        g_state = {**state.g_state, "schedule": {"inverse_temperature": beta}}
        new, metrics = adversarial_step(state.replace(g_opt=state.g_opt["adversarial"],
                                                      g_state=g_state), data)
        new = new.replace(g_opt={**state.g_opt, "adversarial": new.g_opt})
        return new, {**metrics, "g/inverse_temperature": beta}

    phases = (Phase("mle", start, mle_step),) if start else ()  # pretrain_steps=0: no pretraining
    phases += (Phase("adversarial", None, adversarial),)
    check(phases)
    return slots(mle=mle_opt, adversarial=g_opt), phases

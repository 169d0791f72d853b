"""TimeGAN's three phases as pure steps on `GANState` (the authors' `timegan.py` training loop).

autoencoder  embedder + recovery minimise 10 sqrt(MSE(x, recovery(embedder(x)))).
supervised   generator + supervisor minimise the supervisor's next-step MSE on real embeddings
             (only the supervisor receives gradient, as in the authors' code).
joint        per step, `optim.n_generator` times (the authors: 2): generator + supervisor minimise
             adversarial + gamma * adversarial on e^ + 100 sqrt(supervised) + 100 moments, then
             embedder + recovery minimise 10 sqrt(reconstruction) + 0.1 supervised on the same
             batch; then the critic's loss on a fresh batch, and its update only when that loss
             exceeds `model.d_threshold` (the authors: 0.15).
The adversarial terms are the switchboard's `loss` (its `g_loss`; the authors' cross-entropy is
`loss=non_saturating`). D's loss is the cross-entropy sum BCE(real, 1) + BCE(h^, 0) + gamma
BCE(e^, 0): `loss.d_loss(real, fake)` plus gamma times the fake term of the same cross-entropy,
which only the cross-entropy losses define (`config.validate` refuses others).

Every optimizer keeps its own state, as the authors' five Adam solvers do: G's optimizer state in
`GANState.g_opt` is one state per (phase, parameter group) slot (`slots`), D's is `d_opt`. The key
of step t is fold_in(key, t), as in the plain step.
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import optax

from gan_jax import losses
from gan_jax.models import GAN
from gan_jax.models import timegan as tg
from gan_jax.numeric_settings import number
from gan_jax.training.phases import Phase, check
from gan_jax.training.state import GANState

# G-side optimizer slots: the parameter groups each of the authors' solvers updates.
SLOTS = {"autoencoder": tg.AUTOENCODER, "supervised": tg.GENERATOR,
         "generator": tg.GENERATOR, "embedder": tg.AUTOENCODER}


def slots(base: optax.GradientTransformation) -> optax.GradientTransformation:
    """An optimizer whose state is `base`'s state for every slot's parameter group; each phase
    updates its slots with `base.update` itself (this one's `update` is never called)."""
    def init(params):
        return {name: base.init(tg.group(params, names)) for name, names in SLOTS.items()}

    def update(*args, **kwargs):
        raise NotImplementedError("TimeGAN's phases update each slot with the base optimizer")

    return optax.GradientTransformation(init, update)


def build(cfg: Any, gan: GAN, sample: Callable, g_opt: optax.GradientTransformation,
          d_opt: optax.GradientTransformation, batch_size: int
          ) -> tuple[optax.GradientTransformation, tuple[Phase, ...]]:
    m = cfg["model"]
    loss = losses.get(cfg["loss"]["name"])
    gamma, threshold = number(m["gamma"]), number(m["d_threshold"])
    n_generator = int(cfg["optim"]["n_generator"])
    G, D = gan.generator, gan.discriminator

    def net(params, method, *args):
        return G.apply({"params": params}, *args, method=method)

    def critic(d_params, h):
        return D.apply({"params": d_params}, h)

    def real_batch(data, key):
        return sample(data, key, batch_size)[0]

    def update(state: GANState, slot: str, names, objective, *args):
        """One step of `slot`'s optimizer on the parameter group `names` -> (state, aux)."""
        params = tg.group(state.g_params, names)
        grads, aux = jax.grad(objective, has_aux=True)(params, *args)
        updates, new_slot = g_opt.update(grads, state.g_opt[slot], params)
        params = optax.apply_updates(params, updates)
        return state.replace(g_params={**state.g_params, **params},
                             g_opt={**state.g_opt, slot: new_slot}), aux

    def autoencoder_loss(er, g_params, x):
        p = {**g_params, **er}
        mse = tg.reconstruction(x, net(p, tg.TimeGAN.recover, net(p, tg.TimeGAN.embed, x)))
        return 10 * tg.root(mse), {"autoencoder/rmse": tg.root(mse)}

    def supervised_loss(gs, g_params, x):
        p = {**g_params, **gs}
        h = net(p, tg.TimeGAN.embed, x)
        mse = tg.supervised(h, net(p, tg.TimeGAN.supervise, h))
        return mse, {"supervised/rmse": tg.root(mse)}

    def autoencoder_step(state: GANState, data):
        x = real_batch(data, jax.random.fold_in(state.key, state.step))
        state, aux = update(state, "autoencoder", tg.AUTOENCODER, autoencoder_loss, state.g_params, x)
        return state.replace(step=state.step + 1), aux

    def supervised_step(state: GANState, data):
        x = real_batch(data, jax.random.fold_in(state.key, state.step))
        state, aux = update(state, "supervised", tg.GENERATOR, supervised_loss, state.g_params, x)
        return state.replace(step=state.step + 1), aux

    def generator_loss(gs, g_params, d_params, x, z):
        p = {**g_params, **gs}
        h = net(p, tg.TimeGAN.embed, x)
        e_hat = net(p, tg.TimeGAN.latent, z)
        h_hat = net(p, tg.TimeGAN.supervise, e_hat)
        x_hat = net(p, tg.TimeGAN.recover, h_hat)
        y_fake, y_fake_e = critic(d_params, h_hat), critic(d_params, e_hat)
        unused = jnp.zeros_like(y_fake)  # real logits: the cross-entropy G losses do not read them
        adversarial = loss.g_loss(unused, y_fake) + gamma * loss.g_loss(unused, y_fake_e)
        sup = tg.supervised(h, net(p, tg.TimeGAN.supervise, h))
        mom = tg.moments(x, x_hat)
        value = adversarial + 100 * tg.root(sup) + 100 * mom
        return value, {"g/loss": value, "g/adversarial": adversarial,
                       "g/supervised_rmse": tg.root(sup), "g/moments": mom}

    def embedder_loss(er, g_params, x):
        p = {**g_params, **er}
        h = net(p, tg.TimeGAN.embed, x)
        mse = tg.reconstruction(x, net(p, tg.TimeGAN.recover, h))
        sup = tg.supervised(h, net(p, tg.TimeGAN.supervise, h))
        return 10 * tg.root(mse) + 0.1 * sup, {"embedder/rmse": tg.root(mse)}

    def critic_loss(d_params, g_params, x, z):
        h = net(g_params, tg.TimeGAN.embed, x)
        e_hat = net(g_params, tg.TimeGAN.latent, z)
        h_hat = net(g_params, tg.TimeGAN.supervise, e_hat)
        y_real, y_fake, y_fake_e = (critic(d_params, a) for a in (h, h_hat, e_hat))
        # gamma BCE(y_fake_e, 0): the fake term of the cross-entropy D loss
        return loss.d_loss(y_real, y_fake) + gamma * jnp.mean(jax.nn.softplus(y_fake_e))

    def joint_step(state: GANState, data):
        keys = jax.random.split(jax.random.fold_in(state.key, state.step), n_generator + 1)
        metrics = {}
        for key in keys[:-1]:  # unrolled: n_generator is small and static
            kx, kz = jax.random.split(key)
            x, z = real_batch(data, kx), gan.sample_latent(kz, batch_size)
            state, g_metrics = update(state, "generator", tg.GENERATOR, generator_loss,
                                      state.g_params, state.d_params, x, z)
            state, e_metrics = update(state, "embedder", tg.AUTOENCODER, embedder_loss,
                                      state.g_params, x)
            metrics.update(g_metrics, **e_metrics)
        kx, kz = jax.random.split(keys[-1])
        x, z = real_batch(data, kx), gan.sample_latent(kz, batch_size)
        d_loss, grads = jax.value_and_grad(critic_loss)(state.d_params, state.g_params, x, z)
        updates, d_opt_state = d_opt.update(grads, state.d_opt, state.d_params)
        d_params = optax.apply_updates(state.d_params, updates)
        # The authors skip D's update while its loss is at most the threshold.
        keep = d_loss > threshold
        choose = lambda new, old: jax.tree_util.tree_map(  # noqa: E731
            lambda a, b: jnp.where(keep, a, b), new, old)
        state = state.replace(d_params=choose(d_params, state.d_params),
                              d_opt=choose(d_opt_state, state.d_opt), step=state.step + 1)
        metrics.update({"d/loss": d_loss, "d/updated": keep.astype(jnp.float32)})
        return state, metrics

    phases = (Phase("autoencoder", int(m["autoencoder_steps"]), autoencoder_step),
              Phase("supervised", int(m["supervised_steps"]), supervised_step),
              Phase("joint", None, joint_step))
    check(phases)
    return slots(g_opt), phases

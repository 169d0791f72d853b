"""The pure training step: `n_critic` discriminator updates, then `n_generator` generator updates
(one by default; CFGAN's recipe takes more). Metrics are those of each player's last update.

Read top-down: `train_step` is the whole step; `d_update` and `g_update` are one player's update;
the functions below them are their pieces. Each takes the `Game` first: the static choices
(models, loss, optimizers, data sampler, mitigations, placement) that `make_train_step` binds, so
the compiled step sees arrays only. Mitigations plug in through their hooks (see
`gan_jax.mitigations.base`): transforms of every D input, extra terms of either objective, logged
scalars, and the critic G's loss is computed against (look-ahead D updates of the unrolled GAN).
The step never branches on a mitigation's name.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax

from gan_jax.losses import AdversarialLoss
from gan_jax.mitigations.base import CriticForG, Mitigation, TermInputs
from gan_jax.models import GAN, CriticOutput
from gan_jax.models.critic import input_geometry
from gan_jax.training.state import GANState, apply_model, apply_sowing

Metrics = dict[str, jax.Array]


@dataclasses.dataclass(frozen=True)
class Game:
    """What one step closes over; all static (hashable choices and pure functions).

    shard_batch: places each sampled batch (reals, labels, latents) for data parallelism;
      everything downstream follows the batch's placement.
    axis_name: the step runs as one replica of this named mapped axis (`jax.pmap`): each replica
      draws its own `batch_size` examples (its index is folded into the step key), and gradients,
      updated mutable collections, mitigation state and metrics are averaged over the axis, so
      all replicas hold the same state.
    """

    gan: GAN
    loss: AdversarialLoss
    sample_data: Callable
    g_opt: optax.GradientTransformation
    d_opt: optax.GradientTransformation
    batch_size: int
    n_critic: int = 1
    n_generator: int = 1
    ema_decay: Any = 0.0  # a float, or a JAX value traced per population member
    mitigations: tuple[Mitigation, ...] = ()
    shard_batch: Callable | None = None
    axis_name: str | None = None

    def pieces(self, hook: str) -> list[Mitigation]:
        return [m for m in self.mitigations if getattr(m, hook)]

    @property
    def split_batches(self) -> bool:  # D's output for one example depends on its batch
        return any(m.couples_batch for m in self.mitigations)

    @property
    def g_uses_real(self) -> bool:
        return self.loss.g_uses_real or any(m.g_needs_real for m in self.mitigations)

    @property
    def critic_geometry(self) -> dict:
        """How D reads its inputs, for penalties: samples per input, condition joined or not."""
        return input_geometry(self.gan.discriminator)

    @property
    def g_adversarial(self) -> bool:
        return not any(m.replaces_g_loss for m in self.mitigations)


class Batch(NamedTuple):
    """One training batch: reals with labels, and G's outputs for latents with the labels G was
    asked for (labels are None unless the GAN is conditional)."""

    real: jax.Array
    real_y: jax.Array | None
    fake: jax.Array
    fake_y: jax.Array | None


def make_train_step(gan: GAN, loss: AdversarialLoss, sample_data: Callable,
                    g_opt: optax.GradientTransformation, d_opt: optax.GradientTransformation,
                    batch_size: int, n_critic: int = 1, ema_decay: float = 0.0,
                    mitigations: Sequence[Mitigation] = (), shard_batch: Callable | None = None,
                    axis_name: str | None = None, n_generator: int = 1
                    ) -> Callable[[GANState, Any], tuple[GANState, Metrics]]:
    """Return `step(state, data_arrays) -> (state, metrics)`, pure and jit-able (see `Game`).

    Randomness comes from fold_in(state.key, state.step), so replaying from any saved state
    reproduces the same run exactly.
    """
    game = Game(gan, loss, sample_data, g_opt, d_opt, batch_size, n_critic, n_generator,
                ema_decay, tuple(mitigations), shard_batch, axis_name)
    return functools.partial(train_step, game)


def train_step(game: Game, state: GANState, data) -> tuple[GANState, Metrics]:
    key = jax.random.fold_in(state.key, state.step)
    if game.axis_name is not None:  # every replica draws its own share of the batch
        key = jax.random.fold_in(key, jax.lax.axis_index(game.axis_name))
    keys = jax.random.split(key, game.n_critic + game.n_generator)
    metrics: Metrics = {}
    for i in range(game.n_critic):  # unrolled: n_critic and n_generator are small and static
        state, d_metrics = d_update(game, state, data, keys[i])
        metrics.update(d_metrics)
    for i in range(game.n_critic, game.n_critic + game.n_generator):
        state, g_metrics = g_update(game, state, data, keys[i])
        metrics.update(g_metrics)
    return state.replace(step=state.step + 1), replica_mean(game, metrics)


def d_update(game: Game, state: GANState, data, key) -> tuple[GANState, Metrics]:
    """One discriminator update on a fresh batch (G's output held fixed)."""
    kb, kd = jax.random.split(key)
    batch, g_state = sample_batch(game, data, kb, state.g_params, state.g_state)
    batch = batch._replace(fake=jax.lax.stop_gradient(batch.fake))
    grads, (d_state, extras, scalars) = jax.grad(d_objective, argnums=1, has_aux=True)(
        game, state.d_params, state.d_state, state.extras, batch, kd, state.step)
    grads, d_state, g_state, extras = replica_mean(game, (grads, d_state, g_state, extras))
    updates, d_opt_state = game.d_opt.update(grads, state.d_opt, state.d_params)
    state = state.replace(d_params=optax.apply_updates(state.d_params, updates),
                          d_opt=d_opt_state, d_state=d_state, g_state=g_state, extras=extras)
    return state, {**scalars, "d/grad_norm": optax.tree.norm(grads)}


def g_update(game: Game, state: GANState, data, key) -> tuple[GANState, Metrics]:
    """One generator update, then the EMA of its weights."""
    kz, kx, ky, kt, ku = jax.random.split(key, 5)
    real, real_y, z, fake_y = draw(game, data, kz, kx, ky)
    grads, (g_state, d_state, scalars) = jax.grad(g_objective, argnums=1, has_aux=True)(
        game, state.g_params, state, data, real, real_y, z, fake_y, kt, ku)
    grads, g_state, d_state = replica_mean(game, (grads, g_state, d_state))
    updates, g_opt_state = game.g_opt.update(grads, state.g_opt, state.g_params)
    g_params = optax.apply_updates(state.g_params, updates)
    ema = state.ema_params
    if ema is not None:
        decay = game.ema_decay
        ema = jax.tree_util.tree_map(lambda e, p: decay * e + (1 - decay) * p, ema, g_params)
    state = state.replace(g_params=g_params, g_opt=g_opt_state, g_state=g_state,
                          d_state=d_state, ema_params=ema)
    return state, {**scalars, "g/grad_norm": optax.tree.norm(grads)}


def d_objective(game: Game, d_params, d_state, extras, batch: Batch, key, step):
    """D's loss (adversarial + its terms) -> (value, (new d_state, new extras, scalars))."""
    k_in, k_terms, k_log = jax.random.split(key, 3)
    real_out, fake_out, new_d_state = discriminate(game, d_params, d_state, batch, k_in, step)
    adversarial = game.loss.d_loss(real_out.logits, fake_out.logits)
    inputs = TermInputs(critic_fn(game, d_params, d_state), batch.real, batch.real_y, batch.fake,
                        batch.fake_y, real_out, fake_out, k_terms, step, None, d_state,
                        **game.critic_geometry)
    value, scalars, extras = add_terms(game.pieces("d_term"), "d_term", adversarial, inputs,
                                       extras, k_terms)
    for m in game.pieces("log"):
        scalars.update(m.scalar_names(jax.lax.stop_gradient(m.log(inputs._replace(key=k_log)))))
    scalars.update({"d/loss": adversarial, "d/real_logit": jnp.mean(real_out.logits),
                    "d/fake_logit": jnp.mean(fake_out.logits)})
    return value, (new_d_state, extras, scalars)


def g_objective(game: Game, g_params, state: GANState, data, real, real_y, z, fake_y, kt, ku):
    """G's loss against the critic (after look-ahead updates when a mitigation asks for them)
    -> (value, (new g_state, new d_state, scalars))."""
    D = game.gan.discriminator
    fake, g_state, g_sown = apply_sowing(game.gan.generator, g_params, state.g_state, z, fake_y)
    d_params, scalars = critic_for_g(game, state, data, g_params, ku)
    kr, kf = jax.random.split(kt)
    fake_out, d_state = apply_model(D, d_params, state.d_state, transform(game, kf, fake, state.step),
                                    fake_y, train=True)
    real_out, real_logits = None, jnp.zeros_like(fake_out.logits)
    if game.g_uses_real:
        real_out, d_state = apply_model(D, d_params, d_state, transform(game, kr, real, state.step),
                                        real_y, train=True)
        real_logits = real_out.logits
    adversarial = game.loss.g_loss(real_logits, fake_out.logits)
    inputs = TermInputs(critic_fn(game, d_params, state.d_state), real, real_y, fake, fake_y,
                        real_out, fake_out, kt, state.step, None, state.d_state, g_params,
                        g_sown, **game.critic_geometry)
    value, term_scalars, _ = add_terms(game.pieces("g_term"), "g_term",
                                       adversarial if game.g_adversarial else 0.0, inputs,
                                       state.extras, kt)
    return value, (g_state, d_state, {**scalars, **term_scalars, "g/loss": adversarial})


def critic_for_g(game: Game, state: GANState, data, g_params, key):
    """The D parameters G's loss sees: D's own, or what a mitigation's `critic_for_g` hook
    makes of them (look-ahead updates, differentiable in g_params) -> (d_params, scalars)."""
    d_params, scalars = state.d_params, {}

    def update_d(d_params, d_opt_state, key):
        """One D update against G(g_params), as `d_update` does it; differentiable."""
        kb, kd = jax.random.split(key)
        batch, _ = sample_batch(game, data, kb, g_params, state.g_state)
        grads, _ = jax.grad(d_objective, argnums=1, has_aux=True)(
            game, d_params, state.d_state, state.extras, batch, kd, state.step)
        updates, d_opt_state = game.d_opt.update(replica_mean(game, grads), d_opt_state, d_params)
        return optax.apply_updates(d_params, updates), d_opt_state

    for i, m in enumerate(game.pieces("critic_for_g")):
        d_params, own = m.critic_for_g(CriticForG(d_params, state.d_opt, update_d,
                                                  jax.random.fold_in(key, i)))
        scalars.update(m.scalar_names(own))
    return d_params, scalars


def sample_batch(game: Game, data, key, g_params, g_state) -> tuple[Batch, Any]:
    """A batch with G's samples at `g_params` -> (batch, G's updated collections)."""
    real, real_y, z, fake_y = draw(game, data, *jax.random.split(key, 3))
    fake, g_state = apply_model(game.gan.generator, g_params, g_state, z, fake_y, train=True)
    return Batch(real, real_y, fake, fake_y), g_state


def draw(game: Game, data, kz, kx, ky):
    """Reals with labels, latents with the labels G is asked for, placed per `shard_batch`."""
    gan, n = game.gan, game.batch_size
    real, real_y = game.sample_data(data, kx, n)
    z = gan.sample_latent(kz, n)
    if gan.pairing is not None:  # G answers each real example: one condition for both players
        real_y = fake_y = gan.pairing.train(ky, real, real_y)
    else:
        fake_y = gan.sample_labels(ky, n)
        real_y = real_y if gan.num_classes else None  # labels reach the models when conditional
    shard = game.shard_batch or (lambda x: x)
    return tuple(None if x is None else shard(x) for x in (real, real_y, z, fake_y))


def discriminate(game: Game, d_params, d_state, batch: Batch, key, step):
    """D on (transformed) real and fake samples -> (real_out, fake_out, d_state)."""
    D = game.gan.discriminator
    kr, kf = jax.random.split(key)
    real, fake = transform(game, kr, batch.real, step), transform(game, kf, batch.fake, step)
    if d_state or game.split_batches:  # batch statistics: real and fake batches apart
        real_out, d_state = apply_model(D, d_params, d_state, real, batch.real_y, train=True)
        fake_out, d_state = apply_model(D, d_params, d_state, fake, batch.fake_y, train=True)
        return real_out, fake_out, d_state
    # D is per-example, so one call on both halves is the same and faster.
    y = None if batch.real_y is None else jnp.concatenate([batch.real_y, batch.fake_y])
    out, d_state = apply_model(D, d_params, d_state, jnp.concatenate([real, fake]), y, train=True)
    half = out.logits.shape[0] // 2
    first = lambda a: None if a is None else a[:half]  # noqa: E731
    second = lambda a: None if a is None else a[half:]  # noqa: E731
    return CriticOutput(*map(first, out)), CriticOutput(*map(second, out)), d_state


def transform(game: Game, key, x, step):
    """Every input transform (augmentation, noise), in order, on one batch of D inputs."""
    for i, m in enumerate(game.pieces("transform_input")):
        x = m.transform_input(jax.random.fold_in(key, i), x, step)
    return x


def critic_fn(game: Game, d_params, d_state):
    """Raw D for terms: same parameters and statistics, updated collections discarded."""
    D = game.gan.discriminator
    return lambda x, y=None: apply_model(D, d_params, d_state, x, y, train=True)[0]


def add_terms(pieces, attr, value, inputs: TermInputs, extras, key):
    """value + every piece's term -> (value, scalars, extras with the pieces' new states)."""
    scalars, extras = {}, dict(extras)
    for i, m in enumerate(pieces):
        term = getattr(m, attr)(inputs._replace(key=jax.random.fold_in(key, i),
                                                state=extras.get(m.name)))
        value = value + term.value
        scalars.update(m.scalar_names(term.scalars))
        if term.state is not None:
            extras[m.name] = term.state
    return value, scalars, extras


def replica_mean(game: Game, tree):
    """Average floating leaves over the replicas (identity without `axis_name`)."""
    if game.axis_name is None:
        return tree
    return jax.tree_util.tree_map(
        lambda x: jax.lax.pmean(x, game.axis_name) if jnp.issubdtype(x.dtype, jnp.floating) else x,
        tree)


def make_train_chunk(step: Callable, num_steps: int) -> Callable:
    """Run `num_steps` steps in one call with `lax.scan`; metrics come back stacked [num_steps]."""

    def chunk(state: GANState, data) -> tuple[GANState, Metrics]:
        return jax.lax.scan(lambda s, _: step(s, data), state, None, length=num_steps)

    return chunk

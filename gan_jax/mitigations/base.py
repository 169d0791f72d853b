"""What a mitigation is: optional pure hooks into the training step.

The step never knows a mitigation's name. It calls, for every selected `Mitigation`:
  edit_critic / wrap_*   once, when the models are built (packing, minibatch layers, spectral norm);
  transform_input        on every discriminator input, real and fake alike (augmentation, noise);
  d_term / g_term        extra terms of the players' objectives (penalties, regularisers);
  log                    scalars about the mitigation, computed from the same inputs;
  critic_for_g           the D parameters G's loss is computed against (look-ahead updates);
and reads a few static facts (whether D couples the batch, whether G's term needs reals).
Each term's scalars go to TensorBoard as `mitigation/<name>/<scalar>`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import flax.linen as nn
import jax

from gan_jax.models.critic import Critic, CriticOutput

Scalars = dict[str, jax.Array]


class TermInputs(NamedTuple):
    """Everything a term may read, at the current parameters of the player being updated."""

    critic: Callable[..., CriticOutput]  # critic(x, y=None): raw D (no input transforms)
    real: jax.Array
    real_y: jax.Array | None
    fake: jax.Array
    fake_y: jax.Array | None
    real_out: CriticOutput | None        # D's outputs in the adversarial loss (transformed inputs)
    fake_out: CriticOutput
    key: jax.Array
    step: jax.Array
    state: Any                           # this mitigation's state (see `Mitigation.init_state`)
    d_state: Any                         # D's mutable collections (batch stats, spectral-norm u)
    g_params: Any = None                 # G's parameters being updated (G's terms only), for
                                         # terms on G's internals (GANomaly's encoder loss)
    g_sown: Any = None                   # what G sowed into 'intermediates' for this batch (G's
                                         # terms only): CTGAN's raw logits
    pack: int = 1                        # samples per D input (PacGAN): penalties take one
                                         # interpolation and one gradient norm per pack
    condition_is_input: bool = False     # D reads each example's condition vector joined to it
                                         # (CTGAN): penalties differentiate w.r.t. it too


class CriticForG(NamedTuple):
    """What a `critic_for_g` hook may use to choose the D that G's loss sees."""

    d_params: Any                        # D's parameters so far (the step's, or an earlier hook's)
    d_opt_state: Any                     # D's optimizer state in the training state
    update_d: Callable[..., Any]         # update_d(d_params, d_opt_state, key) -> (d_params,
                                         # d_opt_state): one D update against G at the parameters
                                         # being differentiated, differentiable in them
    key: jax.Array


class Term(NamedTuple):
    value: jax.Array                     # added to the player's objective
    scalars: Scalars = {}
    state: Any = None                    # the mitigation's new state, when it has one


@dataclasses.dataclass(frozen=True)
class Mitigation:
    name: str
    edit_critic: Callable[[Critic], Critic] | None = None
    wrap_discriminator: Callable[[nn.Module], nn.Module] | None = None  # after all edits
    wrap_generator: Callable[[nn.Module], nn.Module] | None = None
    transform_input: Callable[[jax.Array, jax.Array, jax.Array], jax.Array] | None = None  # (key, x, step)
    d_term: Callable[[TermInputs], Term] | None = None
    g_term: Callable[[TermInputs], Term] | None = None
    log: Callable[[TermInputs], Scalars] | None = None  # evaluated in the D update
    init_state: Callable[[], Any] | None = None
    # (CriticForG) -> (d_params, scalars): the D G's loss sees; G differentiates through it.
    critic_for_g: Callable[[CriticForG], tuple[Any, Scalars]] | None = None
    couples_batch: bool = False    # D's output for one example depends on the rest of its batch
    g_needs_real: bool = False     # g_term reads real samples
    replaces_g_loss: bool = False  # g_term replaces the adversarial generator loss
    prefix: str = "mitigation"     # scalars are logged as <prefix>/<name>/<scalar>

    def scalar_names(self, scalars: Scalars) -> Scalars:
        return {f"{self.prefix}/{self.name}/{k}": v for k, v in scalars.items()}

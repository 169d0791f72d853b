"""From a composed config to the objects a run needs (plain objects, no Hydra)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import optax

from gan_jax import data as data_lib
from gan_jax import losses, mitigations, models
from gan_jax import parallel
from gan_jax.numeric_settings import number
from gan_jax.config.validate import validate
from gan_jax.data.spec import Dataset, category_sampler
from gan_jax.errors import ConfigError
from gan_jax.mitigations import penalties
from gan_jax.mitigations.acgan import build_acgan
from gan_jax.mitigations.base import Mitigation, Term, TermInputs
from gan_jax.models import GAN, cfgan, ganomaly, tabular
from gan_jax.training import optim, text_phases
from gan_jax.training.phases import Phase
from gan_jax.training.state import GANState, init_state, sown
from gan_jax.training.step import make_train_step


@dataclasses.dataclass(frozen=True)
class Setup:
    data: Dataset
    gan: GAN
    g_opt: optax.GradientTransformation
    d_opt: optax.GradientTransformation
    pieces: tuple[Mitigation, ...]  # selected mitigations plus loss/conditioning terms
    step: Callable  # pure step(state, data_arrays) -> (state, metrics); the last phase's
    cfg: Any
    phases: tuple[Phase, ...] = ()  # a model's phases (`MODEL_PHASES`); () for one phase

    def schedule(self) -> tuple[Phase, ...]:
        """The run's phases in order (`gan_jax.training.phases`): the model's, or one phase whose
        step is the plain step."""
        return self.phases or (Phase("train", None, self.step),)

    def init_state(self, use_ema: bool | None = None, seed: Any = None) -> GANState:
        """`use_ema`: keep an EMA generator (default: when optim.ema_decay > 0); `seed`: the
        config's seed by default (a traced seed initialises population members in one call)."""
        extras = {m.name: m.init_state() for m in self.pieces if m.init_state}
        if use_ema is None:
            use_ema = float(self.cfg["optim"]["ema_decay"]) > 0
        seed = int(self.cfg["seed"]) if seed is None else seed
        return init_state(self.gan, self.data.shape, self.g_opt, self.d_opt, seed, use_ema,
                          int(self.cfg["trainer"]["batch_size"]), extras)


def wgan_gp_extras(cfg: Any, selected: dict) -> tuple[tuple[Mitigation, ...], None]:
    """WGAN-GP: the Wasserstein loss plus its gradient penalty (logged as loss/wgan_gp/...)."""
    if "wgan_gp" in selected:
        raise ConfigError("loss=wgan_gp already includes the gradient penalty; drop "
                          "mitigation=wgan_gp or use loss=wasserstein with it.")
    return (penalties.build_wgan_gp({"weight": cfg["gp_weight"]}, None, 0, prefix="loss"),), None


def wasserstein_extras(cfg: Any, selected: dict) -> tuple[tuple[Mitigation, ...], Any]:
    """WGAN: D's weights clipped to [-clip, clip] after every update."""
    return (), number(cfg["clip"])


# loss.name -> what that loss adds beyond a function of logits: (pieces, D weight clip).
LOSS_EXTRAS: dict[str, Callable] = {"wgan_gp": wgan_gp_extras, "wasserstein": wasserstein_extras}


def cfgan_terms(cfg: Any, gan: GAN, data: Dataset) -> tuple[Mitigation, ...]:
    """CFGAN's zero reconstruction in G's loss (schemes zr and zp), logged as model/zr/..."""
    if cfg["scheme"] not in ("zr", "zp"):
        return ()
    weight = number(cfg["zr_weight"])

    def g_term(inputs: TermInputs) -> Term:
        value = cfgan.zero_reconstruction(inputs.fake, inputs.fake_y)
        return Term(weight * value, {"penalty": value})

    return (Mitigation("zr", g_term=g_term, prefix="model"),)


def ganomaly_terms(cfg: Any, gan: GAN, data: Dataset) -> tuple[Mitigation, ...]:
    """GANomaly's contextual and encoder losses in G's objective, logged as model/ganomaly/..."""
    w_con, w_enc = number(cfg["contextual_weight"]), number(cfg["encoder_weight"])

    def g_term(inputs: TermInputs) -> Term:
        losses = ganomaly.objective_terms(gan.generator, inputs.g_params, inputs.real, inputs.fake)
        return Term(w_con * losses["contextual"] + w_enc * losses["encoder"], losses)

    return (Mitigation("ganomaly", g_term=g_term, prefix="model"),)


def tabular_terms(cfg: Any, gan: GAN, data: Dataset) -> tuple[Mitigation, ...]:
    """CTGAN's conditional loss in G's objective (G's one-hot must answer its condition),
    logged as model/condition/...; none for a table without discrete columns."""
    if not data.table.num_options:
        return ()
    weight, positions = number(cfg["condition_weight"]), data.table.positions
    spans = tuple((s.start, s.width, s.activation) for s in data.table.transform.spans)

    def g_term(inputs: TermInputs) -> Term:
        logits = sown(inputs.g_sown, "logits")  # G's raw outputs, before Gumbel-softmax
        value = tabular.condition_loss(logits, inputs.fake_y, positions, spans)
        return Term(weight * value, {"cross_entropy": value})

    return (Mitigation("condition", g_term=g_term, prefix="model"),)


# model.name -> (model cfg, GAN, data) -> objective terms the model brings.
MODEL_TERMS: dict[str, Callable] = {"cfgan": cfgan_terms, "ganomaly": ganomaly_terms,
                                    "tabular": tabular_terms}


def timegan_phases(cfg: Any, gan: GAN, sample: Callable, g_opt, d_opt, batch_size: int,
                   plain_step: Callable):
    from gan_jax.training import timegan_phases as tp  # noqa: PLC0415  (TimeGAN's runs only)
    return tp.build(cfg, gan, sample, g_opt, d_opt, batch_size)


def relgan_phases(cfg: Any, gan: GAN, sample: Callable, g_opt, d_opt, batch_size: int,
                  plain_step: Callable):
    """Maximum-likelihood pretraining, then the plain step at an annealed Gumbel temperature."""
    return text_phases.build(cfg, gan, sample, g_opt, batch_size, plain_step)


def lm_phases(cfg: Any, gan: GAN, sample: Callable, g_opt, d_opt, batch_size: int,
              plain_step: Callable):
    """RelGAN's generator trained by maximum likelihood alone (its D is never used)."""
    return text_phases.build(cfg, gan, sample, g_opt, batch_size, None)


# model.name -> (cfg, GAN, data sampler, G's optimizer, D's optimizer, batch size, the plain step)
# -> (G's optimizer as the state holds it, phases): models that train in phases, with steps of
# their own or the plain step as one of them.
MODEL_PHASES: dict[str, Callable] = {"timegan": timegan_phases, "relgan": relgan_phases,
                                     "lm": lm_phases}


def loss_pieces(cfg: Any, selected: dict) -> tuple[tuple[Mitigation, ...], Any]:
    extras = LOSS_EXTRAS.get(cfg["name"])
    return extras(cfg, selected) if extras else ((), None)


def apply_model_changes(gan: GAN, pieces) -> GAN:
    """Critic edits (packing, minibatch layers) first, then wrappers (spectral norm)."""
    d, g = gan.discriminator, gan.generator
    for m in pieces:
        d = m.edit_critic(d) if m.edit_critic else d
    for m in pieces:
        d = m.wrap_discriminator(d) if m.wrap_discriminator else d
        g = m.wrap_generator(g) if m.wrap_generator else g
    return dataclasses.replace(gan, generator=g, discriminator=d)


def build(cfg: Any, data: Dataset | None = None, shard_batch: Callable | None = None,
          replicas: parallel.Replicas | None = None) -> Setup:
    """Validate `cfg` (a mapping with data/model/loss/optim/trainer/mitigation/seed) and build.

    `data`: the dataset when already loaded; `shard_batch`: see `make_train_step`; `replicas`:
    build the step of one `trainer.parallel=pmap` replica (its share of the batch).
    """
    validate(cfg)
    data = data or data_lib.build(cfg["data"])
    try:
        setup = assemble(cfg, data, shard_batch, replicas)
    except ConfigError as e:
        if not replicas:
            raise
        assemble(cfg, data, shard_batch)  # raises the error itself when not the batch share's
        batch, n = int(cfg["trainer"]["batch_size"]), replicas.size
        raise ConfigError(f"{e} (With trainer.parallel=pmap this applies to each device's batch, "
                          f"trainer.batch_size / {n} = {replicas.per_device(batch)}, not to "
                          f"trainer.batch_size={batch}: choose trainer.batch_size as {n} times "
                          f"a per-device batch that passes.)") from e
    try:  # shapes only, nothing computed: catches settings that only clash inside the models
        jax.eval_shape(setup.init_state)
    except ValueError as e:
        raise ConfigError(f"the models cannot be built with this config: {e}") from e
    return setup


def assemble(cfg: Any, data: Dataset, shard_batch: Callable | None = None,
             replicas: parallel.Replicas | None = None) -> Setup:
    """Build without checks. Numeric settings may be JAX values (traced per population member)."""
    batch_size = int(cfg["trainer"]["batch_size"])
    axis_name = bn_axis = None
    if replicas:  # the step of one replica: its share of the batch, collectives over the axis
        batch_size, axis_name = replicas.per_device(batch_size), replicas.axis_name
        bn_axis = replicas.batch_stats_axis
    gan = models.build(cfg["model"], data, bool(cfg["data"].get("conditional", False)), bn_axis)
    selected = dict(cfg.get("mitigation") or {})
    pieces = mitigations.build(selected, data, batch_size)
    extra, clip = loss_pieces(cfg["loss"], selected)
    pieces += extra
    if getattr(gan.discriminator, "conditioning", None) == "acgan":  # a Critic's head
        pieces += (build_acgan(number(cfg["model"]["acgan_weight"])),)
    if cfg["model"]["name"] in MODEL_TERMS:
        pieces += MODEL_TERMS[cfg["model"]["name"]](cfg["model"], gan, data)
    gan = apply_model_changes(gan, pieces)
    g_opt, d_opt = optim.build(cfg["optim"], clip,
                               differentiable_d=any(m.critic_for_g for m in pieces))
    category = cfg["data"].get("category")
    sample = data.sample if category is None else category_sampler(data, number(category))
    step = make_train_step(gan, losses.get(cfg["loss"]["name"]), sample, g_opt, d_opt,
                           batch_size, int(cfg["optim"]["n_critic"]),
                           number(cfg["optim"]["ema_decay"]), pieces, shard_batch, axis_name,
                           int(cfg["optim"].get("n_generator", 1)))
    if cfg["model"]["name"] in MODEL_PHASES:
        if replicas:
            raise ConfigError(f"model={cfg['model']['name']} trains in phases with steps of its "
                              f"own, which do not average over pmap replicas; use "
                              f"trainer.parallel=none or trainer.parallel=data.")
        g_opt, phases = MODEL_PHASES[cfg["model"]["name"]](cfg, gan, sample, g_opt, d_opt,
                                                           batch_size, step)
        return Setup(data, gan, g_opt, d_opt, pieces, phases[-1].step, cfg, phases)
    return Setup(data, gan, g_opt, d_opt, pieces, step, cfg)

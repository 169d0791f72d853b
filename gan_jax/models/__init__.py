"""Generators and discriminators; `build` picks a pair from the model config and data spec."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import flax.linen as nn
import jax

from gan_jax.data.spec import Dataset
from gan_jax.errors import ConfigError
from gan_jax.numeric_settings import number
from gan_jax.models import cfgan, dcgan, ganomaly, mlp, rcgan, relgan, resnet, tabular, timegan
from gan_jax.models.critic import Critic, CriticOutput
from gan_jax.models.layers import output_activation



@dataclasses.dataclass(frozen=True)
class Pairing:
    """G answers each real example (CFGAN): both players see one condition per real example,
    `train(key, real, real_y) -> y` at every step (e.g. the example's vector with this step's
    negative samples) and `infer(real_y) -> y` at evaluation; `shape` is one condition's.

    critic_reads: how D sees the condition: "trunk" (its trunk reads (x, y) itself: CFGAN),
    "input" (joined to x before packing: CTGAN's tables) or "none" (D judges x alone: GANomaly).
    """

    train: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
    infer: Callable[[jax.Array], jax.Array]
    shape: tuple[int, ...]
    critic_reads: str = "trunk"
    noisy: bool = False  # G's answers vary with z (tables); False: one answer, at zero noise


@dataclasses.dataclass(frozen=True)
class GAN:
    """A generator/discriminator pair and its latent (and label) distribution; all static.

    generator(z, y=None, train) -> x;  discriminator(x, y=None, train) -> CriticOutput.
    num_classes > 0 makes both conditional on integer labels y; a `pairing` makes both
    conditional on each real example instead.
    """

    generator: nn.Module
    discriminator: nn.Module  # a Critic, possibly wrapped (e.g. spectral norm) by mitigations
    latent_dim: int
    latent_dist: str = "normal"
    num_classes: int = 0
    pairing: Pairing | None = None
    critic_shape: tuple[int, ...] | None = None  # D's input when not the data's (TimeGAN: embeddings)

    def sample_latent(self, key: jax.Array, n: int) -> jax.Array:
        if self.latent_dist == "uniform":
            return jax.random.uniform(key, (n, self.latent_dim), minval=-1.0, maxval=1.0)
        return jax.random.normal(key, (n, self.latent_dim))

    def sample_labels(self, key: jax.Array, n: int) -> jax.Array | None:
        """Uniform labels for conditional fakes; None for an unconditional GAN."""
        return jax.random.randint(key, (n,), 0, self.num_classes) if self.num_classes else None


def build_dcgan(cfg: Any, data: Dataset, out_act, num_classes: int, bn_axis: str | None):
    """(generator, discriminator trunk, D head init) of the DCGAN pair."""
    if not data.is_image or data.shape[0] % 4 or data.shape[1] % 4:
        raise ConfigError(f"model=dcgan needs images with height and width divisible by 4; "
                          f"data={data.name} has shape {data.shape}. Use model=mlp for it.")
    g = dcgan.Generator(tuple(data.shape), out_act, cfg["width"], cfg["fc_width"], cfg["init_std"],
                        num_classes, bn_axis)
    trunk = dcgan.Discriminator(cfg["width"], cfg["fc_width"], bool(cfg["d_batch_norm"]),
                                cfg["leak"], cfg["init_std"], bn_axis)
    return g, trunk, nn.initializers.normal(cfg["init_std"])


def build_resnet(cfg: Any, data: Dataset, out_act, num_classes: int, bn_axis: str | None):
    if not data.is_image or data.shape[0] != data.shape[1] or data.shape[0] % 4:
        raise ConfigError(f"model=resnet needs square images with a side divisible by 4 (e.g. "
                          f"28, 32, 64); data={data.name} has shape {data.shape}.")
    g = resnet.Generator(tuple(data.shape), out_act, cfg["g_width"], num_classes, bn_axis)
    return g, resnet.Discriminator(cfg["d_width"]), nn.initializers.lecun_normal()


def build_mlp(cfg: Any, data: Dataset, out_act, num_classes: int, bn_axis: str | None):
    # int() of a number traced per population member fails, which the population reports as a
    # structural setting.
    pieces, init_std = int(cfg["d_maxout_pieces"]), cfg["init_std"]
    g = mlp.Generator(tuple(data.shape), out_act, tuple(cfg["g_hidden"]), cfg["g_act"],
                      bool(cfg["g_batch_norm"]), num_classes, init_std, bn_axis)
    trunk = mlp.Discriminator(tuple(cfg["d_hidden"]), cfg["d_act"], pieces, init_std)
    return g, trunk, mlp.kernel_init(init_std)


def build_cfgan(cfg: Any, data: Dataset, out_act, num_classes: int, bn_axis: str | None):
    if data.interactions is None:
        raise ConfigError(f"model=cfgan needs interaction data (data=movielens_100k); "
                          f"data={data.name} has none.")
    g = cfgan.Generator(data.shape[0], tuple(cfg["g_hidden"]))
    return g, cfgan.Discriminator(tuple(cfg["d_hidden"])), nn.initializers.glorot_uniform()


def cfgan_pairing(cfg: Any, data: Dataset) -> Pairing:
    condition = cfgan.training_condition(cfg["scheme"], number(cfg["pm_ratio"]),
                                         number(cfg["zr_ratio"]))
    return Pairing(condition, cfgan.inference_condition, (3, data.shape[0]))


def build_ganomaly(cfg: Any, data: Dataset, out_act, num_classes: int, bn_axis: str | None):
    if not data.is_image or data.shape[0] % 4 or data.shape[1] % 4:
        raise ConfigError(f"model=ganomaly needs images with height and width divisible by 4; "
                          f"data={data.name} has shape {data.shape}.")
    width, fc_width = int(cfg["width"]), int(cfg["fc_width"])
    g = ganomaly.Generator(tuple(data.shape), out_act, int(cfg["latent_dim"]), width, fc_width,
                           bn_axis)
    trunk = dcgan.Discriminator(width, fc_width, False, 0.2, 0.02, bn_axis)
    return g, trunk, nn.initializers.normal(0.02)


def image_pairing(cfg: Any, data: Dataset) -> Pairing:
    """G answers each real image with its reconstruction; D judges images alone."""
    return Pairing(lambda key, real, real_y: real, lambda x: x, tuple(data.shape), critic_reads="none")


def build_tabular(cfg: Any, data: Dataset, out_act, num_classes: int, bn_axis: str | None):
    if data.table is None:
        raise ConfigError(f"model=tabular needs a table (data=cdnow, data=adult or data=table); "
                          f"data={data.name} is not one.")
    spans = tuple((s.start, s.width, s.activation) for s in data.table.transform.spans)
    g = tabular.Generator(spans, int(cfg["latent_dim"]), tuple(cfg["g_hidden"]),
                          batch_stats_axis=bn_axis)
    trunk = tabular.Discriminator(tuple(cfg["d_hidden"]), cfg["leak"])
    return g, trunk, nn.initializers.lecun_normal()


def table_pairing(cfg: Any, data: Dataset) -> Pairing:
    """Both players see the real batch's condition vectors (training-by-sampling draws the real
    rows to match them); D reads each joined to its row."""
    return Pairing(lambda key, real, real_y: real_y, lambda c: c, (data.table.num_options,),
                   critic_reads="input", noisy=True)


def build_rcgan(cfg: Any, data: Dataset, out_act, num_classes: int, bn_axis: str | None):
    """RCGAN's recurrent pair (`models.rcgan`); model.prefix_steps=w > 0 makes G continue the
    first w steps of each window."""
    if data.series is None:
        raise ConfigError(f"model=rcgan needs sequences (data=sines); data={data.name} holds none.")
    seq_len, features = data.shape
    w = int(cfg["prefix_steps"])
    if not 0 <= w < seq_len:
        raise ConfigError(f"model.prefix_steps={w} must lie in 0..{seq_len - 1}: G continues the "
                          f"first w of each window's {seq_len} steps (0: no prefix), e.g. "
                          f"model.prefix_steps={seq_len // 2}.")
    if w and num_classes:
        raise ConfigError(f"model.prefix_steps={w} with data.conditional=true: a prefix model "
                          f"reads one condition, its prefix; set model.prefix_steps=0 or drop "
                          f"data.conditional.")
    static = data.series.static
    if static and not w:
        raise ConfigError("data.categories_as_channels=true: G keeps the category channels of a "
                          "prefix, so set model.prefix_steps (e.g. 14), or drop "
                          "data.categories_as_channels.")
    hidden, layers, cell = int(cfg["hidden_dim"]), int(cfg["num_layers"]), cfg["cell"]
    g = rcgan.Generator(seq_len, features, out_act, int(cfg["z_dim"]), hidden, layers, cell,
                        num_classes, int(cfg["label_dim"]), w, static)
    return g, rcgan.Discriminator(hidden, layers, cell), nn.initializers.lecun_normal()


def rcgan_pairing(cfg: Any, data: Dataset) -> Pairing | None:
    """With a prefix, G answers each real window with a continuation of its first w steps; D
    judges whole windows alone. None without one."""
    w = int(cfg["prefix_steps"])
    if not w:
        return None
    return Pairing(*rcgan.prefix(w), (w, data.shape[1]), critic_reads="none", noisy=True)


def text_generator(cfg: Any, data: Dataset, num_classes: int) -> relgan.Generator:
    if data.text is None:
        raise ConfigError(f"model={cfg['name']} needs text (data=coco_captions or data=text_file); "
                          f"data={data.name} holds none.")
    seq_len, vocab = data.shape
    return relgan.Generator(seq_len, vocab, cfg["cell"], int(cfg["embed_dim"]), int(cfg["hidden_dim"]),
                            int(cfg["mem_slots"]), int(cfg["head_size"]), int(cfg["num_heads"]),
                            num_classes=num_classes,
                            label_dim=int(cfg["label_dim"]) if num_classes else 16)


def build_relgan(cfg: Any, data: Dataset, out_act, num_classes: int, bn_axis: str | None):
    """RelGAN's pair (`models.relgan`); the Critic's head gives one logit per representation."""
    g = text_generator(cfg, data, num_classes)
    width, reps = int(cfg["d_embed_dim"]), int(cfg["representations"])
    if width % reps:
        raise ConfigError(f"model.d_embed_dim={width} must be a multiple of model.representations="
                          f"{reps} (each representation reads d_embed_dim / representations "
                          f"columns), e.g. model.d_embed_dim={reps * max(1, width // reps)}.")
    if data.shape[0] < 5:
        raise ConfigError(f"model=relgan's D reads 5 tokens at a time; data.max_length="
                          f"{data.shape[0]} is shorter: raise it to at least 5.")
    trunk = relgan.Discriminator(width, reps, num_filters=int(cfg["num_filters"]))
    return g, trunk, relgan.linear_init(100)


def build_lm(cfg: Any, data: Dataset, out_act, num_classes: int, bn_axis: str | None):
    """RelGAN's G alone; D is a one-filter placeholder that the maximum-likelihood run never
    trains (the state keeps a D, so every command reads an lm run as any other)."""
    trunk = relgan.Discriminator(1, 1, filter_sizes=(1,), num_filters=1, fc_dim=1)
    return text_generator(cfg, data, num_classes), trunk, relgan.linear_init(1)


# model.name -> (cfg, data, output activation, classes, batch-norm axis) -> (G, D trunk, D head init).
BUILDERS = {"dcgan": build_dcgan, "mlp": build_mlp, "resnet": build_resnet, "cfgan": build_cfgan,
            "ganomaly": build_ganomaly, "tabular": build_tabular, "rcgan": build_rcgan,
            "relgan": build_relgan, "lm": build_lm}
def build_timegan(cfg: Any, data: Dataset) -> GAN:
    """TimeGAN's networks (`models.timegan`); its critic judges embeddings, not sequences."""
    if data.series is None:
        raise ConfigError(f"model=timegan needs sequences (data=sines); data={data.name} holds none.")
    seq_len, features = data.shape
    z_dim = int(cfg["z_dim"] or features)  # the authors' z_dim is the number of features
    hidden, layers, cell = int(cfg["hidden_dim"]), int(cfg["num_layers"]), cfg["cell"]
    g = timegan.TimeGAN(seq_len, features, z_dim, hidden, layers, cell)
    return GAN(g, timegan.Critic(hidden, layers, cell), seq_len * z_dim, "uniform",
               critic_shape=(seq_len, hidden))


# model.name -> (cfg, data) -> GAN: models whose pair is not a generator and a `Critic` (TimeGAN's
# five networks); they train in phases of their own (`training.setup.MODEL_PHASES`).
WHOLE_GANS = {"timegan": build_timegan}
# model.name -> (cfg, data) -> Pairing, for models whose G answers each real example.
# (None: this configuration of the model answers nothing, e.g. RCGAN without a prefix.)
PAIRINGS = {"cfgan": cfgan_pairing, "ganomaly": image_pairing, "tabular": table_pairing,
            "rcgan": rcgan_pairing}
NAMES = (*BUILDERS, *WHOLE_GANS)


def build(cfg: Any, data: Dataset, conditional: bool = False,
          batch_stats_axis: str | None = None) -> GAN:
    """`cfg` has the model group's keys (validated by gan_jax.config); shapes and output range
    come from `data`. conditional: condition G and D on the data's categories.
    batch_stats_axis: every batch norm averages its statistics over this mapped axis
    (`trainer.parallel=pmap` with `trainer.sync_batch_stats=true`); None: per device."""
    if cfg["name"] in WHOLE_GANS:
        if conditional:
            raise ConfigError(f"data.conditional=true: model={cfg['name']} is unconditional; drop "
                              f"data.conditional.")
        return WHOLE_GANS[cfg["name"]](cfg, data)
    if cfg["name"] not in BUILDERS:
        raise ConfigError(f"model.name={cfg['name']!r} is unknown; choose one of {', '.join(NAMES)}.")
    num_classes = 0
    if conditional:
        if not data.class_names:
            raise ConfigError(f"data.conditional=true needs labelled data; data={data.name} has no "
                              f"categories. Use data=fashion_mnist or data.conditional=false.")
        num_classes = len(data.class_names)
    g, trunk, head_init = BUILDERS[cfg["name"]](cfg, data, output_activation(data.value_range),
                                                num_classes, batch_stats_axis)
    conditioning = cfg.get("conditioning", "projection") if num_classes else None  # lm: D unused
    pairing = PAIRINGS[cfg["name"]](cfg, data) if cfg["name"] in PAIRINGS else None
    reads = pairing.critic_reads if pairing is not None else "none"
    d = Critic(trunk, num_classes=num_classes, conditioning=conditioning, head_init=head_init,
               trunk_reads_condition=reads == "trunk", joins_condition=reads == "input")
    # Generators that draw their own noise from z (tabular: Gumbel noise; rcgan: all of it,
    # per step) widen the latent.
    latent_dim = int(cfg.get("latent_dim", 0)) + getattr(g, "noise_dim", 0)
    return GAN(g, d, latent_dim, cfg.get("latent_dist", "normal"), num_classes, pairing)


__all__ = ["BUILDERS", "GAN", "NAMES", "Pairing", "Critic", "CriticOutput", "build"]

"""One dataclass per config group option: every key of every yaml in conf/, typed and ranged.

The yaml files hold the values and their comments; these classes say what each key must be.
`gan_jax.config.validate` checks a composed config against them before anything is built or
written, and tests/config/test_schemas.py keeps them and conf/ in step (same keys, every key read).
Options are selected by the group's `name` key (data, model, loss, optim) or by the mitigation's
own name; the option names equal the code names they select.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from gan_jax.config.checks import (at_least, comma_list_of, each, fraction, non_negative,
                                   only, one_of, open_fraction, positive, positive_multiple_of,
                                   setting)
from gan_jax.losses import LOSSES
from gan_jax.mitigations.augment import POLICIES
from gan_jax.models.cfgan import SCHEMES as CFGAN_SCHEMES
from gan_jax.models.critic import CONDITIONINGS
from gan_jax.models.layers import ACTIVATIONS

dataclass = dataclasses.dataclass(frozen=True)
LATENT_DISTS = ("normal", "uniform")
SPLITS = ("train", "test")

# ---- data: datasets (gan_jax/data) ----


@dataclass
class FashionMNIST:
    name: str = setting()
    split: str = setting(one_of(*SPLITS))
    root: Optional[str] = setting()
    download: bool = setting()
    conditional: bool = setting()
    category: Optional[int] = setting(one_of(*range(10)), "a category index 0-9, e.g. "
                                      "data.category=7 for sneakers")


@dataclass
class StackedFashionMNIST:
    name: str = setting()
    split: str = setting(one_of(*SPLITS))
    root: Optional[str] = setting()
    download: bool = setting()
    num_points: int = setting(positive)
    seed: int = setting(non_negative)
    conditional: bool = setting(only(False, "1000 triple modes are not categories to condition on"))


@dataclass
class ImageFolder:
    name: str = setting()
    root: str = setting(fix="data=image_folder needs the folder of your photos, e.g. "
                            "data.root=/path/to/photos")
    resolution: int = setting(positive_multiple_of(4), "the models halve it twice, e.g. 32 or 64")
    channels: int = setting(one_of(1, 3))
    cache_dir: Optional[str] = setting()
    conditional: bool = setting()


@dataclass
class Mixture:
    name: str = setting()
    num_points: int = setting(positive)
    seed: int = setting(non_negative)


@dataclass
class Sines:
    name: str = setting()
    num_sequences: int = setting(at_least(2))
    seq_len: int = setting(at_least(2), "the supervisor predicts the next step")
    features: int = setting(positive)
    heldout: int = setting(positive)
    seed: int = setting(non_negative)


@dataclass
class SeriesFile:
    name: str = setting()
    path: str = setting(fix="data=series_file needs your file, e.g. data.path=demand.csv")
    id_column: str = setting(fix="name the column that tells the series apart, e.g. "
                                 "data.id_column=store")
    time_column: Optional[str] = setting()
    feature_columns: list[str] = setting()
    category_column: Optional[str] = setting()
    seq_len: int = setting(at_least(2), "the supervisor predicts the next step")
    stride: int = setting(positive)
    heldout_fraction: float = setting(open_fraction)
    seed: int = setting(non_negative)
    conditional: bool = setting()


@dataclass
class M5:
    name: str = setting()
    root: Optional[str] = setting()
    seq_len: int = setting(at_least(2), "the supervisor predicts the next step")
    stride: int = setting(positive)
    final_days: int = setting(non_negative)
    heldout_fraction: float = setting(open_fraction)
    condition_on: str = setting(one_of("dept_id", "cat_id", "store_id", "state_id", "dept_store"))
    transform: Optional[str] = setting(one_of("log1p", None))
    categories_as_channels: bool = setting()
    dequantize: bool = setting()
    stores: Optional[list[str]] = setting()
    seed: int = setting(non_negative)
    conditional: bool = setting()


@dataclass
class SalesTable:
    name: str = setting()
    path: str = setting(fix="data=sales_table needs your sales export, e.g. data.path=sales.csv")
    id_column: str = setting()
    date_column: str = setting()
    units_column: str = setting()
    category_column: Optional[str] = setting()
    seq_len: int = setting(at_least(2), "the supervisor predicts the next step")
    stride: int = setting(positive)
    final_days: int = setting(non_negative)
    heldout_fraction: float = setting(open_fraction)
    transform: Optional[str] = setting(one_of("log1p", None))
    categories_as_channels: bool = setting()
    dequantize: bool = setting()
    seed: int = setting(non_negative)
    conditional: bool = setting()


@dataclass
class CocoCaptions:
    name: str = setting()
    root: Optional[str] = setting()
    download: bool = setting()
    max_length: Optional[int] = setting(positive, "tokens per sentence, or null for the longest "
                                        "training sentence")
    vocab_size: Optional[int] = setting(at_least(3), "<eos>, <unk> and at least one word")
    text_encoder: str = setting(one_of("coco", "reviews"))


@dataclass
class TextFile:
    name: str = setting()
    path: str = setting(fix="data=text_file needs your file, e.g. data.path=reviews.txt")
    test_path: Optional[str] = setting()
    max_length: Optional[int] = setting(positive, "tokens per sentence, or null for the longest "
                                        "training sentence")
    vocab_size: Optional[int] = setting(at_least(3), "<eos>, <unk> and at least one word")
    text_encoder: str = setting(one_of("coco", "reviews"))


@dataclass
class Reviews:
    name: str = setting()
    root: Optional[str] = setting()
    title: bool = setting()
    max_length: Optional[int] = setting(positive, "tokens per review, or null for the longest "
                                        "training review")
    vocab_size: Optional[int] = setting(at_least(3), "<eos>, <unk> and at least one word")
    text_encoder: str = setting(one_of("coco", "reviews"))
    validation_fraction: float = setting(open_fraction)
    test_fraction: float = setting(open_fraction)
    seed: int = setting(non_negative)
    conditional: bool = setting()
    condition_on: str = setting(one_of("rating", "department"))


@dataclass
class ReviewTable:
    name: str = setting()
    path: str = setting(fix="data=review_table needs your file, e.g. data.path=my_reviews.csv")
    text: str = setting(fix="name the column of review texts, e.g. data.text=review")
    label: Optional[str] = setting()
    rating: Optional[str] = setting()
    max_length: Optional[int] = setting(positive, "tokens per review, or null for the longest "
                                        "training review")
    vocab_size: Optional[int] = setting(at_least(3), "<eos>, <unk> and at least one word")
    text_encoder: str = setting(one_of("coco", "reviews"))
    validation_fraction: float = setting(open_fraction)
    test_fraction: float = setting(open_fraction)
    seed: int = setting(non_negative)
    conditional: bool = setting()
    condition_on: Optional[str] = setting(one_of("rating", "label"))


@dataclass
class MovieLens:
    name: str = setting()
    root: Optional[str] = setting()
    download: bool = setting()
    split: str = setting(one_of("validation", "test"))
    test_fraction: float = setting(open_fraction)
    validation_fraction: float = setting(open_fraction)
    seed: int = setting(non_negative)
    rows: str = setting(one_of("items", "users"))
    test_file: Optional[str] = setting()


def constraint_rules(texts) -> str | None:
    """data.constraints: each rule parses (its columns are checked when the table is read)."""
    from gan_jax.data.constraints import parse  # noqa: PLC0415  (pandas, tables only)
    from gan_jax.errors import ConfigError  # noqa: PLC0415
    try:
        parse(texts)
    except ConfigError as e:
        return "is refused: " + str(e).removeprefix("data.constraints: ").rstrip(".")
    return None


@dataclass
class TableBase:
    name: str = setting()
    split: str = setting(one_of("validation", "test"))
    test_fraction: float = setting(open_fraction)
    validation_fraction: float = setting(open_fraction)
    seed: int = setting(non_negative)
    train_size: Optional[int] = setting(at_least(10), "at least 10 training rows")
    max_modes: int = setting(at_least(1))
    constraints: list[str] = setting(constraint_rules, "e.g. data.constraints=['recency <= T', "
                                     "'monetary_value = 0 when frequency = 0']")


@dataclass
class CDNOW(TableBase):
    root: Optional[str] = setting()


@dataclass
class Adult(TableBase):
    root: Optional[str] = setting()


@dataclass
class Table(TableBase):
    path: str = setting(fix="data=table needs your file, e.g. data.path=customers.csv")
    target: str = setting(fix="name the binary column to predict, e.g. data.target=churned")
    discrete: list[str] = setting()


# ---- model: generator/discriminator pairs (gan_jax/models) ----


@dataclass
class ModelBase:
    name: str = setting()
    latent_dim: int = setting(positive)
    latent_dist: str = setting(one_of(*LATENT_DISTS))
    conditioning: str = setting(one_of(*CONDITIONINGS))
    acgan_weight: float = setting(non_negative)


@dataclass
class DCGAN(ModelBase):
    width: int = setting(positive)
    fc_width: int = setting(positive)
    d_batch_norm: bool = setting()
    leak: float = setting(fraction)
    init_std: float = setting(positive)


@dataclass
class MLP(ModelBase):
    g_hidden: list[int] = setting(each(positive))
    d_hidden: list[int] = setting(each(positive))
    g_act: str = setting(one_of(*ACTIVATIONS))
    d_act: str = setting(one_of(*ACTIVATIONS))
    g_batch_norm: bool = setting()
    d_maxout_pieces: int = setting(at_least(1))
    init_std: Optional[float] = setting(positive)


@dataclass
class ResNet(ModelBase):
    g_width: int = setting(positive)
    d_width: int = setting(positive)


@dataclass
class CFGAN:
    name: str = setting()
    latent_dim: int = setting(non_negative)
    latent_dist: str = setting(one_of(*LATENT_DISTS))
    g_hidden: list[int] = setting(each(positive))
    d_hidden: list[int] = setting(each(positive))
    scheme: str = setting(one_of(*CFGAN_SCHEMES))
    zr_ratio: float = setting(open_fraction)
    pm_ratio: float = setting(open_fraction)
    zr_weight: float = setting(non_negative)


@dataclass
class Tabular:
    name: str = setting()
    latent_dim: int = setting(positive)
    latent_dist: str = setting(only("normal", "the Gumbel noise of the one-hot columns is read "
                                              "from normal latents"))
    g_hidden: list[int] = setting(each(positive))
    d_hidden: list[int] = setting(each(positive))
    leak: float = setting(fraction)
    condition_weight: float = setting(non_negative)


@dataclass
class GANomaly:
    name: str = setting()
    latent_dim: int = setting(positive)
    latent_dist: str = setting(one_of(*LATENT_DISTS))
    width: int = setting(positive)
    fc_width: int = setting(positive)
    contextual_weight: float = setting(non_negative)
    encoder_weight: float = setting(non_negative)


@dataclass
class TimeGAN:
    name: str = setting()
    cell: str = setting(one_of("gru", "lstm"))
    hidden_dim: int = setting(positive)
    num_layers: int = setting(at_least(2), "the supervisor has num_layers - 1 layers")
    z_dim: Optional[int] = setting(positive)
    gamma: float = setting(non_negative)
    d_threshold: float = setting(non_negative)
    autoencoder_steps: int = setting(positive)
    supervised_steps: int = setting(positive)


@dataclass
class RCGAN:
    name: str = setting()
    cell: str = setting(one_of("lstm", "gru"))
    hidden_dim: int = setting(positive)
    num_layers: int = setting(positive)
    z_dim: int = setting(positive)
    latent_dist: str = setting(one_of(*LATENT_DISTS))
    prefix_steps: int = setting(non_negative, "0 for no prefix, or w steps fewer than the "
                                "window's for G to continue, e.g. model.prefix_steps=12")
    label_dim: int = setting(positive)
    conditioning: str = setting(one_of(*CONDITIONINGS))
    acgan_weight: float = setting(non_negative)


@dataclass
class LM:
    name: str = setting()
    cell: str = setting(one_of("rmc", "lstm"))
    embed_dim: int = setting(positive)
    hidden_dim: int = setting(positive)
    mem_slots: int = setting(positive)
    head_size: int = setting(positive)
    num_heads: int = setting(positive)
    label_dim: int = setting(positive)


@dataclass
class RelGAN(LM):
    d_embed_dim: int = setting(positive)
    representations: int = setting(positive)
    num_filters: int = setting(positive)
    pretrain_steps: int = setting(non_negative, "0 skips maximum-likelihood pretraining")
    pretrain_lr: float = setting(positive)
    max_temperature: float = setting(at_least(1.0), "beta_max >= 1, e.g. 100 or 1000")
    temperature_schedule: str = setting(one_of("exp", "linear", "constant"))
    temperature_steps: int = setting(positive)
    conditioning: str = setting(one_of(*CONDITIONINGS))
    acgan_weight: float = setting(non_negative)


# ---- loss: adversarial losses (gan_jax/losses.py) ----


@dataclass
class Loss:
    name: str = setting()


@dataclass
class Wasserstein(Loss):
    clip: float = setting(positive)


@dataclass
class WGANGP(Loss):
    gp_weight: float = setting(non_negative)


# ---- optim: optimizers of both players (gan_jax/training/optim.py) ----


@dataclass
class OptimBase:
    name: str = setting()
    lr: float = setting(positive)
    g_lr: Optional[float] = setting(positive)
    d_lr: Optional[float] = setting(positive)
    n_critic: int = setting(at_least(1))
    n_generator: int = setting(at_least(1))
    ema_decay: float = setting(fraction)
    g_l2: float = setting(non_negative)
    d_l2: float = setting(non_negative)
    clip_norm: Optional[float] = setting(positive)


@dataclass
class Adam(OptimBase):
    beta1: float = setting(fraction)
    beta2: float = setting(open_fraction)


@dataclass
class RMSProp(OptimBase):
    decay: float = setting(fraction)
    eps: float = setting(positive)
    momentum: float = setting(fraction)


@dataclass
class SGD(OptimBase):
    momentum: float = setting(fraction)
    nesterov: bool = setting()


# ---- mitigation: mode-collapse mitigations and regularisers (gan_jax/mitigations) ----


@dataclass
class WeightedPenalty:
    weight: float = setting(non_negative)


@dataclass
class GammaPenalty:
    gamma: float = setting(non_negative)


@dataclass
class DRAGAN(WeightedPenalty):
    scale: float = setting(positive)


@dataclass
class SpectralNorm:
    n_steps: int = setting(at_least(1))
    generator: bool = setting()


@dataclass
class PacGAN:
    m: int = setting(at_least(2))


@dataclass
class MinibatchStd:
    group_size: int = setting(at_least(2))


@dataclass
class MinibatchDiscrimination:
    num_kernels: int = setting(positive)
    kernel_dim: int = setting(positive)


@dataclass
class Unrolled:
    steps: int = setting(non_negative)


@dataclass
class FeatureMatching(WeightedPenalty):
    replace: bool = setting()


@dataclass
class LabelSmoothing:
    smoothing: float = setting(fraction)


@dataclass
class InstanceNoise:
    std: float = setting(non_negative)
    anneal_steps: int = setting(positive)


@dataclass
class DiffAugment:
    policy: str = setting(comma_list_of(*POLICIES))


@dataclass
class BCR:
    real_weight: float = setting(non_negative)
    fake_weight: float = setting(non_negative)
    jitter_std: float = setting(non_negative)


@dataclass
class LeCam(WeightedPenalty):
    decay: float = setting(fraction)


# ---- trainer and eval: one option each ----


@dataclass
class Trainer:
    steps: int = setting(positive)
    batch_size: int = setting(positive)
    log_every: int = setting(positive)
    sample_every: int = setting(positive)
    eval_every: int = setting(positive)
    eval_samples: int = setting(positive)
    checkpoint_every: int = setting(positive)
    keep_checkpoints: int = setting(positive)
    resume: bool = setting()
    progress: bool = setting()
    parallel: str = setting(one_of("none", "data", "pmap"))
    sync_batch_stats: bool = setting()
    population: int = setting(positive)
    population_map: str = setting(one_of("vmap", "map"))
    distributed: bool = setting()
    coordinator_address: Optional[str] = setting()
    num_processes: Optional[int] = setting(positive)
    process_id: Optional[int] = setting(non_negative)
    heartbeat_timeout: int = setting(positive)
    compile_cache: Optional[str] = setting()
    objective: Optional[str] = setting()


@dataclass
class Eval:
    mode_threshold: float = setting(positive)
    feature_net: Optional[str] = setting()
    reference_split: str = setting(one_of(*SPLITS))
    reference_samples: int = setting(at_least(2))
    pr_k: int = setting(positive)
    dc_k: int = setting(positive)
    kid_subsets: int = setting(positive)
    kid_subset_size: int = setting(positive)
    seed: int = setting(non_negative)


# Group -> option name -> schema. data/model/loss/optim select by their `name` key.
SELECTED_BY_NAME = {
    "data": {"fashion_mnist": FashionMNIST, "stacked_fashion_mnist": StackedFashionMNIST,
             "ring": Mixture, "grid": Mixture, "image_folder": ImageFolder,
             "movielens_100k": MovieLens, "cdnow": CDNOW, "adult": Adult,
             "table": Table, "sines": Sines, "series_file": SeriesFile, "m5": M5,
             "sales_table": SalesTable,
             "coco_captions": CocoCaptions, "text_file": TextFile, "reviews": Reviews,
             "review_table": ReviewTable},
    "model": {"dcgan": DCGAN, "mlp": MLP, "resnet": ResNet, "cfgan": CFGAN,
              "ganomaly": GANomaly, "tabular": Tabular, "timegan": TimeGAN,
              "rcgan": RCGAN, "relgan": RelGAN, "lm": LM},
    "loss": {**{name: Loss for name in LOSSES}, "wasserstein": Wasserstein, "wgan_gp": WGANGP},
    "optim": {"adam": Adam, "rmsprop": RMSProp, "sgd": SGD},
}
SINGLE = {"trainer": Trainer, "eval": Eval}
MITIGATIONS = {
    "wgan_gp": WeightedPenalty, "r1": GammaPenalty, "r2": GammaPenalty, "dragan": DRAGAN,
    "spectral_norm": SpectralNorm, "pacgan": PacGAN, "minibatch_std": MinibatchStd,
    "minibatch_discrimination": MinibatchDiscrimination, "unrolled": Unrolled,
    "feature_matching": FeatureMatching, "label_smoothing": LabelSmoothing,
    "instance_noise": InstanceNoise, "diffaugment": DiffAugment, "bcr": BCR, "lecam": LeCam,
}


# ---- detector: anomaly detectors trained on a one-category run (gan_jax/detect.py) ----


@dataclass
class FAnoGAN:
    name: str = setting()
    steps: int = setting(positive)
    batch_size: int = setting(positive)
    lr: float = setting(positive)
    kappa: float = setting(non_negative)
    width: int = setting(positive)
    fc_width: int = setting(positive)
    seed: int = setting(non_negative)


@dataclass
class GANomalyDetector:
    name: str = setting()


DETECTORS = {"fanogan": FAnoGAN, "ganomaly": GANomalyDetector}

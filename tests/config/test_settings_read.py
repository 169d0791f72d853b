"""No setting is silently ignored: every key of every option is read by the code it configures.

The config is wrapped in a mapping that records each key looked up; validation is switched off
while recording (it reads every key by design), so what counts is the builders, the training
loop and the entry point's own reads.
"""

import dataclasses

import jax
import numpy as np
import pytest
from PIL import Image

from gan_jax import compile_cache, parallel, sweeps
from gan_jax import data as data_lib
from gan_jax.config import schemas
from gan_jax.metrics import evaluator as evaluator_lib
from gan_jax.training import loop, population as population_lib, setup as setup_lib
from tests.conftest import (EVERY_100, TINY_CFGAN, TINY_DCGAN, TINY_RING, TINY_SERIES, TINY_LM, TINY_TEXT,
                            make_cfg, write_fake_adult, write_fake_cdnow, write_fake_movielens)
from tests.config.test_schemas import options
from tests.series.test_m5 import write_fake_m5
from tests.series.test_sales_table import write_sales
from tests.series.test_series_file import demand, file_overrides
from tests.tabular.test_tabular_gan import small_frame
from tests.text.test_reviews import write_fake_reviews, write_review_table

TINY_TABLE = ["model=tabular", "model.g_hidden=[8]", "model.d_hidden=[8]", "model.latent_dim=4",
              "trainer.batch_size=10"]


class Recorded(dict):
    """A config mapping that notes every key read through [] or get() as a dotted path."""

    def __init__(self, values: dict, reads: set, path: str = ""):
        super().__init__({k: Recorded(v, reads, f"{path}{k}.") if isinstance(v, dict) else v
                          for k, v in values.items()})
        self.reads, self.path = reads, path

    def __getitem__(self, key):
        self.reads.add(self.path + key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        if key in self:
            self.reads.add(self.path + key)
        return super().get(key, default)


@pytest.fixture
def no_validation(monkeypatch):
    monkeypatch.setattr(setup_lib, "validate", lambda cfg: None)
    monkeypatch.setattr(loop, "validate_trainer", lambda cfg: None)


def fields(schema) -> set[str]:
    return {f.name for f in dataclasses.fields(schema)}


def reads_of_build(overrides) -> set[str]:
    """Keys read while building the data, models, losses, optimizers and mitigations and
    tracing one step."""
    reads: set[str] = set()
    cfg = Recorded(make_cfg(overrides), reads)
    setup = setup_lib.build(cfg)
    jax.eval_shape(setup.step, jax.eval_shape(setup.init_state), setup.data.arrays)
    return reads


def small(group, option, fake_root):
    """Overrides that make `group=option` cheap to build. Models are built conditional with the
    AC-GAN head, since their conditioning keys act only on labelled data."""
    if group == "data" and option in ("ring", "grid"):
        return [*TINY_RING, f"data={option}"]
    if group == "data" and option == "image_folder":
        photos = fake_root.parent / "photos"
        for i in range(4):
            (photos / "bags").mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (40, 30), (60 * i, 0, 0)).save(photos / "bags" / f"{i}.png")
        return [*TINY_DCGAN, "data=image_folder", f"data.root={photos}", "data.resolution=32",
                f"data.cache_dir={fake_root.parent / 'cache'}"]
    if group == "data" and option == "cdnow" or group == "model" and option == "tabular":
        return [*TINY_TABLE, "data=cdnow", f"data.root={write_fake_cdnow(fake_root.parent / 'cdnow')}"]
    if group == "data" and option == "adult":
        return [*TINY_TABLE, "data=adult", f"data.root={write_fake_adult(fake_root.parent / 'adult')}"]
    if group == "data" and option == "table":
        path = fake_root.parent / "customers.csv"
        small_frame().to_csv(path, index=False)
        return [*TINY_TABLE, "data=table", f"data.path={path}", "data.target=churned",
                "data.discrete=[plan,churned]"]
    if group == "data" and option == "sines" or group == "model" and option == "timegan":
        return TINY_SERIES
    if group == "data" and option == "series_file":
        path = fake_root.parent / "demand.csv"
        demand().to_csv(path, index=False)
        return [*file_overrides(path), "data.category_column=region"]
    if group == "model" and option == "rcgan":  # labelled series, so its conditioning keys act
        path = fake_root.parent / "demand.csv"
        demand().to_csv(path, index=False)
        return ["data=series_file", f"data.path={path}", "data.id_column=store",
                "data.time_column=day", "data.seq_len=6", "data.category_column=region",
                "data.conditional=true", "model=rcgan", "model.hidden_dim=4", "model.z_dim=2",
                "trainer.batch_size=8", "model.conditioning=acgan"]
    if group == "data" and option == "m5":
        root = write_fake_m5(fake_root.parent / "m5")
        return ["data=m5", f"data.root={root}", "data.conditional=true", "model=rcgan",
                "model.hidden_dim=4", "model.z_dim=2", "trainer.batch_size=8"]
    if group == "data" and option == "sales_table":
        path, _ = write_sales(fake_root.parent / "sales.csv")
        return ["data=sales_table", f"data.path={path}", "data.id_column=sku", "data.date_column=day",
                "data.units_column=sold", "data.category_column=dept", "data.conditional=true",
                "data.heldout_fraction=0.34", "model=rcgan", "model.hidden_dim=4", "model.z_dim=2",
                "trainer.batch_size=8"]
    if group == "data" and option == "coco_captions":
        return TINY_TEXT
    if group == "model" and option in ("relgan", "lm"):  # reviews by rating, so the label keys act
        shop = write_fake_reviews(fake_root.parent / "shop")
        model = TINY_TEXT if option == "relgan" else TINY_LM
        return [*model, "data=reviews", f"data.root={shop}", "data.conditional=true",
                *(["model.conditioning=acgan"] if option == "relgan" else [])]
    if group == "data" and option == "text_file":
        path = fake_root.parent / "sentences.txt"
        path.write_text("a shop sells red shoes .\na man buys a blue hat .\n" * 4)
        return [*TINY_TEXT, "data=text_file", f"data.path={path}", f"data.test_path={path}"]
    if group == "data" and option == "reviews":
        return [*TINY_TEXT, "data=reviews", f"data.root={write_fake_reviews(fake_root.parent / 'shop')}"]
    if group == "data" and option == "review_table":
        path = write_review_table(fake_root.parent / "my_reviews.csv")
        return [*TINY_TEXT, "data=review_table", f"data.path={path}", "data.text=review",
                "data.label=kind", "data.rating=stars", "data.condition_on=label"]
    if group == "data" and option == "movielens_100k":
        return [*TINY_CFGAN, f"data.root={write_fake_movielens(fake_root.parent / 'ml')}"]
    if group == "data":
        extra = ["data.num_points=256"] if option == "stacked_fashion_mnist" else []
        return [*TINY_DCGAN, f"data={option}", f"data.root={fake_root}", *extra]
    if group == "model" and option == "cfgan":  # conditioned on interactions, not categories
        return [*TINY_CFGAN, f"data.root={write_fake_movielens(fake_root.parent / 'ml')}"]
    if group == "model" and option == "ganomaly":  # reconstructs images of one category
        return ["model=ganomaly", "model.width=4", "model.fc_width=16", "model.latent_dim=8",
                "trainer.batch_size=8", f"data.root={fake_root}", "data.category=2"]
    if group == "model":
        ring_only = ("data=ring", "data.num_points=2000")
        sizes = {"mlp": [o for o in TINY_RING if o not in ring_only], "dcgan": TINY_DCGAN,
                 "resnet": ["model=resnet", "model.g_width=8", "model.d_width=8",
                            "trainer.batch_size=8"]}[option]
        return [*sizes, "data=fashion_mnist", f"data.root={fake_root}", "data.conditional=true",
                "model.conditioning=acgan"]
    return [*TINY_RING, f"{group}={option}"]


@pytest.mark.parametrize("group", ["data", "model", "loss", "optim"])
def test_every_key_of_every_option_is_read(group, fake_fmnist, no_validation):
    for option in options(group):
        reads = reads_of_build(small(group, option, fake_fmnist))
        unread = {f"{group}.{k}" for k in fields(schemas.SELECTED_BY_NAME[group][option])} - reads
        assert not unread, f"{group}={option}: never read: {sorted(unread)}"


def test_every_mitigation_key_is_read(no_validation):
    for name in options("mitigation"):
        overrides = [*TINY_RING, f"mitigation=[{name}]"]
        if name == "diffaugment":  # images only
            overrides = [*TINY_DCGAN, f"mitigation=[{name}]"]
        reads = reads_of_build(overrides)
        unread = {f"mitigation.{name}.{k}" for k in fields(schemas.MITIGATIONS[name])} - reads
        assert not unread, f"mitigation={name}: never read: {sorted(unread)}"


def test_every_trainer_and_eval_key_is_read(tmp_path, fake_fmnist, monkeypatch, no_validation):
    """A short real run reads the trainer and eval groups; the entry point's own reads
    (processes, compile cache, objective) go through the functions it calls."""
    reads: set[str] = set()
    cfg = Recorded(make_cfg([*TINY_RING, *EVERY_100, "trainer.steps=100", "trainer.progress=false",
                             "trainer.objective=eval/hq"]), reads)
    summary = loop.train(cfg, tmp_path / "run")
    sweeps.objective_value(summary, cfg["trainer"]["objective"])
    compile_cache.enable(cfg["trainer"]["compile_cache"])
    monkeypatch.setattr(jax.distributed, "initialize", lambda **kwargs: None)
    distributed = Recorded({**make_cfg()["trainer"], "distributed": True}, reads, "trainer.")
    parallel.initialize(distributed)
    parallel.placement(Recorded({**make_cfg()["trainer"], "parallel": "pmap"}, reads, "trainer."))
    # A population reads how its members are run.
    population_lib.build(Recorded(make_cfg([*TINY_RING, "trainer.population=2"]), reads))
    # The feature-space metrics of product images read the remaining eval keys.
    image_cfg = Recorded(make_cfg([f"data.root={fake_fmnist}", "eval.reference_samples=64"]), reads)
    data = data_lib.build(image_cfg["data"])
    evaluate = evaluator_lib.build(image_cfg["eval"], image_cfg["data"], data)
    evaluate(np.asarray(data.sample(data.arrays, jax.random.PRNGKey(0), 64)[0]))
    unread = ({f"trainer.{k}" for k in fields(schemas.Trainer)}
              | {f"eval.{k}" for k in fields(schemas.Eval)}) - reads
    assert not unread, f"never read: {sorted(unread)}"

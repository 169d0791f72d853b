"""Every yaml key has a typed, ranged schema field, and bad values are refused naming the setting."""

import pathlib

import pytest

from gan_jax.config import schemas
from gan_jax.config.validate import DATA_KINDS, MODEL_KINDS, validate
from gan_jax.errors import ConfigError
from gan_jax.training import population as population_lib
from tests.conftest import CONF, TINY_RING, make_cfg


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def keys_of(schema) -> set[str]:
    import dataclasses
    return {f.name for f in dataclasses.fields(schema)}


@pytest.mark.parametrize("group", ["data", "model", "loss", "optim"])
def test_every_option_of_a_named_group_has_its_schema(group):
    """Option file name == `name` key == the schema registry's key (names equal code names)."""
    assert set(options(group)) == set(schemas.SELECTED_BY_NAME[group])
    for option in options(group):
        cfg = make_cfg([f"{group}={option}"])
        assert cfg[group]["name"] == option
        assert set(cfg[group]) == keys_of(schemas.SELECTED_BY_NAME[group][option]), option


def test_every_mitigation_has_its_schema():
    assert set(options("mitigation")) == set(schemas.MITIGATIONS)
    for name in options("mitigation"):
        cfg = make_cfg([f"mitigation=[{name}]"])
        assert set(cfg["mitigation"][name]) == keys_of(schemas.MITIGATIONS[name]), name


def test_trainer_and_eval_schemas_match_their_yaml():
    cfg = make_cfg()
    assert set(cfg["trainer"]) == keys_of(schemas.Trainer)
    assert set(cfg["eval"]) == keys_of(schemas.Eval)


def partner(override: str) -> list[str] | None:
    """A data option with a model that trains on it when the default (dcgan) does not, and a
    model option with data it trains on when the default (fashion_mnist) is not that; None for
    data no model trains on yet."""
    group, _, name = override.partition("=")
    if group == "data" and DATA_KINDS[name] not in MODEL_KINDS["dcgan"]:
        model = next((m for m, k in MODEL_KINDS.items() if DATA_KINDS[name] in k), None)
        return None if model is None else [f"model={model}"]
    if group == "model" and DATA_KINDS["fashion_mnist"] not in MODEL_KINDS[name]:
        return [f"data={next(d for d, k in DATA_KINDS.items() if k in MODEL_KINDS[name])}"]
    return []


@pytest.mark.parametrize("overrides", [f"experiment={e}" for e in options("experiment")] + [
    f"{g}={o}" for g in ("data", "model", "loss", "optim") for o in options(g)] + [
    f"mitigation=[{','.join(options('mitigation'))}]"])
def test_shipped_configs_are_valid(overrides):
    required = {"data=image_folder": ["data.root=/photos"],  # no default
                "data=series_file": ["data.path=demand.csv", "data.id_column=store"],
                "data=text_file": ["data.path=reviews.txt"],
                "data=sales_table": ["data.path=sales.csv"],
                "data=review_table": ["data.path=reviews.csv", "data.text=review"]}.get(overrides, [])
    if partner(overrides) is None:
        pytest.skip(f"{overrides}: no model trains on {DATA_KINDS[overrides.partition('=')[2]]} yet")
    required += partner(overrides)
    cfg = make_cfg([overrides, *required])
    size = int(cfg["trainer"]["population"])
    if size == 1:
        validate(cfg)
        return
    varying = population_lib.varying_settings(cfg)  # a population: each member is a single run
    for i in range(size):
        validate(population_lib.member_config(cfg, varying, i))


# One case per class of bad value: wrong type, out of range, not a choice, list element, null
# where a value is needed, and the cross-setting schedule rule; every group is represented.
BAD = [
    ("model.width=3.5", "model.width=3.5 must be an integer (got float)"),
    ("model.width=abc", "model.width='abc' must be an integer (got str)"),
    ("model.d_batch_norm=1", "model.d_batch_norm=1 must be true or false (got int)"),
    ("model.leak=1.5", "model.leak=1.5 must lie in [0, 1)"),
    ("model.latent_dist=gaussian", "model.latent_dist='gaussian' must be one of normal, uniform"),
    ("model=mlp model.g_hidden=[0,32]", "model.g_hidden=[0, 32] has [0]: each value must be positive"),
    ("model=mlp model.d_hidden=[]", "model.d_hidden=[] must list at least one value"),
    ("model=mlp model.d_hidden=[32.5]", "model.d_hidden=[32.5] has 32.5: each value must be an integer"),
    ("model=mlp model.g_act=swish", "model.g_act='swish' must be one of"),
    ("data=ring data.num_points=0", "data.num_points=0 must be positive"),
    ("data.split=valid", "data.split='valid' must be one of train, test"),
    ("data=stacked_fashion_mnist data.conditional=true",
     "data.conditional=true must be false: 1000 triple modes"),
    ("mitigation=[r1] mitigation.r1.gamma=-1", "mitigation.r1.gamma=-1 must be >= 0"),
    ("mitigation=[pacgan] mitigation.pacgan.m=1", "mitigation.pacgan.m=1 must be at least 2"),
    ("mitigation=[diffaugment] mitigation.diffaugment.policy=colour",
     "mitigation.diffaugment.policy='colour' must be a comma list of"),
    ("mitigation=[unrolled] mitigation.unrolled.steps=-1", "mitigation.unrolled.steps=-1 must be >= 0"),
    ("loss=wasserstein loss.clip=0", "loss.clip=0 must be positive"),
    ("loss=wgan_gp loss.gp_weight=-10", "loss.gp_weight=-10 must be >= 0"),
    ("optim.lr=-1", "optim.lr=-1 must be positive"),
    ("optim.lr=null", "optim.lr=null must be set"),
    ("optim.beta2=1.0", "optim.beta2=1.0 must lie in (0, 1)"),
    ("optim=sgd optim.momentum=1.5", "optim.momentum=1.5 must lie in [0, 1)"),
    ("optim=rmsprop optim.eps=0", "optim.eps=0 must be positive"),
    ("optim.n_critic=0", "optim.n_critic=0 must be at least 1"),
    ("optim.name=sgd", "choose an option with optim=sgd"),  # a name without its option's keys
    ("optim.name=lbfgs", "optim.name='lbfgs' is unknown; choose one of adam, rmsprop, sgd"),
    ("trainer.batch_size=0", "trainer.batch_size=0 must be positive"),
    ("trainer.parallel=model", "trainer.parallel='model' must be one of none, data, pmap"),
    ("trainer.sync_batch_stats=true", "trainer.sync_batch_stats=true applies to trainer.parallel=pmap only"),
    ("trainer.checkpoint_every=150", "trainer.checkpoint_every=150 must be a multiple of trainer.log_every"),
    ("eval.pr_k=0", "eval.pr_k=0 must be positive"),
    ("eval.reference_split=val", "eval.reference_split='val' must be one of train, test"),
    ("eval.reference_samples=1", "eval.reference_samples=1 must be at least 2"),
    ("seed=-3", "seed=-3 must be a non-negative integer"),
]


@pytest.mark.parametrize("overrides, message", BAD)
def test_bad_values_are_refused_naming_the_setting(overrides, message):
    with pytest.raises(ConfigError) as e:
        validate(make_cfg(overrides.split()))
    assert message in str(e.value)


def test_unknown_keys_outside_hydra_are_refused():
    """Configs built in code (experiments, saved runs) get the same checks as composed ones."""
    cfg = make_cfg(TINY_RING)
    cfg["model"]["widht"] = 3
    with pytest.raises(ConfigError, match="model.widht is not a setting of this option"):
        validate(cfg)
    cfg = make_cfg(TINY_RING)
    del cfg["optim"]["beta1"]
    with pytest.raises(ConfigError, match="optim.beta1 is missing"):
        validate(cfg)


def test_conf_has_no_group_without_schema():
    groups = {p.name for p in CONF.iterdir() if p.is_dir()} - {"hydra", "experiment"}
    assert groups == {*schemas.SELECTED_BY_NAME, *schemas.SINGLE, "mitigation", "detector"}


def test_detector_schemas_match_their_yaml():
    """conf/detector/ is read by `python -m gan_jax.detect`, not composed into training configs."""
    from omegaconf import OmegaConf
    for name in options("detector"):
        values = OmegaConf.to_container(OmegaConf.load(CONF / "detector" / f"{name}.yaml"))
        assert set(values) == keys_of(schemas.DETECTORS[name]), name
    assert pathlib.Path(CONF / "config.yaml").is_file()

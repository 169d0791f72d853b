"""Every loss and mitigation on RelGAN's adversarial phase (the plain step on relaxed one-hots
[n, L, V] and a critic with one logit per representation [n, R]): it trains a finite step or is
refused in one line."""

import jax
import numpy as np
import pytest

from gan_jax import losses, mitigations
from gan_jax.errors import ConfigError
from gan_jax.training import setup as setup_lib
from tests.conftest import TINY_TEXT, make_cfg

REFUSED = {"diffaugment": "mitigation=diffaugment augments images; data=coco_captions holds text"}
SMALL = {"unrolled": ["mitigation.unrolled.steps=1"]}
# By default the cells where text meets code written for other shapes: packing one-hots, the
# minibatch layers on [n, R, F] features, an input-gradient penalty, the image-only augmentation,
# and the authors' loss; the rest is opt-in with `-m matrix`.
FAST = {("mitigation", "pacgan"), ("mitigation", "minibatch_std"), ("mitigation", "r1"),
        ("mitigation", "minibatch_discrimination"), ("mitigation", "diffaugment"), ("loss", "rsgan")}
OPTIONS = [pytest.param(group, name, marks=() if (group, name) in FAST else pytest.mark.matrix)
           for group, names in (("loss", losses.LOSSES), ("mitigation", mitigations.BUILDERS))
           for name in names]


@pytest.mark.parametrize("group, name", OPTIONS)
def test_every_loss_and_mitigation_trains_relgan_or_is_refused_in_one_line(group, name):
    overrides = [f"{group}=[{name}]" if group == "mitigation" else f"{group}={name}",
                 *SMALL.get(name, []), "model.pretrain_steps=0"]
    if name in REFUSED:
        with pytest.raises(ConfigError) as refusal:
            setup_lib.build(make_cfg(TINY_TEXT + overrides))
        assert REFUSED[name] in str(refusal.value) and "\n" not in str(refusal.value)
        return
    setup = setup_lib.build(make_cfg(TINY_TEXT + overrides))
    (phase,) = setup.schedule()
    state, metrics = jax.jit(phase.step)(jax.jit(setup.init_state)(), setup.data.arrays)
    metrics = jax.device_get(metrics)
    assert all(np.isfinite(v).all() for v in metrics.values()), metrics
    assert int(state.step) == 1 and "g/inverse_temperature" in metrics
    if group == "mitigation":  # it took part in the step: it logged its scalars
        assert any(key.startswith(f"mitigation/{name}/") for key in metrics), metrics


@pytest.mark.parametrize("conditioning", ["projection", "acgan"])
def test_a_conditional_relgan_trains_with_either_label_head(conditioning):
    # D's features are [n, R, F]: the projection reaches every representation, the ACGAN class
    # logits are averaged over them. (Labelled sentences: COCO's with made-up labels.)
    import dataclasses  # noqa: PLC0415

    import jax.numpy as jnp  # noqa: PLC0415

    from gan_jax import data as data_lib  # noqa: PLC0415

    cfg = make_cfg(TINY_TEXT + ["model.pretrain_steps=0", f"model.conditioning={conditioning}",
                                "+data.conditional=true"])
    data = data_lib.build(cfg["data"])
    labels = jnp.arange(data.num_examples, dtype=jnp.int32) % 3
    data = dataclasses.replace(data, arrays={**data.arrays, "y": labels}, class_names=("a", "b", "c"))
    setup = setup_lib.assemble(cfg, data)
    (phase,) = setup.schedule()
    state, metrics = jax.jit(phase.step)(jax.jit(setup.init_state)(), setup.data.arrays)
    metrics = jax.device_get(metrics)
    assert all(np.isfinite(v).all() for v in metrics.values()), metrics
    assert (conditioning == "acgan") == any("acgan" in k for k in metrics), sorted(metrics)

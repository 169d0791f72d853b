"""Every loss x every mitigation composes in the real step (slow: ~250 compilations).

On the 2D ring each pair is compiled and trained on its own; on a tiny DCGAN each loss is
trained with every mitigation at once (which covers every pair on images in 8 compilations).
"""

import jax
import numpy as np
import pytest

from gan_jax import losses, mitigations
from gan_jax.training import setup as setup_lib
from tests.conftest import TINY_DCGAN, TINY_RING, make_cfg

pytestmark = pytest.mark.slow


def train_two_steps(overrides) -> dict:
    s = setup_lib.build(make_cfg(overrides))
    state, step = s.init_state(), jax.jit(s.step)
    for _ in range(2):
        state, metrics = step(state, s.data.arrays)
    metrics = jax.device_get(metrics)
    bad = {k: v for k, v in metrics.items() if not np.isfinite(v)}
    assert not bad, bad
    return metrics


def compatible(loss: str, names) -> list[str]:
    return [m for m in names if not (loss == "wgan_gp" and m == "wgan_gp")]  # penalty built in


@pytest.mark.parametrize("loss", list(losses.LOSSES))
@pytest.mark.parametrize("name", [m for m in mitigations.BUILDERS if m != "diffaugment"])
def test_pair_on_the_ring(loss, name):
    if not compatible(loss, [name]):
        pytest.skip("loss=wgan_gp already includes the wgan_gp penalty")
    extra = ["mitigation.unrolled.steps=1"] if name == "unrolled" else []
    metrics = train_two_steps(TINY_RING + [f"loss={loss}", f"mitigation=[{name}]"] + extra)
    assert any(k.startswith(f"mitigation/{name}/") for k in metrics)


@pytest.mark.parametrize("loss", list(losses.LOSSES))
def test_all_mitigations_at_once_on_a_tiny_dcgan(loss, fake_fmnist):
    names = compatible(loss, mitigations.BUILDERS)
    metrics = train_two_steps(TINY_DCGAN + [
        f"data.root={fake_fmnist}", f"loss={loss}", f"mitigation=[{','.join(names)}]",
        "mitigation.unrolled.steps=1", "mitigation.feature_matching.replace=false"])
    for name in names:
        assert any(k.startswith(f"mitigation/{name}/") for k in metrics), name

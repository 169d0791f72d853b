"""FLOPs of one compiled training step, as XLA counts them: the basis of time estimates for
hardware we could not measure on (a study's `--budget full` on a GPU).

    .venv/bin/python scripts/step_flops.py experiment=stacked_fashion trainer.population=5 'seed=[0,1,2,3,4]'

Builds the run the overrides describe (a population when trainer.population > 1), compiles one
step without running it, and prints XLA's cost analysis: floating-point operations per step, for
all members together. Time on a device = FLOPs / its sustained rate, a lower bound for small
models, whose steps are bound by kernel launches rather than arithmetic.
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from gan_jax.training import population as population_lib  # noqa: E402
from gan_jax.training import setup as setup_lib  # noqa: E402
from gan_jax.training.step import make_train_chunk  # noqa: E402


def step_flops(overrides: list[str]) -> float:
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=[*overrides, "trainer.log_every=1"]),
                                     resolve=True)
    built = (population_lib.build(cfg) if cfg["trainer"]["population"] > 1
             else setup_lib.build(cfg))
    state = jax.eval_shape(built.init_state)  # shapes only: nothing is initialised or run
    cost = jax.jit(make_train_chunk(built.step, 1)).lower(state, built.data.arrays).compile()
    analysis = cost.cost_analysis()
    return float((analysis[0] if isinstance(analysis, list) else analysis)["flops"])


if __name__ == "__main__":
    print(f"{step_flops(sys.argv[1:]) / 1e9:.2f} GFLOP per step ({' '.join(sys.argv[1:])})")

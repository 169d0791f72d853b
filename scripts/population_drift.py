"""How far a population member drifts from its own single run, step by step.

    .venv/bin/python scripts/population_drift.py                          # PacGAN's ring GAN
    .venv/bin/python scripts/population_drift.py experiment=ring_mlp      # any config

A member of a `trainer.population` run computes what its single run computes, but the vmapped
program rounds differently (other fusions and reduction orders). This trains member 0 of a
3-seed population and the single run of the same seed side by side and prints, after each
checkpoint step, the largest difference of a weight matrix relative to its largest entry, for G
and D. GAN training amplifies such differences, so the printout shows after how many steps the
two runs become different samples of the same seed's training.
"""

from __future__ import annotations

import operator
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import numpy as np  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from gan_jax.training import population as population_lib  # noqa: E402
from gan_jax.training import setup as setup_lib  # noqa: E402
from gan_jax.training.step import make_train_chunk  # noqa: E402

CHECKPOINTS = (1, 10, 30, 100, 300, 1000, 3000)


def weight_drift(member, single) -> float:
    """max over weight matrices of max|member - single| / max|single| (biases are left out: a
    bias in front of batch norm has no gradient but rounding noise)."""
    pairs = zip(jax.tree_util.tree_leaves_with_path(member), jax.tree_util.tree_leaves(single))
    return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))) / np.max(np.abs(np.asarray(y))))
               for (path, x), y in pairs if "kernel" in jax.tree_util.keystr(path))


def main(overrides: list[str]) -> None:
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=["experiment=pacgan_ring", "trainer.log_every=1",
                                           *overrides, "trainer.population=3", "seed=[0,1,2]"])
    pop = population_lib.build(OmegaConf.to_container(cfg, resolve=True))
    single = setup_lib.build(pop.members[0])  # the run `python -m gan_jax.train seed=0` does
    run_pop = jax.jit(make_train_chunk(pop.step, 1))
    run_single = jax.jit(make_train_chunk(single.step, 1))
    p, s, done = pop.init_state(), single.init_state(), 0
    for target in CHECKPOINTS:
        while done < target:
            p, _ = run_pop(p, pop.data.arrays)
            s, _ = run_single(s, single.data.arrays)
            done += 1
        member = jax.tree_util.tree_map(operator.itemgetter(0), p)
        print(f"step {done:5d}: G {weight_drift(member.g_params, s.g_params):.1e}  "
              f"D {weight_drift(member.d_params, s.d_params):.1e}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

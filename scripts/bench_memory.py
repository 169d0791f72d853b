"""Peak memory of a compiled training chunk, per phase, as XLA plans it (nothing is run or timed):

    python scripts/bench_memory.py experiment=relgan_coco trainer.population=6
    python scripts/bench_memory.py experiment=relgan_coco trainer.population=6 model.d_remat=true

XLA:CPU allocates one temporary buffer for a whole compiled program: its size (`temp`, from
`compiled.memory_analysis()`) plus the arguments and outputs is what a chunk of `--chunk` steps
needs at once. A population's chunk is the same step vmapped over its members. Use it to check
that a study's population fits the machine (the RelGAN COCO study's six paper-sized members did
not fit 24 GiB without model.d_remat=true).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import jax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # scripts/, run as a script
from scripts.bench_twin import config  # noqa: E402
from gan_jax.training import population as population_lib  # noqa: E402
from gan_jax.training import setup as setup_lib  # noqa: E402
from gan_jax.training.step import make_train_chunk  # noqa: E402

GIB = 2 ** 30


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. experiment=relgan_coco")
    p.add_argument("--chunk", type=int, default=1, help="steps per compiled call")
    args = p.parse_args()
    cfg = config(args.overrides)
    members = int(cfg["trainer"].get("population", 1))
    setup = population_lib.build(cfg) if members > 1 else setup_lib.build(cfg)
    state = jax.eval_shape(setup.init_state)
    print(f"{' '.join(args.overrides)}: {members} member(s), chunks of {args.chunk} step(s)")
    for phase in setup.schedule():
        train = jax.jit(make_train_chunk(phase.step, args.chunk), donate_argnums=0)
        mem = train.lower(state, setup.data.arrays).compile().memory_analysis()
        total = mem.temp_size_in_bytes + mem.argument_size_in_bytes + mem.output_size_in_bytes
        print(f"  {phase.name:12s} temp {mem.temp_size_in_bytes / GIB:7.2f} GiB, arguments "
              f"{mem.argument_size_in_bytes / GIB:6.2f} GiB, outputs {mem.output_size_in_bytes / GIB:6.2f} "
              f"GiB: {total / GIB:7.2f} GiB at once")


if __name__ == "__main__":
    main()

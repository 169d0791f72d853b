"""Images/s and compile seconds of the training step, one line per run.

    python scripts/bench_step.py                         # DCGAN, batch 64, Fashion-MNIST, CPU
    python scripts/bench_step.py --torch                 # plus the eager PyTorch twin, side by side
    python scripts/bench_step.py --torch --torch-device cuda  # the twin on the GPU too
    python scripts/bench_step.py model=mlp data=ring trainer.batch_size=256
    python scripts/bench_step.py --vmap-one              # the step vmapped over a population of one

Hydra overrides select the config, as for gan_jax.train. The step is timed as it runs in
training: `--chunk` steps per compiled call (lax.scan), state donated, after one warm-up call;
with --torch, JAX and PyTorch rounds alternate so that both see the same machine load.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import time

import jax
import numpy as np
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from gan_jax.training import setup as setup_lib
from gan_jax.training.step import make_train_chunk

CONF = pathlib.Path(__file__).resolve().parents[1] / "conf"


def jax_runner(cfg, chunk: int, vmap_one: bool = False):
    """(compile seconds, run(calls) -> seconds per step) for the training step of `cfg`;
    `vmap_one`: the step as a population of one member would run it (vmap over an axis of 1)."""
    s = setup_lib.build(cfg)
    box = [s.init_state()]
    step = s.step
    if vmap_one:
        box[0] = jax.tree_util.tree_map(lambda x: x[None], box[0])
        step = jax.vmap(s.step, in_axes=(0, None))
    return timed_chunks(step, box[0], s.data.arrays, chunk)


def timed_chunks(step, state, arrays, chunk: int):
    """(compile seconds, run(calls) -> seconds per step) of `step` run as gan_jax.train runs
    it: jitted chunks of `chunk` steps in one lax.scan, state donated, after one warm-up call."""
    box = [state]
    train = jax.jit(make_train_chunk(step, chunk), donate_argnums=0)
    start = time.perf_counter()
    compiled = train.lower(box[0], arrays).compile()
    compile_s = time.perf_counter() - start

    def run(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            box[0], metrics = compiled(box[0], arrays)
        jax.block_until_ready((box[0], metrics))
        return (time.perf_counter() - start) / (calls * chunk)

    run(1)  # warm-up
    return compile_s, run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=mlp data=ring")
    p.add_argument("--chunk", type=int, default=10, help="steps per compiled call")
    p.add_argument("--calls", type=int, default=3, help="timed calls")
    p.add_argument("--rounds", type=int, default=3, help="alternating timing rounds (median)")
    p.add_argument("--torch", action="store_true", help="also time the eager PyTorch twin (DCGAN only)")
    p.add_argument("--torch-device", default="cpu",
                   help="where the PyTorch twin runs: cpu (default) or cuda")
    p.add_argument("--vmap-one", action="store_true",
                   help="time the step vmapped over a population axis of size 1")
    args = p.parse_args()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=args.overrides), resolve=True)
    batch = cfg["trainer"]["batch_size"]
    where = (f"{jax.default_backend()} x{jax.local_device_count()} "
             f"({os.cpu_count()} cores, {platform.machine()})")
    tag = " ".join(args.overrides + (["--vmap-one"] if args.vmap_one else [])) or "default"
    compile_s, run_jax = jax_runner(cfg, args.chunk, args.vmap_one)
    run_torch = None
    if args.torch:
        import torch

        import torch_dcgan
        from gan_jax.data import fashion_mnist

        if cfg["model"]["name"] != "dcgan" or cfg["data"]["name"] != "fashion_mnist":
            raise SystemExit("--torch compares the default DCGAN on Fashion-MNIST only")
        images, _ = fashion_mnist.load_numpy("train", cfg["data"]["root"])
        torch_step = torch_dcgan.make_step(images, batch, device=args.torch_device)
        torch_dcgan.time_steps(torch_step, 3)  # warm-up
        run_torch = lambda: torch_dcgan.time_steps(torch_step, args.chunk * args.calls)  # noqa: E731
    # Alternate the two so that both see the same machine load; report medians.
    jax_times, torch_times = [], []
    for _ in range(args.rounds):
        jax_times.append(run_jax(args.calls))
        if run_torch:
            torch_times.append(run_torch())
    sec = float(np.median(jax_times))
    print(f"gan_jax [{tag}] batch {batch} on {where}: {batch / sec:.0f} images/s "
          f"({sec * 1e3:.1f} ms/step, median of {args.rounds}), compile {compile_s:.1f} s", flush=True)
    if run_torch:
        tsec = float(np.median(torch_times))
        on = (torch.cuda.get_device_name() if args.torch_device.startswith("cuda")
              else f"{torch.get_num_threads()} threads")
        print(f"pytorch eager {torch.__version__} batch {batch} ({on}): "
              f"{batch / tsec:.0f} images/s ({tsec * 1e3:.1f} ms/step, median of {args.rounds}); "
              f"gan_jax / pytorch = {tsec / sec:.2f}x", flush=True)


if __name__ == "__main__":
    main()

"""Images/s and compile seconds of the training step, one line per run.

    python scripts/bench_step.py                         # DCGAN, batch 64, Fashion-MNIST, CPU
    python scripts/bench_step.py --torch                 # plus the eager PyTorch twin, side by side
    python scripts/bench_step.py model=mlp data=ring trainer.batch_size=256

Hydra overrides select the config, as for gan_jax.train. The step is timed as it runs in
training: `--chunk` steps per compiled call (lax.scan), state donated, after one warm-up call.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import time

import jax
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from gan_jax.training import setup as setup_lib
from gan_jax.training.step import make_train_chunk

CONF = pathlib.Path(__file__).resolve().parents[1] / "conf"


def bench_jax(cfg, chunk: int, calls: int) -> tuple[float, float]:
    """(seconds per step, compile seconds) for the step of `cfg`."""
    s = setup_lib.build(cfg)
    state = s.init_state()
    train = jax.jit(make_train_chunk(s.step, chunk), donate_argnums=0)
    start = time.perf_counter()
    compiled = train.lower(state, s.data.arrays).compile()
    compile_s = time.perf_counter() - start
    state, _ = compiled(state, s.data.arrays)  # warm-up
    jax.block_until_ready(state)
    start = time.perf_counter()
    for _ in range(calls):
        state, metrics = compiled(state, s.data.arrays)
    jax.block_until_ready((state, metrics))
    return (time.perf_counter() - start) / (calls * chunk), compile_s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=mlp data=ring")
    p.add_argument("--chunk", type=int, default=10, help="steps per compiled call")
    p.add_argument("--calls", type=int, default=3, help="timed calls")
    p.add_argument("--torch", action="store_true", help="also time the eager PyTorch twin (DCGAN only)")
    args = p.parse_args()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=args.overrides), resolve=True)
    batch = cfg["trainer"]["batch_size"]
    where = f"{jax.default_backend()} x{jax.local_device_count()} ({os.cpu_count()} cores, {platform.machine()})"
    tag = " ".join(args.overrides) or "default"
    sec, compile_s = bench_jax(cfg, args.chunk, args.calls)
    jax_ips = batch / sec
    print(f"gan_jax [{tag}] batch {batch} on {where}: {jax_ips:.0f} images/s "
          f"({sec * 1e3:.1f} ms/step), compile {compile_s:.1f} s", flush=True)
    if args.torch:
        import numpy as np
        import torch

        import torch_dcgan

        if cfg["model"]["name"] != "dcgan" or cfg["data"]["name"] != "fashion_mnist":
            raise SystemExit("--torch compares the default DCGAN on Fashion-MNIST only")
        from gan_jax.data import fashion_mnist

        images, _ = fashion_mnist.load_numpy("train", cfg["data"]["root"])
        tsec = torch_dcgan.benchmark(np.ascontiguousarray(images), batch, steps=args.chunk * args.calls)
        print(f"pytorch eager {torch.__version__} batch {batch} ({torch.get_num_threads()} threads): "
              f"{batch / tsec:.0f} images/s ({tsec * 1e3:.1f} ms/step); "
              f"gan_jax / pytorch = {tsec / sec:.2f}x", flush=True)


if __name__ == "__main__":
    main()

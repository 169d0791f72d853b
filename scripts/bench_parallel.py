"""Steps/s of the training step on several devices: trainer.parallel=none vs data vs pmap.

    python scripts/bench_parallel.py                      # 4 forced CPU devices, small DCGAN
    python scripts/bench_parallel.py --devices 8 trainer.batch_size=256
    python scripts/bench_parallel.py --devices 0 ...      # the machine's real devices (GPUs)

Hydra overrides select the config, as for gan_jax.train (defaults here: the default DCGAN on
Fashion-MNIST at width 16, FC 256, global batch 64). Each mode is compiled and placed as
`gan_jax.training.loop` does it: `--chunk` steps per call (lax.scan), state donated; the first
call (compilation included) is reported apart, then the modes are timed in alternating rounds so
that all see the same machine load, and the median over rounds is reported.

Modes: none (one device), data (one program over the mesh, GSPMD), pmap (per-device replicas,
per-device batch norm), pmap_sync (pmap with trainer.sync_batch_stats=true).
"""

from __future__ import annotations

import argparse
import os
import sys

ARGS = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ARGS.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. trainer.batch_size=128")
ARGS.add_argument("--devices", type=int, default=4, help="forced CPU devices (0: the real ones)")
ARGS.add_argument("--chunk", type=int, default=10, help="steps per compiled call")
ARGS.add_argument("--calls", type=int, default=3, help="calls per timing round")
ARGS.add_argument("--rounds", type=int, default=5, help="alternating timing rounds (median)")
ARGS.add_argument("--modes", default="none,data,pmap,pmap_sync")
DEFAULTS = ["model.width=16", "model.fc_width=256"]

if __name__ == "__main__":
    _args = ARGS.parse_args()
    if _args.devices:  # before JAX starts
        os.environ["XLA_FLAGS"] = (f"{os.environ.get('XLA_FLAGS', '')} "
                                   f"--xla_force_host_platform_device_count={_args.devices}").strip()

import pathlib  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from gan_jax import parallel  # noqa: E402
from gan_jax.training import setup as setup_lib  # noqa: E402
from gan_jax.training.step import make_train_chunk  # noqa: E402

CONF = pathlib.Path(__file__).resolve().parents[1] / "conf"


def runner(cfg: dict, mode: str, chunk: int):
    """(seconds of the first call, run(calls) -> seconds per step) for one parallel mode."""
    trainer = {**cfg["trainer"], "parallel": mode.removesuffix("_sync"),
               "sync_batch_stats": mode.endswith("_sync")}
    place = parallel.placement(trainer)
    if isinstance(place, parallel.Replicas):
        s = setup_lib.build(cfg, replicas=place)
        state, arrays = place.replicate(s.init_state()), place.put(s.data.arrays, place.replicated)
        train = place.compile(make_train_chunk(s.step, chunk))
    elif place:
        s = setup_lib.build(cfg, shard_batch=place.shard_batch)
        state = place.put(s.init_state(), place.replicated)
        arrays = place.put(s.data.arrays, place.replicated)
        train = jax.jit(make_train_chunk(s.step, chunk), donate_argnums=0,
                        out_shardings=(place.replicated, place.replicated))
    else:
        s = setup_lib.build(cfg)
        state, arrays = s.init_state(), s.data.arrays
        train = jax.jit(make_train_chunk(s.step, chunk), donate_argnums=0)
    box = [state]

    def run(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            box[0], metrics = train(box[0], arrays)
        jax.block_until_ready((box[0], metrics))
        return (time.perf_counter() - start) / (calls * chunk)

    first = run(1) * chunk
    return first, run


def main() -> None:
    args = ARGS.parse_args()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=DEFAULTS + args.overrides),
                                     resolve=True)
    batch = cfg["trainer"]["batch_size"]
    print(f"{jax.device_count()} x {jax.default_backend()} devices ({os.cpu_count()} cores, "
          f"{platform.machine()}), global batch {batch}, {' '.join(DEFAULTS + args.overrides)}",
          flush=True)
    modes = args.modes.split(",")
    runs = {}
    for mode in modes:
        first, runs[mode] = runner(cfg, mode, args.chunk)
        runs[mode](1)  # warm-up
        print(f"  {mode:9s} first call (compile + {args.chunk} steps) {first:.1f} s", flush=True)
    times: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(args.rounds):
        for mode in modes:
            times[mode].append(runs[mode](args.calls))
    for mode in modes:
        sec = float(np.median(times[mode]))
        print(f"  {mode:9s} {1 / sec:7.1f} steps/s  {batch / sec:8.0f} images/s  "
              f"({sec * 1e3:.1f} ms/step; rounds {min(times[mode]) * 1e3:.1f}-"
              f"{max(times[mode]) * 1e3:.1f} ms)", flush=True)


if __name__ == "__main__":
    main()

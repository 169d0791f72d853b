"""Images/s and compile seconds of the training step, one line per batch size, then a table.

    python scripts/bench_step.py                         # DCGAN, batch 64, Fashion-MNIST, CPU
    python scripts/bench_step.py --torch --batches 16,64,128,256   # and the eager PyTorch twin
    python scripts/bench_step.py --torch --torch-device cuda  # the twin on the GPU too
    python scripts/bench_step.py model=mlp data=ring trainer.batch_size=256
    python scripts/bench_step.py --vmap-one              # the step vmapped over a population of one

Hydra overrides select the config, as for gan_jax.train. The step is timed as it runs in
training: `--chunk` steps per compiled call (lax.scan), state donated, after one warm-up call.
With --torch, the twin (scripts/torch_dcgan.py) runs in a process of its own (PyTorch from this
Python, else .venv-peers, or --torch-python) on the same training images, and JAX and PyTorch
rounds alternate so that both see the same machine load; medians are reported, with the machine
(CPU, load average, versions, commit) stamped above them.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile

import jax
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # scripts/, run as a script
from gan_jax.training import setup as setup_lib  # noqa: E402
from gan_jax.training.step import make_train_chunk  # noqa: E402

TWIN = pathlib.Path(__file__).resolve().parent / "torch_dcgan.py"


def jax_runner(cfg, chunk: int, vmap_one: bool = False):
    """(compile seconds, run(calls) -> seconds per step) for the training step of `cfg`;
    `vmap_one`: the step as a population of one member would run it (vmap over an axis of 1)."""
    s = setup_lib.build(cfg)
    state, step = s.init_state(), s.step
    if vmap_one:
        state = jax.tree_util.tree_map(lambda x: x[None], state)
        step = jax.vmap(s.step, in_axes=(0, None))
    return timed_chunks(step, state, s.data.arrays, chunk)


def timed_chunks(step, state, arrays, chunk: int):
    """(compile seconds, run(calls) -> seconds per step) of `step` run as gan_jax.train runs
    it: jitted chunks of `chunk` steps in one lax.scan, state donated, after one warm-up call."""
    import time

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


def twin_command(args, cfg: dict, images_file: str) -> list[str]:
    """The command that starts the PyTorch twin of `cfg`'s step (default DCGAN only)."""
    from scripts.bench_twin import torch_python

    if cfg["model"]["name"] != "dcgan" or cfg["data"]["name"] != "fashion_mnist":
        raise SystemExit("--torch compares the default DCGAN on Fashion-MNIST only")
    command = [torch_python(args.torch_python), str(TWIN), "--data", images_file,
               "--batch", str(cfg["trainer"]["batch_size"]), "--device", args.torch_device]
    return command + (["--threads", str(args.torch_threads)] if args.torch_threads else [])


def save_images(cfg: dict, folder: str) -> str:
    """The training images as .npy, for the twin to draw its batches from."""
    from gan_jax.data import fashion_mnist

    images, _ = fashion_mnist.load_numpy("train", cfg["data"]["root"])
    path = os.path.join(folder, "images.npy")
    np.save(path, np.asarray(images))
    return path


def bench_batch(args, overrides: list[str], folder: str) -> dict:
    """One batch size: gan_jax's (and the twin's) medians over alternating rounds."""
    from scripts.bench_twin import Twin, config, rounds

    cfg = config(overrides)
    batch = cfg["trainer"]["batch_size"]
    compile_s, run_jax = jax_runner(cfg, args.chunk, args.vmap_one)
    twin = None
    if args.torch:
        twin = Twin(twin_command(args, cfg, save_images(cfg, folder)))
        twin.run(3)  # warm-up
    jax_times, torch_times = [], []
    for _ in range(args.rounds):  # alternating, so that both see the same load
        jax_times.append(run_jax(args.calls))
        if twin:
            torch_times.append(twin.run(args.chunk * args.calls))
    row = {"batch": batch, "jax_s": float(np.median(jax_times)), "compile_s": compile_s}
    print(f"gan_jax [{args.tag}] batch {batch}: {batch / row['jax_s']:.0f} images/s "
          f"({row['jax_s'] * 1e3:.1f} ms/step, median of {args.rounds}; rounds {rounds(jax_times)} ms), "
          f"compile {compile_s:.1f} s", flush=True)
    if twin:
        twin.close()
        row["torch_s"] = float(np.median(torch_times))
        on = twin.info["threads"] if args.torch_device == "cpu" else args.torch_device
        print(f"pytorch eager {twin.info['torch']} ({on} threads) batch {batch}: "
              f"{batch / row['torch_s']:.0f} images/s ({row['torch_s'] * 1e3:.1f} ms/step; rounds "
              f"{rounds(torch_times)} ms); gan_jax / pytorch = {row['torch_s'] / row['jax_s']:.2f}x",
              flush=True)
    return row


def table(rows: list[dict]) -> str:
    lines = ["| batch | gan_jax images/s | ms/step | compile | PyTorch eager images/s | ms/step | ratio |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        b, j, t = r["batch"], r["jax_s"], r.get("torch_s")
        twin = f"{b / t:.0f} | {t * 1e3:.1f} | **{t / j:.2f}x**" if t else "| |"
        lines.append(f"| {b} | {b / j:.0f} | {j * 1e3:.1f} | {r['compile_s']:.1f} s | {twin} |")
    return "\n".join(lines)


def main() -> None:
    from scripts.bench_twin import load, stamp

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=mlp data=ring")
    p.add_argument("--batches", help="comma-separated batch sizes, one after another "
                   "(default: the config's trainer.batch_size)")
    p.add_argument("--chunk", type=int, default=10, help="steps per compiled call")
    p.add_argument("--calls", type=int, default=3, help="timed calls per round")
    p.add_argument("--rounds", type=int, default=3, help="alternating timing rounds (median)")
    p.add_argument("--torch", action="store_true", help="also time the eager PyTorch twin (DCGAN only)")
    p.add_argument("--torch-device", default="cpu", help="where the twin runs: cpu (default) or cuda")
    p.add_argument("--torch-python", help="the Python with PyTorch that runs the twin "
                   "(default: this one if it has PyTorch, else .venv-peers/bin/python)")
    p.add_argument("--torch-threads", type=int, help="PyTorch's intra-op threads (default: its choice)")
    p.add_argument("--vmap-one", action="store_true",
                   help="time the step vmapped over a population axis of size 1")
    args = p.parse_args()
    args.tag = " ".join(args.overrides + (["--vmap-one"] if args.vmap_one else [])) or "default"
    batches = [int(b) for b in args.batches.split(",")] if args.batches else [None]
    print(stamp(), flush=True)
    with tempfile.TemporaryDirectory() as folder:
        rows = [bench_batch(args, args.overrides + ([f"trainer.batch_size={b}"] if b else []), folder)
                for b in batches]
    print(f"load average after: {load()}\n\n{table(rows)}", flush=True)


if __name__ == "__main__":
    main()

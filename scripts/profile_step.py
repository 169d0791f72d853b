"""Where a training step's time goes: its top operations in gan_jax and in the PyTorch twin.

    python scripts/profile_step.py --batches 64,256            # DCGAN, Fashion-MNIST, CPU
    python scripts/profile_step.py --batches 64 --torch --top 12
    python scripts/profile_step.py model=mlp data=ring --batches 256

gan_jax: the step compiled as gan_jax.train runs it (`--chunk` steps per lax.scan call, state
donated), traced with `jax.profiler` for `--calls` calls after a warm-up; each operation of the
compiled program (an XLA fusion, dot, copy, ...) gets the time its trace events took, summed over
threads, per step, named by the model code it came from (XLA's op_name metadata). With --torch,
the twin (scripts/torch_dcgan.py, in a process of its own) is profiled over as many steps with
`torch.profiler`: self CPU time per operator. Profiling slows both down; read shares, and time
with scripts/bench_step.py.
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import pathlib
import re
import sys
import tempfile

import jax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # scripts/, run as a script
from gan_jax.training import setup as setup_lib  # noqa: E402
from gan_jax.training.step import make_train_chunk  # noqa: E402
from scripts.bench_step import save_images, twin_command  # noqa: E402
from scripts.bench_twin import Twin, config, load, stamp  # noqa: E402

# `  %name = f32[64,1024]{1,0} fusion(...), kind=kLoop, calls=..., metadata={op_name="..." ...`
INSTRUCTION = re.compile(r'^\s*(?:ROOT )?%?([\w.\-]+) = (\S+?)(?:\{[\d,]*\})? (\w[\w\-]*)\((.*)$')
OP_NAME = re.compile(r'op_name="([^"]*)"')
DROP = re.compile(r"^jit\(chunk\)/(while/body/)?(closed_call/)?")


def hlo_ops(hlo_text: str) -> dict[str, dict]:
    """Each instruction of the compiled program: {name: {shape, opcode, source}}."""
    ops = {}
    for line in hlo_text.splitlines():
        m = INSTRUCTION.match(line)
        if m:
            name, shape, opcode, rest = m.groups()
            source = OP_NAME.search(rest)
            kind = "ynnpack dot" if "__ynn_fusion" in rest else opcode
            ops[name] = {"shape": shape, "opcode": kind,
                         "source": DROP.sub("", source.group(1)) if source else ""}
    return ops


def trace_durations(folder: str, names: set[str]) -> collections.Counter:
    """Microseconds per operation of the last trace in `folder`, summed over its events."""
    path = sorted(glob.glob(f"{folder}/**/*.trace.json.gz", recursive=True))[-1]
    totals = collections.Counter()
    for event in json.load(gzip.open(path))["traceEvents"]:
        if event.get("ph") == "X" and event["name"] in names:
            totals[event["name"]] += event.get("dur", 0.0)
    return totals


def profile_jax(cfg: dict, chunk: int, calls: int) -> tuple[float, list[dict]]:
    """(traced wall ms per step, operations with ms per step, largest first)."""
    import time

    s = setup_lib.build(cfg)
    state = s.init_state()
    compiled = jax.jit(make_train_chunk(s.step, chunk), donate_argnums=0).lower(
        state, s.data.arrays).compile()
    ops = hlo_ops(compiled.as_text())
    state, metrics = compiled(state, s.data.arrays)  # warm-up
    jax.block_until_ready(state)
    with tempfile.TemporaryDirectory() as folder:
        with jax.profiler.trace(folder, create_perfetto_trace=True):
            start = time.perf_counter()
            for _ in range(calls):
                state, metrics = compiled(state, s.data.arrays)
            jax.block_until_ready((state, metrics))
            wall = (time.perf_counter() - start) / (calls * chunk)
        totals = trace_durations(folder, set(ops))
    steps = calls * chunk
    rows = [{**ops[name], "op": name, "ms_per_step": us / 1e3 / steps} for name, us in totals.items()]
    return wall * 1e3, sorted(rows, key=lambda r: -r["ms_per_step"])


def jax_table(rows: list[dict], top: int) -> str:
    total = sum(r["ms_per_step"] for r in rows)
    lines = ["| gan_jax operation | what (model code) | output | ms/step | share |",
             "|---|---|---|---:|---:|"]
    for r in rows[:top]:
        lines.append(f"| {r['op']} ({r['opcode']}) | {r['source'] or '-'} | {r['shape']} | "
                     f"{r['ms_per_step']:.2f} | {100 * r['ms_per_step'] / total:.1f}% |")
    lines.append(f"| all {len(rows)} operations | | | {total:.2f} | 100% |")
    return "\n".join(lines)


def torch_table(ops: list[dict], top: int) -> str:
    total = sum(o["ms_per_step"] for o in ops)
    lines = ["| PyTorch operator | calls/step | self ms/step | share |", "|---|---:|---:|---:|"]
    for o in ops[:top]:
        lines.append(f"| {o['op']} | {o['calls_per_step']:.0f} | {o['ms_per_step']:.2f} | "
                     f"{100 * o['ms_per_step'] / total:.1f}% |")
    lines.append(f"| all {len(ops)} operators | | {total:.2f} | 100% |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=mlp data=ring")
    p.add_argument("--batches", default="64", help="comma-separated batch sizes")
    p.add_argument("--chunk", type=int, default=10, help="steps per compiled call")
    p.add_argument("--calls", type=int, default=2, help="traced calls")
    p.add_argument("--top", type=int, default=15, help="operations listed")
    p.add_argument("--torch", action="store_true", help="also profile the PyTorch twin (DCGAN only)")
    p.add_argument("--torch-device", default="cpu")
    p.add_argument("--torch-python", help="the Python with PyTorch (default: this one, else .venv-peers)")
    p.add_argument("--torch-threads", type=int, help="PyTorch's intra-op threads (default: its choice)")
    args = p.parse_args()
    print(stamp(), flush=True)
    for batch in (int(b) for b in args.batches.split(",")):
        cfg = config(args.overrides + [f"trainer.batch_size={batch}"])
        wall, rows = profile_jax(cfg, args.chunk, args.calls)
        print(f"\n### batch {batch}: gan_jax, {wall:.1f} ms/step while traced\n\n"
              f"{jax_table(rows, args.top)}", flush=True)
        if args.torch:
            with tempfile.TemporaryDirectory() as folder:
                twin = Twin(twin_command(args, cfg, save_images(cfg, folder)))
                twin.run(3)  # warm-up
                ops = twin.ask(f"profile {args.chunk * args.calls}")["ops"]
                twin.close()
            print(f"\n### batch {batch}: PyTorch eager {twin.info['torch']} "
                  f"({twin.info['threads']} threads)\n\n{torch_table(ops, args.top)}", flush=True)
    print(f"\nload average after: {load()}", flush=True)


if __name__ == "__main__":
    main()

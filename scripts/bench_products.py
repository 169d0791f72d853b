"""The DCGAN step's largest matrix products, each timed alone: the ceiling of the whole step.

    python scripts/bench_products.py --batches 64,256

scripts/profile_step.py names the dense layers' products as the step's largest operations on the
CPU. Run alone (jit, no other work in the program, best of 3 rounds) they show the rate XLA:CPU's
matrix kernels reach at these shapes; a step whose every FLOP ran at that rate, with nothing else
costing time, is the most this CPU can give (docs/performance.md, issue 26).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import jax
import jax.numpy as jnp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # scripts/, run as a script
import gan_jax  # noqa: E402,F401  (its XLA flags, as in the step)
from scripts.bench_twin import stamp  # noqa: E402

HIDDEN, FEATURES = 1024, 7 * 7 * 128  # the dense layers of G (1024 -> 6272) and D (6272 -> 1024)


def products(batch: int) -> dict[str, tuple[tuple[int, int], tuple[int, int], str]]:
    """name: (lhs shape, rhs shape, einsum) of the forward and both backward products."""
    b, d = batch, 2 * batch  # D sees the real and the fake batch
    return {"G Dense_1 forward": ((b, HIDDEN), (HIDDEN, FEATURES), "bk,kn->bn"),
            "G Dense_1 grad input": ((b, FEATURES), (HIDDEN, FEATURES), "bn,kn->bk"),
            "G Dense_1 grad kernel": ((b, HIDDEN), (b, FEATURES), "bk,bn->kn"),
            "D Dense_0 forward": ((d, FEATURES), (FEATURES, HIDDEN), "bk,kn->bn"),
            "D Dense_0 grad input": ((d, HIDDEN), (FEATURES, HIDDEN), "bn,kn->bk"),
            "D Dense_0 grad kernel": ((d, FEATURES), (d, HIDDEN), "bk,bn->kn")}


def seconds(einsum: str, lhs, rhs, calls: int, rounds: int) -> float:
    f = jax.jit(lambda a, b: jnp.einsum(einsum, a, b))
    f(lhs, rhs).block_until_ready()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            out = f(lhs, rhs)
        out.block_until_ready()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="64,256", help="comma-separated batch sizes")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(stamp())
    key = jax.random.PRNGKey(0)
    for batch in (int(b) for b in args.batches.split(",")):
        print(f"\nbatch {batch}\n| product | shapes | ms | GFLOP/s |\n|---|---|---:|---:|")
        total_flop = total_s = 0.0
        for name, (ls, rs, einsum) in products(batch).items():
            lhs, rhs = jax.random.normal(key, ls), jax.random.normal(key, rs)
            inputs = einsum.split("->")[0].split(",")
            sizes = dict(zip(inputs[0], ls)) | dict(zip(inputs[1], rs))
            flop = 2.0 * sizes["b"] * sizes["k"] * sizes["n"]  # a multiply and an add per term
            s = seconds(einsum, lhs, rhs, args.calls, args.rounds)
            total_flop, total_s = total_flop + flop, total_s + s
            print(f"| {name} | {ls} x {rs} | {s * 1e3:.2f} | {flop / s / 1e9:.0f} |", flush=True)
        print(f"| all six | | {total_s * 1e3:.2f} | {total_flop / total_s / 1e9:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

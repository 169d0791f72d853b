"""What populations and the compilation cache save on this study's runs (one CPU core or more).

    .venv/bin/python experiments/pacgan_2d/bench.py --steps 2000 --seeds 3 --m 1

The same work, seeds 0..S-1 of one (ring, m) run of `steps` steps, four ways, each timed from
process start to exit (`gan_jax.train` as a user types it):

1. one population process (`trainer.population=S`), empty compilation cache (cold);
2. the same again with the cache that call 1 filled (warm);
3. S single-seed processes one after another, empty cache for the first (each of the others
   finds what the first compiled);
4. S single-seed processes, all with the cache warm from 3.

Writes `bench_m<m>.json` (the times, the commands, commit and machine).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from experiments.pacgan_2d.run import PACKS_PER_BATCH  # noqa: E402
from experiments.provenance import provenance  # noqa: E402


def command(seeds: list[int], m: int, steps: int, cache: pathlib.Path, run_dir: pathlib.Path) -> list[str]:
    pop = ([f"trainer.population={len(seeds)}", f"seed=[{','.join(map(str, seeds))}]"]
           if len(seeds) > 1 else [f"seed={seeds[0]}"])
    pac = ["mitigation=[pacgan]", f"mitigation.pacgan.m={m}"] if m > 1 else []
    return [sys.executable, "-m", "gan_jax.train", "experiment=pacgan_ring", *pop, *pac,
            f"trainer.steps={steps}", f"trainer.batch_size={PACKS_PER_BATCH * m}",
            "trainer.log_every=1000", f"trainer.eval_every={steps}", f"trainer.sample_every={steps}",
            f"trainer.checkpoint_every={steps}", "trainer.eval_samples=2500",
            "trainer.progress=false", f"trainer.compile_cache={cache}", f"hydra.run.dir={run_dir}"]


def timed(cmd: list[str]) -> dict:
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    process = time.perf_counter() - start
    summary = json.loads((pathlib.Path(cmd[-1].split("=", 1)[1]) / "summary.json").read_text())
    return {"process_seconds": round(process, 1), "train_seconds": summary["wall_seconds"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--m", type=int, default=1)
    args = p.parse_args(argv)
    seeds, tmp = list(range(args.seeds)), pathlib.Path(tempfile.mkdtemp(prefix="pacgan_bench_"))
    result: dict = {"steps": args.steps, "seeds": args.seeds, "m": args.m, "ways": {}}
    try:
        pop_cache, single_cache = tmp / "cache_population", tmp / "cache_single"
        for way, cache in (("population_cold", pop_cache), ("population_warm", pop_cache)):
            cmd = command(seeds, args.m, args.steps, cache, tmp / way)
            result["ways"][way] = {**timed(cmd), "command": " ".join(cmd[1:-1])}
        for way in ("single_cold_first", "single_warm"):
            runs = [timed(command([s], args.m, args.steps, single_cache, tmp / f"{way}_{s}"))
                    for s in seeds]
            result["ways"][way] = {
                "process_seconds": round(sum(r["process_seconds"] for r in runs), 1),
                "train_seconds": round(sum(r["train_seconds"] for r in runs), 1),
                "per_seed": runs,
                "command": " ".join(command([0], args.m, args.steps, single_cache, tmp)[1:-1])}
            print(way, result["ways"][way]["process_seconds"], flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result.update(provenance())
    out = HERE / f"bench_m{args.m}.json"
    out.write_text(json.dumps(result, indent=2))
    for way, r in result["ways"].items():
        print(f"{way:18s} process {r['process_seconds']:7.1f} s  training loop {r['train_seconds']:7.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Wall time of one 16-member sweep run three ways, side by side: one population run (vmap, one
process); a Hydra multirun with the basic launcher (the 16 jobs one after another inside one
process); 16 separate processes one after another (each job pays its own start-up, as a job of a
Slurm array does). Then each member against its single run.

    .venv/bin/python scripts/bench_sweep.py                # 2D ring, MLP GAN, 10k steps each
    .venv/bin/python scripts/bench_sweep.py --steps 1000   # a quick look

The sweep is 4 learning rates x 4 seeds of `experiment=ring_mlp`. Both ways start the way a
user would (`python -m gan_jax.train`), timed from process start to exit, with the same fresh
compilation cache, which the 16 multirun jobs share as a user's sweep would.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import time

import jax
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LRS = [1e-4, 2e-4, 5e-4, 1e-3]
SEEDS = [0, 1, 2, 3]


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-3000:]}")
    return time.perf_counter() - start


def final_state(cfg: dict, run_dir: pathlib.Path, population: bool):
    from gan_jax.training import population as population_lib
    from gan_jax.training import setup as setup_lib
    from gan_jax.training.checkpoint import Checkpoints

    build = population_lib.build if population else setup_lib.build
    ckpt = Checkpoints(run_dir / "checkpoints")
    state = ckpt.restore(build(cfg).init_state())
    ckpt.close()
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--out", default="runs/bench_sweep")
    args = parser.parse_args()
    out = (ROOT / args.out).absolute()
    shutil.rmtree(out, ignore_errors=True)
    every = min(500, args.steps)
    common = [sys.executable, "-m", "gan_jax.train", "experiment=ring_mlp",
              f"trainer.steps={args.steps}", f"trainer.log_every={every}",
              f"trainer.sample_every={args.steps}", f"trainer.eval_every={args.steps}",
              f"trainer.checkpoint_every={args.steps}", "trainer.progress=false",
              f"trainer.compile_cache={out / 'xla_cache'}"]
    pairs = [(lr, seed) for lr in LRS for seed in SEEDS]
    population_s = timed(common + [
        f"trainer.population={len(pairs)}", f"optim.lr=[{','.join(str(lr) for lr, _ in pairs)}]",
        f"seed=[{','.join(str(s) for _, s in pairs)}]", f"hydra.run.dir={out / 'population'}"])
    multirun_s = timed(common[:3] + ["--multirun"] + common[3:] + [f"optim.lr={','.join(map(str, LRS))}",
                                 f"seed={','.join(map(str, SEEDS))}",
                                 f"hydra.sweep.dir={out / 'multirun'}"])
    processes_s = sum(timed(common + [f"optim.lr={lr}", f"seed={seed}",
                                      f"hydra.run.dir={out / 'processes' / f'{lr}_{seed}'}"])
                      for lr, seed in pairs)

    population = json.loads((out / "population" / "summary.json").read_text())
    pop_cfg = json.loads((out / "population" / "config.json").read_text())
    pop_state = final_state(pop_cfg, out / "population", population=True)
    singles = {}
    for summary_path in (out / "multirun").glob("*/summary.json"):
        cfg = json.loads((summary_path.parent / "config.json").read_text())
        singles[(cfg["optim"]["lr"], cfg["seed"])] = (cfg, summary_path.parent)

    print(f"16-member sweep, ring MLP GAN, {args.steps} steps each, {jax.device_count()} CPU device(s)")
    print(f"{'population run (1 process, vmap)':<40}{population_s:>10.1f} s")
    print(f"{'Hydra multirun (16 jobs in 1 process)':<40}{multirun_s:>10.1f} s")
    print(f"{'16 separate processes, in turn':<40}{processes_s:>10.1f} s")
    print(f"{'speed-up vs multirun':<40}{multirun_s / population_s:>10.2f} x")
    print(f"{'speed-up vs separate processes':<40}{processes_s / population_s:>10.2f} x\n")
    print(f"{'lr':>8} {'seed':>4} | {'modes pop/single':>16} | {'hq pop/single':>15} | max |param diff|")
    rows = []
    for member in population["members"]:
        lr, seed = member["hparams"]["optim.lr"], member["hparams"]["seed"]
        cfg, run_dir = singles[(lr, seed)]
        single = json.loads((run_dir / "summary.json").read_text())
        alone = final_state(cfg, run_dir, population=False)
        mine = jax.tree_util.tree_map(lambda x, i=member["member"]: x[i], pop_state)
        diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in
                   zip(jax.tree_util.tree_leaves(mine.g_params), jax.tree_util.tree_leaves(alone.g_params)))
        e, s = member["eval"], single["eval"]
        rows.append({"lr": lr, "seed": seed, "population": e, "single": s, "g_param_max_diff": diff})
        print(f"{lr:>8g} {seed:>4} | {e['eval/modes']:>7.0f} / {s['eval/modes']:<6.0f} | "
              f"{e['eval/hq']:>6.3f} / {s['eval/hq']:<6.3f} | {diff:.2e}")
    (out / "bench_sweep.json").write_text(json.dumps(
        {"steps": args.steps, "population_seconds": population_s, "multirun_seconds": multirun_s,
         "separate_processes_seconds": processes_s, "speedup": multirun_s / population_s,
         "speedup_vs_processes": processes_s / population_s, "members": rows}, indent=2))
    print(f"\nwritten: {out / 'bench_sweep.json'}")


if __name__ == "__main__":
    main()

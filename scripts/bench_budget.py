"""Measured training-step throughput of run configurations (a population when
trainer.population > 1), as gan_jax.train runs them: `chunk` steps per compiled lax.scan call,
state donated, after one warm-up call; timed calls until `--seconds` have passed. The measured
counterpart of scripts/step_flops.py, for a study's `--budget full` on a GPU.

    .venv/bin/python scripts/bench_budget.py scripts/results/h200/items_full.txt --out budget.jsonl

ITEMS holds lines "label chunk override ..." (Hydra overrides, no spaces inside one; `#` starts
a comment). Prints one JSON line per item and appends it to --out; an item that fails is
recorded with its error and the next one runs. Times the training steps only: evaluation,
sampling, checkpoints, process start-up and compilation (reported as compile_s) are excluded.
Results measured on an H200: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from gan_jax import data as data_lib  # noqa: E402
from gan_jax.training import population as population_lib  # noqa: E402
from gan_jax.training import setup as setup_lib  # noqa: E402
from gan_jax.training.step import make_train_chunk  # noqa: E402

_build_data, _cache = data_lib.build, {}


def cached_data(cfg):
    """The dataset built once per data config (the stacked triples take seconds to build)."""
    key = json.dumps(cfg, sort_keys=True, default=str)
    if key not in _cache:
        _cache[key] = _build_data(cfg)
    return _cache[key]


data_lib.build = cached_data


def bench(label: str, overrides: list[str], chunk: int, seconds: float, max_calls: int) -> dict:
    t0 = time.perf_counter()
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=overrides), resolve=True)
    pop = int(cfg["trainer"]["population"])
    built = population_lib.build(cfg) if pop > 1 else setup_lib.build(cfg)
    box = [built.init_state()]
    jax.block_until_ready(box[0])
    build_s = time.perf_counter() - t0
    train = jax.jit(make_train_chunk(built.step, chunk), donate_argnums=0)
    t1 = time.perf_counter()
    compiled = train.lower(box[0], built.data.arrays).compile()
    compile_s = time.perf_counter() - t1
    box[0], m = compiled(box[0], built.data.arrays)  # warm-up
    jax.block_until_ready((box[0], m))
    calls, start = 0, time.perf_counter()
    while True:
        box[0], m = compiled(box[0], built.data.arrays)
        calls += 1
        jax.block_until_ready((box[0], m))
        el = time.perf_counter() - start
        if el >= seconds or calls >= max_calls:
            break
    steps = calls * chunk
    sps = steps / el
    return {"label": label, "overrides": overrides, "population": pop,
            "batch_size": cfg["trainer"]["batch_size"], "n_critic": cfg["optim"]["n_critic"],
            "chunk": chunk, "timed_steps": steps, "timed_s": round(el, 3),
            "steps_per_s": round(sps, 2), "ms_per_step": round(1e3 / sps, 4),
            "member_steps_per_s": round(sps * pop, 1), "compile_s": round(compile_s, 1),
            "build_s": round(build_s, 1), "backend": jax.default_backend(),
            "device": str(jax.devices()[0].device_kind), "jax": jax.__version__}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("items", help="file of lines: label chunk override ...")
    p.add_argument("--seconds", type=float, default=8.0, help="timed seconds per item")
    p.add_argument("--max-calls", type=int, default=1000)
    p.add_argument("--deadline", type=float, default=float("inf"),
                   help="unix time after which no new item starts")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    for raw in pathlib.Path(args.items).read_text().splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        label, chunk, *overrides = raw.split()
        if time.time() > args.deadline:
            rec = {"label": label, "skipped": "deadline"}
        else:
            try:
                rec = bench(label, overrides, int(chunk), args.seconds, args.max_calls)
            except Exception as e:  # noqa: BLE001 - record and go on to the next item
                rec = {"label": label, "overrides": overrides, "error": repr(e)[:500]}
        line = json.dumps(rec)
        print(line, flush=True)
        with open(args.out, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()

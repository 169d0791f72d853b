"""Training speed of gan_jax and of CTGAN 0.12.1 (PyTorch) on the same table, side by side.

    .venv/bin/python scripts/bench_tabular.py                 # 10 epochs each
    .venv/bin/python scripts/bench_tabular.py --epochs 100
    .venv/bin/python scripts/bench_tabular.py --smoke         # 1 epoch each: proves the script works

The table: CDNOW's training customers as `experiment=ctgan_cdnow` builds them (data.seed=0,
split=test: 18,856 rows), written to a CSV for CTGAN. Both train CTGAN's recipe for --epochs
epochs (batch 500, PacGAN 10, WGAN-GP, Adam 2e-4): gan_jax as `python -m gan_jax.train
experiment=ctgan_cdnow` in a subprocess, CTGAN through experiments/cdnow_augment/ctgan_peer.py in
the peers' environment (scripts/setup_peers.sh), one after the other, never at once.

What is timed:
- seconds per epoch, in steady state: the mean epoch after the first. The first holds gan_jax's
  compilation and CTGAN's warm-up; neither's start-up (imports, reading and encoding the table) is
  in it. gan_jax runs one compiled chunk per epoch (trainer.log_every = steps per epoch) and its
  only evaluation, sample and checkpoint come after the last chunk (outside the timing); its
  epochs are read from the run's TensorBoard `perf/steps_per_second`, which the loop logs after
  each chunk as steps / seconds since training began. CTGAN's epochs are timed by ctgan_peer.py.
  An epoch is ceil(rows / 500) steps for gan_jax (38) and CTGAN's own floor(rows / 500) (37), so
  seconds per step are given too; the ratios are CTGAN / gan_jax (above 1: gan_jax is faster).
- transform fit: gan_jax's `TableTransform.fit` on the training rows, in this process after a
  warm-up fit (JIT compilation; median of --transform-repeats), against CTGAN's DataTransformer
  fit (once, in ctgan_peer.py).
Writes scripts/results/bench_tabular.json (--smoke: bench_tabular_smoke.json) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from experiments.provenance import provenance  # noqa: E402

PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
PEER_SCRIPT = ROOT / "experiments" / "cdnow_augment" / "ctgan_peer.py"
RESULTS = ROOT / "scripts" / "results"
EXPERIMENT = "experiment=ctgan_cdnow"
BATCH, PAC = 500, 10


def training_table(overrides: list[str]):
    """(config, Table) of experiment=ctgan_cdnow, built as gan_jax.train builds it."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from gan_jax import data as data_lib

    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = OmegaConf.to_container(compose("config", overrides=[EXPERIMENT, *overrides]), resolve=True)
    return cfg, data_lib.build(cfg["data"]).table


def time_transform_fit(cfg: dict, table, repeats: int) -> dict:
    """Median seconds of TableTransform.fit on the training rows (compiled by the build's fit)."""
    from gan_jax.data.table_transform import TableTransform

    d, seconds = cfg["data"], []
    for _ in range(repeats):
        start = time.perf_counter()
        TableTransform.fit(table.train, table.discrete, max_modes=int(d["max_modes"]), seed=int(d["seed"]))
        seconds.append(time.perf_counter() - start)
    return {"seconds": round(statistics.median(seconds), 4), "all": [round(s, 4) for s in seconds]}


def epoch_seconds(run_dir: pathlib.Path, steps_per_epoch: int) -> list[float]:
    """Each epoch's seconds, from the elapsed time the loop logs after every chunk (one chunk an
    epoch): perf/steps_per_second = step / seconds since training began."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tb"), size_guidance={"scalars": 0})
    events.Reload()
    ends = [0.0] + [e.step / e.value for e in events.Scalars("perf/steps_per_second")]
    steps = [e.step for e in events.Scalars("perf/steps_per_second")]
    if steps != [steps_per_epoch * (i + 1) for i in range(len(steps))]:
        raise RuntimeError(f"{run_dir}: logged steps {steps} are not one per epoch of {steps_per_epoch}")
    return [b - a for a, b in zip(ends, ends[1:])]


def steady(epochs: list[float]) -> list[float]:
    return epochs[1:] if len(epochs) > 1 else epochs


def run_gan_jax(epochs: int, steps_per_epoch: int, seed: int, work: pathlib.Path, overrides) -> dict:
    steps = epochs * steps_per_epoch
    run_dir = work / "gan_jax"
    cmd = [sys.executable, "-m", "gan_jax.train", EXPERIMENT, f"trainer.steps={steps}",
           f"trainer.log_every={steps_per_epoch}", f"trainer.sample_every={steps}",
           f"trainer.eval_every={steps}", f"trainer.checkpoint_every={steps}",
           "trainer.eval_samples=1000", "trainer.progress=false", f"seed={seed}",
           f"hydra.run.dir={run_dir}", *overrides]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    process = time.perf_counter() - start
    summary = json.loads((run_dir / "summary.json").read_text())
    per_epoch = epoch_seconds(run_dir, steps_per_epoch)
    timed = steady(per_epoch)
    return {"command": " ".join(cmd[1:]), "steps": steps, "steps_per_epoch": steps_per_epoch,
            "seconds_per_epoch": round(statistics.mean(timed), 4),
            "seconds_per_step": round(statistics.mean(timed) / steps_per_epoch, 5),
            "first_epoch_seconds": round(per_epoch[0], 4), "epochs_timed": len(timed),
            "first_epoch_excluded": len(per_epoch) > 1, "epoch_seconds": [round(s, 4) for s in per_epoch],
            # summary.json's own figures: over the whole loop, compilation and the final
            # evaluation, sample and checkpoint included.
            "loop_wall_seconds": summary["wall_seconds"],
            "loop_steps_per_second": summary["steps_per_second"], "process_seconds": round(process, 2)}


def run_ctgan(csv: pathlib.Path, discrete, epochs: int, seed: int, work: pathlib.Path) -> dict:
    out = work / "ctgan"
    cmd = [str(PEERS_PYTHON), str(PEER_SCRIPT), "--train", str(csv), "--discrete", *discrete,
           "--epochs", str(epochs), "--batch-size", str(BATCH), "--pac", str(PAC), "--seed", str(seed),
           "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    record = json.loads((out / "ctgan.json").read_text())
    return {"command": " ".join(cmd[1:]), **record, "process_seconds": round(time.perf_counter() - start, 2)}


def print_table(result: dict) -> None:
    g, c, r = result["gan_jax"], result["ctgan"], result["ratio_ctgan_over_gan_jax"]
    rows = [("seconds per epoch (steady)", g["seconds_per_epoch"], c["seconds_per_epoch"], r["per_epoch"]),
            ("seconds per step (steady)", g["seconds_per_step"], c["seconds_per_step"], r["per_step"]),
            ("first epoch seconds", g["first_epoch_seconds"], c["first_epoch_seconds"], None),
            ("transform fit seconds", result["gan_jax_transform_fit"]["seconds"],
             c["transform_fit_seconds"], r["transform_fit"])]
    print(f"{result['rows']} rows, {result['epochs']} epochs, batch {BATCH}, pac {PAC}; steps per epoch: "
          f"gan_jax {g['steps_per_epoch']}, CTGAN {c['steps_per_epoch']}")
    print(f"{'':28} {'gan_jax':>10} {'CTGAN':>10} {'CTGAN/gan_jax':>14}")
    for name, a, b, ratio in rows:
        print(f"{name:28} {a:>10.4g} {b:>10.4g} {'' if ratio is None else f'{ratio:.2f}x':>14}")
    if not g["first_epoch_excluded"]:
        print("(one epoch: its time includes gan_jax's compilation and CTGAN's warm-up)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("overrides", nargs="*", help="extra Hydra overrides for gan_jax (data.*, model.*)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="1 epoch each, to check the script works")
    p.add_argument("--transform-repeats", type=int, default=3)
    p.add_argument("--work", type=pathlib.Path, help="folder for the runs (default: a new temporary one)")
    p.add_argument("--out", type=pathlib.Path, help="results JSON (default: scripts/results/...)")
    args = p.parse_args()
    if not PEERS_PYTHON.is_file():
        sys.exit(f"{PEERS_PYTHON} is missing: run scripts/setup_peers.sh first.")
    epochs = 1 if args.smoke else args.epochs
    out = args.out or RESULTS / ("bench_tabular_smoke.json" if args.smoke else "bench_tabular.json")
    work = args.work or pathlib.Path(tempfile.mkdtemp(prefix="bench_tabular_"))
    work.mkdir(parents=True, exist_ok=True)

    cfg, table = training_table(args.overrides)
    rows = len(table.train)
    csv = work / "train.csv"
    table.train.to_csv(csv, index=False)
    transform = time_transform_fit(cfg, table, args.transform_repeats)
    load = {"before": [round(x, 2) for x in os.getloadavg()]}
    gan = run_gan_jax(epochs, math.ceil(rows / BATCH), args.seed, work, args.overrides)
    load["between"] = [round(x, 2) for x in os.getloadavg()]
    peer = run_ctgan(csv, list(table.discrete), epochs, args.seed, work)
    load["after"] = [round(x, 2) for x in os.getloadavg()]

    result = {
        "rows": rows, "columns": list(table.train.columns), "discrete": list(table.discrete),
        "epochs": epochs, "batch_size": BATCH, "pac": PAC, "seed": args.seed, "work": str(work),
        "timed": ("seconds per epoch: mean of the epochs after the first (the first alone with one "
                  "epoch), training loop only, no start-up, compilation, warm-up or evaluation; "
                  "transform fit: gan_jax's TableTransform.fit after a warm-up fit (median), CTGAN's "
                  "DataTransformer.fit once"),
        "gan_jax": gan, "gan_jax_transform_fit": transform, "ctgan": peer,
        "ratio_ctgan_over_gan_jax": {
            "per_epoch": round(peer["seconds_per_epoch"] / gan["seconds_per_epoch"], 3),
            "per_step": round(peer["seconds_per_step"] / gan["seconds_per_step"], 3),
            "transform_fit": round(peer["transform_fit_seconds"] / transform["seconds"], 3)},
        "load_average_during": load, **provenance(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print_table(result)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

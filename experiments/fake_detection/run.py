"""Detecting generated product photos: train on one generator, test on generators never seen.

    .venv/bin/python experiments/fake_detection/run.py            # ~15 min on 2 CPU cores
    .venv/bin/python experiments/fake_detection/run.py --smoke --out /tmp/fd   # the slow test

1. Generators from existing configs, short CPU runs (git-ignored `runs/`, reused when complete):
   a narrowed DCGAN (non-saturating) as a population of two, without and with an EMA generator,
   also read at an early checkpoint (a shorter training); the same DCGAN with the hinge loss; the
   fully connected GAN (`model=mlp`).
2. For each generator, `n_train` samples to train on and `n_test` others to test on (from the
   runs' fixed evaluation latents and fresh ones), beside real training and test images.
3. For each training generator g: a detector (`gan_jax.detectors.fake_photo`) fitted on real
   training images vs g's training samples; then, for every generator h, the ROC AUC of its
   logits on real test images (negative) vs h's test samples (positive).
Writes results.json (the matrix, generators and their commands, commit, machine, wall time),
results.md and matrix.png beside this file (with --smoke: under --out).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
NARROW = ["model=dcgan", "model.width=16", "model.fc_width=256"]
# run name -> overrides; each generator = (run, member, checkpoint step or None for the last)
RUNS = {
    "dcgan_ns": [*NARROW, "trainer.population=2", "optim.ema_decay=[0.0,0.999]"],
    "dcgan_hinge": [*NARROW, "loss=hinge"],
    "mlp_ns": ["model=mlp", "model.g_hidden=[256,512]", "model.d_hidden=[512,256]"],
}
FULL = {"steps": 5000, "early": 1000, "n_train": 3000, "n_test": 1000, "detector_steps": 500}
SMOKE = {"steps": 100, "early": 50, "n_train": 200, "n_test": 200, "detector_steps": 50}


def generators(budget: dict) -> dict[str, tuple[str, int, int | None]]:
    return {"DCGAN": ("dcgan_ns", 0, None), "DCGAN+EMA": ("dcgan_ns", 1, None),
            f"DCGAN@{budget['early']}": ("dcgan_ns", 0, budget["early"]),
            "DCGAN hinge": ("dcgan_hinge", 0, None), "MLP GAN": ("mlp_ns", 0, None)}


def train_run(name: str, budget: dict, out: pathlib.Path) -> dict:
    run_dir = (out / name).resolve()
    steps, early = budget["steps"], budget["early"]
    cmd = [sys.executable, "-m", "gan_jax.train", *RUNS[name], f"trainer.steps={steps}",
           f"trainer.log_every={early}", f"trainer.sample_every={steps}",
           f"trainer.eval_every={steps}", f"trainer.checkpoint_every={early}",
           f"trainer.keep_checkpoints={steps // early + 1}", "trainer.eval_samples=1000",
           "eval.reference_samples=2000", "trainer.progress=false", f"hydra.run.dir={run_dir}"]
    summary = run_dir / "summary.json"
    done = summary.is_file() and json.loads(summary.read_text())
    if done and done["status"] == "completed" and done["step"] == steps:
        print(f"{run_dir}: reusing the completed run", flush=True)
    else:
        resume = ["trainer.resume=true"] if (run_dir / "checkpoints").is_dir() else []
        start = time.perf_counter()
        r = subprocess.run(cmd + resume, cwd=ROOT, capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    return {"command": cmd[1:], "summary": json.loads(summary.read_text())}


def samples(run_dir: pathlib.Path, member: int, step: int | None, n: int, seed: int) -> np.ndarray:
    """n images of one member at checkpoint `step`, from latents drawn with `seed`."""
    import jax

    from gan_jax.training import sampling, saved_run
    from gan_jax.training.state import generate

    run = saved_run.load(run_dir, step)
    gan, state = run.setup.gan, run.member(member)
    z = gan.sample_latent(jax.random.PRNGKey(seed), n)
    fn = jax.jit(lambda z: generate(gan, state, z))
    return sampling.in_chunks(lambda z, y: fn(z), z).astype(np.float32)


def plot(names: list[str], matrix: np.ndarray, path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(matrix, vmin=0.5, vmax=1.0, cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("test generator (never seen unless on the diagonal)")
    ax.set_ylabel("detector trained on")
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] < 0.8 else "black")
    fig.colorbar(im, label="ROC AUC")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    from gan_jax.data import fashion_mnist
    from gan_jax.detectors import fake_photo
    from gan_jax.metrics.auroc import auroc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", default=str(HERE / "runs"))
    args = parser.parse_args(argv)
    budget, out = (SMOKE if args.smoke else FULL), pathlib.Path(args.out)
    results_dir = out if args.smoke else HERE
    start = time.perf_counter()
    runs = {name: train_run(name, budget, out) for name in RUNS}
    gens = generators(budget)
    train_x = {g: samples(out / r, m, s, budget["n_train"], seed=100) for g, (r, m, s) in gens.items()}
    test_x = {g: samples(out / r, m, s, budget["n_test"], seed=200) for g, (r, m, s) in gens.items()}
    real_train = fashion_mnist.load_numpy("train")[0][:budget["n_train"]].astype(np.float32) / 255
    real_test = fashion_mnist.load_numpy("test")[0][:budget["n_test"]].astype(np.float32) / 255
    names = list(gens)
    matrix = np.zeros((len(names), len(names)))
    fit_seconds = {}
    for i, g in enumerate(names):
        t = time.perf_counter()
        params, _ = fake_photo.train(real_train, train_x[g], steps=budget["detector_steps"])
        fit_seconds[g] = round(time.perf_counter() - t, 1)
        real_scores = fake_photo.scores(params, real_test)
        for j, h in enumerate(names):
            fake_scores = fake_photo.scores(params, test_x[h])
            matrix[i, j] = auroc(np.concatenate([real_scores, fake_scores]),
                                 np.r_[np.zeros(len(real_scores), bool), np.ones(len(fake_scores), bool)])
        print(f"trained on {g}: " + "  ".join(f"{h} {matrix[i, j]:.3f}" for j, h in enumerate(names)),
              flush=True)
    results = {
        "generators": {g: {"run": r, "member": m, "step": s or budget["steps"]}
                       for g, (r, m, s) in gens.items()},
        "runs": {n: {"command": r["command"], "wall_seconds": r["summary"]["wall_seconds"],
                     "eval": r["summary"].get("eval") or [m["eval"] for m in r["summary"]["members"]]}
                 for n, r in runs.items()},
        "matrix": {"train_on": names, "test_on": names, "auroc": matrix.tolist()},
        "budget": budget, "detector_fit_seconds": fit_seconds,
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.platform()}",
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "results.json").write_text(json.dumps(results, indent=2))
    rows = ["| trained on \\ tested on | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    rows += [f"| {g} | " + " | ".join(f"{v:.3f}" for v in matrix[i]) + " |" for i, g in enumerate(names)]
    (results_dir / "results.md").write_text("\n".join(rows) + "\n")
    plot(names, matrix, results_dir / "matrix.png")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

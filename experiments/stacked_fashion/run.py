"""Modes captured and KL on stacked Fashion-MNIST: DCGAN vs PacDCGAN2 vs unrolled vs minibatch std.

    .venv/bin/python experiments/stacked_fashion/run.py --budget cpu    # see README.md for its cost
    .venv/bin/python experiments/stacked_fashion/run.py --budget full   # the paper protocol (GPU)
    .venv/bin/python experiments/stacked_fashion/run.py --budget smoke --out /tmp/sf  # the test

Each method is ONE training run (`conf/experiment/stacked_fashion.yaml` plus the method's
mitigation) holding a population of seeds. Writes into --out (default: this folder)
results_<budget>.{json,md}, modes_<budget>.png (sorted mode histograms, seed 0 of each method and
real data) and samples_<budget>.png; the runs themselves go to <out>/runs/<budget>/<method>/.
A completed run there is reused and an interrupted one resumed from its last checkpoint, so a
budget can be spread over several sessions; --force trains again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import platform
import shutil
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
import aggregate  # noqa: E402

from experiments.training_runs import stamped, train_or_reuse  # noqa: E402

METHODS = {  # run folder -> (table name, Hydra overrides on top of experiment=stacked_fashion)
    "dcgan": ("DCGAN", []),
    "pacdcgan2": ("PacDCGAN2", ["mitigation=[pacgan]", "mitigation.pacgan.m=2"]),
    "unrolled": ("Unrolled GAN (k={mitigation.unrolled.steps})",  # k: D look-ahead steps
                 ["mitigation=[unrolled]", "mitigation.unrolled.steps=5"]),
    "minibatch_std": ("DCGAN + minibatch std",
                      ["mitigation=[minibatch_std]", "mitigation.minibatch_std.group_size=4"]),
}
SCHEDULE = ["trainer.progress=false"]

# Reductions from the protocol (conf/experiment/stacked_fashion.yaml) per budget; see README.
BUDGETS = {
    "full": {"seeds": [0, 1, 2, 3, 4], "steps": 20_000, "overrides": []},
    # Sized by the learning curve of one seed (curve.py, README.md): the cpu DCGAN covers
    # hundreds of the 1000 triples from 2000 steps on; 4000 steps (256k images, two passes over
    # the 128k triples) is twice that. A 4x narrower DCGAN, a tenth of the 26k eval samples, and
    # 1 look-ahead step for unrolled (5 cost 3x the rest of the experiment here).
    "cpu": {"seeds": [0, 1, 2], "steps": 4000, "overrides": [
        "model.width=16", "model.fc_width=128", "trainer.eval_samples=2600",
        "mitigation.unrolled.steps=1",
        "trainer.log_every=500", "trainer.sample_every=4000", "trainer.eval_every=1000",
        "trainer.checkpoint_every=1000"]},
    # Only that the pipeline runs end to end; the numbers mean nothing.
    "smoke": {"seeds": [0, 1], "steps": 20, "overrides": [
        "model.width=8", "model.fc_width=32", "trainer.batch_size=16",
        "trainer.eval_samples=200", "trainer.log_every=10", "trainer.sample_every=20",
        "trainer.eval_every=20", "trainer.checkpoint_every=20", "data.num_points=2000",
        "mitigation.unrolled.steps=1"]},
}


def method_overrides(method: list[str], budget: dict) -> list[str]:
    """The method's overrides with the budget's; a budget key of a mitigation the method does
    not select (unrolled.steps in smoke) is dropped, since Hydra rejects unknown keys."""
    selected = " ".join(method)
    keep = [o for o in budget["overrides"]
            if not o.startswith("mitigation.") or o.split(".")[1] in selected]
    # The budget's value wins over the method's default for the same key.
    keys = {o.split("=")[0] for o in keep}
    return [o for o in method if o.split("=")[0] not in keys] + keep


def display_name(template: str, overrides: list[str]) -> str:
    """The table name with {key} replaced by that override's value (unrolled's step count)."""
    for override in overrides:
        key, value = override.split("=", 1)
        template = template.replace("{" + key + "}", value)
    return template


def train(name: str, overrides: list[str], seeds: list[int], run_dir: pathlib.Path,
          steps: int) -> float | None:
    """One population run in its own process (as a user would type it): reused when completed,
    resumed from its last checkpoint when interrupted. The process wall seconds (None: reused)."""
    cmd = [sys.executable, "-m", "gan_jax.train", "experiment=stacked_fashion", *overrides,
           f"trainer.population={len(seeds)}", f"seed=[{','.join(map(str, seeds))}]",
           f"hydra.run.dir={run_dir}", *SCHEDULE]
    print(f"[{name}] {' '.join(cmd[1:])}", flush=True)
    wall = train_or_reuse(cmd, run_dir, f"[{name}] training")
    done = json.loads((run_dir / "summary.json").read_text())["step"]
    if done != steps:
        sys.exit(f"[{name}] {run_dir} holds a run of {done} steps, not {steps}; "
                 f"pass --force to train it again.")
    if wall is not None:
        print(f"[{name}] done in {wall:.0f} s", flush=True)
        (run_dir / "process_seconds.txt").write_text(f"{wall:.1f}\n")
    return wall


def recorded_wall(run_dir: pathlib.Path) -> float | None:
    """The process wall time of the call that finished the run (None: not trained by run.py)."""
    path = run_dir / "process_seconds.txt"
    return float(path.read_text()) if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), required=True)
    parser.add_argument("--out", type=pathlib.Path, default=HERE)
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("extra", nargs="*", metavar="KEY=VALUE",
                        help="more Hydra overrides for every run, e.g. eval.feature_net=PATH")
    parser.add_argument("--force", action="store_true",
                        help="train again even where <out>/runs/<budget>/<method> is complete")
    args = parser.parse_args(argv)
    budget = BUDGETS[args.budget]
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    methods, summaries = {}, {}
    for slug in args.methods:
        name, overrides = METHODS[slug]
        overrides = [*method_overrides(overrides, budget), f"trainer.steps={budget['steps']}",
                     *args.extra]
        name = display_name(name, overrides)
        run_dir = out / "runs" / args.budget / slug
        if args.force and run_dir.exists():
            shutil.rmtree(run_dir)
        train(name, overrides, budget["seeds"], run_dir, budget["steps"])
        summaries[name] = run_dir
        summary = json.loads((run_dir / "summary.json").read_text())
        methods[name] = {**aggregate.method_result(summary, recorded_wall(run_dir)),
                         "overrides": overrides,
                         "provenance": stamped(run_dir)}

    # JAX and the feature net only now: the training processes had the cores to themselves.
    import jax  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    import plots  # noqa: PLC0415

    from gan_jax.metrics import feature_net  # noqa: PLC0415

    histograms, grids = {}, {}
    for name, run_dir in summaries.items():
        members, real = plots.run_modes(run_dir)
        # Same latents, same net: the counts behind the plot must be summary.json's.
        recomputed = [len(np.unique(m)) for m in members]
        if recomputed != methods[name]["per_seed"]["eval/modes"]:
            print(f"warning: [{name}] recomputed modes {recomputed}, summary.json says "
                  f"{methods[name]['per_seed']['eval/modes']}", flush=True)
        histograms[name] = members[0]
        grids[name] = run_dir / "samples_member_00.png"
    histograms["real stacked data"] = real
    first = next(iter(summaries.values()))
    cfg = json.loads((first / "config.json").read_text())
    net = feature_net.load(cfg["eval"]["feature_net"])  # the classifier the runs used
    label = f"stacked Fashion-MNIST, budget {args.budget}"
    plots.mode_histogram_figure(histograms, out / f"modes_{args.budget}.png",
                                f"{label}: mode histograms, seed 0, "
                                f"{cfg['trainer']['eval_samples']} samples each")
    plots.samples_figure(grids, out / f"samples_{args.budget}.png", f"{label}: seed 0 samples")

    results = {
        "budget": args.budget,
        "steps": cfg["trainer"]["steps"],
        "batch_size": cfg["trainer"]["batch_size"],
        "eval_samples": cfg["trainer"]["eval_samples"],
        "reference_samples": cfg["trainer"]["eval_samples"],  # the ceiling uses as many real ones
        "model": {k: cfg["model"][k] for k in ("name", "width", "fc_width", "latent_dim",
                                               "latent_dist")},
        "overrides": budget["overrides"],
        "classifier": {"name": net.name, "test_accuracy": float(net.test_accuracy),
                       "weights_sha256": hashlib.sha256(pathlib.Path(
                           cfg["eval"]["feature_net"] or feature_net.WEIGHTS).read_bytes()
                       ).hexdigest()[:16]},  # which net: its metadata may be regenerated
        "methods": methods,
        "hardware": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                     "devices": [str(d) for d in jax.devices()],
                     "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "wall_seconds": round(time.perf_counter() - start, 1),  # this invocation
        "training_wall_seconds": (round(sum(m["wall_seconds"] for m in methods.values()), 1)
                                  if all(m["wall_seconds"] for m in methods.values()) else None),
    }
    json_path, md_path = aggregate.write(results, out, args.budget)
    print(md_path.read_text())
    print(f"wrote {json_path}, {md_path}, modes_{args.budget}.png, samples_{args.budget}.png "
          f"in {results['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Lucic et al. 2018 ("Are GANs Created Equal?"), the loss comparison on Fashion-MNIST, with our
Frechet distance (FD) in the feature space of the packaged Fashion-MNIST CNN.

    python experiments/lucic_fashion/run.py --budget cpu|full|smoke [--out DIR] [--force]
        [hydra overrides for every run...]

For each loss: a seeded random search over the paper's hyperparameter ranges (trials sharing
n_critic and D batch norm train together as one population run), the best trial by final FD,
then that setting again over several fresh seeds. Writes to DIR (default: this folder)
results_<budget>.json and .md, fd_vs_step_<budget>.png, best_fd_<budget>.png, and the runs to
DIR/runs/<budget>/. Finished runs there are reused and cut-off ones resumed from their last
checkpoint, so a budget can take several sessions; --force starts over. Budgets: budgets.py;
what each reduces: README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import shutil
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script: make `experiments.lucic_fashion` importable

from experiments.lucic_fashion import report, runner  # noqa: E402
from experiments.lucic_fashion.budgets import BUDGETS, Budget  # noqa: E402
from experiments.provenance import provenance  # noqa: E402
from experiments.lucic_fashion.search import (  # noqa: E402
    LOSSES, PAPER_FID, group_trials, sample_trials, searched)

SEARCH_SEED = 2018   # numpy seed of the random search: the same trials on every run
RERUN_SEED0 = 1000   # the best settings rerun with seeds 1000, 1001, ... (trial i used seed i)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def search(budget: Budget, runs_dir: pathlib.Path) -> list[dict]:
    """Every trial of every loss with its result, in (loss, trial) order."""
    shared = budget.overrides_for(rerun=False)
    trials = []
    for key in budget.losses:
        sampled = sample_trials(key, budget.trials, SEARCH_SEED, budget.fixed)
        for (n_critic, bn), group in group_trials(sampled).items():
            tag = f"{key}_search_ncritic{n_critic}_bn{int(bn)}"
            log(f"{LOSSES[key].name}: trials {[t['trial'] for t in group]} "
                f"(n_critic={n_critic}, D batch norm {'on' if bn else 'off'}) as one run")
            results = runner.run_group(tag, shared, group, runs_dir, log=log)
            trials += [{**trial, **result} for trial, result in zip(group, results)]
            # The search's checkpoints are not needed (the full budget's would fill ~100 GB).
            for run_dir in {r["run_dir"] for r in results}:
                shutil.rmtree(pathlib.Path(run_dir) / "checkpoints", ignore_errors=True)
    return sorted(trials, key=lambda t: (budget.losses.index(t["loss"]), t["trial"]))


def best_trial(trials: list[dict], key: str) -> dict | None:
    """The lowest final FD of a loss; diverged trials (FD None) count as failed."""
    done = [t for t in trials if t["loss"] == key and t["fd"] is not None]
    return min(done, key=lambda t: t["fd"]) if done else None


def rerun(budget: Budget, best: dict, runs_dir: pathlib.Path) -> dict:
    """The best setting over `budget.seeds` fresh seeds, as one population run."""
    settings = {k: v for k, v in searched(best).items() if k != "seed"}
    seeds = list(range(RERUN_SEED0, RERUN_SEED0 + budget.seeds))
    copies = [{"loss": best["loss"], "trial": best["trial"], **settings, "seed": s} for s in seeds]
    log(f"{LOSSES[best['loss']].name}: best trial {best['trial']} (FD {best['fd']:.2f}) "
        f"over seeds {seeds}")
    results = runner.run_group(f"{best['loss']}_best_seeds", budget.overrides_for(rerun=True),
                               copies, runs_dir, log=log)
    fds = [r["fd"] for r in results]
    return {"trial": best["trial"], "settings": settings, "seeds": seeds, "fds": fds,
            "status": [r["status"] for r in results], "summary": report.summarize(fds),
            "curves": [report.fd_curve(r["tb_dir"]) if r.get("tb_dir") else [] for r in results],
            "samples": [r.get("samples") for r in results],
            "run_dirs": [r["run_dir"] for r in results], "commands": [r["command"] for r in results],
            "real_fd": next((r["real_fd"] for r in results if r.get("real_fd") is not None), None)}


def ranking(reruns: dict) -> dict:
    """Our order of the losses beside the paper's, over the losses both have a mean for; and,
    as a check on what drives ours, its rank correlation with the best settings' learning rate."""
    keys = [k for k, r in reruns.items() if r["summary"]["mean"] is not None]
    ours = {LOSSES[k].name: reruns[k]["summary"]["mean"] for k in keys}
    common = [name for name in ours if name in PAPER_FID]
    paper = [PAPER_FID[name][0] for name in common]
    mine = [ours[n] for n in common]
    lrs = [reruns[k]["settings"]["optim.lr"] for k in keys]
    return {"losses": common, "paper_order": sorted(common, key=lambda n: PAPER_FID[n][0]),
            "our_order": sorted(common, key=ours.get),
            "spearman": report.spearman(paper, mine),
            "spearman_p": report.permutation_p(paper, mine),
            "spearman_fd_vs_best_lr": report.spearman(lrs, [ours[LOSSES[k].name] for k in keys])}


def feature_net_info(path: str | None) -> dict:
    """Which CNN the FD uses (`eval.feature_net`; None: the packaged one), and how well it
    classifies the test images."""
    from gan_jax.metrics import feature_net  # noqa: PLC0415

    net = feature_net.load(path)
    return {k: getattr(net, k) for k in ("name", "test_accuracy", "feature_dim")}


def hardware() -> str:
    import jax  # noqa: PLC0415

    devices = jax.devices()
    return (f"{devices[0].platform} x{len(devices)} ({devices[0].device_kind}), "
            f"{os.cpu_count()} CPU cores")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), required=True)
    # Relative to the working directory, so that the results file records portable paths.
    here = pathlib.Path(os.path.relpath(pathlib.Path(__file__).parent))
    parser.add_argument("--out", type=pathlib.Path, default=here,
                        help="folder for the results, plots and runs/ (default: this folder)")
    parser.add_argument("--force", action="store_true",
                        help="delete earlier runs of this budget (by default finished runs are "
                             "reused and cut-off ones resumed)")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for every run, "
                        "e.g. data.root=DIR (recorded with the budget)")
    args = parser.parse_args(argv)
    budget = BUDGETS[args.budget]
    budget = dataclasses.replace(budget, overrides=budget.overrides + tuple(args.overrides))
    runs_dir = args.out / "runs" / budget.name
    # Finished runs are reused and cut-off ones resumed (runner.py), but only for the same budget.
    recorded, wanted = runs_dir / "budget.json", json.loads(json.dumps(dataclasses.asdict(budget)))
    if args.force and runs_dir.exists():
        shutil.rmtree(runs_dir)
    if runs_dir.exists() and any(runs_dir.iterdir()) and (
            not recorded.is_file() or json.loads(recorded.read_text()) != wanted):
        sys.exit(f"error: {runs_dir} holds runs of another budget; pass --force to replace them.")
    runs_dir.mkdir(parents=True, exist_ok=True)
    recorded.write_text(json.dumps(wanted, indent=2))

    from gan_jax import compile_cache  # noqa: PLC0415

    shared_cfg = runner.make_cfg(budget.overrides_for(rerun=False))
    compile_cache.enable(shared_cfg["trainer"]["compile_cache"])
    start, load_start = time.perf_counter(), os.getloadavg()
    log(f"budget {budget.name}: {budget}")
    trials = search(budget, runs_dir)
    best = {k: best_trial(trials, k) for k in budget.losses}
    reruns = {k: rerun(budget, b, runs_dir) for k, b in best.items() if b is not None}
    # Real images against the test reference, as the reported FDs (the search's FDs are against
    # training images, which the real sample is drawn from).
    real_fds = [r["real_fd"] for r in reruns.values() if r.get("real_fd") is not None]
    results = {
        "budget": dataclasses.asdict(budget), "search_seed": SEARCH_SEED,
        "feature_net": feature_net_info(shared_cfg["eval"]["feature_net"]),
        "eval": {"metric": "eval/fd", "samples": budget.eval_samples,
                 "reference_samples": budget.reference_samples,
                 "reference_split": runner.make_cfg(budget.overrides_for(rerun=True))["eval"][
                     "reference_split"],
                 "search_reference_split": shared_cfg["eval"]["reference_split"]},
        "real_fd": real_fds[0] if real_fds else None,
        "trials": trials,
        "best": {k: b and {"trial": b["trial"], "fd": b["fd"], "settings": searched(b)}
                 for k, b in best.items()},
        "reruns": reruns, "ranking": ranking(reruns),
        "paper_fid": {name: {"mean": m, "sd": s} for name, (m, s) in PAPER_FID.items()},
        "not_implemented": {"BEGAN": "no auto-encoder discriminator in gan_jax"},
        "hardware": hardware(), "provenance": provenance(),
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"results_{budget.name}.json").write_text(json.dumps(results, indent=2))
    table = report.markdown(results)
    (args.out / f"results_{budget.name}.md").write_text(table)
    plots = report.plot(results, args.out)
    print("\n" + table)
    log(f"done in {results['wall_seconds'] / 60:.1f} min; wrote "
        f"{args.out / f'results_{budget.name}.json'}, .md, {', '.join(p.name for p in plots)}")
    return results


if __name__ == "__main__":
    main()

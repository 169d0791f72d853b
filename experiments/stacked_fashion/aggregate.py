"""From the runs' summary.json files to one results dict and a markdown table (no JAX here)."""

from __future__ import annotations

import json
import math
import pathlib

METRICS = ("eval/modes", "eval/kl")


def mean_se(values: list[float]) -> dict:
    """{'mean', 'se', 'n'}: the standard error is std (ddof=1) / sqrt(n); None for one value."""
    n = len(values)
    if n == 0:
        raise ValueError("no values to aggregate")
    mean = sum(values) / n
    if n == 1:
        return {"mean": mean, "se": None, "n": 1}
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return {"mean": mean, "se": math.sqrt(var / n), "n": n}


def method_result(summary: dict, wall_seconds: float | None = None) -> dict:
    """Per-seed values, mean +- s.e. and the real-data ceiling from one population run."""
    if summary.get("status") != "completed":
        raise ValueError(f"run {summary.get('run_dir')} ended {summary.get('status')!r}: "
                         f"{summary.get('error', '')}")
    members = summary.get("members") or [{"member": 0, "hparams": {}, "eval": summary["eval"]}]
    seeds = [m["hparams"].get("seed", i) for i, m in enumerate(members)]
    per_seed = {k: [float(m["eval"][k]) for m in members] for k in METRICS}
    return {
        "seeds": seeds,
        "per_seed": per_seed,
        **{k: mean_se(v) for k, v in per_seed.items()},
        "reference": {k: float(summary["eval_reference"][k]) for k in METRICS},
        "steps": summary["step"],
        "train_seconds": summary["wall_seconds"],  # the training loop, without start-up
        "wall_seconds": wall_seconds,  # the whole process, start-up and compilation included
    }


def fmt(stat: dict, digits: int) -> str:
    if stat["se"] is None:
        return f"{stat['mean']:.{digits}f}"
    return f"{stat['mean']:.{digits}f} ± {stat['se']:.{digits}f}"


def markdown_table(results: dict) -> str:
    """Methods, then the real-data ceiling (the same metrics on real stacked images)."""
    rows = ["| method | seeds | modes (of 1000) | KL | per seed: modes / KL | wall time |",
            "|---|---|---|---|---|---|"]
    for name, r in results["methods"].items():
        seeds = " ".join(f"{m:.0f}/{k:.2f}" for m, k in zip(*(r["per_seed"][k] for k in METRICS)))
        wall = f"{r['wall_seconds']:.0f} s" if r["wall_seconds"] is not None else "-"
        rows.append(f"| {name} | {len(r['seeds'])} | {fmt(r['eval/modes'], 1)} | "
                    f"{fmt(r['eval/kl'], 2)} | {seeds} | {wall} |")
    ref = next(iter(results["methods"].values()))["reference"]
    rows.append(f"| real stacked data (ceiling) | - | {ref['eval/modes']:.0f} | "
                f"{ref['eval/kl']:.2f} | - | - |")
    return "\n".join(rows) + "\n"


def write(results: dict, out: pathlib.Path, budget: str) -> tuple[pathlib.Path, pathlib.Path]:
    json_path, md_path = out / f"results_{budget}.json", out / f"results_{budget}.md"
    json_path.write_text(json.dumps(results, indent=2))
    acc = results["classifier"]["test_accuracy"]
    md_path.write_text(
        f"Stacked Fashion-MNIST, budget `{budget}`: {results['steps']} steps, "
        f"{results['eval_samples']} eval samples per seed, channel classifier test accuracy "
        f"{acc:.2%}. Mean ± s.e. over seeds.\n\n" + markdown_table(results))
    return json_path, md_path

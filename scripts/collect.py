"""One table (and one plot) from a sweep: every run's summary.json under a directory.

    python scripts/collect.py runs/multirun/2026-01-01/12-00-00
    python scripts/collect.py runs/lr_search --metric eval/hq --param optim.lr --out reports/lr

Writes `<out>/results.csv` and `<out>/results.md` (`--out` defaults to SWEEP_DIR): one row per
run, or per member of a population run (`trainer.population`), with the hyperparameters that vary
between rows (the Hydra overrides of `.hydra/overrides.yaml`, the values of each run's
`config.json`, a member's own hparams), then status, final training metrics and evaluation.
With a metric and a parameter it also plots `<out>/<metric>_vs_<param>.png` (a log x axis when
the values span more than 10x). The metric defaults to the runs' `trainer.objective`, else
eval/hq; the parameter to the one numeric hyperparameter that varies.
"""

from __future__ import annotations

import argparse
import csv
import json
import pathlib
import re
import sys
from typing import Any

import yaml

RESULT_KEYS = ("status", "step", "wall_seconds")


def number(text: str) -> Any:
    """An override's value as a number when it is one ("1e-4" included), else the string."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = json.dumps(v) if isinstance(v, (list, dict)) else v
    return out


def natural_key(path: pathlib.Path) -> list:
    """Sort job directories 2 before 10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(path))]


def load_runs(sweep_dir: pathlib.Path) -> list[dict]:
    """One record per run: its directory, overrides, flattened config and summary."""
    runs = []
    for path in sorted(sweep_dir.rglob("summary.json"), key=natural_key):
        run_dir = path.parent
        overrides_file = run_dir / ".hydra" / "overrides.yaml"
        overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
        config_file = run_dir / "config.json"
        runs.append({
            "run": str(run_dir.relative_to(sweep_dir)),
            "overrides": dict(o.lstrip("+~").split("=", 1) for o in overrides or [] if "=" in o),
            "config": flatten(json.loads(config_file.read_text())) if config_file.is_file() else {},
            "summary": json.loads(path.read_text()),
        })
    return runs


def rows_of(runs: list[dict]) -> tuple[list[dict], list[str]]:
    """Table rows and the hyperparameter columns whose values differ between them."""
    rows, param_keys = [], {}  # dict as an ordered set
    for run in runs:
        s = run["summary"]
        params = {k: number(v) for k, v in run["overrides"].items()}
        # Config keys set by an override (loss=hinge sets loss.*) are shown as that override.
        params.update({k: v for k, v in run["config"].items()
                       if not any(k == o or k.startswith(o + ".") for o in run["overrides"])})
        for member in s.get("members") or [None]:
            result = member if member is not None else s
            row = {"run": run["run"]}
            if member is not None:
                row["member"] = member.get("member")
            row["params"] = {**params, **(member or {}).get("hparams", {})}
            for key in RESULT_KEYS:
                row[key] = result.get(key, s.get(key))
            row.update(result.get("metrics", {}))
            row.update(result.get("eval", {}))
            rows.append(row)
            param_keys.update(dict.fromkeys(row["params"]))
    varying = [k for k in param_keys
               if len({json.dumps(r["params"].get(k), sort_keys=True) for r in rows}) > 1]
    return rows, varying


def table(rows: list[dict], varying: list[str]) -> tuple[list[str], list[dict]]:
    """Column names and flat records: run, [member], varying hyperparameters, results."""
    ident = ["run"] + (["member"] if any("member" in r for r in rows) else [])
    results = list(RESULT_KEYS)
    metrics = sorted({k for r in rows for k in r} - {"params", *ident, *results})
    metrics.sort(key=lambda k: k.startswith("eval/"))  # training metrics, then evaluation
    columns = [*ident, *varying, *results, *metrics]
    records = [{**{k: r.get(k) for k in ident + results + metrics},
                **{k: r["params"].get(k) for k in varying}} for r in rows]
    return columns, records


def fmt(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_tables(columns: list[str], records: list[dict], out: pathlib.Path) -> None:
    with open(out / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(records)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r[c]) for c in columns) + " |" for r in records]
    (out / "results.md").write_text("\n".join(lines) + "\n")


def plot(records: list[dict], metric: str, param: str, out: pathlib.Path) -> pathlib.Path:
    import matplotlib
    matplotlib.use("Agg")  # files only; no display needed
    import matplotlib.pyplot as plt

    points = sorted((r[param], r[metric]) for r in records
                    if is_number(r[param]) and is_number(r[metric]))
    xs, ys = zip(*points) if points else ((), ())
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=120)
    ax.plot(xs, ys, "o")
    if xs and min(xs) > 0 and max(xs) > 10 * min(xs):
        ax.set_xscale("log")
    ax.set_xlabel(param)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} vs {param} ({len(points)} results)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out / f"{metric}_vs_{param}.png".replace("/", "_")
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=pathlib.Path)
    parser.add_argument("--metric", help="y axis of the plot, e.g. eval/hq")
    parser.add_argument("--param", help="x axis of the plot, e.g. optim.lr")
    parser.add_argument("--out", type=pathlib.Path, help="output directory (default: SWEEP_DIR)")
    args = parser.parse_args(argv)

    runs = load_runs(args.sweep_dir)
    if not runs:
        print(f"error: no summary.json under {args.sweep_dir}", file=sys.stderr)
        return 2
    rows, varying = rows_of(runs)
    columns, records = table(rows, varying)
    out = args.out or args.sweep_dir
    out.mkdir(parents=True, exist_ok=True)
    write_tables(columns, records, out)
    print(f"{len(records)} rows -> {out / 'results.csv'}, {out / 'results.md'}")

    objectives = {r["config"].get("trainer.objective") for r in runs} - {None}
    metric = args.metric or (objectives.pop() if len(objectives) == 1 else "eval/hq")
    numeric = [k for k in varying if all(is_number(r[k]) for r in records)]
    param = args.param or (numeric[0] if len(numeric) == 1 else None)
    for given in (args.metric, args.param):
        if given and given not in columns:
            print(f"error: {given} is not a column; columns: {', '.join(columns)}", file=sys.stderr)
            return 2
    if param is None or metric not in columns:
        print("no plot: pass --metric and --param (no single numeric hyperparameter varies, "
              "or the metric is missing)")
        return 0
    print(f"plot -> {plot(records, metric, param, out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the studies keep on disk and report: JSON records made once and reused, their mean and
standard error over seeds, and the budget every study's command takes."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
from typing import Any, Callable


def cached(path: pathlib.Path, make: Callable[[], Any]) -> Any:
    """The JSON record at path, made by `make()` when missing (written whole, through a temporary
    file, so an interrupted study never leaves half a record to reuse)."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        value = make()
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(json.dumps(value, indent=1))
        tmp.replace(path)
    return json.loads(path.read_text())


def mean_se(values: list) -> dict | None:
    """Mean and standard error over seeds of the values that exist (None ones left out; se None
    for one value); None when none does."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else None
    return {"mean": statistics.fmean(values), "se": se, "n": len(values)}


def cell(v: dict | None) -> str:
    """A table cell of `mean_se`: "0.123 +- 0.004", "0.123" for one seed, "-" for none."""
    if v is None:
        return "-"
    return f"{v['mean']:.3f}" + ("" if v["se"] is None else f" +- {v['se']:.3f}")


def budget_parser(doc: str, budgets: dict, default_out: pathlib.Path) -> argparse.ArgumentParser:
    """`--budget` (one of `budgets`, required) and `--out` (default: the study's folder)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--budget", choices=sorted(budgets), required=True)
    parser.add_argument("--out", type=pathlib.Path, default=default_out)
    return parser


def hardware(devices: bool = False) -> dict:
    """The machine a study ran on, for its results record."""
    info = {"platform": platform.platform(), "cpu_count": os.cpu_count(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}
    if devices:
        import jax  # noqa: PLC0415
        info["devices"] = [str(d) for d in jax.devices()]
    return info


def write_results(out: pathlib.Path, name: str, results: dict, markdown: str) -> None:
    """results_<name>.json and .md into out, each written whole through a temporary file (an
    interrupted study never leaves half a results file over a finished one); prints the table."""
    for suffix, text in ((".json", json.dumps(results, indent=1) + "\n"), (".md", markdown)):
        path = out / f"results_{name}{suffix}"
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(text)
        tmp.replace(path)
    print(markdown)

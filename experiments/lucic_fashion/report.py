"""Statistics, tables and plots of the study's results (a dict; see run.py)."""

from __future__ import annotations

import itertools
import math
import pathlib

import numpy as np

from experiments.lucic_fashion.search import LOSSES, PAPER_FID

SETTING_NAMES = {"optim.lr": "lr", "optim.beta1": "beta1", "optim.n_critic": "n_critic",
                 "model.d_batch_norm": "D BN", "loss.clip": "clip", "loss.gp_weight": "lambda",
                 "mitigation.dragan.weight": "lambda"}


def summarize(values: list[float]) -> dict:
    """n, mean, sample s.d. and s.e. of the finite values (sd/se None below two)."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], float)
    sd = float(x.std(ddof=1)) if len(x) > 1 else None
    return {"n": len(x), "mean": float(x.mean()) if len(x) else None, "sd": sd,
            "se": sd / math.sqrt(len(x)) if sd is not None else None}


def ranks(values: list[float]) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    x = np.asarray(values, float)
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(1, len(x) + 1)
    for v in np.unique(x):
        r[x == v] = r[x == v].mean()
    return r


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rank correlation: Pearson's correlation of the ranks."""
    if len(a) < 3:
        return None
    ra, rb = ranks(a), ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def permutation_p(a: list[float], b: list[float]) -> float | None:
    """Exact two-sided p-value of Spearman's rho: the share of all orderings of `a` whose rho
    with `b` is at least as far from 0 (few items only: n! orderings)."""
    rho = spearman(a, b)
    if rho is None or len(a) > 8:
        return None
    rb = ranks(b)
    rhos = [np.corrcoef(p, rb)[0, 1] for p in itertools.permutations(ranks(a))]
    return float(np.mean(np.abs(rhos) >= abs(rho) - 1e-9))


def fd_curve(tb_dir: str) -> list[list[float]]:
    """[[step, FD], ...] of one run (or population member) from its TensorBoard events."""
    from tensorboard.backend.event_processing.event_accumulator import (  # noqa: PLC0415
        EventAccumulator)

    if not pathlib.Path(tb_dir).is_dir():
        return []
    acc = EventAccumulator(tb_dir, size_guidance={"scalars": 0})
    acc.Reload()
    if "eval/fd" not in acc.Tags()["scalars"]:
        return []
    return [[e.step, e.value] for e in acc.Scalars("eval/fd")]


def _fmt(v, spec=".1f") -> str:
    return "-" if v is None else format(v, spec)


def _setting(key: str, v) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    return f"{v:.2g}" if isinstance(v, float) else str(v)


def settings_text(settings: dict) -> str:
    return ", ".join(f"{SETTING_NAMES[k]} {_setting(k, v)}" for k, v in settings.items()
                     if k in SETTING_NAMES)


def markdown(results: dict) -> str:
    """The summary table (paper beside ours), the ranking comparison and every trial's FD."""
    budget = results["budget"]
    lines = [f"### Budget `{budget['name']}`: {budget['trials']} trials per loss, best setting "
             f"over {budget['seeds']} seeds, {budget['steps']} steps, FD on "
             f"{budget['eval_samples']} samples vs {budget['reference_samples']} test images",
             "", "| loss | paper FID (Inception) | our FD, best setting: mean ± s.d. (s.e.), seeds "
             "| best trial's FD | trials completed | best setting |", "|---|---|---|---|---|---|"]
    for key in budget["losses"]:
        name, best, rerun = LOSSES[key].name, results["best"].get(key), results["reruns"].get(key)
        paper = "%.1f ± %.1f" % PAPER_FID[name]
        trials = [t for t in results["trials"] if t["loss"] == key]
        done = sum(t["status"] == "completed" for t in trials)
        s = rerun["summary"] if rerun else {"n": 0, "mean": None, "sd": None, "se": None}
        ours = f"{_fmt(s['mean'])} ± {_fmt(s['sd'])} ({_fmt(s['se'])}), n={s['n']}"
        lines.append(f"| {name} | {paper} | {ours} | {_fmt(best and best['fd'])} | "
                     f"{done}/{len(trials)} | {settings_text(best['settings']) if best else '-'} |")
    lines.append("| BEGAN | %.1f ± %.1f | not implemented in gan_jax | - | - | - |"
                 % PAPER_FID["BEGAN"])
    rank = results["ranking"]
    lines += ["", f"Ranking (lowest first), paper: {' < '.join(rank['paper_order'])}; ours: "
              f"{' < '.join(rank['our_order'])}. Spearman rank correlation of the means over the "
              f"{len(rank['losses'])} common losses: {_fmt(rank['spearman'], '.2f')} (exact "
              f"permutation p = {_fmt(rank['spearman_p'], '.2f')}). Spearman correlation of our "
              f"means with the best settings' learning rates: "
              f"{_fmt(rank['spearman_fd_vs_best_lr'], '.2f')}.",
              f"Real data through the same metric (training images vs the test reference, same "
              f"sample counts): FD {_fmt(results['real_fd'], '.2f')}.", "",
              "| loss | trial | seed | settings | FD |", "|---|---|---|---|---|"]
    for t in results["trials"]:
        fd = _fmt(t["fd"], ".2f") if t["fd"] is not None else t["status"]
        lines.append(f"| {LOSSES[t['loss']].name} | {t['trial']} | {t['seed']} | "
                     f"{settings_text(t)} | {fd} |")
    return "\n".join(lines) + "\n"


def plot(results: dict, out_dir: pathlib.Path) -> list[pathlib.Path]:
    """fd_vs_step_<budget>.png (the seed reruns of each best setting), best_fd_<budget>.png and
    samples_<budget>.png."""
    import matplotlib  # noqa: PLC0415
    import matplotlib.ticker  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    name = results["budget"]["name"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (key, rerun) in enumerate(results["reruns"].items()):
        color = f"C{i}"
        curves = [c for c in rerun["curves"] if c]
        for c in curves:  # one thin line per seed, the mean over seeds bold
            ax.plot(*zip(*c), color=color, alpha=0.3, lw=1)
        steps = sorted({s for c in curves for s, _ in c})
        mean = [np.mean([v for c in curves for s2, v in c if s2 == s]) for s in steps]
        if steps:
            ax.plot(steps, mean, color=color, lw=2, marker="o", label=LOSSES[key].name)
    real = results.get("real_fd")
    if real:  # the floor: real training images scored like the samples
        ax.axhline(real, color="gray", ls="--", lw=1, label="real images")
    ax.set(xlabel="generator step", ylabel="FD (domain CNN features)", yscale="log",
           title=f"FD of each loss's best setting, {results['budget']['seeds']} seeds ({name})")
    ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    if results["reruns"]:
        ax.legend()
    curve_path = out_dir / f"fd_vs_step_{name}.png"
    fig.tight_layout()
    fig.savefig(curve_path, dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    keys = [k for k in results["reruns"] if results["reruns"][k]["summary"]["n"]]
    for i, key in enumerate(keys):
        rerun = results["reruns"][key]
        s = rerun["summary"]
        ax.bar(i, s["mean"], yerr=s["sd"] or 0, color=f"C{i}", alpha=0.7, capsize=4)
        fds = [f for f in rerun["fds"] if f is not None]
        ax.scatter([i] * len(fds), fds, color="k", s=10, zorder=3)
    if real:
        ax.axhline(real, color="gray", ls="--", lw=1, label="real images")
        ax.legend()
    ax.set_xticks(range(len(keys)), [LOSSES[k].name for k in keys])
    ax.set(ylabel="final FD (mean ± s.d., dots: seeds)",
           title=f"Best setting per loss, lower is better ({name})")
    bar_path = out_dir / f"best_fd_{name}.png"
    fig.tight_layout()
    fig.savefig(bar_path, dpi=120)
    plt.close(fig)
    return [curve_path, bar_path, sample_sheet(results, out_dir / f"samples_{name}.png")]


def sample_sheet(results: dict, path: pathlib.Path) -> pathlib.Path:
    """The final 8x8 sample grid of each loss's best setting (first seed), side by side."""
    from PIL import Image, ImageDraw  # noqa: PLC0415

    grids = [(LOSSES[k].name, Image.open(r["samples"][0])) for k, r in results["reruns"].items()
             if r["samples"][0] and pathlib.Path(r["samples"][0]).is_file()]
    if not grids:
        return path
    w, h = grids[0][1].size
    cols = min(3, len(grids))
    rows = -(-len(grids) // cols)
    sheet = Image.new("RGB", (cols * (w + 10), rows * (h + 24)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (name, grid) in enumerate(grids):
        x, y = (i % cols) * (w + 10), (i // cols) * (h + 24)
        draw.text((x + 4, y + 4), name, fill="black")
        sheet.paste(grid, (x, y + 20))
    sheet.save(path)
    return path

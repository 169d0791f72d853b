"""The figures of the PacGAN 2D study: sample scatter per method, grid mode histogram."""

from __future__ import annotations

import pathlib

import numpy as np

METHODS = ("GAN", "PacGAN2", "PacGAN3", "PacGAN4")


def mode_counts(x: np.ndarray, modes: np.ndarray, std: float, threshold: float) -> np.ndarray:
    """High-quality samples per mode (nearest mode, within threshold * std), as in the metric."""
    d = np.linalg.norm(x[:, None] - modes[None], axis=-1)
    nearest, hq = d.argmin(1), d.min(1) < threshold * std
    return np.bincount(nearest[hq], minlength=len(modes))


def plot(points: dict, threshold: float, prefix: pathlib.Path, title: str = "") -> list[pathlib.Path]:
    """Scatter of seed 0's samples per method and dataset; grid mode histogram GAN vs PacGAN2.

    `points`: {data: {method: [n, 2] samples}}. Panel titles are the metrics of the plotted
    samples (the evaluation's own latents are not stored).
    """
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from gan_jax.data.mixtures import MIXTURES  # noqa: PLC0415

    datasets = list(points)
    fig, axes = plt.subplots(len(datasets), len(METHODS), squeeze=False,
                             figsize=(3.2 * len(METHODS), 3.3 * len(datasets) + 0.3))
    for row, data in zip(axes, datasets):
        make_modes, std = MIXTURES[data]
        modes, lim = make_modes(), 1.5 if data == "ring" else 5.5
        for ax, method in zip(row, METHODS):
            ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])
            if method not in points[data]:
                ax.set_title(f"{data} {method}: not run yet", fontsize=9)
                continue
            x = np.asarray(points[data][method])
            counts = mode_counts(x, modes, std, threshold)
            ax.scatter(*x.T, s=2, alpha=0.3, color="tab:blue")
            ax.scatter(*modes.T, s=30, marker="x", color="red")
            ax.set_title(f"{data} {method}: {(counts > 0).sum()} modes, "
                         f"{100 * counts.sum() / len(x):.1f}% HQ", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    files = [prefix.with_name(prefix.name + "_samples.png")]
    fig.savefig(files[0], dpi=90)
    plt.close(fig)
    grid = points.get("grid", {})
    if "GAN" in grid and "PacGAN2" in grid:
        make_modes, std = MIXTURES["grid"]
        fig, ax = plt.subplots(figsize=(9, 3))
        for shift, method in ((-0.2, "GAN"), (0.2, "PacGAN2")):
            counts = mode_counts(np.asarray(grid[method]), make_modes(), std, threshold)
            ax.bar(np.arange(len(counts)) + shift, counts, width=0.4, label=method)
        ax.axhline(len(grid["GAN"]) / 25, color="gray", ls="--", label="uniform, all HQ")
        ax.set(xlabel="grid mode", ylabel=f"samples within {threshold:g} std (of {len(grid['GAN'])})",
               title="grid, seed 0: high-quality samples per mode")
        ax.legend()
        fig.tight_layout()
        files.append(prefix.with_name(prefix.name + "_grid_modes.png"))
        fig.savefig(files[-1], dpi=90)
        plt.close(fig)
    return files


def curves(records: dict, prefix: pathlib.Path) -> pathlib.Path:
    """Mean over seeds (band: min to max) of modes and % HQ against the step, per method.

    `records`: {data: {method: cached run record}}; each member's `curve` rows are
    [step, modes, hq, rkl] from the run's evaluations.
    """
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    datasets = [d for d in records if records[d]]
    fig, axes = plt.subplots(len(datasets), 2, figsize=(10, 3.2 * len(datasets)), squeeze=False)
    for row, data in zip(axes, datasets):
        for method, rec in records[data].items():
            c = np.array([m["curve"] for m in rec["members"]], float)  # [seeds, evals, 4]
            steps = c[0, :, 0]
            for ax, col, scale in ((row[0], 1, 1), (row[1], 2, 100)):
                v = scale * c[:, :, col]
                line, = ax.plot(steps, v.mean(0), marker=".", label=f"{method} ({len(c)} seeds)")
                ax.fill_between(steps, v.min(0), v.max(0), color=line.get_color(), alpha=0.12)
        row[0].set(xlabel="step", title=f"{data}: modes captured (mean; band min-max)")
        row[1].set(xlabel="step", title=f"{data}: % high quality (mean; band min-max)")
        row[1].axhline(80, color="gray", ls="--", lw=1)
        row[0].legend(fontsize=8)
        for ax in row:
            ax.grid(alpha=0.3)
    fig.tight_layout()
    out = prefix.with_name(prefix.name + "_curves.png")
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out

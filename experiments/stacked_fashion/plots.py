"""Mode histograms recomputed from the runs' checkpoints, and a sample-grid figure."""

from __future__ import annotations

import pathlib

import jax
import matplotlib

matplotlib.use("Agg")  # files only; no display on the training machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gan_jax.data import stacked_fashion_mnist  # noqa: E402
from gan_jax.metrics import evaluator as evaluator_lib  # noqa: E402
from gan_jax.training import saved_run  # noqa: E402
from gan_jax.training import sampling  # noqa: E402
from gan_jax.training.state import generate  # noqa: E402

DIGITS = np.array([100, 10, 1])  # (c0, c1, c2) -> mode index, as the data and the metric number it


def run_modes(run_dir: pathlib.Path) -> tuple[list[np.ndarray], np.ndarray]:
    """(per member: mode index of each eval sample, real stacked data's mode indices).

    The latents are the training loop's eval latents (sampling.fixed_latents with EVAL_KEY_TAG), so the modes
    counted here are the ones behind summary.json's eval/modes; the real draw is eval_reference's.
    """
    run = saved_run.load(run_dir)
    gan, n = run.setup.gan, int(run.cfg["trainer"]["eval_samples"])
    evaluator = evaluator_lib.build(run.cfg["eval"], run.cfg["data"], run.setup.data)
    members_cfg = run.setup.members if run.size > 1 else [run.cfg]
    seeds = [int(m["seed"]) for m in members_cfg]
    sample = jax.jit(lambda state, z: generate(gan, state, z))
    members = []
    for i, seed in enumerate(seeds):
        z = sampling.fixed_latents(gan, seed, sampling.EVAL_KEY_TAG, n)
        member = run.member(i)
        x = sampling.in_chunks(lambda z, y, member=member: sample(member, z), z)
        members.append(evaluator.channel_labels(x) @ DIGITS)
    # The same real triples as StackedEvaluator.reference(n).
    images, labels = evaluator.real_grey
    triples = np.random.default_rng(evaluator.seed).integers(0, len(images), (n, 3))
    x, _ = stacked_fashion_mnist.stack(images, labels, triples)
    real = evaluator.channel_labels(np.asarray(x, np.float32) / 255.0) @ DIGITS
    return members, real


def mode_counts(modes: np.ndarray) -> np.ndarray:
    """Counts of the 1000 triples, most frequent first."""
    return np.sort(np.bincount(modes, minlength=stacked_fashion_mnist.NUM_MODES))[::-1]


def mode_histogram_figure(histograms: dict[str, np.ndarray], path: pathlib.Path,
                          title: str) -> None:
    """One panel per entry: sorted counts of the 1000 triples, with the uniform expectation."""
    fig, axes = plt.subplots(len(histograms), 1, figsize=(9, 1.9 * len(histograms)),
                             sharex=True, sharey=True, squeeze=False)
    for ax, (name, modes) in zip(axes[:, 0], histograms.items()):
        counts = mode_counts(modes)
        ax.bar(np.arange(len(counts)), counts, width=1.0, color="black" if name.startswith("real")
               else "tab:blue")
        ax.axhline(len(modes) / len(counts), color="tab:red", lw=0.8, ls="--")
        ax.set_yscale("log")  # a collapsed generator's few huge bars would hide the tail
        ax.set_ylabel("samples")
        ax.set_title(f"{name}: {np.count_nonzero(counts)} modes hit", fontsize=9, loc="left")
    axes[-1, 0].set_xlim(-5, len(counts) + 5)
    axes[-1, 0].set_xlabel("category triple, most frequent first (dashed: uniform; log scale)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def samples_figure(grids: dict[str, pathlib.Path], path: pathlib.Path, title: str) -> None:
    """The runs' own final sample grids (seed 0's 8x8 from fixed latents), side by side."""
    fig, axes = plt.subplots(1, len(grids), figsize=(3.2 * len(grids), 3.6), squeeze=False)
    for ax, (name, png) in zip(axes[0], grids.items()):
        ax.imshow(plt.imread(png))
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

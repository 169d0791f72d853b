"""The study's learning curves, read from what its runs already wrote (no extra training): how far
the budget's step counts are from where the curves flatten.

- the writers' run: each member's maximum-likelihood NLL per word on its training batches
  (TensorBoard `mle/nll`), through pretraining;
- the CNN detector trained on MLE + GAN reviews (the one kept per seed): its validation AUROC at
  every check (the `history` its detector.json keeps).

Neither reads a test review: a budget set from them is not chosen on test data.
"""

from __future__ import annotations

import json
import pathlib
import statistics


def writer_nll(run_dir: pathlib.Path) -> list[dict]:
    """[{"step", "nll": [one per member]}] of `mle/nll` at every step it was logged."""
    from tensorboard.backend.event_processing.event_accumulator import (  # noqa: PLC0415
        EventAccumulator)

    members = []
    for tb in sorted((run_dir / "tb").glob("member_*")) or [run_dir / "tb"]:
        acc = EventAccumulator(str(tb), size_guidance={"scalars": 0})
        acc.Reload()
        members.append({e.step: e.value for e in acc.Scalars("mle/nll")}
                       if "mle/nll" in acc.Tags()["scalars"] else {})
    steps = sorted(set.intersection(*(set(m) for m in members))) if members else []
    return [{"step": s, "nll": [m[s] for m in members]} for s in steps]


def detector_auroc(detectors: pathlib.Path, seeds: list[int]) -> list[dict]:
    """[{"step", "auroc": [one per seed]}] of the kept CNN detectors' validation AUROC."""
    histories = []
    for seed in seeds:
        meta = detectors / f"cnn_mle+gan_seed{seed}" / "detector.json"
        if meta.is_file():
            histories.append({h["step"]: h["validation_auroc"]
                              for h in json.loads(meta.read_text()).get("history", [])})
    if not histories:
        return []
    steps = sorted(set.intersection(*(set(h) for h in histories)))
    return [{"step": s, "auroc": [h[s] for h in histories]} for s in steps]


def read(base: pathlib.Path, seeds: list[int]) -> dict:
    return {"writer_nll": writer_nll(base / "writers"),
            "cnn_validation_auroc": detector_auroc(base / "detectors", seeds)}


def thinned(rows: list[dict], at_most: int = 8) -> list[dict]:
    """About `at_most` evenly spaced rows, the last always among them."""
    k = -(-len(rows) // at_most)
    return [r for j, r in enumerate(rows) if (len(rows) - 1 - j) % k == 0]


def markdown(curves: dict) -> list[str]:
    lines = ["", "## Learning curves (training and validation data only)", ""]
    nll = thinned(curves["writer_nll"])
    if nll:
        lines += ["Maximum-likelihood NLL per word on training batches, mean over members:", "",
                  "| step | " + " | ".join(str(r["step"]) for r in nll) + " |",
                  "|---|" + "---:|" * len(nll),
                  "| NLL | " + " | ".join(f"{statistics.fmean(r['nll']):.3f}" for r in nll) + " |", ""]
    auc = curves["cnn_validation_auroc"]
    if auc:
        shown = thinned(auc)
        lines += ["CNN detector trained on MLE + GAN reviews, validation AUROC, mean over seeds:", "",
                  "| step | " + " | ".join(str(r["step"]) for r in shown) + " |",
                  "|---|" + "---:|" * len(shown),
                  "| AUROC | " + " | ".join(f"{statistics.fmean(r['auroc']):.3f}" for r in shown) + " |"]
        best = [max(auc, key=lambda r, i=i: r["auroc"][i])["step"] for i in range(len(auc[0]["auroc"]))]
        lines += ["", f"Best validation step per seed: {', '.join(map(str, best))} (of {auc[-1]['step']})."]
    return lines


def plot(curves: dict, path: pathlib.Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    for name, ax, key, label in (("writer_nll", left, "nll", "MLE NLL per word (training batches)"),
                                 ("cnn_validation_auroc", right, "auroc", "CNN validation AUROC")):
        rows = curves[name]
        if not rows:
            continue
        for i in range(len(rows[0][key])):
            ax.plot([r["step"] for r in rows], [r[key][i] for r in rows], lw=1, label=f"#{i}")
        ax.set(xlabel="step", ylabel=label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)

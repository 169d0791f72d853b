"""PCA and t-SNE of real vs synthetic sequences, as TimeGAN's figure (Yoon et al. 2019, Fig. 3;
the authors' `visualization_metrics.py`).

As the authors: up to 1,000 sequences of each set, each averaged over its features ([n, T, F]
-> [n, T]); PCA with 2 components fitted on the real ones only and applied to both; t-SNE (2
components, perplexity 40) on both together. Unlike them, t-SNE runs scikit-learn's default
number of iterations, and the subsets are drawn from a seed. Real points red, synthetic blue.
"""

from __future__ import annotations

import pathlib

import numpy as np

MAX_SEQUENCES = 1000  # of each set, the authors' `analysis_sample_no`


def embeddings(real, synthetic, seed: int = 0) -> dict[str, np.ndarray]:
    """{pca_real, pca_synthetic, tsne_real, tsne_synthetic}: [m, 2] coordinates of up to 1,000
    sequences of each set, drawn from `seed` (every sequence, in order, when a set has fewer)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)

    def flat(x):
        x = np.asarray(x, np.float64)
        if len(x) > MAX_SEQUENCES:
            x = x[np.sort(rng.choice(len(x), MAX_SEQUENCES, replace=False))]
        return x.mean(axis=-1)  # [m, T]: each step's mean over features

    r, s = flat(real), flat(synthetic)
    pca = PCA(n_components=2).fit(r)
    both = np.concatenate([r, s])
    tsne = TSNE(n_components=2, perplexity=min(40.0, len(both) - 1.0), init="pca",
                random_state=seed).fit_transform(both)
    return {"pca_real": pca.transform(r), "pca_synthetic": pca.transform(s),
            "tsne_real": tsne[:len(r)], "tsne_synthetic": tsne[len(r):]}


def plot_pca_tsne(real, synthetic, path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write a PNG at `path` with the PCA and the t-SNE panels; returns `embeddings`.
    Needs matplotlib (the `sweeps` extra)."""
    import matplotlib
    matplotlib.use("Agg")  # files only; no display needed
    import matplotlib.pyplot as plt

    points = embeddings(real, synthetic, seed)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, name in zip(axes, ("pca", "tsne")):
        for who, color in (("real", "red"), ("synthetic", "blue")):
            xy = points[f"{name}_{who}"]
            ax.scatter(xy[:, 0], xy[:, 1], c=color, alpha=0.2, s=8, label=who)
        ax.set_title("PCA (fitted on real)" if name == "pca" else "t-SNE")
        ax.set_xlabel(f"{'PC' if name == 'pca' else 't-SNE'} 1")
        ax.set_ylabel(f"{'PC' if name == 'pca' else 't-SNE'} 2")
        ax.legend()
    fig.tight_layout()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return points

"""Mode metrics for stacked Fashion-MNIST, after stacked MNIST (Metz et al. 2017, Unrolled GANs).

Each of the s channels (3 here) is classified separately into C categories, so a sample falls in
one of C^s modes (1000), indexed by its label tuple read as a base-C number. Reported: the number
of modes seen at least once, and KL(mode histogram || uniform over C^s) in nats.
"""

from __future__ import annotations

import numpy as np

from gan_jax.metrics.classifier import category_histogram, category_kl


def stacked_modes(channel_labels, num_classes: int = 10) -> dict[str, int | float]:
    """{'modes': distinct label tuples seen (int), 'kl': float} from channel_labels [n, s]."""
    labels = np.asarray(channel_labels, np.int64)
    if labels.ndim != 2:
        raise ValueError(f"channel_labels must be [n, channels], got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes})")
    num_modes = num_classes ** labels.shape[1]
    # Base-C digits, first channel most significant: (l0, l1, l2) -> l0 C^2 + l1 C + l2.
    mode = labels @ (num_classes ** np.arange(labels.shape[1] - 1, -1, -1, dtype=np.int64))
    counts = np.asarray(category_histogram(mode, num_modes))
    return {"modes": int(np.count_nonzero(counts)), "kl": category_kl(mode, num_modes)}

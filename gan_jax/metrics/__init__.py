"""Sample-quality and mode-coverage metrics."""
from gan_jax.metrics.classifier import (category_coverage, category_histogram, category_kl,
                                        classifier_score, per_category_fractions)
from gan_jax.metrics.frechet import frechet_distance, frechet_distance_features, gaussian_stats
# Aliased: binding the name `kid` here would shadow the submodule `gan_jax.metrics.kid`.
from gan_jax.metrics.kid import kid as kernel_distance
from gan_jax.metrics.manifold import density_coverage, knn_radii, precision_recall
from gan_jax.metrics.stacked import stacked_modes

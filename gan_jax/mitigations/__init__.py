"""Mode-collapse mitigations: pure pieces the training step composes without knowing their names.

`build(cfg["mitigation"], data, batch_size)` turns the Hydra selection (a mapping name -> params,
e.g. `mitigation=[pacgan,r1] mitigation.r1.gamma=10`) into `Mitigation`s, in a fixed order.
"""

from __future__ import annotations

from typing import Any

from gan_jax.errors import ConfigError
from gan_jax.mitigations import architecture, inputs, penalties, regularizers, unrolled
from gan_jax.mitigations.base import Mitigation, Term, TermInputs

BUILDERS = {
    "wgan_gp": penalties.build_wgan_gp,
    "r1": penalties.build_r1,
    "r2": penalties.build_r2,
    "dragan": penalties.build_dragan,
    "spectral_norm": architecture.build_spectral_norm,
    "pacgan": architecture.build_pacgan,
    "minibatch_std": architecture.build_minibatch_std,
    "minibatch_discrimination": architecture.build_minibatch_discrimination,
    "unrolled": unrolled.build_unrolled,
    "feature_matching": regularizers.build_feature_matching,
    "label_smoothing": regularizers.build_label_smoothing,
    "instance_noise": inputs.build_instance_noise,
    "diffaugment": inputs.build_diffaugment,
    "bcr": regularizers.build_bcr,
    "lecam": regularizers.build_lecam,
}


def build(selected: Any, data, batch_size: int) -> tuple[Mitigation, ...]:
    """Mitigations for `selected` (name -> params), ordered as in BUILDERS (deterministic)."""
    selected = dict(selected or {})
    unknown = sorted(set(selected) - set(BUILDERS))
    if unknown:
        raise ConfigError(f"unknown mitigation(s) {unknown}; choose from {', '.join(BUILDERS)} "
                          f"(e.g. mitigation=[pacgan,r1]).")
    return tuple(BUILDERS[name](selected[name] or {}, data, batch_size)
                 for name in BUILDERS if name in selected)


__all__ = ["BUILDERS", "Mitigation", "Term", "TermInputs", "build"]

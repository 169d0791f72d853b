"""The losses of Lucic et al. 2018, their random hyperparameter search, and its grouping.

A trial is a flat dict of Hydra settings (`optim.lr`, `model.d_batch_norm`, ...) plus `loss`,
`trial` and `seed`. Trials that share the structural settings (`optim.n_critic`,
`model.d_batch_norm`: they change the compiled program) form a group, trained as one population
run (`trainer.population=K` with the numeric settings given as per-member lists).
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np

STRUCTURAL = ("optim.n_critic", "model.d_batch_norm")


@dataclasses.dataclass(frozen=True)
class Loss:
    name: str                 # as in the paper's tables
    overrides: tuple[str, ...]
    extra: str | None = None  # the loss's own searched setting (log-uniform over `extra_range`)
    extra_range: tuple[float, float] = (0.0, 0.0)


# Lucic et al.'s set, as far as gan_jax has it. BEGAN (an auto-encoder discriminator) is not
# implemented. WGAN's clipping is `loss.clip` of loss=wasserstein (which always clips, so WGAN-GP
# is loss=wgan_gp, not loss=wasserstein + mitigation=[wgan_gp]); DRAGAN is the NS GAN plus the
# DRAGAN penalty, as in the paper (D: the GAN loss + penalty; G: non-saturating).
LOSSES = {
    "mm": Loss("MM GAN", ("loss=minimax",)),
    "ns": Loss("NS GAN", ("loss=non_saturating",)),
    "lsgan": Loss("LSGAN", ("loss=least_squares",)),
    "wgan": Loss("WGAN", ("loss=wasserstein",), "loss.clip", (1e-3, 1.0)),
    "wgan_gp": Loss("WGAN-GP", ("loss=wgan_gp",), "loss.gp_weight", (1e-1, 1e2)),
    "dragan": Loss("DRAGAN", ("loss=non_saturating", "mitigation=[dragan]"),
                   "mitigation.dragan.weight", (1e-1, 1e2)),
}

# Best FID on Fashion-MNIST, mean +- s.d. over seeds of the best setting (Lucic et al. 2018,
# Inception features; /work/shared/REFERENCES.md). BEGAN's row has no counterpart here.
PAPER_FID = {"MM GAN": (29.6, 1.6), "NS GAN": (26.5, 1.6), "LSGAN": (30.7, 2.2),
             "WGAN": (21.5, 1.6), "WGAN-GP": (24.5, 2.1), "DRAGAN": (27.7, 1.2),
             "BEGAN": (22.9, 0.9)}

# The paper's search space: lr log-uniform [1e-5, 1e-2], beta1 U[0, 1], 1-5 critic steps, batch
# norm in D on or off (plus each loss's own setting, 10^U[a, b]).
LR_RANGE = (1e-5, 1e-2)
N_CRITIC_RANGE = (1, 5)


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(10 ** rng.uniform(np.log10(low), np.log10(high)))


def sample_trials(loss: str, n: int, seed: int, fixed: dict | None = None) -> list[dict]:
    """`n` random settings for `loss`, the same for the same seed.

    Every trial draws every setting, `fixed` (e.g. {"optim.n_critic": 1}) then replaces some, so
    a budget that fixes the structure still gets the same learning rates etc. as one that does
    not. Trial i trains with seed i.
    """
    spec = LOSSES[loss]
    rng = np.random.default_rng([seed, zlib.crc32(loss.encode())])  # own stream per loss
    trials = []
    for i in range(n):
        trial = {
            "loss": loss, "trial": i, "seed": i,
            "optim.lr": log_uniform(rng, *LR_RANGE),
            "optim.beta1": float(rng.uniform(0.0, 1.0)),  # [0, 1): optim.beta1 must be < 1
            "optim.n_critic": int(rng.integers(N_CRITIC_RANGE[0], N_CRITIC_RANGE[1] + 1)),
            "model.d_batch_norm": bool(rng.integers(0, 2)),
        }
        if spec.extra:
            trial[spec.extra] = log_uniform(rng, *spec.extra_range)
        trial.update(fixed or {})
        trials.append(trial)
    return trials


def group_trials(trials: list[dict]) -> dict[tuple, list[dict]]:
    """Trials by their structural settings (sorted keys), each group one population run."""
    groups: dict[tuple, list[dict]] = {}
    for trial in trials:
        groups.setdefault(tuple(trial[k] for k in STRUCTURAL), []).append(trial)
    return dict(sorted(groups.items()))


def searched(trial: dict) -> dict:
    """The Hydra settings of a trial (without the loss/trial bookkeeping)."""
    return {k: v for k, v in trial.items() if "." in k or k == "seed"}


def _value(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    return repr(v)  # full precision, so the command reproduces the trial exactly


def population_overrides(trials: list[dict]) -> list[str]:
    """Hydra overrides training `trials` (one group: same loss and structure) in one run."""
    loss = trials[0]["loss"]
    assert all(t["loss"] == loss for t in trials), "one loss per population"
    settings = [searched(t) for t in trials]
    overrides = list(LOSSES[loss].overrides)
    if len(trials) > 1:
        overrides.append(f"trainer.population={len(trials)}")
    for key in settings[0]:
        values = [s[key] for s in settings]
        if key in STRUCTURAL:
            assert len(set(values)) == 1, f"{key} differs within a group: {values}"
            overrides.append(f"{key}={_value(values[0])}")
        elif len(trials) == 1:  # a list needs a population
            overrides.append(f"{key}={_value(values[0])}")
        else:
            overrides.append(f"{key}=[{','.join(_value(v) for v in values)}]")
    return overrides

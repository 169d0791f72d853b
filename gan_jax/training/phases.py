"""A run as a schedule of phases: each a pure step with its own objective, compiled on its own.

A model that trains in phases (TimeGAN: autoencoder, supervised, joint) declares them in order,
each with its length in steps; the last runs until `trainer.steps`. A single-phase run has one
phase whose step is the plain step, so it computes exactly what it did before phases existed.
The phase of step t is a static function of t and the declared lengths, and every phase's step
reads and writes the same `GANState` (what any phase needs lives in it), so a run resumed at any
step replays the straight run. The host loop cuts its chunks of compiled steps at the phase
boundaries: one chunk never runs two phases.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence


@dataclasses.dataclass(frozen=True)
class Phase:
    """One phase: its name (the prefix of its metrics), its length in steps (None: until the end
    of the run; only the last phase) and its pure `step(state, data) -> (state, metrics)`."""

    name: str
    steps: int | None
    step: Callable


def check(phases: Sequence[Phase]) -> None:
    """Every phase but the last has a positive length; the last runs until the end."""
    if not phases:
        raise ValueError("a run needs at least one phase")
    for p in phases[:-1]:
        if p.steps is None or p.steps < 1:
            raise ValueError(f"phase {p.name!r} needs a positive length, got {p.steps}")
    if phases[-1].steps is not None:
        raise ValueError(f"the last phase ({phases[-1].name!r}) runs until the end: steps=None")


def starts(phases: Sequence[Phase]) -> list[int]:
    """The first step of each phase."""
    out, t = [], 0
    for p in phases:
        out.append(t)
        t += p.steps or 0
    return out


def phase_at(phases: Sequence[Phase], t: int) -> int:
    """The index of the phase that runs step t (0-based: the step that takes state.step t to t+1)."""
    return max(i for i, s in enumerate(starts(phases)) if s <= t)


def steps_left_in_phase(phases: Sequence[Phase], t: int) -> int | None:
    """Steps from t to the end of t's phase; None in the last phase (it ends with the run)."""
    i = phase_at(phases, t)
    return None if i == len(phases) - 1 else starts(phases)[i + 1] - t


def unreached(phases: Sequence[Phase], total: int) -> list[str]:
    """The names of the phases a run of `total` steps never starts."""
    return [p.name for p, s in zip(phases, starts(phases)) if s >= total]

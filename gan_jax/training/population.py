"""A population: `trainer.population=N` members trained by one compiled program (vmap).

Members differ in seed (member i gets `seed + i`, or `seed=[...]`), in the category they train
on (`data.category=[0,...,9]`, one-class detectors) and in any numeric setting of optim, loss,
mitigation or model given as a list of N values, e.g.
`trainer.population=4 optim.lr=[1e-4,2e-4,5e-4,1e-3]`. Those values become arrays with a member
axis and the step is built once with them traced, then vmapped: every member runs exactly the
computation of the single run with its settings. Structural choices (architecture, loss kind,
layer widths, batch size) stay in Hydra multirun; asking to vary one is a config error.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp

from gan_jax import data as data_lib
from gan_jax.data.spec import Dataset
from gan_jax.errors import ConfigError
from gan_jax.models import GAN
from gan_jax.training import setup as setup_lib
from gan_jax.training.phases import Phase
from gan_jax.training.state import GANState

VARYING_GROUPS = ("optim", "loss", "mitigation", "model")
# Single settings of other groups that may vary: the category a one-class member trains on.
VARYING_PATHS = ("data.category",)
# Settings whose single value is already a list (layer widths): never read as per-member values.
LIST_SETTINGS = frozenset({"model.g_hidden", "model.d_hidden"})


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numeric_lists(tree: Any, prefix: str = "") -> dict[str, list]:
    """Dotted paths of the lists of numbers in a nested config."""
    found = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            found.update(_numeric_lists(value, f"{prefix}{key}."))
    elif (isinstance(tree, list) and tree and all(_is_number(v) for v in tree)
          and prefix[:-1] not in LIST_SETTINGS):
        found[prefix[:-1]] = list(tree)
    return found


def check_groups(cfg: dict) -> None:
    """Refuse per-member lists outside the groups that may vary (before the trainer group is
    validated, whose settings never vary: the message then says what to do instead)."""
    for path in _numeric_lists(cfg):
        if path != "seed" and path.split(".")[0] not in VARYING_GROUPS and path not in VARYING_PATHS:
            raise ConfigError(f"{path} cannot vary within a population (only settings of "
                              f"{', '.join(VARYING_GROUPS)} and seed can); sweep it with "
                              f"Hydra multirun: python -m gan_jax.train -m {path}=a,b")


def varying_settings(cfg: dict) -> dict[str, list]:
    """{dotted path: one value per member} for the settings that vary, seed included."""
    check_groups(cfg)
    size = int(cfg["trainer"]["population"])
    lists = _numeric_lists(cfg)
    if size < 1:
        raise ConfigError(f"trainer.population={size} must be a positive integer.")
    if size == 1 and lists:
        raise ConfigError(f"{', '.join(lists)} given as a list: per-member values need "
                          f"trainer.population={len(next(iter(lists.values())))}.")
    for path, values in lists.items():
        if len(values) != size:
            raise ConfigError(f"{path} has {len(values)} values but trainer.population={size}; "
                              f"give one value per member.")
    seed = cfg["seed"]
    if "seed" not in lists and size > 1:
        lists["seed"] = [int(seed) + i for i in range(size)]
    return lists


def _assign(cfg: dict, path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        cfg = cfg[key]
    cfg[leaf] = value


def member_config(cfg: dict, varying: dict[str, list], i: int) -> dict:
    """The config of the single run that member i reproduces (trainer.population=1)."""
    member = copy.deepcopy(cfg)
    for path, values in varying.items():
        _assign(member, path, values[i])
    member["trainer"]["population"] = 1
    return member


@dataclasses.dataclass(frozen=True)
class Population:
    """The population counterpart of `setup.Setup`: state leaves carry a leading member axis."""

    data: Dataset
    gan: GAN
    members: tuple[dict, ...]        # each member's single-run config
    varying: dict[str, list]
    step: Callable                   # step(state, data_arrays) -> (state, metrics[member])
    setups: tuple[setup_lib.Setup, ...]
    phases: tuple[Phase, ...] = ()  # the members' phases, vmapped; () for one phase

    def schedule(self) -> tuple[Phase, ...]:
        return self.phases or (Phase("train", None, self.step),)

    @property
    def size(self) -> int:
        return len(self.members)

    def hparams(self, i: int) -> dict[str, Any]:
        return {path: values[i] for path, values in self.varying.items()}

    def init_state(self) -> GANState:
        """Each member's own initial state (its seed), stacked along a new leading axis.

        One program has one state structure: when any member keeps an EMA generator all do
        (with decay 0 the EMA simply equals the generator).
        """
        use_ema = any(float(m["optim"]["ema_decay"]) > 0 for m in self.members)
        seeds = jnp.asarray(self.varying["seed"], jnp.int32)
        # Initialisation does not depend on the varying settings, only on the seed. Members are
        # initialised one after another (lax.map), not batched: a batched QR (the LSTMs'
        # orthogonal init, vmapped) deadlocks XLA:CPU's thread pool on 2 cores, every time for
        # experiment=relgan_reviews with 3 members (jaxlib 0.10.2; gdb: two QR thunks in
        # ParallelBatchMap waiting on each other). Init runs once, so this costs nothing.
        return jax.jit(lambda s: jax.lax.map(lambda seed: self.setups[0].init_state(use_ema, seed), s))(seeds)


def _over_members(member_step: Callable, traced: dict, how: str = "vmap") -> Callable:
    """`step(state, arrays)` of a population from `member_step(values, state, arrays)`: the
    members batched (`vmap`), or one after another in the same program (`map`, jax.lax.map: the
    memory of one member's step, for members too large to batch; the same results up to float
    rounding)."""
    if how == "map":
        return lambda state, arrays: jax.lax.map(lambda vs: member_step(vs[0], vs[1], arrays),
                                                 (traced, state))
    return lambda state, arrays: jax.vmap(member_step, in_axes=(0, 0, None))(traced, state, arrays)


def build(cfg: dict) -> Population:
    varying = varying_settings(cfg)
    data = data_lib.build(cfg["data"])
    members = tuple(member_config(cfg, varying, i) for i in range(len(varying["seed"])))
    setups = tuple(setup_lib.build(m, data) for m in members)  # checks every member's values
    traced = {p: jnp.asarray(v, jnp.float32) for p, v in varying.items() if p != "seed"}
    template = members[0]

    def member_step(values: dict, state: GANState, arrays):
        cfg_m = copy.deepcopy(template)
        for path, value in values.items():
            _assign(cfg_m, path, value)
        return setup_lib.assemble(cfg_m, data).step(state, arrays)

    how = cfg["trainer"]["population_map"]
    step = _over_members(member_step, traced, how)

    phases = ()
    if setups[0].phases:  # the same, per phase: member i runs its own phase step
        def phase_step(i: int, values: dict, state: GANState, arrays):
            cfg_m = copy.deepcopy(template)
            for path, value in values.items():
                _assign(cfg_m, path, value)
            return setup_lib.assemble(cfg_m, data).phases[i].step(state, arrays)

        phases = tuple(Phase(p.name, p.steps, _over_members(functools.partial(phase_step, i),
                                                            traced, how))
                       for i, p in enumerate(setups[0].phases))
        step = phases[-1].step
    population = Population(data, setups[0].gan, members, varying, step, setups, phases)
    try:  # shapes only. Members whose parameter shapes differ cannot be stacked, and a setting
        # used as a Python int or bool (layer counts, step counts) cannot be traced per member.
        jax.eval_shape(step, jax.eval_shape(population.init_state), data.arrays)
    except (jax.errors.JAXTypeError, ValueError, TypeError) as e:
        names = ", ".join(p for p in traced) or "(none)"
        raise ConfigError(f"a setting that varies within the population ({names}) is structural "
                          f"(it fixes shapes or control flow), so members cannot share one "
                          f"program; sweep it with Hydra multirun instead. ({type(e).__name__})"
                          ) from e
    return population

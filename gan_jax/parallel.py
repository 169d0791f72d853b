"""Training over many devices and hosts: `trainer.parallel=data` and `trainer.parallel=pmap`.

`data` (`Placement`):

The step stays written for the whole batch; arrays carry shardings over a 1-D device mesh and
XLA partitions the compiled program (GSPMD). Parameters and optimizer states are replicated,
each device computes its slice of the batch, and XLA inserts the all-reduces: gradient means,
and batch-norm statistics over the global batch. Because the program is the global-batch
program, a data-parallel step equals the single-device step up to float summation order, for
every mitigation (random draws included: JAX's partitionable threefry gives each element the
same bits whatever the sharding). A population (`trainer.population`) puts whole members on
devices instead.

Multi-host: `initialize` joins the processes (`jax.distributed`); the mesh then spans every
process's devices and the same program runs in each. Only process 0 writes logs and summaries;
all processes take part in checkpoints (orbax writes each array once).

`pmap` (`Replicas`): the idiom of many JAX GAN trainers. The step is written for one device's
share of the batch and compiled with `jax.pmap` over the axis `AXIS`; the state carries a
leading device axis (one identical replica per device). Each replica draws its own batch of
trainer.batch_size / devices (the replica index is folded into the step key), and the step
averages gradients, metrics, mutable collections and mitigation state with `lax.pmean` (see
`make_train_step(axis_name=...)`), so the replicas stay identical. Batch-norm statistics are the
device's own (`trainer.sync_batch_stats=false`) or averaged over all replicas (`true`: the
global-batch statistics). Checkpoints hold one replica, exactly like a single-device run.
Several hosts: each process maps over its local devices and `pmean` spans all processes.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, ClassVar, Mapping

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from gan_jax import peers
from gan_jax.errors import ConfigError

AXIS = "data"


def initialize(trainer: Mapping[str, Any]) -> None:
    """`jax.distributed.initialize` when `trainer.distributed`; before any other JAX call.

    Under Slurm JAX reads the coordinator, process count and id from the environment; elsewhere
    give trainer.coordinator_address, num_processes and process_id. A process that stops is
    declared lost after trainer.heartbeat_timeout seconds (JAX's default: 100), and the others
    stop too (see gan_jax.peers).
    """
    if not trainer.get("distributed"):
        return
    # Collectives between CPU processes need an implementation (GPUs use NCCL regardless).
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    kwargs = {k: trainer.get(k) for k in ("coordinator_address", "num_processes", "process_id")}
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    heartbeat = trainer["heartbeat_timeout"]
    try:
        jax.distributed.initialize(**kwargs, heartbeat_timeout_seconds=int(heartbeat))
    except (ValueError, RuntimeError) as e:
        raise ConfigError(
            f"trainer.distributed=true but the processes could not be joined ({e}). Under Slurm "
            f"launch one process per task (srun); elsewhere set trainer.coordinator_address=host:port, "
            f"trainer.num_processes and trainer.process_id for each process.") from e
    peers.watch(heartbeat)


def is_primary() -> bool:
    """The process that writes logs, samples and summaries."""
    return jax.process_index() == 0


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where arrays live for `trainer.parallel=data`: a mesh over all devices of all hosts."""

    mesh: Mesh
    mode: ClassVar[str] = "data"

    @classmethod
    def over_all_devices(cls) -> "Placement":
        return cls(Mesh(np.asarray(jax.devices()), (AXIS,)))

    @property
    def size(self) -> int:
        return self.mesh.size

    @property
    def replicated(self) -> NamedSharding:
        return NamedSharding(self.mesh, PartitionSpec())

    @property
    def split(self) -> NamedSharding:
        """Leading axis divided over the devices (a batch, or the members of a population)."""
        return NamedSharding(self.mesh, PartitionSpec(AXIS))

    def shard_batch(self, x: jax.Array) -> jax.Array:
        """Inside the step: give each device its slice of the batch."""
        return jax.lax.with_sharding_constraint(x, self.split)

    def put(self, tree: Any, sharding: NamedSharding) -> Any:
        """Host or single-device arrays -> global arrays with `sharding` (every process passes
        the same values, as each builds the same state from the same seed)."""
        def place(x):
            x = np.asarray(x)
            return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

        return jax.tree_util.tree_map(place, tree)

    def check_divides(self, count: int, setting: str) -> None:
        if count % self.size:
            raise ConfigError(
                f"{setting}={count} must be a multiple of the {self.size} devices of "
                f"trainer.parallel={self.mode} (each device takes an equal share), e.g. "
                f"{setting}={self.size * max(1, round(count / self.size))}.")


@dataclasses.dataclass(frozen=True)
class Replicas(Placement):
    """Where arrays live for `trainer.parallel=pmap`: one replica per local device.

    `mesh` holds this process's devices (what `jax.pmap` maps over); `size` counts the replicas
    of all processes, which share the global batch.
    """

    sync_batch_stats: bool = False
    mode: ClassVar[str] = "pmap"

    @classmethod
    def over_local_devices(cls, sync_batch_stats: bool = False) -> "Replicas":
        return cls(Mesh(np.asarray(jax.local_devices()), (AXIS,)), sync_batch_stats)

    @property
    def size(self) -> int:
        return jax.device_count()

    @property
    def axis_name(self) -> str:
        """The named axis the step's collectives reduce over."""
        return AXIS

    @property
    def batch_stats_axis(self) -> str | None:
        """What batch norm averages its statistics over: all replicas, or none (per device)."""
        return AXIS if self.sync_batch_stats else None

    def per_device(self, batch_size: int) -> int:
        return batch_size // self.size

    def replicate(self, tree: Any) -> Any:
        """One copy per local device along a new leading axis (`flax.jax_utils.replicate`)."""
        devices = list(self.mesh.devices.flat)

        def copies(x):
            x = np.asarray(x)[None]
            return jax.make_array_from_single_device_arrays(
                (len(devices), *x.shape[1:]), self.split, [jax.device_put(x, d) for d in devices])

        return jax.tree_util.tree_map(copies, tree)

    @staticmethod
    def unreplicate(tree: Any) -> Any:
        """The first replica (all are equal: the step averages everything it updates)."""
        return jax.tree_util.tree_map(lambda x: x.addressable_shards[0].data[0], tree)

    def compile(self, chunk: Callable) -> Callable:
        """`chunk(state, arrays)` for one replica -> `(replicated state, arrays) -> (replicated
        state, metrics of one replica)`; the dataset arrays are broadcast, not mapped."""
        mapped = jax.pmap(chunk, axis_name=AXIS, in_axes=(0, None), donate_argnums=0)

        def run(state, arrays):
            state, metrics = mapped(state, arrays)
            return state, self.unreplicate(metrics)  # pmean'ed in the step: equal everywhere

        return run

    def checkpointable(self, state: Any) -> Any:
        """One replica, as a single run's state; over several processes as global replicated
        arrays, which orbax writes once."""
        one = self.unreplicate(state)
        if jax.process_count() == 1:
            return one
        everywhere = Placement.over_all_devices()
        return everywhere.put(one, everywhere.replicated)


MODES = ("none", "data", "pmap")


def placement(trainer: Mapping[str, Any]) -> Placement | None:
    """The placement selected by `trainer.parallel` (None: one device, no sharding)."""
    mode = trainer.get("parallel", "none")
    if mode in (None, "none"):
        return None
    if mode not in MODES:
        raise ConfigError(f"trainer.parallel={mode!r} is not one of {', '.join(MODES)}.")
    if mode == "data":
        return Placement.over_all_devices()
    if int(trainer.get("population", 1)) > 1:
        raise ConfigError(f"trainer.parallel=pmap trains one model as per-device replicas and "
                          f"cannot hold trainer.population={trainer['population']} members; use "
                          f"trainer.parallel=data, which spreads whole members over the devices.")
    return Replicas.over_local_devices(bool(trainer["sync_batch_stats"]))

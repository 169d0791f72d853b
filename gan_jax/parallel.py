"""One training program over many devices and hosts: `trainer.parallel=data`.

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
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

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
    heartbeat = trainer.get("heartbeat_timeout") or 100
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
                f"trainer.parallel=data (each device takes an equal share), e.g. "
                f"{setting}={self.size * max(1, round(count / self.size))}.")


def placement(trainer: Mapping[str, Any]) -> Placement | None:
    """The placement selected by `trainer.parallel` (None: one device, no sharding)."""
    mode = trainer.get("parallel", "none")
    if mode in (None, "none"):
        return None
    if mode != "data":
        raise ConfigError(f"trainer.parallel={mode!r} is not one of none, data.")
    return Placement.over_all_devices()

"""Which processes of a multi-process run (`trainer.distributed=true`) are still there.

When a process dies, the collectives of the others fail at once (gloo: "connection reset by
peer"), but JAX's coordination service only notices after `trainer.heartbeat_timeout` seconds
and then ends every other process from C++ with an abort and its stack trace. JAX offers no
usable Python hook for that moment (jaxlib 0.10's `missed_heartbeat_callback` throws
std::bad_cast when called), so the survivors find out themselves, before that abort:

- each process bumps a counter of its own in the coordination service's key-value store every
  `interval` seconds (a daemon thread);
- after a failed collective, the counters that stop moving for `window` seconds name the lost
  processes, and the process publishes that verdict before it exits;
- a survivor that exits breaks the collectives of the others in turn: they find its verdict and
  name the process it named, not the survivor. A survivor whose main thread is stuck elsewhere
  (a checkpoint barrier) takes the published verdict from its counter thread and exits too.

If process 0 (which hosts the coordination service) is the one that dies, JAX's C++ client ends
the others within a second: they print the verdict line if they get there first, then JAX's
abort message follows.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

ALIVE = "gan_jax/alive/"      # <process id> -> a counter that moves while the process lives
VERDICT = "gan_jax/stopped/"  # <process id> -> the ids it found lost, before it stopped
_watch: Watch | None = None


class Watch:
    """This process's counter (bumped by a daemon thread) and the verdicts about the others."""

    def __init__(self, client, process_id: int, num_processes: int, heartbeat_timeout: float):
        self.client, self.me, self.n = client, process_id, num_processes
        # Decide well within the heartbeat timeout, after which JAX aborts the survivors itself.
        self.window = min(2.0, heartbeat_timeout / 4)
        self.interval = self.window / 4
        self.on_verdict: Callable[[list[int]], None] | None = None  # see `on_lost`
        self._handling = threading.Event()  # the main thread is deciding (or has decided)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="gan_jax-alive", daemon=True)
        self._thread.start()
        # atexit runs last-registered first: stop calling the client before JAX shuts it down.
        atexit.register(self.stop)

    def _beat(self) -> None:
        seen = None  # when another process's verdict was first seen
        while not self._stop.is_set():
            try:
                self.client.key_value_increment(f"{ALIVE}{self.me}", 1)
                verdicts = self._verdicts()
            except Exception:  # noqa: BLE001 - the service is gone; `lost` tells
                return
            lost = set().union(*verdicts.values()) - {self.me}
            if lost and not self._handling.is_set() and self.on_verdict is not None:
                seen = time.monotonic() if seen is None else seen
                if time.monotonic() - seen > self.window:  # the main thread is stuck elsewhere
                    self._handling.set()
                    self.on_verdict(sorted(lost))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _read(self, prefix: str) -> dict[int, str]:
        return {int(k.rsplit("/", 1)[1]): v for k, v in self.client.key_value_dir_get(prefix)}

    def _verdicts(self) -> dict[int, set[int]]:
        return {i: {int(x) for x in v.split(",") if x} for i, v in self._read(VERDICT).items()
                if i != self.me}

    def lost(self) -> list[int]:
        """The other processes that stopped without a verdict of their own, or that one names;
        publishes the result as this process's verdict."""
        self._handling.set()
        try:
            verdicts = self._verdicts()
            if not verdicts:  # nobody has decided yet: watch the counters
                before = self._read(ALIVE)
                time.sleep(self.window)
                after, verdicts = self._read(ALIVE), self._verdicts()
                stale = {i for i in range(self.n) if before.get(i) == after.get(i)}
            else:
                stale = set()
            lost = (stale - set(verdicts)).union(*verdicts.values()) - {self.me}
            if lost:  # else the failure was this process's own: nothing to tell the others
                self.client.key_value_set(f"{VERDICT}{self.me}",
                                          ",".join(map(str, sorted(lost))), allow_overwrite=True)
        except Exception:  # noqa: BLE001 - the key-value store lives in process 0
            return [0] if self.me != 0 else []
        return sorted(lost)

    def linger(self, lost: list[int]) -> None:
        """Process 0 holds the key-value store: let the other survivors read the verdict first."""
        if self.me != 0:
            return
        deadline = time.monotonic() + 2 * self.window
        for i in sorted(set(range(1, self.n)) - set(lost)):
            left = int(1000 * (deadline - time.monotonic()))
            try:
                if left > 0:
                    self.client.blocking_key_value_get(f"{VERDICT}{i}", left)
            except Exception:  # noqa: BLE001, S110 - best effort: it may be stuck or gone
                pass


def watch(heartbeat_timeout: float) -> None:
    """Start this process's counter; after `jax.distributed.initialize`."""
    global _watch
    from jax._src import (
        distributed,  # the client; orbax and jax.experimental reach it alike
    )

    state = getattr(distributed, "global_state", None)
    client = getattr(state, "client", None)
    # From the distributed state, not jax.process_count(): that would start the backend.
    if client is not None and (getattr(state, "num_processes", None) or 1) > 1:
        _watch = Watch(client, state.process_id, state.num_processes, heartbeat_timeout)


def on_lost(callback: Callable[[list[int]], None]) -> None:
    """Call `callback(lost ids)` from the counter thread when another process has published a
    verdict and this process's main thread has not come to `lost_processes` by itself."""
    if _watch is not None:
        _watch.on_verdict = callback


def lost_processes() -> list[int]:
    """After a failure: the ids of the processes that stopped ([] when none did, or when this
    is not a multi-process run). Takes up to `window` seconds."""
    return _watch.lost() if _watch is not None else []


def stop_now(lost: list[int], code: int) -> None:
    """Exit at once: JAX's shutdown would wait for the lost process, then abort."""
    if _watch is not None:
        _watch.linger(lost)
    logging.shutdown()  # flush the run's log file
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

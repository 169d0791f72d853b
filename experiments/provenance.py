"""Where and from what a result came: the commit, the machine and the time of a run.

Every study writes `provenance()` next to each run it records, so a results file says which code
produced a number, on which machine, with which CPU cores, and how loaded the machine was.
"""

from __future__ import annotations

import os
import pathlib
import platform
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def commit() -> str:
    """HEAD's hash, with `+dirty` when tracked files under gan_jax/, conf/ or experiments/ differ
    from it (an uncommitted change to the code that ran)."""
    def git(*args: str) -> str:
        r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else ""

    head = git("rev-parse", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "gan_jax", "conf",
                "experiments")
    return head + ("+dirty" if dirty else "")


def cpu_model() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict:
    """The host, its CPU, the cores this process may use (taskset), and the JAX device."""
    import jax  # noqa: PLC0415  (imported late: the studies start training processes first)

    device = jax.devices()[0]
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"host": platform.node(), "cpu": cpu_model(), "cpu_count": os.cpu_count(),
            "cores_used": affinity, "platform": platform.platform(),
            "jax": jax.__version__, "device": f"{device.platform} ({device.device_kind})"}


def provenance() -> dict:
    """commit + machine + UTC time + load average, for one recorded run."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"commit": commit(), "machine": machine(),
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_average_1_5_15": [round(x, 2) for x in load] if load else None}

"""A process of a two-process run (jax.distributed, gloo) dies: the other stops within seconds,
says which process was lost, and the checkpoints written so far resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from gan_jax.training.loop import train
from tests.conftest import EVERY_100, ROOT, TINY_RING, make_cfg
from tests.training.test_parallel import free_port

# Checkpoints every 500 steps, chunks of 100: the kill comes between two checkpoints, while the
# survivor is in a training chunk (a survivor inside a checkpoint's barrier would wait for JAX's
# heartbeat timeout instead; see gan_jax/peers.py).
BASE = TINY_RING + EVERY_100 + ["trainer.batch_size=64", "trainer.progress=false",
                                "trainer.compile_cache=null", "trainer.checkpoint_every=500",
                                "trainer.sample_every=500", "trainer.eval_every=500"]
STOP_WITHIN = 30  # seconds; measured 2-3 s (before: 78 s, then a C++ abort)


@pytest.mark.slow  # two processes compile and train to the first checkpoint: a minute or two
@pytest.mark.parametrize("victim", [1, 0])
def test_survivor_stops_and_names_the_lost_process(tmp_path, victim):
    run = tmp_path / "run"
    port = free_port()
    procs = [subprocess.Popen(
        [sys.executable, "-m", "gan_jax.train", *BASE, "trainer.steps=100000",
         "trainer.parallel=data", "trainer.distributed=true",
         f"trainer.coordinator_address=localhost:{port}", "trainer.num_processes=2",
         f"trainer.process_id={i}", f"hydra.run.dir={run}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(2)]
    try:
        deadline = time.monotonic() + 400
        while not (run / "checkpoints" / "500").is_dir():
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), \
                "no checkpoint at step 500"
            time.sleep(0.2)
        time.sleep(1)  # the survivor is back in a training chunk
        procs[victim].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        survivor = procs[1 - victim]
        out = survivor.communicate(timeout=STOP_WITHIN + 30)[0]
        took = time.monotonic() - killed
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert took < STOP_WITHIN, out[-3000:]
    assert survivor.returncode != 0
    if victim == 1:  # process 0, which holds the coordination service, survives
        assert survivor.returncode == 4, out[-3000:]
        assert "error: process 1 of this 2-process run stopped" in out
        assert "process 0 stops too" in out and "trainer.resume=true" in out
        assert "Traceback" not in out and "Check failure" not in out
        summary = json.loads((run / "summary.json").read_text())
        assert summary["status"] == "peer_lost" and "process 1" in summary["error"]
    # else: JAX's C++ client ends process 1 as soon as the service is gone (see gan_jax/peers.py)

    # What was written stays intact: one process resumes from it.
    steps = sorted(int(p.name) for p in (run / "checkpoints").iterdir() if p.name.isdigit())
    assert steps and steps[-1] >= 500
    total = steps[-1] + 100
    summary = train(make_cfg(BASE + [f"trainer.steps={total}", "trainer.resume=true"]), run)
    assert summary["status"] == "completed" and summary["step"] == total
    assert "damaged_checkpoints" not in summary

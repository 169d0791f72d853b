"""gan_jax's default XLA:CPU flags (gan_jax/xla_flags.py): yours win, they reach XLA, and the
DCGAN step computes the same with them as without them, to float rounding."""

import json
import os
import subprocess
import sys

import numpy as np

from gan_jax import xla_flags
from tests.conftest import FAST_COMPILE, ROOT

# Ten fixed-seed steps of the default DCGAN (full size, batch 16) as one lax.scan chunk (XLA
# unrolls shorter loops, and their copies with them) in a fresh process, which prints its loss
# metrics, every parameter's sum of squares and how many copies of its largest weights (the
# 6272 x 1024 dense layers) the compiled chunk makes.
CHILD = """
import json, sys
import jax, numpy as np
sys.path.insert(0, {root!r})
import gan_jax
from scripts.bench_twin import config
from gan_jax.training import setup as setup_lib
from gan_jax.training.step import make_train_chunk
s = setup_lib.build(config(["trainer.batch_size=16"]))
chunk = jax.jit(make_train_chunk(s.step, 10), donate_argnums=0)  # as gan_jax.train runs it
state = s.init_state()
hlo = chunk.lower(state, s.data.arrays).compile().as_text()
state, metrics = chunk(state, s.data.arrays)
leaves = jax.tree_util.tree_leaves((state.g_params, state.d_params))
big = [line for line in hlo.splitlines()
       if " copy(" in line and ("f32[6272,1024]" in line or "f32[1024,6272]" in line)]
print(json.dumps({{"weight_copies": len(big),
                  "metrics": {{k: np.asarray(v).tolist() for k, v in metrics.items()}},
                  "squares": [float(np.sum(np.square(np.asarray(x, np.float64)))) for x in leaves]}}))
"""


def run_child(**env) -> dict:
    environ = {**os.environ, **env}
    inherited = environ.get("XLA_FLAGS", "").split()  # this process's, defaults added on import
    environ["XLA_FLAGS"] = " ".join(f for f in inherited if f != FAST_COMPILE and
                                    f.lstrip("-").split("=")[0] not in xla_flags.DEFAULTS)
    r = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT))], cwd=ROOT, env=environ,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_defaults_are_added_unless_named_or_turned_off():
    env = {"XLA_FLAGS": "--xla_cpu_copy_insertion_use_region_analysis=false --other=1"}
    assert xla_flags.set_defaults(env).split() == env["XLA_FLAGS"].split()  # yours win
    env = {"XLA_FLAGS": "--other=1"}
    flags = xla_flags.set_defaults(env).split()
    assert "--xla_cpu_copy_insertion_use_region_analysis=true" in flags and "--other=1" in flags
    assert xla_flags.set_defaults(env) == env["XLA_FLAGS"]  # adding twice adds nothing
    off = {"XLA_FLAGS": "--other=1", xla_flags.OFF: "0"}
    assert xla_flags.set_defaults(off) == "--other=1"
    assert xla_flags.set_defaults({}).count("--xla_cpu") == len(xla_flags.DEFAULTS)


def test_the_flags_reach_xla_and_leave_the_step_unchanged_to_rounding():
    on, off = run_child(), run_child(**{xla_flags.OFF: "0"})
    # Read before the backend started: the per-step copies of the large weights are gone.
    assert off["weight_copies"] >= 2 and on["weight_copies"] == 0, (off, on)
    for name, values in off["metrics"].items():
        np.testing.assert_allclose(on["metrics"][name], values, rtol=2e-4, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(on["squares"], off["squares"], rtol=1e-5)

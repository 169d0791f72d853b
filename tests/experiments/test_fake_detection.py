"""experiments/fake_detection: the smoke budget end to end on the real Fashion-MNIST (slow)."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import FAST_COMPILE, ROOT

SCRIPT = ROOT / "experiments" / "fake_detection" / "run.py"


@pytest.mark.slow
def test_smoke_budget_writes_the_cross_generator_matrix(tmp_path):
    env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "").replace(FAST_COMPILE, "").strip()}
    r = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--out", str(tmp_path)], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads((tmp_path / "results.json").read_text())
    names, auc = result["matrix"]["train_on"], result["matrix"]["auroc"]
    assert len(names) == 5 and len(auc) == 5 and all(len(row) == 5 for row in auc)
    assert all(0 <= v <= 1 for row in auc for v in row)
    # in distribution, even 100-step generators are told from real photos
    assert min(auc[i][i] for i in range(5)) > 0.9
    assert (tmp_path / "matrix.png").stat().st_size > 0

"""Real data, real entry point: the default DCGAN trains on Fashion-MNIST and logs to TensorBoard."""

import json

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_jax.data import fashion_mnist
from tests.test_train_cli import run_cli

pytestmark = pytest.mark.slow


@pytest.mark.skipif(fashion_mnist.find_dir(None, "train") is None,
                    reason="real Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_default_run_on_real_fashion_mnist(tmp_path):
    run_dir = tmp_path / "run"
    r = run_cli("trainer.steps=200", "trainer.log_every=50", "trainer.sample_every=100",
                "trainer.checkpoint_every=100", f"hydra.run.dir={run_dir}", optimized=True)
    assert r.returncode == 0, r.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["step"] == 200
    assert summary["latest_checkpoint"] == 200
    grid = np.asarray(Image.open(run_dir / "samples.png"))
    assert grid.shape == (8 * 30 + 2, 8 * 30 + 2, 3) and grid.std() > 10  # 8x8 grid, not blank

    events = EventAccumulator(str(run_dir / "tb"), size_guidance={"images": 0})
    events.Reload()
    assert [e.step for e in events.Scalars("d/loss")] == [50, 100, 150, 200]
    assert {"g/loss", "d/grad_norm", "g/grad_norm"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Images("samples")][:2] == [100, 200]
    # The discriminator has learned something: its logits separate real from generated images.
    real = events.Scalars("d/real_logit")[-1].value
    fake = events.Scalars("d/fake_logit")[-1].value
    assert real > fake

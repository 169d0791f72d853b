"""Runs saved before a setting existed still load, sample and resume (with its default)."""

import json

from gan_jax.config.saved import with_new_defaults
from gan_jax.training import loop, saved_run
from tests.conftest import EVERY_100, TINY_RING, make_cfg


def test_missing_settings_take_their_defaults_and_the_run_resumes(tmp_path):
    cfg = make_cfg([*TINY_RING, *EVERY_100, "trainer.steps=100", "mitigation=[r1]"])
    loop.train(cfg, tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    for key in ("n_generator", "g_l2", "d_l2"):  # settings added after some runs were saved
        del saved["optim"][key]
    del saved["mitigation"]["r1"]["gamma"]
    (tmp_path / "config.json").write_text(json.dumps(saved))

    filled = with_new_defaults(saved)
    assert filled["optim"]["n_generator"] == 1 and filled["optim"]["g_l2"] == 0.0
    assert filled["mitigation"]["r1"]["gamma"] == cfg["mitigation"]["r1"]["gamma"]
    assert saved_run.load(tmp_path).cfg == cfg
    resumed = loop.train({**cfg, "trainer": {**cfg["trainer"], "steps": 200, "resume": True}}, tmp_path)
    assert resumed["status"] == "completed" and resumed["step"] == 200

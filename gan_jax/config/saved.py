"""Configs saved by earlier versions: settings added since then take their defaults.

A setting is only added with a default that keeps the old behaviour (e.g. `optim.n_generator=1`,
`data.test_file=null`), so a run saved before it existed is read back as it ran: sampling,
evaluation and resuming keep working on old run directories.
"""

from __future__ import annotations

import copy
import pathlib

from omegaconf import OmegaConf

CONF = pathlib.Path(__file__).resolve().parents[2] / "conf"
GROUPS = ("data", "model", "loss", "optim", "trainer", "eval")


def with_new_defaults(cfg: dict) -> dict:
    """A copy of a saved config with every missing key of its group options set to the default
    of the option's yaml (conf/<group>/<name>.yaml; trainer and eval: default.yaml)."""
    cfg = copy.deepcopy(cfg)
    for group in GROUPS:
        values = cfg.get(group)
        if not isinstance(values, dict):
            continue
        path = CONF / group / f"{values.get('name', 'default')}.yaml"
        if path.is_file():
            for key, value in OmegaConf.to_container(OmegaConf.load(path)).items():
                values.setdefault(key, value)
    for name, values in (cfg.get("mitigation") or {}).items():
        path = CONF / "mitigation" / f"{name}.yaml"
        if isinstance(values, dict) and path.is_file():
            for key, value in (OmegaConf.to_container(OmegaConf.load(path)) or {}).items():
                values.setdefault(key, value)
    return cfg

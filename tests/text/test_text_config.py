"""Text data in the config: its settings are checked, and models that write no text refuse it."""

import pytest

from gan_jax.config.validate import DATA_KINDS, MODEL_KINDS, validate
from gan_jax.errors import ConfigError
from tests.conftest import make_cfg

NOT_TEXT = [m for m, kinds in MODEL_KINDS.items() if "text" not in kinds]
SETTINGS = {"coco_captions": ["data.download=false"], "text_file": ["data.path=reviews.txt"],
            "review_table": ["data.path=reviews.csv", "data.text=review"]}


@pytest.mark.parametrize("data", ["coco_captions", "text_file", "reviews", "review_table"])
@pytest.mark.parametrize("model", NOT_TEXT)
def test_a_model_that_writes_no_text_refuses_text_data_at_validation(data, model):
    assert DATA_KINDS[data] == "text"
    with pytest.raises(ConfigError, match=f"^model={model} needs .* and data={data} holds text: with "
                                          f"data={data} "):
        validate(make_cfg([f"model={model}", f"data={data}", *SETTINGS.get(data, [])]))


@pytest.mark.parametrize("override, message", [
    ("data.max_length=0", "data.max_length=0 must be positive: tokens per sentence, or null"),
    ("data.vocab_size=2", "data.vocab_size=2 must be at least 3: <eos>, <unk> and at least one word"),
    ("data.download=yes", "data.download='yes' must be true or false"),
])
def test_bad_text_settings_are_refused_naming_them(override, message):
    with pytest.raises(ConfigError, match=message):
        validate(make_cfg(["data=coco_captions", override]))


def test_text_file_needs_its_path():
    with pytest.raises(ConfigError, match="data.path=null must be set: data=text_file needs your file"):
        validate(make_cfg(["data=text_file"]))


@pytest.mark.parametrize("option", ["coco_captions", "text_file"])
def test_every_text_setting_is_read_by_its_builder(option, tmp_path, monkeypatch):
    from gan_jax import data as data_lib
    from gan_jax.config import schemas
    from gan_jax.data import coco_captions
    from tests.config.test_settings_read import Recorded, fields
    if option == "coco_captions" and not (coco_captions.SHARED_DIR / "train.txt").is_file():
        pytest.skip(f"no {coco_captions.SHARED_DIR}")
    (tmp_path / "reviews.txt").write_text("a fine lamp .\nit broke on day two .\n")
    paths = [f"data.path={tmp_path / 'reviews.txt'}", f"data.test_path={tmp_path / 'reviews.txt'}"]
    cfg = make_cfg([f"data={option}", *(paths if option == "text_file" else [])])
    reads: set[str] = set()
    data_lib.build(Recorded(dict(cfg["data"]), reads, "data."))
    assert {f"data.{k}" for k in fields(schemas.SELECTED_BY_NAME["data"][option])} <= reads

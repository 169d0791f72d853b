"""Which models train on which data, refused at validation (before any data is read)."""

import pytest

from gan_jax.config import schemas
from gan_jax.config.validate import DATA_KINDS, MODEL_KINDS, validate
from gan_jax.errors import ConfigError
from tests.conftest import make_cfg


def test_every_data_and_model_option_has_a_kind():
    # Catches: a new data or model option that the pairing rule silently lets through.
    assert set(DATA_KINDS) == set(schemas.SELECTED_BY_NAME["data"])
    assert set(MODEL_KINDS) == set(schemas.SELECTED_BY_NAME["model"])


@pytest.mark.parametrize("overrides, message", [
    # Catches: data=movielens_100k model=mlp training, then failing at the first evaluation.
    (["data=movielens_100k", "model=mlp"],
     "model=mlp needs images, 2D points or a table and data=movielens_100k holds interaction "
     "data: with data=movielens_100k use model=cfgan."),
    # Catches: model=ganomaly data.conditional=true passing validation, then a KeyError.
    (["model=ganomaly", "data.conditional=true"],
     "data.conditional=true: model=ganomaly cannot be conditioned on categories"),
    (["model=cfgan"], "model=cfgan needs interaction data and data=fashion_mnist holds images"),
    (["model=tabular", "data=ring"], "with data=ring use model=mlp."),
])
def test_a_model_that_does_not_fit_the_data_is_refused_at_validation(overrides, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        validate(make_cfg(overrides))

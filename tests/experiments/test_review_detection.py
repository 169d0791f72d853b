"""The review-detection study end to end at the smoke budget, on the real reviews (tiny models)."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

WRITERS = {"mle_t0.7", "mle_t1.0", "mle_t1.3", "gan", "ngram", "spinner"}


@pytest.mark.slow
def test_the_smoke_budget_fills_every_table_keeps_test_reviews_out_and_reuses_its_stages(tmp_path):
    from gan_jax.data import reviews
    from gan_jax.errors import DataError
    try:
        reviews.find()
    except DataError as e:
        pytest.skip(f"the reviews table is not on this machine (scripts/setup.sh): {e}")
    cmd = [sys.executable, str(ROOT / "experiments" / "review_detection" / "run.py"), "--budget", "smoke",
           "--out", str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads((tmp_path / "results_smoke.json").read_text())
    matrix = results["matrix"]
    assert set(matrix) == {"mle", "mle+gan", "gan", "ngram", "spinner", "none (the GAN's D)"}
    for source, by_detector in matrix.items():
        assert set(by_detector) == ({"critic"} if source.startswith("none") else {"nblr", "nbsvm", "cnn"})
        for by_writer in by_detector.values():
            assert set(by_writer) == WRITERS
            assert all(0 <= m["auroc"]["mean"] <= 1 for m in by_writer.values())
    assert set(results["labels"]) == {"0.01", "0.1"}
    assert set(results["labels"]["0.01"]) == {"nblr", "nbsvm", "cnn", "semi_supervised"}
    assert set(results["quality"]) == {"real"} | WRITERS
    assert "| mle+gan | cnn |" in (tmp_path / "results_smoke.md").read_text()

    # No review a detector or writer learnt from is a test review: the real reviews of every part
    # come from their own split, and every written review of a part was drawn for that part.
    base = tmp_path / "runs" / "smoke"
    cfg = json.loads((base / "mle" / "config.json").read_text())
    from experiments.review_detection import writers
    from gan_jax import data as data_lib
    text = data_lib.build(cfg["data"]).text
    real, _ = writers.real_reviews(text, 0, {"train": 60, "validation": 30, "test": 30})
    test_split = {" ".join(text.decode(row)) for row in text.test}
    training = {" ".join(text.decode(row)) for row in text.train}
    scored = {" ".join(s) for s in real["test"].sentences}
    learnt = {" ".join(s) for part in ("train", "validation") for s in real[part].sentences}
    assert scored <= test_split and learnt and not learnt & scored and not scored & training

    # The saved CNN scores a user's file through gan_jax.score_reviews.
    reviews_csv = tmp_path / "new.csv"
    reviews_csv.write_text("text\nlove this dress . it fits .\nthe the the the\n")
    r = subprocess.run([sys.executable, "-m", "gan_jax.score_reviews",
                        f"run_dir={base / 'detectors' / 'cnn_mle+gan_seed0'}", f"reviews={reviews_csv}"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr

    # A second call reuses every stage: nothing trained or written again.
    fakes = base / "fakes" / "seed0" / "gan.json"
    before = fakes.stat().st_mtime_ns
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "trained to step" not in r.stdout, r.stdout
    assert fakes.stat().st_mtime_ns == before

"""Suspicion scores of reviews (higher = more likely machine-written), highest first:

    python -m gan_jax.score_reviews run_dir=runs/reviews reviews=new_reviews.csv [text=text]
    python -m gan_jax.score_reviews run_dir=detectors/cnn reviews=new_reviews.txt out=scores.csv

run_dir: a text GAN's training run (data=reviews or data=review_table, model=relgan: its
discriminator scores, `member` picks one of a population), or a detector directory that
`CNNDetector.save` wrote (detector.json: the text CNN or the semi-supervised GAN detector).
reviews: a CSV or parquet file with a text column (`text=`, default "text"; `rating=` names a
column of ratings 1-5, which a rating-conditioned discriminator then reads), or a .txt file with
one review per line. Writes a CSV (rank, row, score, text) to `out`, by default
<run_dir>/review_scores/<reviews' name>.csv, complete or not at all.
"""

from __future__ import annotations

import dataclasses
import pathlib
import sys

import numpy as np
import pandas as pd

from gan_jax.cli import entry
from gan_jax.data import table_files
from gan_jax.data.review_corpus import ratings
from gan_jax.data.review_table import filled_texts
from gan_jax.data.text import tokenize
from gan_jax.errors import ConfigError, DataError


@dataclasses.dataclass
class ScoreReviewsConfig:
    run_dir: str = "???"
    reviews: str = "???"
    text: str = "text"
    rating: str | None = None
    member: int = 0
    step: int | None = None
    out: str | None = None


def read_reviews(path: str, text_column: str, rating: str | None) -> pd.DataFrame:
    """Columns text (non-empty strings) and, when named, rating (1-5); a DataError naming the
    file, column, row or value at fault."""
    p = pathlib.Path(path).expanduser()
    if p.suffix.lower() == ".txt":
        if rating is not None:
            raise ConfigError(f"rating={rating} names a column, but reviews={path} is plain text; "
                              f"give a CSV with that column, or drop rating=.")
        if not p.is_file():
            raise DataError(f"reviews={path} does not exist; give a CSV, parquet or .txt file.")
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as e:
            raise DataError(f"reviews={path} is not UTF-8 text ({e}); re-save it as UTF-8.") from e
        frame = pd.DataFrame({"text": [line for line in lines if line.strip()]})
        if frame.empty:
            raise DataError(f"reviews={path} holds no review (every line is blank).")
        return frame
    raw = table_files.read_file(p)
    for setting, column in (("text", text_column), ("rating", rating)):
        if column is not None and column not in raw.columns:
            raise DataError(f"reviews={path} has no column '{column}' ({setting}=); its columns are "
                            f"{[str(c) for c in raw.columns]}. Set {setting}= to one of them.")
    if raw.empty:
        raise DataError(f"reviews={path} has no rows.")
    frame = pd.DataFrame({"text": filled_texts(raw[text_column], f"reviews={path}")})
    if rating is not None:
        frame["rating"] = ratings(raw[rating], f"reviews={path}", "rating=")
    return frame


def detector_of(cfg: ScoreReviewsConfig):
    """The detector run_dir holds, or a ConfigError saying what a run_dir must be."""
    run_dir = pathlib.Path(cfg.run_dir)
    if (run_dir / "detector.json").is_file():
        from gan_jax.detectors import text_cnn  # noqa: PLC0415
        return text_cnn.load(run_dir)
    if (run_dir / "config.json").is_file():
        from gan_jax.detectors.gan_critic import CriticDetector  # noqa: PLC0415
        return CriticDetector(run_dir, cfg.member, cfg.step)
    raise ConfigError(f"run_dir={cfg.run_dir} is neither a text GAN's training run (config.json) nor "
                      f"a saved detector (detector.json); point it at one of them.")


def categories(detector, frame: pd.DataFrame, cfg: ScoreReviewsConfig) -> np.ndarray | None:
    """Each review's category for a rating-conditioned discriminator, from its rating column."""
    if "rating" not in frame:
        return None
    names = getattr(detector, "class_names", ())
    if tuple(names) != ("1", "2", "3", "4", "5"):
        raise ConfigError(f"rating={cfg.rating}: this detector is not conditioned on ratings "
                          f"(its categories: {list(names) or 'none'}); drop rating=.")
    return frame["rating"].to_numpy() - 1


def score_reviews(cfg: ScoreReviewsConfig) -> dict:
    frame = read_reviews(cfg.reviews, cfg.text, cfg.rating)
    detector = detector_of(cfg)
    y = categories(detector, frame, cfg)
    sentences = [tokenize(t) for t in frame["text"]]
    scores = detector.score(sentences) if y is None else detector.score(sentences, categories=y)
    if not np.isfinite(scores).all():
        raise DataError(f"the detector in run_dir={cfg.run_dir} gives non-finite scores; its "
                        f"weights have diverged, so retrain it.")
    order = np.argsort(-scores, kind="stable")
    table = pd.DataFrame({"rank": np.arange(1, len(order) + 1), "row": order + 1,
                          "score": np.round(scores[order], 6), "text": frame["text"].to_numpy()[order]})
    out = (pathlib.Path(cfg.out) if cfg.out else
           pathlib.Path(cfg.run_dir) / "review_scores" / f"{pathlib.Path(cfg.reviews).stem}.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(out)
    return {"csv": str(out), "n": len(table), "kind": detector.kind,
            "top": table["text"].head(3).tolist()}


def report(cfg: ScoreReviewsConfig, result: dict) -> None:
    print(f"scored {result['n']} reviews with the {result['kind']} detector; most suspicious first:")
    for t in result["top"]:
        print(f"  {t[:100]}")
    print(f"wrote {result['csv']}")


main = entry(ScoreReviewsConfig,
             "python -m gan_jax.score_reviews run_dir=RUN reviews=FILE [text=text] [rating=COLUMN]",
             score_reviews, report)

if __name__ == "__main__":
    sys.exit(main())

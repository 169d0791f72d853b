"""Review writers against review detectors, on the shop's real reviews (issue 23).

    .venv/bin/python experiments/review_detection/run.py --budget cpu
    .venv/bin/python experiments/review_detection/run.py --budget smoke --out /tmp/rd   # the test

1. Writers. ONE training run, `experiment=relgan_reviews` with one member per seed, is trained to
   the end of its maximum-likelihood phase and frozen there as runs/<budget>/mle (the MLE writer,
   a run `gan_jax.sample` reads), then trained through its adversarial phase (the GAN writer).
   With the n-gram writer and the spinner (writers.py), each writes train / validation / test
   parts per seed (runs/<budget>/fakes/seed<s>/<writer>.json).
2. Detection matrix. Per seed, per training source (a writer, "mle" = MLE at T=1 and "mle+gan" =
   half MLE at T=1, half GAN), per detector (nblr, nbsvm, cnn): trained on real training reviews
   and as many written ones, stopped and thresholded on the source's validation part, scored on
   real test reviews against every writer's test reviews. The GAN's own D ("critic") is scored
   without training. Key verdict: "mle" against "mle+gan" on the writers neither saw (n-gram,
   spinner, MLE at T=0.7 and 1.3).
3. Label budgets. The "mle+gan" pool with 1% and 10% of its training and validation labels: the
   supervised detectors on the labelled reviews alone, the semi-supervised K+1 GAN detector on
   them and the whole pool unlabelled.
4. Writer quality on test reviews: BLEU-2/5 and Self-BLEU-4, the Frechet distance of sentence
   features, NLL per word under the MLE writer (T=1), and the accuracy with which a rating
   classifier trained on real training reviews reads each written review's requested rating.
5. Learning curves (curves.py) from what the runs wrote: the writers' MLE NLL on training batches
   and the kept CNN detectors' validation AUROC, to curves_<budget>.png.
Every stage's output is kept under runs/<budget>/ and reused; a run is resumed from its checkpoints,
so a budget can be spread over sessions. Writes results_<budget>.{json,md} into --out.
"""

from __future__ import annotations

import functools
import json
import pathlib
import shutil
import statistics
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from experiments.records import budget_parser, cached, cell, hardware, mean_se, write_results  # noqa: E402
from experiments.review_detection import curves, detection, writers  # noqa: E402
from experiments.review_detection.writers import MLE_TEMPERATURES, PARTS, WRITERS, Reviews  # noqa: E402
from experiments.training_runs import stamped, train_until  # noqa: E402

SOURCES = {"mle": ("mle_t1.0",), "mle+gan": ("mle_t1.0", "gan"), "gan": ("gan",),
           "ngram": ("ngram",), "spinner": ("spinner",)}
LEFT_OUT = ("mle_t0.7", "mle_t1.3", "ngram", "spinner")  # seen by neither "mle" nor "mle+gan"
LABEL_FRACTIONS = (0.01, 0.1)
TINY = ["data.max_length=12", "data.vocab_size=300", "model.hidden_dim=16", "model.embed_dim=8",
        "model.d_embed_dim=8", "model.representations=2", "model.num_filters=4",
        "trainer.batch_size=16", "trainer.eval_samples=20", "trainer.log_every=2",
        "trainer.sample_every=100", "trainer.eval_every=100", "trainer.checkpoint_every=2"]
TINY_CNN = {"embed_dim": 8, "num_filters": 8, "fc_dim": 8}

BUDGETS = {
    # For a GPU: 30 epochs of pretraining, the authors' 2,000 adversarial steps, more written reviews.
    "full": {"seeds": [0, 1, 2], "pretrain": 8400, "adversarial": 2000, "overrides": [],
             "sizes": {"train": 5000, "validation": 1000, "test": 2000}, "quality_samples": 1000,
             "cnn": {"steps": 3000, "eval_every": 200}, "semi": {"steps": 3000, "eval_every": 200}},
    # 10 epochs of pretraining (experiment=relgan_reviews as it is), 500 adversarial steps; 2,000
    # written reviews per writer to learn from, 500 to stop on, 1,000 to test.
    "cpu": {"seeds": [0, 1, 2], "pretrain": 2800, "adversarial": 500, "overrides": [],
            "sizes": {"train": 2000, "validation": 500, "test": 1000}, "quality_samples": 500,
            "cnn": {"steps": 1500, "eval_every": 100}, "semi": {"steps": 1500, "eval_every": 100}},
    # Only that every stage runs on the real reviews; the numbers mean nothing.
    "smoke": {"seeds": [0], "pretrain": 2, "adversarial": 2, "overrides": TINY,
              "sizes": {"train": 60, "validation": 30, "test": 30}, "quality_samples": 20,
              "cnn": {"steps": 6, "eval_every": 3, "batch_size": 16, **TINY_CNN},
              "semi": {"steps": 6, "eval_every": 3, "batch_size": 16, **TINY_CNN}},
}


def train_writers(budget: dict, run_dir: pathlib.Path, steps: int) -> dict:
    seeds = budget["seeds"]
    cmd = [sys.executable, "-m", "gan_jax.train", "experiment=relgan_reviews",
           f"model.pretrain_steps={budget['pretrain']}", *budget["overrides"],
           f"trainer.steps={steps}", f"trainer.population={len(seeds)}",
           f"seed=[{','.join(map(str, seeds))}]" if len(seeds) > 1 else f"seed={seeds[0]}",
           f"hydra.run.dir={run_dir}", "trainer.progress=false"]
    return train_until(cmd, run_dir, steps)


def freeze(run_dir: pathlib.Path, step: int, frozen: pathlib.Path) -> None:
    """Copy run_dir's checkpoint `step` and config into `frozen`: a run of its own at that step."""
    if (frozen / "checkpoints" / str(step)).is_dir():
        return
    tmp = frozen.with_name(frozen.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "checkpoints").mkdir(parents=True)
    shutil.copytree(run_dir / "checkpoints" / str(step), tmp / "checkpoints" / str(step))
    shutil.copy(run_dir / "config.json", tmp / "config.json")
    tmp.replace(frozen)


def fakes_of_seed(i: int, seed: int, budget: dict, base: pathlib.Path, text, stage: str) -> dict:
    """{writer: {part: Reviews}} of the writers available at `stage` ("mle" or "all")."""
    from gan_jax.models.text_writers import NGramWriter  # noqa: PLC0415

    sizes = budget["sizes"]
    _, unused = writers.real_reviews(text, seed, sizes)
    ngram = functools.cache(lambda: NGramWriter(writers.decoded(text, text.train), order=3,
                                                max_length=text.max_length))

    def make(writer: str) -> dict:
        return {p: writers.write_part(writer, k, seed, i, sizes[p], text, base / "mle", base / "writers",
                                      unused, ngram() if writer == "ngram" else None)
                for k, p in enumerate(PARTS)}
    return {w: writers.written(base / "fakes" / f"seed{seed}" / f"{w}.json", functools.partial(make, w))
            for w in WRITERS if stage == "all" or w.startswith("mle_t")}


def matrix_of_seed(i: int, seed: int, budget: dict, base: pathlib.Path, text, fakes: dict) -> dict:
    """{source: {detector: {writer: metrics}}} for one seed (each cell cached on disk)."""
    from gan_jax.detectors.gan_critic import CriticDetector  # noqa: PLC0415
    from gan_jax.detectors.text_cnn import Vocabulary  # noqa: PLC0415

    real, _ = writers.real_reviews(text, seed, budget["sizes"])
    tests = {w: fakes[w]["test"] for w in WRITERS}
    vocabulary = Vocabulary.of(text)
    out: dict = {}
    for source, members in SOURCES.items():
        n = budget["sizes"]
        train = detection.labelled(real["train"], detection.mix(fakes, members, "train", n["train"]))
        valid = detection.labelled(real["validation"], detection.mix(fakes, members, "validation",
                                                                      n["validation"]))
        for name in detection.TRAINED:
            # the CNN trained on MLE + GAN reviews is kept for gan_jax.score_reviews
            keep = (base / "detectors" / f"cnn_mle+gan_seed{seed}"
                    if (name, source) == ("cnn", "mle+gan") else None)
            out.setdefault(source, {})[name] = cached(
                base / "detection" / f"seed{seed}" / f"{source}_{name}.json",
                functools.partial(detection.train_and_score, name, budget["cnn"], vocabulary, seed, train,
                                  valid, real["test"], tests, save_to=keep))
        print(f"  seed {seed} source {source}: done", flush=True)

    def critic():
        d = CriticDetector(base / "writers", member=i)
        score = lambda r: d.score(r.sentences, categories=[max(x - 1, -1) for x in r.ratings])  # noqa: E731
        valid = detection.labelled(real["validation"], fakes["mle_t1.0"]["validation"])
        # thresholds on MLE-written validation reviews: the critic learnt from no source
        return detection.evaluate(score, (valid[0], valid[1]), real["test"], tests)
    out["none (the GAN's D)"] = {"critic": cached(base / "detection" / f"seed{seed}" / "critic.json", critic)}
    return out


def label_budget_of_seed(seed: int, budget: dict, base: pathlib.Path, text, fakes: dict) -> dict:
    """{fraction: {detector: {writer: metrics}}} with the "mle+gan" pool partly labelled."""
    from gan_jax.detectors.text_cnn import Vocabulary  # noqa: PLC0415

    real, _ = writers.real_reviews(text, seed, budget["sizes"])
    n = budget["sizes"]
    x, y = detection.labelled(real["train"], detection.mix(fakes, SOURCES["mle+gan"], "train", n["train"]))
    vx, vy = detection.labelled(real["validation"], detection.mix(fakes, SOURCES["mle+gan"], "validation",
                                                                  n["validation"]))
    tests = {w: fakes[w]["test"] for w in WRITERS}
    out: dict = {}
    for fraction in LABEL_FRACTIONS:
        rows, vrows = detection.label_subset(y, fraction, seed), detection.label_subset(vy, fraction, seed)
        train = ([x[r] for r in rows], y[rows])
        valid = ([vx[r] for r in vrows], vy[vrows])
        for name in (*detection.TRAINED, "semi_supervised"):
            semi = name == "semi_supervised"  # the only one that reads the unlabelled pool
            out.setdefault(str(fraction), {})[name] = cached(
                base / "labels" / f"seed{seed}" / f"{fraction}_{name}.json",
                functools.partial(detection.train_and_score, name, budget["semi" if semi else "cnn"],
                                  Vocabulary.of(text), seed, train, valid, real["test"], tests,
                                  unlabelled=x if semi else None))
    return out


def quality_of_seed(i: int, seed: int, budget: dict, base: pathlib.Path, data, fakes: dict) -> dict:
    """{writer: metrics} of each writer's test reviews against the real test reviews, and of real
    validation reviews ("real", the reference row)."""
    import numpy as np  # noqa: PLC0415
    from sklearn.feature_extraction.text import CountVectorizer  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    from gan_jax.metrics.evaluator import TextEvaluator  # noqa: PLC0415

    text, k = data.text, budget["quality_samples"]
    evaluator = TextEvaluator(data)
    mle = writers._saved(str(base / "mle"), None)
    nll = jax_nll(mle, i)
    docs = lambda sentences: [" ".join(s) for s in sentences]  # noqa: E731
    vectorizer = CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=r"\S+", min_df=2)
    classifier = LogisticRegression(max_iter=2000).fit(
        vectorizer.fit_transform(docs(writers.decoded(text, text.train))), text.train_labels + 1)
    real, _ = writers.real_reviews(text, seed, budget["sizes"])

    def measure(reviews: Reviews) -> dict:
        r = reviews.head(k)
        values = evaluator.score(r.sentences)
        values["nll_mle"] = nll(r.sentences, r.ratings)
        rated = [j for j, rating in enumerate(r.ratings) if rating > 0]
        if rated:
            guess = classifier.predict(vectorizer.transform(docs([r.sentences[j] for j in rated])))
            values["rating_accuracy"] = float(np.mean(guess == np.asarray(r.ratings)[rated]))
        return values
    # "real": held-out validation reviews (test reviews are the references they would match)
    return cached(base / "quality" / f"seed{seed}.json",
                  lambda: {"real": measure(real["validation"]),
                           **{w: measure(fakes[w]["test"]) for w in WRITERS}})


def jax_nll(run, member: int):
    """(sentences, ratings) -> NLL per word (end of review included) under the run's member: of
    p(review | rating) for a rated review, and of the marginal sum_c p(c) p(review | c) (p(c) the
    training reviews' rating shares) for an unrated one (rating 0)."""
    import functools  # noqa: PLC0415

    import jax  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    from scipy.special import logsumexp  # noqa: PLC0415

    from gan_jax.detectors.text_cnn import Vocabulary  # noqa: PLC0415
    from gan_jax.training.state import apply_generator  # noqa: PLC0415

    text, state = run.setup.data.text, run.member(member)
    apply = jax.jit(functools.partial(apply_generator, run.setup.gan, state, "nll"))
    vocabulary = Vocabulary.of(text)
    prior = np.bincount(text.train_labels, minlength=5) / len(text.train_labels)

    def review_nll(ids, lengths, rating: int) -> np.ndarray:  # [n] nats of each whole review
        y = np.full(len(ids), rating, np.int32)
        per_token = np.concatenate([np.asarray(apply(ids[j:j + 256], y[j:j + 256]))
                                    for j in range(0, len(ids), 256)])
        return (per_token * (np.arange(text.max_length)[None] < lengths[:, None])).sum(axis=1)

    def nll(sentences, ratings) -> float:
        ids, ratings = vocabulary.ids(sentences), np.asarray(ratings)
        lengths = np.minimum([len(s) + 1 for s in sentences], text.max_length)
        by_class = np.stack([review_nll(ids, lengths, c) for c in range(5)], axis=1)  # [n, 5]
        rated = by_class[np.arange(len(ids)), np.maximum(ratings - 1, 0)]
        marginal = -logsumexp(-by_class + np.log(prior), axis=1)
        return float(np.where(ratings > 0, rated, marginal).sum() / lengths.sum())
    return nll


def over_seeds(per_seed: list[dict]) -> dict:
    """The same nested dict with each leaf metric's mean +- s.e. over seeds."""
    first = per_seed[0]
    if isinstance(first, dict) and not all(isinstance(v, (int, float)) for v in first.values()):
        return {k: over_seeds([d[k] for d in per_seed]) for k in first}
    return {k: mean_se([d[k] for d in per_seed]) for k in first}


def markdown(results: dict) -> str:
    m, lab, q = results["matrix"], results["labels"], results["quality"]
    lines = [f"# Review writers against detectors, budget `{results['budget']}`", "",
             f"Mean +- s.e. over seeds {results['seeds']}. Test: {results['sizes']['test']} real held-out "
             "reviews against as many of each writer's; thresholds from validation reviews only.", "",
             "## AUROC: detector (trained on source) x writer", "",
             "| source | detector | " + " | ".join(WRITERS) + " |", "|---|---|" + "---|" * len(WRITERS)]
    for source, by_det in m.items():
        for det, by_writer in by_det.items():
            cells = " | ".join(cell(by_writer[w]["auroc"]) for w in WRITERS)
            lines.append(f"| {source} | {det} | {cells} |")
    lines += ["", "## The key comparison: writers left out of both sources (" + ", ".join(LEFT_OUT) + ")", "",
              "| detector | metric | mle | mle+gan |", "|---|---|---|---|"]
    for det in detection.TRAINED:
        for metric in ("auroc", "accuracy", "detection_at_1fpr"):
            row = [cell(results["left_out"][s][det][metric]) for s in ("mle", "mle+gan")]
            lines.append(f"| {det} | {metric} | " + " | ".join(row) + " |")
    detectors = list(lab[next(iter(lab))])
    lines += ["", "## Label budgets (pool: real + MLE + GAN training reviews); AUROC averaged over "
              "writers", "", "| labels | " + " | ".join(detectors) + " |", "|---|" + "---|" * len(detectors)]
    for fraction, by_det in lab.items():
        lines.append(f"| {float(fraction):.0%} | " + " | ".join(cell(results["labels_mean"][fraction][d])
                                                             for d in by_det) + " |")
    metrics = ("bleu2", "bleu5", "self_bleu4", "frechet", "nll_mle", "rating_accuracy")
    lines += ["", "## Writer quality on test reviews", "", "| writer | " + " | ".join(metrics) + " |",
              "|---|" + "---|" * len(metrics)]
    for writer, values in q.items():
        lines.append(f"| {writer} | " + " | ".join(cell(values.get(k)) for k in metrics) + " |")
    lines += curves.markdown(results["curves"])
    run = results["run"]
    lines += ["", f"Commit {run['commit']}; writers trained in {run['process_seconds']} s."]
    return "\n".join(lines) + "\n"


def left_out_means(per_seed_matrix: list[dict]) -> dict:
    """source -> detector -> metric -> mean +- s.e. over seeds of the mean over LEFT_OUT writers."""
    out = {}
    for source in ("mle", "mle+gan"):
        for det in detection.TRAINED:
            for metric in ("auroc", "accuracy", "detection_at_1fpr"):
                values = [statistics.fmean(m[source][det][w][metric] for w in LEFT_OUT)
                          for m in per_seed_matrix]
                out.setdefault(source, {}).setdefault(det, {})[metric] = mean_se(values)
    return out


def main(argv: list[str] | None = None) -> int:
    args = budget_parser(__doc__, BUDGETS, HERE).parse_args(argv)
    budget = BUDGETS[args.budget]
    out = args.out.resolve()
    base = out / "runs" / args.budget
    base.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    pretrain, total = budget["pretrain"], budget["pretrain"] + budget["adversarial"]
    run_dir = base / "writers"

    if not (base / "mle").is_dir():  # stage 1a: pretraining, frozen as the MLE writer
        summary = train_writers(budget, run_dir, pretrain)
        if summary["step"] != pretrain:
            sys.exit(f"{run_dir} is past the end of pretraining ({pretrain}) and runs/<budget>/mle "
                     f"is missing; delete {base} to start over.")
        freeze(run_dir, pretrain, base / "mle")
    from gan_jax import data as data_lib  # noqa: PLC0415
    from gan_jax.config.saved import with_new_defaults  # noqa: PLC0415

    # settings added since the run was saved take their defaults (e.g. data.text_encoder)
    cfg = with_new_defaults(json.loads((base / "mle" / "config.json").read_text()))
    data = data_lib.build(cfg["data"])
    text = data.text
    for i, seed in enumerate(budget["seeds"]):  # the MLE writers' reviews, before G moves on
        fakes_of_seed(i, seed, budget, base, text, "mle")
    summary = train_writers(budget, run_dir, total)  # stage 1b: the adversarial phase
    print("writing and detecting", flush=True)
    matrices, label_runs, qualities = [], [], []
    for i, seed in enumerate(budget["seeds"]):
        fakes = fakes_of_seed(i, seed, budget, base, text, "all")
        matrices.append(matrix_of_seed(i, seed, budget, base, text, fakes))
        label_runs.append(label_budget_of_seed(seed, budget, base, text, fakes))
        qualities.append(quality_of_seed(i, seed, budget, base, data, fakes))
    labels = over_seeds(label_runs)
    labels_mean = {f: {d: mean_se([statistics.fmean(r[f][d][w]["auroc"] for w in WRITERS)
                                   for r in label_runs]) for d in label_runs[0][f]} for f in label_runs[0]}

    seconds = run_dir / "process_seconds.txt"
    results = {"budget": args.budget, "seeds": budget["seeds"], "sizes": budget["sizes"],
               "pretrain": pretrain, "adversarial": budget["adversarial"],
               "mle_temperatures": MLE_TEMPERATURES, "left_out_writers": LEFT_OUT,
               "matrix": over_seeds(matrices), "left_out": left_out_means(matrices),
               "labels": labels, "labels_mean": labels_mean, "quality": over_seeds(qualities),
               "per_seed": {"matrix": matrices, "labels": label_runs, "quality": qualities},
               "curves": curves.read(base, budget["seeds"]),
               "run": {"steps_per_second": summary["steps_per_second"],
                       "process_seconds": float(seconds.read_text()) if seconds.is_file() else None,
                       "commit": (stamped(run_dir) or {}).get("commit")},
               "hardware": hardware(devices=True), "wall_seconds": round(time.perf_counter() - start, 1)}
    write_results(out, args.budget, results, markdown(results))
    curves.plot(results["curves"], out / f"curves_{args.budget}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())

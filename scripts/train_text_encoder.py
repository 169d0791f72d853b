"""Train a sentence encoder of the text metrics (gan_jax.metrics.text_features) on a training split.

    python scripts/train_text_encoder.py                   # COCO captions: assets/text_encoder.*
    python scripts/train_text_encoder.py --corpus reviews  # the shop's reviews: assets/review_encoder.*
    python scripts/train_text_encoder.py --epochs 1 --out /tmp/te

--corpus coco reads the COCO training captions (--train); --corpus reviews the training split of
`data=reviews` at its defaults, as a text GAN sees it (the data's 5,000-word vocabulary, rarer
words as <unk>, reviews cut at a sentence end within 40 tokens); its validation and test reviews
are never read.

A next-word language model: the encoder's GRU states go through a dense layer to the embedding
size and are scored against the (tied) word embeddings. Only the training split is read; a seeded
5% of it is held out for the reported loss and next-word accuracy, and the vocabulary comes from
the other 95% (so held-out words can be unknown, as in a generator's samples). Words are replaced
by <unk> with probability --word-dropout, which trains the <unk> embedding. Adam with a cosine
decay, fixed seed; writes the corpus' weights file (text_features.ENCODERS; encoder weights only, no
LM head) and its .json (vocabulary, sizes, held-out numbers, this command) to --out.
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import shlex
import sys
import time

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax.metrics import text_features as tf

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_TRAIN = ROOT.parent / "shared/data/texygen_coco/train.txt"


def read_captions(path: pathlib.Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        sys.exit(f"error: cannot read captions from {path} ({e}); pass the training file as --train")
    sentences = [s for s in (tf.tokenize(line) for line in text.splitlines()) if s]
    if len(sentences) < 100:
        sys.exit(f"error: {path} has {len(sentences)} non-empty lines; the encoder needs at least 100")
    return sentences


def read_reviews() -> list[list[str]]:
    """The training reviews of data=reviews at its defaults, as words (rare ones as "<unk>")."""
    from omegaconf import OmegaConf  # noqa: PLC0415

    from gan_jax import data as data_lib  # noqa: PLC0415

    cfg = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "data" / "reviews.yaml"))
    text = data_lib.build(cfg).text
    return [text.decode(row) for row in text.train]


def build_vocabulary(sentences: list[list[str]]) -> tuple[str, ...]:
    # a corpus' own "<unk>" (reviews read through their data vocabulary) is the encoder's UNK
    counts = collections.Counter(w for s in sentences for w in s if w not in tf.SPECIALS)
    return tf.SPECIALS + tuple(sorted(counts, key=lambda w: (-counts[w], w)))


def lm_loss(module: tf.TextEncoder, params, inputs, ids, lengths):
    """(mean next-word cross-entropy, accuracy) over real positions (each word, then <eos>).

    `inputs` are `ids` with some words dropped to <unk>; the targets are always the true words."""
    _, states = module.apply({"params": params["encoder"]}, inputs, lengths)
    head = params["head"]
    logits = (states @ head["kernel"] + head["bias"]) @ params["encoder"]["embed"]["embedding"].T
    logits = logits + head["out_bias"]
    targets = jnp.concatenate([ids[:, 1:], jnp.zeros_like(ids[:, :1])], axis=1)  # EOS after the last
    mask = (jnp.arange(ids.shape[1])[None, :] < lengths[:, None]).astype(jnp.float32)
    nll = optax.softmax_cross_entropy_with_integer_labels(logits, targets)
    correct = (jnp.argmax(logits, -1) == targets).astype(jnp.float32)
    tokens = mask.sum()
    return (nll * mask).sum() / tokens, (correct * mask).sum() / tokens


def make_epoch(module, opt, batch_size: int, word_dropout: float):
    def epoch(state, key, ids, lengths):
        params, opt_state = state
        k_perm, k_drop = jax.random.split(key)
        steps = ids.shape[0] // batch_size
        order = jax.random.permutation(k_perm, ids.shape[0])[:steps * batch_size]

        def step(state, inputs):
            params, opt_state = state
            idx, k = inputs
            x, n = ids[idx], lengths[idx]
            drop = jax.random.bernoulli(k, word_dropout, x.shape) & (x > tf.UNK)
            x_in = jnp.where(drop, tf.UNK, x)  # the targets stay the true words
            loss_fn = lambda p: lm_loss(module, p, x_in, x, n)  # noqa: E731
            (loss, _), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
            updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        inputs = (order.reshape(steps, batch_size), jax.random.split(k_drop, steps))
        state, losses = jax.lax.scan(step, (params, opt_state), inputs)
        return state, losses.mean()

    return jax.jit(epoch, donate_argnums=0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", choices=sorted(tf.ENCODERS), default="coco",
                   help="which encoder to train (data.text_encoder names it)")
    p.add_argument("--train", type=pathlib.Path, default=DEFAULT_TRAIN,
                   help="--corpus coco: training captions, one a line")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=pathlib.Path, default=tf.ASSETS, help="folder for the two files")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    p.add_argument("--word-dropout", type=float, default=0.05)
    p.add_argument("--heldout-fraction", type=float, default=0.05)
    args = p.parse_args()

    start = time.perf_counter()
    name, weights_file = tf.ENCODERS[args.corpus]
    sentences = read_captions(args.train) if args.corpus == "coco" else read_reviews()
    perm = np.random.default_rng(args.seed).permutation(len(sentences))
    n_held = max(1, int(len(sentences) * args.heldout_fraction))
    fit = [sentences[i] for i in perm[n_held:]]
    held = [sentences[i] for i in perm[:n_held]]
    vocabulary = build_vocabulary(fit)
    max_length = max(len(s) for s in sentences) + 1  # + BOS: no training caption is cut
    module = tf.TextEncoder(len(vocabulary))
    probe = tf.Encoder(name, vocabulary, max_length, module.hidden_dim, None, None)
    fit_ids, fit_len = (jnp.asarray(a) for a in probe.encode(fit))
    held_ids, held_len = (jnp.asarray(a) for a in probe.encode(held))

    key, k_enc, k_head = jax.random.split(jax.random.key(args.seed), 3)
    head_init = jax.nn.initializers.lecun_normal()
    params = {"encoder": tf.init_params(module, k_enc, max_length),
              "head": {"kernel": head_init(k_head, (module.hidden_dim, module.embed_dim)),
                       "bias": jnp.zeros(module.embed_dim), "out_bias": jnp.zeros(len(vocabulary))}}
    steps = args.epochs * (len(fit) // args.batch_size)
    opt = optax.adam(optax.warmup_cosine_decay_schedule(0.0, args.lr, min(200, steps // 10), steps))
    state = (params, opt.init(params))
    epoch_fn = make_epoch(module, opt, args.batch_size, args.word_dropout)
    evaluate = jax.jit(lambda params: lm_loss(module, params, held_ids, held_ids, held_len))
    print(f"{len(fit)} training and {len(held)} held-out sentences, vocabulary {len(vocabulary)}, "
          f"max length {max_length}", flush=True)

    for epoch in range(1, args.epochs + 1):
        t = time.perf_counter()
        key, k = jax.random.split(key)
        state, loss = epoch_fn(state, k, fit_ids, fit_len)
        held_loss, held_acc = (float(v) for v in evaluate(state[0]))
        print(f"epoch {epoch}/{args.epochs}  train loss {float(loss):.4f}  held-out loss {held_loss:.4f}  "
              f"accuracy {held_acc:.4f}  ({time.perf_counter() - t:.0f} s)", flush=True)
    wall = time.perf_counter() - start

    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / weights_file.name
    weights.write_bytes(flax.serialization.to_bytes(jax.device_get(state[0]["encoder"])))
    meta = {
        "name": name,
        "corpus": args.corpus,
        "objective": "next-word language model (tied output embedding), word dropout to <unk>",
        "heldout_loss": round(held_loss, 4),
        "heldout_accuracy": round(held_acc, 4),
        "heldout_captions": len(held),
        "train_captions": len(fit),
        "embed_dim": module.embed_dim,
        "hidden_dim": module.hidden_dim,
        "max_length": max_length,
        "epochs": args.epochs,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "word_dropout": args.word_dropout,
        "train_seconds": round(wall),
        "jax": jax.__version__,
        "command": shlex.join(["python", "scripts/train_text_encoder.py", *sys.argv[1:]]),
        "vocabulary": list(vocabulary),
    }
    tf.metadata_path(weights).write_text(json.dumps(meta, indent=1) + "\n")
    print(f"held-out loss {held_loss:.4f}, next-word accuracy {held_acc:.4f}; wall time {wall:.0f} s")
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.2f} MB) and {tf.metadata_path(weights).name}")


if __name__ == "__main__":
    main()

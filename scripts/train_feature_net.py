"""Train the metrics' feature network (gan_jax.metrics.feature_net) on Fashion-MNIST.

    python scripts/train_feature_net.py                     # ships gan_jax/metrics/assets/
    python scripts/train_feature_net.py --epochs 2 --out /tmp/fn --allow-below-target

Adam with a warm-up then cosine decay, batch norm (folded into the convolutions for shipping),
random horizontal flips and shifts of up to 1 pixel, fixed seed. Prints the full 10k test split's
accuracy after every epoch; writes `feature_net.msgpack` and `feature_net.json` (test accuracy,
settings, this command) to --out, but only when the final accuracy reaches the target.
"""

from __future__ import annotations

import argparse
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

from gan_jax.data import fashion_mnist
from gan_jax.errors import UserError
from gan_jax.metrics import feature_net as fn

TARGET = 0.93
SHIFT = 1


def augment(key: jax.Array, x: jax.Array) -> jax.Array:
    """Flip half of the images left-right and shift each by up to SHIFT pixels (zero fill)."""
    n, h, w, _ = x.shape
    k_flip, k_shift = jax.random.split(key)
    flip = jax.random.bernoulli(k_flip, 0.5, (n, 1, 1, 1))
    x = jnp.where(flip, x[:, :, ::-1], x)
    padded = jnp.pad(x, ((0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT), (0, 0)))
    offsets = jax.random.randint(k_shift, (n, 2), 0, 2 * SHIFT + 1)
    crop = lambda img, o: jax.lax.dynamic_slice(img, (o[0], o[1], 0), (h, w, img.shape[-1]))  # noqa: E731
    return jax.vmap(crop)(padded, offsets)


def make_epoch(module: fn.FeatureNet, opt: optax.GradientTransformation, batch_size: int):
    """One epoch as one compiled call: a fresh permutation, then a scan over its batches."""

    def loss_fn(params, batch_stats, x, y):
        (_, logits), updated = module.apply({"params": params, "batch_stats": batch_stats}, x,
                                            train=True, mutable=["batch_stats"])
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, updated["batch_stats"]

    def epoch(state, key, images, labels):
        k_perm, k_aug = jax.random.split(key)
        steps = images.shape[0] // batch_size
        order = jax.random.permutation(k_perm, images.shape[0])[:steps * batch_size]

        def step(state, inputs):
            params, batch_stats, opt_state = state
            idx, k = inputs
            x = augment(k, images[idx].astype(jnp.float32) / 255.0)
            (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                params, batch_stats, x, labels[idx])
            updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), batch_stats, opt_state), loss

        inputs = (order.reshape(steps, batch_size), jax.random.split(k_aug, steps))
        state, losses = jax.lax.scan(step, state, inputs)
        return state, losses.mean()

    return jax.jit(epoch, donate_argnums=0)


def accuracy(extractor: fn.Extractor, images: np.ndarray, labels: np.ndarray) -> float:
    predicted = np.asarray(extractor.predict(images.astype(np.float32) / 255.0))
    return float((predicted == labels).mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=pathlib.Path, default=fn.ASSETS, help="folder for the two files")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    p.add_argument("--stages", default="32/64/128",
                   help="convolution widths, stages separated by '/', e.g. 32,32/64,64")
    p.add_argument("--allow-below-target", action="store_true",
                   help=f"write the weights even when test accuracy < {TARGET}")
    args = p.parse_args()

    start = time.perf_counter()
    try:
        train_x, train_y = fashion_mnist.load_numpy("train")
        test_x, test_y = fashion_mnist.load_numpy("test")
    except UserError as e:
        sys.exit(f"error: {e}")
    stages = tuple(tuple(int(w) for w in stage.split(",")) for stage in args.stages.split("/"))
    module = fn.FeatureNet(stages)  # what ships: the BN variant below with its statistics folded in
    trained = fn.FeatureNet(module.stages, module.feature_dim, batch_norm=True)
    steps = args.epochs * (len(train_x) // args.batch_size)
    schedule = optax.warmup_cosine_decay_schedule(0.0, args.lr, min(500, steps // 10), steps)
    opt = optax.adam(schedule)
    key, init_key = jax.random.split(jax.random.key(args.seed))
    variables = fn.init_variables(trained, init_key)
    state = (variables["params"], variables["batch_stats"], opt.init(variables["params"]))
    epoch_fn = make_epoch(trained, opt, args.batch_size)
    apply = fn.make_apply(module)
    images, labels = jnp.asarray(train_x), jnp.asarray(train_y)  # on the device once

    acc = 0.0
    for epoch in range(1, args.epochs + 1):
        t = time.perf_counter()
        key, k = jax.random.split(key)
        state, loss = epoch_fn(state, k, images, labels)
        params = fn.fold_batch_norm(state[0], state[1])
        extractor = fn.Extractor(fn.FEATURE_NET_NAME, acc, module.feature_dim, params, apply)
        acc = accuracy(extractor, test_x, test_y)  # through the same code path that ships
        print(f"epoch {epoch:2d}/{args.epochs}  loss {float(loss):.4f}  test accuracy {acc:.4f}  "
              f"({time.perf_counter() - t:.0f} s)", flush=True)
    wall = time.perf_counter() - start
    print(f"final test accuracy {acc:.4f} on {len(test_y)} images; wall time {wall:.0f} s")

    if acc < TARGET and not args.allow_below_target:
        sys.exit(f"error: test accuracy {acc:.4f} is below the target {TARGET}; weights not written. "
                 "Train longer (--epochs) or pass --allow-below-target to write them anyway.")
    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / fn.WEIGHTS.name
    weights.write_bytes(flax.serialization.to_bytes(jax.device_get(params)))
    meta = {
        "name": fn.FEATURE_NET_NAME,
        "test_accuracy": round(acc, 4),
        "test_images": len(test_y),
        "feature_dim": module.feature_dim,
        "stages": [list(stage) for stage in module.stages],
        "epochs": args.epochs,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "train_seconds": round(wall),
        "jax": jax.__version__,
        "command": shlex.join(["python", "scripts/train_feature_net.py", *sys.argv[1:]]),
    }
    fn.metadata_path(weights).write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {weights} ({weights.stat().st_size / 1e6:.2f} MB) and {fn.metadata_path(weights).name}")


if __name__ == "__main__":
    main()

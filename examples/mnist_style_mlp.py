"""Train an MLP on handwritten digits with pure functions: jit, Adam and a schedule.

The 8x8 digits dataset ships inside scikit-learn (the optional ``examples`` extra), so nothing
is downloaded. Without scikit-learn the script trains on a synthetic dataset of the same shape
and says so. With tqdm installed it shows a progress bar; with matplotlib it saves the loss
curve as a PNG.

    python -m pip install ".[examples]"
    python examples/mnist_style_mlp.py            # full run, >= 95% test accuracy
    python examples/mnist_style_mlp.py --quick    # a few steps, for tests
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

import funcdiff
import funcdiff.numpy as jnp
from funcdiff import nn, optim, random


def load_data(rng: np.random.Generator) -> tuple[tuple[np.ndarray, ...], str]:
    """Digits from scikit-learn, or a synthetic stand-in of the same shape."""
    try:
        from sklearn.datasets import load_digits  # noqa: PLC0415 - optional extra
    except ImportError:
        centers = rng.normal(size=(10, 64)) * 4.0
        labels = rng.integers(0, 10, size=1797)
        images = centers[labels] + rng.normal(size=(1797, 64))
        source = "a synthetic dataset (scikit-learn is not installed)"
    else:
        digits = load_digits()
        images, labels = digits.data, digits.target
        source = "scikit-learn's handwritten digits"
    images = (images - images.mean(0)) / (images.std(0) + 1e-6)
    order = rng.permutation(len(labels))
    images, labels = images[order], labels[order]
    split = int(0.8 * len(labels))
    return (images[:split], labels[:split], images[split:], labels[split:]), source


def init_params(key: Any, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    keys = random.split(key, len(sizes) - 1)
    init = nn.initializers.glorot_normal()
    return [{"w": init(k, (m, n)), "b": np.zeros(n)}
            for k, m, n in zip(keys, sizes[:-1], sizes[1:])]


def predict(params: list[dict[str, Any]], x: Any) -> Any:
    for layer in params[:-1]:
        x = jnp.tanh(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def loss_fn(params: list[dict[str, Any]], x: Any, y: Any) -> Any:
    logits = predict(params, x)
    return jnp.mean(nn.softmax_cross_entropy_with_integer_labels(logits, y))


def accuracy(params: list[dict[str, Any]], x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(predict(params, x), axis=-1) == y))


def progress(iterable: Any, total: int) -> Any:
    try:
        from tqdm import tqdm  # noqa: PLC0415 - optional extra
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc="training")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--quick", action="store_true", help="a few steps, for tests")
    parser.add_argument("--plot", default="loss_curve.png", help="where to save the PNG")
    args = parser.parse_args(argv)
    steps = 30 if args.quick else args.steps
    rng = np.random.default_rng(0)
    (x_train, y_train, x_test, y_test), source = load_data(rng)
    print(f"Training on {source}: {len(y_train)} train / {len(y_test)} test examples.")

    params = init_params(random.key(0), (64, 128, 64, 10))
    schedule = optim.warmup_cosine_decay_schedule(
        init_value=0.0, peak_value=3e-3, warmup_steps=max(steps // 20, 1), decay_steps=steps)
    opt = optim.adam(schedule)
    state = opt.init(params)

    @funcdiff.jit
    def step(params, state, x, y):
        loss, grads = funcdiff.value_and_grad(loss_fn)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, loss

    losses = []
    for _ in progress(range(steps), steps):
        idx = rng.integers(0, len(y_train), size=args.batch)
        params, state, loss = step(params, state, x_train[idx], y_train[idx])
        losses.append(float(loss))
    test_acc = accuracy(params, x_test, y_test)
    print(f"final training loss {np.mean(losses[-20:]):.4f}; test accuracy {test_acc:.3f}")
    try:
        import matplotlib  # noqa: PLC0415 - optional extra

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print("matplotlib is not installed: no loss curve saved.")
    else:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(losses)
        ax.set(xlabel="step", ylabel="training loss", yscale="log", title="MLP on digits")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"loss curve saved to {args.plot}")
    return 0 if args.quick or test_acc >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())

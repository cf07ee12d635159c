"""The four fundamental equations of backpropagation, by hand, checked against funcdiff.

A small sigmoid network with a quadratic cost. With z^l = w^l a^(l-1) + b^l, a^l = sigma(z^l),
and C = 1/2 ||a^L - y||^2, backpropagation is:

    BP1  delta^L = (a^L - y) * sigma'(z^L)
    BP2  delta^l = ((w^(l+1))^T delta^(l+1)) * sigma'(z^l)
    BP3  dC/db^l = delta^l
    BP4  dC/dw^l = delta^l (a^(l-1))^T

This script computes those four equations in plain NumPy and compares every weight and bias
gradient with `funcdiff.grad` of the cost, to 1e-10.

    python examples/backprop_by_hand.py
"""

from __future__ import annotations

import sys

import numpy as np

import funcdiff
import funcdiff.numpy as jnp

SIZES = (3, 4, 2)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def init(rng):
    return {
        "w": [rng.normal(size=(n, m)) for m, n in zip(SIZES[:-1], SIZES[1:])],
        "b": [rng.normal(size=n) for n in SIZES[1:]],
    }


def cost(params, x, y):
    """The network's cost, written once for funcdiff."""
    a = x
    for w, b in zip(params["w"], params["b"]):
        a = funcdiff.nn.sigmoid(w @ a + b)
    return 0.5 * jnp.sum((a - y) ** 2)


def backprop(params, x, y):
    """The four fundamental equations, by hand."""
    activations, zs = [x], []
    for w, b in zip(params["w"], params["b"]):
        zs.append(w @ activations[-1] + b)
        activations.append(sigmoid(zs[-1]))
    sigma_prime = [sigmoid(z) * (1 - sigmoid(z)) for z in zs]
    n = len(params["w"])
    deltas = [None] * n
    deltas[-1] = (activations[-1] - y) * sigma_prime[-1]  # BP1
    for layer in range(n - 2, -1, -1):
        deltas[layer] = (params["w"][layer + 1].T @ deltas[layer + 1]) * sigma_prime[layer]  # BP2
    grad_b = list(deltas)  # BP3
    grad_w = [np.outer(d, a) for d, a in zip(deltas, activations[:-1])]  # BP4
    return {"w": grad_w, "b": grad_b}


def main() -> int:
    rng = np.random.default_rng(0)
    params = init(rng)
    x, y = rng.normal(size=SIZES[0]), rng.uniform(size=SIZES[-1])
    by_hand = backprop(params, x, y)
    automatic = funcdiff.grad(cost)(params, x, y)
    worst = 0.0
    for kind in ("w", "b"):
        for layer, (h, a) in enumerate(zip(by_hand[kind], automatic[kind])):
            err = float(np.max(np.abs(h - a)))
            worst = max(worst, err)
            print(f"dC/d{kind}^{layer + 1}: max |by hand - funcdiff| = {err:.2e}")
    ok = worst <= 1e-10
    print(f"\nAll four equations agree with funcdiff.grad to 1e-10: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

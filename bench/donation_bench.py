"""The cost of `jit(..., donate_argnums=0)` per call: a donating SGD step against the same step
jitted without donation (the floor), in paired rounds. Each step feeds its result to the next
call, as a training loop does, so the donating side deletes the previous parameters every time.

The cases: one small array (where the per-call bookkeeping shows most) and a dict of 8
parameter arrays of 100x100.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/donation_bench.py
    python bench/donation_bench.py --quick      (a smoke run: few rounds)
"""

from __future__ import annotations

import sys

from _paired import header, paired_ratios, ratio_table

import funcdiff
import funcdiff.numpy as jnp


def step(params, grads):
    return funcdiff.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)


def looping(fn, params, grads):
    state = [params]

    def call():
        state[0] = fn(state[0], grads)

    return call


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    print(header("jit with donate_argnums=0 against jit without donation"))
    plain, donating = funcdiff.jit(step), funcdiff.jit(step, donate_argnums=0)
    cases = {
        "one f64[3]": (jnp.ones(3), jnp.ones(3)),
        "dict of 8 f64[100,100]": (
            {f"w{i}": jnp.ones((100, 100)) for i in range(8)},
            {f"w{i}": jnp.ones((100, 100)) for i in range(8)},
        ),
    }
    for name, (params, grads) in cases.items():
        copy = funcdiff.tree_util.tree_map(lambda a: jnp.array(a), params)
        results = paired_ratios(
            [
                ("jit", looping(plain, params, grads)),
                ("jit, donate_argnums=0", looping(donating, copy, grads)),
            ],
            rounds=3 if quick else 30,
            number=5 if quick else 200,
        )
        print(f"\n### {name}\n")
        print(ratio_table(results))


if __name__ == "__main__":
    main()

"""funcdiff.random: Threefry against an independent reference, pinned values, statistics."""

import math

import numpy as np
import pytest

import funcdiff
from funcdiff import random

# ---- an independent pure-Python Threefry-2x32 (20 rounds), from the published constants ------

MASK = 0xFFFFFFFF
ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
PARITY = 0x1BD11BDA


def threefry_reference(key, counter):
    k0, k1 = key
    x0, x1 = counter
    keys = (k0, k1, k0 ^ k1 ^ PARITY)
    x0, x1 = (x0 + keys[0]) & MASK, (x1 + keys[1]) & MASK
    for i in range(20):
        r = ROTATIONS[i % 8]
        x0 = (x0 + x1) & MASK
        x1 = (((x1 << r) | (x1 >> (32 - r))) & MASK) ^ x0
        if i % 4 == 3:  # key injection after every four rounds
            s = i // 4 + 1
            x0 = (x0 + keys[s % 3]) & MASK
            x1 = (x1 + keys[(s + 1) % 3] + s) & MASK
    return x0, x1


def as_ints(a):
    return [int(v) for v in np.asarray(a).ravel()]


# Known-answer vectors of Threefry-2x32-20 published with Random123 (Salmon et al., 2011).
KNOWN_ANSWERS = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize("key,counter,expected", KNOWN_ANSWERS)
def test_threefry_known_answers(key, counter, expected):
    assert threefry_reference(key, counter) == expected
    y0, y1 = random.threefry_2x32(
        np.array(key, np.uint32), np.array([counter[0]], np.uint32),
        np.array([counter[1]], np.uint32),
    )
    assert (int(y0[0]), int(y1[0])) == expected


def test_threefry_matches_the_reference_on_random_inputs():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**32, size=(5, 2), dtype=np.uint64)
    counters = rng.integers(0, 2**32, size=(2, 50), dtype=np.uint64)
    for k in keys:
        y0, y1 = random.threefry_2x32(
            k.astype(np.uint32), counters[0].astype(np.uint32), counters[1].astype(np.uint32)
        )
        want = [threefry_reference(as_ints(k), (int(a), int(b))) for a, b in counters.T]
        assert list(zip(as_ints(y0), as_ints(y1), strict=True)) == want


def test_keys_splits_and_bits_follow_the_documented_counter_layout():
    # key(seed) = [high word, low word]; split(key, n)[i] = threefry(key, (0, i));
    # fold_in(key, d) = threefry(key, (0, d)); 32-bit word i = xor of threefry(key, (0, i));
    # 64-bit word i = concatenation of threefry(key, (0, i)).
    assert as_ints(random.key(2**40 + 7)) == [2**8, 7]
    key = as_ints(random.key(1234))
    assert as_ints(random.split(np.array(key, np.uint32), 3)) == [
        w for i in range(3) for w in threefry_reference(key, (0, i))
    ]
    assert as_ints(random.fold_in(np.array(key, np.uint32), 99)) == list(
        threefry_reference(key, (0, 99))
    )
    words = [threefry_reference(key, (0, i)) for i in range(4)]
    assert as_ints(random.bits(np.array(key, np.uint32), (2, 2))) == [a ^ b for a, b in words]
    assert as_ints(random.bits(np.array(key, np.uint32), (4,), np.uint64)) == [
        (a << 32) | b for a, b in words
    ]


# ---- pinned values (computed once with this implementation; they also equal jax.random's
# outputs for the same keys, with JAX's default partitionable Threefry and 64-bit mode) --------


def test_pinned_values():
    assert as_ints(random.key(0)) == [0, 0]
    assert as_ints(random.key(-1)) == [2**32 - 1, 2**32 - 1]
    assert random.split(random.key(0)).tolist() == [
        [1797259609, 2579123966], [928981903, 3453687069]
    ]
    assert random.split(random.key(42), 3).tolist() == [
        [1832780943, 270669613], [64467757, 2916123636], [2465931498, 255383827]
    ]
    assert random.fold_in(random.key(1), 5).tolist() == [3243370355, 1313272271]
    assert random.bits(random.key(7), (4,)).tolist() == [
        2895194379, 4185947648, 1300703658, 1906787632
    ]
    assert random.uniform(random.key(0), (4,)).tolist() == [
        0.41845711171638644, 0.21629545460551136, 0.9653214611189975, 0.5745005337275046
    ]
    assert random.uniform(random.key(0), (4,), np.float32).tolist() == [
        0.9476670026779175, 0.9785798788070679, 0.33229148387908936, 0.46866846084594727
    ]
    assert random.randint(random.key(3), (6,), 0, 10).tolist() == [7, 8, 8, 9, 9, 8]
    assert random.permutation(random.key(3), 8).tolist() == [3, 2, 4, 1, 5, 7, 6, 0]
    # through exp/log/erf: equal up to the platform's maths library
    np.testing.assert_allclose(
        random.normal(random.key(0), (4,)),
        [-0.20584213947964347, -0.7847657764467411, 1.816086672667984, 0.18784401289378871],
        rtol=1e-13,
    )
    np.testing.assert_allclose(
        random.normal(random.key(0), (3,), np.float32),
        [1.6226420402526855, 2.0252647399902344, -0.43359437584877014], rtol=1e-6,
    )


def test_the_same_key_gives_the_same_numbers_and_global_state_is_untouched():
    key = random.key(5)
    np.random.seed(0)
    a = random.normal(key, (100,))
    np.random.seed(1)
    state = np.random.get_state()[1].copy()
    b = random.normal(key, (100,))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


# ---- statistics -------------------------------------------------------------------------------


def ks_distance(samples, cdf):
    x = np.sort(samples)
    n = len(x)
    f = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


def normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


N = 20_000
KS_LIMIT = 1.63 / math.sqrt(N)  # 1% level of the Kolmogorov-Smirnov statistic


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_is_uniform(dtype):
    u = random.uniform(random.key(1), (N,), dtype)
    assert u.dtype == dtype and u.min() >= 0 and u.max() < 1
    assert ks_distance(u.astype(np.float64), lambda x: x) < KS_LIMIT
    v = random.uniform(random.key(2), (N,), dtype, minval=-3.0, maxval=5.0)
    assert v.min() >= -3 and v.max() < 5
    assert ks_distance(v.astype(np.float64), lambda x: (x + 3) / 8) < KS_LIMIT


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_normal_is_normal(dtype):
    z = random.normal(random.key(3), (N,), dtype)
    assert z.dtype == dtype and np.all(np.isfinite(z))
    assert ks_distance(z.astype(np.float64), normal_cdf) < KS_LIMIT + (
        2e-3 if dtype == np.float16 else 0
    )
    assert abs(z.astype(np.float64).mean()) < 4 / math.sqrt(N)


def test_truncated_normal_respects_bounds_and_matches_the_truncated_distribution():
    lo, hi = -0.5, 2.0
    z = random.truncated_normal(random.key(4), lo, hi, (N,))
    assert z.min() >= lo and z.max() <= hi

    def cdf(x):
        return (normal_cdf(x) - normal_cdf(lo)) / (normal_cdf(hi) - normal_cdf(lo))

    assert ks_distance(z, cdf) < KS_LIMIT
    tail = random.truncated_normal(random.key(5), 3.0, np.inf, (1000,), np.float32)
    assert tail.dtype == np.float32 and tail.min() >= 3.0 and np.all(np.isfinite(tail))
    per_row = random.truncated_normal(random.key(6), np.array([0.0, -1.0]), np.array([0.1, 1.0]))
    assert per_row.shape == (2,) and 0 <= per_row[0] <= 0.1 and -1 <= per_row[1] <= 1


def test_erf_inv_inverts_erf():
    x = np.concatenate([np.linspace(-0.999, 0.999, 2001), 1 - np.logspace(-15, -2, 50)])
    y = random.erf_inv(x)
    back = np.array([math.erf(v) for v in y])
    np.testing.assert_allclose(back, x, rtol=4e-16, atol=4e-16)
    assert random.erf_inv(np.array([1.0, -1.0])).tolist() == [np.inf, -np.inf]
    y32 = random.erf_inv(np.float32(0.5))
    assert y32.dtype == np.float32 and abs(float(y32) - 0.4769362762044699) < 6e-8


def test_gumbel_and_bernoulli_and_categorical():
    g = random.gumbel(random.key(7), (N,))
    assert ks_distance(g, lambda x: np.exp(-np.exp(-x))) < KS_LIMIT
    b = random.bernoulli(random.key(8), 0.3, (N,))
    assert b.dtype == np.bool_ and abs(b.mean() - 0.3) < 4 * math.sqrt(0.21 / N)
    p = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    draws = random.categorical(random.key(9), np.log(p), shape=(N, 2))
    assert draws.shape == (N, 2) and draws.dtype == np.int64
    for row in range(2):
        counts = np.bincount(draws[:, row], minlength=3)
        chi2 = np.sum((counts - N * p[row]) ** 2 / (N * p[row]))
        assert chi2 < 9.21  # 1% level, 2 degrees of freedom
    impossible = random.categorical(random.key(10), np.array([0.0, -np.inf, 0.0]), shape=(500,))
    assert 1 not in impossible.tolist()
    along_0 = random.categorical(random.key(11), np.log(p.T), axis=0)
    assert along_0.shape == (2,)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64, np.uint32])
def test_randint_is_uniform_over_its_range(dtype):
    draws = random.randint(random.key(12), (N,), 3, 13, dtype)
    assert draws.dtype == dtype and draws.min() == 3 and draws.max() == 12
    counts = np.bincount(draws.astype(np.int64) - 3, minlength=10)
    chi2 = np.sum((counts - N / 10) ** 2 / (N / 10))
    assert chi2 < 21.67  # 1% level, 9 degrees of freedom


def test_randint_bounds():
    info = np.iinfo(np.uint8)
    everything = random.randint(random.key(13), (5000,), 0, 256, np.uint8)
    assert everything.min() == info.min and everything.max() == info.max
    full = random.randint(random.key(14), (100,), np.iinfo(np.int64).min, np.iinfo(np.int64).max)
    assert full.dtype == np.int64 and (full < 0).any() and (full > 0).any()
    assert random.randint(random.key(15), (3,), 5, 5).tolist() == [5, 5, 5]
    per_row = random.randint(random.key(16), (1000, 2), np.array([0, 100]), np.array([2, 103]))
    assert set(per_row[:, 0].tolist()) == {0, 1} and set(per_row[:, 1].tolist()) == {100, 101, 102}


def test_permutation_is_a_uniform_shuffle():
    assert sorted(random.permutation(random.key(17), 50).tolist()) == list(range(50))
    rows = random.permutation(random.key(18), np.tile(np.arange(4), (800, 1)), axis=1,
                              independent=True)
    counts = np.bincount(rows[:, 0], minlength=4)
    assert np.sum((counts - 200) ** 2 / 200) < 11.34  # 1% level, 3 degrees of freedom
    x = np.arange(12).reshape(3, 4)
    rows = random.permutation(random.key(19), x, axis=1)
    assert sorted(rows[0].tolist()) == [0, 1, 2, 3]
    np.testing.assert_array_equal(rows, x[:, rows[0]])  # every row shuffled the same way
    independent = random.permutation(random.key(20), np.tile(np.arange(6), (50, 1)), axis=1,
                                     independent=True)
    assert all(sorted(r) == list(range(6)) for r in independent.tolist())
    assert len({tuple(r) for r in independent.tolist()}) > 30


def test_choice():
    draws = random.choice(random.key(21), 5, (N,))
    assert set(draws.tolist()) == set(range(5))
    p = np.array([0.1, 0.0, 0.6, 0.3])
    weighted = random.choice(random.key(22), np.array([10, 20, 30, 40]), (N,), p=p)
    counts = np.array([np.sum(weighted == v) for v in (10, 20, 30, 40)])
    assert counts[1] == 0
    assert np.sum((counts[[0, 2, 3]] - N * p[[0, 2, 3]]) ** 2 / (N * p[[0, 2, 3]])) < 9.21
    distinct = random.choice(random.key(23), 10, (2, 5), replace=False)
    assert sorted(distinct.ravel().tolist()) == list(range(10))
    weighted_distinct = random.choice(random.key(24), 6, (3,), replace=False, p=np.ones(6) / 6)
    assert len(set(weighted_distinct.tolist())) == 3
    columns = random.choice(random.key(25), np.arange(12).reshape(3, 4), (2,), axis=1)
    assert columns.shape == (3, 2)
    with pytest.raises(ValueError, match="without replacement"):
        random.choice(random.key(26), 3, (4,), replace=False)


def test_split_streams_are_independent():
    keys = random.split(random.key(27), 4)
    streams = np.stack([random.uniform(k, (N,)) for k in keys])
    corr = np.corrcoef(streams)
    off_diagonal = corr[~np.eye(4, dtype=bool)]
    assert np.max(np.abs(off_diagonal)) < 4 / math.sqrt(N)
    parent = random.uniform(random.key(27), (N,))
    assert abs(np.corrcoef(parent, streams[0])[0, 1]) < 4 / math.sqrt(N)
    # sibling keys' bits agree on about half of their bits
    a = random.bits(keys[0], (2000,))
    b = random.bits(keys[1], (2000,))
    same = np.unpackbits(np.bitwise_not(a ^ b).view(np.uint8)).mean()
    assert abs(same - 0.5) < 0.01
    folded = np.stack([random.uniform(random.fold_in(random.key(28), i), (N,)) for i in range(3)])
    assert np.max(np.abs(np.corrcoef(folded)[~np.eye(3, dtype=bool)])) < 4 / math.sqrt(N)


def test_shapes_and_dtypes():
    key = random.key(29)
    assert random.uniform(key).shape == ()
    assert random.normal(key, 3).shape == (3,)
    assert random.uniform(key, (2, 0, 3)).shape == (2, 0, 3)
    assert random.split(key, (2, 3)).shape == (2, 3, 2)
    assert random.bits(key, (2,), np.uint64).dtype == np.uint64
    assert random.uniform(key, (2,), np.float16).dtype == np.float16
    assert random.bernoulli(key, np.array([0.1, 0.9])).shape == (2,)
    assert random.PRNGKey(3).tolist() == random.key(3).tolist()


# ---- tracing and errors -----------------------------------------------------------------------


def test_samplers_trace_with_traced_keys():
    key = random.key(30)

    def sample(key):
        k1, k2, k3 = random.split(key, 3)
        return (random.normal(k1, (3,)), random.randint(k2, (2,), 0, 9),
                random.permutation(random.fold_in(k3, 2), 5), random.bernoulli(k3, 0.5, (2,)))

    jaxpr = funcdiff.make_jaxpr(sample)(key)
    for staged, eager in zip(jaxpr(key), sample(key), strict=True):
        np.testing.assert_array_equal(staged, eager)
    seeded = funcdiff.make_jaxpr(lambda s: random.key(s))(np.int64(-5))
    assert seeded(np.int64(-5))[0].tolist() == random.key(-5).tolist()


SAMPLERS = {
    "split": lambda k: random.split(k, 3),
    "fold_in": lambda k: random.fold_in(k, 7),
    "bits": lambda k: random.bits(k, (3,), np.uint64),
    "uniform": lambda k: random.uniform(k, (3,), np.float32, -1.0, 2.0),
    "normal": lambda k: random.normal(k, (4,)),
    "truncated_normal": lambda k: random.truncated_normal(k, -1.0, 0.5, (4,)),
    "gumbel": lambda k: random.gumbel(k, (2,)),
    "bernoulli": lambda k: random.bernoulli(k, 0.3, (5,)),
    "categorical": lambda k: random.categorical(k, np.log([[0.2, 0.8], [0.5, 0.5]])),
    "randint": lambda k: random.randint(k, (4,), -3, 9, np.int32),
    "permutation": lambda k: random.permutation(k, np.arange(12).reshape(3, 4), axis=1),
    "independent": lambda k: random.permutation(k, np.arange(12).reshape(3, 4), 1, True),
    "choice": lambda k: random.choice(k, 8, (3,), replace=False, p=np.arange(1.0, 9.0)),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_samplers_under_jit_and_vmap_give_the_eager_numbers(name):
    sample = SAMPLERS[name]
    key = random.key(32)
    keys = random.split(key, 3)
    eager = sample(key)
    np.testing.assert_array_equal(funcdiff.jit(sample)(key), eager)
    looped = np.stack([sample(k) for k in keys])
    batched = funcdiff.vmap(sample)(keys)
    assert batched.dtype == looped.dtype
    np.testing.assert_array_equal(batched, looped)


def test_uniform_gradient_with_respect_to_its_bounds():
    key = random.key(31)
    u01 = random.uniform(key, (4,))
    grad = funcdiff.grad(lambda hi: funcdiff.numpy.sum(random.uniform(key, (4,), maxval=hi)))
    np.testing.assert_allclose(grad(2.0), np.sum(u01))


@pytest.mark.parametrize("seed", [2**63, 2**64 - 1, -(2**63) - 1, 2**64])
def test_key_refuses_a_python_int_seed_out_of_int64_as_jax(seed):
    # A Python int seed in [2**63, 2**64) was taken modulo 2**64: 2**63 gave the key of
    # -2**63 (JAX: OverflowError for any Python int outside int64).
    with pytest.raises(OverflowError, match=r"\[-2\*\*63, 2\*\*63\)"):
        random.key(seed)
    with pytest.raises(OverflowError):
        random.PRNGKey(seed)
    # the bounds themselves, and a NumPy uint64 using all 64 bits, as JAX (x64) gives them
    assert random.key(2**63 - 1).tolist() == [2**31 - 1, 2**32 - 1]
    assert random.key(-(2**63)).tolist() == [2**31, 0]
    assert random.key(np.uint64(2**64 - 1)).tolist() == [2**32 - 1, 2**32 - 1]


def test_errors_explain_what_a_key_is():
    with pytest.raises(TypeError, match="random.key\\(seed\\)"):
        random.normal(0, (3,))
    with pytest.raises(TypeError, match="keys\\[0\\]"):
        random.normal(random.split(random.key(0), 2), (3,))
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        random.uniform(random.key(0), (2,), np.int32)
    with pytest.raises(TypeError, match="integer dtype"):
        random.randint(random.key(0), (2,), 0, 3, np.float64)
    with pytest.raises(TypeError, match="seed must be"):
        random.key(1.5)

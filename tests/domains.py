"""Where test values are drawn from: one `Domain` type and one `sample` function, shared by
every table of tests (`lax_table.py`, `numpy_table.py` and the tables built on them).

A `Domain` says which values are valid inputs: a float range (optionally with random signs,
on a grid, away from a grid, without ties, with exact zeros or with NaN and infinities) and an
integer range. ``domain(shape, dtype, seed=...)`` draws a deterministic array of any dtype
kind from it, so that one domain serves a record's float, complex, integer and boolean
checks; `draw_array` draws one inside a hypothesis strategy.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from dataclasses import dataclass

import numpy as np
from strategies import seeds


@dataclass(frozen=True)
class Domain:
    """Floats are uniform in ``[lo, hi]``; with `signed`, ``|x|`` is uniform in ``[lo, hi]``
    with a random sign (keeping away from 0; booleans are then all True); `step` rounds to
    multiples (to make ties and equalities likely); `away_from` = ``(step, margin, offset)``
    keeps values at least `margin` from every ``offset + k * step`` (the jumps of floor and
    round, the kinks of max and clamp); `distinct` spreads values without ties (max/min
    reductions, sorting); `zeros` makes that fraction of the entries exactly zero; `specials`
    puts NaN and infinities (or only NaN with `nan_only`) in a quarter of the places.
    Integers are uniform in ``[ilo, ihi]``. Complex values draw their real and imaginary
    parts alike."""

    lo: float = -2.0
    hi: float = 2.0
    signed: bool = False
    step: float | None = None
    specials: bool = False
    nan_only: bool = False
    ilo: int = -5
    ihi: int = 5
    away_from: tuple[float, float, float] | None = None
    distinct: bool = False
    zeros: float = 0.0

    def __call__(self, shape, dtype=np.float64, seed=None) -> np.ndarray:
        return sample(seed, tuple(shape), dtype, self)


def uniform(lo: float, hi: float) -> Domain:
    """Uniform floats in ``[lo, hi]``, integers in ``[int(lo), int(hi)]``."""
    return Domain(lo, hi, ilo=int(lo), ihi=int(hi))


def nonzero(lo: float = 0.25, hi: float = 2.0) -> Domain:
    """Magnitudes in ``[lo, hi]`` with random signs: away from zero (abs, sign, division,
    negative powers)."""
    return Domain(lo, hi, signed=True, ilo=max(1, math.ceil(lo)), ihi=max(1, int(hi)))


def off_grid(
    step: float = 1.0, margin: float = 0.15, offset: float = 0.0, lo: float = -2.5, hi: float = 2.5
) -> Domain:
    """Values in ``[lo, hi]`` at least `margin` away from every ``offset + k * step``."""
    return Domain(lo, hi, ilo=int(lo), ihi=int(hi), away_from=(step, margin, offset))


def with_zeros(domain: Domain, fraction: float = 1 / 3) -> Domain:
    """`domain` with about `fraction` of the entries exactly zero (products, whose derivatives
    must not divide by a factor)."""
    return dataclasses.replace(domain, zeros=fraction)


_ANY = Domain()  # floats in [-2, 2], integers in [-5, 5]
DEFAULT = uniform(-2.0, 2.0)
DISTINCT = Domain(distinct=True)
NONFINITE = Domain(specials=True, ilo=-2, ihi=2)


def sample(seed: int | None, shape: tuple[int, ...], dtype, domain: Domain = _ANY) -> np.ndarray:
    """A deterministic array of `shape` and `dtype` drawn from `domain`."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        if domain.signed:
            return np.ones(shape, bool)
        return rng.integers(0, 2, size=shape).astype(bool)
    if domain.distinct:
        return _distinct(rng, shape, dtype, domain)
    if dtype.kind in "iu":
        lo, hi = domain.ilo, domain.ihi
        if dtype.kind == "u":
            lo, hi = max(lo, 0), max(hi, 0)
        out = rng.integers(lo, hi + 1, size=shape)
        if domain.signed:
            out = out * rng.choice(np.array([-1, 1]), size=shape)
            if dtype.kind == "u":
                out = np.abs(out)
        x = np.asarray(out).astype(dtype)
    else:

        def real() -> np.ndarray:
            if domain.away_from is not None:
                return _away_from_grid(rng, shape, domain)
            x = np.asarray(rng.uniform(domain.lo, domain.hi, size=shape))
            if domain.signed:
                x = x * rng.choice(np.array([-1.0, 1.0]), size=shape)
            if domain.step:
                x = np.round(x / domain.step) * domain.step
            if domain.specials:
                values = np.array([np.nan] if domain.nan_only else [np.nan, np.inf, -np.inf])
                x = np.where(rng.random(shape) < 0.25, rng.choice(values, size=shape), x)
            return x

        x = real()
        if dtype.kind == "c":
            z = np.empty(np.shape(x), dtype)
            z.real, z.imag = x, real()
            x = z
        x = np.asarray(x).astype(dtype)
    if domain.zeros:
        zero = np.random.default_rng(seed).random(shape) < domain.zeros
        x = np.where(zero, np.zeros((), x.dtype), x)
    return x


def _away_from_grid(rng: np.random.Generator, shape, domain: Domain) -> np.ndarray:
    step, margin, offset = domain.away_from  # type: ignore[misc]
    k_lo = int(np.floor((domain.lo - offset) / step))
    k_hi = int(np.ceil((domain.hi - offset) / step))
    cell = rng.integers(k_lo, k_hi, size=shape)
    return offset + cell * step + rng.uniform(margin, step - margin, size=shape)


def _distinct(rng: np.random.Generator, shape, dtype: np.dtype, domain: Domain) -> np.ndarray:
    """Values that differ pairwise by at least half of ``(hi - lo) / size``."""
    size = int(np.prod(shape, dtype=np.int64))
    order = rng.permutation(size).reshape(shape)
    if dtype.kind in "iu":
        return (order + (int(domain.lo) if dtype.kind == "i" else 0)).astype(dtype)
    width = (domain.hi - domain.lo) / max(size, 1)
    return (domain.lo + (order + rng.uniform(0.0, 0.5, size=shape)) * width).astype(dtype)


# How many arrays each example has drawn so far: the k-th array of an example mixes k into
# its seed, so that arrays drawn from equal seeds (hypothesis's simplest examples) differ.
_DRAWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def draw_array(draw, shape, dtype, domain: Domain = _ANY) -> np.ndarray:
    """An array from `domain` inside a hypothesis strategy (`draw` draws its seed)."""
    owner = getattr(draw, "__self__", None)
    k = _DRAWN.get(owner, 0) if owner is not None else 0
    if owner is not None:
        _DRAWN[owner] = k + 1
    return sample((draw(seeds) + 1_000_003 * k) % 2**63, tuple(shape), dtype, domain)

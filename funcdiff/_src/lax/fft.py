"""Fast Fourier transforms: `fft`, one primitive for the four transforms of `jax.lax.fft`.

The transform acts on the trailing ``len(fft_lengths)`` dimensions of its operand, with
NumPy's "backward" normalisation (forward transforms unscaled, inverse ones divided by the
number of points). `funcdiff.numpy.fft` moves axes, pads, crops and rescales around it.

Derivatives. Every transform is linear, so its JVP is the transform of the tangent. Reverse
mode needs the transpose with respect to the pairing funcdiff (and JAX) uses for complex
values, ``<a, b> = Re(sum(a * b))`` with no conjugation:

* ``FFT`` and ``IFFT`` are symmetric matrices (``F[k, j] = exp(-2 pi i k j / n)``), so each
  is its own transpose.
* ``RFFT`` is ``P F`` restricted to real inputs, ``P`` keeping the ``n // 2 + 1`` first
  frequencies; its transpose is ``x_bar = Re(F P^T ct)``. Written as an inverse real
  transform, ``x_bar = N * IRFFT(conj(ct) * w)``, with ``w = 1`` at the frequencies that
  appear once in a full spectrum (0, and ``n / 2`` for even ``n``) and ``w = 1 / 2`` at the
  others, which IRFFT counts twice (as themselves and as their conjugate mirror).
* ``IRFFT`` computes ``y_j = (1 / N) Re(sum_k c_k z_k exp(2 pi i k j / n))`` with ``c_k = 2``
  at the mirrored frequencies and 1 at the others (only the real part of those enters), so
  its transpose is ``z_bar = conj(RFFT(ct)) * c / N``.

In several dimensions the leading axes are plain complex transforms, whose transposes commute
with the conjugation and the weights along the last axis, so the same two formulas hold with
``N`` the product of the lengths.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcdiff._src import core, dtypes
from funcdiff._src.core import ShapedArray
from funcdiff._src.errors import PrimitiveError
from funcdiff._src.interpreters import cost as cost_mod
from funcdiff._src.lax import elementwise as ew
from funcdiff._src.lax._define import define_primitive
from funcdiff._src.lax.structural import moveaxis

Array = Any


class FftType(enum.IntEnum):
    """The transform computed by `funcdiff.lax.fft` (JAX's `jax.lax.FftType`).

    - `FFT`: complex to complex, forward (no scaling).
    - `IFFT`: complex to complex, inverse (divided by the number of points).
    - `RFFT`: real to the non-negative half of the spectrum (``n // 2 + 1`` frequencies).
    - `IRFFT`: half spectrum back to real, inverse (divided by the number of points).
    """

    FFT = 0
    IFFT = 1
    RFFT = 2
    IRFFT = 3

    def __str__(self) -> str:  # how jaxprs print it: fft_type=RFFT
        return self.name


_NUMPY_FUNCTIONS = {
    FftType.FFT: "fftn",
    FftType.IFFT: "ifftn",
    FftType.RFFT: "rfftn",
    FftType.IRFFT: "irfftn",
}


def _axes(ndim: int, fft_lengths: Sequence[int]) -> tuple[int, ...]:
    return tuple(range(ndim - len(fft_lengths), ndim))


def _fft_impl(x, *, fft_type, fft_lengths):
    x = np.asarray(x)
    fn = getattr(np.fft, _NUMPY_FUNCTIONS[fft_type])
    axes = _axes(x.ndim, fft_lengths)
    out = fn(x, s=fft_lengths, axes=axes) if fft_type is FftType.IRFFT else fn(x, axes=axes)
    return out.astype(_out_dtype(x.dtype, fft_type), copy=False)


def _out_dtype(dtype: np.dtype, fft_type: FftType) -> np.dtype:
    if fft_type is FftType.RFFT:
        return np.dtype(np.complex64 if dtype == np.float32 else np.complex128)
    if fft_type is FftType.IRFFT:
        return dtypes.real_dtype(dtype)
    return dtype


def _fft_aval(x: ShapedArray, *, fft_type, fft_lengths) -> ShapedArray:
    k = len(fft_lengths)
    if not 1 <= k <= x.ndim:
        raise PrimitiveError(
            f"fft_lengths {fft_lengths} names {k} trailing dimensions, but the operand has "
            f"{x.ndim}: pass one length per transformed (trailing) dimension"
        )
    if any(n < 1 for n in fft_lengths):
        raise PrimitiveError(f"fft_lengths {fft_lengths} must be positive")
    wanted = "f" if fft_type is FftType.RFFT else "c"
    if x.dtype.kind != wanted or x.dtype.itemsize < (4 if wanted == "f" else 8):
        kind = "a float32/float64" if wanted == "f" else "a complex64/complex128"
        raise PrimitiveError(
            f"{fft_type} needs {kind} operand, got {x.dtype}: convert it first (funcdiff.lax.fft "
            "does so for real and integer operands)"
        )
    lead, trailing = x.shape[:-k], x.shape[-k:]
    expected = tuple(fft_lengths)
    if fft_type is FftType.IRFFT:
        expected = expected[:-1] + (fft_lengths[-1] // 2 + 1,)
    if trailing != expected:
        raise PrimitiveError(
            f"{fft_type} with fft_lengths {fft_lengths} needs trailing dimensions {expected}, "
            f"got an operand of shape {x.shape}: pad or crop the operand first"
        )
    shape = lead + tuple(fft_lengths)
    if fft_type is FftType.RFFT:
        shape = shape[:-1] + (fft_lengths[-1] // 2 + 1,)
    return ShapedArray(shape, _out_dtype(x.dtype, fft_type))


def _half_spectrum_weights(n: int, dtype: np.dtype, once: float, twice: float) -> np.ndarray:
    """Along the last axis of a half spectrum of ``n`` points: `once` at the frequencies a
    full spectrum holds once (0, and n / 2 for even n), `twice` at those it mirrors."""
    w = np.full(n // 2 + 1, twice, dtypes.real_dtype(dtype))
    w[0] = once
    if n % 2 == 0:
        w[-1] = once
    return w


def _fft_transpose(ct, x, *, fft_type, fft_lengths):
    n_total = math.prod(fft_lengths)
    ct_dtype = core.get_aval(ct).dtype
    if fft_type in (FftType.FFT, FftType.IFFT):
        out = fft(ct, fft_type, fft_lengths)
    elif fft_type is FftType.RFFT:
        w = _half_spectrum_weights(fft_lengths[-1], ct_dtype, n_total, n_total / 2)
        out = fft(ew.mul(ew.conj(ct), w), FftType.IRFFT, fft_lengths)
    else:
        w = _half_spectrum_weights(fft_lengths[-1], ct_dtype, 1 / n_total, 2 / n_total)
        out = ew.mul(ew.conj(fft(ct, FftType.RFFT, fft_lengths)), w)
    return [out]


def _fft_batch(axis_size, vals, dims, *, fft_type, fft_lengths):
    (x,), (d,) = vals, dims
    return fft_p.bind(moveaxis(x, d, 0), fft_type=fft_type, fft_lengths=fft_lengths), 0


def _fft_lower(ctx, x, *, fft_type, fft_lengths):
    name = _NUMPY_FUNCTIONS[fft_type]
    axes = ctx.param(_axes(ctx.in_avals[0].ndim, fft_lengths))
    lengths = f", s={ctx.param(tuple(fft_lengths))}" if fft_type is FftType.IRFFT else ""
    # NumPy 2 keeps single precision (complex64 in, complex64 out), as the impl does.
    return f"xp.fft.{name}({x}{lengths}, axes={axes})"


def _fft_cost(avals_in, avals_out, *, fft_type, fft_lengths):
    # The usual convention: 5 N log2(N) flops for a complex transform of N points, half of
    # that for a real one, per transform in the batch.
    n = math.prod(fft_lengths)
    batch = avals_in[0].size // max(math.prod(avals_in[0].shape[-len(fft_lengths) :]), 1)
    per = 5 * n * math.log2(n) if n > 1 else 0.0
    if fft_type in (FftType.RFFT, FftType.IRFFT):
        per /= 2
    moved = cost_mod.io_bytes(avals_in, avals_out)
    return cost_mod.Cost(round(batch * per), 0, moved.bytes_read, moved.bytes_written)


fft_p = define_primitive(
    "fft",
    allocates=True,
    impl=_fft_impl,
    abstract_eval=_fft_aval,
    linear=True,
    transpose=_fft_transpose,
    batch=_fft_batch,
    lower=_fft_lower,
    cost=_fft_cost,
)


def _fft_type(fft_type: FftType | str) -> FftType:
    if isinstance(fft_type, FftType):
        return fft_type
    if isinstance(fft_type, str) and fft_type.upper() in FftType.__members__:
        return FftType[fft_type.upper()]
    raise ValueError(
        f"fft: unknown fft_type {fft_type!r}: use one of funcdiff.lax.FftType "
        "(FFT, IFFT, RFFT, IRFFT) or its name as a string"
    )


def fft(x: Array, fft_type: FftType | str, fft_lengths: Sequence[int]) -> Array:
    """The fast Fourier transform `fft_type` over the trailing ``len(fft_lengths)`` dimensions
    of `x` (JAX's `jax.lax.fft`).

    **Arguments:**

    - `x`: the operand. `FFT`, `IFFT` and `IRFFT` take complex values (real and integer
      operands are converted, float32 to complex64); `RFFT` takes real ones (integers are
      converted to float64).
    - `fft_type`: a `funcdiff.lax.FftType`, or its name (``"fft"``, ``"rfft"``...).
    - `fft_lengths`: the transform's length along each trailing dimension. The trailing
      dimensions of `x` must equal them, except for `IRFFT`, whose last one holds the
      ``fft_lengths[-1] // 2 + 1`` frequencies of a half spectrum.

    **Returns:** the transform, with NumPy's default ("backward") normalisation: `FFT` and
    `RFFT` unscaled, `IFFT` and `IRFFT` divided by ``prod(fft_lengths)``.

    !!! Example

        ```python
        import numpy as np
        from funcdiff import lax

        x = np.array([1.0, 2.0, 0.0, -1.0])
        y = lax.fft(x, "rfft", (4,))
        print(y)
        print(lax.fft(y, lax.FftType.IRFFT, (4,)))
        ```
    """
    fft_type = _fft_type(fft_type)
    lengths = tuple(int(n) for n in fft_lengths)
    dtype = core.get_aval(x).dtype
    if fft_type is FftType.RFFT:
        if dtype.kind == "c":
            raise TypeError(
                f"fft: RFFT needs a real operand, got {dtype}: use FFT for complex values"
            )
        target = np.dtype(np.float32) if dtype in (np.float16, np.float32) else np.dtype(np.float64)
    else:
        single = dtype in (np.float16, np.float32, np.complex64)
        target = np.dtype(np.complex64 if single else np.complex128)
    if dtype != target or core.get_aval(x).weak_type:
        x = ew.convert_element_type(x, target)
    return fft_p.bind(x, fft_type=fft_type, fft_lengths=lengths)

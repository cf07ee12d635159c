"""`gaussian_kde`, the Gaussian kernel density estimator of `jax.scipy.stats` (and SciPy),
composed from `funcdiff.numpy`: a pytree whose leaves are the data, weights and bandwidth
matrices, so that it passes through `jit`, `vmap` and `grad` (densities differentiate in the
points and in the data)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import funcdiff.numpy as jnp
from funcdiff._src import random
from funcdiff._src.numpy._util import Array, ArrayLike
from funcdiff._src.prng import split
from funcdiff._src.random_more import multivariate_normal
from funcdiff._src.scipy_linalg import cho_factor, cho_solve
from funcdiff._src.scipy_special import logsumexp, ndtr
from funcdiff._src.tree_util import register_pytree_node_class

__all__ = ["gaussian_kde"]

_FIELDS = ("neff", "dataset", "weights", "covariance", "inv_cov")


def _real(name: str, x: ArrayLike) -> Array:
    x = jnp.asarray(x)
    if jnp.iscomplexobj(x):
        raise NotImplementedError(f"gaussian_kde does not support complex {name}")
    return x


@register_pytree_node_class
class gaussian_kde:  # noqa: N801 (JAX's and SciPy's name)
    """The Gaussian kernel density estimate of `dataset` (``(n,)``, or ``(d, n)`` for `d`
    dimensions), as `jax.scipy.stats.gaussian_kde`: `bw_method` is ``"scott"`` (the
    default), ``"silverman"``, a scalar factor or a function of the estimator giving one;
    `weights` (``(n,)``) weigh the data. The kernel covariance is the (weighted) data
    covariance times the factor squared.

    Attributes (the pytree's leaves): `neff` (effective number of points), `dataset`
    (``(d, n)``), `weights` (normalised), `covariance`, `inv_cov`; `d`, `n` are read from
    the dataset. `evaluate` (also `pdf` and calling it) and `logpdf` take points
    ``(d, m)`` (or ``(m,)`` in one dimension); `integrate_gaussian`, `integrate_box_1d`,
    `integrate_kde` and `resample` are JAX's; `integrate_box` and `set_bandwidth` raise
    `NotImplementedError`, as in JAX.

    !!! Example
        ```python
        import numpy as np
        from funcdiff.scipy.stats import gaussian_kde

        kde = gaussian_kde(np.array([-1.0, 0.0, 0.5, 2.0]), bw_method="silverman")
        print(np.round(kde.evaluate(np.array([0.0, 1.0])), 6))
        print(np.round(kde.integrate_box_1d(-np.inf, 0.0), 6))
        ```
        ```text
        [0.261314 0.222411]
        0.418194
        ```
    """

    __slots__ = _FIELDS
    neff: Array
    dataset: Array
    weights: Array
    covariance: Array
    inv_cov: Array

    def __init__(self, dataset: ArrayLike,
                 bw_method: str | float | Array | Callable[[Any], Any] | None = None,
                 weights: ArrayLike | None = None):
        data = jnp.atleast_2d(_real("data", dataset))
        if not data.size > 1:
            raise ValueError("gaussian_kde: `dataset` input should have multiple elements")
        d, n = data.shape
        if weights is not None:
            w = jnp.atleast_1d(_real("weights", weights))
            if w.ndim != 1:
                raise ValueError("gaussian_kde: `weights` input should be one-dimensional")
            if w.shape[0] != n:
                raise ValueError(f"gaussian_kde: `weights` input should be of length n = {n}, "
                                 f"got {w.shape[0]}")
            dtype = jnp.result_type(data, w, 1.0)
            data, w = data.astype(dtype), w.astype(dtype)
            w = w / jnp.sum(w)
        else:
            data = data.astype(jnp.result_type(data, 1.0))
            w = jnp.full(n, 1.0 / n, dtype=data.dtype)
        self._set("dataset", data)
        self._set("weights", w)
        neff = self._set("neff", 1 / jnp.sum(w**2))
        factor = self._factor("scott" if bw_method is None else bw_method, neff, d)
        cov = jnp.atleast_2d(jnp.cov(data, rowvar=True, bias=False, aweights=w))
        self._set("covariance", cov * factor**2)
        self._set("inv_cov", jnp.linalg.inv(cov) / factor**2)

    def _factor(self, bw_method: Any, neff: Array, d: int) -> Any:
        if isinstance(bw_method, str):
            if bw_method == "scott":
                return neff ** (-1.0 / (d + 4))
            if bw_method == "silverman":
                return (neff * (d + 2) / 4.0) ** (-1.0 / (d + 4))
        elif callable(bw_method):
            return bw_method(self)
        elif jnp.ndim(bw_method) == 0:
            return bw_method
        raise ValueError("gaussian_kde: `bw_method` should be 'scott', 'silverman', a scalar, "
                         f"or a callable, got {bw_method!r}")

    def _set(self, name: str, value: Any) -> Any:
        object.__setattr__(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"gaussian_kde is immutable: cannot set {name!r}")

    def tree_flatten(self) -> tuple[tuple[Any, ...], None]:
        return tuple(getattr(self, f) for f in _FIELDS), None

    @classmethod
    def tree_unflatten(cls, aux_data: None, children: Any) -> gaussian_kde:
        del aux_data
        kde = cls.__new__(cls)
        for name, value in zip(_FIELDS, children):
            kde._set(name, value)
        return kde

    def __repr__(self) -> str:
        return f"gaussian_kde(d={self.d}, n={self.n})"

    @property
    def d(self) -> int:
        return self.dataset.shape[0]

    @property
    def n(self) -> int:
        return self.dataset.shape[1]

    def _points(self, points: ArrayLike) -> Array:
        points = jnp.atleast_2d(_real("coordinates", points))
        d, m = points.shape
        if d != self.d:
            if d == 1 and m == self.d:
                return jnp.reshape(points, (self.d, 1))
            raise ValueError(f"gaussian_kde: points have dimension {d}, dataset has dimension "
                             f"{self.d}")
        return points

    def _kernel_args(self, points: ArrayLike) -> tuple[Array, Array]:
        """The log of each kernel (rows: points, columns: data) without its weight, and
        the log weights."""
        xi = self._points(points)
        dtype = jnp.result_type(self.dataset, xi)
        white = jnp.linalg.cholesky(self.inv_cov).astype(dtype)
        data, x = self.dataset.T @ white, xi.T.astype(dtype) @ white
        log_norm = jnp.sum(jnp.log(jnp.diag(white))) - 0.5 * self.d * math.log(2 * math.pi)
        sq = jnp.sum((x[:, None, :] - data[None, :, :]) ** 2, axis=-1)
        return log_norm - 0.5 * sq, jnp.log(self.weights)

    def evaluate(self, points: ArrayLike) -> Array:
        """The density at `points` (``(d, m)``; ``(m,)`` when ``d == 1``): ``(m,)``."""
        arg, _ = self._kernel_args(points)
        return jnp.sum(self.weights * jnp.exp(arg), axis=1)

    def __call__(self, points: ArrayLike) -> Array:
        return self.evaluate(points)

    def pdf(self, x: ArrayLike) -> Array:
        """The density at `x`, as `evaluate`."""
        return self.evaluate(x)

    def logpdf(self, x: ArrayLike) -> Array:
        """The log density at `x`, by a log-sum-exp over the data (finite far in the tails)."""
        arg, log_w = self._kernel_args(x)
        return logsumexp(arg + log_w, axis=1)

    def _convolve(self, chol: tuple[Array, bool], dataset: Array, weights: Array,
                  mean: Array) -> Array:
        norm = 1.0 / (math.sqrt(2 * math.pi) ** self.d * jnp.prod(jnp.diag(chol[0])))
        diff = dataset - mean[:, None]
        arg = 0.5 * jnp.sum(diff * cho_solve(chol, diff), axis=0)
        return norm * jnp.sum(jnp.exp(-arg) * weights)

    def integrate_gaussian(self, mean: ArrayLike, cov: ArrayLike) -> Array:
        """The integral of the density times the normal density with `mean` (``(d,)``) and
        covariance `cov` (``(d, d)``)."""
        mean = jnp.atleast_1d(jnp.squeeze(jnp.asarray(mean)))
        cov = jnp.atleast_2d(jnp.asarray(cov))
        if mean.shape != (self.d,):
            raise ValueError(f"gaussian_kde: mean does not have dimension {self.d}")
        if cov.shape != (self.d, self.d):
            raise ValueError(f"gaussian_kde: covariance does not have dimension {self.d}")
        chol = cho_factor(self.covariance + cov)
        return self._convolve(chol, self.dataset, self.weights, mean)

    def integrate_box_1d(self, low: ArrayLike, high: ArrayLike) -> Array:
        """The probability of ``[low, high]`` (scalars; one-dimensional estimates only)."""
        if self.d != 1:
            raise ValueError("gaussian_kde: integrate_box_1d() only handles 1D pdfs")
        if np.ndim(low) != 0 or np.ndim(high) != 0:
            raise ValueError("gaussian_kde: the limits of integration in integrate_box_1d "
                             "must be scalars")
        sigma = jnp.sqrt(self.covariance[0, 0])
        lo = (low - self.dataset[0]) / sigma
        hi = (high - self.dataset[0]) / sigma
        return jnp.sum(self.weights * (ndtr(hi) - ndtr(lo)))

    def integrate_kde(self, other: gaussian_kde) -> Array:
        """The integral of the product of this density and `other`'s."""
        if other.d != self.d:
            raise ValueError("gaussian_kde: KDEs are not the same dimensionality")
        chol = cho_factor(self.covariance + other.covariance)
        small, large = (self, other) if self.n < other.n else (other, self)
        each = jnp.stack([self._convolve(chol, large.dataset, large.weights, small.dataset[:, i])
                          for i in range(small.n)])
        return jnp.sum(each * small.weights)

    def resample(self, key: Array, shape: tuple[int, ...] = ()) -> Array:
        """Draws from the estimate, ``(d,) + shape``: a data point drawn by weight plus
        kernel noise."""
        ind_key, eps_key = split(key)
        ind = random.choice(ind_key, self.n, shape=shape, p=self.weights)
        eps = multivariate_normal(eps_key, jnp.zeros(self.d, self.covariance.dtype),
                                  self.covariance, shape=shape, dtype=self.dataset.dtype)
        return self.dataset[:, ind] + jnp.moveaxis(eps, -1, 0)

    def integrate_box(self, low_bounds: Any, high_bounds: Any, maxpts: Any = None) -> Any:
        """Not supported (as in JAX): use `integrate_box_1d`."""
        del low_bounds, high_bounds, maxpts
        raise NotImplementedError("gaussian_kde: only 1D box integrations are supported; use "
                                  "`integrate_box_1d`")

    def set_bandwidth(self, bw_method: Any = None) -> Any:
        """Not supported (as in JAX): make a new `gaussian_kde` with the bandwidth."""
        del bw_method
        raise NotImplementedError("gaussian_kde: dynamically changing the bandwidth method is "
                                  "not supported; construct a new gaussian_kde")

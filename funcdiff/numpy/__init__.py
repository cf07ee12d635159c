"""NumPy-compatible functions that work on traced values: ``import funcdiff.numpy as jnp``.

Names, arguments, broadcasting and dtype promotion follow NumPy (float64 by default, float32
kept; Python scalars are weakly typed). Every function can be differentiated, vectorised and
staged, except where its documentation says the result has no derivative.
"""

# ruff: noqa: A004
from numpy import (
    bool_ as bool_,
)
from numpy import (
    complex64 as complex64,
)
from numpy import (
    complex128 as complex128,
)
from numpy import (
    complexfloating as complexfloating,
)
from numpy import (
    dtype as dtype,
)
from numpy import (
    e as e,
)
from numpy import (
    finfo as finfo,
)
from numpy import (
    float16 as float16,
)
from numpy import (
    float32 as float32,
)
from numpy import (
    float64 as float64,
)
from numpy import (
    floating as floating,
)
from numpy import (
    iinfo as iinfo,
)
from numpy import (
    inexact as inexact,
)
from numpy import (
    inf as inf,
)
from numpy import (
    int8 as int8,
)
from numpy import (
    int16 as int16,
)
from numpy import (
    int32 as int32,
)
from numpy import (
    int64 as int64,
)
from numpy import (
    integer as integer,
)
from numpy import (
    issubdtype as issubdtype,
)
from numpy import (
    nan as nan,
)
from numpy import (
    newaxis as newaxis,
)
from numpy import (
    number as number,
)
from numpy import (
    pi as pi,
)
from numpy import (
    uint8 as uint8,
)
from numpy import (
    uint16 as uint16,
)
from numpy import (
    uint32 as uint32,
)
from numpy import (
    uint64 as uint64,
)

from funcdiff._src.array import Array as ndarray
from funcdiff._src.numpy import array_methods as _array_methods
from funcdiff._src.numpy.bitwise import bitwise_count as bitwise_count
from funcdiff._src.numpy.bitwise import frexp as frexp
from funcdiff._src.numpy.bitwise import gcd as gcd
from funcdiff._src.numpy.bitwise import isneginf as isneginf
from funcdiff._src.numpy.bitwise import isposinf as isposinf
from funcdiff._src.numpy.bitwise import lcm as lcm
from funcdiff._src.numpy.bitwise import ldexp as ldexp
from funcdiff._src.numpy.bitwise import modf as modf
from funcdiff._src.numpy.bitwise import nextafter as nextafter
from funcdiff._src.numpy.bitwise import packbits as packbits
from funcdiff._src.numpy.bitwise import signbit as signbit
from funcdiff._src.numpy.bitwise import spacing as spacing
from funcdiff._src.numpy.bitwise import unpackbits as unpackbits
from funcdiff._src.numpy.convolution import convolve as convolve
from funcdiff._src.numpy.convolution import correlate as correlate
from funcdiff._src.numpy.creation import arange as arange
from funcdiff._src.numpy.creation import array as array
from funcdiff._src.numpy.creation import asarray as asarray
from funcdiff._src.numpy.creation import empty as empty
from funcdiff._src.numpy.creation import empty_like as empty_like
from funcdiff._src.numpy.creation import eye as eye
from funcdiff._src.numpy.creation import full as full
from funcdiff._src.numpy.creation import full_like as full_like
from funcdiff._src.numpy.creation import identity as identity
from funcdiff._src.numpy.creation import linspace as linspace
from funcdiff._src.numpy.creation import logspace as logspace
from funcdiff._src.numpy.creation import meshgrid as meshgrid
from funcdiff._src.numpy.creation import ones as ones
from funcdiff._src.numpy.creation import ones_like as ones_like
from funcdiff._src.numpy.creation import tri as tri
from funcdiff._src.numpy.creation import tril as tril
from funcdiff._src.numpy.creation import triu as triu
from funcdiff._src.numpy.creation import zeros as zeros
from funcdiff._src.numpy.creation import zeros_like as zeros_like
from funcdiff._src.numpy.functions import argpartition as argpartition
from funcdiff._src.numpy.functions import array_equiv as array_equiv
from funcdiff._src.numpy.functions import corrcoef as corrcoef
from funcdiff._src.numpy.functions import cov as cov
from funcdiff._src.numpy.functions import ediff1d as ediff1d
from funcdiff._src.numpy.functions import einsum_path as einsum_path
from funcdiff._src.numpy.functions import gradient as gradient
from funcdiff._src.numpy.functions import lexsort as lexsort
from funcdiff._src.numpy.functions import matvec as matvec
from funcdiff._src.numpy.functions import partition as partition
from funcdiff._src.numpy.functions import rollaxis as rollaxis
from funcdiff._src.numpy.functions import sort_complex as sort_complex
from funcdiff._src.numpy.functions import unwrap as unwrap
from funcdiff._src.numpy.functions import vecmat as vecmat
from funcdiff._src.numpy.histograms import bincount as bincount
from funcdiff._src.numpy.histograms import digitize as digitize
from funcdiff._src.numpy.histograms import histogram as histogram
from funcdiff._src.numpy.histograms import histogram2d as histogram2d
from funcdiff._src.numpy.histograms import histogram_bin_edges as histogram_bin_edges
from funcdiff._src.numpy.histograms import histogramdd as histogramdd
from funcdiff._src.numpy.histograms import interp as interp
from funcdiff._src.numpy.histograms import searchsorted as searchsorted
from funcdiff._src.numpy.index_tricks import block as block
from funcdiff._src.numpy.index_tricks import c_ as c_
from funcdiff._src.numpy.index_tricks import choose as choose
from funcdiff._src.numpy.index_tricks import compress as compress
from funcdiff._src.numpy.index_tricks import delete as delete
from funcdiff._src.numpy.index_tricks import diagflat as diagflat
from funcdiff._src.numpy.index_tricks import extract as extract
from funcdiff._src.numpy.index_tricks import fill_diagonal as fill_diagonal
from funcdiff._src.numpy.index_tricks import insert as insert
from funcdiff._src.numpy.index_tricks import ix_ as ix_
from funcdiff._src.numpy.index_tricks import mask_indices as mask_indices
from funcdiff._src.numpy.index_tricks import place as place
from funcdiff._src.numpy.index_tricks import put as put
from funcdiff._src.numpy.index_tricks import put_along_axis as put_along_axis
from funcdiff._src.numpy.index_tricks import r_ as r_
from funcdiff._src.numpy.index_tricks import ravel_multi_index as ravel_multi_index
from funcdiff._src.numpy.index_tricks import resize as resize
from funcdiff._src.numpy.index_tricks import trim_zeros as trim_zeros
from funcdiff._src.numpy.index_tricks import unravel_index as unravel_index
from funcdiff._src.numpy.linalg import cross as cross
from funcdiff._src.numpy.linalg import dot as dot
from funcdiff._src.numpy.linalg import einsum as einsum
from funcdiff._src.numpy.linalg import inner as inner
from funcdiff._src.numpy.linalg import kron as kron
from funcdiff._src.numpy.linalg import matmul as matmul
from funcdiff._src.numpy.linalg import outer as outer
from funcdiff._src.numpy.linalg import tensordot as tensordot
from funcdiff._src.numpy.linalg import vdot as vdot
from funcdiff._src.numpy.linalg import vecdot as vecdot
from funcdiff._src.numpy.numpy_reexports import ComplexWarning as ComplexWarning
from funcdiff._src.numpy.numpy_reexports import array_repr as array_repr
from funcdiff._src.numpy.numpy_reexports import array_str as array_str
from funcdiff._src.numpy.numpy_reexports import bool as bool
from funcdiff._src.numpy.numpy_reexports import can_cast as can_cast
from funcdiff._src.numpy.numpy_reexports import cdouble as cdouble
from funcdiff._src.numpy.numpy_reexports import character as character
from funcdiff._src.numpy.numpy_reexports import csingle as csingle
from funcdiff._src.numpy.numpy_reexports import double as double
from funcdiff._src.numpy.numpy_reexports import euler_gamma as euler_gamma
from funcdiff._src.numpy.numpy_reexports import flexible as flexible
from funcdiff._src.numpy.numpy_reexports import from_dlpack as from_dlpack
from funcdiff._src.numpy.numpy_reexports import frombuffer as frombuffer
from funcdiff._src.numpy.numpy_reexports import fromfile as fromfile
from funcdiff._src.numpy.numpy_reexports import fromiter as fromiter
from funcdiff._src.numpy.numpy_reexports import fromstring as fromstring
from funcdiff._src.numpy.numpy_reexports import generic as generic
from funcdiff._src.numpy.numpy_reexports import get_printoptions as get_printoptions
from funcdiff._src.numpy.numpy_reexports import index_exp as index_exp
from funcdiff._src.numpy.numpy_reexports import int_ as int_
from funcdiff._src.numpy.numpy_reexports import isdtype as isdtype
from funcdiff._src.numpy.numpy_reexports import iterable as iterable
from funcdiff._src.numpy.numpy_reexports import load as load
from funcdiff._src.numpy.numpy_reexports import mgrid as mgrid
from funcdiff._src.numpy.numpy_reexports import object_ as object_
from funcdiff._src.numpy.numpy_reexports import ogrid as ogrid
from funcdiff._src.numpy.numpy_reexports import printoptions as printoptions
from funcdiff._src.numpy.numpy_reexports import promote_types as promote_types
from funcdiff._src.numpy.numpy_reexports import s_ as s_
from funcdiff._src.numpy.numpy_reexports import save as save
from funcdiff._src.numpy.numpy_reexports import savez as savez
from funcdiff._src.numpy.numpy_reexports import set_printoptions as set_printoptions
from funcdiff._src.numpy.numpy_reexports import signedinteger as signedinteger
from funcdiff._src.numpy.numpy_reexports import single as single
from funcdiff._src.numpy.numpy_reexports import uint as uint
from funcdiff._src.numpy.numpy_reexports import unsignedinteger as unsignedinteger
from funcdiff._src.numpy.polynomial import poly as poly
from funcdiff._src.numpy.polynomial import polyadd as polyadd
from funcdiff._src.numpy.polynomial import polyder as polyder
from funcdiff._src.numpy.polynomial import polydiv as polydiv
from funcdiff._src.numpy.polynomial import polyfit as polyfit
from funcdiff._src.numpy.polynomial import polyint as polyint
from funcdiff._src.numpy.polynomial import polymul as polymul
from funcdiff._src.numpy.polynomial import polysub as polysub
from funcdiff._src.numpy.polynomial import roots as roots
from funcdiff._src.numpy.polynomial import vander as vander
from funcdiff._src.numpy.reductions import all as all
from funcdiff._src.numpy.reductions import allclose as allclose
from funcdiff._src.numpy.reductions import amax as amax
from funcdiff._src.numpy.reductions import amin as amin
from funcdiff._src.numpy.reductions import any as any
from funcdiff._src.numpy.reductions import argmax as argmax
from funcdiff._src.numpy.reductions import argmin as argmin
from funcdiff._src.numpy.reductions import array_equal as array_equal
from funcdiff._src.numpy.reductions import average as average
from funcdiff._src.numpy.reductions import count_nonzero as count_nonzero
from funcdiff._src.numpy.reductions import cumprod as cumprod
from funcdiff._src.numpy.reductions import cumsum as cumsum
from funcdiff._src.numpy.reductions import cumulative_prod as cumulative_prod
from funcdiff._src.numpy.reductions import cumulative_sum as cumulative_sum
from funcdiff._src.numpy.reductions import max as max
from funcdiff._src.numpy.reductions import mean as mean
from funcdiff._src.numpy.reductions import min as min
from funcdiff._src.numpy.reductions import nanargmax as nanargmax
from funcdiff._src.numpy.reductions import nanargmin as nanargmin
from funcdiff._src.numpy.reductions import nancumprod as nancumprod
from funcdiff._src.numpy.reductions import nancumsum as nancumsum
from funcdiff._src.numpy.reductions import nanmax as nanmax
from funcdiff._src.numpy.reductions import nanmean as nanmean
from funcdiff._src.numpy.reductions import nanmin as nanmin
from funcdiff._src.numpy.reductions import nanprod as nanprod
from funcdiff._src.numpy.reductions import nanstd as nanstd
from funcdiff._src.numpy.reductions import nansum as nansum
from funcdiff._src.numpy.reductions import nanvar as nanvar
from funcdiff._src.numpy.reductions import prod as prod
from funcdiff._src.numpy.reductions import ptp as ptp
from funcdiff._src.numpy.reductions import std as std
from funcdiff._src.numpy.reductions import sum as sum
from funcdiff._src.numpy.reductions import var as var
from funcdiff._src.numpy.setops import intersect1d as intersect1d
from funcdiff._src.numpy.setops import isin as isin
from funcdiff._src.numpy.setops import setdiff1d as setdiff1d
from funcdiff._src.numpy.setops import setxor1d as setxor1d
from funcdiff._src.numpy.setops import union1d as union1d
from funcdiff._src.numpy.setops import unique as unique
from funcdiff._src.numpy.setops import unique_all as unique_all
from funcdiff._src.numpy.setops import unique_counts as unique_counts
from funcdiff._src.numpy.setops import unique_inverse as unique_inverse
from funcdiff._src.numpy.setops import unique_values as unique_values
from funcdiff._src.numpy.shape import append as append
from funcdiff._src.numpy.shape import argwhere as argwhere
from funcdiff._src.numpy.shape import array_split as array_split
from funcdiff._src.numpy.shape import astype as astype
from funcdiff._src.numpy.shape import atleast_1d as atleast_1d
from funcdiff._src.numpy.shape import atleast_2d as atleast_2d
from funcdiff._src.numpy.shape import atleast_3d as atleast_3d
from funcdiff._src.numpy.shape import broadcast_arrays as broadcast_arrays
from funcdiff._src.numpy.shape import broadcast_shapes as broadcast_shapes
from funcdiff._src.numpy.shape import broadcast_to as broadcast_to
from funcdiff._src.numpy.shape import column_stack as column_stack
from funcdiff._src.numpy.shape import concat as concat
from funcdiff._src.numpy.shape import concatenate as concatenate
from funcdiff._src.numpy.shape import copy as copy
from funcdiff._src.numpy.shape import diag as diag
from funcdiff._src.numpy.shape import diag_indices as diag_indices
from funcdiff._src.numpy.shape import diag_indices_from as diag_indices_from
from funcdiff._src.numpy.shape import diagonal as diagonal
from funcdiff._src.numpy.shape import diff as diff
from funcdiff._src.numpy.shape import dsplit as dsplit
from funcdiff._src.numpy.shape import dstack as dstack
from funcdiff._src.numpy.shape import expand_dims as expand_dims
from funcdiff._src.numpy.shape import flatnonzero as flatnonzero
from funcdiff._src.numpy.shape import flip as flip
from funcdiff._src.numpy.shape import fliplr as fliplr
from funcdiff._src.numpy.shape import flipud as flipud
from funcdiff._src.numpy.shape import hsplit as hsplit
from funcdiff._src.numpy.shape import hstack as hstack
from funcdiff._src.numpy.shape import indices as indices
from funcdiff._src.numpy.shape import matrix_transpose as matrix_transpose
from funcdiff._src.numpy.shape import moveaxis as moveaxis
from funcdiff._src.numpy.shape import ndim as ndim
from funcdiff._src.numpy.shape import pad as pad
from funcdiff._src.numpy.shape import permute_dims as permute_dims
from funcdiff._src.numpy.shape import polyval as polyval
from funcdiff._src.numpy.shape import ravel as ravel
from funcdiff._src.numpy.shape import repeat as repeat
from funcdiff._src.numpy.shape import reshape as reshape
from funcdiff._src.numpy.shape import roll as roll
from funcdiff._src.numpy.shape import rot90 as rot90
from funcdiff._src.numpy.shape import row_stack as row_stack
from funcdiff._src.numpy.shape import select as select
from funcdiff._src.numpy.shape import shape as shape
from funcdiff._src.numpy.shape import size as size
from funcdiff._src.numpy.shape import split as split
from funcdiff._src.numpy.shape import squeeze as squeeze
from funcdiff._src.numpy.shape import stack as stack
from funcdiff._src.numpy.shape import swapaxes as swapaxes
from funcdiff._src.numpy.shape import take as take
from funcdiff._src.numpy.shape import take_along_axis as take_along_axis
from funcdiff._src.numpy.shape import tile as tile
from funcdiff._src.numpy.shape import trace as trace
from funcdiff._src.numpy.shape import transpose as transpose
from funcdiff._src.numpy.shape import trapezoid as trapezoid
from funcdiff._src.numpy.shape import tril_indices as tril_indices
from funcdiff._src.numpy.shape import tril_indices_from as tril_indices_from
from funcdiff._src.numpy.shape import triu_indices as triu_indices
from funcdiff._src.numpy.shape import triu_indices_from as triu_indices_from
from funcdiff._src.numpy.shape import unstack as unstack
from funcdiff._src.numpy.shape import vsplit as vsplit
from funcdiff._src.numpy.shape import vstack as vstack
from funcdiff._src.numpy.sorting import argsort as argsort
from funcdiff._src.numpy.sorting import median as median
from funcdiff._src.numpy.sorting import nanmedian as nanmedian
from funcdiff._src.numpy.sorting import nanpercentile as nanpercentile
from funcdiff._src.numpy.sorting import nanquantile as nanquantile
from funcdiff._src.numpy.sorting import percentile as percentile
from funcdiff._src.numpy.sorting import quantile as quantile
from funcdiff._src.numpy.sorting import sort as sort
from funcdiff._src.numpy.ufunc import frompyfunc as frompyfunc
from funcdiff._src.numpy.ufunc import ufunc as ufunc
from funcdiff._src.numpy.ufuncs import abs as abs
from funcdiff._src.numpy.ufuncs import absolute as absolute
from funcdiff._src.numpy.ufuncs import acos as acos
from funcdiff._src.numpy.ufuncs import acosh as acosh
from funcdiff._src.numpy.ufuncs import add as add
from funcdiff._src.numpy.ufuncs import angle as angle
from funcdiff._src.numpy.ufuncs import arccos as arccos
from funcdiff._src.numpy.ufuncs import arccosh as arccosh
from funcdiff._src.numpy.ufuncs import arcsin as arcsin
from funcdiff._src.numpy.ufuncs import arcsinh as arcsinh
from funcdiff._src.numpy.ufuncs import arctan as arctan
from funcdiff._src.numpy.ufuncs import arctan2 as arctan2
from funcdiff._src.numpy.ufuncs import arctanh as arctanh
from funcdiff._src.numpy.ufuncs import around as around
from funcdiff._src.numpy.ufuncs import asin as asin
from funcdiff._src.numpy.ufuncs import asinh as asinh
from funcdiff._src.numpy.ufuncs import atan as atan
from funcdiff._src.numpy.ufuncs import atan2 as atan2
from funcdiff._src.numpy.ufuncs import atanh as atanh
from funcdiff._src.numpy.ufuncs import bitwise_and as bitwise_and
from funcdiff._src.numpy.ufuncs import bitwise_invert as bitwise_invert
from funcdiff._src.numpy.ufuncs import bitwise_left_shift as bitwise_left_shift
from funcdiff._src.numpy.ufuncs import bitwise_not as bitwise_not
from funcdiff._src.numpy.ufuncs import bitwise_or as bitwise_or
from funcdiff._src.numpy.ufuncs import bitwise_right_shift as bitwise_right_shift
from funcdiff._src.numpy.ufuncs import bitwise_xor as bitwise_xor
from funcdiff._src.numpy.ufuncs import cbrt as cbrt
from funcdiff._src.numpy.ufuncs import ceil as ceil
from funcdiff._src.numpy.ufuncs import clip as clip
from funcdiff._src.numpy.ufuncs import conj as conj
from funcdiff._src.numpy.ufuncs import conjugate as conjugate
from funcdiff._src.numpy.ufuncs import copysign as copysign
from funcdiff._src.numpy.ufuncs import cos as cos
from funcdiff._src.numpy.ufuncs import cosh as cosh
from funcdiff._src.numpy.ufuncs import deg2rad as deg2rad
from funcdiff._src.numpy.ufuncs import degrees as degrees
from funcdiff._src.numpy.ufuncs import divide as divide
from funcdiff._src.numpy.ufuncs import divmod as divmod
from funcdiff._src.numpy.ufuncs import equal as equal
from funcdiff._src.numpy.ufuncs import exp as exp
from funcdiff._src.numpy.ufuncs import exp2 as exp2
from funcdiff._src.numpy.ufuncs import expm1 as expm1
from funcdiff._src.numpy.ufuncs import fabs as fabs
from funcdiff._src.numpy.ufuncs import fix as fix
from funcdiff._src.numpy.ufuncs import float_power as float_power
from funcdiff._src.numpy.ufuncs import floor as floor
from funcdiff._src.numpy.ufuncs import floor_divide as floor_divide
from funcdiff._src.numpy.ufuncs import fmax as fmax
from funcdiff._src.numpy.ufuncs import fmin as fmin
from funcdiff._src.numpy.ufuncs import fmod as fmod
from funcdiff._src.numpy.ufuncs import greater as greater
from funcdiff._src.numpy.ufuncs import greater_equal as greater_equal
from funcdiff._src.numpy.ufuncs import heaviside as heaviside
from funcdiff._src.numpy.ufuncs import hypot as hypot
from funcdiff._src.numpy.ufuncs import imag as imag
from funcdiff._src.numpy.ufuncs import invert as invert
from funcdiff._src.numpy.ufuncs import isclose as isclose
from funcdiff._src.numpy.ufuncs import iscomplex as iscomplex
from funcdiff._src.numpy.ufuncs import iscomplexobj as iscomplexobj
from funcdiff._src.numpy.ufuncs import isfinite as isfinite
from funcdiff._src.numpy.ufuncs import isinf as isinf
from funcdiff._src.numpy.ufuncs import isnan as isnan
from funcdiff._src.numpy.ufuncs import isreal as isreal
from funcdiff._src.numpy.ufuncs import isrealobj as isrealobj
from funcdiff._src.numpy.ufuncs import left_shift as left_shift
from funcdiff._src.numpy.ufuncs import less as less
from funcdiff._src.numpy.ufuncs import less_equal as less_equal
from funcdiff._src.numpy.ufuncs import log as log
from funcdiff._src.numpy.ufuncs import log1p as log1p
from funcdiff._src.numpy.ufuncs import log2 as log2
from funcdiff._src.numpy.ufuncs import log10 as log10
from funcdiff._src.numpy.ufuncs import logaddexp as logaddexp
from funcdiff._src.numpy.ufuncs import logaddexp2 as logaddexp2
from funcdiff._src.numpy.ufuncs import logical_and as logical_and
from funcdiff._src.numpy.ufuncs import logical_not as logical_not
from funcdiff._src.numpy.ufuncs import logical_or as logical_or
from funcdiff._src.numpy.ufuncs import logical_xor as logical_xor
from funcdiff._src.numpy.ufuncs import maximum as maximum
from funcdiff._src.numpy.ufuncs import minimum as minimum
from funcdiff._src.numpy.ufuncs import mod as mod
from funcdiff._src.numpy.ufuncs import multiply as multiply
from funcdiff._src.numpy.ufuncs import nan_to_num as nan_to_num
from funcdiff._src.numpy.ufuncs import negative as negative
from funcdiff._src.numpy.ufuncs import nonzero as nonzero
from funcdiff._src.numpy.ufuncs import not_equal as not_equal
from funcdiff._src.numpy.ufuncs import positive as positive
from funcdiff._src.numpy.ufuncs import pow as pow
from funcdiff._src.numpy.ufuncs import power as power
from funcdiff._src.numpy.ufuncs import rad2deg as rad2deg
from funcdiff._src.numpy.ufuncs import radians as radians
from funcdiff._src.numpy.ufuncs import real as real
from funcdiff._src.numpy.ufuncs import reciprocal as reciprocal
from funcdiff._src.numpy.ufuncs import remainder as remainder
from funcdiff._src.numpy.ufuncs import result_type as result_type
from funcdiff._src.numpy.ufuncs import right_shift as right_shift
from funcdiff._src.numpy.ufuncs import rint as rint
from funcdiff._src.numpy.ufuncs import round as round
from funcdiff._src.numpy.ufuncs import sign as sign
from funcdiff._src.numpy.ufuncs import sin as sin
from funcdiff._src.numpy.ufuncs import sinc as sinc
from funcdiff._src.numpy.ufuncs import sinh as sinh
from funcdiff._src.numpy.ufuncs import sqrt as sqrt
from funcdiff._src.numpy.ufuncs import square as square
from funcdiff._src.numpy.ufuncs import subtract as subtract
from funcdiff._src.numpy.ufuncs import tan as tan
from funcdiff._src.numpy.ufuncs import tanh as tanh
from funcdiff._src.numpy.ufuncs import true_divide as true_divide
from funcdiff._src.numpy.ufuncs import trunc as trunc
from funcdiff._src.numpy.ufuncs import where as where
from funcdiff._src.numpy.vectorize import apply_along_axis as apply_along_axis
from funcdiff._src.numpy.vectorize import apply_over_axes as apply_over_axes
from funcdiff._src.numpy.vectorize import fromfunction as fromfunction
from funcdiff._src.numpy.vectorize import piecewise as piecewise
from funcdiff._src.numpy.vectorize import vectorize as vectorize
from funcdiff._src.numpy.windows import bartlett as bartlett
from funcdiff._src.numpy.windows import blackman as blackman
from funcdiff._src.numpy.windows import geomspace as geomspace
from funcdiff._src.numpy.windows import hamming as hamming
from funcdiff._src.numpy.windows import hanning as hanning
from funcdiff._src.numpy.windows import i0 as i0
from funcdiff._src.numpy.windows import kaiser as kaiser
from funcdiff.numpy import fft as fft
from funcdiff.numpy import linalg as linalg


def isscalar(element: object) -> bool:
    """True for Python and NumPy scalars and 0-d arrays (traced or not)."""
    import numpy as _np

    return _np.ndim(element) == 0 if not hasattr(element, "aval") else element.ndim == 0


_array_methods.register_numpy_namespace(dict(globals()))

"""Low-level operations, one per primitive, with JAX's `jax.lax` names and semantics.

Prefer `funcdiff.numpy` for everyday code; `funcdiff.lax` is stricter (no implicit rank
promotion for shape operations) and maps one-to-one onto the IR.
"""

# ruff: noqa: A004
from funcdiff._src.api import stop_gradient as stop_gradient
from funcdiff._src.lax.checked import _checked_by_trace
from funcdiff._src.lax.checked import abs as abs
from funcdiff._src.lax.checked import acos as acos
from funcdiff._src.lax.checked import acosh as acosh
from funcdiff._src.lax.checked import add as add
from funcdiff._src.lax.checked import argmax as argmax
from funcdiff._src.lax.checked import argmin as argmin
from funcdiff._src.lax.checked import argsort as argsort
from funcdiff._src.lax.checked import asin as asin
from funcdiff._src.lax.checked import asinh as asinh
from funcdiff._src.lax.checked import atan as atan
from funcdiff._src.lax.checked import atan2 as atan2
from funcdiff._src.lax.checked import atanh as atanh
from funcdiff._src.lax.checked import bessel_i0e as bessel_i0e
from funcdiff._src.lax.checked import bessel_i1e as bessel_i1e
from funcdiff._src.lax.checked import betainc as betainc
from funcdiff._src.lax.checked import bitwise_and as bitwise_and
from funcdiff._src.lax.checked import bitwise_not as bitwise_not
from funcdiff._src.lax.checked import bitwise_or as bitwise_or
from funcdiff._src.lax.checked import bitwise_xor as bitwise_xor
from funcdiff._src.lax.checked import broadcast_in_dim as broadcast_in_dim
from funcdiff._src.lax.checked import broadcast_to as broadcast_to
from funcdiff._src.lax.checked import cbrt as cbrt
from funcdiff._src.lax.checked import ceil as ceil
from funcdiff._src.lax.checked import clamp as clamp
from funcdiff._src.lax.checked import complex as complex
from funcdiff._src.lax.checked import concatenate as concatenate
from funcdiff._src.lax.checked import conj as conj
from funcdiff._src.lax.checked import conv as conv
from funcdiff._src.lax.checked import conv_general_dilated as conv_general_dilated
from funcdiff._src.lax.checked import conv_transpose as conv_transpose
from funcdiff._src.lax.checked import conv_with_general_padding as conv_with_general_padding
from funcdiff._src.lax.checked import convert_element_type as convert_element_type
from funcdiff._src.lax.checked import cos as cos
from funcdiff._src.lax.checked import cosh as cosh
from funcdiff._src.lax.checked import cumlogsumexp as cumlogsumexp
from funcdiff._src.lax.checked import cummax as cummax
from funcdiff._src.lax.checked import cummin as cummin
from funcdiff._src.lax.checked import cumprod as cumprod
from funcdiff._src.lax.checked import cumsum as cumsum
from funcdiff._src.lax.checked import digamma as digamma
from funcdiff._src.lax.checked import div as div
from funcdiff._src.lax.checked import dynamic_index_in_dim as dynamic_index_in_dim
from funcdiff._src.lax.checked import dynamic_slice as dynamic_slice
from funcdiff._src.lax.checked import dynamic_slice_in_dim as dynamic_slice_in_dim
from funcdiff._src.lax.checked import dynamic_update_index_in_dim as dynamic_update_index_in_dim
from funcdiff._src.lax.checked import dynamic_update_slice as dynamic_update_slice
from funcdiff._src.lax.checked import dynamic_update_slice_in_dim as dynamic_update_slice_in_dim
from funcdiff._src.lax.checked import eq as eq
from funcdiff._src.lax.checked import erf as erf
from funcdiff._src.lax.checked import erf_inv as erf_inv
from funcdiff._src.lax.checked import erfc as erfc
from funcdiff._src.lax.checked import exp as exp
from funcdiff._src.lax.checked import expand_dims as expand_dims
from funcdiff._src.lax.checked import expm1 as expm1
from funcdiff._src.lax.checked import fft as fft
from funcdiff._src.lax.checked import floor as floor
from funcdiff._src.lax.checked import gather as gather
from funcdiff._src.lax.checked import ge as ge
from funcdiff._src.lax.checked import gt as gt
from funcdiff._src.lax.checked import igamma as igamma
from funcdiff._src.lax.checked import igammac as igammac
from funcdiff._src.lax.checked import imag as imag
from funcdiff._src.lax.checked import index_in_dim as index_in_dim
from funcdiff._src.lax.checked import integer_pow as integer_pow
from funcdiff._src.lax.checked import is_finite as is_finite
from funcdiff._src.lax.checked import le as le
from funcdiff._src.lax.checked import lgamma as lgamma
from funcdiff._src.lax.checked import log as log
from funcdiff._src.lax.checked import log1p as log1p
from funcdiff._src.lax.checked import logistic as logistic
from funcdiff._src.lax.checked import lt as lt
from funcdiff._src.lax.checked import max as max
from funcdiff._src.lax.checked import min as min
from funcdiff._src.lax.checked import mul as mul
from funcdiff._src.lax.checked import ne as ne
from funcdiff._src.lax.checked import neg as neg
from funcdiff._src.lax.checked import nextafter as nextafter
from funcdiff._src.lax.checked import pad as pad
from funcdiff._src.lax.checked import polygamma as polygamma
from funcdiff._src.lax.checked import pow as pow
from funcdiff._src.lax.checked import real as real
from funcdiff._src.lax.checked import reduce_and as reduce_and
from funcdiff._src.lax.checked import reduce_max as reduce_max
from funcdiff._src.lax.checked import reduce_min as reduce_min
from funcdiff._src.lax.checked import reduce_or as reduce_or
from funcdiff._src.lax.checked import reduce_prod as reduce_prod
from funcdiff._src.lax.checked import reduce_sum as reduce_sum
from funcdiff._src.lax.checked import reduce_window as reduce_window
from funcdiff._src.lax.checked import rem as rem
from funcdiff._src.lax.checked import reshape as reshape
from funcdiff._src.lax.checked import rev as rev
from funcdiff._src.lax.checked import round as round
from funcdiff._src.lax.checked import rsqrt as rsqrt
from funcdiff._src.lax.checked import scatter as scatter
from funcdiff._src.lax.checked import scatter_add as scatter_add
from funcdiff._src.lax.checked import scatter_max as scatter_max
from funcdiff._src.lax.checked import scatter_min as scatter_min
from funcdiff._src.lax.checked import scatter_mul as scatter_mul
from funcdiff._src.lax.checked import scatter_sub as scatter_sub
from funcdiff._src.lax.checked import select as select
from funcdiff._src.lax.checked import select_n as select_n
from funcdiff._src.lax.checked import shift_left as shift_left
from funcdiff._src.lax.checked import sign as sign
from funcdiff._src.lax.checked import sin as sin
from funcdiff._src.lax.checked import sinh as sinh
from funcdiff._src.lax.checked import slice as slice
from funcdiff._src.lax.checked import slice_in_dim as slice_in_dim
from funcdiff._src.lax.checked import sort as sort
from funcdiff._src.lax.checked import sqrt as sqrt
from funcdiff._src.lax.checked import square as square
from funcdiff._src.lax.checked import squeeze as squeeze
from funcdiff._src.lax.checked import sub as sub
from funcdiff._src.lax.checked import tan as tan
from funcdiff._src.lax.checked import tanh as tanh
from funcdiff._src.lax.checked import top_k as top_k
from funcdiff._src.lax.checked import transpose as transpose
from funcdiff._src.lax.checked import zeta as zeta
from funcdiff._src.lax.conditionals import cond as cond
from funcdiff._src.lax.conditionals import switch as switch
from funcdiff._src.lax.convolution import ConvDimensionNumbers as ConvDimensionNumbers
from funcdiff._src.lax.convolution import conv_dimension_numbers as conv_dimension_numbers
from funcdiff._src.lax.convolution import conv_general_dilated_p as conv_general_dilated_p
from funcdiff._src.lax.convolution import conv_general_shape_tuple as conv_general_shape_tuple
from funcdiff._src.lax.convolution import conv_shape_tuple as conv_shape_tuple
from funcdiff._src.lax.convolution import padtype_to_pads as padtype_to_pads
from funcdiff._src.lax.elementwise import RoundingMethod as RoundingMethod
from funcdiff._src.lax.fft import FftType as FftType
from funcdiff._src.lax.gather_scatter import GatherDimensionNumbers as GatherDimensionNumbers
from funcdiff._src.lax.gather_scatter import GatherScatterMode as GatherScatterMode
from funcdiff._src.lax.gather_scatter import ScatterDimensionNumbers as ScatterDimensionNumbers
from funcdiff._src.lax.linalg import dot_general as _dot_general
from funcdiff._src.lax.loops import fori_loop as fori_loop
from funcdiff._src.lax.loops import while_loop as while_loop
from funcdiff._src.lax.scans import map as map
from funcdiff._src.lax.scans import scan as scan
from funcdiff._src.lax.slicing import Precision as Precision
from funcdiff._src.lax.windowed import reduce_window_max_p as reduce_window_max_p
from funcdiff._src.lax.windowed import reduce_window_min_p as reduce_window_min_p
from funcdiff._src.lax.windowed import reduce_window_shape_tuple as reduce_window_shape_tuple
from funcdiff._src.lax.windowed import reduce_window_sum_p as reduce_window_sum_p
from funcdiff.lax import linalg as linalg


@_checked_by_trace
def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """General tensor contraction (`precision` is accepted for JAX compatibility and ignored;
    `preferred_element_type` casts the result)."""
    out = _dot_general(lhs, rhs, dimension_numbers)
    if preferred_element_type is not None:
        out = convert_element_type(out, preferred_element_type)
    return out

"""Low-level operations, one per primitive, with JAX's `jax.lax` names and semantics.

Prefer `funcdiff.numpy` for everyday code; `funcdiff.lax` is stricter (no implicit rank
promotion for shape operations) and maps one-to-one onto the IR.
"""

# ruff: noqa: A004
from funcdiff._src.api import stop_gradient as stop_gradient
from funcdiff._src.lax.control_flow import cond as cond
from funcdiff._src.lax.control_flow import fori_loop as fori_loop
from funcdiff._src.lax.control_flow import map as map
from funcdiff._src.lax.control_flow import scan as scan
from funcdiff._src.lax.control_flow import switch as switch
from funcdiff._src.lax.control_flow import while_loop as while_loop
from funcdiff._src.lax.convolution import ConvDimensionNumbers as ConvDimensionNumbers
from funcdiff._src.lax.convolution import conv as conv
from funcdiff._src.lax.convolution import conv_dimension_numbers as conv_dimension_numbers
from funcdiff._src.lax.convolution import conv_general_dilated as conv_general_dilated
from funcdiff._src.lax.convolution import conv_general_dilated_p as conv_general_dilated_p
from funcdiff._src.lax.convolution import conv_general_shape_tuple as conv_general_shape_tuple
from funcdiff._src.lax.convolution import conv_shape_tuple as conv_shape_tuple
from funcdiff._src.lax.convolution import conv_transpose as conv_transpose
from funcdiff._src.lax.convolution import (
    conv_with_general_padding as conv_with_general_padding,
)
from funcdiff._src.lax.convolution import padtype_to_pads as padtype_to_pads
from funcdiff._src.lax.cumulative import cumlogsumexp as cumlogsumexp
from funcdiff._src.lax.cumulative import cummax as cummax
from funcdiff._src.lax.cumulative import cummin as cummin
from funcdiff._src.lax.cumulative import cumprod as cumprod
from funcdiff._src.lax.elementwise import RoundingMethod as RoundingMethod
from funcdiff._src.lax.elementwise import abs as abs
from funcdiff._src.lax.elementwise import add as add
from funcdiff._src.lax.elementwise import bitwise_and as bitwise_and
from funcdiff._src.lax.elementwise import bitwise_not as bitwise_not
from funcdiff._src.lax.elementwise import bitwise_or as bitwise_or
from funcdiff._src.lax.elementwise import bitwise_xor as bitwise_xor
from funcdiff._src.lax.elementwise import ceil as ceil
from funcdiff._src.lax.elementwise import clamp as clamp
from funcdiff._src.lax.elementwise import complex as complex
from funcdiff._src.lax.elementwise import convert_element_type as convert_element_type
from funcdiff._src.lax.elementwise import eq as eq
from funcdiff._src.lax.elementwise import floor as floor
from funcdiff._src.lax.elementwise import ge as ge
from funcdiff._src.lax.elementwise import gt as gt
from funcdiff._src.lax.elementwise import imag as imag
from funcdiff._src.lax.elementwise import integer_pow as integer_pow
from funcdiff._src.lax.elementwise import is_finite as is_finite
from funcdiff._src.lax.elementwise import lax_conj as conj  # noqa: F401 (JAX's conj)
from funcdiff._src.lax.elementwise import lax_div as div  # noqa: F401 (JAX's div)
from funcdiff._src.lax.elementwise import lax_round as round  # noqa: F401 (JAX's round)
from funcdiff._src.lax.elementwise import le as le
from funcdiff._src.lax.elementwise import lt as lt
from funcdiff._src.lax.elementwise import max as max
from funcdiff._src.lax.elementwise import min as min
from funcdiff._src.lax.elementwise import mul as mul
from funcdiff._src.lax.elementwise import ne as ne
from funcdiff._src.lax.elementwise import neg as neg
from funcdiff._src.lax.elementwise import real as real
from funcdiff._src.lax.elementwise import rem as rem
from funcdiff._src.lax.elementwise import select as select
from funcdiff._src.lax.elementwise import select_n as select_n
from funcdiff._src.lax.elementwise import shift_left as shift_left
from funcdiff._src.lax.elementwise import sign as sign
from funcdiff._src.lax.elementwise import square as square
from funcdiff._src.lax.elementwise import sub as sub
from funcdiff._src.lax.fft import FftType as FftType
from funcdiff._src.lax.fft import fft as fft
from funcdiff._src.lax.gather_scatter import GatherDimensionNumbers as GatherDimensionNumbers
from funcdiff._src.lax.gather_scatter import GatherScatterMode as GatherScatterMode
from funcdiff._src.lax.gather_scatter import ScatterDimensionNumbers as ScatterDimensionNumbers
from funcdiff._src.lax.gather_scatter import gather as gather
from funcdiff._src.lax.gather_scatter import scatter as scatter
from funcdiff._src.lax.gather_scatter import scatter_add as scatter_add
from funcdiff._src.lax.gather_scatter import scatter_max as scatter_max
from funcdiff._src.lax.gather_scatter import scatter_min as scatter_min
from funcdiff._src.lax.gather_scatter import scatter_mul as scatter_mul
from funcdiff._src.lax.gather_scatter import scatter_sub as scatter_sub
from funcdiff._src.lax.indexing import dynamic_slice as dynamic_slice
from funcdiff._src.lax.indexing import dynamic_update_slice as dynamic_update_slice
from funcdiff._src.lax.linalg import dot_general as _dot_general
from funcdiff._src.lax.reductions import argmax as argmax
from funcdiff._src.lax.reductions import argmin as argmin
from funcdiff._src.lax.reductions import cumsum as cumsum
from funcdiff._src.lax.reductions import reduce_and as reduce_and
from funcdiff._src.lax.reductions import reduce_max as reduce_max
from funcdiff._src.lax.reductions import reduce_min as reduce_min
from funcdiff._src.lax.reductions import reduce_or as reduce_or
from funcdiff._src.lax.reductions import reduce_prod as reduce_prod
from funcdiff._src.lax.reductions import reduce_sum as reduce_sum
from funcdiff._src.lax.shape import broadcast_in_dim as broadcast_in_dim
from funcdiff._src.lax.shape import broadcast_to as broadcast_to
from funcdiff._src.lax.shape import concatenate as concatenate
from funcdiff._src.lax.shape import expand_dims as expand_dims
from funcdiff._src.lax.shape import pad as pad
from funcdiff._src.lax.shape import reshape as reshape
from funcdiff._src.lax.shape import rev as rev
from funcdiff._src.lax.shape import slice as slice
from funcdiff._src.lax.shape import squeeze as squeeze
from funcdiff._src.lax.shape import transpose as transpose
from funcdiff._src.lax.slicing import Precision as Precision
from funcdiff._src.lax.slicing import dynamic_index_in_dim as dynamic_index_in_dim
from funcdiff._src.lax.slicing import dynamic_slice_in_dim as dynamic_slice_in_dim
from funcdiff._src.lax.slicing import dynamic_update_index_in_dim as dynamic_update_index_in_dim
from funcdiff._src.lax.slicing import dynamic_update_slice_in_dim as dynamic_update_slice_in_dim
from funcdiff._src.lax.slicing import index_in_dim as index_in_dim
from funcdiff._src.lax.slicing import slice_in_dim as slice_in_dim
from funcdiff._src.lax.slicing import top_k as top_k
from funcdiff._src.lax.sorting import argsort as argsort
from funcdiff._src.lax.sorting import sort as sort
from funcdiff._src.lax.transcendental import acos as acos
from funcdiff._src.lax.transcendental import acosh as acosh
from funcdiff._src.lax.transcendental import asin as asin
from funcdiff._src.lax.transcendental import asinh as asinh
from funcdiff._src.lax.transcendental import atan as atan
from funcdiff._src.lax.transcendental import atan2 as atan2
from funcdiff._src.lax.transcendental import atanh as atanh
from funcdiff._src.lax.transcendental import cbrt as cbrt
from funcdiff._src.lax.transcendental import cos as cos
from funcdiff._src.lax.transcendental import cosh as cosh
from funcdiff._src.lax.transcendental import erf as erf
from funcdiff._src.lax.transcendental import erfc as erfc
from funcdiff._src.lax.transcendental import exp as exp
from funcdiff._src.lax.transcendental import expm1 as expm1
from funcdiff._src.lax.transcendental import log as log
from funcdiff._src.lax.transcendental import log1p as log1p
from funcdiff._src.lax.transcendental import logistic as logistic
from funcdiff._src.lax.transcendental import pow as pow
from funcdiff._src.lax.transcendental import rsqrt as rsqrt
from funcdiff._src.lax.transcendental import sin as sin
from funcdiff._src.lax.transcendental import sinh as sinh
from funcdiff._src.lax.transcendental import sqrt as sqrt
from funcdiff._src.lax.transcendental import tan as tan
from funcdiff._src.lax.transcendental import tanh as tanh
from funcdiff._src.lax.windowed import reduce_window as reduce_window
from funcdiff._src.lax.windowed import reduce_window_max_p as reduce_window_max_p
from funcdiff._src.lax.windowed import reduce_window_min_p as reduce_window_min_p
from funcdiff._src.lax.windowed import reduce_window_shape_tuple as reduce_window_shape_tuple
from funcdiff._src.lax.windowed import reduce_window_sum_p as reduce_window_sum_p
from funcdiff.lax import linalg as linalg


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """General tensor contraction (`precision` is accepted for JAX compatibility and ignored;
    `preferred_element_type` casts the result)."""
    out = _dot_general(lhs, rhs, dimension_numbers)
    if preferred_element_type is not None:
        out = convert_element_type(out, preferred_element_type)
    return out

"""funcdiff: JAX's functional transformations (grad, jvp, vjp, jacobians) on plain NumPy.

```python
import funcdiff
import funcdiff.numpy as jnp

grad_tanh = funcdiff.grad(jnp.tanh)
```
"""

from funcdiff import debug as debug
from funcdiff import dtypes as dtypes
from funcdiff import errors as errors
from funcdiff import flatten_util as flatten_util
from funcdiff import io as io
from funcdiff import lax as lax
from funcdiff import nn as nn
from funcdiff import numpy as numpy
from funcdiff import optim as optim
from funcdiff import random as random
from funcdiff import scipy as scipy
from funcdiff import test_util as test_util
from funcdiff import tree as tree
from funcdiff import tree_util as tree_util
from funcdiff import typing as typing
from funcdiff._src.api import grad as grad
from funcdiff._src.api import hessian as hessian
from funcdiff._src.api import jacfwd as jacfwd
from funcdiff._src.api import jacrev as jacobian  # noqa: F401 (JAX's alias of jacrev)
from funcdiff._src.api import jacrev as jacrev
from funcdiff._src.api import jvp as jvp
from funcdiff._src.api import linearize as linearize
from funcdiff._src.api import make_jaxpr as make_jaxpr
from funcdiff._src.api import stop_gradient as stop_gradient
from funcdiff._src.api import typeof as typeof
from funcdiff._src.api import value_and_grad as value_and_grad
from funcdiff._src.api import vjp as vjp
from funcdiff._src.api_extras import check_tracer_leaks as check_tracer_leaks
from funcdiff._src.api_extras import checking_leaks as checking_leaks
from funcdiff._src.api_extras import clear_caches as clear_caches
from funcdiff._src.api_extras import default_device as default_device
from funcdiff._src.api_extras import default_matmul_precision as default_matmul_precision
from funcdiff._src.api_extras import enable_x64 as enable_x64
from funcdiff._src.api_extras import ensure_compile_time_eval as ensure_compile_time_eval
from funcdiff._src.api_extras import eval_shape as eval_shape
from funcdiff._src.api_extras import explain_cache_misses as explain_cache_misses
from funcdiff._src.api_extras import local_device_count as local_device_count
from funcdiff._src.api_extras import log_compiles as log_compiles
from funcdiff._src.api_extras import named_call as named_call
from funcdiff._src.api_extras import named_scope as named_scope
from funcdiff._src.api_extras import numpy_dtype_promotion as numpy_dtype_promotion
from funcdiff._src.api_extras import numpy_rank_promotion as numpy_rank_promotion
from funcdiff._src.api_extras import print_environment_info as print_environment_info
from funcdiff._src.api_extras import process_count as process_count
from funcdiff._src.api_extras import process_index as process_index
from funcdiff._src.api_extras import pure_callback as pure_callback
from funcdiff._src.array import Array as Array
from funcdiff._src.array import Device as Device
from funcdiff._src.array import block_until_ready as block_until_ready
from funcdiff._src.array import default_backend as default_backend
from funcdiff._src.array import device_count as device_count
from funcdiff._src.array import device_get as device_get
from funcdiff._src.array import device_put as device_put
from funcdiff._src.array import devices as devices
from funcdiff._src.array import local_devices as local_devices
from funcdiff._src.checkpoint import checkpoint as checkpoint
from funcdiff._src.checkpoint import remat as remat
from funcdiff._src.checkpoint_policies import checkpoint_policies as checkpoint_policies
from funcdiff._src.config import config as config
from funcdiff._src.config import debug_infs as debug_infs
from funcdiff._src.config import debug_nans as debug_nans
from funcdiff._src.config import disable_jit as disable_jit
from funcdiff._src.custom_gradient import custom_gradient as custom_gradient
from funcdiff._src.custom_jvp import custom_jvp as custom_jvp
from funcdiff._src.custom_vjp import custom_vjp as custom_vjp
from funcdiff._src.dtypes import float0 as float0
from funcdiff._src.errors import BackendError as BackendError
from funcdiff._src.errors import ConcretizationTypeError as ConcretizationTypeError
from funcdiff._src.errors import NonConcreteBooleanIndexError as NonConcreteBooleanIndexError
from funcdiff._src.errors import TracerArrayConversionError as TracerArrayConversionError
from funcdiff._src.errors import TracerBoolConversionError as TracerBoolConversionError
from funcdiff._src.errors import TracerIntegerConversionError as TracerIntegerConversionError
from funcdiff._src.errors import UnexpectedTracerError as UnexpectedTracerError
from funcdiff._src.implicit import closure_convert as closure_convert
from funcdiff._src.jit.api import jit as jit
from funcdiff._src.linear_transpose import linear_transpose as linear_transpose
from funcdiff._src.shape_dtype import ShapeDtypeStruct as ShapeDtypeStruct
from funcdiff._src.vmap import vmap as vmap

__version__ = "0.1.0"
from funcdiff._src.cost_analysis import cost_analysis as cost_analysis  # noqa: E402
from funcdiff._src.cost_analysis import cost_sweep as cost_sweep  # noqa: E402
from funcdiff._src.graph import graph as graph  # noqa: E402

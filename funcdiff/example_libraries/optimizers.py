"""The optimizers of JAX's examples, as `jax.example_libraries.optimizers`: each maker returns
`(init_fn, update_fn, params_fn)` over pytrees of parameters."""

from funcdiff._src.example_optimizers import JoinPoint as JoinPoint
from funcdiff._src.example_optimizers import Optimizer as Optimizer
from funcdiff._src.example_optimizers import OptimizerState as OptimizerState
from funcdiff._src.example_optimizers import adagrad as adagrad
from funcdiff._src.example_optimizers import adam as adam
from funcdiff._src.example_optimizers import adamax as adamax
from funcdiff._src.example_optimizers import clip_grads as clip_grads
from funcdiff._src.example_optimizers import constant as constant
from funcdiff._src.example_optimizers import exponential_decay as exponential_decay
from funcdiff._src.example_optimizers import inverse_time_decay as inverse_time_decay
from funcdiff._src.example_optimizers import l2_norm as l2_norm
from funcdiff._src.example_optimizers import make_schedule as make_schedule
from funcdiff._src.example_optimizers import momentum as momentum
from funcdiff._src.example_optimizers import nesterov as nesterov
from funcdiff._src.example_optimizers import optimizer as optimizer
from funcdiff._src.example_optimizers import pack_optimizer_state as pack_optimizer_state
from funcdiff._src.example_optimizers import piecewise_constant as piecewise_constant
from funcdiff._src.example_optimizers import polynomial_decay as polynomial_decay
from funcdiff._src.example_optimizers import rmsprop as rmsprop
from funcdiff._src.example_optimizers import rmsprop_momentum as rmsprop_momentum
from funcdiff._src.example_optimizers import sgd as sgd
from funcdiff._src.example_optimizers import sm3 as sm3
from funcdiff._src.example_optimizers import unpack_optimizer_state as unpack_optimizer_state

__all__ = [
    "JoinPoint",
    "Optimizer",
    "OptimizerState",
    "adagrad",
    "adam",
    "adamax",
    "clip_grads",
    "constant",
    "exponential_decay",
    "inverse_time_decay",
    "l2_norm",
    "make_schedule",
    "momentum",
    "nesterov",
    "optimizer",
    "pack_optimizer_state",
    "piecewise_constant",
    "polynomial_decay",
    "rmsprop",
    "rmsprop_momentum",
    "sgd",
    "sm3",
    "unpack_optimizer_state",
]

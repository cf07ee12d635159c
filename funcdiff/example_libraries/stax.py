"""The neural-network library of JAX's examples, as `jax.example_libraries.stax`: a layer is
a pair `(init_fun, apply_fun)`, with `init_fun(rng, input_shape) -> (output_shape, params)`
and `apply_fun(params, inputs, **kwargs) -> outputs`."""

from funcdiff._src.example_stax import AvgPool as AvgPool
from funcdiff._src.example_stax import BatchNorm as BatchNorm
from funcdiff._src.example_stax import Conv as Conv
from funcdiff._src.example_stax import Conv1DTranspose as Conv1DTranspose
from funcdiff._src.example_stax import ConvTranspose as ConvTranspose
from funcdiff._src.example_stax import Dense as Dense
from funcdiff._src.example_stax import Elu as Elu
from funcdiff._src.example_stax import Exp as Exp
from funcdiff._src.example_stax import Gelu as Gelu
from funcdiff._src.example_stax import GeneralConv as GeneralConv
from funcdiff._src.example_stax import GeneralConvTranspose as GeneralConvTranspose
from funcdiff._src.example_stax import LeakyRelu as LeakyRelu
from funcdiff._src.example_stax import LogSoftmax as LogSoftmax
from funcdiff._src.example_stax import MaxPool as MaxPool
from funcdiff._src.example_stax import Relu as Relu
from funcdiff._src.example_stax import Selu as Selu
from funcdiff._src.example_stax import Sigmoid as Sigmoid
from funcdiff._src.example_stax import Softmax as Softmax
from funcdiff._src.example_stax import Softplus as Softplus
from funcdiff._src.example_stax import SumPool as SumPool
from funcdiff._src.example_stax import Tanh as Tanh
from funcdiff._src.example_stax import elementwise as elementwise
from funcdiff._src.example_stax_combinators import Dropout as Dropout
from funcdiff._src.example_stax_combinators import FanInConcat as FanInConcat
from funcdiff._src.example_stax_combinators import FanInSum as FanInSum
from funcdiff._src.example_stax_combinators import FanOut as FanOut
from funcdiff._src.example_stax_combinators import Flatten as Flatten
from funcdiff._src.example_stax_combinators import Identity as Identity
from funcdiff._src.example_stax_combinators import parallel as parallel
from funcdiff._src.example_stax_combinators import serial as serial
from funcdiff._src.example_stax_combinators import shape_dependent as shape_dependent

__all__ = [
    "AvgPool",
    "BatchNorm",
    "Conv",
    "Conv1DTranspose",
    "ConvTranspose",
    "Dense",
    "Dropout",
    "Elu",
    "Exp",
    "FanInConcat",
    "FanInSum",
    "FanOut",
    "Flatten",
    "Gelu",
    "GeneralConv",
    "GeneralConvTranspose",
    "Identity",
    "LeakyRelu",
    "LogSoftmax",
    "MaxPool",
    "Relu",
    "Selu",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "SumPool",
    "Tanh",
    "elementwise",
    "parallel",
    "serial",
    "shape_dependent",
]

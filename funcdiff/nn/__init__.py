"""Neural-network helpers with `jax.nn`'s names: activations, softmax, one-hot, attention,
losses, and the `initializers` submodule (``from funcdiff import nn``,
``import funcdiff.nn.initializers``)."""

from funcdiff._src.losses import huber_loss as huber_loss
from funcdiff._src.losses import l2_loss as l2_loss
from funcdiff._src.losses import mean_squared_error as mean_squared_error
from funcdiff._src.losses import sigmoid_binary_cross_entropy as sigmoid_binary_cross_entropy
from funcdiff._src.losses import softmax_cross_entropy as softmax_cross_entropy
from funcdiff._src.losses import (
    softmax_cross_entropy_with_integer_labels as softmax_cross_entropy_with_integer_labels,
)
from funcdiff._src.losses import squared_error as squared_error
from funcdiff._src.nn import elu as elu
from funcdiff._src.nn import gelu as gelu
from funcdiff._src.nn import leaky_relu as leaky_relu
from funcdiff._src.nn import log_sigmoid as log_sigmoid
from funcdiff._src.nn import log_softmax as log_softmax
from funcdiff._src.nn import logsumexp as logsumexp
from funcdiff._src.nn import one_hot as one_hot
from funcdiff._src.nn import relu as relu
from funcdiff._src.nn import sigmoid as sigmoid
from funcdiff._src.nn import silu as silu
from funcdiff._src.nn import softmax as softmax
from funcdiff._src.nn import softplus as softplus
from funcdiff._src.nn import standardize as standardize
from funcdiff._src.nn import swish as swish
from funcdiff._src.nn_functions import celu as celu
from funcdiff._src.nn_functions import dot_product_attention as dot_product_attention
from funcdiff._src.nn_functions import glu as glu
from funcdiff._src.nn_functions import hard_sigmoid as hard_sigmoid
from funcdiff._src.nn_functions import hard_silu as hard_silu
from funcdiff._src.nn_functions import hard_swish as hard_swish
from funcdiff._src.nn_functions import hard_tanh as hard_tanh
from funcdiff._src.nn_functions import identity as identity
from funcdiff._src.nn_functions import log1mexp as log1mexp
from funcdiff._src.nn_functions import logmeanexp as logmeanexp
from funcdiff._src.nn_functions import mish as mish
from funcdiff._src.nn_functions import relu6 as relu6
from funcdiff._src.nn_functions import selu as selu
from funcdiff._src.nn_functions import soft_sign as soft_sign
from funcdiff._src.nn_functions import sparse_plus as sparse_plus
from funcdiff._src.nn_functions import sparse_sigmoid as sparse_sigmoid
from funcdiff._src.nn_functions import squareplus as squareplus
from funcdiff._src.nn_functions import tanh as tanh
from funcdiff._src.nn_scaled import get_scaled_dot_general_config as get_scaled_dot_general_config
from funcdiff._src.nn_scaled import scaled_dot_general as scaled_dot_general
from funcdiff._src.nn_scaled import scaled_matmul as scaled_matmul
from funcdiff.nn import initializers as initializers

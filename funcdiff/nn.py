"""Neural-network helpers: activations, softmax, one-hot, losses, and `initializers`
(``from funcdiff import nn``)."""

from funcdiff import nn_initializers as initializers  # noqa: F401 (the namespace, re-exported)
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

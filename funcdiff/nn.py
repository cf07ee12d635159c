"""Neural-network helpers: activations, softmax, one-hot (``from funcdiff import nn``)."""

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

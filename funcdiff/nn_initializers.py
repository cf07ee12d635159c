"""Weight initialisers, mirroring `jax.nn.initializers`; available as `funcdiff.nn.initializers`.

```python
from funcdiff import nn, random

init = nn.initializers.glorot_uniform()
w = init(random.key(0), (784, 128))
b = nn.initializers.zeros(random.key(1), (128,))
```
"""

from funcdiff._src.nn_init import Initializer as Initializer
from funcdiff._src.nn_init import compute_fans as compute_fans
from funcdiff._src.nn_init import constant as constant
from funcdiff._src.nn_init import glorot_normal as glorot_normal
from funcdiff._src.nn_init import glorot_uniform as glorot_uniform
from funcdiff._src.nn_init import he_normal as he_normal
from funcdiff._src.nn_init import he_uniform as he_uniform
from funcdiff._src.nn_init import kaiming_normal as kaiming_normal
from funcdiff._src.nn_init import kaiming_uniform as kaiming_uniform
from funcdiff._src.nn_init import lecun_normal as lecun_normal
from funcdiff._src.nn_init import lecun_uniform as lecun_uniform
from funcdiff._src.nn_init import normal as normal
from funcdiff._src.nn_init import ones as ones
from funcdiff._src.nn_init import orthogonal as orthogonal
from funcdiff._src.nn_init import truncated_normal as truncated_normal
from funcdiff._src.nn_init import uniform as uniform
from funcdiff._src.nn_init import variance_scaling as variance_scaling
from funcdiff._src.nn_init import xavier_normal as xavier_normal
from funcdiff._src.nn_init import xavier_uniform as xavier_uniform
from funcdiff._src.nn_init import zeros as zeros
from funcdiff._src.nn_init_conv import delta_orthogonal as delta_orthogonal

"""Optimisers as pure functions, with optax's names and semantics: ``from funcdiff import optim``.

A gradient transformation is a pair `(init, update)`: ``state = opt.init(params)``, then
``updates, state = opt.update(grads, state, params)`` and
``params = optim.apply_updates(params, updates)``. States are pytrees of arrays, so they pass
through funcdiff's transformations and can be saved with `funcdiff.io`. Any learning rate may
be a number or a schedule.

```python
import numpy as np
import funcdiff
import funcdiff.numpy as jnp
from funcdiff import optim

def loss(params):
    return jnp.sum((params["w"] - 1.0) ** 2)

params = {"w": np.zeros(3)}
opt = optim.adam(0.1)
state = opt.init(params)
for _ in range(100):
    updates, state = opt.update(funcdiff.grad(loss)(params), state, params)
    params = optim.apply_updates(params, updates)
```
"""

from funcdiff._src.optim.alias import adadelta as adadelta
from funcdiff._src.optim.alias import adagrad as adagrad
from funcdiff._src.optim.alias import adam as adam
from funcdiff._src.optim.alias import adamax as adamax
from funcdiff._src.optim.alias import adamw as adamw
from funcdiff._src.optim.alias import lamb as lamb
from funcdiff._src.optim.alias import lion as lion
from funcdiff._src.optim.alias import nadam as nadam
from funcdiff._src.optim.alias import rmsprop as rmsprop
from funcdiff._src.optim.alias import sgd as sgd
from funcdiff._src.optim.base import EmptyState as EmptyState
from funcdiff._src.optim.base import GradientTransformation as GradientTransformation
from funcdiff._src.optim.base import OptState as OptState
from funcdiff._src.optim.base import Params as Params
from funcdiff._src.optim.base import ScalarOrSchedule as ScalarOrSchedule
from funcdiff._src.optim.base import Schedule as Schedule
from funcdiff._src.optim.base import TransformInitFn as TransformInitFn
from funcdiff._src.optim.base import TransformUpdateFn as TransformUpdateFn
from funcdiff._src.optim.base import Updates as Updates
from funcdiff._src.optim.base import apply_updates as apply_updates
from funcdiff._src.optim.base import chain as chain
from funcdiff._src.optim.base import identity as identity
from funcdiff._src.optim.base import init_empty_state as init_empty_state
from funcdiff._src.optim.base import set_to_zero as set_to_zero
from funcdiff._src.optim.schedules import constant_schedule as constant_schedule
from funcdiff._src.optim.schedules import cosine_decay_schedule as cosine_decay_schedule
from funcdiff._src.optim.schedules import exponential_decay as exponential_decay
from funcdiff._src.optim.schedules import join_schedules as join_schedules
from funcdiff._src.optim.schedules import linear_schedule as linear_schedule
from funcdiff._src.optim.schedules import (
    piecewise_constant_schedule as piecewise_constant_schedule,
)
from funcdiff._src.optim.schedules import polynomial_schedule as polynomial_schedule
from funcdiff._src.optim.schedules import (
    warmup_cosine_decay_schedule as warmup_cosine_decay_schedule,
)
from funcdiff._src.optim.transforms import ScaleByAdaDeltaState as ScaleByAdaDeltaState
from funcdiff._src.optim.transforms import ScaleByAdamState as ScaleByAdamState
from funcdiff._src.optim.transforms import ScaleByLionState as ScaleByLionState
from funcdiff._src.optim.transforms import ScaleByRmsState as ScaleByRmsState
from funcdiff._src.optim.transforms import ScaleByRmsWithCountState as ScaleByRmsWithCountState
from funcdiff._src.optim.transforms import ScaleByRssState as ScaleByRssState
from funcdiff._src.optim.transforms import ScaleByRStdDevState as ScaleByRStdDevState
from funcdiff._src.optim.transforms import (
    ScaleByRStdDevWithCountState as ScaleByRStdDevWithCountState,
)
from funcdiff._src.optim.transforms import ScaleByScheduleState as ScaleByScheduleState
from funcdiff._src.optim.transforms import TraceState as TraceState
from funcdiff._src.optim.transforms import scale as scale
from funcdiff._src.optim.transforms import scale_by_adadelta as scale_by_adadelta
from funcdiff._src.optim.transforms import scale_by_adam as scale_by_adam
from funcdiff._src.optim.transforms import scale_by_adamax as scale_by_adamax
from funcdiff._src.optim.transforms import scale_by_learning_rate as scale_by_learning_rate
from funcdiff._src.optim.transforms import scale_by_lion as scale_by_lion
from funcdiff._src.optim.transforms import scale_by_rms as scale_by_rms
from funcdiff._src.optim.transforms import scale_by_rss as scale_by_rss
from funcdiff._src.optim.transforms import scale_by_schedule as scale_by_schedule
from funcdiff._src.optim.transforms import scale_by_stddev as scale_by_stddev
from funcdiff._src.optim.transforms import scale_by_trust_ratio as scale_by_trust_ratio
from funcdiff._src.optim.transforms import trace as trace
from funcdiff._src.optim.tree_math import global_norm as global_norm
from funcdiff._src.optim.wrappers import AddDecayedWeightsState as AddDecayedWeightsState
from funcdiff._src.optim.wrappers import MaskedNode as MaskedNode
from funcdiff._src.optim.wrappers import MaskedState as MaskedState
from funcdiff._src.optim.wrappers import MultiTransformState as MultiTransformState
from funcdiff._src.optim.wrappers import PartitionState as PartitionState
from funcdiff._src.optim.wrappers import add_decayed_weights as add_decayed_weights
from funcdiff._src.optim.wrappers import clip as clip
from funcdiff._src.optim.wrappers import clip_by_global_norm as clip_by_global_norm
from funcdiff._src.optim.wrappers import masked as masked
from funcdiff._src.optim.wrappers import multi_transform as multi_transform
from funcdiff._src.optim.wrappers import partition as partition

"""Rematerialisation and its policies, as JAX's `jax.ad_checkpoint`: `checkpoint` (`remat`),
`checkpoint_name` to name values, the `checkpoint_policies` that choose the values saved for
the backward pass, and `print_saved_residuals` to see them."""

from funcdiff._src.checkpoint import checkpoint as checkpoint
from funcdiff._src.checkpoint import remat as remat
from funcdiff._src.checkpoint_policies import Offloadable as Offloadable
from funcdiff._src.checkpoint_policies import Recompute as Recompute
from funcdiff._src.checkpoint_policies import Saveable as Saveable
from funcdiff._src.checkpoint_policies import checkpoint_name as checkpoint_name
from funcdiff._src.checkpoint_policies import checkpoint_policies as checkpoint_policies
from funcdiff._src.saved_residuals import print_saved_residuals as print_saved_residuals
from funcdiff._src.saved_residuals import saved_residuals as saved_residuals

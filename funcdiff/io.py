"""Saving and loading pytrees of arrays without pickle: ``from funcdiff import io``.

```python
import numpy as np
from funcdiff import io

params = {"w": np.ones((2, 3)), "b": np.zeros(3)}
io.save("params.npz", params)
params = io.load("params.npz", like=params)   # checks structure, shapes and dtypes
```
"""

from funcdiff._src.io import CheckpointError as CheckpointError
from funcdiff._src.io import load as load
from funcdiff._src.io import save as save

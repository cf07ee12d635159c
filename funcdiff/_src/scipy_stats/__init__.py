"""`funcdiff.scipy.stats`: one module per distribution, with JAX's functions and signatures,
composed from `funcdiff.numpy` and `funcdiff.scipy.special` (so every transformation applies)."""

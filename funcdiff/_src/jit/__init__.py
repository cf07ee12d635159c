"""`jit` in one package: `api` (the `jit` transformation and its primitive), `passes` (the IR
optimisations), `lowering` (the NumPy code generator) and `cache` (compiled programs, per
jaxpr). Nothing in `core`, `interpreters/` or `lax/` imports this package; it reads the rule
tables those layers fill."""

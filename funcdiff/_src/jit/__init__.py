"""`jit` in one package, lowest first: `lowering` (the NumPy code generator) and `passes` (the
IR optimisations), `cache` (compiled programs, per jaxpr), `primitive` (the `jit` primitive and
its rules), `array_api_rules` and `array_api_calls` (the lowering rules for other Array API
namespaces) and `backends` (compiling for and calling those), `signature` (the cache key of a
call), and `api` (the `jit` transformation users call). Nothing in `core`, `interpreters/` or
`lax/` imports this package; it reads the rule tables those layers fill."""

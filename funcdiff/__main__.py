"""``python -m funcdiff``: a short tour of funcdiff on a small neural network.

It traces the network's loss to the IR, prints it, computes the gradient with respect to a dict
of parameters, checks it against finite differences, and compares forward mode (one JVP per
input direction) with reverse mode (one VJP) on the same function.

Two subcommands work on a function of your own, evaluated on random inputs of given shapes:

* ``python -m funcdiff cost MODULE:FUNCTION --shape 3,4 --shape 4`` prints the cost of the
  function, its JVP, its VJP and its Jacobian in both modes (`funcdiff.cost_analysis`);
* ``python -m funcdiff graph MODULE:FUNCTION --shape 3 -o graph.svg`` writes its computation
  graph (`funcdiff.graph`) as DOT, Mermaid or SVG.

MODULE is an importable module name or the path of a ``.py`` file. Bad input on the command
line (an unknown module or function, a module that fails or exits while being imported, a
malformed or too large shape, a number of ``--shape`` flags that does not match the function, an
output that cannot be written, a negative ``--repeats``) prints one line naming the argument and
exits with status 2, before any work. An exception raised by the function on the inputs prints
one line, with the function's line where it arose, and exits with status 1.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import math
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import funcdiff
import funcdiff.numpy as jnp
from funcdiff.test_util import numerical_jvp


def _loss(params: dict, x: np.ndarray, y: np.ndarray) -> jnp.ndarray:
    hidden = jnp.tanh(x @ params["w1"] + params["b1"])
    logits = hidden @ params["w2"] + params["b2"]
    log_probs = funcdiff.nn.log_softmax(logits)
    return -jnp.mean(jnp.sum(log_probs * y, axis=-1))


def main() -> int:
    rng = np.random.default_rng(0)
    params = {
        "w1": rng.normal(size=(4, 8)) * 0.5,
        "b1": np.zeros(8),
        "w2": rng.normal(size=(8, 3)) * 0.5,
        "b2": np.zeros(3),
    }
    x = rng.normal(size=(5, 4))
    y = np.eye(3)[rng.integers(0, 3, size=5)]

    print("funcdiff tour: a 4-8-3 tanh network with softmax cross-entropy\n")
    print("1. The traced program (make_jaxpr):\n")
    print(funcdiff.make_jaxpr(_loss)(params, x, y))

    loss, grads = funcdiff.value_and_grad(_loss)(params, x, y)
    print(f"\n2. loss = {loss:.6f}; gradient shapes:",
          {k: v.shape for k, v in grads.items()})
    direction = {k: rng.normal(size=v.shape) for k, v in params.items()}
    analytic = sum(float(np.sum(grads[k] * direction[k])) for k in params)
    numeric = numerical_jvp(lambda p: _loss(p, x, y), (params,), (direction,))
    print(f"   directional derivative: reverse mode {analytic:.10f}, "
          f"central differences {float(numeric):.10f}")

    print("\n3. Forward versus reverse mode for the full gradient "
          f"({sum(v.size for v in params.values())} inputs, 1 output):\n")
    flat, unravel = _ravel(params)
    f_flat = lambda v: _loss(unravel(v), x, y)  # noqa: E731
    same = np.allclose(funcdiff.grad(f_flat)(flat), funcdiff.jacfwd(f_flat)(flat))
    print(funcdiff.cost_analysis(f_flat, repeats=5)(flat))
    print(f"\n   jacfwd and jacrev give the same gradient: {same}")
    print("\nReverse mode needs one pass per output, forward mode one per input (batched here "
          "by vmap): for a scalar loss of many parameters, reverse mode does far less work.")
    return 0


def _ravel(tree: dict) -> tuple[np.ndarray, object]:
    keys = sorted(tree)
    shapes = [tree[k].shape for k in keys]
    sizes = [int(np.prod(s)) for s in shapes]
    flat = np.concatenate([np.ravel(tree[k]) for k in keys])

    def unravel(v):
        out, start = {}, 0
        for k, shape, n in zip(keys, shapes, sizes):
            out[k] = jnp.reshape(v[start : start + n], shape)
            start += n
        return out

    return flat, unravel


# ---- subcommands: cost and graph ------------------------------------------------------------

_PROG = "python -m funcdiff"


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line on stderr, exit status 2."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{_PROG}: error: {message}\n")


class _UsageError(Exception):
    """Bad input on the command line (not the user's function's fault): one line, status 2."""


class _FunctionError(Exception):
    """The user's function raised on the given inputs: one line, status 1."""


# The most bytes of random inputs the subcommands create (checked before allocating them).
_MAX_INPUT_BYTES = 2**30


def _shape(text: str) -> tuple[int, ...]:
    """``"3,4"`` -> (3, 4); ``""`` or ``"()"`` for a scalar."""
    body = text.strip().strip("()")
    if not body.strip():
        return ()
    try:
        dims = tuple(int(d) for d in body.rstrip(",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"malformed shape {text!r}: write sizes separated by commas, e.g. 3,4 "
            "(or \"\" for a scalar)") from None
    if any(d < 0 for d in dims):
        raise argparse.ArgumentTypeError(f"malformed shape {text!r}: sizes must be >= 0")
    if len(dims) > 32:
        raise argparse.ArgumentTypeError(
            f"malformed shape {text!r}: {len(dims)} dimensions, at most 32")
    return dims


def _count(text: str) -> int:
    """A non-negative int (``--repeats``, ``--seed``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _load(spec: str) -> tuple[Callable[..., Any], str | None]:
    """The function named by ``MODULE:FUNCTION``, and the file of its module."""
    module_name, sep, fn_name = spec.rpartition(":")
    if not sep or not module_name or not fn_name:
        raise _UsageError(f"expected MODULE:FUNCTION, got {spec!r}")
    try:
        if module_name.endswith(".py") or os.sep in module_name:
            path = Path(module_name)
            if not path.is_file():
                raise _UsageError(f"no such file: {module_name}")
            spec_ = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec_)  # type: ignore[arg-type]
            spec_.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except _UsageError:
        raise
    except SystemExit as e:  # reported, not obeyed: the command did not do its work
        raise _UsageError(f"cannot import module {module_name!r}: it called "
                          f"sys.exit({e.code!r}) while being imported") from None
    except Exception as e:  # the user's module failed to import
        raise _UsageError(f"cannot import module {module_name!r}: {type(e).__name__}: "
                          f"{e}") from None
    fun = getattr(module, fn_name, None)
    if fun is None:
        raise _UsageError(f"module {module_name!r} has no function {fn_name!r}")
    if not callable(fun):
        raise _UsageError(f"{spec} is a {type(fun).__name__}, not a function")
    return fun, getattr(module, "__file__", None)


def _check_arity(fun: Callable[..., Any], spec: str, n: int) -> None:
    """One ``--shape`` per positional argument the function needs."""
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):  # no signature to check against
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    missing_keyword = [p.name for p in params if p.kind == p.KEYWORD_ONLY
                       and p.default is p.empty]
    if len(required) <= n and (varargs or n <= len(positional)) and not missing_keyword:
        return
    if missing_keyword:
        raise _UsageError(f"{spec} has keyword-only parameters without defaults "
                          f"({', '.join(missing_keyword)}); the CLI passes positional arrays "
                          "only")
    names = ", ".join(p.name for p in positional)
    wanted = (f"at least {len(required)}" if varargs
              else str(len(required)) if len(required) == len(positional)
              else f"{len(required)} to {len(positional)}")
    raise _UsageError(f"argument --shape: {spec} takes {wanted} positional arguments "
                      f"({names}), but {n} --shape {'was' if n == 1 else 'were'} given; pass "
                      "one --shape per argument")


def _inputs(shapes: Sequence[tuple[int, ...]], dtype: str, seed: int) -> list[np.ndarray]:
    itemsize = np.dtype(dtype).itemsize
    total = 0
    for shape in shapes:
        total += math.prod(shape) * itemsize
        if total > _MAX_INPUT_BYTES:
            raise _UsageError(
                f"argument --shape {','.join(map(str, shape))}: the {dtype} inputs would take "
                f"{total:,} bytes, more than the limit of {_MAX_INPUT_BYTES:,}")
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def _check_output(path: str, flag: str) -> None:
    """Refuse an output path that cannot be written before doing any work."""
    folder = Path(path).parent
    if Path(path).is_dir():
        raise _UsageError(f"argument {flag}: {path} is a folder; give a file name")
    if not folder.is_dir():
        raise _UsageError(f"argument {flag}: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise _UsageError(f"argument {flag}: cannot write into the folder {str(folder)!r}")


def _write(path: str, flag: str, write: Callable[[], Any]) -> None:
    try:
        write()
    except (OSError, ValueError) as e:
        raise _UsageError(f"argument {flag}: cannot write {path}: {type(e).__name__}: "
                          f"{e}") from None


def _user_line(error: BaseException, module_file: str | None) -> str:
    """``file:line in function: source`` for the innermost traceback entry in the user's
    module (else the innermost outside funcdiff), following chained exceptions."""
    frames: list[traceback.FrameSummary] = []
    seen: set[int] = set()
    e: BaseException | None = error
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        frames = traceback.extract_tb(e.__traceback__) + frames
        e = e.__cause__ or e.__context__
    package = os.path.dirname(os.path.abspath(funcdiff.__file__))
    own = [f for f in frames if module_file and os.path.abspath(f.filename)
           == os.path.abspath(module_file)]
    outside = [f for f in frames if not os.path.abspath(f.filename).startswith(package)]
    chosen = (own or outside or [None])[-1]
    if chosen is None:
        return ""
    source = f": {chosen.line}" if chosen.line else ""
    return f" (at {chosen.filename}:{chosen.lineno} in {chosen.name}{source})"


def _run(args: argparse.Namespace, analyse: Callable[..., Any]) -> Any:
    """Load the function, check the shapes against it, make the inputs and run `analyse` on
    them; an exception there is the user's function's, reported with its line."""
    fun, module_file = _load(args.function)
    _check_arity(fun, args.function, len(args.shape))
    inputs = _inputs(args.shape, args.dtype, args.seed)
    try:
        return analyse(fun)(*inputs)
    except (Exception, SystemExit) as e:
        first = str(e).splitlines()[0] if str(e) else ""
        raise _FunctionError(
            f"{args.function} on shapes {[tuple(s) for s in args.shape]}: "
            f"{type(e).__name__}: {first}{_user_line(e, module_file)}") from None


def _cost(args: argparse.Namespace) -> int:
    if args.plot:
        _check_output(args.plot, "--plot")
        if importlib.util.find_spec("matplotlib") is None:
            raise _UsageError("argument --plot: needs matplotlib (pip install matplotlib)")
    report = _run(args, lambda fun: funcdiff.cost_analysis(
        fun, repeats=args.repeats, jit=not args.no_jit, seed=args.seed))
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    if args.plot:
        _write(args.plot, "--plot", lambda: report.plot(args.plot))
        print(f"saved {args.plot}", file=sys.stderr)
    return 0


_FORMATS = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid",
            ".md": "mermaid", ".svg": "svg"}


def _graph(args: argparse.Namespace) -> int:
    fmt = args.format or (_FORMATS.get(Path(args.output).suffix.lower()) if args.output
                          else "dot")
    if fmt is None:
        raise _UsageError(
            f"argument -o/--output: cannot tell the format of {args.output} from its "
            f"extension: use {', '.join(_FORMATS)}, or pass --format (dot, mermaid or svg)")
    if args.output:
        _check_output(args.output, "-o/--output")
    group_by = None if args.group_by == "none" else args.group_by
    g = _run(args, lambda fun: funcdiff.graph(fun, values=not args.no_values,
                                              backward=args.backward, group_by=group_by,
                                              collapse=args.collapse))
    # (SVG comes from Graphviz when it is installed, else from funcdiff's own layout)
    text = {"dot": g.to_dot, "mermaid": g.to_mermaid, "svg": g.to_svg}[fmt]()
    if args.output:
        _write(args.output, "-o/--output",
               lambda: Path(args.output).write_text(text, encoding="utf-8"))
        print(f"wrote {args.output} ({fmt})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=_PROG, description="Without a command: a short tour of funcdiff.")
    commands = parser.add_subparsers(dest="command", metavar="{cost,graph}")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("function", metavar="MODULE:FUNCTION",
                       help="a module name or .py file, and a function in it")
        p.add_argument("--shape", type=_shape, action="append", default=[], metavar="SHAPE",
                       help="the shape of the next argument, e.g. 3,4 (\"\" for a scalar); "
                            "repeat once per argument")
        p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
        p.add_argument("--seed", type=_count, default=0, help="for the random inputs")

    cost = commands.add_parser("cost", help="cost of the function and its derivatives")
    common(cost)
    cost.add_argument("--repeats", type=_count, default=5,
                      help="timed calls (0: count only)")
    cost.add_argument("--no-jit", action="store_true", help="time eagerly, not under jit")
    cost.add_argument("--json", action="store_true", help="print the report as JSON")
    cost.add_argument("--plot", metavar="FILE", help="save a figure (needs matplotlib)")
    graph = commands.add_parser("graph", help="the computation graph of the function")
    common(graph)
    graph.add_argument("-o", "--output", metavar="FILE",
                       help="write here (.dot, .mmd or .svg) instead of standard output")
    graph.add_argument("--format", choices=["dot", "mermaid", "svg"])
    graph.add_argument("--backward", action="store_true", help="draw the backward pass too")
    graph.add_argument("--no-values", action="store_true", help="structure only")
    graph.add_argument("--group-by", choices=["jit", "function", "none"], default="jit")
    graph.add_argument("--collapse", action="store_true", help="one node per group")
    return parser


def cli(argv: Sequence[str] | None = None) -> int:
    """Run the tour (no arguments) or a subcommand; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        return main()
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("expected a command: cost or graph")
    try:
        return _cost(args) if args.command == "cost" else _graph(args)
    except (_UsageError, _FunctionError) as e:
        print(f"{_PROG} {args.command}: error: {e}", file=sys.stderr)
        return 2 if isinstance(e, _UsageError) else 1


if __name__ == "__main__":
    sys.exit(cli())

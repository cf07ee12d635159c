"""Debugging aids: ``funcdiff.debug.print`` and ``funcdiff.debug.callback`` (see also
`funcdiff.debug_nans` and `funcdiff.disable_jit`)."""

from funcdiff._src.config import debug_nans as debug_nans
from funcdiff._src.config import disable_jit as disable_jit
from funcdiff._src.debugging import breakpoint as breakpoint  # noqa: A004
from funcdiff._src.debugging import callback as callback
from funcdiff._src.debugging import log as log
from funcdiff._src.debugging import print as print  # noqa: A004

"""One BLAS thread inside biomech's solvers.

biomech's linear algebra is small (7×7 stiffness matrices, ≤ 120 unknowns in the upright
mode's SLSQP). On matrices this small, a multi-threaded BLAS only adds synchronisation: on this
project's 2-core test machine under load, an upright solve took a median 430 ms with
OpenBLAS's default 2 threads and 55 ms with 1. The solvers therefore run with one BLAS thread
(`threadpoolctl`, restored on return, so the caller's own numpy work is untouched); parallelism
comes from processes instead (`parallel.py`). One thread also makes the rounding, and so the
results, independent of the machine's core count.

scipy brings a BLAS of its own, and importing scipy.optimize costs 0.3 s, which forward and
Newton solves, which never call scipy, need not pay (issue 17). scipy is therefore imported
where it is used, through `scipy_optimize`, which limits its BLAS too when it is loaded inside
a limited call; a limited call made once scipy is loaded (by biomech or by the caller) limits
both from the start.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading

#: The `threadpoolctl.ThreadpoolController` of the BLAS libraries loaded when it was made, and
#: whether scipy's was among them.
_controller = None
_with_scipy = False
#: ``stack``: the limits the outermost limited call of this thread restores on return (None
#: outside one, `limited`).
_inside = threading.local()


def limited() -> bool:
    """Whether this thread runs inside a limited call already (a solver called by a solver, or the
    solves of a sweep block, `runner.solve_block`): the limit holds, and setting it again for
    each inner call took 0.1 ms."""
    return getattr(_inside, "stack", None) is not None


def _scipy_loaded() -> bool:
    return "scipy.linalg" in sys.modules


def _limit():
    """The one-thread limit of every BLAS loaded now (a context manager)."""
    global _controller, _with_scipy
    if _controller is None or _with_scipy != _scipy_loaded():
        from threadpoolctl import ThreadpoolController
        _with_scipy = _scipy_loaded()
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def one_blas_thread(fn):
    """Decorator: run ``fn`` with every loaded BLAS limited to one thread."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if limited():
            return fn(*args, **kwargs)
        with contextlib.ExitStack() as stack:
            stack.enter_context(_limit())
            _inside.stack = stack
            try:
                return fn(*args, **kwargs)
            finally:
                _inside.stack = None
    return wrapper


def scipy_optimize():
    """The module scipy.optimize, imported on first use; imported inside a limited call, its
    BLAS is limited to one thread until that call returns, as the others are."""
    loaded = _scipy_loaded()
    import scipy.optimize
    if not loaded and limited():
        _inside.stack.enter_context(_limit())
    return scipy.optimize

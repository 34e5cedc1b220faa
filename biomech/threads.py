"""One BLAS thread inside biomech's solvers.

biomech's linear algebra is small (7×7 stiffness matrices, ≤ 120 unknowns in the upright
mode's SLSQP). On matrices this small, a multi-threaded BLAS only adds synchronisation: on this
project's 2-core test machine under load, an upright solve took a median 430 ms with
OpenBLAS's default 2 threads and 55 ms with 1. The solvers therefore run with one BLAS thread
(`threadpoolctl`, restored on return, so the caller's own numpy work is untouched); parallelism
comes from processes instead (`parallel.py`). One thread also makes the rounding, and so the
results, independent of the machine's core count.
"""

from __future__ import annotations

import functools
import threading

_controller = None
#: Whether this thread runs inside a limited call already (a solver called by a solver, or the
#: solves of a sweep block, `runner.solve_block`): the limit holds, and setting it again for
#: each inner call took 0.1 ms.
_inside = threading.local()


def one_blas_thread(fn):
    """Decorator: run ``fn`` with every loaded BLAS limited to one thread."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        global _controller
        if getattr(_inside, "active", False):
            return fn(*args, **kwargs)
        if _controller is None:
            import scipy.linalg  # noqa: F401  (load scipy's BLAS before looking for libraries)
            import scipy.optimize  # noqa: F401
            from threadpoolctl import ThreadpoolController
            _controller = ThreadpoolController()
        with _controller.limit(limits=1, user_api="blas"):
            _inside.active = True
            try:
                return fn(*args, **kwargs)
            finally:
                _inside.active = False
    return wrapper

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

_controller = None


def one_blas_thread(fn):
    """Decorator: run ``fn`` with every loaded BLAS limited to one thread."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        global _controller
        if _controller is None:
            import scipy.linalg  # noqa: F401  (load scipy's BLAS before looking for libraries)
            import scipy.optimize  # noqa: F401
            from threadpoolctl import ThreadpoolController
            _controller = ThreadpoolController()
        with _controller.limit(limits=1, user_api="blas"):
            return fn(*args, **kwargs)
    return wrapper

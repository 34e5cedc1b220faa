"""Run independent tasks on all cores, or on a Dask cluster, with the results of a serial run.

One function, `map_tasks`, maps a picklable module-level function over a list of tasks and
returns the results in task order. Where the work runs does not change what it computes: each
task is solved by the same code from the same inputs, so a parallel or distributed run gives
results identical to a serial one (tests/test_parallel.py checks that bit for bit).

* ``workers=1`` runs in this process (no pickling).
* ``workers=N`` (default: every core this process may use) runs on a pool of N processes
  (``concurrent.futures.ProcessPoolExecutor``, "forkserver" start method on POSIX, so workers
  start from a clean interpreter that has imported biomech once).
* ``dask="tcp://host:8786"`` runs on the Dask cluster at that scheduler address, through Dask's
  standard ``concurrent.futures`` interface (``Client.get_executor``). Dask is an optional extra:
  ``pip install biomech[dask]``; every worker of the cluster needs biomech installed.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, Callable, Sequence

from .errors import BiomechError


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                              # macOS, Windows
        return max(1, os.cpu_count() or 1)


def check_workers(workers: Any) -> int | None:
    """Validate a worker count (None = every core); raises BiomechError with what is allowed."""
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BiomechError(f"workers must be a whole number ≥ 1 (or None for every core), got {workers!r}")
    return workers


def map_tasks(fn: Callable[[Any], Any], tasks: Sequence, *, workers: int | None = None,
              dask: str | None = None, progress: Callable[[int], None] | None = None) -> list:
    """``[fn(t) for t in tasks]``, computed serially, on a process pool or on a Dask cluster.

    Parameters
    ----------
    fn : a module-level function (it is pickled by reference).
    tasks : picklable task arguments.
    workers : processes (default: every available core); 1 = in this process. Ignored with `dask`.
    dask : address of a Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    progress : optional callable(k), called with the index of each task as it finishes.

    Returns
    -------
    list of the results, in the order of `tasks`. An exception raised by a task is raised here.
    """
    tasks = list(tasks)
    n = len(tasks)
    workers = check_workers(workers) or available_cores()
    if dask is not None:
        client = _dask_client(dask)
        try:
            return _run(client.get_executor(), fn, tasks, progress)
        finally:
            client.close()
    if workers == 1 or n <= 1:
        out = []
        for k, t in enumerate(tasks):
            out.append(fn(t))
            if progress:
                progress(k)
        return out
    with ProcessPoolExecutor(max_workers=min(workers, n), mp_context=_context()) as pool:
        return _run(pool, fn, tasks, progress)


def _run(executor: Executor, fn, tasks: list, progress) -> list:
    from concurrent.futures import as_completed
    futures = [executor.submit(fn, t) for t in tasks]
    index = {f: k for k, f in enumerate(futures)}
    out: list = [None] * len(tasks)
    try:
        for f in as_completed(futures):
            out[index[f]] = f.result()
            if progress:
                progress(index[f])
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return out


#: What the process server imports once for every worker it forks (`start_workers`); ``_preload``
#: these and the modules callers asked for (a server that runs already keeps what it imported).
PRELOAD = ("biomech.runner",)
_preload: dict = dict.fromkeys(PRELOAD)


def start_workers(preload: Sequence[str] = PRELOAD) -> None:
    """Start the process server that the pools of `map_tasks` fork their workers from, now and
    in the background, importing the modules ``preload`` once for all of them (POSIX; elsewhere
    nothing: each worker starts a fresh interpreter). A caller that will map tasks after some
    work of its own calls it first, so that the server's imports overlap that work (`biomech
    run` with figures: the scenario files are read while the server imports biomech and
    matplotlib, which the workers then need not import each, 0.4 s per worker here). Modules
    asked for once the server runs are imported by each worker that needs them, as without."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver
    _preload.update(dict.fromkeys(preload))
    forkserver.set_forkserver_preload(list(_preload))
    forkserver.ensure_running()


def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        start_workers()
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


#: Seconds to wait for a Dask scheduler to answer before saying it cannot be reached.
DASK_CONNECT_TIMEOUT_S = 10.0


def _dask_client(address: str):
    try:
        from dask.distributed import Client
    except ImportError:
        raise BiomechError("--dask needs Dask: pip install 'biomech[dask]' (dask and distributed), "
                           "on this machine and on every worker of the cluster") from None
    try:
        return Client(address, timeout=DASK_CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BiomechError(f"cannot reach the Dask scheduler at {address!r} ({exc}); start one "
                           "with `dask scheduler` and give its tcp://host:port address") from None

"""The one place that sets numba options and thread counts for the package's kernels.

Every kernel is compiled lazily on first call and cached on disk (``cache=True``), so
a process pays the compile time once per machine and signature, not per call.
``error_model="numpy"`` makes a division by zero give inf/nan instead of raising,
which lets the kernels count bad rows instead of branching on them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numba
from numba import njit

__all__ = [
    "scalar",
    "inlined",
    "parallel_loop",
    "serial_loop",
    "numba_threads",
    "threads_for_rows",
    "share_threads",
    "SERIAL_ROWS",
]

#: Scalar kernels: one row in, numbers out. Small enough for LLVM to inline.
scalar = njit(cache=True, error_model="numpy", nogil=True)

#: Scalar kernels inlined into their callers by numba itself, before LLVM sees them: for
#: generated row functions, which can be too large for LLVM's inliner; a call left in a
#: loop keeps the loop from being vectorised.
inlined = njit(cache=True, error_model="numpy", nogil=True, inline="always")

#: Array loops that run ``prange`` over rows (both cores on the target machine).
parallel_loop = njit(cache=True, error_model="numpy", nogil=True, parallel=True)

#: Array loops that must stay on the calling thread (called from inside a
#: backend's own worker threads, or on data too small for threads to pay).
serial_loop = njit(cache=True, error_model="numpy", nogil=True)

#: Below this many rows a parallel loop runs on one numba thread: starting a parallel
#: region costs more than the pass (16 ms per call for 70 rows with two threads on
#: two busy cores, 0.08 ms with one).
SERIAL_ROWS = 50_000


@contextlib.contextmanager
def numba_threads(n: int | None) -> Iterator[None]:
    """Run the parallel loops on ``n`` numba threads inside the block (None: unchanged).

    Objectives and metrics run between a backend's own OpenMP parallel regions, whose
    threads keep spinning for a while: on a machine with few cores numba's thread team
    competes with them. The setting is thread-local in numba, so this is safe under
    concurrent use.
    """
    if n is None:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def threads_for_rows(n_rows: int) -> contextlib.AbstractContextManager:
    """One numba thread below :data:`SERIAL_ROWS` rows, the current setting above."""
    return numba_threads(1 if n_rows < SERIAL_ROWS else None)


def share_threads(n_processes: int) -> int:
    """Give this process its share of the cores (``cpu_count // n_processes``, at least 1).

    N processes each running numba's default of one thread per core oversubscribe the
    cores (two tuner workers measured 0.7x the throughput of one). Returns the count set.
    """
    n = max(1, min(numba.config.NUMBA_NUM_THREADS, (os.cpu_count() or 1) // max(1, n_processes)))
    numba.set_num_threads(n)
    return n

"""The one place that sets numba options for the package's kernels.

Every kernel is compiled lazily on first call and cached on disk (``cache=True``), so
a process pays the compile time once per machine and signature, not per call.
``error_model="numpy"`` makes a division by zero give inf/nan instead of raising,
which lets the kernels count bad rows instead of branching on them.
"""

from numba import njit

#: Scalar kernels: one row in, numbers out. Small enough for LLVM to inline.
scalar = njit(cache=True, error_model="numpy", nogil=True)

#: Array loops that run ``prange`` over rows (both cores on the target machine).
parallel_loop = njit(cache=True, error_model="numpy", nogil=True, parallel=True)

#: Array loops that must stay on the calling thread (called from inside a
#: backend's own worker threads, or on data too small for threads to pay).
serial_loop = njit(cache=True, error_model="numpy", nogil=True)

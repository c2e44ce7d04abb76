"""Grouping kernels: rows to dates, and the row and valid-row lookups every per-date kernel uses.

``offsets`` has length ``n_dates + 1`` and the rows of date ``g`` are
``order[offsets[g]:offsets[g + 1]]``; an empty ``order`` means the identity
(rows already stored date by date), so no permutation is built or read.
"""

import numpy as np
from numba import prange

from ..._jit import parallel_loop, serial_loop


@serial_loop
def sorted_offsets(values):
    """Group offsets of int64 values if they are non-decreasing.

    Returns ``(offsets, is_sorted)``; ``offsets`` is only meaningful when
    ``is_sorted`` is true. This is the O(n) path for a panel stored date by date.
    """
    n = values.shape[0]
    n_groups = 0
    if n > 0:
        n_groups = 1
        for i in range(1, n):
            if values[i] < values[i - 1]:
                return np.zeros(1, np.int64), False
            if values[i] != values[i - 1]:
                n_groups += 1
    offsets = np.empty(n_groups + 1, np.int64)
    offsets[0] = 0
    g = 0
    for i in range(1, n):
        if values[i] != values[i - 1]:
            g += 1
            offsets[g] = i
    offsets[n_groups] = n
    return offsets, True


@serial_loop
def dense_codes(values, max_span):
    """Sorted dense codes of int64 values on a regular grid, without hashing or sorting.

    The values are read as ``vmin + k * step`` with ``step`` the gcd of
    ``values - vmin`` (one day for daily datetimes in ns). When the grid has at
    most ``max_span`` points the codes come from one pass over a table of the
    grid; otherwise (or when the values are too spread for int64 arithmetic)
    ``n_groups`` is -1 and the caller factorises instead.

    Returns ``(codes, n_groups, first_row)``: ``first_row[g]`` is the first
    row holding the g-th smallest value.
    """
    n = values.shape[0]
    empty = np.empty(0, np.int64)
    if n == 0:
        return empty, 0, empty
    vmin = values[0]
    vmax = values[0]
    for i in range(n):
        v = values[i]
        vmin = min(vmin, v)
        vmax = max(vmax, v)
    limit = np.int64(1) << np.int64(62)
    if vmin < -limit or vmax > limit:
        return empty, -1, empty
    step = np.int64(0)
    for i in range(n):
        d = values[i] - vmin
        if step == 0:
            step = d
        elif d % step != 0:
            a = step
            b = d % step
            while b != 0:
                a, b = b, a % b
            step = a
    if step == 0:
        step = 1
    span = (vmax - vmin) // step + 1
    if span > max_span:
        return empty, -1, empty
    slot = np.full(span, -1, np.int64)
    for i in range(n):
        k = (values[i] - vmin) // step
        if slot[k] < 0:
            slot[k] = i
    first_row = np.empty(span, np.int64)
    n_groups = 0
    for k in range(span):
        if slot[k] >= 0:
            first_row[n_groups] = slot[k]
            slot[k] = n_groups
            n_groups += 1
    codes = np.empty(n, np.int64)
    for i in range(n):
        codes[i] = slot[(values[i] - vmin) // step]
    return codes, n_groups, first_row[:n_groups]


@serial_loop
def group_order(codes, n_groups):
    """Stable counting sort of integer codes in ``[0, n_groups)``.

    Returns ``(order, offsets)``: rows of one date keep their input order.
    """
    n = codes.shape[0]
    offsets = np.zeros(n_groups + 1, np.int64)
    for i in range(n):
        offsets[codes[i] + 1] += 1
    for g in range(n_groups):
        offsets[g + 1] += offsets[g]
    pos = offsets[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        c = codes[i]
        order[pos[c]] = i
        pos[c] += 1
    return order, offsets


@serial_loop
def row_of(order, q):
    # an empty ``order`` means the identity permutation
    if order.shape[0] == 0:
        return q
    return order[q]


@parallel_loop
def count_valid(y_true, y_pred, order, offsets):
    """Count the rows per group where both values are finite."""
    n_groups = offsets.shape[0] - 1
    n_valid = np.zeros(n_groups, np.int64)
    for g in prange(n_groups):
        m = 0
        for q in range(offsets[g], offsets[g + 1]):
            i = row_of(order, q)
            if np.isfinite(y_true[i]) and np.isfinite(y_pred[i]):
                m += 1
        n_valid[g] = m
    return n_valid


@serial_loop
def valid_rows(y_true, y_pred, order, start, stop, out):
    """Write the rows of positions ``start:stop`` where both values are finite; return their count."""
    m = 0
    for q in range(start, stop):
        i = row_of(order, q)
        if np.isfinite(y_true[i]) and np.isfinite(y_pred[i]):
            out[m] = i
            m += 1
    return m

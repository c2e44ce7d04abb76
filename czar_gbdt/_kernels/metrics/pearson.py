"""Per-date Pearson correlation (IC), and the centred sums the Spearman kernels share."""

import numpy as np
from numba import prange

from ..._jit import parallel_loop, serial_loop
from .grouping import row_of


@serial_loop
def corr_from_sums(sxx, syy, sxy):
    """Correlation from centred sums; NaN without variance on a side."""
    if sxx <= 0.0 or syy <= 0.0:
        return np.nan
    return min(1.0, max(-1.0, sxy / np.sqrt(sxx * syy)))


@serial_loop
def _add_centred2(sxx, syy, sxy, dx, dy):
    return sxx + dx * dx, syy + dy * dy, sxy + dx * dy


@serial_loop
def add_centred(sxx, syy, sxy, a, b, mu):
    """The centred sums with one more pair ``(a - mu, b - mu)`` (ranks: same mean on both sides)."""
    return _add_centred2(sxx, syy, sxy, a - mu, b - mu)


@parallel_loop
def grouped_pearson(y_true, y_pred, order, offsets):
    """Per-group Pearson correlation over the rows where both values are finite.

    Two passes per group (mean, then centred sums). A group with fewer than 2
    valid rows or a constant side (all values exactly equal) gets NaN.
    Returns ``(corr, n_valid)``.
    """
    n_groups = offsets.shape[0] - 1
    corr = np.empty(n_groups, np.float64)
    n_valid = np.zeros(n_groups, np.int64)
    for g in prange(n_groups):
        m = 0
        sx = 0.0
        sy = 0.0
        x0 = 0.0
        y0 = 0.0
        x_const = True
        y_const = True
        for q in range(offsets[g], offsets[g + 1]):
            i = row_of(order, q)
            a = y_true[i]
            b = y_pred[i]
            if np.isfinite(a) and np.isfinite(b):
                if m == 0:
                    x0 = a
                    y0 = b
                else:
                    if a != x0:
                        x_const = False
                    if b != y0:
                        y_const = False
                sx += a
                sy += b
                m += 1
        n_valid[g] = m
        if m < 2 or x_const or y_const:
            corr[g] = np.nan
            continue
        mx = sx / m
        my = sy / m
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for q in range(offsets[g], offsets[g + 1]):
            i = row_of(order, q)
            a = y_true[i]
            b = y_pred[i]
            if np.isfinite(a) and np.isfinite(b):
                sxx, syy, sxy = _add_centred2(sxx, syy, sxy, a - mx, b - my)
        corr[g] = corr_from_sums(sxx, syy, sxy)
    return corr, n_valid

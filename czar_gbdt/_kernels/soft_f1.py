"""The whole-dataset passes of the soft-F1 composite.

Its value and gradient depend on four weighted soft counts over all rows
(``tp = sum w y p``, ``fp = sum w (1-y) p``, ``fn = sum w y (1-p)``,
``tn = sum w (1-y) (1-p)``) and on the cross-entropy sums. :func:`soft_counts` makes one
pass for all of them; the caller evaluates the metric part and its directional
derivatives (scalars); :func:`soft_f1_grad_hess` makes a second pass for the per-row
derivatives. Two O(n) passes per boosting round, no n x n array. Not element-wise, so
these loops are written here rather than generated from row functions.
"""

import numpy as np
from numba import prange

from .._jit import parallel_loop, scalar
from .binary import logistic1


@scalar
def _read(y_true, y_pred, weight, i):
    """Label, margin, weight (1 without weights) and bad flag (0 or 1) of row ``i``."""
    y, x = y_true[i], y_pred[i]
    w = weight[i] if weight.shape[0] != 0 else 1.0
    bad = 1 - (((y == 0.0) | (y == 1.0)) & np.isfinite(x) & np.isfinite(w) & (w >= 0.0))
    return y, x, w, bad


@parallel_loop
def soft_counts(y_true, y_pred, weight, pos_weight, out):
    """One pass over the rows; ``out`` (length 7) receives the weighted sums

    ``tp, fp, fn, tn, W = sum w, S = sum w c, CE = sum w c softplus(-q)``.

    Returns the bad-row count (labels not 0/1, non-finite margins, bad weights).
    """
    n = y_true.shape[0]
    tp = 0.0
    fp = 0.0
    fn = 0.0
    tn = 0.0
    wsum = 0.0
    csum = 0.0
    ce = 0.0
    bad = 0
    for i in prange(n):
        y, x, w, b = _read(y_true, y_pred, weight, i)
        bad += b
        value, _, _, p, one_minus_p = logistic1(y, x, pos_weight)
        c = pos_weight if y == 1.0 else 1.0
        if y == 1.0:
            tp += w * p
            fn += w * one_minus_p
        else:
            fp += w * p
            tn += w * one_minus_p
        wsum += w
        csum += w * c
        ce += w * value
    out[0] = tp
    out[1] = fp
    out[2] = fn
    out[3] = tn
    out[4] = wsum
    out[5] = csum
    out[6] = ce
    return bad


@parallel_loop
def soft_f1_grad_hess(y_true, y_pred, weight, pos_weight, coef, exact, min_hessian, grad_out, hess_out):
    """Per-row derivatives of the composite given its scalar coefficients.

    ``coef`` holds ``(a1_pos, a1_neg, a2_pos, a2_neg, b)``: ``a1_*`` the first and
    ``a2_*`` the second directional derivative of the (scaled) metric part along one
    row's soft count (per unit of weight), for a positive and a negative row, and ``b``
    the scale of the cross-entropy part. With ``d = p (1 - p)``::

        grad = w * (a1 * d + b * c * (p - y))
        hess = w * max(|a1| * d + b * c * d, floor)                          (surrogate)
        hess = w * max(w * a2 * d**2 + a1 * d * (1 - 2p) + b * c * d, floor)  (exact)

    The exact form is the diagonal of the true hessian; it can be negative.
    """
    n = y_true.shape[0]
    a1p, a1n, a2p, a2n, b = coef[0], coef[1], coef[2], coef[3], coef[4]
    bad = 0
    for i in prange(n):
        y, x, w, flag = _read(y_true, y_pred, weight, i)
        bad += flag
        _, g_ce, h_ce, p, one_minus_p = logistic1(y, x, pos_weight)
        d = p * one_minus_p
        if y == 1.0:
            a1, a2 = a1p, a2p
        else:
            a1, a2 = a1n, a2n
        g = a1 * d + b * g_ce
        if exact:
            h = w * a2 * d * d + a1 * d * (one_minus_p - p) + b * h_ce
        else:
            h = abs(a1) * d + b * h_ce
        grad_out[i] = w * g
        hess_out[i] = w * max(h, min_hessian)
    return bad

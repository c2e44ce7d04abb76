"""Half squared error in z-space: ``L = (z_p - z_t)**2 / 2``.

With ``std = 1`` this is exactly the backends' built-in squared error
(``grad = y_pred - y_true``, ``hess = 1``); a per-row ``std`` turns it into
least squares weighted by ``1/std**2``.
"""

import numpy as np
from numba import prange

from .._jit import parallel_loop


@parallel_loop
def loss(y_true, y_pred, std, mean, weight, out):
    """Per-row loss (times ``weight`` when not empty); returns the bad-row count."""
    n = y_true.shape[0]
    ns, nm, nw = std.shape[0], mean.shape[0], weight.shape[0]
    bad = 0
    for i in prange(n):
        sd = std[i] if ns != 1 else std[0]
        mu = mean[i] if nm != 1 else mean[0]  # cancels out, but is checked like everywhere else
        r = (y_pred[i] - y_true[i]) / sd
        if not (np.isfinite(r) and np.isfinite(y_true[i]) and 0.0 < sd < np.inf and np.isfinite(mu)):
            bad += 1
        value = 0.5 * r * r
        if nw != 0:
            w = weight[i]
            if not (np.isfinite(w) and w >= 0.0):
                bad += 1
            value *= w
        out[i] = value
    return bad


@parallel_loop
def grad_hess(y_true, y_pred, std, mean, weight, min_hessian, grad_out, hess_out):
    """``grad = (y_pred - y_true)/std**2``, ``hess = 1/std**2``; returns the bad-row count."""
    n = y_true.shape[0]
    ns, nm, nw = std.shape[0], mean.shape[0], weight.shape[0]
    bad = 0
    for i in prange(n):
        sd = std[i] if ns != 1 else std[0]
        mu = mean[i] if nm != 1 else mean[0]
        r = y_pred[i] - y_true[i]
        if not (np.isfinite(r) and np.isfinite(y_true[i]) and np.isfinite(sd) and sd > 0.0
                and np.isfinite(mu)):
            bad += 1
        v = 1.0 / sd**2
        g = r * v
        h = max(v, min_hessian)
        if nw != 0:
            w = weight[i]
            if not (np.isfinite(w) and w >= 0.0):
                bad += 1
            g *= w
            h *= w
        grad_out[i] = g
        hess_out[i] = h
    return bad

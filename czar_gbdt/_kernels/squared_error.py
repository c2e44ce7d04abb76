"""Half squared error in z-space: ``L = (z_p - z_t)**2 / 2``.

With ``std = 1`` this is exactly the backends' built-in squared error
(``grad = y_pred - y_true``, ``hess = 1``); a per-row ``std`` turns it into
least squares weighted by ``1/std**2``. Row functions of one row in z-space (no
parameters); the array loops are generated from them by :mod:`czar_gbdt._kernels.loops`.
"""

from .._jit import scalar


@scalar
def loss_row(zt, zp):
    """``(z_p - z_t)**2 / 2``."""
    r = zp - zt
    return 0.5 * r * r


@scalar
def grad_hess(zt, zp):
    """``(z_p - z_t, 1)``: exact in both derivative modes."""
    return zp - zt, 1.0

"""CZAR kernels: Composite Zero-Agnostic Return loss, in z-space.

Reference implementation: the authors' numpy code (Allora research forum), reproduced
in ``czar_gbdt.testing.czar_reference``; golden values in ``tests/czar_golden.csv``.
The expressions below keep the reference's order of operations so that results agree
to the last bits, not merely to a tolerance.

Notation (see ``czar_gbdt.losses.CZAR``): ``s = sign(z_t)`` with +1 at 0, ``delta =
alpha/sqrt(3)``, ``D = 1 + delta**2``, ``f(x) = 1/(1+x**2)``, ``f2(x) = 2|x|/(1+x**2)**2``,
``h1 = D*f2(delta)``. Kernels neither validate nor raise: the array loops count rows
with non-finite inputs or ``std <= 0`` and return the count, and the class layer turns
a non-zero count into an error that names the argument.
"""

import math

import numpy as np
from numba import prange

from .._jit import parallel_loop, scalar


@scalar
def _f(x):
    return 1.0 / (1.0 + x**2)


@scalar
def _f2(x):
    return 2.0 * abs(x) / (1.0 + x**2) ** 2


@scalar
def _region_loss1(zt, zp, delta, D, h1):
    """Unsoftened CZAR loss of one row (regions 1-3)."""
    s = 1.0 if zt >= 0.0 else -1.0
    u = s * zp
    d_t = zt + s * delta
    if u <= 0.0:
        C = s * D * (math.atan(d_t) - math.atan(s * delta))
        return 0.5 * h1 * zp**2 - s * zp + C
    if u <= abs(zt):
        sp = 1.0 if zp >= 0.0 else -1.0
        d_p = zp + sp * delta
        return s * D * (math.atan(d_t) - math.atan(d_p))
    dz = zp - zt
    h3 = D * _f2(d_t)
    return 0.5 * min(h3, h1) * dz**2 + s * D * _f(d_t) * dz


@scalar
def _softening1(zt, delta, D, soft0, denom, tau_eff, softplus_one):
    """``N(z_t) * L0``: the softening term, which depends on ``z_t`` only.

    ``tau_eff <= 0`` selects the hard hinge ``max(n_min, 0)``.
    """
    num = D * (math.atan(abs(zt) + delta) - math.atan(delta))
    n_min = 1.0 - num / denom
    if tau_eff <= 0.0:
        norm = max(n_min, 0.0)
    else:
        x = n_min / tau_eff
        norm = (max(x, 0.0) + math.log1p(math.exp(-abs(x)))) / softplus_one
    return norm * soft0


@scalar
def _grad_hess_reference1(zt, zp, delta, D, h1):
    """The authors' pseudo-gradient and pseudo-hessian in z-space."""
    s = 1.0 if zt >= 0.0 else -1.0
    u = s * zp
    if u <= 0.0:
        sign0 = 0.0 if zt == 0.0 else s  # the reference uses np.sign here: sign(0) = 0
        return h1 * zp - sign0, h1
    if u <= abs(zt):
        sp = 1.0 if zp >= 0.0 else -1.0
        d_p = zp + sp * delta
        return -s * D * _f(d_p), (1.0 + d_p**2) * _f2(d_p)
    d_t = zt + s * delta
    h3 = D * _f2(d_t)
    return min(h3, h1) * (zp - zt), min(h1, (1.0 + d_t**2) * _f2(d_t))


@scalar
def _grad_hess_exact1(zt, zp, delta, D, h1):
    """True first and second derivatives of the region loss in z-space."""
    s = 1.0 if zt >= 0.0 else -1.0
    u = s * zp
    if u <= 0.0:
        return h1 * zp - s, h1
    if u <= abs(zt):
        sp = 1.0 if zp >= 0.0 else -1.0
        d_p = zp + sp * delta
        return -s * D * _f(d_p), D * _f2(d_p)
    d_t = zt + s * delta
    h3 = min(D * _f2(d_t), h1)
    return h3 * (zp - zt) + s * D * _f(d_t), h3


@parallel_loop
def loss(y_true, y_pred, std, mean, weight, delta, D, h1,
         soft0, denom, tau_eff, softplus_one, out):
    """Per-row loss (times ``weight`` when ``weight`` is not empty); returns bad-row count.

    ``std`` and ``mean`` have length n or 1 (a scalar); ``weight`` has length n or 0.
    ``soft0 == 0`` switches the softening off.
    """
    n = y_true.shape[0]
    ns, nm, nw = std.shape[0], mean.shape[0], weight.shape[0]
    bad = 0
    for i in prange(n):
        sd = std[i] if ns != 1 else std[0]
        mu = mean[i] if nm != 1 else mean[0]
        zt = (y_true[i] - mu) / sd
        zp = (y_pred[i] - mu) / sd
        if not (np.isfinite(zt) and np.isfinite(zp) and 0.0 < sd < np.inf):
            bad += 1
        value = _region_loss1(zt, zp, delta, D, h1)
        if soft0 != 0.0:
            value += _softening1(zt, delta, D, soft0, denom, tau_eff, softplus_one)
        if nw != 0:
            w = weight[i]
            if not (np.isfinite(w) and w >= 0.0):
                bad += 1
            value *= w
        out[i] = value
    return bad


@parallel_loop
def grad_hess(y_true, y_pred, std, mean, weight, exact, delta, D, h1,
              min_hessian, grad_out, hess_out):
    """Gradient and hessian w.r.t. the raw prediction; returns the bad-row count.

    Chain rule ``grad = G/std``, ``hess = H/std**2``, then the floor
    ``max(hess, min_hessian)`` (pass -inf for none), then the weight.
    """
    n = y_true.shape[0]
    ns, nm, nw = std.shape[0], mean.shape[0], weight.shape[0]
    bad = 0
    for i in prange(n):
        sd = std[i] if ns != 1 else std[0]
        mu = mean[i] if nm != 1 else mean[0]
        zt = (y_true[i] - mu) / sd
        zp = (y_pred[i] - mu) / sd
        if not (np.isfinite(zt) and np.isfinite(zp) and 0.0 < sd < np.inf):
            bad += 1
        if exact:
            g, h = _grad_hess_exact1(zt, zp, delta, D, h1)
        else:
            g, h = _grad_hess_reference1(zt, zp, delta, D, h1)
        g = g / sd
        h = max(h / sd**2, min_hessian)
        if nw != 0:
            w = weight[i]
            if not (np.isfinite(w) and w >= 0.0):
                bad += 1
            g *= w
            h *= w
        grad_out[i] = g
        hess_out[i] = h
    return bad

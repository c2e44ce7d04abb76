"""CZAR kernels: Composite Zero-Agnostic Return loss, in z-space.

Reference implementation: the authors' numpy code (Allora research forum), reproduced
in ``czar_gbdt.testing.czar_reference``; golden values in ``tests/czar_golden.csv``.
The loss keeps the reference's order of operations and agrees with it to the last bit;
the derivative kernel is arranged for speed and agrees within 1e-12 relative.

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
def _loss_row(zt, zp, delta, D, h1, a0, soft0, denom, tau_eff, softplus_one):
    """Full CZAR loss of one row: :func:`_region_loss1` plus :func:`_softening1`.

    Shares ``A = atan(|z_t| + delta)`` between the regions and the softening term
    (``atan(d_t) = s*A`` and ``atan(s*delta) = s*a0`` with ``a0 = atan(delta)``, exact
    because atan is odd and sign flips are exact), which halves the atan calls and
    gives the same bits as the two functions.
    """
    s = 1.0 if zt >= 0.0 else -1.0
    A = math.atan(abs(zt) + delta)
    u = s * zp
    if u <= 0.0:
        value = 0.5 * h1 * zp**2 - s * zp + s * D * (s * A - s * a0)
    elif u <= abs(zt):
        sp = 1.0 if zp >= 0.0 else -1.0
        value = s * D * (s * A - math.atan(zp + sp * delta))
    else:
        d_t = zt + s * delta
        dz = zp - zt
        value = 0.5 * min(D * _f2(d_t), h1) * dz**2 + s * D * _f(d_t) * dz
    if soft0 != 0.0:
        n_min = 1.0 - D * (A - a0) / denom
        if tau_eff <= 0.0:
            norm = max(n_min, 0.0)
        else:
            x = n_min / tau_eff
            norm = (max(x, 0.0) + math.log1p(math.exp(-abs(x)))) / softplus_one
        value += norm * soft0
    return value


@scalar
def _grad_hess1(zt, zp, delta, D, h1, exact):
    """Gradient and hessian of one row in z-space (reference or exact mode).

    Written without branches: every region's value is computed and the region's own
    is selected at the end, so that LLVM vectorises the array loop (about 3x faster
    than a branch per region on random data, where region branches mispredict).
    Reference mode: the authors' pseudo-gradient (``sign(z_t)`` with sign(0) = 0 in
    region 1; region 3 without the constant ``s*D*f(d_t)``) and pseudo-hessian
    (``(1+x**2)*f2(x) = 2|x|/(1+x**2)`` in regions 2 and 3). Callers pass ``exact`` as
    a constant so that the other mode's arithmetic is compiled away.
    """
    s = 1.0 if zt >= 0.0 else -1.0
    sp = 1.0 if zp >= 0.0 else -1.0
    u = s * zp
    d_t = zt + s * delta
    d_p = zp + sp * delta
    f_p = 1.0 / (1.0 + d_p * d_p)
    f_t = 1.0 / (1.0 + d_t * d_t)
    a_p = 2.0 * abs(d_p) * f_p  # (1+x**2)*f2(x)
    a_t = 2.0 * abs(d_t) * f_t
    m = min(D * (a_t * f_t), h1)
    if exact:
        g1 = h1 * zp - s
        h2 = D * (a_p * f_p)
        g3 = m * (zp - zt) + s * D * f_t
        h3 = m
    else:
        g1 = h1 * zp - (0.0 if zt == 0.0 else s)
        h2 = a_p
        g3 = m * (zp - zt)
        h3 = min(h1, a_t)
    g2 = -s * D * f_p
    in1 = u <= 0.0
    in2 = u <= abs(zt)
    g = g1 if in1 else (g2 if in2 else g3)
    h = h1 if in1 else (h2 if in2 else h3)
    return g, h


@scalar
def _grad_hess_row(yt, yp, sd, mu, w, delta, D, h1, min_hessian, exact):
    """One row's chain-ruled, floored, weighted derivatives and its bad-input flag (0 or 1)."""
    zt = (yt - mu) / sd
    zp = (yp - mu) / sd
    # branch-free checks and body keep the loop vectorised
    bad = 1 - (np.isfinite(zt) & np.isfinite(zp) & (0.0 < sd) & (sd < np.inf) & np.isfinite(w) & (w >= 0.0))
    g, h = _grad_hess1(zt, zp, delta, D, h1, exact)
    return w * (g / sd), w * max(h / sd**2, min_hessian), bad


@scalar
def _grad_hess_reference1(zt, zp, delta, D, h1):
    """The authors' pseudo-gradient and pseudo-hessian in z-space."""
    return _grad_hess1(zt, zp, delta, D, h1, False)


@scalar
def _grad_hess_exact1(zt, zp, delta, D, h1):
    """True first and second derivatives of the region loss in z-space."""
    return _grad_hess1(zt, zp, delta, D, h1, True)


@parallel_loop
def loss(y_true, y_pred, std, mean, weight, delta, D, h1,
         soft0, denom, tau_eff, softplus_one, out):
    """Per-row loss (times ``weight`` when ``weight`` is not empty); returns bad-row count.

    ``std`` and ``mean`` have length n or 1 (a scalar); ``weight`` has length n or 0.
    ``soft0 == 0`` switches the softening off.
    """
    n = y_true.shape[0]
    ns, nm, nw = std.shape[0], mean.shape[0], weight.shape[0]
    a0 = math.atan(delta)
    bad = 0
    for i in prange(n):
        sd = std[i] if ns != 1 else std[0]
        mu = mean[i] if nm != 1 else mean[0]
        zt = (y_true[i] - mu) / sd
        zp = (y_pred[i] - mu) / sd
        if not (np.isfinite(zt) and np.isfinite(zp) and 0.0 < sd < np.inf):
            bad += 1
        value = _loss_row(zt, zp, delta, D, h1, a0, soft0, denom, tau_eff, softplus_one)
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
    ``max(hess, min_hessian)`` (pass -inf for none), then the weight (1 when ``weight``
    is empty: an exact no-op). One loop per mode, each with ``exact`` a constant: with
    the flag passed through at run time LLVM no longer vectorises the loop, which then
    measured 5.4x slower (1M rows, two threads: 5.9 vs 1.1 ms).
    """
    n = y_true.shape[0]
    ns, nm, nw = std.shape[0], mean.shape[0], weight.shape[0]
    bad = 0
    if exact:
        for i in prange(n):
            g, h, b = _grad_hess_row(y_true[i], y_pred[i], std[i] if ns != 1 else std[0],
                                     mean[i] if nm != 1 else mean[0], weight[i] if nw != 0 else 1.0,
                                     delta, D, h1, min_hessian, True)
            bad += b
            grad_out[i] = g
            hess_out[i] = h
    else:
        for i in prange(n):
            g, h, b = _grad_hess_row(y_true[i], y_pred[i], std[i] if ns != 1 else std[0],
                                     mean[i] if nm != 1 else mean[0], weight[i] if nw != 0 else 1.0,
                                     delta, D, h1, min_hessian, False)
            bad += b
            grad_out[i] = g
            hess_out[i] = h
    return bad

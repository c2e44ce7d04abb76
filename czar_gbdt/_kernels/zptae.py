"""ZPTAE kernels: Z-score Power-Tanh Absolute Error, in z-space.

``PT(x) = x / (1 + |x|**beta)**c`` with ``c = (1-alpha)/beta``;
``L = |PT(z_p) - PT(z_t)| + (k*|z_p - z_t|)**gamma``.

The absolute value leaves the true hessian zero (plus a signed ``PT''`` term) almost
everywhere, so boosting uses a surrogate for the absolute part: the constant 1 (mode 1,
as lightgbm's built-in L1 objective; the default, chosen by walk-forward rank IC on the
bundled data) or the iteratively-reweighted-least-squares (IRLS) curvature (mode 0)
``PT'(z_p)**2 / max(|PT(z_p) - PT(z_t)|, eta)``, which is positive and bounded by ``1/eta`` (``PT' <= 1`` for ``alpha`` in [0, 1]),
plus the penalty's (convex) curvature with ``|z_p - z_t|`` floored at ``eta`` when
``gamma < 2`` and capped at ``1/k`` when ``gamma > 2``, so that the whole surrogate is
bounded (``1 + gamma*(gamma-1)*k**2`` for the constant mode with ``gamma >= 2``).
"""

from .._jit import inlined, scalar
from .vmath import vpow


@inlined
def _pow(x, p):
    """``x**p`` for ``x >= 0``, with the exponents the defaults use (beta = 2, gamma = 4 and
    their derivatives' 1, 2, 3) done by multiplication, any other as ``exp(p log x)`` by the
    vectorisable :func:`~czar_gbdt._kernels.vmath.vpow`. ``p`` is a loss parameter, the
    same for every row, so the branches are taken the same way in every row."""
    if p == 2.0:
        return x * x
    if p == 1.0:
        return x
    if p == 4.0:
        x2 = x * x
        return x2 * x2
    if p == 3.0:
        return x * x * x
    if p == 0.0:
        return 1.0
    return vpow(x, p)


@inlined
def _pt_parts(x, alpha, beta):
    """``PT(x)``, ``PT'(x)`` and ``PT''(x)`` sharing one ``pow``.

    With ``t = |x|**beta``, ``b = 1 + t`` and ``q = b**-c``: ``PT = x q``,
    ``PT' = q (1 + alpha t) / b``, ``PT'' = sign(x) beta |x|**(beta-1) q / b**2
    ((alpha - c - 1) - alpha c t)``. Written without branches on the row's values
    (selects instead), so that the array loops are vectorised.
    """
    ax = abs(x)
    c = (1.0 - alpha) / beta
    t = _pow(ax, beta)
    b = 1.0 + t
    q = vpow(b, -c)
    pt = x * q
    d1 = q * (1.0 + alpha * t) / b
    sx = 1.0 if x > 0.0 else -1.0
    d2 = sx * beta * _pow(ax, beta - 1.0) * (q / (b * b)) * ((alpha - c - 1.0) - alpha * c * t)
    d2 = 0.0 if ax == 0.0 else d2
    return pt, d1, d2


@inlined
def _pt(x, alpha, beta):
    c = (1.0 - alpha) / beta
    return x * vpow(1.0 + _pow(abs(x), beta), -c)


@inlined
def _loss1(zt, zp, alpha, beta, gamma, k):
    return abs(_pt(zp, alpha, beta) - _pt(zt, alpha, beta)) + _pow(k * abs(zp - zt), gamma)


@inlined
def _grad_hess1(zt, zp, alpha, beta, gamma, k, mode, eta):
    """``mode`` 0: IRLS surrogate hessian, 1: constant surrogate, 2: exact.

    Branches test only the parameters (the same way in every row); what depends on the
    row is selected, so that the array loops are vectorised.
    """
    r = zp - zt
    ar = abs(r)
    sr = 0.0 if r == 0.0 else (1.0 if r > 0.0 else -1.0)
    ptp, dpt, d2pt = _pt_parts(zp, alpha, beta)
    kg = _pow(k, gamma)
    g = sr * dpt
    if gamma != 0.0:
        pen = sr * gamma * kg * _pow(ar, gamma - 1.0)
        g += pen if ar > 0.0 else 0.0
    if mode == 2:
        h = sr * d2pt
        if gamma != 0.0 and gamma != 1.0:
            pen = gamma * (gamma - 1.0) * kg * _pow(ar, gamma - 2.0)
            h += pen if ar > 0.0 else 0.0
        return g, h
    if mode == 0:
        h = dpt * dpt / max(abs(ptp - _pt(zt, alpha, beta)), eta)
    else:
        h = 1.0
    if gamma > 1.0 and kg > 0.0:
        # |r| clipped so the surrogate stays bounded: |r|**(gamma-2) is unbounded at 0 for
        # gamma < 2 (floor eta) and at infinity for gamma > 2 (cap 1/k, where (k|r|)**gamma = 1)
        ar_h = max(ar, eta) if gamma < 2.0 else min(ar, 1.0 / k)
        h += gamma * (gamma - 1.0) * kg * _pow(ar_h, gamma - 2.0)
    return g, h


# Row functions (the array loops are generated from them by czar_gbdt._kernels.loops):
# every one takes (z_t, z_p, alpha, beta, gamma, k, eta, case); each mode is a constant.
_IRLS, _CONSTANT, _EXACT = 0, 1, 2


@scalar
def cases(alpha, beta, gamma, k, eta):
    """Which parameters the loops fix to constants: 0 none, 1 ``beta = 2`` (the default, never
    searched), 2 also ``gamma = 4`` (the default). With them constant, ``|x|**beta`` and the
    penalty's powers are products, and a row calls one ``exp`` and one ``log``."""
    if beta == 2.0:
        return 2 if gamma == 4.0 else 1
    return 0


@inlined
def loss_row(zt, zp, alpha, beta, gamma, k, eta, case):
    """ZPTAE loss of one row."""
    beta = 2.0 if case >= 1 else beta
    gamma = 4.0 if case == 2 else gamma
    return _loss1(zt, zp, alpha, beta, gamma, k)


@inlined
def grad_hess_irls(zt, zp, alpha, beta, gamma, k, eta, case):
    """Exact gradient, IRLS surrogate hessian."""
    beta = 2.0 if case >= 1 else beta
    gamma = 4.0 if case == 2 else gamma
    return _grad_hess1(zt, zp, alpha, beta, gamma, k, _IRLS, eta)


@inlined
def grad_hess_constant(zt, zp, alpha, beta, gamma, k, eta, case):
    """Exact gradient, constant surrogate hessian of the absolute part."""
    beta = 2.0 if case >= 1 else beta
    gamma = 4.0 if case == 2 else gamma
    return _grad_hess1(zt, zp, alpha, beta, gamma, k, _CONSTANT, eta)


@inlined
def grad_hess_exact(zt, zp, alpha, beta, gamma, k, eta, case):
    """True gradient and hessian (away from ``z_p = z_t``)."""
    beta = 2.0 if case >= 1 else beta
    gamma = 4.0 if case == 2 else gamma
    return _grad_hess1(zt, zp, alpha, beta, gamma, k, _EXACT, eta)

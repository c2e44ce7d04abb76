"""CZAR kernels: Composite Zero-Agnostic Return loss, in z-space.

Reference implementation: the authors' numpy code (Allora research forum), reproduced
in ``czar_gbdt.testing.czar_loss`` and ``czar_grad_hess``; golden values in ``tests/czar_golden.csv``.
The loss keeps the reference's order of operations and agrees with it to the last bit;
the derivative kernel is arranged for speed and agrees within 1e-12 relative.

Notation (see ``czar_gbdt.losses.CZAR`` and docs/losses.md): ``s = sign(z_t)`` with +1
at 0, ``delta = alpha/sqrt(3)``, ``D = 1 + delta**2``, ``f(x) = 1/(1+x**2)``,
``f2(x) = 2|x|/(1+x**2)**2``, ``h1 = D*f2(delta)``.

Row functions of one row in z-space (the array loops are generated from them by
:mod:`czar_gbdt._kernels.loops`); every one takes the parameters
``(delta, D, h1, a0, soft0, denom, tau_eff, softplus_one)`` with ``a0 = atan(delta)``,
``soft0 = 0`` switching the softening off. They neither validate nor raise.
"""

import math

from .._jit import scalar


@scalar
def _f(x):
    return 1.0 / (1.0 + x**2)


@scalar
def _f2(x):
    return 2.0 * abs(x) / (1.0 + x**2) ** 2


@scalar
def loss_row(zt, zp, delta, D, h1, a0, soft0, denom, tau_eff, softplus_one):
    """CZAR loss of one row: the region loss plus the softening ``N(z_t) * L0``.

    Shares ``A = atan(|z_t| + delta)`` between the regions and the softening term
    (``atan(d_t) = s*A`` and ``atan(s*delta) = s*a0``, exact because atan is odd and sign
    flips are exact), which halves the atan calls and keeps the bits of the reference
    formulas. ``soft0 == 0`` gives the unsoftened loss.
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
    a constant so that the other mode's arithmetic is compiled away: with the flag
    passed at run time LLVM no longer vectorises the loop (5.4x slower, bench/RESULTS.md).
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
def grad_hess_reference(zt, zp, delta, D, h1, a0, soft0, denom, tau_eff, softplus_one):
    """The authors' pseudo-gradient and pseudo-hessian of one row in z-space."""
    return _grad_hess1(zt, zp, delta, D, h1, False)


@scalar
def grad_hess_exact(zt, zp, delta, D, h1, a0, soft0, denom, tau_eff, softplus_one):
    """True first and second derivatives of the loss of one row in z-space."""
    return _grad_hess1(zt, zp, delta, D, h1, True)

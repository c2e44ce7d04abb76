"""CZAR kernels: Composite Zero-Agnostic Return loss, in z-space.

Reference implementation: the authors' numpy code (Allora research forum), reproduced
in ``czar_gbdt.testing.czar_loss`` and ``czar_grad_hess``; golden values in ``tests/czar_golden.csv``.
The loss keeps the reference's formulas with the vectorisable ``atan``, ``exp`` and ``log1p``
of :mod:`~czar_gbdt._kernels.vmath` (within 1-2 ulp of libm's) and agrees with it within
1e-13 relative (plus a few ulp of ``L0`` where the softening weight rounds to 0);
the derivative kernel is arranged for speed and agrees within 1e-12 relative.

Notation (see ``czar_gbdt.losses.CZAR`` and docs/losses.md): ``s = sign(z_t)`` with +1
at 0, ``delta = alpha/sqrt(3)``, ``D = 1 + delta**2``, ``f(x) = 1/(1+x**2)``,
``f2(x) = 2|x|/(1+x**2)**2``, ``h1 = D*f2(delta)``.

Row functions of one row in z-space (the array loops are generated from them by
:mod:`czar_gbdt._kernels.loops`); every one takes the parameters
``(delta, D, h1, a0, soft0, denom, tau_eff, softplus_one)`` with ``a0 = atan(delta)``,
``soft0 = 0`` switching the softening off. They neither validate nor raise.
"""

from .._jit import inlined, scalar
from .vmath import vatan, vexp, vlog1p


@scalar
def _f(x):
    return 1.0 / (1.0 + x**2)


@scalar
def _f2(x):
    return 2.0 * abs(x) / (1.0 + x**2) ** 2


@inlined
def loss_row(zt, zp, delta, D, h1, a0, soft0, denom, tau_eff, softplus_one):
    """CZAR loss of one row: the region loss plus the softening ``N(z_t) * L0``.

    Shares ``A = atan(|z_t| + delta)`` between the regions and the softening term
    (``atan(d_t) = s*A`` and ``atan(s*delta) = s*a0``, exact because atan is odd and sign
    flips are exact), which halves the atan calls and keeps the reference's formulas.
    ``soft0 == 0`` gives the unsoftened loss. Every region's value is computed and the
    row's own selected, with the vectorisable ``atan``/``exp``/``log1p`` of
    :mod:`~czar_gbdt._kernels.vmath`, so that the loss loop is vectorised.
    """
    s = 1.0 if zt >= 0.0 else -1.0
    sp = 1.0 if zp >= 0.0 else -1.0
    A = vatan(abs(zt) + delta)
    # atan(delta) by the same atan as A (not the parameter a0 from math.atan, which may differ
    # in the last bit), so that A - a0 is exactly 0 at z_t = 0; hoisted out of the loop
    a0 = vatan(delta)
    u = s * zp
    v1 = 0.5 * h1 * zp**2 - s * zp + s * D * (s * A - s * a0)
    v2 = s * D * (s * A - vatan(zp + sp * delta))
    d_t = zt + s * delta
    dz = zp - zt
    f_t = 1.0 / (1.0 + d_t * d_t)  # f(d_t); f2(d_t) = 2 |d_t| f(d_t)**2 (one division, not two)
    v3 = 0.5 * min(D * (2.0 * abs(d_t) * f_t * f_t), h1) * dz**2 + s * D * f_t * dz
    value = v1 if u <= 0.0 else (v2 if u <= abs(zt) else v3)
    # divisions by parameters become products with their reciprocals, hoisted out of the loop
    n_min = 1.0 - D * (A - a0) * (1.0 / denom)
    x = n_min * (1.0 / tau_eff)
    smooth = (max(x, 0.0) + vlog1p(vexp(-abs(x)))) * (1.0 / softplus_one)
    norm = max(n_min, 0.0) if tau_eff <= 0.0 else smooth
    return value + norm * soft0 if soft0 != 0.0 else value


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

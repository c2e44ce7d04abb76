"""Binary losses on the logit: focal (Lin et al. 2017), asymmetric (Ridnik et al. 2021), logistic.

Everything is written with the *signed margin* ``q = x`` for a positive label and
``q = -x`` for a negative one, so that ``p_t = sigmoid(q)`` and the loss of one row is
``a * (1 - p_t)**g * softplus(-q)``. ``sigmoid`` and ``log sigmoid`` are evaluated with
the usual branch on the sign of ``q`` so that margins of any size give finite values
(no ``log(0)``, no ``exp`` overflow).

Focal, with ``P = p_t``, ``Q = 1 - p_t``, ``lP = log P``::

    dL/dq   = a Q**g (g P lP - Q)
    d2L/dq2 = a P Q**g (g lP (Q - g P) + (2g + 1) Q)

and ``dL/dx = sign * dL/dq``, ``d2L/dx2 = d2L/dq2`` with ``sign = +1`` for y=1, -1 for y=0.
The exact hessian turns negative for ``g > 0`` on badly classified rows; the boosting
surrogate freezes the modulating weight: ``a Q**g * P Q`` (the logistic hessian times
the focal weight), which is positive and equals the exact one at ``g = 0``.

Asymmetric: positives use the focal form with ``a = 1, g = gamma_pos``; negatives with
``clip = 0`` use it with ``a = 1, g = gamma_neg``; negatives with ``clip > 0`` use the
shifted probability ``p_m = max(p - clip, 0)``:
``L = -p_m**g log(1 - p_m)`` and the chain rule through ``dp_m/dx = p (1-p)``; the
surrogate hessian there is ``p_m**g p (1-p)``.

Logistic, with the class weight ``c = pos_weight`` for ``y = 1`` and 1 for ``y = 0``::

    L = c * softplus(-q),   dL/dx = c * (p - y),   d2L/dx2 = c * p * (1 - p)
"""

from .._jit import inlined, scalar
from .vmath import vexp, vlog, vlog1p, vpow


@inlined
def _sigmoid_pair(q):
    """``(sigmoid(q), sigmoid(-q), log sigmoid(q))`` without overflow: the usual branch on the
    sign of ``q`` written as selects (``e = exp(-|q|)``), so that the loops are vectorised."""
    e = vexp(-abs(q))
    l1 = vlog1p(e)
    big = 1.0 / (1.0 + e)
    small = e / (1.0 + e)
    if_pos = q >= 0.0
    return (big if if_pos else small), (small if if_pos else big), (-l1 if if_pos else q - l1)


@inlined
def _focal_q(q, a, g):
    """Loss, dL/dq, exact d2L/dq2 and surrogate hessian of ``a (1-p)**g (-log p)``."""
    P, Q, lP = _sigmoid_pair(q)
    Qg = Q * Q if g == 2.0 else vpow(Q, g)
    value = -a * Qg * lP
    dq = a * Qg * (g * P * lP - Q)
    h_exact = a * P * Qg * (g * lP * (Q - g * P) + (2.0 * g + 1.0) * Q)
    h_surr = a * Qg * P * Q
    return value, dq, h_exact, h_surr


@inlined
def focal1(y, x, alpha, gamma):
    """Loss, gradient, exact hessian and surrogate hessian w.r.t. the logit ``x``."""
    pos = y == 1.0
    value, dq, he, hs = _focal_q(x if pos else -x, alpha if pos else 1.0 - alpha, gamma)
    return value, (dq if pos else -dq), he, hs


@inlined
def _shifted1(x, g, clip):
    """The probability-shifted negative of the asymmetric loss (``p_m = p - clip`` where
    ``p > clip``, else 0): loss, gradient, exact and surrogate hessian. ``g`` and ``clip``
    are parameters (the same in every row); rows with ``p <= clip`` are selected to 0."""
    p, one_minus_p, _ = _sigmoid_pair(x)
    pm = p - clip
    live = pm > 0.0
    pm = pm if live else 1.0  # keeps the powers below finite on the rows selected away
    om = one_minus_p + clip  # 1 - p_m, without cancellation
    log_om = vlog(om)
    pg = vpow(pm, g)
    v = p * one_minus_p  # dp/dx
    dl = pg / om
    d2 = pg / (om * om)
    if g != 0.0:
        pg1 = vpow(pm, g - 1.0)
        dl -= g * pg1 * log_om
        d2 += 2.0 * g * pg1 / om
        if g != 1.0:
            d2 -= g * (g - 1.0) * vpow(pm, g - 2.0) * log_om
    value = -pg * log_om
    he = d2 * v * v + dl * v * (1.0 - 2.0 * p)
    return (value, dl * v, he, pg * v) if live else (0.0, 0.0, 0.0, 0.0)


@inlined
def asymmetric1(y, x, gamma_pos, gamma_neg, clip):
    """Loss, gradient, exact hessian and surrogate hessian w.r.t. the logit ``x``.

    Positives, and negatives with ``clip = 0``, are the focal form with ``a = 1``; negatives
    with ``clip > 0`` the shifted form. Both are computed and the row's own selected.
    """
    pos = y == 1.0
    focal = focal1(y, x, 1.0 if pos else 0.0, gamma_pos if pos else gamma_neg)
    if clip == 0.0:
        return focal
    shifted = _shifted1(x, gamma_neg, clip)
    return focal if pos else shifted


@inlined
def logistic1(y, x, pos_weight):
    """``(c * softplus(-q), c * (p - y), c * p * (1 - p), p, 1 - p)`` of the class-weighted
    logistic loss (``c = pos_weight`` for ``y = 1``, 1 for ``y = 0``)."""
    pos = y == 1.0
    first, second, log_first = _sigmoid_pair(x if pos else -x)
    p = first if pos else second
    one_minus_p = second if pos else first
    c = pos_weight if pos else 1.0
    return -c * log_first, (-c * one_minus_p if pos else p), c * p * one_minus_p, p, one_minus_p


# Row functions (the array loops are generated from them by czar_gbdt._kernels.loops):
# ``(label, logit, *parameters, case)``; "reference" hessians are the surrogates, "exact" the
# true ones. The cases (see RowFunctions.cases) fix the default parameters to constants:
# focal's gamma = 2 (Q**2 a product, no pow) and the asymmetric loss's clip = 0 (no shifted form).


@scalar
def focal_cases(alpha, gamma):
    """1 when ``gamma == 2`` (the default), else 0."""
    return 1 if gamma == 2.0 else 0


@inlined
def focal_loss_row(y, x, alpha, gamma, case):
    return focal1(y, x, alpha, 2.0 if case == 1 else gamma)[0]


@inlined
def focal_grad_hess_reference(y, x, alpha, gamma, case):
    _, g, _, hs = focal1(y, x, alpha, 2.0 if case == 1 else gamma)
    return g, hs


@inlined
def focal_grad_hess_exact(y, x, alpha, gamma, case):
    _, g, he, _ = focal1(y, x, alpha, 2.0 if case == 1 else gamma)
    return g, he


@scalar
def asymmetric_cases(gamma_pos, gamma_neg, clip):
    """1 when ``clip == 0`` (the default), else 0."""
    return 1 if clip == 0.0 else 0


@inlined
def asymmetric_loss_row(y, x, gamma_pos, gamma_neg, clip, case):
    return asymmetric1(y, x, gamma_pos, gamma_neg, 0.0 if case == 1 else clip)[0]


@inlined
def asymmetric_grad_hess_reference(y, x, gamma_pos, gamma_neg, clip, case):
    _, g, _, hs = asymmetric1(y, x, gamma_pos, gamma_neg, 0.0 if case == 1 else clip)
    return g, hs


@inlined
def asymmetric_grad_hess_exact(y, x, gamma_pos, gamma_neg, clip, case):
    _, g, he, _ = asymmetric1(y, x, gamma_pos, gamma_neg, 0.0 if case == 1 else clip)
    return g, he


@inlined
def logistic_loss_row(y, x, pos_weight):
    return logistic1(y, x, pos_weight)[0]


@inlined
def logistic_grad_hess(y, x, pos_weight):
    """Exact in both modes: ``(c (p - y), c p (1 - p))``."""
    _, g, h, _, _ = logistic1(y, x, pos_weight)
    return g, h

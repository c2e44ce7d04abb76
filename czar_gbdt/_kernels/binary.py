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

import math

from .._jit import scalar


@scalar
def _sigmoid_pair(q):
    """``(sigmoid(q), sigmoid(-q), log sigmoid(q))`` without overflow."""
    if q >= 0.0:
        e = math.exp(-q)
        return 1.0 / (1.0 + e), e / (1.0 + e), -math.log1p(e)
    e = math.exp(q)
    return e / (1.0 + e), 1.0 / (1.0 + e), q - math.log1p(e)


@scalar
def _focal_q(q, a, g):
    """Loss, dL/dq, exact d2L/dq2 and surrogate hessian of ``a (1-p)**g (-log p)``."""
    P, Q, lP = _sigmoid_pair(q)
    Qg = Q**g
    value = -a * Qg * lP
    dq = a * Qg * (g * P * lP - Q)
    h_exact = a * P * Qg * (g * lP * (Q - g * P) + (2.0 * g + 1.0) * Q)
    h_surr = a * Qg * P * Q
    return value, dq, h_exact, h_surr


@scalar
def focal1(y, x, alpha, gamma):
    """Loss, gradient, exact hessian and surrogate hessian w.r.t. the logit ``x``."""
    if y == 1.0:
        value, dq, he, hs = _focal_q(x, alpha, gamma)
        return value, dq, he, hs
    value, dq, he, hs = _focal_q(-x, 1.0 - alpha, gamma)
    return value, -dq, he, hs


@scalar
def asymmetric1(y, x, gamma_pos, gamma_neg, clip):
    """Loss, gradient, exact hessian and surrogate hessian w.r.t. the logit ``x``."""
    if y == 1.0:
        return focal1(1.0, x, 1.0, gamma_pos)
    if clip == 0.0:
        return focal1(0.0, x, 0.0, gamma_neg)
    # probability-shifted negative: p_m = p - clip when p > clip
    p, one_minus_p, _ = _sigmoid_pair(x)
    pm = p - clip
    if pm <= 0.0:
        return 0.0, 0.0, 0.0, 0.0
    om = one_minus_p + clip  # 1 - p_m, without cancellation
    g = gamma_neg
    log_om = math.log(om)
    pg = pm**g
    v = p * one_minus_p  # dp/dx
    dl = pg / om
    d2 = pg / (om * om)
    if g != 0.0:
        dl -= g * pm ** (g - 1.0) * log_om
        d2 += 2.0 * g * pm ** (g - 1.0) / om
        if g != 1.0:
            d2 -= g * (g - 1.0) * pm ** (g - 2.0) * log_om
    value = -pg * log_om
    return value, dl * v, d2 * v * v + dl * v * (1.0 - 2.0 * p), pg * v


@scalar
def logistic1(y, x, pos_weight):
    """``(c * softplus(-q), c * (p - y), c * p * (1 - p), p, 1 - p)`` of the class-weighted
    logistic loss (``c = pos_weight`` for ``y = 1``, 1 for ``y = 0``)."""
    if y == 1.0:
        p, one_minus_p, log_p = _sigmoid_pair(x)
        c = pos_weight
        return -c * log_p, -c * one_minus_p, c * p * one_minus_p, p, one_minus_p
    one_minus_p, p, log_one_minus_p = _sigmoid_pair(-x)
    return -log_one_minus_p, p, p * one_minus_p, p, one_minus_p


# Row functions (the array loops are generated from them by czar_gbdt._kernels.loops):
# ``(label, logit, *parameters)``; "reference" hessians are the surrogates, "exact" the true ones.


@scalar
def focal_loss_row(y, x, alpha, gamma):
    return focal1(y, x, alpha, gamma)[0]


@scalar
def focal_grad_hess_reference(y, x, alpha, gamma):
    _, g, _, hs = focal1(y, x, alpha, gamma)
    return g, hs


@scalar
def focal_grad_hess_exact(y, x, alpha, gamma):
    _, g, he, _ = focal1(y, x, alpha, gamma)
    return g, he


@scalar
def asymmetric_loss_row(y, x, gamma_pos, gamma_neg, clip):
    return asymmetric1(y, x, gamma_pos, gamma_neg, clip)[0]


@scalar
def asymmetric_grad_hess_reference(y, x, gamma_pos, gamma_neg, clip):
    _, g, _, hs = asymmetric1(y, x, gamma_pos, gamma_neg, clip)
    return g, hs


@scalar
def asymmetric_grad_hess_exact(y, x, gamma_pos, gamma_neg, clip):
    _, g, he, _ = asymmetric1(y, x, gamma_pos, gamma_neg, clip)
    return g, he


@scalar
def logistic_loss_row(y, x, pos_weight):
    return logistic1(y, x, pos_weight)[0]


@scalar
def logistic_grad_hess(y, x, pos_weight):
    """Exact in both modes: ``(c (p - y), c p (1 - p))``."""
    _, g, h, _, _ = logistic1(y, x, pos_weight)
    return g, h

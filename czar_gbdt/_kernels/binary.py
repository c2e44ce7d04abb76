"""Binary losses on the logit: focal (Lin et al. 2017) and asymmetric (Ridnik et al. 2021).

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
"""

import math

import numpy as np
from numba import prange

from .._jit import parallel_loop, scalar


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
def _bad_row(y, x):
    return not ((y == 0.0 or y == 1.0) and np.isfinite(x))


@parallel_loop
def focal_loss(y_true, y_pred, weight, alpha, gamma, out):
    """Per-row focal loss (times ``weight`` when not empty); returns the bad-row count."""
    n = y_true.shape[0]
    nw = weight.shape[0]
    bad = 0
    for i in prange(n):
        y, x = y_true[i], y_pred[i]
        if _bad_row(y, x):
            bad += 1
        value = focal1(y, x, alpha, gamma)[0]
        if nw != 0:
            w = weight[i]
            if not (np.isfinite(w) and w >= 0.0):
                bad += 1
            value *= w
        out[i] = value
    return bad


@parallel_loop
def focal_grad_hess(y_true, y_pred, weight, alpha, gamma, exact, min_hessian, grad_out, hess_out):
    """Focal gradient and hessian (exact or surrogate, floored); returns the bad-row count."""
    n = y_true.shape[0]
    nw = weight.shape[0]
    bad = 0
    for i in prange(n):
        y, x = y_true[i], y_pred[i]
        if _bad_row(y, x):
            bad += 1
        _, g, he, hs = focal1(y, x, alpha, gamma)
        h = max(he if exact else hs, min_hessian)
        if nw != 0:
            w = weight[i]
            if not (np.isfinite(w) and w >= 0.0):
                bad += 1
            g *= w
            h *= w
        grad_out[i] = g
        hess_out[i] = h
    return bad


@parallel_loop
def asymmetric_loss(y_true, y_pred, weight, gamma_pos, gamma_neg, clip, out):
    """Per-row asymmetric loss (times ``weight`` when not empty); returns the bad-row count."""
    n = y_true.shape[0]
    nw = weight.shape[0]
    bad = 0
    for i in prange(n):
        y, x = y_true[i], y_pred[i]
        if _bad_row(y, x):
            bad += 1
        value = asymmetric1(y, x, gamma_pos, gamma_neg, clip)[0]
        if nw != 0:
            w = weight[i]
            if not (np.isfinite(w) and w >= 0.0):
                bad += 1
            value *= w
        out[i] = value
    return bad


@parallel_loop
def asymmetric_grad_hess(y_true, y_pred, weight, gamma_pos, gamma_neg, clip, exact, min_hessian,
                         grad_out, hess_out):
    """Asymmetric gradient and hessian (exact or surrogate, floored); returns the bad-row count."""
    n = y_true.shape[0]
    nw = weight.shape[0]
    bad = 0
    for i in prange(n):
        y, x = y_true[i], y_pred[i]
        if _bad_row(y, x):
            bad += 1
        _, g, he, hs = asymmetric1(y, x, gamma_pos, gamma_neg, clip)
        h = max(he if exact else hs, min_hessian)
        if nw != 0:
            w = weight[i]
            if not (np.isfinite(w) and w >= 0.0):
                bad += 1
            g *= w
            h *= w
        grad_out[i] = g
        hess_out[i] = h
    return bad

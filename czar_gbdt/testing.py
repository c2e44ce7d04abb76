"""Straightforward vectorised numpy implementations of the losses.

They are the test oracles of the numba kernels and the numpy baseline of
``bench/kernels.py``. The CZAR functions are the authors' published reference code
(Allora research forum), vectorised over rows; the set-up the loss and its derivatives
share (z-scores, signs, the shifted arguments and the curvatures ``h1``, ``h3``) is
computed once by ``_czar_terms``, and every formula is otherwise unchanged. The others
transcribe the formulas of ``czar_gbdt.losses`` docstrings as directly as numpy allows.
This module holds nothing else: test helpers live under ``tests/``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "czar_loss",
    "czar_grad_hess",
    "zptae_loss",
    "zptae_grad_hess",
    "focal_loss",
    "focal_grad_hess",
    "asymmetric_loss",
    "asymmetric_grad_hess",
    "squared_error_grad_hess",
]


def _f(x):
    return 1.0 / (1.0 + x**2)


def _f2(x):
    return 2.0 * np.abs(x) / (1.0 + x**2) ** 2


def _eps_effective(eps, delta):
    if abs(delta) == 0:
        return np.arctan(eps)
    A = (1 + delta**2) * (np.arctan(eps + delta) - np.arctan(delta))
    beta = delta / (1 + delta**2)
    return (-1 + np.sqrt(1 + 4 * beta * A)) / (2 * beta)


def _softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _norm_smooth(z_true, eps, delta, tau):
    a = np.abs(z_true)
    d2p1 = delta**2 + 1
    num = d2p1 * (np.arctan(a + delta) - np.arctan(delta))
    denom = eps + delta / d2p1 * eps**2
    norm_min = 1.0 - num / denom
    if tau <= 0:
        return np.maximum(norm_min, 0.0)
    num_inf = d2p1 * (0.5 * np.pi - np.arctan(delta))
    norm_inf = 1.0 - num_inf / denom
    tau_eff = np.abs(tau) * np.abs(norm_inf)
    return _softplus(norm_min / tau_eff) / _softplus(1 / tau_eff)


class _CZARTerms(NamedTuple):
    z_true: np.ndarray
    z_pred: np.ndarray
    s: np.ndarray
    a: np.ndarray
    u: np.ndarray
    delta: float
    d2p1: float
    d_true: np.ndarray
    d_pred: np.ndarray
    h1: float
    h3: np.ndarray


def _czar_terms(y_true, y_pred, std, mean, alpha) -> _CZARTerms:
    """What the CZAR loss and its derivatives both compute first (the authors' code, once)."""
    z_true = (np.asarray(y_true, dtype=float) - mean) / std
    z_pred = (np.asarray(y_pred, dtype=float) - mean) / std
    s = np.where(z_true == 0, 1.0, np.sign(z_true))
    s_pred = np.where(z_pred == 0, 1.0, np.sign(z_pred))
    delta = alpha / np.sqrt(3)
    d2p1 = delta**2 + 1
    d_true = z_true + s * delta
    return _CZARTerms(
        z_true=z_true,
        z_pred=z_pred,
        s=s,
        a=np.abs(z_true),
        u=s * z_pred,
        delta=delta,
        d2p1=d2p1,
        d_true=d_true,
        d_pred=z_pred + s_pred * delta,
        h1=d2p1 * _f2(delta),
        h3=d2p1 * _f2(d_true),
    )


def czar_loss(y_true, y_pred, std, mean=0.0, alpha=1.0, epsilon=1.0, tau=0.05):
    """CZAR loss per row (the authors' reference code)."""
    z_true, z_pred, s, a, u, delta, d2p1, d_true, d_pred, h1, h3 = _czar_terms(y_true, y_pred, std, mean, alpha)
    C = s * d2p1 * (np.arctan(d_true) - np.arctan(s * delta))
    L1 = 0.5 * h1 * z_pred**2 - s * z_pred + C
    L2 = s * d2p1 * (np.arctan(d_true) - np.arctan(d_pred))
    dz = z_pred - z_true
    L3 = 0.5 * np.minimum(h3, h1) * dz**2 + s * d2p1 * _f(d_true) * dz
    if epsilon > 0:
        eps_eff = _eps_effective(epsilon, delta)
        softening_0 = czar_loss(0.0, eps_eff, 1.0, epsilon=0, alpha=alpha)
        soft = _norm_smooth(z_true, eps_eff, delta, tau) * softening_0
    else:
        soft = 0
    return np.where(u <= 0, L1, np.where(u <= a, L2, L3)) + soft


def czar_grad_hess(y_true, y_pred, std, mean=0.0, alpha=1.0, exact=False):
    """CZAR gradient and hessian w.r.t. ``y_pred`` (reference pseudo-derivatives or exact)."""
    z_true, z_pred, s, a, u, delta, d2p1, d_true, d_pred, h1, h3 = _czar_terms(y_true, y_pred, std, mean, alpha)
    r1 = u <= 0
    r2 = ~r1 & (u <= a)
    if exact:
        G = np.where(
            r1,
            h1 * z_pred - s,
            np.where(r2, -s * d2p1 * _f(d_pred), np.minimum(h3, h1) * (z_pred - z_true) + s * d2p1 * _f(d_true)),
        )
        H = np.where(r1, h1, np.where(r2, d2p1 * _f2(d_pred), np.minimum(h3, h1)))
    else:
        G = np.where(
            r1,
            h1 * z_pred - np.sign(z_true),
            np.where(r2, -s * d2p1 * _f(d_pred), np.minimum(h3, h1) * (z_pred - z_true)),
        )
        H = np.where(
            r1, h1, np.where(r2, (1.0 + d_pred**2) * _f2(d_pred), np.minimum(h1, (1.0 + d_true**2) * _f2(d_true)))
        )
    return G / std, H / std**2


def _pt(x, alpha, beta):
    return x / (1 + np.abs(x) ** beta) ** ((1 - alpha) / beta)


def zptae_loss(y_true, y_pred, std, mean=0.0, alpha=0.25, beta=2.0, gamma=4.0, penalty_norm=0.01):
    """ZPTAE loss per row."""
    z_true = (np.asarray(y_true, dtype=float) - mean) / std
    z_pred = (np.asarray(y_pred, dtype=float) - mean) / std
    return (
        np.abs(_pt(z_pred, alpha, beta) - _pt(z_true, alpha, beta)) + (penalty_norm * np.abs(z_pred - z_true)) ** gamma
    )


def zptae_grad_hess(
    y_true,
    y_pred,
    std,
    mean=0.0,
    alpha=0.25,
    beta=2.0,
    gamma=4.0,
    penalty_norm=0.01,
    eta=0.1,
    exact=False,
    hessian="constant",
):
    """ZPTAE exact gradient with a surrogate hessian ("constant" or "irls") or the exact hessian."""
    z_true = (np.asarray(y_true, dtype=float) - mean) / std
    z_pred = (np.asarray(y_pred, dtype=float) - mean) / std
    c = (1 - alpha) / beta
    t = np.abs(z_pred) ** beta
    dpt = (1 + t) ** (-c - 1) * (1 + alpha * t)
    r = z_pred - z_true
    kg = penalty_norm**gamma
    G = np.sign(r) * (dpt + gamma * kg * np.abs(r) ** (gamma - 1))
    if exact:
        with np.errstate(divide="ignore", invalid="ignore"):
            d2pt = (
                np.sign(z_pred)
                * beta
                * np.abs(z_pred) ** (beta - 1)
                * (1 + t) ** (-c - 2)
                * ((alpha - c - 1) - alpha * c * t)
            )
        H = np.sign(r) * np.where(z_pred == 0, 0.0, d2pt) + gamma * (gamma - 1) * kg * np.abs(r) ** (gamma - 2)
    else:
        ar = np.abs(r) if gamma >= 2 else np.maximum(np.abs(r), eta)
        if hessian == "irls":
            base = dpt**2 / np.maximum(np.abs(_pt(z_pred, alpha, beta) - _pt(z_true, alpha, beta)), eta)
        else:
            base = np.ones_like(z_pred)
        H = base + (gamma * (gamma - 1) * kg * ar ** (gamma - 2) if gamma > 1 else 0.0)
    return G / std, H / std**2


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def focal_loss(y, x, alpha=0.25, gamma=2.0):
    """Focal loss per row on logits (probabilities through log-sigmoid for stability)."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    q = np.where(y == 1, x, -x)
    a = np.where(y == 1, alpha, 1 - alpha)
    return -a * np.exp(gamma * _log_sigmoid(-q)) * _log_sigmoid(q)


def focal_grad_hess(y, x, alpha=0.25, gamma=2.0, exact=False):
    """Focal gradient and hessian (exact or the fixed-weight surrogate) on logits."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    sign = np.where(y == 1, 1.0, -1.0)
    q = sign * x
    a = np.where(y == 1, alpha, 1 - alpha)
    lP = _log_sigmoid(q)
    P, Q = np.exp(lP), np.exp(_log_sigmoid(-q))
    Qg = Q**gamma
    G = sign * a * Qg * (gamma * P * lP - Q)
    if exact:
        H = a * P * Qg * (gamma * lP * (Q - gamma * P) + (2 * gamma + 1) * Q)
    else:
        H = a * Qg * P * Q
    return G, H


def asymmetric_loss(y, x, gamma_pos=0.0, gamma_neg=4.0, clip=0.0):
    """Asymmetric loss per row on logits."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    p = np.exp(_log_sigmoid(x))
    pm = np.maximum(p - clip, 0.0)
    log_1m_pm = _log_sigmoid(-x) if clip == 0 else np.log1p(-pm)
    pos = -np.exp(gamma_pos * _log_sigmoid(-x)) * _log_sigmoid(x)
    neg = -(pm**gamma_neg) * log_1m_pm
    return np.where(y == 1, pos, neg)


def asymmetric_grad_hess(y, x, gamma_pos=0.0, gamma_neg=4.0, clip=0.0, exact=False):
    """Asymmetric gradient and hessian (exact or surrogate) on logits."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    gp, hp = focal_grad_hess(np.ones_like(x), x, alpha=1.0, gamma=gamma_pos, exact=exact)
    if clip == 0:
        gn, hn = focal_grad_hess(np.zeros_like(x), x, alpha=0.0, gamma=gamma_neg, exact=exact)
    else:
        p = np.exp(_log_sigmoid(x))
        pm = np.maximum(p - clip, 0.0)
        one_minus_p = np.exp(_log_sigmoid(-x))
        om = one_minus_p + clip
        v = p * one_minus_p
        g = gamma_neg
        with np.errstate(divide="ignore", invalid="ignore"):
            dl = pm**g / om - (g * pm ** (g - 1) * np.log(om) if g else 0.0)
            d2 = (
                pm**g / om**2
                + (2 * g * pm ** (g - 1) / om if g else 0.0)
                - (g * (g - 1) * pm ** (g - 2) * np.log(om) if g not in (0, 1) else 0.0)
            )
        live = pm > 0
        gn = np.where(live, dl * v, 0.0)
        hn = np.where(live, d2 * v * v + dl * v * (1 - 2 * p) if exact else pm**g * v, 0.0)
    return np.where(y == 1, gp, gn), np.where(y == 1, hp, hn)


def squared_error_grad_hess(y_true, y_pred, std=1.0):
    """Half squared error in z-space: ``((y_pred - y_true)/std**2, 1/std**2)``."""
    r = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
    v = 1.0 / np.broadcast_to(np.asarray(std, dtype=float), r.shape) ** 2
    return r * v, v.copy()

"""Losses written with :func:`czar_gbdt.define_loss`: examples to use and to copy.

Each is a formula of one row in z-space (``zt, zp`` are ``(y - mean)/std`` of the label
and the prediction), differentiated and compiled by :func:`~czar_gbdt.define_loss`.
Import a loss by name (``from czar_gbdt.losses.extra import huber_z``) or name it in a
config (``[loss] name = "czar_gbdt.losses.extra:huber_z"``); each is defined, and
registered under its name, on first use.

========== ============================================ ============ ==============
loss       formula (``r = zp - zt``)                    parameters   boosting hessian
========== ============================================ ============ ==============
huber_z    ``r**2/2`` if ``|r| <= delta``, else          delta = 1    gauss_newton
           ``delta (|r| - delta/2)``
pinball_z  ``q (zt - zp)`` if ``zt >= zp``, else          quantile=0.5 constant
           ``(q - 1)(zt - zp)`` (quantile regression)
log_cosh_z ``log(cosh(r))``, written stably               (none)       exact
czar_z     CZAR from its formula (docs/losses.md):       alpha = 1,   exact
           the same loss and exact derivatives as         epsilon = 1,
           the built-in :class:`czar_gbdt.CZAR`           tau = 0.05
========== ============================================ ============ ==============
"""

from __future__ import annotations

import math
from math import atan, exp, log, log1p, sqrt

from .user import define_loss, where

__all__ = ["huber_z", "pinball_z", "log_cosh_z", "czar_z", "huber", "pinball", "log_cosh", "czar"]  # noqa: F822 - defined on first use


def huber(zt, zp, delta=1.0):
    """Huber loss of the z-score residual: quadratic inside ``delta``, linear outside."""
    r = zp - zt
    return where(abs(r) <= delta, 0.5 * r**2, delta * (abs(r) - 0.5 * delta))


def pinball(zt, zp, quantile=0.5):
    """Pinball (quantile) loss: its minimiser is the ``quantile`` of the label."""
    r = zt - zp
    return where(r >= 0, quantile * r, (quantile - 1) * r)


def log_cosh(zt, zp):
    """``log(cosh(r))``, as ``|r| + log1p(exp(-2|r|)) - log(2)`` so that large ``|r|`` cannot overflow."""
    r = zp - zt
    return abs(r) + log1p(exp(-2 * abs(r))) - log(2)


def czar(zt, zp, alpha=1.0, epsilon=1.0, tau=0.05):
    """CZAR (Composite Zero-Agnostic Return loss) from its formula, with the softening."""
    delta = alpha / sqrt(3)
    D = 1 + delta**2
    s = where(zt >= 0, 1.0, -1.0)
    s_p = where(zp >= 0, 1.0, -1.0)
    u = s * zp
    d_t = zt + s * delta
    d_p = zp + s_p * delta
    h1 = D * 2 * delta / (1 + delta**2) ** 2
    h3 = D * 2 * abs(d_t) / (1 + d_t**2) ** 2
    wrong_sign = 0.5 * h1 * zp**2 - s * zp + s * D * (atan(d_t) - atan(s * delta))
    short = s * D * (atan(d_t) - atan(d_p))
    past = 0.5 * min(h3, h1) * (zp - zt) ** 2 + s * D / (1 + d_t**2) * (zp - zt)
    region = where(u <= 0, wrong_sign, where(u <= abs(zt), short, past))
    # softening: N(zt) * L0, which moves the value but not the derivatives
    area = D * (atan(epsilon + delta) - atan(delta))
    b = delta / D
    eps_eff = 2 * area / (1 + sqrt(1 + 4 * b * area))  # positive root of b x**2 + x - area = 0
    L0 = 0.5 * h1 * eps_eff**2 + eps_eff  # the loss at zt = 0, zp = eps_eff, without softening
    denom = eps_eff + b * eps_eff**2
    n_min = 1 - D * (atan(abs(zt) + delta) - atan(delta)) / denom
    n_inf = 1 - D * (math.pi / 2 - atan(delta)) / denom
    tau_eff = abs(tau) * abs(n_inf)
    x = n_min / tau_eff
    softplus_x = max(x, 0) + log1p(exp(-abs(x)))
    softplus_1 = 1 / tau_eff + log1p(exp(-1 / tau_eff))
    norm = where(tau <= 0, max(n_min, 0), softplus_x / softplus_1)
    return region + where(epsilon > 0, norm * L0, 0)


_DEFINITIONS = {
    "huber_z": lambda: define_loss("huber_z", huber, params={"delta": (1e-6, 1e6)}, hessian="gauss_newton"),
    "pinball_z": lambda: define_loss("pinball_z", pinball, params={"quantile": (0.0, 1.0)}, hessian="constant"),
    "log_cosh_z": lambda: define_loss("log_cosh_z", log_cosh, hessian="exact"),
    "czar_z": lambda: define_loss(
        "czar_z", czar, params={"alpha": (0.0, 1.0), "epsilon": (0.0, 1e6), "tau": (-1e6, 1e6)}, hessian="exact"
    ),
}


def __getattr__(name: str):
    """Define (and register) a loss of this module on first use: derivation takes a moment."""
    make = _DEFINITIONS.get(name)
    if make is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    loss = make()
    globals()[name] = loss
    return loss

"""Regression losses in z-space: CZAR, ZPTAE and half squared error."""

from __future__ import annotations

import math

import numpy as np

from .._kernels import czar as _czar
from .._kernels.loops import RowFunctions
from .._validation import NONNEGATIVE, POSITIVE, REAL, UNIT, Interval, as_aligned, as_rows, first_bad
from .base import ElementwiseLoss

__all__ = ["CZAR", "ZPTAE", "HalfSquaredError"]


class CZAR(ElementwiseLoss):
    """Composite Zero-Agnostic Return loss (the successor of ZPTAE for returns).

    Domain: y_true, y_pred real; std > 0.
    Link: identity, in z-space ``z = (y - mean)/std``.

    With ``s = sign(z_t)`` (+1 at 0), ``u = s*z_p``, ``delta = alpha/sqrt(3)``,
    ``D = 1 + delta**2``, ``f(x) = 1/(1+x**2)``, ``f2(x) = 2|x|/(1+x**2)**2``,
    ``d_t = z_t + s*delta``, ``d_p = z_p + sign(z_p)*delta``, ``h1 = D*f2(delta)``,
    ``h3 = D*f2(d_t)``::

        u <= 0      (wrong sign)          0.5*h1*z_p**2 - s*z_p + s*D*(atan(d_t) - atan(s*delta))
        0 < u <= |z_t| (short of truth)   s*D*(atan(d_t) - atan(d_p))
        u > |z_t|   (past the truth)      0.5*min(h3, h1)*(z_p - z_t)**2 + s*D*f(d_t)*(z_p - z_t)

    plus, when ``epsilon > 0``, a softening term ``N(z_t) * L0`` that depends on ``z_t``
    only (it moves the loss value, not its derivatives): ``L0`` is the unsoftened loss
    at ``z_t = 0, z_p = eps_eff`` and ``N`` a hinge (``tau <= 0``) or softplus-smoothed
    (``tau > 0``) normalisation; see docs/losses.md for the exact formulas.

    Parameters
    ----------
    alpha : float in [0, 1], default 1
        Curvature: 0 gives linear tails, 1 the most curvature (stable Newton steps;
        the authors' recommendation for boosting). Near 0 for evaluation.
    epsilon : float >= 0, default 1
        Softening scale in std units; 0 switches the softening off.
    tau : float, default 0.05
        Smoothness of the softening hinge; ``tau <= 0`` gives the hard hinge.
    derivatives : {"reference", "exact"}, default "reference"
        ``"reference"``: the authors' pseudo-gradient (region 1 uses ``sign(z_t)`` with
        sign(0) = 0, region 3 drops the constant ``s*D*f(d_t)``) and pseudo-hessian
        (regions 2 and 3 use ``(1+x**2)*f2(x)``), what the authors ship for boosting.
        ``"exact"``: the true derivatives of the loss away from its kinks at
        ``z_p = 0`` and ``z_p = z_t``.
    min_hessian : float or None, default 1e-6
        Floor on the hessian, applied after the division by ``std**2``. With
        ``alpha = 0`` the curvature ``h1`` is 0, so hessians vanish without it.

    References
    ----------
    Allora research forum, "CZAR: Composite Zero-Agnostic Return loss".
    """

    name = "czar"
    requires_std = True
    unimodal = True
    rows = RowFunctions(
        label="czar",
        kind="regression",
        module="czar_gbdt._kernels.czar",
        loss="loss_row",
        grad_hess=(("reference", "grad_hess_reference"), ("exact", "grad_hess_exact")),
        n_args=8,
    )
    param_defaults = {"alpha": 1.0, "epsilon": 1.0, "tau": 0.05}
    param_domains = {"alpha": UNIT, "epsilon": NONNEGATIVE, "tau": REAL}

    def __init__(
        self,
        alpha: float = 1.0,
        epsilon: float = 1.0,
        tau: float = 0.05,
        *,
        derivatives: str = "reference",
        min_hessian: float | None = None,
    ):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self._set_params(alpha=alpha, epsilon=epsilon, tau=tau)
        delta = self.alpha / np.sqrt(3)
        D = delta**2 + 1
        self._delta, self._D = float(delta), float(D)
        self._h1 = float(D * (2.0 * abs(delta) / (1.0 + delta**2) ** 2))
        self._soft0 = self._denom = self._tau_eff = 0.0
        self._softplus_one = 1.0
        if self.epsilon > 0:
            self._init_softening()

    def _init_softening(self) -> None:
        delta, D = self._delta, self._D
        if delta == 0:
            eps_eff = math.atan(self.epsilon)
        else:
            A = D * (math.atan(self.epsilon + delta) - math.atan(delta))
            b = delta / D
            # positive root of b*x**2 + x - A = 0. The reference's form keeps results
            # bit-identical to the authors' code; it cancels when 4*b*A is tiny (alpha
            # near 0), where the equivalent form 2A/(1 + sqrt(1 + 4bA)) is used instead.
            if 4.0 * b * A >= 1e-3:
                eps_eff = (-1 + np.sqrt(1 + 4 * b * A)) / (2 * b)
            else:
                eps_eff = 2.0 * A / (1.0 + math.sqrt(1.0 + 4.0 * b * A))
        self._eps_eff = eps_eff
        # L0: the unsoftened loss at z_t = 0, z_p = eps_eff (soft0 = 0 switches the softening off)
        self._soft0 = float(_czar.loss_row(0.0, eps_eff, delta, D, self._h1, math.atan(delta), 0.0, 1.0, 0.0, 1.0))
        self._denom = eps_eff + delta / D * eps_eff**2
        if self.tau > 0:
            n_inf = 1.0 - D * (0.5 * math.pi - math.atan(delta)) / self._denom
            self._tau_eff = abs(self.tau) * abs(n_inf)
            if self._tau_eff > 0:
                x = 1.0 / self._tau_eff
                self._softplus_one = max(x, 0.0) + math.log1p(math.exp(-abs(x)))

    def kernel_args(self) -> tuple[float, ...]:
        """``(delta, D, h1, atan(delta), L0, denom, tau_eff, softplus(1/tau_eff))`` (see ``_kernels/czar.py``)."""
        return (
            self._delta,
            self._D,
            self._h1,
            math.atan(self._delta),
            self._soft0,
            self._denom,
            self._tau_eff,
            self._softplus_one,
        )


class ZPTAE(ElementwiseLoss):
    """Z-score Power-Tanh Absolute Error, the loss CZAR replaced.

    Domain: y_true, y_pred real; std > 0.
    Link: identity, in z-space ``z = (y - mean)/std``.

    ::

        PT(x) = x / (1 + |x|**beta)**((1 - alpha)/beta)
        L = |PT(z_p) - PT(z_t)| + (k*|z_p - z_t|)**gamma

    ``PT`` behaves like ``x`` near 0 and like ``sign(x)*|x|**alpha`` far out.

    Parameters
    ----------
    alpha : float in [0, 1], default 0.25
    beta : float > 0, default 2
    gamma : float >= 1, default 4
        Power of the penalty term (>= 1 keeps it convex).
    penalty_norm : float >= 0, default 0.01
        ``k``, the penalty's scale.
    hessian : {"constant", "irls"}, default "constant"
        Boosting hessian of the absolute part (``derivatives="reference"``).
        ``"constant"``: 1, as lightgbm's L1 objective. ``"irls"``:
        ``PT'(z_p)**2 / max(|PT(z_p) - PT(z_t)|, eta)``, the curvature of the
        iteratively-reweighted-least-squares model of ``|r|``: positive and at most
        ``1/eta``. The penalty adds its convex curvature
        ``gamma (gamma-1) k**gamma |r|**(gamma-2)`` in both, with ``|r|`` clipped to
        ``[eta, 1/k]`` (floored at ``eta`` for ``gamma < 2``, where the curvature is
        unbounded at 0; capped at ``1/k`` for ``gamma > 2``, where the penalty itself
        reaches 1), so the boosting hessian is bounded in z-space: at most
        ``1 + gamma (gamma-1) k**2`` ("constant", ``gamma >= 2``; 1.0012 with the
        defaults) or ``1/eta`` plus that penalty bound ("irls"). Chosen by
        measurement: on the bundled FF49 walk-forward (10 folds, 2,500 test dates,
        ``configs/ff49_fixed.toml``) "constant" gave mean rank IC 0.0213 (t 4.83) vs
        0.0184 (t 3.97) with LightGBM and 0.0207 (t 4.72) vs 0.0183 (t 4.03) with XGBoost.
    eta : float > 0, default 0.1
        Residual floor of the IRLS hessian, in z units.
    derivatives : {"reference", "exact"}, default "reference"
        ``"exact"``: the true gradient and hessian (``sign(r)*PT''(z_p)`` plus the
        penalty's), valid away from ``z_p = z_t``.
    min_hessian : float or None, default 1e-6
    """

    name = "zptae"
    requires_std = True
    rows = RowFunctions(
        label="zptae",
        kind="regression",
        module="czar_gbdt._kernels.zptae",
        loss="loss_row",
        grad_hess=(("irls", "grad_hess_irls"), ("constant", "grad_hess_constant"), ("exact", "grad_hess_exact")),
        n_args=5,
        cases="cases",
        n_cases=3,
    )
    param_defaults = {"alpha": 0.25, "beta": 2.0, "gamma": 4.0, "penalty_norm": 0.01, "hessian": "constant", "eta": 0.1}
    _HESSIANS = ("irls", "constant")
    param_domains = {
        "alpha": UNIT,
        "beta": POSITIVE,
        "gamma": Interval("real", 1.0),
        "penalty_norm": NONNEGATIVE,
        "hessian": Interval("str", options=_HESSIANS),
        "eta": POSITIVE,
    }

    def __init__(
        self,
        alpha: float = 0.25,
        beta: float = 2.0,
        gamma: float = 4.0,
        penalty_norm: float = 0.01,
        hessian: str = "constant",
        eta: float = 0.1,
        *,
        derivatives: str = "reference",
        min_hessian: float | None = None,
    ):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self._set_params(alpha=alpha, beta=beta, gamma=gamma, penalty_norm=penalty_norm, hessian=hessian, eta=eta)

    def kernel_args(self) -> tuple[float, ...]:
        """``(alpha, beta, gamma, penalty_norm, eta)``."""
        return (self.alpha, self.beta, self.gamma, self.penalty_norm, self.eta)

    @property
    def derivative_mode(self) -> str:
        """``"exact"``, or the boosting hessian of the absolute part (``"constant"``, ``"irls"``)."""
        return "exact" if self.derivatives == "exact" else self.hessian


class HalfSquaredError(ElementwiseLoss):
    """Half squared error in z-space, ``L = (z_p - z_t)**2 / 2``.

    Domain: y_true, y_pred real; std > 0.
    Link: identity.

    With ``std = 1`` (the default) its derivatives are exactly those of the backends'
    built-in squared error (``grad = y_pred - y_true``, ``hess = 1``); a per-row ``std``
    makes it least squares weighted by ``1/std**2``. ``mean`` cancels out.
    Derivatives are exact in both modes.
    """

    name = "mse"
    unimodal = True
    rows = RowFunctions(
        label="mse",
        kind="regression",
        module="czar_gbdt._kernels.squared_error",
        loss="loss_row",
        grad_hess=(("reference", "grad_hess"), ("exact", "grad_hess")),
        n_args=0,
    )

    def __init__(self, *, derivatives: str = "reference", min_hessian: float | None = None):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)

    def init_score(self, y_true, *, std=None, mean=None, weight=None) -> float:
        """The weighted mean of ``y_true`` with weights ``weight/std**2`` (closed form)."""
        y_true = as_rows("y_true", y_true).astype(np.float64, copy=False)
        n = y_true.shape[0]
        if n == 0:
            raise ValueError("y_true is empty: there is no constant to fit.")
        w = np.ones(n) if weight is None else np.broadcast_to(as_aligned("weight", weight, n, None), n)
        std = np.broadcast_to(as_aligned("std", std, n, 1.0), n)
        first_bad("y_true", y_true, np.isfinite(y_true), "finite")
        first_bad("std", std, np.isfinite(std) & (std > 0), "finite and > 0")
        first_bad("weight", w, np.isfinite(w) & (w >= 0), "finite and >= 0")
        if mean is not None:
            mean = as_aligned("mean", mean, n, 0.0)
            first_bad("mean", mean, np.isfinite(mean), "finite")
        if not w.sum() > 0:
            raise ValueError(f"weight must have a positive sum; got {float(w.sum())!r}.")
        return float(np.average(y_true, weights=w / std**2))

"""Binary losses on the logit: focal, asymmetric and the class-weighted logistic loss."""

from __future__ import annotations

import math

import numpy as np

from .._kernels.loops import RowFunctions
from .._validation import NONNEGATIVE, POSITIVE, UNIT, Interval, as_aligned, as_rows, first_bad
from .base import BinaryLoss

__all__ = ["FocalLoss", "AsymmetricLoss", "LogisticLoss"]


class FocalLoss(BinaryLoss):
    """Binary focal loss on the logit (Lin et al. 2017).

    Domain: y_true in {0, 1}; y_pred (logit) real.
    Link: logit, ``p = sigmoid(y_pred)``.

    ::

        p_t = p if y == 1 else 1 - p;   alpha_t = alpha if y == 1 else 1 - alpha
        L = -alpha_t * (1 - p_t)**gamma * log(p_t)

    With ``gamma = 0, alpha = 0.5`` it is half the logistic loss.

    Parameters
    ----------
    gamma : float >= 0, default 2
        Focusing parameter.
    alpha : float in [0, 1], default 0.25
        Weight of the positive class.
    derivatives : {"reference", "exact"}, default "reference"
        Both give the exact gradient. ``"exact"`` gives the exact hessian, negative for
        ``gamma > 0`` on badly classified rows; ``"reference"`` the surrogate
        ``alpha_t (1-p_t)**gamma * p (1-p)`` (the logistic hessian times the focal
        weight held fixed), positive and equal to the exact one at ``gamma = 0``.
    min_hessian : float or None, default 1e-16
        Floor on the hessian (xgboost's floor for its built-in logistic hessian).

    References
    ----------
    Lin, Goyal, Girshick, He, Dollar (2017), "Focal Loss for Dense Object Detection".
    """

    name = "focal"
    rows = RowFunctions(
        label="focal",
        kind="binary",
        module="czar_gbdt._kernels.binary",
        loss="focal_loss_row",
        grad_hess=(("reference", "focal_grad_hess_reference"), ("exact", "focal_grad_hess_exact")),
        n_args=2,
        cases="focal_cases",
        n_cases=2,
    )
    param_defaults = {"gamma": 2.0, "alpha": 0.25}
    param_domains = {"gamma": NONNEGATIVE, "alpha": UNIT}

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: float = 0.25,
        *,
        derivatives: str = "reference",
        min_hessian: float | None = None,
    ):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self._set_params(gamma=gamma, alpha=alpha)

    def kernel_args(self) -> tuple[float, ...]:
        """``(alpha, gamma)``."""
        return (self.alpha, self.gamma)


class AsymmetricLoss(BinaryLoss):
    """Binary asymmetric loss on the logit (Ridnik et al. 2021).

    Domain: y_true in {0, 1}; y_pred (logit) real.
    Link: logit, ``p = sigmoid(y_pred)``.

    ::

        p_m = max(p - clip, 0)
        L = -y * (1 - p)**gamma_pos * log(p) - (1 - y) * p_m**gamma_neg * log(1 - p_m)

    Parameters
    ----------
    gamma_pos : float >= 0, default 0
    gamma_neg : float >= 0, default 4
    clip : float in [0, 1), default 0
        Probability margin for negatives (the paper uses 0.05; 0 is the default here).
    derivatives : {"reference", "exact"}, default "reference"
        Exact gradient in both; ``"reference"`` uses the surrogate hessian
        ``w * p (1-p)`` with the modulating factor ``w`` (``(1-p)**gamma_pos`` or
        ``p_m**gamma_neg``) held fixed.
    min_hessian : float or None, default 1e-16

    References
    ----------
    Ridnik et al. (2021), "Asymmetric Loss For Multi-Label Classification".
    """

    name = "asymmetric"
    rows = RowFunctions(
        label="asymmetric",
        kind="binary",
        module="czar_gbdt._kernels.binary",
        loss="asymmetric_loss_row",
        grad_hess=(("reference", "asymmetric_grad_hess_reference"), ("exact", "asymmetric_grad_hess_exact")),
        n_args=3,
        cases="asymmetric_cases",
        n_cases=2,
    )
    param_defaults = {"gamma_pos": 0.0, "gamma_neg": 4.0, "clip": 0.0}
    param_domains = {
        "gamma_pos": NONNEGATIVE,
        "gamma_neg": NONNEGATIVE,
        "clip": Interval("real", 0.0, 1.0, open_high=True),
    }

    def __init__(
        self,
        gamma_pos: float = 0.0,
        gamma_neg: float = 4.0,
        clip: float = 0.0,
        *,
        derivatives: str = "reference",
        min_hessian: float | None = None,
    ):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self._set_params(gamma_pos=gamma_pos, gamma_neg=gamma_neg, clip=clip)

    def kernel_args(self) -> tuple[float, ...]:
        """``(gamma_pos, gamma_neg, clip)``."""
        return (self.gamma_pos, self.gamma_neg, self.clip)


class LogisticLoss(BinaryLoss):
    """Binary cross-entropy on the logit, with a weight for the positive class.

    Domain: y_true in {0, 1}; y_pred (logit) real.
    Link: logit, ``p = sigmoid(y_pred)``.

    ::

        L = -c_y * (y * log(p) + (1 - y) * log(1 - p)),   c_1 = pos_weight, c_0 = 1

    The same function as xgboost's ``binary:logistic`` with ``scale_pos_weight`` and
    lightgbm's ``binary`` with ``scale_pos_weight``; derivatives are exact in both
    modes (``grad = c (p - y)``, ``hess = c p (1 - p)``).

    Parameters
    ----------
    pos_weight : float > 0, default 1
        Weight of the positive rows relative to the negative ones (see
        :func:`balanced_pos_weight`).
    derivatives : {"reference", "exact"}, default "reference"
        The same here.
    min_hessian : float or None, default 1e-16
    """

    name = "logistic"
    rows = RowFunctions(
        label="logistic",
        kind="binary",
        module="czar_gbdt._kernels.binary",
        loss="logistic_loss_row",
        grad_hess=(("reference", "logistic_grad_hess"), ("exact", "logistic_grad_hess")),
        n_args=1,
    )
    param_defaults = {"pos_weight": 1.0}
    param_domains = {"pos_weight": POSITIVE}

    def __init__(self, pos_weight: float = 1.0, *, derivatives: str = "reference", min_hessian: float | None = None):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self._set_params(pos_weight=pos_weight)

    def kernel_args(self) -> tuple[float, ...]:
        """``(pos_weight,)``."""
        return (self.pos_weight,)

    def init_score(self, y_true, *, std=None, mean=None, weight=None) -> float:
        """``logit(sum(w c y) / sum(w c))``, clipped to [-30, 30] (closed form)."""
        y = as_rows("y_true", y_true).astype(np.float64, copy=False)
        if y.shape[0] == 0:
            raise ValueError("y_true is empty: there is no constant to fit.")
        first_bad("y_true", y, (y == 0) | (y == 1), "0 or 1 (binary labels)")
        w = (
            np.ones_like(y)
            if weight is None
            else np.broadcast_to(as_aligned("weight", weight, y.shape[0], None), y.shape)
        )
        first_bad("weight", np.asarray(w), np.isfinite(w) & (w >= 0), "finite and >= 0")
        pos = self.pos_weight * float(np.dot(w, y))
        neg = float(np.dot(w, 1.0 - y))
        if pos + neg == 0:
            raise ValueError("weight is 0 on every row: there is no constant to fit.")
        if pos == 0:
            return -30.0
        if neg == 0:
            return 30.0
        return float(min(max(math.log(pos) - math.log(neg), -30.0), 30.0))

"""The soft precision/F1 composite: a binary loss of whole-dataset soft counts."""

from __future__ import annotations

import math

import numpy as np

from .._jit import threads_for_rows
from .._kernels import soft_f1 as _sf1
from .._validation import POSITIVE, UNIT, Interval, output_pair
from .base import BaseLoss

__all__ = ["SoftF1Composite"]


class _Jet:
    """A number with its first and second derivative along one direction."""

    __slots__ = ("v", "d", "dd")

    def __init__(self, v: float, d: float = 0.0, dd: float = 0.0):
        self.v, self.d, self.dd = v, d, dd

    @staticmethod
    def _lift(x):
        return x if isinstance(x, _Jet) else _Jet(float(x))

    def __add__(self, other):
        o = self._lift(other)
        return _Jet(self.v + o.v, self.d + o.d, self.dd + o.dd)

    __radd__ = __add__

    def __sub__(self, other):
        o = self._lift(other)
        return _Jet(self.v - o.v, self.d - o.d, self.dd - o.dd)

    def __rsub__(self, other):
        return self._lift(other) - self

    def __mul__(self, other):
        o = self._lift(other)
        return _Jet(self.v * o.v, self.d * o.v + self.v * o.d, self.dd * o.v + 2.0 * self.d * o.d + self.v * o.dd)

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = self._lift(other)
        inv = 1.0 / o.v
        r = _Jet(inv, -o.d * inv * inv, 2.0 * o.d * o.d * inv**3 - o.dd * inv * inv)
        return self * r

    def __rtruediv__(self, other):
        return self._lift(other) / self


def _prf(tp, fp, fn, eps):
    """Soft precision, recall and F1 of one class (``eps`` in every denominator)."""
    precision = tp / (tp + fp + eps)
    recall = tp / (tp + fn + eps)
    f1 = 2.0 * precision * recall / (precision + recall + eps)
    return precision, recall, f1


class SoftF1Composite(BaseLoss):
    """Soft precision/F1 composite with a class-weighted cross-entropy.

    Domain: y_true in {0, 1}; y_pred (logit) real. Link: logit, ``p = sigmoid(y_pred)``.
    A *whole-dataset* loss: with row weights ``w`` and the soft counts over all rows
    ``tp = sum w y p``, ``fp = sum w (1-y) p``, ``fn = sum w y (1-p)``::

        P = tp / (tp + fp + eps)        R = tp / (tp + fn + eps)
        F1 = 2 P R / (P + R + eps)
        metric = (g * (1 - P) + (1 - F1)) / (g + 1)
        CE = sum(w c_y ce) / sum(w c_y),  ce = -log p_t,  c_1 = pos_weight, c_0 = 1
        L = alpha * metric + beta * CE

    ``CE`` is PyTorch's ``CrossEntropyLoss(weight=class_weights)`` (a weighted mean), so
    only the ratio of the two class weights matters: ``pos_weight = w_1 / w_0``.
    ``average="macro"`` averages ``P`` and ``F1`` over both classes (class 0 counts
    ``tn = sum w (1-y)(1-p)`` as its true positives), which is exactly a
    two-class softmax formulation; ``"binary"`` (default) scores the positive class only.

    Calling the loss returns ``L`` (a mean-type quantity: it does not change when
    every row is duplicated). :meth:`grad_hess` returns the derivatives of ``W * L``,
    ``W = sum(w)`` (n without weights): the scale of a summed per-row loss, which is
    what boosting's Newton steps, ``lambda`` and ``min_child_weight`` expect, and what
    the element-wise losses return. The gradient is exact: each row's derivative is
    ``w_i * dL/dtp`` or ``dL/dfp`` (through ``fn``/``tn``) times ``p (1-p)``, plus the
    cross-entropy's ``c (p - y) / sum(w c)``, from two O(n) passes.

    The exact hessian is dense (every pair of rows interacts through the counts). Its
    diagonal is the O(1/n) count curvature plus ``a_i p (1-p)(1-2p)`` (``a_i`` the
    row's metric gradient per unit of ``p (1-p)``), which changes sign at ``p = 1/2``.
    The boosting surrogate (``derivatives="reference"``) is ``|a_i| p (1-p)`` plus the
    cross-entropy's exact ``c p (1-p) / sum(w c)``, times ``W w_i``: positive, of the
    gradient's scale, and a Newton step of the metric part alone is at most one logit
    unit per leaf. ``derivatives="exact"`` returns the true diagonal.

    Parameters
    ----------
    alpha : float in [0, 1], default 0.5
        Weight of the metric part (a schedule may move it, e.g. 0.3 -> 0.5 -> 0.7).
    beta : float in [0, 1], default 0.5
        Weight of the cross-entropy. ``alpha + beta`` must be > 0.
    g : float > 0, default 3
        Weight of ``1 - P`` relative to ``1 - F1`` (precision first: 3 to 1).
    pos_weight : float > 0, default 1
        Class weight of the positives in the cross-entropy relative to the negatives
        (values between 1.2 and 1.6 are typical for 15% positives; see
        :func:`czar_gbdt.balanced_pos_weight`).
    epsilon : float > 0, default 1e-7
        Added to every denominator; counts are sums of weights.
    average : {"binary", "macro"}, default "binary"
    derivatives : {"reference", "exact"}, default "reference"
    min_hessian : float or None, default 1e-16
        Floor of the per-row hessian (before the row weight).

    Notes
    -----
    Not element-wise: :meth:`loss` (per-row values) is refused, metrics and starting
    scores use the whole-dataset value, and CatBoost refuses the loss. The starting
    score is the constant minimising ``L`` (at a constant, ``P`` is the positive
    rate and ``F1`` grows with ``p``, so it lies above the cross-entropy's).
    """

    name = "soft_f1"
    kind = "binary"
    elementwise = False
    default_min_hessian = 1e-16
    param_defaults = {"alpha": 0.5, "beta": 0.5, "g": 3.0, "pos_weight": 1.0, "epsilon": 1e-7, "average": "binary"}
    _AVERAGES = ("binary", "macro")
    param_domains = {
        "alpha": UNIT,
        "beta": UNIT,
        "g": POSITIVE,
        "pos_weight": POSITIVE,
        "epsilon": POSITIVE,
        "average": Interval("str", options=_AVERAGES),
    }

    def __init__(
        self,
        alpha: float = 0.5,
        beta: float = 0.5,
        g: float = 3.0,
        pos_weight: float = 1.0,
        epsilon: float = 1e-7,
        average: str = "binary",
        *,
        derivatives: str = "reference",
        min_hessian: float | None = None,
    ):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self._set_params(alpha=alpha, beta=beta)
        if self.alpha + self.beta == 0:
            raise ValueError("alpha and beta are both 0: the loss would be 0 everywhere; got alpha=0, beta=0.")
        self._set_params(g=g, pos_weight=pos_weight, epsilon=epsilon, average=average)

    # -- the scalar part
    def _metric(self, tp, fp, fn, tn):
        eps = self.epsilon
        p1, r1, f1 = _prf(tp, fp, fn, eps)
        if self.average == "macro":
            p0, r0, f0 = _prf(tn, fn, fp, eps)
            precision, recall, f1 = 0.5 * (p1 + p0), 0.5 * (r1 + r0), 0.5 * (f1 + f0)
        else:
            precision, recall = p1, r1
        metric = (self.g * (1.0 - precision) + (1.0 - f1)) / (self.g + 1.0)
        return metric, precision, recall, f1

    def _sums(self, args) -> np.ndarray:
        """The seven weighted sums of one pass (see ``_kernels.soft_f1.soft_counts``)."""
        y, x, _, _, w = args
        sums = np.zeros(7)
        with threads_for_rows(y.shape[0]):
            bad = _sf1.soft_counts(y, x, w, self.pos_weight, sums)
        if bad:
            self._raise_bad(*args)
        if not sums[4] > 0:
            raise ValueError("weight is 0 on every row (or there are no rows): the soft counts are empty.")
        return sums

    def components(self, y_true, y_pred, *, weight=None) -> dict[str, float]:
        """The parts of the loss: soft ``precision``, ``recall``, ``f1``, ``metric``, ``ce``, ``loss``.

        ``precision``/``recall``/``f1`` are averaged over both classes when
        ``average="macro"``.
        """
        tp, fp, fn, tn, _, csum, ce = self._sums(self._prepare(y_true, y_pred, None, None, weight))
        metric, precision, recall, f1 = self._metric(tp, fp, fn, tn)
        ce = ce / csum
        return {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "metric": float(metric),
            "ce": float(ce),
            "loss": float(self.alpha * metric + self.beta * ce),
        }

    def __call__(self, y_true, y_pred, *, std=None, mean=None, weight=None) -> float:
        """The whole-dataset loss ``L`` (``std``/``mean`` are ignored)."""
        return self.components(y_true, y_pred, weight=weight)["loss"]

    def loss(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64) -> np.ndarray:
        """Refused: the soft counts couple all rows, so there is no per-row loss.

        Raises
        ------
        ValueError
            Always; call the loss (``loss(y_true, y_pred)``) for the whole-dataset value.
        """
        raise ValueError(
            f"{self!r} couples all rows and has no per-row values; call it, "
            "loss(y_true, y_pred, weight=...), for the whole-dataset value."
        )

    def grad_hess(
        self,
        y_true,
        y_pred,
        *,
        std=None,
        mean=None,
        weight=None,
        dtype=np.float64,
        out: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact gradient and diagonal hessian surrogate (or exact diagonal) of ``W * L``.

        Parameters are those of :meth:`BaseLoss.grad_hess`; ``std``/``mean`` are ignored.
        Two O(n) passes: the soft counts, then the per-row derivatives.

        Returns
        -------
        grad, hess : ndarray of shape (n_samples,)
        """
        args = self._prepare(y_true, y_pred, None, None, weight)
        y, x, _, _, w = args
        n = y.shape[0]
        grad, hess = output_pair(n, dtype, out)
        if n == 0:
            return grad, hess
        tp, fp, fn, tn, wsum, csum, _ = self._sums(args)
        coef = np.empty(5)
        scale = wsum * self.alpha
        for k, (dtp, dfp, dfn, dtn) in enumerate(((1.0, 0.0, -1.0, 0.0), (0.0, 1.0, 0.0, -1.0))):
            jet = self._metric(_Jet(tp, dtp), _Jet(fp, dfp), _Jet(fn, dfn), _Jet(tn, dtn))[0]
            coef[k], coef[2 + k] = scale * jet.d, scale * jet.dd
        coef[4] = wsum * self.beta / csum
        floor = -math.inf if self.min_hessian is None else self.min_hessian
        with threads_for_rows(n):
            bad = _sf1.soft_f1_grad_hess(y, x, w, self.pos_weight, coef, self.derivatives == "exact", floor, grad, hess)
        if bad:
            self._raise_bad(*args)
        return grad, hess

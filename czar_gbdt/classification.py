"""Classification losses from the seed notes: PnL weights, the soft-F1 composite, loss schedules.

* :func:`pnl_weights` builds the per-row weights of the PnL-weighted cross-entropy
  (``max(pnl, 0) + 1``, normalised to mean 1, times a gate mask). In boosting the
  weighted cross-entropy is the backends' cross-entropy with these as sample weights:
  pass them as ``weight=`` of the DMatrix/Dataset/Pool, with :class:`LogisticLoss` or a
  backend's built-in logistic objective.
* :class:`LogisticLoss` is the (class-weighted) binary cross-entropy on the logit, the
  element-wise baseline (``pos_weight`` is xgboost's ``scale_pos_weight``).
* :class:`SoftF1Composite` mixes the soft precision/F1 of the whole training set with a
  class-weighted cross-entropy. It couples all rows (``elementwise = False``): its
  gradient is exact and costs two O(n) passes per round; its hessian is a positive
  diagonal surrogate. CatBoost, which evaluates objectives on row subsets, refuses it.
* :func:`select_threshold` chooses the decision threshold on held-out rows (a validation
  slice at the end of the training window): the best F1, precision-first or break-even
  point among the thresholds whose predicted-positive rate lies in a band (seed 000's
  10-30%). The losses move the operating point; this sets it where it is wanted.
* :class:`ScheduledLoss` mixes two losses with a weight that changes with the boosting
  round (:func:`linear_warmup`, :func:`piecewise_linear`, :func:`steps` or any function
  of the round). The xgboost and lightgbm adapters feed it the round through a training
  callback (added by their ``train``/``fit`` helpers; ``objective.callback()`` otherwise).

Everything here is registered in :data:`czar_gbdt.LOSSES` (``"logistic"``,
``"soft_f1"``) except :class:`ScheduledLoss`, which is built from two losses.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from typing import Any, Callable, Iterator

import numba
import numpy as np

from ._kernels import soft_f1 as _sf1
from .losses import (
    LOSSES,
    BaseLoss,
    _as_aligned,
    _as_rows,
    _BinaryLoss,
    _check_number,
    _first_bad,
    _out_dtype,
)

__all__ = [
    "pnl_weights",
    "balanced_pos_weight",
    "select_threshold",
    "LogisticLoss",
    "SoftF1Composite",
    "ScheduledLoss",
    "MixedLoss",
    "linear_warmup",
    "piecewise_linear",
    "steps",
]


# --------------------------------------------------------------------------- weights
def _finite_rows(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got shape {arr.shape}.")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    _first_bad(name, arr, np.isfinite(arr), "finite")
    return arr


def pnl_weights(pnl: Any, gate: Any = None, *, scale: float = 1.0, normalize: bool = True) -> np.ndarray:
    """Per-row weights of the PnL-weighted cross-entropy (seed 000).

    ``w = max(scale * pnl, 0) + 1``, divided by its mean over all rows (``normalize``),
    then multiplied by ``gate``. Rows with a larger realised profit weigh more; losing
    rows keep weight 1 (before normalisation); rows with ``gate = 0`` drop out. As in
    the seed, the mean is taken before the gate, so the gated weights need not have
    mean 1.

    Training with these as sample weights is training on a dataset in which each row
    appears ``w`` times: with integer weights it gives the same model as duplicating
    the rows (``normalize=False``, or any loss whose Newton steps do not depend on a
    common factor of the weights).

    Parameters
    ----------
    pnl : array-like of shape (n_samples,)
        Realised profit and loss of acting on each row (finite).
    gate : array-like of shape (n_samples,), optional
        Mask (bool or 0/1; any finite value >= 0 is a soft gate) multiplying the weights.
    scale : float > 0, default 1
        Multiplies ``pnl`` first: the PnL in units in which 1 is a large profit
        (returns of 0.01 barely move ``max(pnl, 0) + 1``).
    normalize : bool, default True
        Divide by the mean of ``max(scale * pnl, 0) + 1`` over all rows.

    Returns
    -------
    ndarray of shape (n_samples,)
        Finite weights >= 0, for ``weight=`` of a DMatrix, Dataset or Pool.

    Raises
    ------
    ValueError
        Naming ``pnl``, ``gate`` or ``scale`` when a value is bad, or when the gate
        removes every row.

    Examples
    --------
    >>> pnl_weights([0.0, 1.0, -2.0, 3.0], normalize=False)
    array([1., 2., 1., 4.])
    >>> pnl_weights([0.0, 1.0, -2.0, 3.0], gate=[1, 1, 0, 1])
    array([0.5, 1. , 0. , 2. ])
    """
    scale = _check_number("scale", scale, low=0.0, low_open=True)
    p = _finite_rows("pnl", pnl)
    if p.shape[0] == 0:
        raise ValueError("pnl is empty: there are no rows to weight.")
    w = np.maximum(scale * p, 0.0) + 1.0
    if not np.isfinite(w).all():
        raise ValueError(f"scale * pnl overflows (scale={scale!r}); use a smaller scale.")
    if normalize:
        w /= w.mean()
    if gate is not None:
        m = _finite_rows("gate", gate)
        if m.shape[0] != p.shape[0]:
            raise ValueError(f"gate has {m.shape[0]} values but pnl has {p.shape[0]}; they must be aligned.")
        _first_bad("gate", m, m >= 0, ">= 0 (a mask)")
        w *= m
        if not w.any():
            raise ValueError("gate removes every row (all weights are 0): nothing would be trained on.")
    return w


def balanced_pos_weight(y: Any, weight: Any = None) -> float:
    """``sum(w * (1 - y)) / sum(w * y)``: the positive-class weight that balances the classes.

    The ratio of the seed's ``calculate_class_weights`` (``n / (2 * count_c)`` per
    class). The seed found it "too extreme" and settled on 1.2 to 1.6; it is an upper
    end for ``pos_weight``, not a recommendation.
    """
    y = _as_rows("y", y).astype(np.float64, copy=False)
    _first_bad("y", y, (y == 0) | (y == 1), "0 or 1 (binary labels)")
    w = np.ones_like(y) if weight is None else np.broadcast_to(_as_aligned("weight", weight, y.shape[0], None),
                                                                y.shape)
    _first_bad("weight", np.asarray(w), np.isfinite(w) & (w >= 0), "finite and >= 0")
    pos, neg = float(np.dot(w, y)), float(np.dot(w, 1.0 - y))
    if pos == 0 or neg == 0:
        raise ValueError(f"y needs both classes with positive weight to balance them; got {pos:g} positive "
                         f"and {neg:g} negative.")
    return neg / pos


# --------------------------------------------------------------------------- thresholds
_CRITERIA = ("f1", "precision_first", "break_even")


def select_threshold(y_true: Any, score: Any, *, weight: Any = None, criterion: Any = "f1",
                     rate: tuple[float, float] = (0.0, 1.0), g: float = 3.0) -> float:
    """Decision threshold chosen on held-out rows: predict positive when ``score > threshold``.

    Meant for a validation slice at the end of the training window (never the test
    rows): score it with the trained model, choose the threshold here, apply it to
    new rows. Every cut between two distinct scores is a candidate (the top ``k`` rows
    positive, ``k = 0..n``); among those whose predicted-positive rate (weighted share
    of rows predicted positive) lies in ``rate``, the one with the largest
    ``criterion`` of the hard counts ``tp, fp, fn, tn`` wins (ties: the fewest
    positives). O(n log n): one sort and cumulative sums.

    Criteria (``P = tp / (tp + fp)``, ``R = tp / (tp + fn)``, 0 when undefined):

    * ``"f1"``: ``2 tp / (2 tp + fp + fn)``.
    * ``"precision_first"``: ``(g * P + F1) / (g + 1)``, one minus the metric part of
      :class:`SoftF1Composite` on hard counts (seed 001's 3:1 for ``g = 3``).
    * ``"break_even"``: the precision-recall break-even point, ``-|(tp + fp) - (tp + fn)|``:
      as many predicted positives as there are positives (``P = R``), so the
      predicted-positive rate is the positive rate of the slice.
    * a function ``f(tp, fp, fn, tn) -> values`` of arrays over the candidates, maximised.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels 0 or 1 of the held-out rows; at least one positive (with weight > 0).
    score : array-like of shape (n_samples,)
        Finite model outputs, any increasing scale (margins or probabilities); the
        threshold is on that scale.
    weight : array-like of shape (n_samples,), optional
        Row weights (finite, >= 0) for the counts and the rate.
    criterion : {"f1", "precision_first", "break_even"} or callable, default "f1"
    rate : (low, high), default (0, 1)
        Allowed predicted-positive rates, inclusive; seed 000's criterion is
        ``(0.10, 0.30)``.
    g : float > 0, default 3
        Weight of precision in ``"precision_first"``.

    Returns
    -------
    float
        The midpoint between the lowest predicted-positive score and the highest
        predicted-negative one (the latter if the midpoint rounds onto the former);
        the top score when no row is positive, ``-inf`` when every row is.

    Raises
    ------
    ValueError
        Naming the argument for bad input, when the slice has no positive, or when
        no cut gives a rate inside ``rate`` (ties in ``score``, or a band narrower than
        one row).

    Examples
    --------
    >>> y = [0, 0, 1, 0, 1, 1, 0, 0, 0, 0]
    >>> s = [0.1, 0.2, 0.9, 0.3, 0.8, 0.4, 0.5, 0.05, 0.15, 0.25]
    >>> select_threshold(y, s)                        # top 4 rows: F1 = 6/7
    0.35
    >>> select_threshold(y, s, criterion="precision_first")   # top 2 rows: P = 1
    0.65
    >>> select_threshold(y, s, criterion="break_even")   # top 3, as many as positives
    0.45
    >>> select_threshold(y, s, rate=(0.5, 1.0))        # at least half the rows positive
    0.275
    """
    y = _finite_rows("y_true", y_true)
    _first_bad("y_true", y, (y == 0) | (y == 1), "0 or 1 (binary labels)")
    s = _finite_rows("score", score)
    n = y.shape[0]
    if s.shape[0] != n:
        raise ValueError(f"score has {s.shape[0]} values but y_true has {n}; they must be aligned.")
    if n == 0:
        raise ValueError("y_true is empty: there are no rows to choose a threshold on.")
    if weight is None:
        w = np.ones(n)
    else:
        w = _finite_rows("weight", weight)
        if w.shape[0] != n:
            raise ValueError(f"weight has {w.shape[0]} values but y_true has {n}; they must be aligned.")
        _first_bad("weight", w, w >= 0, ">= 0")
    try:
        low, high = rate
    except (TypeError, ValueError):
        raise ValueError(f"rate must be a (low, high) pair of rates; got {rate!r}.") from None
    low = _check_number("rate low", low, low=0.0, high=1.0)
    high = _check_number("rate high", high, low=0.0, high=1.0)
    if low > high:
        raise ValueError(f"rate low must be <= rate high; got {rate!r}.")
    g = _check_number("g", g, low=0.0, low_open=True)
    if not callable(criterion) and criterion not in _CRITERIA:
        raise ValueError(f"criterion must be one of {_CRITERIA} or a function of (tp, fp, fn, tn); "
                         f"got {criterion!r}.")
    total, pos = float(w.sum()), float(np.dot(w, y))
    if not pos > 0:
        raise ValueError("y_true has no positive row with weight > 0: there is nothing to find a threshold for.")
    order = np.argsort(-s, kind="stable")
    ss, ws, ys = s[order], w[order], y[order]
    # candidates: k = 0 and every k after which the next score is strictly lower (or k = n)
    ends = np.flatnonzero(np.r_[ss[1:] < ss[:-1], True]) + 1
    k = np.r_[0, ends]
    tp = np.r_[0.0, np.cumsum(ws * ys)][k]
    predicted = np.r_[0.0, np.cumsum(ws)][k]
    fp = predicted - tp
    fn, tn = pos - tp, (total - pos) - fp
    share = predicted / total
    tol = 1e-12
    inside = (share >= low - tol) & (share <= high + tol)
    if not inside.any():
        raise ValueError(f"no threshold puts the predicted-positive rate in [{low:g}, {high:g}]: the nearest "
                         f"rates are {share[share < low].max(initial=0.0):g} and "
                         f"{share[share > high].min(initial=1.0):g} (ties in score, or too few rows).")
    with np.errstate(divide="ignore", invalid="ignore"):
        if criterion == "break_even":
            value = -np.abs(predicted - pos)
        elif callable(criterion):
            value = np.asarray(criterion(tp, fp, fn, tn), dtype=np.float64)
            if value.shape != tp.shape:
                raise ValueError(f"criterion returned shape {value.shape}; it must return one value per "
                                 f"candidate, shape {tp.shape}.")
        else:
            f1 = np.where(tp > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
            if criterion == "f1":
                value = f1
            else:
                precision = np.where(predicted > 0, tp / predicted, 0.0)
                value = (g * precision + f1) / (g + 1)
    value = np.where(inside & ~np.isnan(value), value, -np.inf)
    if not np.isfinite(value).any():
        raise ValueError("criterion gave no finite value at the allowed thresholds.")
    best = int(np.argmax(value))
    kk = int(k[best])
    if kk == 0:
        return float(ss[0])
    if kk == n:
        return -math.inf
    above, below = float(ss[kk - 1]), float(ss[kk])
    mid = below / 2 + above / 2
    return mid if below < mid < above else below


# --------------------------------------------------------------------------- logistic
class LogisticLoss(_BinaryLoss):
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
    param_defaults = {"pos_weight": 1.0}

    def __init__(self, pos_weight: float = 1.0, *, derivatives: str = "reference",
                 min_hessian: float | None = None):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self.pos_weight = _check_number("pos_weight", pos_weight, low=0.0, low_open=True)

    def init_score(self, y_true, *, std=None, mean=None, weight=None) -> float:
        """``logit(sum(w c y) / sum(w c))``, clipped to [-30, 30] (closed form)."""
        y = _as_rows("y_true", y_true).astype(np.float64, copy=False)
        if y.shape[0] == 0:
            raise ValueError("y_true is empty: there is no constant to fit.")
        _first_bad("y_true", y, (y == 0) | (y == 1), "0 or 1 (binary labels)")
        w = np.ones_like(y) if weight is None else np.broadcast_to(
            _as_aligned("weight", weight, y.shape[0], None), y.shape)
        _first_bad("weight", np.asarray(w), np.isfinite(w) & (w >= 0), "finite and >= 0")
        pos = self.pos_weight * float(np.dot(w, y))
        neg = float(np.dot(w, 1.0 - y))
        if pos + neg == 0:
            raise ValueError("weight is 0 on every row: there is no constant to fit.")
        if pos == 0:
            return -30.0
        if neg == 0:
            return 30.0
        return float(min(max(math.log(pos) - math.log(neg), -30.0), 30.0))

    def _loss_kernel(self, y_true, y_pred, std, mean, weight, out):
        return _sf1.logistic_loss(y_true, y_pred, weight, self.pos_weight, out)

    def _grad_hess_kernel(self, y_true, y_pred, std, mean, weight, exact, floor, grad, hess):
        return _sf1.logistic_grad_hess(y_true, y_pred, weight, self.pos_weight, floor, grad, hess)


# --------------------------------------------------------------------------- soft F1
#: Below this many rows the soft-F1 passes run on one numba thread. Starting a parallel
#: region costs more than such a pass (measured on 2 busy cores: 16 ms per call for 70
#: rows with two threads, 0.08 ms with one).
SERIAL_ROWS = 50_000


@contextlib.contextmanager
def _threads_for(n: int) -> Iterator[None]:
    previous = numba.get_num_threads()
    if n >= SERIAL_ROWS or previous == 1:
        yield
        return
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


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
    """Soft precision, recall and F1 of one class, as in the seed (``eps`` in every denominator)."""
    precision = tp / (tp + fp + eps)
    recall = tp / (tp + fn + eps)
    f1 = 2.0 * precision * recall / (precision + recall + eps)
    return precision, recall, f1


class SoftF1Composite(BaseLoss):
    """Soft precision/F1 composite with a class-weighted cross-entropy (seed 001).

    Domain: y_true in {0, 1}; y_pred (logit) real. Link: logit, ``p = sigmoid(y_pred)``.
    A *whole-dataset* loss: with row weights ``w`` and the soft counts over all rows
    ``tp = sum w y p``, ``fp = sum w (1-y) p``, ``fn = sum w y (1-p)``::

        P = tp / (tp + fp + eps)        R = tp / (tp + fn + eps)
        F1 = 2 P R / (P + R + eps)
        metric = (g * (1 - P) + (1 - F1)) / (g + 1)
        CE = sum(w c_y ce) / sum(w c_y),  ce = -log p_t,  c_1 = pos_weight, c_0 = 1
        L = alpha * metric + beta * CE

    ``CE`` is PyTorch's ``CrossEntropyLoss(weight=class_weights)`` (a weighted mean), so
    only the ratio of the seed's two class weights matters: ``pos_weight = w_1 / w_0``.
    ``average="macro"`` averages ``P`` and ``F1`` over both classes (class 0 counts
    ``tn = sum w (1-y)(1-p)`` as its true positives), which is exactly the seed's
    two-class softmax code; ``"binary"`` (default) scores the positive class only.

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
        Weight of the metric part (the seed: 0.5; its schedule 0.3 -> 0.5 -> 0.7).
    beta : float in [0, 1], default 0.5
        Weight of the cross-entropy. ``alpha + beta`` must be > 0.
    g : float > 0, default 3
        Weight of ``1 - P`` relative to ``1 - F1`` (the seed's precision-first 3:1).
    pos_weight : float > 0, default 1
        Class weight of the positives in the cross-entropy relative to the negatives
        (the seed tried 1.2, 1.382 and 1.6; see :func:`balanced_pos_weight`).
    epsilon : float > 0, default 1e-7
        Added to every denominator (the seed's value); counts are sums of weights.
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
    param_defaults = {"alpha": 0.5, "beta": 0.5, "g": 3.0, "pos_weight": 1.0, "epsilon": 1e-7,
                      "average": "binary"}
    _AVERAGES = ("binary", "macro")

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, g: float = 3.0, pos_weight: float = 1.0,
                 epsilon: float = 1e-7, average: str = "binary", *, derivatives: str = "reference",
                 min_hessian: float | None = None):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self.alpha = _check_number("alpha", alpha, low=0.0, high=1.0)
        self.beta = _check_number("beta", beta, low=0.0, high=1.0)
        if self.alpha + self.beta == 0:
            raise ValueError("alpha and beta are both 0: the loss would be 0 everywhere; got alpha=0, beta=0.")
        self.g = _check_number("g", g, low=0.0, low_open=True)
        self.pos_weight = _check_number("pos_weight", pos_weight, low=0.0, low_open=True)
        self.epsilon = _check_number("epsilon", epsilon, low=0.0, low_open=True)
        if average not in self._AVERAGES:
            raise ValueError(f"average must be one of {self._AVERAGES}; got {average!r}.")
        self.average = average

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
        with _threads_for(y.shape[0]):
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
        return {"precision": float(precision), "recall": float(recall), "f1": float(f1),
                "metric": float(metric), "ce": float(ce), "loss": float(self.alpha * metric + self.beta * ce)}

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
        raise ValueError(f"{self!r} couples all rows and has no per-row values; call it, "
                         "loss(y_true, y_pred, weight=...), for the whole-dataset value.")

    def grad_hess(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64,
                  out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
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
        if out is None:
            dt = _out_dtype(dtype)
            grad, hess = np.empty(n, dtype=dt), np.empty(n, dtype=dt)
        else:
            grad, hess = out
            if grad.shape != (n,) or hess.shape != (n,):
                raise ValueError(f"out arrays must have shape ({n},); got {grad.shape} and {hess.shape}.")
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
        with _threads_for(n):
            bad = _sf1.soft_f1_grad_hess(y, x, w, self.pos_weight, coef, self.derivatives == "exact", floor,
                                         grad, hess)
        if bad:
            self._raise_bad(*args)
        return grad, hess


# --------------------------------------------------------------------------- schedules
class _Schedule:
    """A weight of the round: ``schedule(round) -> float in [0, 1]``."""

    def _key(self) -> tuple:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))


class piecewise_linear(_Schedule):
    """Weight interpolated linearly between ``(round, weight)`` knots, constant outside.

    Parameters
    ----------
    points : sequence of (round, weight)
        Rounds (ints >= 0, strictly increasing) and weights in [0, 1].

    Examples
    --------
    Seed 000's ``LossWeightScheduler`` (0 -> 0.1 over 10 rounds, then -> 1 over 20):

    >>> s = piecewise_linear([(0, 0.0), (10, 0.1), (30, 1.0)])
    >>> s(5), s(20), s(100)
    (0.05, 0.55, 1.0)
    """

    def __init__(self, points):
        try:
            pts = [(r, w) for r, w in points]
        except (TypeError, ValueError):
            raise ValueError(f"points must be a sequence of (round, weight) pairs; got {points!r}.") from None
        if not pts:
            raise ValueError("points is empty: give at least one (round, weight) pair.")
        rounds = [_check_round("points round", r) for r, _ in pts]
        weights = [_check_number("points weight", w, low=0.0, high=1.0) for _, w in pts]
        if any(b <= a for a, b in zip(rounds, rounds[1:])):
            raise ValueError(f"points rounds must be strictly increasing; got {rounds}.")
        self.points = tuple(zip(rounds, weights))

    def _key(self):
        return self.points

    def __call__(self, round: int) -> float:
        r = float(round)
        pts = self.points
        if r <= pts[0][0]:
            return pts[0][1]
        for (r0, w0), (r1, w1) in zip(pts, pts[1:]):
            if r <= r1:
                return w0 + (w1 - w0) * (r - r0) / (r1 - r0)
        return pts[-1][1]

    def __repr__(self) -> str:
        return f"piecewise_linear({list(self.points)!r})"


class linear_warmup(piecewise_linear):
    """Weight rising linearly from ``start`` to ``end`` over ``rounds`` rounds, then ``end``.

    ``weight(t) = start + (end - start) * min(t / rounds, 1)``. With the default
    ``start=0, end=1``, round 0 trains the first loss only and round ``rounds`` on the
    second only.

    Parameters
    ----------
    rounds : int >= 1
    start, end : float in [0, 1], defaults 0 and 1
    """

    def __init__(self, rounds: int, start: float = 0.0, end: float = 1.0):
        rounds = _check_round("rounds", rounds)
        if rounds < 1:
            raise ValueError(f"rounds must be >= 1; got {rounds!r}.")
        start = _check_number("start", start, low=0.0, high=1.0)
        end = _check_number("end", end, low=0.0, high=1.0)
        super().__init__([(0, start), (rounds, end)])
        self.rounds, self.start, self.end = rounds, start, end

    def __repr__(self) -> str:
        return f"linear_warmup({self.rounds!r}, start={self.start!r}, end={self.end!r})"


class steps(_Schedule):
    """Piecewise-constant weight: ``values[k]`` from round ``boundaries[k-1]`` on.

    Parameters
    ----------
    boundaries : sequence of int
        Strictly increasing rounds (>= 1) at which the weight changes.
    values : sequence of float in [0, 1]
        One more value than boundaries.

    Examples
    --------
    The seed 001 schedule over 100 rounds (metric weight 0.3, then 0.5 from round 30,
    0.7 from round 80):

    >>> s = steps([30, 80], [0.3, 0.5, 0.7])
    >>> s(0), s(29), s(30), s(99)
    (0.3, 0.3, 0.5, 0.7)
    """

    def __init__(self, boundaries, values):
        b = [_check_round("boundaries", r) for r in boundaries]
        v = [_check_number("values", w, low=0.0, high=1.0) for w in values]
        if len(v) != len(b) + 1:
            raise ValueError(f"values must have one more entry than boundaries ({len(b) + 1}); got {len(v)}.")
        if any(r < 1 for r in b) or any(y <= x for x, y in zip(b, b[1:])):
            raise ValueError(f"boundaries must be strictly increasing rounds >= 1; got {b}.")
        self.boundaries, self.values = tuple(b), tuple(v)

    def _key(self):
        return (self.boundaries, self.values)

    def __call__(self, round: int) -> float:
        k = 0
        while k < len(self.boundaries) and round >= self.boundaries[k]:
            k += 1
        return self.values[k]

    def __repr__(self) -> str:
        return f"steps({list(self.boundaries)!r}, {list(self.values)!r})"


def _check_round(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {value!r}.")
    return int(value)


def _part(name: str, loss: Any) -> BaseLoss:
    if isinstance(loss, str):
        from .losses import get_loss

        return get_loss(loss)
    if not isinstance(loss, BaseLoss) or isinstance(loss, ScheduledLoss):
        raise ValueError(f"{name} must be a czar_gbdt loss (not a schedule) or a loss name; got {loss!r}.")
    return loss


def _needs_std(loss: BaseLoss) -> bool:
    from ._adapters import requires_std

    return requires_std(loss)


class MixedLoss(BaseLoss):
    """``(1 - weight) * first + weight * second`` with a fixed weight (a schedule at one round).

    Values, gradients and hessians are the mixes of the parts' own (each part applies
    its own hessian floor and row weights). Element-wise when both parts are.
    """

    def __init__(self, first: Any, second: Any, weight: float):
        super().__init__()
        self.first, self.second = _part("first", first), _part("second", second)
        if self.first.kind != self.second.kind:
            raise ValueError(f"first and second must be the same kind of loss; got {self.first.kind} "
                             f"{self.first!r} and {self.second.kind} {self.second!r}.")
        self.weight = _check_number("weight", weight, low=0.0, high=1.0)
        self.kind = self.first.kind
        self.elementwise = self.first.elementwise and self.second.elementwise
        self.name = f"mix({self.first.name},{self.second.name})"

    @property
    def requires_std(self) -> bool:
        """Whether a part needs a per-row ``std``."""
        return _needs_std(self.first) or _needs_std(self.second)

    @property
    def params(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second, "weight": self.weight}

    def get_params(self) -> dict[str, Any]:
        return dict(self.params)

    def with_params(self, **changes: Any) -> "MixedLoss":
        own = {k: changes.pop(k) for k in list(changes) if k in ("first", "second", "weight")}
        first, second = own.get("first", self.first), own.get("second", self.second)
        if changes:  # derivatives / min_hessian / shared parameters go to both parts
            first, second = first.with_params(**changes), second.with_params(**changes)
        return MixedLoss(first, second, own.get("weight", self.weight))

    def __repr__(self) -> str:
        return f"MixedLoss({self.first!r}, {self.second!r}, weight={self.weight!r})"

    def _parts(self):
        return [(1.0 - self.weight, self.first), (self.weight, self.second)]

    def __call__(self, y_true, y_pred, *, std=None, mean=None, weight=None) -> float:
        return float(sum(c * part(y_true, y_pred, std=std, mean=mean, weight=weight)
                         for c, part in self._parts() if c != 0.0))

    def loss(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64) -> np.ndarray:
        out = None
        for c, part in self._parts():
            if c != 0.0:
                v = c * part.loss(y_true, y_pred, std=std, mean=mean, weight=weight, dtype=np.float64)
                out = v if out is None else out + v
        return out.astype(_out_dtype(dtype), copy=False)

    def grad_hess(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64,
                  out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        grad = hess = None
        for c, part in self._parts():
            if c != 0.0:
                g, h = part.grad_hess(y_true, y_pred, std=std, mean=mean, weight=weight, dtype=np.float64)
                grad, hess = (c * g, c * h) if grad is None else (grad + c * g, hess + c * h)
        if out is None:
            dt = _out_dtype(dtype)
            return grad.astype(dt, copy=False), hess.astype(dt, copy=False)
        if out[0].shape != grad.shape or out[1].shape != hess.shape:
            raise ValueError(f"out arrays must have shape {grad.shape}; got {out[0].shape} and {out[1].shape}.")
        out[0][...] = grad
        out[1][...] = hess
        return out


class ScheduledLoss(BaseLoss):
    """Two losses mixed with a weight that changes with the boosting round.

    At round ``t`` (0 for the first tree; with continued training, the number of
    rounds already in the model) the objective is
    ``(1 - w(t)) * first + w(t) * second``, ``w = schedule``. For example
    cross-entropy first, then the soft-F1 composite (seeds 000 and 001), or MSE first,
    then CZAR. Training starts from the constant minimiser of the round-0 mix.

    The losses are plain functions of ``(y, pred)``: the round comes from the backend.
    ``czar_gbdt.xgboost.train``/``fit`` and ``czar_gbdt.lightgbm.train``/``fit`` add the
    objective's round callback; with ``xgb.train``/``lgb.train``/``xgb.cv``/``lgb.cv``
    or a scikit-learn estimator pass ``callbacks=[objective.callback()]``. The round is
    set before every boosting iteration, so reusing the objective for a second training
    (or under early stopping or cross-validation) restarts the schedule, and an
    objective called without its callback raises instead of guessing. CatBoost passes no
    round to objectives and refuses schedules.

    Parameters
    ----------
    first, second : loss or loss name
        Of the same kind (both regression or both binary).
    schedule : callable
        ``schedule(round) -> weight of second`` in [0, 1]: :func:`linear_warmup`,
        :func:`piecewise_linear`, :func:`steps` or a function of the round.

    Notes
    -----
    A scheduled loss has no single value, so it cannot be an eval metric: watch one of
    its parts (the adapters' early stopping defaults to ``second``) or another metric.
    Its value at a round is ``loss.at(round)(y, pred)``.
    """

    name = "scheduled"

    def __init__(self, first: Any, second: Any, schedule: Callable[[int], float]):
        super().__init__()
        self.first, self.second = _part("first", first), _part("second", second)
        if self.first.kind != self.second.kind:
            raise ValueError(f"first and second must be the same kind of loss; got {self.first.kind} "
                             f"{self.first!r} and {self.second.kind} {self.second!r}.")
        if not callable(schedule):
            raise ValueError(f"schedule must be a function of the round (e.g. linear_warmup(50)); got {schedule!r}.")
        self.schedule = schedule
        self.kind = self.first.kind
        self.elementwise = self.first.elementwise and self.second.elementwise

    @property
    def requires_std(self) -> bool:
        """Whether a part needs a per-row ``std``."""
        return _needs_std(self.first) or _needs_std(self.second)

    @property
    def params(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second, "schedule": self.schedule}

    def get_params(self) -> dict[str, Any]:
        return dict(self.params)

    def with_params(self, **changes: Any) -> "ScheduledLoss":
        own = {k: changes.pop(k) for k in list(changes) if k in ("first", "second", "schedule")}
        first, second = own.get("first", self.first), own.get("second", self.second)
        if changes:
            first, second = first.with_params(**changes), second.with_params(**changes)
        return ScheduledLoss(first, second, own.get("schedule", self.schedule))

    def __repr__(self) -> str:
        return f"ScheduledLoss({self.first!r}, {self.second!r}, schedule={self.schedule!r})"

    def weight(self, round: int) -> float:
        """The weight of ``second`` at ``round`` (checked to be in [0, 1])."""
        r = _check_round("round", round)
        w = self.schedule(r)
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not (0.0 <= float(w) <= 1.0):
            raise ValueError(f"schedule returned {w!r} at round {r}; the weight of the second loss must be "
                             "a number in [0, 1].")
        return float(w)

    def at(self, round: int) -> BaseLoss:
        """The loss of one round: ``first`` (weight 0), ``second`` (1) or their :class:`MixedLoss`."""
        w = self.weight(round)
        if w == 0.0:
            return self.first
        if w == 1.0:
            return self.second
        return MixedLoss(self.first, self.second, w)

    def _need_round(self, round):
        if round is None:
            raise ValueError(f"round is required: {self!r} changes with the boosting round; "
                             "use loss.at(round) or pass round=.")
        return self.at(round)

    def __call__(self, y_true, y_pred, *, std=None, mean=None, weight=None, round=None) -> float:
        return self._need_round(round)(y_true, y_pred, std=std, mean=mean, weight=weight)

    def loss(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64, round=None):
        return self._need_round(round).loss(y_true, y_pred, std=std, mean=mean, weight=weight, dtype=dtype)

    def grad_hess(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64, out=None,
                  round=None):
        return self._need_round(round).grad_hess(y_true, y_pred, std=std, mean=mean, weight=weight,
                                                 dtype=dtype, out=out)

    def init_score(self, y_true, *, std=None, mean=None, weight=None, round: int = 0) -> float:
        """The constant minimiser of the mix at ``round`` (default 0: where training starts)."""
        return self.at(round).init_score(y_true, std=std, mean=mean, weight=weight)


LOSSES.update({cls.name: cls for cls in (LogisticLoss, SoftF1Composite)})

"""Decision helpers for binary gate classifiers: PnL weights, class balance, thresholds.

The losses of such classifiers (:class:`czar_gbdt.LogisticLoss`,
:class:`czar_gbdt.FocalLoss`, :class:`czar_gbdt.SoftF1Composite`, schedules) live in
:mod:`czar_gbdt.losses`; this module holds what surrounds them:

* :func:`pnl_weights` builds the per-row weights of the PnL-weighted cross-entropy
  (``max(pnl, 0) + 1``, normalised to mean 1, times a gate mask). In boosting the
  weighted cross-entropy is the backends' cross-entropy with these as sample weights:
  pass them as ``weight=`` of the DMatrix/Dataset/Pool, with :class:`~czar_gbdt.LogisticLoss`
  or a backend's built-in logistic objective.
* :func:`balanced_pos_weight`: the positive-class weight that balances the classes.
* :func:`select_threshold` chooses the decision threshold on held-out rows (a validation
  slice at the end of the training window): the best F1, precision-first or break-even
  point among the thresholds whose predicted-positive rate lies in a band (for example
  10-30% of the rows flagged). The losses move the operating point; this sets it where
  it is wanted.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ._validation import as_aligned, as_rows, check_number, finite_rows, first_bad

__all__ = ["pnl_weights", "balanced_pos_weight", "select_threshold"]


# --------------------------------------------------------------------------- weights
def pnl_weights(pnl: Any, gate: Any = None, *, scale: float = 1.0, normalize: bool = True) -> np.ndarray:
    """Per-row weights of the PnL-weighted cross-entropy.

    ``w = max(scale * pnl, 0) + 1``, divided by its mean over all rows (``normalize``),
    then multiplied by ``gate``. Rows with a larger realised profit weigh more; losing
    rows keep weight 1 (before normalisation); rows with ``gate = 0`` drop out. The mean
    is taken before the gate, so the gated weights need not have
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
    scale = check_number("scale", scale, low=0.0, low_open=True)
    p = finite_rows("pnl", pnl)
    if p.shape[0] == 0:
        raise ValueError("pnl is empty: there are no rows to weight.")
    w = np.maximum(scale * p, 0.0) + 1.0
    if not np.isfinite(w).all():
        raise ValueError(f"scale * pnl overflows (scale={scale!r}); use a smaller scale.")
    if normalize:
        w /= w.mean()
    if gate is not None:
        m = finite_rows("gate", gate)
        if m.shape[0] != p.shape[0]:
            raise ValueError(f"gate has {m.shape[0]} values but pnl has {p.shape[0]}; they must be aligned.")
        first_bad("gate", m, m >= 0, ">= 0 (a mask)")
        w *= m
        if not w.any():
            raise ValueError("gate removes every row (all weights are 0): nothing would be trained on.")
    return w


def balanced_pos_weight(y: Any, weight: Any = None) -> float:
    """``sum(w * (1 - y)) / sum(w * y)``: the positive-class weight that balances the classes.

    The ratio of the usual balanced class weights (``n / (2 * count_c)`` per class).
    It is often too extreme in practice (values of 1.2 to 1.6 work better for 15%
    positives): an upper end for ``pos_weight``, not a recommendation.
    """
    y = as_rows("y", y).astype(np.float64, copy=False)
    first_bad("y", y, (y == 0) | (y == 1), "0 or 1 (binary labels)")
    w = np.ones_like(y) if weight is None else np.broadcast_to(as_aligned("weight", weight, y.shape[0], None), y.shape)
    first_bad("weight", np.asarray(w), np.isfinite(w) & (w >= 0), "finite and >= 0")
    pos, neg = float(np.dot(w, y)), float(np.dot(w, 1.0 - y))
    if pos == 0 or neg == 0:
        raise ValueError(
            f"y needs both classes with positive weight to balance them; got {pos:g} positive and {neg:g} negative."
        )
    return neg / pos


# --------------------------------------------------------------------------- thresholds
_CRITERIA = ("f1", "precision_first", "break_even")


def select_threshold(
    y_true: Any,
    score: Any,
    *,
    weight: Any = None,
    criterion: Any = "f1",
    rate: tuple[float, float] = (0.0, 1.0),
    g: float = 3.0,
) -> float:
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
      :class:`czar_gbdt.SoftF1Composite` on hard counts (precision first, 3 to 1, for ``g = 3``).
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
        Allowed predicted-positive rates, inclusive; a gate that flags 10-30% of the rows is
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
    y, s, w = _checked_rows(y_true, score, weight)
    low, high = _checked_rate(rate)
    g = check_number("g", g, low=0.0, low_open=True)
    if not callable(criterion) and criterion not in _CRITERIA:
        raise ValueError(f"criterion must be one of {_CRITERIA} or a function of (tp, fp, fn, tn); got {criterion!r}.")
    total, pos = float(w.sum()), float(np.dot(w, y))
    if not pos > 0:
        raise ValueError("y_true has no positive row with weight > 0: there is nothing to find a threshold for.")
    cuts = _cuts(y, s, w, total, pos)
    inside = _inside_rate(cuts.predicted / total, low, high)
    value = _criterion_values(criterion, cuts, pos, g)
    value = np.where(inside & ~np.isnan(value), value, -np.inf)
    if not np.isfinite(value).any():
        raise ValueError("criterion gave no finite value at the allowed thresholds.")
    return _threshold_at(cuts.sorted_score, int(cuts.k[int(np.argmax(value))]))


def _checked_rows(y_true: Any, score: Any, weight: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``y_true``, ``score`` and ``weight`` (ones when None) as aligned float rows, checked."""
    y = finite_rows("y_true", y_true)
    first_bad("y_true", y, (y == 0) | (y == 1), "0 or 1 (binary labels)")
    s = finite_rows("score", score)
    n = y.shape[0]
    if s.shape[0] != n:
        raise ValueError(f"score has {s.shape[0]} values but y_true has {n}; they must be aligned.")
    if n == 0:
        raise ValueError("y_true is empty: there are no rows to choose a threshold on.")
    if weight is None:
        return y, s, np.ones(n)
    w = finite_rows("weight", weight)
    if w.shape[0] != n:
        raise ValueError(f"weight has {w.shape[0]} values but y_true has {n}; they must be aligned.")
    first_bad("weight", w, w >= 0, ">= 0")
    return y, s, w


def _checked_rate(rate: Any) -> tuple[float, float]:
    """The ``(low, high)`` band of predicted-positive rates, each in [0, 1], low <= high."""
    try:
        low, high = rate
    except (TypeError, ValueError):
        raise ValueError(f"rate must be a (low, high) pair of rates; got {rate!r}.") from None
    low = check_number("rate low", low, low=0.0, high=1.0)
    high = check_number("rate high", high, low=0.0, high=1.0)
    if low > high:
        raise ValueError(f"rate low must be <= rate high; got {rate!r}.")
    return low, high


class _Cuts(NamedTuple):
    """The candidate thresholds: the top ``k`` rows (by score) positive, with their weighted counts."""

    sorted_score: np.ndarray  # scores in decreasing order
    k: np.ndarray  # rows predicted positive at each candidate
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray
    predicted: np.ndarray  # weight predicted positive (tp + fp)


def _cuts(y: np.ndarray, s: np.ndarray, w: np.ndarray, total: float, pos: float) -> _Cuts:
    """Every cut between two distinct scores: one sort and cumulative sums, O(n log n)."""
    order = np.argsort(-s, kind="stable")
    ss, ws, ys = s[order], w[order], y[order]
    # candidates: k = 0 and every k after which the next score is strictly lower (or k = n)
    ends = np.flatnonzero(np.r_[ss[1:] < ss[:-1], True]) + 1
    k = np.r_[0, ends]
    tp = np.r_[0.0, np.cumsum(ws * ys)][k]
    predicted = np.r_[0.0, np.cumsum(ws)][k]
    fp = predicted - tp
    fn, tn = pos - tp, (total - pos) - fp
    return _Cuts(ss, k, tp, fp, fn, tn, predicted)


def _inside_rate(share: np.ndarray, low: float, high: float) -> np.ndarray:
    """Which candidates have a predicted-positive rate in ``[low, high]``; raises when none has."""
    tol = 1e-12
    inside = (share >= low - tol) & (share <= high + tol)
    if not inside.any():
        raise ValueError(
            f"no threshold puts the predicted-positive rate in [{low:g}, {high:g}]: the nearest "
            f"rates are {share[share < low].max(initial=0.0):g} and "
            f"{share[share > high].min(initial=1.0):g} (ties in score, or too few rows)."
        )
    return inside


def _criterion_values(criterion: Any, cuts: _Cuts, pos: float, g: float) -> np.ndarray:
    """The criterion at every candidate (larger is better; NaN where undefined)."""
    tp, fp, fn, tn, predicted = cuts.tp, cuts.fp, cuts.fn, cuts.tn, cuts.predicted
    with np.errstate(divide="ignore", invalid="ignore"):
        if criterion == "break_even":
            return -np.abs(predicted - pos)
        if callable(criterion):
            value = np.asarray(criterion(tp, fp, fn, tn), dtype=np.float64)
            if value.shape != tp.shape:
                raise ValueError(
                    f"criterion returned shape {value.shape}; it must return one value per candidate, shape {tp.shape}."
                )
            return value
        f1 = np.where(tp > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        if criterion == "f1":
            return f1
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        return (g * precision + f1) / (g + 1)


def _threshold_at(ss: np.ndarray, kk: int) -> float:
    """The threshold that makes the top ``kk`` of the decreasing scores ``ss`` positive."""
    n = ss.shape[0]
    if kk == 0:
        return float(ss[0])
    if kk == n:
        return -math.inf
    above, below = float(ss[kk - 1]), float(ss[kk])
    mid = below / 2 + above / 2
    return mid if below < mid < above else below

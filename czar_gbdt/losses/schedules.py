"""Losses mixed by weight, fixed or changing with the boosting round, and the schedules.

:class:`ScheduledLoss` mixes two losses with a weight that changes with the boosting
round (:func:`linear_warmup`, :func:`piecewise_linear`, :func:`steps` or any function
of the round): cross-entropy first, then the soft-F1 composite, or MSE first, then
CZAR. The xgboost and lightgbm adapters feed it the round through a training callback
(added by their ``train``/``fit`` helpers; ``objective.callback()`` otherwise).
:class:`MixedLoss` is the mix at one round.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import UNIT, check_round, out_dtype, output_pair
from .base import BaseLoss
from .registry import get_loss

__all__ = ["MixedLoss", "ScheduledLoss", "linear_warmup", "piecewise_linear", "steps"]


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
    A warm-up of the second loss (0 -> 0.1 over 10 rounds, then -> 1 over 20):

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
        rounds = [check_round("points round", r) for r, _ in pts]
        weights = [UNIT.check("points weight", w) for _, w in pts]
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
        rounds = check_round("rounds", rounds)
        if rounds < 1:
            raise ValueError(f"rounds must be >= 1; got {rounds!r}.")
        start = UNIT.check("start", start)
        end = UNIT.check("end", end)
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
    A step schedule over 100 rounds (metric weight 0.3, then 0.5 from round 30,
    0.7 from round 80):

    >>> s = steps([30, 80], [0.3, 0.5, 0.7])
    >>> s(0), s(29), s(30), s(99)
    (0.3, 0.3, 0.5, 0.7)
    """

    def __init__(self, boundaries, values):
        b = [check_round("boundaries", r) for r in boundaries]
        v = [UNIT.check("values", w) for w in values]
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


def _part(name: str, loss: Any) -> BaseLoss:
    if isinstance(loss, str):
        return get_loss(loss)
    if not isinstance(loss, BaseLoss) or isinstance(loss, ScheduledLoss):
        raise ValueError(f"{name} must be a czar_gbdt loss (not a schedule) or a loss name; got {loss!r}.")
    return loss


class _TwoParts(BaseLoss):
    """Two losses of the same kind and a third setting (a weight or a schedule): shared plumbing."""

    _third: str  # the name of the third constructor argument

    def _set_parts(self, first: Any, second: Any) -> None:
        self.first, self.second = _part("first", first), _part("second", second)
        if self.first.kind != self.second.kind:
            raise ValueError(
                f"first and second must be the same kind of loss; got {self.first.kind} "
                f"{self.first!r} and {self.second.kind} {self.second!r}."
            )
        self.kind = self.first.kind
        self.elementwise = self.first.elementwise and self.second.elementwise
        # a mix of convex losses is convex; binary losses are unimodal for another reason (two labels)
        self.unimodal = self.kind == "regression" and self.first.unimodal and self.second.unimodal

    @property
    def requires_std(self) -> bool:
        """Whether a part needs a per-row ``std``."""
        return self.first.requires_std or self.second.requires_std

    @property
    def params(self) -> dict[str, Any]:
        return {"first": self.first, "second": self.second, self._third: getattr(self, self._third)}

    def get_params(self) -> dict[str, Any]:
        return dict(self.params)

    def with_params(self, **changes: Any) -> _TwoParts:
        own = {k: changes.pop(k) for k in list(changes) if k in ("first", "second", self._third)}
        first, second = own.get("first", self.first), own.get("second", self.second)
        if changes:  # derivatives / min_hessian / shared parameters go to both parts
            first, second = first.with_params(**changes), second.with_params(**changes)
        return type(self)(first, second, own.get(self._third, getattr(self, self._third)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.first!r}, {self.second!r}, {self._third}={getattr(self, self._third)!r})"


class MixedLoss(_TwoParts):
    """``(1 - weight) * first + weight * second`` with a fixed weight (a schedule at one round).

    Values, gradients and hessians are the mixes of the parts' own (each part applies
    its own hessian floor and row weights). Element-wise when both parts are.
    """

    _third = "weight"

    def __init__(self, first: Any, second: Any, weight: float):
        super().__init__()
        self._set_parts(first, second)
        self.weight = UNIT.check("weight", weight)
        self.name = f"mix({self.first.name},{self.second.name})"

    def _parts(self):
        return [(1.0 - self.weight, self.first), (self.weight, self.second)]

    def __call__(self, y_true, y_pred, *, std=None, mean=None, weight=None) -> float:
        return float(
            sum(c * part(y_true, y_pred, std=std, mean=mean, weight=weight) for c, part in self._parts() if c != 0.0)
        )

    def loss(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64) -> np.ndarray:
        out = None
        for c, part in self._parts():
            if c != 0.0:
                v = c * part.loss(y_true, y_pred, std=std, mean=mean, weight=weight, dtype=np.float64)
                out = v if out is None else out + v
        return out.astype(out_dtype(dtype), copy=False)

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
        grad = hess = None
        for c, part in self._parts():
            if c != 0.0:
                g, h = part.grad_hess(y_true, y_pred, std=std, mean=mean, weight=weight, dtype=np.float64)
                grad, hess = (c * g, c * h) if grad is None else (grad + c * g, hess + c * h)
        if out is None:
            dt = out_dtype(dtype)
            return grad.astype(dt, copy=False), hess.astype(dt, copy=False)
        grad_out, hess_out = output_pair(grad.shape[0], dtype, out)
        grad_out[...] = grad
        hess_out[...] = hess
        return grad_out, hess_out


class ScheduledLoss(_TwoParts):
    """Two losses mixed with a weight that changes with the boosting round.

    At round ``t`` (0 for the first tree; with continued training, the number of
    rounds already in the model) the objective is
    ``(1 - w(t)) * first + w(t) * second``, ``w = schedule``. For example
    cross-entropy first, then the soft-F1 composite, or MSE first,
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
    scheduled = True

    _third = "schedule"

    def __init__(self, first: Any, second: Any, schedule: Callable[[int], float]):
        super().__init__()
        self._set_parts(first, second)
        if not callable(schedule):
            raise ValueError(f"schedule must be a function of the round (e.g. linear_warmup(50)); got {schedule!r}.")
        self.schedule = schedule

    def weight(self, round: int) -> float:
        """The weight of ``second`` at ``round`` (checked to be in [0, 1])."""
        r = check_round("round", round)
        w = self.schedule(r)
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not (0.0 <= float(w) <= 1.0):
            raise ValueError(
                f"schedule returned {w!r} at round {r}; the weight of the second loss must be a number in [0, 1]."
            )
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
            raise ValueError(
                f"round is required: {self!r} changes with the boosting round; use loss.at(round) or pass round=."
            )
        return self.at(round)

    def __call__(self, y_true, y_pred, *, std=None, mean=None, weight=None, round=None) -> float:
        return self._need_round(round)(y_true, y_pred, std=std, mean=mean, weight=weight)

    def loss(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64, round=None):
        return self._need_round(round).loss(y_true, y_pred, std=std, mean=mean, weight=weight, dtype=dtype)

    def grad_hess(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64, out=None, round=None):
        return self._need_round(round).grad_hess(
            y_true, y_pred, std=std, mean=mean, weight=weight, dtype=dtype, out=out
        )

    def init_score(self, y_true, *, std=None, mean=None, weight=None, round: int = 0) -> float:
        """The constant minimiser of the mix at ``round`` (default 0: where training starts)."""
        return self.at(round).init_score(y_true, std=std, mean=mean, weight=weight)

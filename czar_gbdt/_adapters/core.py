"""The backend-neutral objective and metric: a loss (or metric) applied to one dataset.

* :class:`ObjectiveCore`: labels, weights, the hessian scale and the starting score of
  one training set, cached across boosting rounds (:class:`TrainState`), and the
  boosting round a scheduled loss needs.
* :class:`MetricCore`: a loss or a registered metric of :mod:`czar_gbdt.metrics`
  evaluated on one dataset.
* :func:`constant_minimiser`: the starting score (the loss's best constant).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .._jit import numba_threads
from .._validation import check_threads, first_bad
from ..losses import LOSSES, BaseLoss, get_loss
from .side import SideData, as_labels, check_side_rows, make_side, merge_sides, required_error, side_of

__all__ = ["as_loss", "INIT_EXACT_ROWS", "constant_minimiser", "sigmoid", "TrainState", "ObjectiveCore", "MetricCore"]

_AUTO = "auto"


# --------------------------------------------------------------------------- losses
def as_loss(loss: Any) -> BaseLoss:
    """A loss instance from an instance or a registry name (``"czar"``)."""
    if isinstance(loss, BaseLoss):
        return loss
    if isinstance(loss, str):
        return get_loss(loss)
    raise ValueError(f"loss must be a czar_gbdt loss or one of {sorted(LOSSES)}; got {loss!r}.")


# --------------------------------------------------------------------------- starting score
#: Up to this many rows the starting score is ``loss.init_score`` on all of them.
INIT_EXACT_ROWS = 50_000


def constant_minimiser(
    loss: BaseLoss, y: np.ndarray, *, std: Any = None, mean: Any = None, weight: Any = None
) -> float:
    """The constant prediction minimising the (weighted) mean loss: the starting score.

    For a ``unimodal`` element-wise loss (CZAR, the binary losses) this is
    ``loss.init_score`` on all rows, the root of the summed exact gradient in a few
    derivative passes. For the others it is ``loss.init_score`` (bounded Brent over
    all rows) up to :data:`INIT_EXACT_ROWS` rows. Beyond, Brent's search over all rows
    (tens of full passes of the loss) is too slow (see bench/RESULTS.md), so
    ``loss.init_score`` runs on an evenly strided
    subsample of that many rows and the result is refined on all rows: the root of the summed exact
    gradient is bracketed around it and found by Brent's root finder (one gradient pass
    per step; the gradients of CZAR/ZPTAE jump at ``z_p = z_t``, so Newton steps would
    overshoot), and kept if its loss is not higher than the subsample's answer.
    """
    from scipy import optimize

    n = y.shape[0]
    if n <= INIT_EXACT_ROWS or (loss.unimodal and loss.elementwise):
        return float(loss.init_score(y, std=std, mean=mean, weight=weight))
    stride = -(-n // INIT_EXACT_ROWS)

    def sub(a):
        return a if a is None or np.ndim(a) == 0 else a[::stride]

    with numba_threads(1):  # tens of short loss passes: a parallel region costs more than each of them
        c0 = float(loss.init_score(y[::stride], std=sub(std), mean=sub(mean), weight=sub(weight)))

    pred = np.empty(n)

    def gradient_sum(c: float) -> float:
        return loss.gradient_sums(y, c, std=std, mean=mean, weight=weight)[0]

    def mean_loss(c: float) -> float:
        pred.fill(c)
        return loss(y, pred, std=std, mean=mean, weight=weight)

    if loss.kind == "binary":
        scale, lo_lim, hi_lim = 1.0, -30.0, 30.0
    else:
        scale = float(np.mean(std)) if std is not None else float(np.std(y)) or 1.0
        lo_lim, hi_lim = float(np.min(y)), float(np.max(y))
    g0 = gradient_sum(c0)
    if g0 == 0.0:
        return c0
    direction = -1.0 if g0 > 0 else 1.0  # the minimum is downhill
    delta = 0.01 * scale
    far, g_far = c0, g0
    for _ in range(40):
        far = min(max(c0 + direction * delta, lo_lim), hi_lim)
        g_far = gradient_sum(far)
        if (g_far > 0) != (g0 > 0) or far in (lo_lim, hi_lim):
            break
        delta *= 2.0
    if (g_far > 0) == (g0 > 0) and g_far != 0.0:
        return float(loss.init_score(y, std=std, mean=mean, weight=weight))  # no sign change: be exact
    lo, hi = (c0, far) if c0 < far else (far, c0)
    c = float(optimize.brentq(gradient_sum, lo, hi, xtol=1e-9 * scale, maxiter=200))
    return c if mean_loss(c) <= mean_loss(c0) else c0


# --------------------------------------------------------------------------- objectives
class TrainState:
    """What an objective caches about its training set across boosting rounds.

    ``ref`` (a weak reference to the backend dataset, or None for labels passed as
    arrays), ``n``, ``y``, ``weight``, ``side`` (:class:`SideData`), ``scale`` (the
    hessian scale), ``w_eff`` (the weights times the scale) and ``init`` (the
    starting score, once computed).
    """

    __slots__ = ("ref", "fingerprint", "n", "y", "weight", "side", "scale", "w_eff", "init")

    def __init__(self):
        self.ref = None
        self.fingerprint = None
        self.init = None


def _fingerprint(y: np.ndarray, weight: np.ndarray | None) -> tuple:
    n = y.shape[0]
    if n == 0:
        return (0,)
    return (n, float(y[0]), float(y[-1]), float(y.sum()), None if weight is None else float(weight.sum()))


def sigmoid(x: float) -> float:
    """The logistic function of one float, without overflow."""
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


class ObjectiveCore:
    """Loss, bound side data, hessian scale and start check of one objective.

    Parameters
    ----------
    loss : BaseLoss or str
    std, mean : float or array-like of shape (n_train,), optional
        Bound to the training rows by position.
    hessian_scale : "auto", float or None
        Multiplies gradients and hessians (the Newton steps do not change, up to
        ``lambda`` and the loss's ``min_hessian`` floor, which applies before it).
        ``"auto"``: ``sum(w) / sum(w / std**2)`` over the training rows, which puts
        the hessians of the z-space losses back on the scale of ``std = 1``
        (``min_child_weight``, ``min_sum_hessian_in_leaf`` and ``lambda`` then mean
        what they mean for z-scored targets); 1 without ``std`` or for binary losses.
    check_start : bool
        Raise when the first round starts from a constant other than the loss's
        constant minimiser (a forgotten ``base_score``/``init_score``).
    n_threads : int or None
        numba threads of the derivative kernels during training (see
        :func:`numba_threads`); None keeps numba's setting.

    Notes
    -----
    A :class:`czar_gbdt.ScheduledLoss` needs the boosting round, which no backend
    passes to an objective. A backend callback calls :meth:`set_round` before every
    iteration with the model and the round; :meth:`current_loss` then checks that the
    model has not grown since (a callback from an earlier, finished training would
    leave a stale round behind) and raises when no round was set. Starting scores
    use the round-0 mix.
    """

    def __init__(
        self,
        loss: Any,
        *,
        std: Any = None,
        mean: Any = None,
        hessian_scale: Any = _AUTO,
        check_start: bool = True,
        n_threads: int | None = 1,
    ):
        self.loss = as_loss(loss)
        self.n_threads = check_threads(n_threads)
        if not (hessian_scale is None or hessian_scale == _AUTO):
            if (
                isinstance(hessian_scale, bool)
                or not isinstance(hessian_scale, (int, float, np.floating))
                or not (math.isfinite(hessian_scale) and hessian_scale > 0)
            ):
                raise ValueError(f"hessian_scale must be 'auto', None or a finite number > 0; got {hessian_scale!r}.")
            hessian_scale = float(hessian_scale)
        self.hessian_scale = hessian_scale
        self.check_start = bool(check_start)
        self.bound = make_side(None, std=std, mean=mean)
        self._state = TrainState()
        self.scheduled = self.loss.scheduled
        self._round: tuple | None = None  # (weak ref to the model, its size then, size getter, round)

    # -- pickling: caches hold weak references
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_state"] = TrainState()
        state["_round"] = None
        return state

    # -- boosting round (scheduled losses)
    def set_round(self, model: Any, round: int, size: Callable[[Any], Any]) -> None:
        """Record that the next objective calls belong to boosting round ``round`` of ``model``.

        ``size(model)`` is the model's number of rounds (or anything that changes when
        a tree is added); it is compared at call time to detect a stale round.
        """
        self._round = (weakref.ref(model), size(model), size, int(round))

    def clear_round(self) -> None:
        """Forget the round (end of an iteration or of a training)."""
        self._round = None

    def current_loss(self, hint: str = "") -> BaseLoss:
        """The loss of the current round: the loss itself unless it is scheduled."""
        if not self.scheduled:
            return self.loss
        entry = self._round
        if entry is None:
            raise ValueError(
                f"{self.loss!r} changes with the boosting round, but no round was set: "
                f"{hint or 'pass callbacks=[objective.callback()] to the training call'}."
            )
        ref, before, size, round_ = entry
        model = ref()
        if model is None or size(model) != before:
            raise ValueError(
                f"{self.loss!r}: the round was set by the callback of another (finished) training; "
                f"{hint or 'pass callbacks=[objective.callback()] to this training call'}."
            )
        return self.loss.at(round_)

    def side_for(self, n: int, data: Any = None, *, hint: str) -> SideData:
        """The side data of the ``n`` training rows: attached to ``data`` or bound."""
        attached = side_of(data) if data is not None else None
        side = merge_sides(attached, self.bound, "the objective", "the training data")
        if side is not None:
            check_side_rows(side, n, "the training labels have")
        if self.loss.requires_std and (side is None or side.std is None):
            raise required_error(repr(self.loss), "std", f"the training set has none: {hint}")
        return side if side is not None else SideData(n, None, None, None)

    def _scale(self, weight: np.ndarray | None, side: SideData) -> float:
        if self.hessian_scale is None:
            return 1.0
        if self.hessian_scale != _AUTO:
            return self.hessian_scale
        if self.loss.kind != "regression" or side.std is None:
            return 1.0
        inv = 1.0 / side.std**2
        if side.std.ndim == 0:
            return float(side.std**2)
        if weight is None:
            return float(inv.shape[0] / inv.sum())
        total = float(np.dot(weight, inv))
        return float(weight.sum() / total) if total > 0 else 1.0

    def dataset_state(self, data: Any, read: Callable[[Any], tuple], *, hint: str) -> TrainState:
        """The cached state of the backend dataset ``data`` as training set.

        ``read(data) -> (labels, weights or None)`` is called only when ``data`` is not
        the dataset of the cached state (labels and weights of a dataset do not change
        between rounds, and reading them copies).
        """
        st = self._state
        if st.ref is not None and st.ref() is data:
            return st
        labels, weights = read(data)
        return self.state(labels, weights, data, hint=hint)

    def state(self, y: Any, weight: Any, data: Any = None, *, hint: str, labels_name: str = "label") -> TrainState:
        """The cached state of the training set (rebuilt when the set changes)."""
        st = self._state
        if data is not None and st.ref is not None and st.ref() is data:
            return st
        y = as_labels(y, labels_name)
        n = y.shape[0]
        weight = None if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)
        if weight is not None and weight.shape[0] == 0:
            weight = None
        if weight is not None:
            if weight.shape[0] != n:
                raise ValueError(f"sample_weight has {weight.shape[0]} values but the training labels have {n} rows.")
            first_bad("sample_weight", weight, np.isfinite(weight) & (weight >= 0), "finite and >= 0")
        fp = _fingerprint(y, weight) if data is None else None
        if data is None and st.ref is None and st.fingerprint == fp and st.n == n:
            st.y, st.weight = y, weight  # same training set (sklearn API): refresh the arrays only
            if weight is not None:
                st.w_eff = weight * st.scale if st.scale != 1.0 else weight
            return st
        st = TrainState()
        st.ref = weakref.ref(data) if data is not None else None
        st.fingerprint = fp
        st.n, st.y, st.weight = n, y, weight
        st.side = self.side_for(n, data, hint=hint)
        st.scale = self._scale(weight, st.side)
        if weight is not None:
            st.w_eff = weight * st.scale if st.scale != 1.0 else weight
        elif st.scale != 1.0:
            # built once per training set and cached across rounds: the kernels take the
            # scale as weights, so there is one kernel for weighted and scaled rows
            st.w_eff = np.full(n, st.scale)
        else:
            st.w_eff = None
        self._state = st
        return st

    def init_score(self, st: TrainState) -> float:
        """The loss's constant minimiser on the training set (cached)."""
        if st.init is None:
            side = st.side
            loss = self.loss.at(0) if self.scheduled else self.loss
            st.init = constant_minimiser(loss, st.y, std=side.std, mean=side.mean, weight=st.weight)
        return st.init

    def grad_hess(
        self, st: TrainState, pred: Any, dtype=np.float64, *, fix: Callable[[float], str] = str, round_hint: str = ""
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and hessian of the (scaled, weighted) loss at ``pred``.

        ``fix(init)`` builds the advice of the start-check error (backend specific);
        ``round_hint`` the advice when a scheduled loss has no round.
        """
        loss = self.current_loss(round_hint)
        pred = np.asarray(pred)
        if pred.ndim == 2 and pred.shape[1] == 1:
            pred = pred.reshape(-1)
        if pred.shape != (st.n,):
            raise ValueError(
                f"predictions have shape {pred.shape} but the training set has {st.n} rows "
                "(multi-output models are not supported)."
            )
        if st.n and pred[0] == pred[-1]:
            self._check_start(st, pred, fix)
        side = st.side
        with numba_threads(self.n_threads):
            return loss.grad_hess(st.y, pred, std=side.std, mean=side.mean, weight=st.w_eff, dtype=dtype)

    def _check_start(self, st: TrainState, pred: np.ndarray, fix: Callable[[float], str]) -> None:
        if not self.check_start:
            return
        p0 = float(pred[0])
        if not (pred == pred[0]).all():
            return  # per-row start (base margin, continued training): not ours to judge
        init = self.init_score(st)
        if self.loss.kind == "binary":
            ok = abs(sigmoid(p0) - sigmoid(init)) <= 1e-6
        else:
            spread = float(np.std(st.y)) if st.side.std is None else float(np.mean(st.side.std))
            ok = abs(p0 - init) <= 1e-4 * spread + 1e-6 * abs(init) + 1e-300
        if not ok:
            raise ValueError(
                f"training starts from the constant {p0:.9g}, not from the loss's constant minimiser "
                f"{init:.9g}: {fix(init)} (or pass check_start=False to the objective to start elsewhere on purpose)."
            )


# --------------------------------------------------------------------------- metrics
class MetricCore:
    """A loss (weighted mean, lower is better) or a registered metric on one dataset.

    Parameters
    ----------
    what : BaseLoss, str or czar_gbdt.metrics.Metric
        A loss or loss name (``"czar"``), or a metric name from
        ``czar_gbdt.metrics.METRICS`` (``"rank_ic"``), or such a ``Metric``.
    std, mean, dates : array-like, optional
        Bound by position to the one dataset this metric scores.
    name : str, optional
        Display name (default: the loss or metric name).
    n_threads : int or None, default 1
        numba threads while the backend waits (see :func:`numba_threads`).
    """

    def __init__(
        self,
        what: Any,
        *,
        std: Any = None,
        mean: Any = None,
        dates: Any = None,
        name: str | None = None,
        n_threads: int | None = 1,
    ):
        self.n_threads = check_threads(n_threads)
        self.loss: BaseLoss | None = None
        self.func = None
        self.needs_dates = False
        if getattr(what, "scheduled", False):
            raise ValueError(
                f"{what!r} changes with the boosting round and cannot be a metric: watch one of "
                "its parts (loss.first, loss.second) or another metric."
            )
        if isinstance(what, BaseLoss) or (isinstance(what, str) and what in LOSSES):
            self.loss = as_loss(what)
            self.higher_is_better = False
            default = self.loss.name
        else:
            metric = _registered_metric(what)
            self.func = metric.func
            self.higher_is_better = bool(metric.higher_is_better)
            self.needs_dates = bool(metric.needs_dates)
            default = metric.name
        self.name = str(name) if name is not None else default
        self.bound = make_side(None, std=std, mean=mean, dates=dates, where="the eval set has")

    def __repr__(self) -> str:
        what = repr(self.loss) if self.loss is not None else repr(self.name)
        return f"{type(self).__name__}({what}, higher_is_better={self.higher_is_better})"

    @property
    def needs_std(self) -> bool:
        """Whether the metric cannot be computed without a per-row ``std``."""
        return self.loss is not None and self.loss.requires_std

    def side_for(self, n: int, data: Any = None, *, where: str, hint: str) -> SideData:
        """Side data of an eval set of ``n`` rows: attached to ``data`` or bound."""
        attached = side_of(data) if data is not None else None
        side = merge_sides(attached, self.bound, f"metric {self.name!r}", where)
        if side is not None:
            check_side_rows(side, n, f"{where} has")
        if self.needs_std and (side is None or side.std is None):
            raise required_error(f"metric {self.name!r}", "std", f"{where} has none: {hint}")
        if self.needs_dates and (side is None or side.dates is None):
            raise required_error(f"metric {self.name!r}", "dates", f"{where} has none: {hint}")
        return side if side is not None else SideData(n, None, None, None)

    def value(self, y: Any, pred: Any, weight: Any, side: SideData) -> float:
        """The metric on one dataset (weights are used by loss metrics only)."""
        y = np.asarray(y).reshape(-1)
        pred = np.asarray(pred)
        if pred.ndim == 2 and pred.shape[1] == 1:
            pred = pred.reshape(-1)
        if weight is not None:
            weight = np.asarray(weight).reshape(-1)
            if weight.shape[0] == 0:
                weight = None
        with numba_threads(self.n_threads):
            if self.loss is not None:
                return float(self.loss(y, pred, std=side.std, mean=side.mean, weight=weight))
            kwargs = {"dates": side.groups} if self.needs_dates else {}
            if not self.needs_dates and weight is not None:
                kwargs["sample_weight"] = weight
            return float(self.func(y, pred, **kwargs))


def _registered_metric(what: Any):
    if isinstance(what, str):
        try:
            from ..metrics import METRICS
        except ImportError as exc:  # pragma: no cover - the metrics module is part of the package
            raise ValueError(f"metric {what!r} needs czar_gbdt.metrics, which failed to import: {exc}") from exc
        if what not in METRICS:
            raise ValueError(f"unknown metric {what!r}; known: losses {sorted(LOSSES)} and metrics {sorted(METRICS)}.")
        return METRICS[what]
    if all(hasattr(what, a) for a in ("name", "func", "higher_is_better", "needs_dates")):
        return what
    raise ValueError(
        f"a metric must be a loss, a loss name, a metric name or a czar_gbdt.metrics.Metric; got {what!r}."
    )

"""The objective and metric objects CatBoost compiles with numba: one generated class per loss
parameter set, reading the starting score from a cell at call time; and the per-date metrics
(``"rank_ic"``), bound to their eval Pools and run in Python."""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from .. import _adapters as _ad
from .._imports import try_import
from .._kernels import catboost_jit as _cbk
from ..losses import LOSSES, BaseLoss
from .pools import MIN_VERSION, pool_side

with try_import("catboost", min_version=MIN_VERSION, extra="catboost") as _imports:
    import catboost  # noqa: F401 - the version gate of objective() and metric()

__all__ = ["objective", "metric", "CatBoostObjective", "CatBoostMetric", "PooledMetric", "UNCHECKED_FIT", "kernel_spec"]


def kernel_spec(loss) -> tuple[str, tuple[float, ...], float]:
    """``(derivative mode, kernel arguments, hessian floor)`` of an element-wise loss."""
    if loss.scheduled:
        raise ValueError(
            f"{loss!r} changes with the boosting round, but CatBoost passes no round to "
            "objectives (and calls them on row subsets): schedules work with xgboost and "
            "lightgbm only."
        )
    if not loss.elementwise:
        raise ValueError(f"{loss!r} couples rows; CatBoost evaluates objectives on row subsets and cannot train it.")
    args = tuple(float(v) for v in loss.kernel_args())
    floor = -math.inf if loss.min_hessian is None else float(loss.min_hessian)
    return loss.derivative_mode, args, floor


class CatBoostObjective:
    """Base of the generated objective classes (one per loss parameter set).

    Instances have ``calc_ders_range(approxes, targets, weights)`` returning an
    ``(n, 2)`` array of ``(-grad, -hess)`` in z-space, compiled by CatBoost with
    numba, and ``loss`` (the wrapped loss). Build them with :func:`objective`.
    """

    loss: Any = None
    _cell: np.ndarray | None = None  # the starting-score offset the compiled method reads
    _lock: Any = None

    def __reduce__(self):
        # CatBoost deep-copies its parameters: the copy is the one instance per parameter set
        return (objective, (self.loss,))

    def __repr__(self) -> str:
        return f"czar_gbdt.catboost.objective({self.loss!r})"


class CatBoostMetric:
    """Base of the generated loss-metric classes; build them with :func:`metric`.

    ``evaluate`` returns ``(sum(w * loss), sum(w))`` and ``get_final_error`` their
    ratio, both compiled by CatBoost with numba; lower is better.
    """

    loss: Any = None
    _cell: np.ndarray | None = None
    _lock: Any = None
    _name: str | None = None

    def __reduce__(self):
        return (_rebuild_metric, (self.loss, self._name))

    def __repr__(self) -> str:
        return f"czar_gbdt.catboost.metric({self.loss!r})"


def _rebuild_metric(loss: Any, name: str | None) -> CatBoostMetric:
    return metric(loss, name=name)


#: Why a loss that needs ``std`` refuses to train outside :func:`fit` / :func:`train` (raised by
#: the compiled objective on CatBoost's first call, which CatBoost reports as a CatBoostError).
UNCHECKED_FIT = (
    "this czar_gbdt.catboost objective needs labels z-scored with a per-row std, which a bare "
    "model.fit() does not check (it would train with std = 1): train with "
    "czar_gbdt.catboost.fit(model, czar_gbdt.catboost.Pool(X, y, std=...)) or czar_gbdt.catboost.train()"
)


def _objective_class(loss: Any, mode: str, args: tuple, floor: float) -> type:
    # The method below is compiled by CatBoost with numba.njit: its body may only use
    # the closure constants and the loss's generated kernels, never the instance. The
    # starting score is read at call time from ``cell[0]`` (its address is the constant);
    # ``cell[1]`` is 1 while fit() runs, after it checked that the pools carry the std the
    # loss needs: compiled by CatBoost, a loss with ``requires_std`` refuses to train
    # without it (a call from Python, outside any training, is not refused).
    ders = loss.loops.catboost_ders[mode]
    read_cell, compiled = _cbk.read_cell, _cbk.compiled
    cell = np.zeros(2)
    address = cell.ctypes.data
    checked = address + cell.itemsize
    guard = bool(loss.requires_std)
    message = UNCHECKED_FIT

    class _Objective(CatBoostObjective):
        def calc_ders_range(self, approxes, targets, weights):
            if guard and compiled() and read_cell(checked) == 0.0:  # CatBoost runs it, fit() did not check
                raise ValueError(message)
            return ders(approxes, targets, weights, args, floor, read_cell(address))

    _Objective._cell = cell
    _Objective._lock = threading.Lock()
    return _Objective


def _metric_class(loss: Any, args: tuple) -> type:
    loss_sum = loss.loops.catboost_loss_sum
    read_cell = _cbk.read_cell
    cell = np.zeros(1)
    address = cell.ctypes.data

    class _Metric(CatBoostMetric):
        def is_max_optimal(self):
            return False

        def evaluate(self, approxes, target, weight):
            return loss_sum(approxes[0], target, weight, args, read_cell(address))

        def get_final_error(self, error, weight):
            return error / weight if weight != 0.0 else 0.0

    _Metric._cell = cell
    _Metric._lock = threading.Lock()
    return _Metric


# one instance per loss parameter set: CatBoost compiles an instance's methods once
_OBJECTIVES: dict[Any, CatBoostObjective] = {}
_METRICS: dict[Any, CatBoostMetric] = {}


def _refuse_side(where: str, given: dict) -> None:
    """Side data passed to an objective or metric factory: say where it goes instead."""
    side = sorted(set(given) & {"std", "mean", "dates", "weight", "sample_weight"})
    if side:
        raise ValueError(
            f"{where} takes no {'/'.join(side)}: CatBoost calls objectives and metrics on blocks of rows without "
            f"saying which rows, so per-row data bound here would be misaligned. Give it to the data: "
            f"czar_gbdt.catboost.Pool(X, y, {', '.join(f'{k}=...' for k in side)}), then train with "
            f"czar_gbdt.catboost.fit() or train()."
        )
    if given:
        raise TypeError(f"{where} got unexpected keyword argument(s) {sorted(given)}.")


def objective(loss: Any, **side: Any) -> CatBoostObjective:
    """A CatBoost objective (``loss_function=``) for ``loss``, compiled by CatBoost with numba.

    Regression losses are evaluated in z-space: train on pools built with
    :func:`Pool` ``(..., std=..., mean=...)`` (and see :func:`predict`). Binary
    losses take 0/1 labels (``CatBoostClassifier``) and return logits.

    A loss that needs a per-row ``std`` (CZAR, ZPTAE) trains only through :func:`fit`
    or :func:`train`, which check that the pools carry it: with a bare
    ``model.fit(X, y)`` the compiled objective raises on CatBoost's first call
    (:data:`UNCHECKED_FIT`) instead of training silently with ``std = 1``.

    Parameters
    ----------
    loss : czar_gbdt.BaseLoss or str
        An element-wise loss (losses coupling rows are refused).
    **side
        Refused: ``std``, ``mean`` and ``dates`` belong to the :func:`Pool` (the error
        says so).

    Returns
    -------
    CatBoostObjective
        The same instance for equal losses, so CatBoost compiles it once per process.
    """
    _imports.check()
    _refuse_side("czar_gbdt.catboost.objective()", side)
    loss = _ad.as_loss(loss)
    spec = kernel_spec(loss)
    key = (type(loss), spec)
    if key not in _OBJECTIVES:
        cls = _objective_class(loss, *spec)
        cls.__name__ = cls.__qualname__ = f"{type(loss).__name__}Objective"
        cls.loss = loss
        _OBJECTIVES[key] = cls()
    return _OBJECTIVES[key]


def metric(what: Any, *, pool: Any = None, name: str | None = None, **side: Any) -> Any:
    """A CatBoost eval metric: a loss (compiled, lower is better) or a per-date metric.

    Parameters
    ----------
    what : czar_gbdt.BaseLoss, str or czar_gbdt.metrics.Metric
        A loss or loss name: evaluated in z-space on every dataset CatBoost scores,
        each with its own standardised labels. Or a metric name such as
        ``"rank_ic"`` (higher is better), which needs ``pool``.
    pool : catboost.Pool, optional
        For per-date metrics: the one eval pool (from :func:`Pool` with ``dates=``)
        the metric is bound to. Its predictions are mapped back to ``y`` units with
        the pool's ``std``/``mean`` before ranking. :func:`fit` also binds the
        training pool when it has what the metric needs; other datasets score 0.
    name : str, optional
        Display name of a per-date metric (CatBoost reports the class name).
    **side
        Refused: ``std``, ``mean`` and ``dates`` belong to the :func:`Pool`.

    Returns
    -------
    metric object for ``eval_metric=``
    """
    _imports.check()
    _refuse_side("czar_gbdt.catboost.metric()", side)
    if isinstance(what, BaseLoss) or (isinstance(what, str) and what in LOSSES):
        if pool is not None:
            raise ValueError("loss metrics need no pool: each dataset carries its own standardised labels.")
        loss = _ad.as_loss(what)
        _, args, _ = kernel_spec(loss)
        key = (type(loss), args, name)
        if key not in _METRICS:
            cls = _metric_class(loss, args)
            cls.__name__ = cls.__qualname__ = name or loss.name
            cls.loss = loss
            cls._name = name
            _METRICS[key] = cls()
        return _METRICS[key]
    core = _ad.MetricCore(what, name=name)
    if pool is None:
        raise ValueError(
            f"metric {core.name!r} needs pool=: the eval pool whose dates it uses "
            "(CatBoost passes no row ids to metrics)."
        )
    side = pool_side(pool)
    core.side_for(side.n, pool, where="the eval Pool", hint="build it with czar_gbdt.catboost.Pool(X, y, {name}=...)")
    # a class per metric object: CatBoost reports the class name, and the class holds the
    # lock fit() takes while the offset is set (a lock on the instance would not deep-copy)
    cls = type(core.name, (PooledMetric,), {"_lock": threading.Lock()})
    return cls(core, pool, side)


class PooledMetric:
    """A per-date metric bound to eval pools (run in Python: ``no_jit``).

    CatBoost calls ``evaluate`` once per dataset with all its rows in order, but
    says not which dataset. The labels it passes are compared with each bound
    pool's own (float32) labels to find the pool, so the pool's dates, ``std`` and
    ``mean`` line up with the rows; a dataset that matches no bound pool (for
    example a shuffled training set) scores 0 (CatBoost cannot log NaN).
    """

    no_jit = True

    def __init__(self, core: _ad.MetricCore, pool: Any, side: _ad.SideData):
        self._core = core
        self._pools: list[tuple[np.ndarray, _ad.SideData]] = []
        self._offset = 0.0  # the starting score, set by fit() while training
        self._add(side)

    def _add(self, side: _ad.SideData) -> None:
        labels = np.asarray(side.extra["z"], dtype=np.float32)
        if not any(s is side for _, s in self._pools):
            self._pools.append((labels, side))

    def bind(self, pool: Any) -> None:
        """Also score ``pool`` (its side data must have what the metric needs)."""
        side = pool_side(pool)
        self._core.side_for(
            side.n, pool, where="the Pool", hint="build it with czar_gbdt.catboost.Pool(X, y, {name}=...)"
        )
        self._add(side)

    def __repr__(self) -> str:
        return f"czar_gbdt.catboost.metric({self._core.name!r}, <{len(self._pools)} pools>)"

    def is_max_optimal(self) -> bool:
        return self._core.higher_is_better

    def evaluate(self, approxes, target, weight):
        target = np.asarray(target)
        for labels, side in self._pools:
            if target.shape[0] == labels.shape[0] and np.array_equal(target, labels):
                z_pred = np.asarray(approxes[0], dtype=np.float64) + self._offset
                std = 1.0 if side.std is None else side.std
                mean = 0.0 if side.mean is None else side.mean
                return self._core.value(side.extra["y"], mean + std * z_pred, None, side), 1.0
        return 0.0, 1.0

    def get_final_error(self, error, weight):
        return error

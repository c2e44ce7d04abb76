"""Training, starting scores and rank IC on Dask collections: a loss on a cluster of worker processes.

XGBoost (``xgboost.dask``) and LightGBM (``lightgbm.DaskLGBMRegressor``) train on data
spread over the workers of a ``distributed`` cluster: each worker computes the
gradients of its own rows and the workers sum their histograms. This module supplies
the toolkit's part::

    import dask.dataframe as dd, czar_gbdt as cg
    from czar_gbdt import dask as cdask

    frame = dd.read_parquet("panel/")                       # one row per (date, asset)
    model = cdask.train_loss(cg.get_loss("czar"), frame[features], frame["target"],
                             std=frame["std"], backend="xgboost", num_boost_round=300)
    pred = model.predict(frame[features])                   # a lazy dask Series

* **Side data travels with the rows.** ``std``, ``mean`` and (for rank IC) the dates are
  dask collections partitioned like the labels, and reach each worker inside the
  partitions it trains on, so the model class is the in-memory one (a leaf adds a
  constant in units of ``y``; CatBoost's z-space model is not used here). On XGBoost
  they are the ``DaskDMatrix``'s per-row fields ``label_lower_bound`` (``std``) and
  ``label_upper_bound`` (``mean`` of a training set, the date code of an eval set),
  which only XGBoost's survival objectives read: XGBoost co-locates and concatenates
  them with the labels, and the objective reads them back on each worker (as float32,
  the precision XGBoost keeps its labels in). On LightGBM they are extra columns of
  the feature frame (:data:`STD_COLUMN`, :data:`MEAN_COLUMN`) that
  :class:`DaskLGBMRegressor`'s per-worker estimator takes off before training.
* **Starting score and hessian scale by distributed reductions.** :func:`init_score` is
  the loss's constant minimiser found without collecting the labels: one grid of summed
  losses over the label range, then the root of the summed exact gradient by repeated
  16-point sections, each one pass over the partitions (about a dozen passes).
  :func:`hessian_scale` is ``sum(w) / sum(w / std**2)`` over all rows: one scale for
  every worker, so that the Newton steps of different workers add up.
* **Rank IC.** :func:`rank_ic` and :func:`ic` score predictions held in dask
  collections partitioned by date (each date inside one partition) with the in-memory
  kernels of :mod:`czar_gbdt.metrics`, partition by partition; the per-date values are
  those of ``metrics.rank_ic`` on the collected data. Early stopping on validation rank
  IC works on XGBoost: :class:`XGBDaskMetric` sums the per-date values and their count
  over the workers (``xgboost.collective.allreduce``) and returns the exact mean.
  LightGBM's Dask interface does not support early stopping (it hangs when workers stop
  at different rounds: https://github.com/microsoft/LightGBM/issues/3712), so it is
  refused there.
* **Faults.** A worker that dies during training makes the call fail with
  :class:`WorkerLostError` within seconds (:func:`run_guarded`) instead of hanging.

Element-wise losses only: the soft-F1 composite needs whole-dataset counts, which no
worker has, and a scheduled loss needs the boosting round on every worker; both are
refused. Workers must be able to import ``czar_gbdt`` (and a loss of your own: its
module must be importable there too). See docs/cluster.md.

See Also
--------
xgboost.dask.train, lightgbm.DaskLGBMRegressor : the training calls used here.
czar_gbdt.metrics.rank_ic : the in-memory reference of :func:`rank_ic`.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import threading
import time
import warnings
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from . import _adapters as _ad
from . import lightgbm as clx
from . import metrics
from . import xgboost as cx
from ._imports import try_import
from ._jit import numba_threads
from .losses import BaseLoss

with try_import("dask", min_version="2026.8", extra="dask", module="czar_gbdt.dask") as _imports:
    import dask
    import dask.dataframe as dd
    import distributed
    from dask.dataframe.utils import make_meta

with try_import("xgboost", min_version="3.1", extra="xgboost", module="czar_gbdt.dask") as _xgb_imports:
    import xgboost as xgb
    import xgboost.dask  # noqa: F401 - registers xgb.dask
    from xgboost import collective

with try_import("lightgbm", min_version="4.7", below_version="5", module="czar_gbdt.dask") as _lgb_imports:
    import lightgbm as lgb
    import lightgbm.dask  # noqa: F401 - lgb.DaskLGBMRegressor needs dask

__all__ = ["BACKENDS", "STD_COLUMN", "MEAN_COLUMN", "WorkerLostError", "init_score", "hessian_scale", "rank_ic", "ic",
           "XGBDaskObjective", "XGBDaskMetric", "LGBDaskObjective", "DaskLGBMRegressor", "DaskXGBRegressor",
           "DaskDMatrix", "DaskTrainedModel", "train_loss", "train_builtin", "run_guarded", "worker_addresses",
           "check_loss", "check_imports"]

#: The backends with a Dask interface (CatBoost has none).
BACKENDS = ("xgboost", "lightgbm")

#: Column of the feature frame that carries ``std`` to LightGBM's workers.
STD_COLUMN = "__czar_gbdt_std__"
#: Column of the feature frame that carries ``mean`` to LightGBM's workers.
MEAN_COLUMN = "__czar_gbdt_mean__"

_GRID = 16  # points per distributed pass of the starting-score search
_ROOT_TOL = 1e-13  # relative to the label range: where the section search stops


class WorkerLostError(RuntimeError):
    """A worker left the cluster while a training call was running (killed, crashed, out of memory)."""


# --------------------------------------------------------------------------- checks and helpers
def check_imports(backend: str | None = None) -> None:
    """Raise the deferred ImportError of dask/distributed (and of ``backend``), and refuse a backend without Dask."""
    _imports.check()
    if backend is None:
        return
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} on a Dask cluster (CatBoost has no Dask interface); "
                         f"got {backend!r}.")
    (_xgb_imports if backend == "xgboost" else _lgb_imports).check()


def _client(client: Any) -> "distributed.Client":
    check_imports()
    if client is not None:
        return client
    try:
        return distributed.default_client()
    except ValueError:
        raise ValueError("no Dask client: pass client= or create a distributed.Client first.") from None


def check_loss(loss: Any, backend: str = "") -> BaseLoss:
    """The loss instance of ``loss``, refused when it cannot train on a cluster.

    A loss that couples rows (the soft-F1 composite: whole-dataset counts) would get
    wrong gradients from workers that see only their own rows; a scheduled loss needs the
    boosting round on every worker. Both raise ``ValueError`` naming the loss.
    """
    loss = _ad.as_loss(loss)
    where = f" on Dask {backend}" if backend else " on a Dask cluster"
    if not loss.elementwise:
        raise ValueError(f"{loss!r} cannot train{where}: its gradients need whole-dataset counts, and each worker "
                         "sees only its own rows; train it in memory (czar_gbdt.xgboost/lightgbm) or use an "
                         "element-wise loss.")
    if loss.scheduled:
        raise ValueError(f"{loss!r} changes with the boosting round, which is not passed to the objectives of the "
                         f"workers{where}; train it in memory or use one of its parts.")
    return loss


def _worker_threads() -> int:
    """The thread count of the Dask worker running the caller (1 outside a worker)."""
    try:
        return max(1, int(distributed.get_worker().state.nthreads))
    except (ValueError, AttributeError):
        return 1


def _is_dask(x: Any) -> bool:
    return x is not None and hasattr(x, "to_delayed") and hasattr(x, "npartitions")


def _parts(name: str, x: Any, n_parts: int | None) -> list:
    """The partitions of a dask Series/DataFrame/1-d Array as delayed objects, checked in number."""
    if not _is_dask(x):
        raise ValueError(f"{name} must be a dask Series or 1-dimensional dask Array partitioned like the labels; "
                         f"got {type(x).__name__}.")
    parts = x.to_delayed()
    parts = list(np.ravel(parts)) if isinstance(parts, np.ndarray) else list(parts)
    if n_parts is not None and len(parts) != n_parts:
        raise ValueError(f"{name} has {len(parts)} partitions but the labels have {n_parts}; build it from the same "
                         "dask DataFrame as the labels (same partitions).")
    return parts


def _aligned(y: Any, **side: Any) -> list[tuple]:
    """``(y, std, mean, weight)`` partition by partition (None where not given)."""
    ys = _parts("y", y, None)
    cols = {k: (_parts(k, v, len(ys)) if v is not None else [None] * len(ys)) for k, v in side.items()}
    return list(zip(ys, *cols.values()))


def _array(part: Any) -> np.ndarray | None:
    if part is None:
        return None
    return np.ascontiguousarray(np.asarray(part, dtype=np.float64).reshape(-1))


# --------------------------------------------------------------------------- starting score, hessian scale
def _moments_part(i: int, y: Any, std: Any, mean: Any, weight: Any, binary: bool) -> dict:
    """Row count, weight sums, label range and the first invalid value of one partition."""
    y, std, mean, weight = _array(y), _array(std), _array(mean), _array(weight)
    n = y.shape[0]
    out = {"n": n, "sum_w": 0.0, "sum_w_inv_var": 0.0, "y_min": math.inf, "y_max": -math.inf, "bad": None}
    rules = [("y", y, np.isfinite(y) & ((y == 0) | (y == 1)) if binary else np.isfinite(y),
              "0 or 1 (a binary loss)" if binary else "finite")]
    if std is not None:
        rules.append(("std", std, np.isfinite(std) & (std > 0), "finite and > 0"))
    if mean is not None:
        rules.append(("mean", mean, np.isfinite(mean), "finite"))
    if weight is not None:
        rules.append(("weight", weight, np.isfinite(weight) & (weight >= 0), "finite and >= 0"))
    for name, values, ok, rule in rules:
        if values.shape[0] != n:
            out["bad"] = (f"{name} has {values.shape[0]} rows in partition {i} but the labels have {n}; build it from "
                          "the same dask DataFrame as the labels.")
            return out
        if not ok.all():
            j = int(np.flatnonzero(~ok)[0])
            out["bad"] = (f"{name} must be {rule}; {int((~ok).sum())} rows of partition {i} are not, the first at row "
                          f"{j} of that partition (value {float(values[j])!r}).")
            return out
    if n:
        w = np.ones(n) if weight is None else weight
        out["sum_w"] = float(w.sum())
        if std is not None:
            out["sum_w_inv_var"] = float(np.dot(w, 1.0 / std**2))
        out["y_min"], out["y_max"] = float(y.min()), float(y.max())
    return out


def _moments(parts: list[tuple], loss: BaseLoss, client: Any) -> dict:
    binary = loss.kind == "binary"
    found = client.compute([dask.delayed(_moments_part)(i, *p, binary) for i, p in enumerate(parts)], sync=True)
    for m in found:
        if m["bad"] is not None:
            raise ValueError(m["bad"])
    total = {k: sum(m[k] for m in found) for k in ("n", "sum_w", "sum_w_inv_var")}
    if total["n"] == 0:
        raise ValueError("y is empty: there is no constant to fit.")
    total["y_min"] = min(m["y_min"] for m in found)
    total["y_max"] = max(m["y_max"] for m in found)
    return total


def _sums_part(y: Any, std: Any, mean: Any, weight: Any, loss: BaseLoss, points: np.ndarray,
               with_loss: bool) -> tuple[np.ndarray, np.ndarray]:
    """Summed exact gradient (and summed weighted loss) of one partition at each constant of ``points``."""
    y, std, mean, weight = _array(y), _array(std), _array(mean), _array(weight)
    grad = np.zeros(points.shape[0])
    total = np.zeros(points.shape[0])
    if y.shape[0] == 0:
        return grad, total
    exact = loss.with_params(derivatives="exact", min_hessian="none")
    pred = np.empty_like(y)
    w_sum = float(y.shape[0] if weight is None else weight.sum())
    with numba_threads(_worker_threads()):
        for k, c in enumerate(points):
            pred.fill(c)
            grad[k] = float(exact.grad_hess(y, pred, std=std, mean=mean, weight=weight)[0].sum())
            if with_loss and w_sum > 0:
                total[k] = float(loss(y, pred, std=std, mean=mean, weight=weight)) * w_sum
    return grad, total


def _sums(parts: list[tuple], loss: BaseLoss, points: np.ndarray, client: Any,
          with_loss: bool = False) -> tuple[np.ndarray, np.ndarray]:
    tasks = [dask.delayed(_sums_part)(*p, loss, points, with_loss) for p in parts]
    found = client.compute(tasks, sync=True)
    return sum(g for g, _ in found), sum(t for _, t in found)


def init_score(loss: Any, y: Any, *, std: Any = None, mean: Any = None, weight: Any = None,
               client: Any = None) -> float:
    """The loss's constant minimiser (the starting score) of labels held in a dask collection.

    The labels are never collected: a first pass evaluates the summed loss on a grid of
    18 constants over the label range (logits in [-30, 30] for binary losses); the
    minimum lies between the neighbours of the grid's smallest value, where the root of
    the summed exact gradient is then bracketed by sections of 16 points per pass until
    the bracket is ``1e-13`` of the label range (about ten passes), and interpolated.
    For a loss whose mean is convex in the constant this is ``loss.init_score`` of the
    collected data up to that tolerance.

    Parameters
    ----------
    loss : BaseLoss or str
        An element-wise loss.
    y : dask Series or 1-d dask Array
        Labels (0/1 for binary losses).
    std, mean, weight : dask Series or 1-d dask Array, optional
        Per-row side data and weights, partitioned like ``y``.
    client : distributed.Client, optional
        Default: the current client.

    Returns
    -------
    float
        A raw score: a margin, or log-odds for binary losses.
    """
    client = _client(client)
    loss = check_loss(loss)
    parts = _aligned(y, std=std, mean=mean, weight=weight)
    if loss.requires_std and std is None:
        raise ValueError(f"std is required by {loss!r}; pass std= partitioned like y.")
    mom = _moments(parts, loss, client)
    if loss.kind == "binary":
        lo, hi = -30.0, 30.0
    else:
        lo, hi = mom["y_min"], mom["y_max"]
        if lo == hi:
            return lo
    scale = hi - lo
    points = np.linspace(lo, hi, _GRID + 2)
    grad, total = _sums(parts, loss, points, client, with_loss=True)
    j = int(np.argmin(total))
    if grad[j] == 0.0:
        return float(points[j])
    a, b = points[max(j - 1, 0)], points[min(j + 1, _GRID + 1)]
    ga, gb = grad[max(j - 1, 0)], grad[min(j + 1, _GRID + 1)]
    if not (ga < 0.0 < gb):
        return float(points[j])  # the grid's best constant sits at an end of the range
    while b - a > _ROOT_TOL * scale:
        inner = np.linspace(a, b, _GRID + 2)[1:-1]
        g = _sums(parts, loss, inner, client)[0]
        k = int(np.argmax(g >= 0.0)) if (g >= 0.0).any() else _GRID
        if k < _GRID and g[k] == 0.0:
            return float(inner[k])
        if k > 0:
            a, ga = inner[k - 1], g[k - 1]
        if k < _GRID:
            b, gb = inner[k], g[k]
    return float(a - ga * (b - a) / (gb - ga))


def hessian_scale(loss: Any, std: Any = None, weight: Any = None, *, client: Any = None) -> float:
    """The objectives' ``hessian_scale="auto"`` over all rows: ``sum(w) / sum(w / std**2)``.

    One scale for every worker (a worker's own rows would give each its own scale, and
    their Newton steps would no longer add up). 1 without ``std`` and for binary losses,
    as in memory (docs/backends.md, "Hessian scale").
    """
    loss = _ad.as_loss(loss)
    if std is None or loss.kind != "regression":
        return 1.0
    client = _client(client)
    parts = _aligned(std, std=std, weight=weight)  # std stands in for the labels: only the weights are read
    found = client.compute([dask.delayed(_scale_part)(p[1], p[2]) for p in parts], sync=True)
    sum_w, sum_wi = (sum(f[k] for f in found) for k in (0, 1))
    return float(sum_w / sum_wi) if sum_wi > 0 else 1.0


def _scale_part(std: Any, weight: Any) -> tuple[float, float]:
    std, weight = _array(std), _array(weight)
    w = np.ones_like(std) if weight is None else weight
    return float(w.sum()), float(np.dot(w, 1.0 / std**2))


# --------------------------------------------------------------------------- rank IC on dask collections
def _per_date_part(i: int, y: Any, pred: Any, dates: Any, method: str) -> tuple[int, pd.Series]:
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    dates = np.asarray(dates).reshape(-1)
    if y.shape[0] == 0:
        return i, pd.Series([], dtype=np.float64)
    if not (pred.shape[0] == dates.shape[0] == y.shape[0]):
        raise ValueError(f"partition {i}: y_true has {y.shape[0]} rows, y_pred {pred.shape[0]} and dates "
                         f"{dates.shape[0]}; they must be partitioned alike.")
    func = metrics.rank_ic if method == "spearman" else metrics.ic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a partition without a scored date: judged overall
        return i, func(y, pred, dates=dates).per_date


def _date_values(y_true: Any, y_pred: Any, dates: Any, method: str, client: Any) -> pd.Series:
    client = _client(client)
    ys = _parts("y_true", y_true, None)
    tasks = [dask.delayed(_per_date_part)(i, a, b, c, method)
             for i, (a, b, c) in enumerate(zip(ys, _parts("y_pred", y_pred, len(ys)), _parts("dates", dates, len(ys))))]
    found = [s.set_axis(pd.Index(s.index, name="date")).to_frame("v").assign(part=i)
             for i, s in client.compute(tasks, sync=True) if len(s)]
    if not found:
        return pd.Series([], dtype=np.float64, index=pd.Index([], name="date"))
    table = pd.concat(found)
    dup = table.index.duplicated(keep=False)
    if dup.any():
        date = table.index[dup][0]
        where = sorted(table.loc[[date], "part"].tolist())
        raise ValueError(f"dates: date {date} lies in partitions {where}; each date must lie inside one partition "
                         "(repartition by date, for example set_index(date, sorted=True).repartition(divisions=...) "
                         "with the divisions on dates).")
    return table["v"].sort_index()


def rank_ic(y_true: Any, y_pred: Any, *, dates: Any, client: Any = None) -> "metrics.ICResult":
    """Rank IC (per-date Spearman correlation) of predictions held in dask collections.

    Each partition is scored by :func:`czar_gbdt.metrics.rank_ic`; the per-date values
    are gathered (one number per date) and summarised as in memory, so the result equals
    ``metrics.rank_ic`` of the collected data.

    Parameters
    ----------
    y_true, y_pred : dask Series or 1-d dask Array
        Target and prediction, partitioned alike.
    dates : dask Series or 1-d dask Array
        Date of each row, partitioned alike, each date inside one partition (a
        ``ValueError`` names a date found in two partitions).
    client : distributed.Client, optional
        Default: the current client.

    Returns
    -------
    czar_gbdt.metrics.ICResult
    """
    return metrics.ic_result(_date_values(y_true, y_pred, dates, "spearman", client), "spearman")


def ic(y_true: Any, y_pred: Any, *, dates: Any, client: Any = None) -> "metrics.ICResult":
    """IC (per-date Pearson correlation) of predictions held in dask collections; see :func:`rank_ic`."""
    return metrics.ic_result(_date_values(y_true, y_pred, dates, "pearson", client), "pearson")


# --------------------------------------------------------------------------- XGBoost on the workers
def _carrier(dmatrix: "xgb.DMatrix", field: str) -> np.ndarray:
    return np.asarray(dmatrix.get_float_info(field), dtype=np.float64)


class XGBDaskObjective:
    """A loss as the ``obj`` of ``xgboost.dask.train``: side data read from each worker's DMatrix.

    Picklable (each worker gets a copy). On a worker it reads ``std`` from the local
    DMatrix's ``label_lower_bound`` and ``mean`` from its ``label_upper_bound`` (see
    :func:`DaskDMatrix`), and computes gradients with the cluster-wide
    ``hessian_scale`` (:func:`hessian_scale`). It raises when training starts from a
    constant other than ``init_score`` (a forgotten ``base_score``), as the in-memory
    objective does.

    Parameters
    ----------
    loss : BaseLoss or str
        An element-wise loss.
    init_score : float
        The starting margin (:func:`init_score` of the training labels).
    hessian_scale : float
        The cluster-wide scale of gradients and hessians.
    has_std, has_mean : bool
        Whether the training DMatrix carries ``std`` / ``mean``.
    """

    def __init__(self, loss: Any, *, init_score: float, hessian_scale: float = 1.0, has_std: bool = False,
                 has_mean: bool = False):
        self.loss = check_loss(loss, "xgboost")
        if self.loss.requires_std and not has_std:
            raise ValueError(f"std is required by {self.loss!r}: build the DaskDMatrix with std= (DaskDMatrix()).")
        self.init_score = float(init_score)
        self.hessian_scale = float(hessian_scale)
        self.has_std, self.has_mean = bool(has_std), bool(has_mean)
        self._objective = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_objective": None}

    def __repr__(self) -> str:
        return f"XGBDaskObjective({self.loss!r}, init_score={self.init_score!r}, hessian_scale={self.hessian_scale!r})"

    @property
    def base_score(self) -> float:
        """The ``base_score`` parameter that starts at :attr:`init_score` (a probability for binary losses)."""
        return _ad.sigmoid(self.init_score) if self.loss.kind == "binary" else self.init_score

    @property
    def xgb_objective(self) -> str:
        """The built-in objective whose link XGBoost uses with this loss."""
        return "binary:logistic" if self.loss.kind == "binary" else "reg:squarederror"

    def __call__(self, predt: np.ndarray, dtrain: "xgb.DMatrix") -> tuple[np.ndarray, np.ndarray]:
        """Gradients and hessians of the worker's rows (float32, weights multiplied in)."""
        if self._objective is None:
            self._objective = cx.objective(self.loss, hessian_scale=self.hessian_scale, check_start=False)
        if (self.has_std or self.has_mean) and _ad.side_of(dtrain) is None:
            cx.attach(dtrain, std=_carrier(dtrain, "label_lower_bound") if self.has_std else None,
                      mean=_carrier(dtrain, "label_upper_bound") if self.has_mean else None)
        p = np.asarray(predt).reshape(-1)
        if p.shape[0] and p[0] == p[-1] and (p == p[0]).all():
            tol = 1e-6 * max(1.0, abs(self.init_score))
            if abs(float(p[0]) - self.init_score) > tol:
                raise ValueError(f"training starts from the constant {float(p[0]):.9g}, not from the loss's starting "
                                 f"score {self.init_score:.9g}: set params['base_score'] = {self.base_score!r} "
                                 "(or use czar_gbdt.dask.train_loss).")
        return self._objective(predt, dtrain)


class XGBDaskMetric:
    """A loss or ``"rank_ic"``/``"ic"`` as the ``custom_metric`` of ``xgboost.dask.train``, exact across workers.

    Each worker scores its own eval rows and the sums are added over the workers with
    ``xgboost.collective.allreduce``: for a loss the weighted loss and the weights, for
    rank IC the per-date values and the number of dates scored (each date lies on one
    worker: the eval set is partitioned by date). XGBoost then averages the identical
    results of the workers. ``std`` comes from the eval DMatrix's ``label_lower_bound``,
    the date codes from its ``label_upper_bound`` (:func:`DaskDMatrix` with
    ``dates=``).

    Parameters
    ----------
    what : BaseLoss, str
        A loss (lower is better) or ``"rank_ic"`` / ``"ic"`` (higher is better).
    name : str, optional
        Display name.

    Attributes
    ----------
    maximize : bool
        Whether higher is better (for ``EarlyStopping``).
    """

    def __init__(self, what: Any, *, name: str | None = None):
        core = _ad.MetricCore(what, name=name)
        if core.loss is None and core.name not in ("rank_ic", "ic"):
            raise ValueError(f"metric {core.name!r} is not supported on a Dask cluster; use a loss, 'rank_ic' or 'ic'.")
        self.loss = core.loss
        self.name = core.name
        self.method = None if core.loss is not None else ("spearman" if core.name == "rank_ic" else "pearson")
        self.maximize = bool(core.higher_is_better)
        self.__name__ = self.name

    def __repr__(self) -> str:
        return f"XGBDaskMetric({self.name!r}, maximize={self.maximize})"

    def __call__(self, predt: np.ndarray, dmatrix: "xgb.DMatrix") -> tuple[str, float]:
        """``(name, value)`` of the whole eval set (every worker returns the same value)."""
        y = np.asarray(dmatrix.get_label(), dtype=np.float64)
        pred = np.asarray(predt, dtype=np.float64).reshape(-1)
        sums = np.zeros(2)
        if y.shape[0]:
            if self.loss is not None:
                w = np.asarray(dmatrix.get_weight(), dtype=np.float64)
                w = w if w.size else None
                std = _carrier(dmatrix, "label_lower_bound") if self.loss.requires_std else None
                total = float(y.shape[0] if w is None else w.sum())
                with numba_threads(1):
                    sums[:] = float(self.loss(y, pred, std=std, weight=w)) * total, total
            else:
                codes = _carrier(dmatrix, "label_upper_bound")
                func = metrics.rank_ic if self.method == "spearman" else metrics.ic
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    values = func(y, pred, dates=codes).per_date.to_numpy()
                used = values[np.isfinite(values)]
                sums[:] = used.sum(), used.shape[0]
        if collective.get_world_size() > 1:
            sums = collective.allreduce(sums, collective.Op.SUM)
        return self.name, float(sums[0] / sums[1]) if sums[1] > 0 else math.nan


def DaskDMatrix(client: Any, X: Any, y: Any, *, std: Any = None, mean: Any = None, dates: Any = None,
                weight: Any = None, ref: Any = None, **kwargs: Any) -> "xgb.dask.DaskQuantileDMatrix":
    """An ``xgboost.dask.DaskQuantileDMatrix`` carrying per-row ``std`` and ``mean`` or date codes.

    ``std`` goes to ``label_lower_bound`` and ``mean`` (a training set) or ``dates``
    (an eval set scored by rank IC, as integer date codes below 2**24: float32 keeps
    them exact) to ``label_upper_bound``, fields that only XGBoost's survival objectives
    read; :class:`XGBDaskObjective` and :class:`XGBDaskMetric` read them back on each
    worker.

    Parameters
    ----------
    client : distributed.Client or None
    X : dask DataFrame or Array
        Features.
    y : dask Series or Array
        Labels.
    std, mean, weight : dask Series, optional
        Partitioned like ``y``.
    dates : dask Series of int, optional
        Date codes (not with ``mean``).
    ref : DaskQuantileDMatrix, optional
        The training matrix, for an eval set (shares its bins).
    **kwargs
        Passed to ``DaskQuantileDMatrix`` (``max_bin=``, ...).
    """
    check_imports("xgboost")
    if mean is not None and dates is not None:
        raise ValueError("a DaskDMatrix carries mean (training set) or dates (eval set), not both.")
    upper = mean if mean is not None else dates
    if hasattr(X, "columns"):
        # a worker without rows of this set builds an empty DMatrix: it needs the names too
        kwargs.setdefault("feature_names", [str(c) for c in X.columns])
    return xgb.dask.DaskQuantileDMatrix(client, X, y, weight=weight, label_lower_bound=std, label_upper_bound=upper,
                                        ref=ref, **kwargs)


# --------------------------------------------------------------------------- LightGBM on the workers
class LGBDaskObjective:
    """A loss as the objective of :class:`DaskLGBMRegressor`: side data bound on each worker.

    The scikit-learn signature ``(y_true, y_pred, weight)`` (three parameters, so that
    LightGBM passes the weights). Picklable; the estimator each worker trains binds the
    ``std``/``mean`` of that worker's rows (taken from the :data:`STD_COLUMN` and
    :data:`MEAN_COLUMN` columns of its features) for the duration of its fit.

    Parameters
    ----------
    loss : BaseLoss or str
        An element-wise loss.
    init_score : float
        The starting score (:func:`init_score`).
    hessian_scale : float
        The cluster-wide scale (:func:`hessian_scale`).
    """

    def __init__(self, loss: Any, *, init_score: float, hessian_scale: float = 1.0):
        self.loss = check_loss(loss, "lightgbm")
        self.init_score = float(init_score)
        self.hessian_scale = float(hessian_scale)
        self._objective = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_objective": None}

    def __deepcopy__(self, memo: dict) -> "LGBDaskObjective":
        return self  # scikit-learn and LightGBM copy parameters: the bound side data must stay

    def __repr__(self) -> str:
        return f"LGBDaskObjective({self.loss!r}, init_score={self.init_score!r}, hessian_scale={self.hessian_scale!r})"

    def bind(self, std: Any, mean: Any) -> None:
        """Bind the side data of the rows this process trains on (the worker's estimator does it)."""
        if self.loss.requires_std and std is None:
            raise ValueError(f"std is required by {self.loss!r}: give the features a {STD_COLUMN!r} column "
                             "(czar_gbdt.dask.train_loss does).")
        self._objective = clx.objective(self.loss, std=std, mean=mean, hessian_scale=self.hessian_scale,
                                        check_start=False, n_threads=_worker_threads())

    def unbind(self) -> None:
        """Forget the bound side data."""
        self._objective = None

    def __call__(self, y_true: Any, y_pred: Any, weight: Any) -> tuple[np.ndarray, np.ndarray]:
        """Gradients and hessians of the worker's rows (weights multiplied in)."""
        if self._objective is None:
            raise ValueError(f"{self!r} has no side data bound: train it with czar_gbdt.dask.DaskLGBMRegressor, whose "
                             "workers bind their rows' std and mean.")
        return self._objective(y_true, y_pred, weight)


_LGB_BASE = lgb.LGBMRegressor if _lgb_imports.is_successful() else object
_LGB_DASK_BASE = lgb.DaskLGBMRegressor if _lgb_imports.is_successful() else object


class _WorkerRegressor(_LGB_BASE):  # type: ignore[misc, valid-type]
    """The estimator each worker fits: takes the side-data columns off its features and binds them."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None, init_score: Any = None, **kwargs: Any):
        spec = self.objective
        if not isinstance(spec, LGBDaskObjective):
            return super().fit(X, y, sample_weight=sample_weight, init_score=init_score, **kwargs)
        side = [c for c in (STD_COLUMN, MEAN_COLUMN) if c in X.columns]
        spec.bind(X[STD_COLUMN].to_numpy(np.float64) if STD_COLUMN in side else None,
                  X[MEAN_COLUMN].to_numpy(np.float64) if MEAN_COLUMN in side else None)
        try:
            return super().fit(X.drop(columns=side), y, sample_weight=sample_weight,
                               init_score=np.full(len(y), spec.init_score), **kwargs)
        finally:
            spec.unbind()


class DaskLGBMRegressor(_LGB_DASK_BASE):  # type: ignore[misc, valid-type]
    """``lightgbm.DaskLGBMRegressor`` that trains a czar_gbdt loss with per-row side data.

    With an :class:`LGBDaskObjective` as ``objective``, :meth:`fit` takes the features
    with the side data as extra columns (:data:`STD_COLUMN`, :data:`MEAN_COLUMN`): each
    worker's estimator takes them off and binds them to the objective, starts from the
    objective's ``init_score`` and, after training, the starting score is added to the
    first tree (:func:`czar_gbdt.lightgbm.bake_init_score`), so ``predict`` (on the
    features alone) includes it. Any other objective trains as
    ``lightgbm.DaskLGBMRegressor`` does.

    .. note::
       It passes its own per-worker estimator to LightGBM's ``_lgb_dask_fit`` (the
       method every Dask estimator of LightGBM 4.x calls); LightGBM is pinned below 5.
       Early stopping is refused: LightGBM's Dask interface does not support it
       (https://github.com/microsoft/LightGBM/issues/3712).
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None, init_score: Any = None, **kwargs: Any):
        """Fit on dask collections; see the class docstring for an :class:`LGBDaskObjective`."""
        check_imports("lightgbm")
        spec = self.objective
        if not isinstance(spec, LGBDaskObjective):
            return super().fit(X, y, sample_weight=sample_weight, init_score=init_score, **kwargs)
        if init_score is not None:
            raise ValueError("init_score is set from the objective's init_score; do not pass it.")
        if kwargs.get("early_stopping_rounds") or self.get_params().get("early_stopping_rounds"):
            raise ValueError("early stopping is not supported by LightGBM's Dask interface "
                             "(https://github.com/microsoft/LightGBM/issues/3712); use backend 'xgboost' or train "
                             "every round.")
        self._lgb_dask_fit(model_factory=_WorkerRegressor, X=X, y=y, sample_weight=sample_weight, **kwargs)
        clx.bake_init_score(self, spec.init_score)
        return self


_XGB_DASK_BASE = xgb.dask.DaskXGBRegressor if _xgb_imports.is_successful() else object


class DaskXGBRegressor(_XGB_DASK_BASE):  # type: ignore[misc, valid-type]
    """``xgboost.dask.DaskXGBRegressor`` that trains a czar_gbdt loss with per-row side data.

    With a czar_gbdt loss as ``objective``, :meth:`fit` takes ``std`` and ``mean`` as dask
    Series partitioned like ``y`` and trains through :func:`train_loss` (the side data in
    the DaskDMatrix, the starting score by distributed reductions, one hessian scale for
    all workers) with the estimator's parameters and ``n_estimators`` rounds; the booster
    is kept, so ``predict`` and the rest of the estimator work as usual (raw margins:
    logits for a binary loss). XGBoost's own ``fit`` builds its DaskDMatrix without the
    per-row fields that carry ``std``, and hands a callable objective only the labels and
    predictions, hence this class. Any other objective trains as ``DaskXGBRegressor`` does.
    For early stopping on the validation rank IC use :func:`train_loss`.
    """

    def fit(self, X: Any, y: Any, *, std: Any = None, mean: Any = None, sample_weight: Any = None, **kwargs: Any):
        """Fit on dask collections; see the class docstring for a czar_gbdt loss as ``objective``."""
        check_imports("xgboost")
        loss = self.objective
        if not isinstance(loss, BaseLoss):
            if std is not None or mean is not None:
                raise ValueError(f"std and mean are the side data of a czar_gbdt loss; objective={loss!r} takes none.")
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)
        if kwargs or self.early_stopping_rounds:
            raise ValueError(f"DaskXGBRegressor.fit with a czar_gbdt loss takes X, y, std, mean and sample_weight "
                             f"(got {sorted(kwargs) or 'early_stopping_rounds'}); for early stopping on the validation "
                             "rank IC use czar_gbdt.dask.train_loss.")
        params = {k: v for k, v in self.get_xgb_params().items() if k != "objective" and v is not None}
        trained = train_loss(loss, X, y, std=std, mean=mean, weight=sample_weight, backend="xgboost", params=params,
                             num_boost_round=self.get_num_boosting_rounds(), seed=self.random_state or 0,
                             client=self.client)
        self._Booster = trained.model
        self.init_score_ = trained.init_score
        return self


# --------------------------------------------------------------------------- faults
def worker_addresses(client: Any) -> set[str]:
    """The addresses of the cluster's workers, asked of the scheduler.

    Not ``client.scheduler_info()["workers"]``: that returns the client's cached identity,
    which the client's periodic update refreshes *without* the workers, so a read racing
    the update finds none (a long training then saw every worker "leave").
    """
    return set(client.sync(client.scheduler.identity, n_workers=-1)["workers"])


def run_guarded(client: Any, call: Callable[[], Any], *, what: str = "training", grace: float = 10.0,
                poll: float = 0.25) -> Any:
    """Run ``call()`` (a blocking call on the cluster) and fail fast when a worker leaves.

    The call runs on a helper thread while this thread watches the cluster's workers. When
    a worker that was there at the start leaves, the call's own error (XGBoost and
    LightGBM fail at once when a peer's socket closes) is raised as a
    :class:`WorkerLostError`. If the call has not ended ``grace`` seconds later (a peer
    stuck waiting for the lost worker, for example while the workers connect), the
    surviving workers are restarted, which ends their tasks, and the error is raised: a
    lost worker never hangs the caller.

    Returns
    -------
    whatever ``call()`` returns
    """
    before = worker_addresses(client)
    keys_before = set(client.futures)
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            with client.as_current():  # the backends' Dask code waits on futures through the current client
                box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name=f"czar-gbdt {what}", daemon=True).start()
    lost: set[str] = set()
    lost_at = unreachable_at = None
    while not done.wait(poll):
        if lost_at is None:
            try:
                lost = before - worker_addresses(client)
                unreachable_at = None
            except Exception:  # noqa: BLE001 - the scheduler did not answer: every worker is lost only if it stays so
                unreachable_at = unreachable_at or time.monotonic()
                lost = set(before) if time.monotonic() - unreachable_at > grace else set()
            if lost:
                lost_at = time.monotonic()
        elif time.monotonic() - lost_at > grace:
            break
    if not lost and done.is_set():
        try:
            lost = before - worker_addresses(client)
        except Exception:  # noqa: BLE001
            lost = set()
    error = box.get("error")
    abandoned = lost and not done.is_set()
    if abandoned:
        # the call is stuck (a peer waiting for the lost worker): restarting the survivors ends
        # their tasks, which ends the call and releases what it holds (XGBoost's lock on the workers)
        survivors = sorted(before - lost)
        try:
            client.restart_workers(survivors, raise_for_error=False)
            # and the call's tasks that wait for the lost worker (pinned to it) are cancelled
            client.cancel([distributed.Future(key, client) for key in set(client.futures) - keys_before])
        except Exception:  # noqa: BLE001 - best effort: the error below is raised either way
            pass
        done.wait(min(grace, 2.0))
        error = None  # whatever the call did after the restart is not its result
    if lost and (error is not None or abandoned):
        cause = (f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
                 if error is not None else
                 f"the call had not ended {grace:g} s later, so the other workers were restarted to end it")
        raise WorkerLostError(
            f"{what} on the Dask cluster failed: worker(s) {', '.join(sorted(lost))} left the cluster during the call "
            f"(killed, crashed, or restarted by its nanny, for example for exceeding memory_limit); {cause}. "
            "Nothing was trained; run it again (a LocalCluster replaces a lost worker).") from error
    if error is not None:
        raise error
    return box.get("value")


# --------------------------------------------------------------------------- training
def _predict_part(part: pd.DataFrame, model: Any, backend: str, columns: list, options: dict) -> pd.Series:
    X = part[columns]
    if len(X) == 0:
        return pd.Series([], dtype=np.float64, index=part.index)
    if backend == "xgboost":
        pred = model.inplace_predict(X.to_numpy(np.float32), **options)  # the columns are in training order
    else:
        pred = model.predict(X, num_threads=_worker_threads(), **options)
    return pd.Series(np.asarray(pred, dtype=np.float64).reshape(-1), index=part.index)


class DaskTrainedModel:
    """A model trained on a Dask cluster: the booster, its rounds and how it predicts.

    Attributes
    ----------
    backend : str
        ``"xgboost"`` or ``"lightgbm"``.
    model : xgboost.Booster or lightgbm.Booster
        The trained booster (its predictions include the starting score).
    rounds : int
        The boosting rounds its predictions use (the best round with early stopping).
    init_score : float or None
        The starting score (a loss's; None for a built-in objective).
    hessian_scale : float or None
        The cluster-wide scale the objective used.
    columns : list
        The feature columns, in training order.
    history : dict
        The eval history (XGBoost).
    """

    def __init__(self, backend: str, model: Any, rounds: int, columns: Sequence, *, init_score: float | None = None,
                 hessian_scale: float | None = None, history: dict | None = None, **options: Any):
        self.backend = backend
        self.model = model
        self.rounds = int(rounds)
        self.columns = list(columns)
        self.init_score = init_score
        self.hessian_scale = hessian_scale
        self.history = history or {}
        self.options = options

    def __repr__(self) -> str:
        return f"DaskTrainedModel({self.backend}, rounds={self.rounds})"

    def predict(self, X: Any) -> "dd.Series":
        """Raw predictions (margins: logits for binary losses) of a dask DataFrame, lazily, partition by partition."""
        missing = [c for c in self.columns if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks the feature column(s) {missing} the model was trained on.")
        model = dask.delayed(self.model, pure=True)
        return X.map_partitions(_predict_part, model, self.backend, self.columns, self.options,
                                meta=pd.Series([], dtype=np.float64))


def _quiet(call: Callable, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)`` with standard output sent to standard error.

    LightGBM's Dask interface prints its progress ("Finding random open ports for
    workers") with ``print``; a command's standard output is its result (JSON).
    """
    with contextlib.redirect_stdout(sys.stderr):
        return call(*args, **kwargs)


def _stdout_to_stderr(client_pid: int) -> None:
    """On a worker process (not the client's own): its standard output joins its standard error."""
    if os.getpid() != client_pid:
        sys.stdout.flush()
        os.dup2(2, 1)


def _quiet_lightgbm_workers(client: Any) -> None:
    """LightGBM's log off the workers' standard output, before each training on LightGBM.

    The workers of a local cluster share the command's standard output, and LightGBM's
    network set-up ("[LightGBM] [Info] Trying to bind port", "Connected to rank") is
    written there before the booster reads ``verbose = -1``, by the C library itself
    on a worker's task threads (its log callback is per thread): those lines landed
    inside the printed tables and the JSON. Each worker's file descriptor 1 is pointed
    at its standard error (a worker that replaced a lost one gets it at the next training).
    """
    client.run(_stdout_to_stderr, os.getpid())


def _cluster_params(params: dict | None, backend: str, seed: int) -> dict:
    """Booster parameters for a Dask backend: the module's defaults without thread counts (the workers set them)."""
    defaults = cx.DEFAULTS if backend == "xgboost" else clx.DEFAULTS
    out = {**defaults, **(params or {})}
    for key in ("nthread", "n_jobs", "num_threads", "num_thread", "nthreads"):
        out.pop(key, None)
    out["seed"] = seed
    return out


def _place(client: Any, *collections: Any) -> list:
    """Compute partition ``i`` of every collection on the same worker, the ``i % n``-th of the
    cluster's ``n`` workers in address order (None stays None), and wait for them. Returns the
    placed collections and, last, their futures, which the caller holds while it trains (a
    worker that dies lets the scheduler compute its partitions elsewhere).

    XGBoost and LightGBM train each worker on the partitions it happens to hold: its
    quantile sketch or histogram bins come from its own rows, and the workers add their
    histograms in rank order. Where the scheduler put the partitions (which changes from
    run to run on a cluster that is already running) thus changed the model. Placed this
    way, the worker of rank ``r`` trains on partitions ``r, r + n, ...`` (with
    :class:`_RankedClient` for LightGBM): the same data on the same number of workers gives
    the same model run after run (docs/cluster.md).
    """
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    out, held = [], []
    for c in collections:
        if c is None:
            out.append(None)
            continue
        futures = [client.compute(part, workers=[workers[i % len(workers)]], allow_other_workers=True)
                   for i, part in enumerate(c.to_delayed())]
        held += futures  # the caller keeps them until the training is over
        out.append(dd.from_delayed(futures, meta=make_meta(c), divisions=c.divisions, verify_meta=False))
    with client.as_current():  # wait() asks for the current client (a tuner worker has no default one)
        distributed.wait(held)
    return [*out, held]


class _RankedClient:
    """A ``distributed.Client`` whose ``who_has`` lists the keys in the order asked (partition order).

    LightGBM's Dask interface builds its worker list (and so the workers' ranks, and the
    order of each worker's partitions) from ``client.who_has(parts)``, which lists the keys
    in the order of a set: it changed from run to run. With the keys in partition order and
    the partitions placed by :func:`_place`, rank ``r`` is the worker that holds partition
    ``r`` and concatenates its partitions in order. Everything else is the client's.
    """

    def __init__(self, client: Any):
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def who_has(self, futures: Any = None, **kwargs: Any) -> dict:
        held = self.client.who_has(futures, **kwargs)
        if futures is None:
            return held
        order = dict.fromkeys(f.key for f in self.client.futures_of(futures))
        return {key: held[key] for key in order if key in held}


def train_loss(loss: Any, X: Any, y: Any, *, std: Any = None, mean: Any = None, weight: Any = None,
               valid_X: Any = None, valid_y: Any = None, valid_std: Any = None, valid_dates: Any = None,
               early_stopping_rounds: int = 0, backend: str = "xgboost", params: dict | None = None,
               num_boost_round: int = 200, seed: int = 0, client: Any = None, grace: float = 10.0) -> DaskTrainedModel:
    """Train a czar_gbdt loss on a Dask cluster, as ``czar_gbdt.<backend>.train_loss`` does in memory.

    Parameters
    ----------
    loss : BaseLoss or str
        An element-wise loss (see :func:`check_loss`).
    X : dask DataFrame
        Training features.
    y, std, mean, weight : dask Series
        Labels (0/1 for binary losses), side data and weights, partitioned like ``X``
        (columns of one dask DataFrame).
    valid_X, valid_y, valid_std, valid_dates : dask collections, optional
        Validation rows for early stopping on rank IC (XGBoost only), each date inside
        one partition; ``valid_dates`` are integer date codes (below 2**24).
    early_stopping_rounds : int, default 0
        Stop when the validation rank IC has not improved for that many rounds and keep
        the best round (XGBoost); 0: train every round.
    backend : {"xgboost", "lightgbm"}
    params : dict, optional
        Booster parameters over the backend module's ``DEFAULTS`` (thread counts are the
        workers').
    num_boost_round : int, default 200
    seed : int, default 0
    client : distributed.Client, optional
        Default: the current client.
    grace : float, default 10
        Seconds a training call may still run after losing a worker (:func:`run_guarded`).

    Returns
    -------
    DaskTrainedModel
        ``predict(X)`` gives a lazy dask Series of raw scores (with the starting score).

    Raises
    ------
    ValueError
        For a loss that cannot train on a cluster, missing ``std``, misaligned partitions,
        invalid labels/side data (naming the partition and row), early stopping on LightGBM.
    WorkerLostError
        When a worker leaves during training.
    """
    check_imports(backend)
    client = _client(client)
    loss = check_loss(loss, backend)
    if loss.requires_std and std is None:
        raise ValueError(f"std is required by {loss!r}; pass std= partitioned like y.")
    stop = int(early_stopping_rounds or 0) if valid_X is not None else 0
    if stop and backend == "lightgbm":
        raise ValueError("early_stopping_rounds is not supported on Dask LightGBM: its Dask interface has no early "
                         "stopping (https://github.com/microsoft/LightGBM/issues/3712); use backend 'xgboost', or "
                         "set model.early_stopping_rounds = 0.")
    if stop and (valid_y is None or valid_dates is None):
        raise ValueError("early stopping on rank IC needs valid_y and valid_dates with valid_X.")
    side_std = std if loss.requires_std else None
    side_mean = mean if loss.requires_std else None
    X, y, side_std, side_mean, weight, _held = _place(client, X, y, side_std, side_mean, weight)
    init = init_score(loss, y, std=side_std, mean=side_mean, weight=weight, client=client)
    scale = hessian_scale(loss, side_std, weight, client=client)
    booster_params = _cluster_params(params, backend, seed)
    columns = list(X.columns)
    if backend == "xgboost":
        obj = XGBDaskObjective(loss, init_score=init, hessian_scale=scale, has_std=side_std is not None,
                               has_mean=side_mean is not None)
        booster_params.update(objective=obj.xgb_objective, base_score=obj.base_score, disable_default_eval_metric=1)

        def call() -> dict:
            dtrain = DaskDMatrix(client, X, y, std=side_std, mean=side_mean, weight=weight)
            kwargs: dict[str, Any] = {}
            if stop:
                dvalid = DaskDMatrix(client, valid_X[columns], valid_y, std=valid_std if loss.requires_std else None,
                                     dates=valid_dates, ref=dtrain)
                metric = XGBDaskMetric("rank_ic")
                kwargs = dict(evals=[(dvalid, "valid")], custom_metric=metric, verbose_eval=False, callbacks=[
                    xgb.callback.EarlyStopping(rounds=stop, metric_name=metric.name, data_name="valid",
                                               maximize=metric.maximize, save_best=True)])
            return xgb.dask.train(client, booster_params, dtrain, num_boost_round, obj=obj, **kwargs)

        out = run_guarded(client, call, what=f"training {loss!r} on xgboost", grace=grace)
        booster = out["booster"]
        return DaskTrainedModel("xgboost", booster, booster.num_boosted_rounds(), columns, init_score=init,
                                hessian_scale=scale, history=out.get("history"), predict_type="margin")
    obj = LGBDaskObjective(loss, init_score=init, hessian_scale=scale)
    features = X
    if side_std is not None:
        features = features.assign(**{STD_COLUMN: side_std})
    if side_mean is not None:
        features = features.assign(**{MEAN_COLUMN: side_mean})
    features, _held_features = _place(client, features)  # the columns added above, placed like the rest
    model = DaskLGBMRegressor(client=_RankedClient(client), objective=obj, n_estimators=num_boost_round,
                              **booster_params)
    _quiet_lightgbm_workers(client)
    run_guarded(client, lambda: _quiet(model.fit, features, y, sample_weight=weight),
                what=f"training {loss!r} on lightgbm", grace=grace)
    return DaskTrainedModel("lightgbm", model.booster_, num_boost_round, columns, init_score=init,
                            hessian_scale=scale, raw_score=True)


def train_builtin(X: Any, y: Any, *, weight: Any = None, backend: str = "xgboost", params: dict | None = None,
                  num_boost_round: int = 200, seed: int = 0, client: Any = None,
                  grace: float = 10.0) -> DaskTrainedModel:
    """Train the backend's own squared error on a Dask cluster (the baseline every loss must beat).

    Parameters as :func:`train_loss` (no loss, no side data, no early stopping).
    """
    check_imports(backend)
    client = _client(client)
    X, y, weight, _held = _place(client, X, y, weight)
    booster_params = _cluster_params(params, backend, seed)
    columns = list(X.columns)
    if backend == "xgboost":
        booster_params["objective"] = "reg:squarederror"

        def call() -> dict:
            dtrain = xgb.dask.DaskQuantileDMatrix(client, X, y, weight=weight)
            return xgb.dask.train(client, booster_params, dtrain, num_boost_round)

        out = run_guarded(client, call, what="training the built-in squared error on xgboost", grace=grace)
        return DaskTrainedModel("xgboost", out["booster"], num_boost_round, columns)
    model = lgb.DaskLGBMRegressor(client=_RankedClient(client), objective="regression", n_estimators=num_boost_round,
                                  **booster_params)
    _quiet_lightgbm_workers(client)
    run_guarded(client, lambda: _quiet(model.fit, X, y, sample_weight=weight),
                what="training the built-in squared error on lightgbm", grace=grace)
    return DaskTrainedModel("lightgbm", model.booster_, num_boost_round, columns)

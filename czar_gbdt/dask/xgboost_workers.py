"""XGBoost on the workers: a loss as the objective of ``xgboost.dask.train`` with its side data in each
worker's DMatrix, a metric exact across workers, and the DMatrix that carries the side data."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import _adapters as _ad
from .. import metrics
from .. import xgboost as cx
from .._imports import try_import
from .._jit import numba_threads
from .parts import check_imports, check_loss

with try_import("xgboost", min_version="3.1", extra="xgboost", module="czar_gbdt.dask") as _xgb_imports:
    import xgboost as xgb
    import xgboost.dask  # noqa: F401 - registers xgb.dask
    from xgboost import collective

__all__ = ["DaskDMatrix", "XGBDaskMetric", "XGBDaskObjective"]


def _carrier(dmatrix: xgb.DMatrix, field: str) -> np.ndarray:
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

    def __init__(
        self, loss: Any, *, init_score: float, hessian_scale: float = 1.0, has_std: bool = False, has_mean: bool = False
    ):
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

    def __call__(self, predt: np.ndarray, dtrain: xgb.DMatrix) -> tuple[np.ndarray, np.ndarray]:
        """Gradients and hessians of the worker's rows (float32, weights multiplied in)."""
        if self._objective is None:
            self._objective = cx.objective(self.loss, hessian_scale=self.hessian_scale, check_start=False)
        if (self.has_std or self.has_mean) and _ad.side_of(dtrain) is None:
            cx.attach(
                dtrain,
                std=_carrier(dtrain, "label_lower_bound") if self.has_std else None,
                mean=_carrier(dtrain, "label_upper_bound") if self.has_mean else None,
            )
        p = np.asarray(predt).reshape(-1)
        if p.shape[0] and p[0] == p[-1] and (p == p[0]).all():
            tol = 1e-6 * max(1.0, abs(self.init_score))
            if abs(float(p[0]) - self.init_score) > tol:
                raise ValueError(
                    f"training starts from the constant {float(p[0]):.9g}, not from the loss's starting "
                    f"score {self.init_score:.9g}: set params['base_score'] = {self.base_score!r} "
                    "(or use czar_gbdt.dask.train_loss)."
                )
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

    def __call__(self, predt: np.ndarray, dmatrix: xgb.DMatrix) -> tuple[str, float]:
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


def DaskDMatrix(
    client: Any,
    X: Any,
    y: Any,
    *,
    std: Any = None,
    mean: Any = None,
    dates: Any = None,
    weight: Any = None,
    ref: Any = None,
    **kwargs: Any,
) -> xgb.dask.DaskQuantileDMatrix:
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
    return xgb.dask.DaskQuantileDMatrix(
        client, X, y, weight=weight, label_lower_bound=std, label_upper_bound=upper, ref=ref, **kwargs
    )

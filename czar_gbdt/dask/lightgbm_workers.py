"""LightGBM on the workers: a loss as the objective of a Dask LightGBM model, its side data bound
on each worker from the extra columns of the feature frame."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import lightgbm as clx
from .._imports import try_import
from .parts import MEAN_COLUMN, STD_COLUMN, check_imports, check_loss, worker_threads

with try_import("lightgbm", min_version="4.7", below_version="5", module="czar_gbdt.dask") as _lgb_imports:
    import lightgbm as lgb
    import lightgbm.dask  # noqa: F401 - lgb.DaskLGBMRegressor needs dask

__all__ = ["DaskLGBMRegressor", "LGBDaskObjective"]


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

    def __deepcopy__(self, memo: dict) -> LGBDaskObjective:
        return self  # scikit-learn and LightGBM copy parameters: the bound side data must stay

    def __repr__(self) -> str:
        return f"LGBDaskObjective({self.loss!r}, init_score={self.init_score!r}, hessian_scale={self.hessian_scale!r})"

    def bind(self, std: Any, mean: Any) -> None:
        """Bind the side data of the rows this process trains on (the worker's estimator does it)."""
        if self.loss.requires_std and std is None:
            raise ValueError(
                f"std is required by {self.loss!r}: give the features a {STD_COLUMN!r} column "
                "(czar_gbdt.dask.train_loss does)."
            )
        self._objective = clx.objective(
            self.loss,
            std=std,
            mean=mean,
            hessian_scale=self.hessian_scale,
            check_start=False,
            n_threads=worker_threads(),
        )

    def unbind(self) -> None:
        """Forget the bound side data."""
        self._objective = None

    def __call__(self, y_true: Any, y_pred: Any, weight: Any) -> tuple[np.ndarray, np.ndarray]:
        """Gradients and hessians of the worker's rows (weights multiplied in)."""
        if self._objective is None:
            raise ValueError(
                f"{self!r} has no side data bound: train it with czar_gbdt.dask.DaskLGBMRegressor, whose "
                "workers bind their rows' std and mean."
            )
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
        spec.bind(
            X[STD_COLUMN].to_numpy(np.float64) if STD_COLUMN in side else None,
            X[MEAN_COLUMN].to_numpy(np.float64) if MEAN_COLUMN in side else None,
        )
        try:
            return super().fit(
                X.drop(columns=side),
                y,
                sample_weight=sample_weight,
                init_score=np.full(len(y), spec.init_score),
                **kwargs,
            )
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
            raise ValueError(
                "early stopping is not supported by LightGBM's Dask interface "
                "(https://github.com/microsoft/LightGBM/issues/3712); use backend 'xgboost' or train "
                "every round."
            )
        self._lgb_dask_fit(model_factory=_WorkerRegressor, X=X, y=y, sample_weight=sample_weight, **kwargs)
        clx.bake_init_score(self, spec.init_score)
        return self

"""Training on a loss with CatBoost: :func:`fit` (a model whose ``loss_function`` is a compiled
objective, started at the loss's constant minimiser), :func:`train` (the same from a
parameter dict) and :func:`predict` (back to the units of ``y``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import _adapters as _ad
from .._imports import try_import
from ..losses import BaseLoss
from .compiled import CatBoostMetric, CatBoostObjective, PooledMetric
from .compiled import metric as make_metric
from .compiled import objective as make_objective
from .pools import MIN_VERSION, as_pool, check_pool, pool_weight

with try_import("catboost", min_version=MIN_VERSION, extra="catboost") as _imports:
    import catboost as cb

__all__ = ["fit", "train", "predict"]


def fit(model: Any, X: Any, y: Any = None, *, eval_set: Any = None, **fit_kwargs: Any) -> Any:
    """Fit a CatBoost model whose ``loss_function`` is a :func:`objective`.

    Checks that the training and eval pools carry the ``std`` the loss needs, sets
    ``eval_metric`` to the loss if none was chosen (and, without an eval set, scores
    the training set with it at the end only), starts training at the loss's constant
    minimiser (added to the approxes by the compiled objective and metric, which read it
    from a cell of their class: fits that share an objective parameter set or an eval
    metric run one at a time, in any thread) and stores it as the model's bias, so
    ``model.predict(X)`` includes it. A model that sets neither ``train_dir`` nor
    ``allow_writing_files`` writes no files (CatBoost would leave ``catboost_info/`` in
    the working directory); set ``train_dir`` to keep CatBoost's training logs.

    Parameters
    ----------
    model : catboost.CatBoost, CatBoostRegressor or CatBoostClassifier
        Its ``loss_function`` is a :func:`objective`.
    X : catboost.Pool or array-like
        A pool from :func:`Pool`, or features (then ``y`` is required and no
        ``std`` is possible: squared error in y units or binary losses only).
    y : array-like, optional
        Labels, when ``X`` holds features.
    eval_set : Pool, (X, y) or list of them, optional
        Eval datasets; regression losses need pools from :func:`Pool` with ``std``.
    **fit_kwargs
        Passed to ``model.fit`` (``early_stopping_rounds=``, ``verbose=``, ...).

    Returns
    -------
    the fitted model
    """
    _imports.check()
    obj = _ad.model_objective(model, "loss_function", CatBoostObjective, "catboost", where="model's loss_function")
    if "init_model" in fit_kwargs or "baseline" in fit_kwargs:
        raise ValueError("fit() sets the starting score itself; init_model and baseline are not supported.")
    loss = obj.loss
    pool, evals, side = _training_pools(loss, X, y, eval_set, fit_kwargs)
    if isinstance(model, cb.CatBoostClassifier) and model.get_params().get("class_names") is None:
        # with a user-defined eval metric CatBoost does not record the classes: predict() would fail
        model.set_params(class_names=np.unique(np.asarray(pool.get_label())).tolist())
    eval_metric = _set_eval_metric(model, loss, pool, evals)
    init = _ad.constant_minimiser(loss, side.extra["z"], weight=pool_weight(pool))
    with _starting_at(init, obj, eval_metric):
        model.fit(pool, eval_set=evals or None, **fit_kwargs)
    scale, bias = model.get_scale_and_bias()
    model.set_scale_and_bias(scale, bias + init)
    return model


def _training_pools(loss: Any, X: Any, y: Any, eval_set: Any, fit_kwargs: dict) -> tuple[Any, list, _ad.SideData]:
    """The training Pool (with ``fit_kwargs``' ``sample_weight`` when ``X`` holds features), the
    eval Pools, each checked to carry the ``std`` the loss needs, and the training Pool's side data."""
    pool = as_pool(X if y is None else (X, y), "X")
    if y is not None and "sample_weight" in fit_kwargs:
        pool.set_weight(np.asarray(fit_kwargs.pop("sample_weight"), dtype=np.float64))
    evals: list[Any] = []
    if eval_set is not None:
        items = [eval_set] if isinstance(eval_set, (cb.Pool, tuple)) else list(eval_set)
        evals = [as_pool(e, f"eval_set[{i}]") for i, e in enumerate(items)]
    side = check_pool(pool, loss, "the training Pool")
    for i, e in enumerate(evals):
        check_pool(e, loss, f"eval_set[{i}]")
    return pool, evals, side


def _set_eval_metric(model: Any, loss: Any, pool: Any, evals: list) -> Any:
    """Set the model's eval metric (the loss if none was chosen) and no training files unless
    asked for; a per-date metric also scores the training Pool when it can."""
    params = model.get_params()
    if "train_dir" not in params and "allow_writing_files" not in params:
        # CatBoost's default writes its training logs to catboost_info/ in the working directory
        model.set_params(allow_writing_files=False)
    eval_metric = params.get("eval_metric")
    if eval_metric is None:
        eval_metric = make_metric(loss)
        if not evals and "metric_period" not in params:
            # CatBoost needs an eval metric and scores the training set with it every
            # iteration: a full pass of the loss that nobody asked for. Score it at the
            # end only.
            model.set_params(metric_period=int(params.get("iterations") or 1000))
    elif isinstance(eval_metric, PooledMetric):
        try:
            eval_metric.bind(pool)
        except ValueError:
            pass  # the training pool lacks what the metric needs: it scores 0 there
    model.set_params(eval_metric=eval_metric)  # get_params() may have returned a copy
    return eval_metric


@contextlib.contextmanager
def _starting_at(init: float, obj: CatBoostObjective, eval_metric: Any) -> Iterator[None]:
    """Training starts at ``init`` while inside: the compiled objective and metric add it to every
    approx (read from their offset cells), so no Pool baseline is needed.

    A cell belongs to a generated class (one per parameter set) and is shared by every fit
    using it, so a fit holds the lock of its objective class and then the lock of its metric
    (class or pooled instance): fits sharing either run one at a time. Locks are always taken
    objective first, so two fits cannot wait for each other.
    """
    locks = [type(obj)._lock]
    if isinstance(eval_metric, (CatBoostMetric, PooledMetric)):
        locks.append(type(eval_metric)._lock)
    with contextlib.ExitStack() as stack:
        for lock in locks:
            stack.enter_context(lock)
        cells = [type(obj)._cell]
        if isinstance(eval_metric, CatBoostMetric):
            cells.append(type(eval_metric)._cell)
        try:
            for cell in cells:
                cell[0] = init
            type(obj)._cell[1] = 1.0  # the pools were checked: the objective may run
            if isinstance(eval_metric, PooledMetric):
                eval_metric._offset = init
            yield
        finally:
            type(obj)._cell[1] = 0.0
            for cell in cells:
                cell[0] = 0.0
            if isinstance(eval_metric, PooledMetric):
                eval_metric._offset = 0.0


def train(
    params: dict[str, Any] | None,
    pool: Any,
    *,
    objective: Any,
    eval_set: Any = None,
    metric: Any = None,
    early_stopping_rounds: int | None = None,
    **fit_kwargs: Any,
) -> cb.CatBoost:
    """Train a ``catboost.CatBoost`` model on a loss; see :func:`fit`.

    Parameters
    ----------
    params : dict
        CatBoost parameters (``iterations``, ``learning_rate``, ``depth``, ...);
        ``loss_function`` and ``eval_metric`` are set here.
    pool : catboost.Pool
        From :func:`Pool`.
    objective : loss, loss name or CatBoostObjective
        The loss to train.
    eval_set : Pool or list of Pools, optional
        Eval pools from :func:`Pool`.
    metric : loss or metric object, optional
        The eval metric (default: the objective's loss). Early stopping and
        ``use_best_model`` follow it in its own direction.
    early_stopping_rounds : int, optional
        Stop after this many iterations without improvement of the eval metric.
    **fit_kwargs
        Passed to ``CatBoost.fit``.

    Returns
    -------
    catboost.CatBoost
        Truncated to the best iteration when there is an eval set
        (``use_best_model``); its bias holds the starting score.
    """
    _imports.check()
    obj = objective if isinstance(objective, CatBoostObjective) else make_objective(objective)
    params = dict(params or {})
    params["loss_function"] = obj
    if isinstance(metric, (str, BaseLoss)):
        metric = make_metric(metric)
    if metric is not None:
        params["eval_metric"] = metric  # otherwise fit() chooses the loss
    model = cb.CatBoost(params)
    if early_stopping_rounds is not None:
        fit_kwargs["early_stopping_rounds"] = early_stopping_rounds
    return fit(model, pool, eval_set=eval_set, **fit_kwargs)


def predict(model: Any, data: Any, *, std: Any = None, mean: Any = None, **kwargs: Any) -> np.ndarray:
    """Predictions in the units of ``y``: ``mean + std * z_pred``.

    Parameters
    ----------
    model : catboost.CatBoost
        A fitted model (trained with a z-space loss by :func:`fit` or :func:`train`).
    data : catboost.Pool or array-like
        A pool from :func:`Pool` brings its own ``std``/``mean``; for features
        pass them explicitly.
    std, mean : float or array-like of shape (n_samples,), optional
        Without them (and for binary losses) the raw prediction (z or logit) is returned.
    **kwargs
        Passed to ``model.predict`` (``ntree_end=``, ...).

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    _imports.check()
    kwargs.setdefault("prediction_type", "RawFormulaVal")
    raw = np.asarray(model.predict(data, **kwargs), dtype=np.float64).reshape(-1)
    side = _ad.side_of(data) if isinstance(data, cb.Pool) else None
    if side is not None and (std is not None or mean is not None):
        raise ValueError("the Pool brings its own std/mean; do not pass them as well.")
    if side is not None:
        std, mean = side.std, side.mean
    bound = _ad.make_side(raw.shape[0], std=std, mean=mean, where="the predictions have")
    if bound is None:
        return raw
    out = raw if bound.std is None else raw * bound.std
    return out if bound.mean is None else out + bound.mean

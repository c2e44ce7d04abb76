"""Training on a Dask cluster: a loss (:func:`train_loss`, one function per backend) or the backend's
own squared error (:func:`train_builtin`), the partitions placed on the workers in a fixed order,
and the trained model's lazy predictions."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .. import lightgbm as clx
from .. import xgboost as cx
from .._imports import try_import
from ..losses import BaseLoss
from .faults import run_guarded
from .lightgbm_workers import DaskLGBMRegressor, LGBDaskObjective
from .parts import MEAN_COLUMN, STD_COLUMN, check_imports, check_loss, get_client, worker_threads
from .reductions import hessian_scale, init_score
from .xgboost_workers import DaskDMatrix, XGBDaskMetric, XGBDaskObjective

with try_import("dask", min_version="2026.8", extra="dask", module="czar_gbdt.dask") as _imports:
    import dask
    import dask.dataframe as dd
    import distributed
    from dask.dataframe.utils import make_meta

with try_import("xgboost", min_version="3.1", extra="xgboost", module="czar_gbdt.dask") as _xgb_imports:
    import xgboost as xgb
    import xgboost.dask  # noqa: F401 - registers xgb.dask

with try_import("lightgbm", min_version="4.7", below_version="5", module="czar_gbdt.dask") as _lgb_imports:
    import lightgbm as lgb
    import lightgbm.dask  # noqa: F401 - lgb.DaskLGBMRegressor needs dask

__all__ = ["DaskTrainedModel", "DaskXGBRegressor", "train_builtin", "train_loss"]


def _predict_part(part: pd.DataFrame, model: Any, backend: str, columns: list, options: dict) -> pd.Series:
    X = part[columns]
    if len(X) == 0:
        return pd.Series([], dtype=np.float64, index=part.index)
    if backend == "xgboost":
        pred = model.inplace_predict(X.to_numpy(np.float32), **options)  # the columns are in training order
    else:
        pred = model.predict(X, num_threads=worker_threads(), **options)
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

    def __init__(
        self,
        backend: str,
        model: Any,
        rounds: int,
        columns: Sequence,
        *,
        init_score: float | None = None,
        hessian_scale: float | None = None,
        history: dict | None = None,
        **options: Any,
    ):
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

    def predict(self, X: Any) -> dd.Series:
        """Raw predictions (margins: logits for binary losses) of a dask DataFrame, lazily, partition by partition."""
        missing = [c for c in self.columns if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks the feature column(s) {missing} the model was trained on.")
        model = dask.delayed(self.model, pure=True)
        return X.map_partitions(
            _predict_part, model, self.backend, self.columns, self.options, meta=pd.Series([], dtype=np.float64)
        )


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
        futures = [
            client.compute(part, workers=[workers[i % len(workers)]], allow_other_workers=True)
            for i, part in enumerate(c.to_delayed())
        ]
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


def train_loss(
    loss: Any,
    X: Any,
    y: Any,
    *,
    std: Any = None,
    mean: Any = None,
    weight: Any = None,
    valid_X: Any = None,
    valid_y: Any = None,
    valid_std: Any = None,
    valid_dates: Any = None,
    early_stopping_rounds: int = 0,
    backend: str = "xgboost",
    params: dict | None = None,
    num_boost_round: int = 200,
    seed: int = 0,
    client: Any = None,
    grace: float = 10.0,
) -> DaskTrainedModel:
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
    client = get_client(client)
    loss = check_loss(loss, backend)
    if loss.requires_std and std is None:
        raise ValueError(f"std is required by {loss!r}; pass std= partitioned like y.")
    stop = int(early_stopping_rounds or 0) if valid_X is not None else 0
    if stop and backend == "lightgbm":
        raise ValueError(
            "early_stopping_rounds is not supported on Dask LightGBM: its Dask interface has no early "
            "stopping (https://github.com/microsoft/LightGBM/issues/3712); use backend 'xgboost', or "
            "set model.early_stopping_rounds = 0."
        )
    if stop and (valid_y is None or valid_dates is None):
        raise ValueError("early stopping on rank IC needs valid_y and valid_dates with valid_X.")
    side_std = std if loss.requires_std else None
    side_mean = mean if loss.requires_std else None
    X, y, side_std, side_mean, weight, _held = _place(client, X, y, side_std, side_mean, weight)
    init = init_score(loss, y, std=side_std, mean=side_mean, weight=weight, client=client)
    scale = hessian_scale(loss, side_std, weight, client=client)
    rows = _Rows(X, y, side_std, side_mean, weight)
    booster_params = _cluster_params(params, backend, seed)
    if backend == "xgboost":
        valid = (valid_X, valid_y, valid_std if loss.requires_std else None, valid_dates) if stop else None
        return _train_loss_xgboost(client, loss, rows, init, scale, booster_params, num_boost_round, valid, stop, grace)
    return _train_loss_lightgbm(client, loss, rows, init, scale, booster_params, num_boost_round, grace)


class _Rows(NamedTuple):
    """The placed training rows of :func:`train_loss`: features, labels, side data, weights."""

    X: Any
    y: Any
    std: Any
    mean: Any
    weight: Any


def _train_loss_xgboost(
    client: Any,
    loss: BaseLoss,
    rows: _Rows,
    init: float,
    scale: float,
    booster_params: dict,
    num_boost_round: int,
    valid: tuple | None,
    stop: int,
    grace: float,
) -> DaskTrainedModel:
    """:func:`train_loss` on ``xgboost.dask``: side data in the DMatrix, early stopping on the validation rank IC."""
    columns = list(rows.X.columns)
    obj = XGBDaskObjective(
        loss, init_score=init, hessian_scale=scale, has_std=rows.std is not None, has_mean=rows.mean is not None
    )
    booster_params.update(objective=obj.xgb_objective, base_score=obj.base_score, disable_default_eval_metric=1)

    def call() -> dict:
        dtrain = DaskDMatrix(client, rows.X, rows.y, std=rows.std, mean=rows.mean, weight=rows.weight)
        kwargs: dict[str, Any] = {}
        if valid is not None:
            valid_X, valid_y, valid_std, valid_dates = valid
            dvalid = DaskDMatrix(client, valid_X[columns], valid_y, std=valid_std, dates=valid_dates, ref=dtrain)
            metric = XGBDaskMetric("rank_ic")
            kwargs = dict(
                evals=[(dvalid, "valid")],
                custom_metric=metric,
                verbose_eval=False,
                callbacks=[
                    xgb.callback.EarlyStopping(
                        rounds=stop,
                        metric_name=metric.name,
                        data_name="valid",
                        maximize=metric.maximize,
                        save_best=True,
                    )
                ],
            )
        return xgb.dask.train(client, booster_params, dtrain, num_boost_round, obj=obj, **kwargs)

    out = run_guarded(client, call, what=f"training {loss!r} on xgboost", grace=grace)
    booster = out["booster"]
    return DaskTrainedModel(
        "xgboost",
        booster,
        booster.num_boosted_rounds(),
        columns,
        init_score=init,
        hessian_scale=scale,
        history=out.get("history"),
        predict_type="margin",
    )


def _train_loss_lightgbm(
    client: Any,
    loss: BaseLoss,
    rows: _Rows,
    init: float,
    scale: float,
    booster_params: dict,
    num_boost_round: int,
    grace: float,
) -> DaskTrainedModel:
    """:func:`train_loss` on LightGBM's Dask interface: side data as extra columns of the feature frame."""
    columns = list(rows.X.columns)
    obj = LGBDaskObjective(loss, init_score=init, hessian_scale=scale)
    features = rows.X
    if rows.std is not None:
        features = features.assign(**{STD_COLUMN: rows.std})
    if rows.mean is not None:
        features = features.assign(**{MEAN_COLUMN: rows.mean})
    features, _held_features = _place(client, features)  # the columns added above, placed like the rest
    model = DaskLGBMRegressor(
        client=_RankedClient(client), objective=obj, n_estimators=num_boost_round, **booster_params
    )
    _quiet_lightgbm_workers(client)
    run_guarded(
        client,
        lambda: _quiet(model.fit, features, rows.y, sample_weight=rows.weight),
        what=f"training {loss!r} on lightgbm",
        grace=grace,
    )
    return DaskTrainedModel(
        "lightgbm", model.booster_, num_boost_round, columns, init_score=init, hessian_scale=scale, raw_score=True
    )


def train_builtin(
    X: Any,
    y: Any,
    *,
    weight: Any = None,
    backend: str = "xgboost",
    params: dict | None = None,
    num_boost_round: int = 200,
    seed: int = 0,
    client: Any = None,
    grace: float = 10.0,
) -> DaskTrainedModel:
    """Train the backend's own squared error on a Dask cluster (the baseline every loss must beat).

    Parameters as :func:`train_loss` (no loss, no side data, no early stopping).
    """
    check_imports(backend)
    client = get_client(client)
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
    model = lgb.DaskLGBMRegressor(
        client=_RankedClient(client), objective="regression", n_estimators=num_boost_round, **booster_params
    )
    _quiet_lightgbm_workers(client)
    run_guarded(
        client,
        lambda: _quiet(model.fit, X, y, sample_weight=weight),
        what="training the built-in squared error on lightgbm",
        grace=grace,
    )
    return DaskTrainedModel("lightgbm", model.booster_, num_boost_round, columns)


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
            raise ValueError(
                f"DaskXGBRegressor.fit with a czar_gbdt loss takes X, y, std, mean and sample_weight "
                f"(got {sorted(kwargs) or 'early_stopping_rounds'}); for early stopping on the validation "
                "rank IC use czar_gbdt.dask.train_loss."
            )
        params = {k: v for k, v in self.get_xgb_params().items() if k != "objective" and v is not None}
        trained = train_loss(
            loss,
            X,
            y,
            std=std,
            mean=mean,
            weight=sample_weight,
            backend="xgboost",
            params=params,
            num_boost_round=self.get_num_boosting_rounds(),
            seed=self.random_state or 0,
            client=self.client,
        )
        self._Booster = trained.model
        self.init_score_ = trained.init_score
        return self

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

Modules: ``parts`` (imports, client, partitions), ``reductions`` (starting score, hessian
scale, rank IC), ``xgboost_workers`` and ``lightgbm_workers`` (each backend's objects on the
workers), ``faults`` (:func:`run_guarded`), ``training`` (:func:`train_loss`, :func:`train_builtin`).
"""

from __future__ import annotations

from .faults import WorkerLostError, run_guarded, worker_addresses
from .lightgbm_workers import DaskLGBMRegressor, LGBDaskObjective
from .parts import BACKENDS, MEAN_COLUMN, STD_COLUMN, check_imports, check_loss
from .reductions import hessian_scale, ic, init_score, rank_ic
from .training import DaskTrainedModel, DaskXGBRegressor, train_builtin, train_loss
from .xgboost_workers import DaskDMatrix, XGBDaskMetric, XGBDaskObjective

__all__ = [
    "BACKENDS",
    "STD_COLUMN",
    "MEAN_COLUMN",
    "WorkerLostError",
    "init_score",
    "hessian_scale",
    "rank_ic",
    "ic",
    "XGBDaskObjective",
    "XGBDaskMetric",
    "LGBDaskObjective",
    "DaskLGBMRegressor",
    "DaskXGBRegressor",
    "DaskDMatrix",
    "DaskTrainedModel",
    "train_loss",
    "train_builtin",
    "run_guarded",
    "worker_addresses",
    "check_loss",
    "check_imports",
]

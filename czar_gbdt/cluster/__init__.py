"""The walk-forward evaluation on a Dask cluster: what ``[cluster] engine = "dask"`` runs.

With ``engine = "dask"``, ``czar-gbdt evaluate``, ``compare`` and ``tune`` read the long
panel of ``data.source`` lazily from Parquet and train every walk-forward fold on a Dask
cluster; nothing but one number per date, and each test window's target, dates and
assets, comes back to this process. The pieces:

* :func:`client_for`: the config's cluster, one client per process: the scheduler of
  ``cluster.scheduler``, or a ``LocalCluster`` of ``n_workers`` worker processes with
  ``threads_per_worker`` threads and ``memory_limit`` each.
* :func:`load_data`: a :class:`LazyPanel`. The data rules are those of the in-memory
  path, the same functions of :mod:`czar_gbdt.datasets` (columns and side columns, dates,
  numeric features, target and side values), run on each partition with the position of
  its first row, so that a data error is the same :class:`~czar_gbdt.datasets.DataError`
  (one line, exit 2) with the same message as in memory. One pass checks the partitions
  and groups the rows by date; the frame is indexed by date and repartitioned at date
  boundaries, so that every date lies inside one partition (per-date labels, rank IC and
  early stopping are then exact partition by partition); a second pass checks that each
  (date, asset) appears once.
* :func:`walk_forward`: the folds cut by date positions
  (:meth:`~czar_gbdt.model_selection.WalkForward.fold_positions`). Each fold's training
  window is labelled per date on the workers and trained by :mod:`czar_gbdt.dask`; the
  test window is predicted on the workers, and its target, dates, assets and side
  columns (no features) are collected and scored by the in-memory functions
  (:func:`czar_gbdt.evaluation.score_folds`): every figure equals the in-memory one on the
  same predictions. A worker lost during training raises
  :class:`czar_gbdt.dask.WorkerLostError` (the tuner retries the trial).
* :func:`run_walk_forward`, :func:`evaluate_losses`: the configuration glue of
  :mod:`czar_gbdt.evaluation`, with the two functions above.
* :func:`engine`: this module or :mod:`czar_gbdt.evaluation`, by ``cluster.engine``: the
  commands call the functions above through it, so that ``report``'s holdout bake-off,
  ``compare``, ``evaluate`` and the tuner's trials run on the cluster without code of
  their own for it.


The package, one concern per module (bottom first): ``clients`` (the Dask client),
``panel`` (:class:`LazyPanel`, :class:`Window`), ``checks`` (the data rules on each partition),
``reading`` (the panel read, checked and cut at date boundaries), ``data`` (load, prepare and
describe the config's data), ``training`` (the folds and one model on the cluster), ``runs`` (the
configuration glue); this module holds :func:`engine` and re-exports the public names.
"""

from __future__ import annotations

import sys
from types import ModuleType

from .. import evaluation
from ..config import Config, as_config
from .clients import client_for, close_clients
from .data import describe_data, load_data, prepare_data
from .panel import LazyPanel, Window, partition_rows
from .runs import evaluate_losses, run_walk_forward
from .training import check_models, fit_panel, walk_forward

__all__ = [
    "engine",
    "worker_lost",
    "LazyPanel",
    "Window",
    "client_for",
    "close_clients",
    "load_data",
    "prepare_data",
    "describe_data",
    "walk_forward",
    "run_walk_forward",
    "evaluate_losses",
    "check_models",
    "partition_rows",
    "fit_panel",
]


def engine(cfg: Config | dict) -> ModuleType:
    """The module that loads ``cfg``'s data and runs its folds: :mod:`czar_gbdt.evaluation` (this
    process) or, with ``cluster.engine = "dask"``, this package (a Dask cluster).

    Both have ``load_data``, ``prepare_data``, ``describe_data``, ``walk_forward``,
    ``run_walk_forward`` and ``evaluate_losses`` with the same signatures; ``tune``,
    ``compare``, ``report`` and ``evaluate`` call them through this function.
    """
    return sys.modules[__name__] if as_config(cfg).cluster.engine == "dask" else evaluation


def worker_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is a Dask worker lost during a training call (:class:`czar_gbdt.dask.WorkerLostError`):
    the tuner fails such a trial and retries it."""
    dask_module = sys.modules.get("czar_gbdt.dask")  # not imported: no Dask training ran, so no lost worker
    return dask_module is not None and isinstance(exc, dask_module.WorkerLostError)

"""The one shared core of the xgboost, lightgbm and catboost adapters.

An adapter translates a backend's call protocol into calls of a loss (or of a metric
from :mod:`czar_gbdt.metrics`). Everything that does not depend on the backend lives
in this private package, and each backend module (:mod:`czar_gbdt.xgboost`,
:mod:`czar_gbdt.lightgbm`, :mod:`czar_gbdt.catboost`) keeps only what truly differs:

* :mod:`.side`: :class:`SideData` (the per-row ``std``, ``mean`` and ``dates`` of one
  dataset) and the registry that attaches it to a backend's dataset object.
* :mod:`.core`: :class:`ObjectiveCore` and :class:`MetricCore` (a loss or metric applied
  to one dataset, cached across rounds) and :func:`constant_minimiser` (the starting score).
* :mod:`.wrappers`: :class:`Backend` (the small description of one backend) and the bases
  :class:`Objective`, :class:`Metric` and :class:`RoundCallback` of the backend classes.
* :mod:`.training`: :class:`Training` and :class:`TrainedModel`, the shared part of the
  modules' ``train_builtin``, ``train_ranking`` and ``train_loss``.
* :mod:`.cache`: :data:`DATASETS`, the binned datasets of ``train_loss`` reused across
  trials, keyed by the fold's arrays (:class:`ContentKey`).
* :mod:`.docs`: :func:`fill_doc`, the parameter text the modules' docstrings share.

The backends' own behaviour (weights, starting scores, metric directions) is described
in docs/backends.md.
"""

from .cache import CACHE_ENV, DATASETS, DEFAULT_CACHE_MB, ContentKey, DatasetCache, Lent
from .core import INIT_EXACT_ROWS, MetricCore, ObjectiveCore, TrainState, as_loss, constant_minimiser, sigmoid
from .docs import DOCS, fill_doc
from .side import SideData, as_labels, attach, make_side, require_label, side_of
from .training import (
    EvalRows,
    TrainedModel,
    Training,
    features,
    query_ids,
    ranking_objective,
    stopping_rounds,
)
from .wrappers import (
    Backend,
    Metric,
    Objective,
    RoundCallback,
    Wrapper,
    as_metrics,
    metrics_and_callbacks,
    model_objective,
)

__all__ = [
    "SideData",
    "make_side",
    "attach",
    "side_of",
    "as_labels",
    "require_label",
    "as_loss",
    "INIT_EXACT_ROWS",
    "constant_minimiser",
    "sigmoid",
    "TrainState",
    "ObjectiveCore",
    "MetricCore",
    "Backend",
    "RoundCallback",
    "Wrapper",
    "Objective",
    "Metric",
    "as_metrics",
    "metrics_and_callbacks",
    "model_objective",
    "Training",
    "TrainedModel",
    "EvalRows",
    "stopping_rounds",
    "query_ids",
    "ranking_objective",
    "features",
    "DatasetCache",
    "DATASETS",
    "Lent",
    "ContentKey",
    "CACHE_ENV",
    "DEFAULT_CACHE_MB",
    "DOCS",
    "fill_doc",
]

"""What the shared objective and metric need to know about LightGBM: the version gate, how a
Dataset gives its rows, labels and weights, and the callback that tells a scheduled loss the round."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _adapters as _ad
from .._imports import try_import

#: The supported LightGBM versions: ``MIN_VERSION <= version < BELOW_VERSION``.
MIN_VERSION, BELOW_VERSION = "4.7", "5"

with try_import("lightgbm", min_version=MIN_VERSION, below_version=BELOW_VERSION) as _imports:
    import lightgbm as lgb

__all__ = ["MIN_VERSION", "BELOW_VERSION", "DOC", "BACKEND", "constructed"]

#: The words of the parameter text the backend docstrings share (:func:`czar_gbdt._adapters.fill_doc`).
DOC = {
    "package": "lightgbm",
    "dataset": "Dataset",
    "argument": "dataset",
    "name": "LightGBM",
    "objective_class": "LGBObjective",
    "metric_class": "LGBMetric",
    "threads": "None",
    "hessian_params": "``min_sum_hessian_in_leaf`` and ``lambda_l2``",
    "start": "LightGBM starts custom objectives at 0",
}


class _RoundCallback(_ad.RoundCallback):
    """Sets the boosting round of one objective before every iteration (see LGBObjective.callback).

    The round is ``env.iteration``, which counts the rounds of an ``init_model``.
    LightGBM has no end-of-training hook: a round left behind by a finished training is
    recognised as stale by the objective (the model has grown since).
    """

    order = 0
    before_iteration = True

    def __call__(self, env: Any) -> None:
        self.core.set_round(env.model, env.iteration, _model_size)


def _model_size(model: Any) -> int:
    # CVBooster returns one size per fold: the smallest stays at the round's size until
    # the last fold has been updated
    size = model.current_iteration()
    return min(size) if isinstance(size, list) else size


class _LightGBM(_ad.Backend):
    """What the shared objective and metric need to know about LightGBM."""

    name, dataset, argument, alias = "lightgbm", "Dataset", "dataset", "lgb"
    callback_type, sklearn_fit = _RoundCallback, "model.fit"
    metric_threads = None
    native_advice = (
        "set the training and validation Datasets' init_score to {init!r} "
        "(objective.init_score(train_set)) or use czar_gbdt.lightgbm.train()"
    )
    sklearn_advice = (
        "pass init_score=np.full(len(y), {init!r}) (objective.init_score(y_train)) and "
        "eval_init_score to fit(), or use czar_gbdt.lightgbm.fit()"
    )

    def rows(self, dataset: lgb.Dataset) -> int:
        if dataset.label is not None:
            return int(np.shape(dataset.label)[0])
        if constructed(dataset):  # label freed from Python
            return int(dataset.num_data())
        raise ValueError("the Dataset has no labels (label=None): build it with labels.")

    def labels_weights(self, dataset: lgb.Dataset) -> tuple[np.ndarray, np.ndarray | None]:
        if constructed(dataset):
            label, weight = dataset.get_label(), dataset.get_weight()
        else:  # not constructed yet: the raw inputs
            label, weight = dataset.label, dataset.weight
        if label is None or np.size(label) == 0:
            raise ValueError("the Dataset has no labels (label=None): build it with labels.")
        label = np.asarray(label, dtype=np.float64).reshape(-1)
        weight = None if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)
        return label, weight


def constructed(dataset: lgb.Dataset) -> bool:
    """Whether LightGBM has built the Dataset (it then holds the labels; Python may have freed its copy)."""
    try:
        dataset.num_data()  # raises before the Dataset is constructed
    except lgb.basic.LightGBMError:
        return False
    return True


#: The LightGBM backend of the shared objective and metric (:class:`czar_gbdt._adapters.Backend`).
BACKEND = _LightGBM(_imports, lgb.Dataset if _imports.is_successful() else None)

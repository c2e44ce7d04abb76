"""The walk-forward evaluation's training: :func:`train_builtin` (LightGBM's squared error),
:func:`train_ranking` (``lambdarank``/``rank_xendcg``) and :func:`train_loss`, from :data:`DEFAULTS`,
with the binned Datasets of each fold kept in the dataset cache."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _adapters as _ad
from .._imports import try_import
from ..ranking import RANK_OBJECTIVES
from .backend import BACKEND, BELOW_VERSION, MIN_VERSION
from .datasets import INIT_KEY, Dataset, attach
from .fitting import train

with try_import("lightgbm", min_version=MIN_VERSION, below_version=BELOW_VERSION) as _imports:
    import lightgbm as lgb

__all__ = [
    "DEFAULTS",
    "RANKING_OBJECTIVES",
    "TRAINING_ONLY_PARAMS",
    "TrainedModel",
    "train_builtin",
    "train_ranking",
    "train_loss",
]

#: Seeded, deterministic, quiet booster parameters of :func:`train_builtin`, :func:`train_ranking`
#: and :func:`train_loss` (their ``params`` override them). ``feature_pre_filter`` off keeps the
#: binned Dataset independent of ``min_data_in_leaf`` (tuned by most studies), so that
#: :func:`train_loss` reuses it across trials (as optuna's LightGBM tuner does).
DEFAULTS = {"verbose": -1, "deterministic": True, "force_col_wise": True, "num_threads": 2, "feature_pre_filter": False}

#: LightGBM's learning-to-rank objectives; the first is the default of :func:`train_ranking`.
RANKING_OBJECTIVES = RANK_OBJECTIVES["lightgbm"]

#: Booster parameters (and aliases) that do not change a constructed Dataset: left out of the
#: key of the dataset cache. Any other parameter (``max_bin``, ``min_data_in_bin``, ``seed``, an
#: unknown one, ...) is part of it; ``min_data_in_leaf`` and its aliases too when
#: ``feature_pre_filter`` is on.
TRAINING_ONLY_PARAMS = frozenset(
    {
        "learning_rate",
        "shrinkage_rate",
        "eta",
        "num_leaves",
        "num_leaf",
        "max_leaves",
        "max_leaf",
        "max_leaf_nodes",
        "max_depth",
        "min_sum_hessian_in_leaf",
        "min_sum_hessian_per_leaf",
        "min_sum_hessian",
        "min_hessian",
        "min_child_weight",
        "bagging_fraction",
        "sub_row",
        "subsample",
        "bagging",
        "bagging_freq",
        "subsample_freq",
        "bagging_seed",
        "bagging_fraction_seed",
        "pos_bagging_fraction",
        "neg_bagging_fraction",
        "feature_fraction",
        "sub_feature",
        "colsample_bytree",
        "feature_fraction_bynode",
        "sub_feature_bynode",
        "colsample_bynode",
        "feature_fraction_seed",
        "extra_trees",
        "extra_tree",
        "extra_seed",
        "lambda_l1",
        "reg_alpha",
        "l1_regularization",
        "lambda_l2",
        "reg_lambda",
        "lambda",
        "l2_regularization",
        "min_gain_to_split",
        "min_split_gain",
        "max_delta_step",
        "max_tree_output",
        "max_leaf_output",
        "path_smooth",
        "num_threads",
        "num_thread",
        "nthread",
        "nthreads",
        "n_jobs",
        "verbose",
        "verbosity",
        "deterministic",
        "force_col_wise",
        "force_row_wise",
        "histogram_pool_size",
        "metric",
        "metrics",
        "metric_types",
        "first_metric_only",
        "early_stopping_round",
        "early_stopping_rounds",
        "early_stopping",
        "n_iter_no_change",
        "num_iterations",
        "num_iteration",
        "n_iter",
        "num_tree",
        "num_trees",
        "num_round",
        "num_rounds",
        "nrounds",
        "num_boost_round",
        "n_estimators",
        "max_iter",
    }
)
_MIN_DATA_IN_LEAF = frozenset(
    {"min_data_in_leaf", "min_data_per_leaf", "min_data", "min_child_samples", "min_samples_leaf"}
)


def _dataset_key(kind: str, X: np.ndarray, weight: Any, params: dict) -> tuple:
    """The dataset cache's key of a Dataset of ``X`` (and ``weight``) trained with ``params``."""
    skip = TRAINING_ONLY_PARAMS if params.get("feature_pre_filter", True) else TRAINING_ONLY_PARAMS | _MIN_DATA_IN_LEAF
    dataset_params = tuple(sorted((k, repr(v)) for k, v in params.items() if k not in skip))
    return ("lightgbm", kind, _ad.ContentKey(X, weight), dataset_params)


def _reset(dataset: lgb.Dataset, y: Any, *, weight: Any = None, std: Any = None, dates: Any = None) -> None:
    """Give a cached Dataset this training's labels and side data; the init score that an
    earlier :func:`train` left on it stays :func:`train`'s to overwrite.

    LightGBM keeps float32 copies of the labels and weights once a Dataset is built; the
    objective reads the float64 arrays again, as it reads the raw inputs of a new Dataset
    (the weights are part of the cache key: they are those the Dataset was built with).
    """
    dataset.set_label(y)
    dataset.label = np.asarray(y, dtype=np.float64)
    if weight is not None:
        dataset.weight = np.asarray(weight, dtype=np.float64)
    attach(dataset, std=std, dates=dates)
    side = _ad.side_of(dataset)
    if side is None:
        side = _ad.SideData(BACKEND.rows(dataset), None, None, None)
        _ad.attach(dataset, side)
    side.extra[INIT_KEY] = None


class TrainedModel(_ad.TrainedModel):
    """A ``lightgbm.Booster`` (``model``) and the ``rounds`` its predictions use."""

    def predict(self, X: Any, std: Any = None) -> np.ndarray:
        """Predictions on ``X`` (a loss's raw scores, with its starting score); ``std`` is not used."""
        return self.model.predict(_ad.features(X), **self.options)


class _Training(_ad.Training):
    """LightGBM's part of the evaluation's training (see :class:`czar_gbdt._adapters.Training`)."""

    imports, name, defaults, ranking_objectives = _imports, "lightgbm", DEFAULTS, RANKING_OBJECTIVES
    builtin_objective = "regression"

    def defaults_for(self, params: dict | None) -> dict:
        # LightGBM refuses force_col_wise and force_row_wise together: the caller's row-wise wins
        if params and params.get("force_row_wise") not in (None, False, 0, "false"):
            return {k: v for k, v in self.defaults.items() if k != "force_col_wise"}
        return self.defaults

    def ranking_params(self, group_sizes: np.ndarray, n_grades: int) -> dict:
        # the listwise objectives score the whole date, with a linear gain per grade
        return {
            "lambdarank_truncation_level": int(group_sizes.max()),
            "label_gain": [float(g) for g in range(n_grades)],
        }

    def fit(self, params, X, labels, *, weight, group_sizes, num_boost_round) -> TrainedModel:
        model = lgb.train(params, lgb.Dataset(X, labels, weight=weight, group=group_sizes), num_boost_round)
        return TrainedModel(model, num_boost_round)

    def fit_loss(self, loss, params, X, y, *, std, weight, valid, stop, num_boost_round) -> TrainedModel:
        # the binned Datasets come from the dataset cache: built once per fold and process
        key = _dataset_key("train", X, weight, params)
        size = X.nbytes + X.size + 24 * X.shape[0]  # raw features kept, a byte per bin, label/weight/init
        with _ad.DATASETS.lend(key, lambda: Dataset(X, y, std=std, weight=weight, free_raw_data=False), size) as lent:
            train_set = lent.dataset
            if lent.reused:
                _reset(train_set, y, weight=weight, std=std)
            stopping = {}
            if valid is None:
                return self._fit(loss, params, train_set, num_boost_round, stopping)
            vkey = (key, "valid", _ad.ContentKey(valid.X)) if lent.cached else ("private", id(train_set))
            vsize = valid.X.nbytes + valid.X.size + 24 * valid.X.shape[0]
            with _ad.DATASETS.lend(
                vkey,
                lambda: Dataset(
                    valid.X, valid.y, std=valid.std, dates=valid.dates, reference=train_set, free_raw_data=False
                ),
                vsize if lent.cached else 0,
            ) as vlent:
                if vlent.reused:
                    _reset(vlent.dataset, valid.y, std=valid.std, dates=valid.dates)
                stopping = {
                    "valid_sets": [vlent.dataset],
                    "valid_names": ["valid"],
                    "metric": "rank_ic",
                    "early_stopping_rounds": stop,
                }
                return self._fit(loss, params, train_set, num_boost_round, stopping)

    def _fit(self, loss, params, train_set, num_boost_round, stopping) -> TrainedModel:
        model = train(params, train_set, num_boost_round, objective=loss, **stopping)
        best = model.best_iteration or model.current_iteration()
        return TrainedModel(model, best, num_iteration=best)


_TRAINING = _Training()
train_builtin = _TRAINING.train_builtin
train_ranking = _TRAINING.train_ranking
train_loss = _TRAINING.train_loss

"""CatBoost's part of the walk-forward evaluation: :func:`train_builtin`, :func:`train_ranking`
and :func:`train_loss` from :data:`DEFAULTS`, as in the xgboost and lightgbm modules.

:func:`train_loss` takes its Pools from the process's dataset cache
(:data:`czar_gbdt._adapters.DATASETS`): the training Pool of a fold is built and quantized
once, with the booster parameters that decide the quantization
(:data:`QUANTIZATION_PARAMS`), and reused by every trial whose parameters quantize alike;
the validation Pool too. CatBoost has no ``set_label`` on a Pool, so the labels (and
``std`` and weights) are part of the key instead of being reset: a fold's labels are the
same in every trial of a study. The starting score is never on the Pool (the compiled
objective reads it), so a reused Pool carries nothing of an earlier training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _adapters as _ad
from .._imports import try_import
from ..ranking import RANK_OBJECTIVES
from .compiled import metric
from .fitting import predict, train
from .pools import MIN_VERSION, Pool

with try_import("catboost", min_version=MIN_VERSION, extra="catboost") as _imports:
    import catboost as cb

__all__ = [
    "DEFAULTS",
    "RANKING_OBJECTIVES",
    "TrainedModel",
    "train_builtin",
    "train_ranking",
    "train_loss",
    "QUANTIZATION_PARAMS",
    "quantization",
]


#: Seeded, deterministic, quiet parameters of :func:`train_builtin`, :func:`train_ranking`
#: and :func:`train_loss` (their ``params`` override them).
DEFAULTS = {"verbose": False, "allow_writing_files": False, "thread_count": 2}

#: CatBoost's learning-to-rank objectives; the first is the default of :func:`train_ranking`.
RANKING_OBJECTIVES = RANK_OBJECTIVES["catboost"]


#: CatBoost parameters (and aliases) that decide how a Pool's features are quantized, each with
#: the name ``catboost.Pool.quantize`` takes it by: a cached Pool is quantized with them and
#: keyed by them. Any other parameter (depth, learning rate, l2_leaf_reg, ...) leaves the
#: quantized Pool as it is.
QUANTIZATION_PARAMS = {
    "border_count": "border_count",
    "max_bin": "border_count",
    "feature_border_type": "feature_border_type",
    "per_float_feature_quantization": "per_float_feature_quantization",
    "nan_mode": "nan_mode",
    "input_borders": "input_borders",
    "ignored_features": "ignored_features",
    "sparse_features_conflict_fraction": "sparse_features_conflict_fraction",
    "task_type": "task_type",
    "used_ram_limit": "used_ram_limit",
    "random_seed": "random_seed",
    "random_state": "random_seed",
    "dev_efb_max_buckets": "dev_efb_max_buckets",
    "dev_max_subset_size_for_build_borders": "dev_max_subset_size_for_build_borders",
}


def quantization(params: dict) -> dict:
    """The keyword arguments of ``catboost.Pool.quantize`` that training with ``params`` implies."""
    return {QUANTIZATION_PARAMS[k]: v for k, v in params.items() if k in QUANTIZATION_PARAMS}


def _content_key(*arrays: Any) -> _ad.ContentKey | None:
    """A :class:`czar_gbdt._adapters.ContentKey` of the arrays, or None when they are not arrays
    of values (then the Pool is built for its training alone)."""
    try:
        return _ad.ContentKey(*arrays)
    except (TypeError, ValueError):
        return None


def _quantized_pool(X: np.ndarray, y: Any, std: Any, weight: Any, quantize: dict) -> cb.Pool:
    """The z-space training Pool of a fold, quantized as training with ``quantize`` would."""
    pool = Pool(X, y, std=std, weight=weight)
    pool.quantize(**quantize)
    return pool


class TrainedModel(_ad.TrainedModel):
    """A ``catboost.CatBoost`` model (``model``) and its ``rounds``.

    A loss trained on z-space labels (:func:`train_loss` with ``std``) predicts ``z``:
    ``predict(X, std)`` maps it back to the units of ``y`` with the rows' own ``std``.
    The other models ignore ``std``.
    """

    def predict(self, X: Any, std: Any = None) -> np.ndarray:
        """Predictions on ``X``: ``std * z`` for a z-space loss, else raw scores (logits, ranking scores)."""
        z_space = self.options.get("z_space")
        if z_space is None:  # a built-in objective
            return self.model.predict(_ad.features(X))
        return predict(self.model, _ad.features(X), std=std if z_space else None)


class _Training(_ad.Training):
    """CatBoost's part of the evaluation's training (see :class:`czar_gbdt._adapters.Training`)."""

    imports, name, defaults, ranking_objectives = _imports, "catboost", DEFAULTS, RANKING_OBJECTIVES
    builtin_objective, objective_key, seed_key, rounds_key = "RMSE", "loss_function", "random_seed", "iterations"

    def fit(self, params, X, labels, *, weight, group_sizes, num_boost_round) -> TrainedModel:
        if group_sizes is None:
            model = cb.CatBoostRegressor(**params).fit(X, labels, sample_weight=weight)
        else:
            model = cb.CatBoost(params).fit(cb.Pool(X, labels, group_id=_ad.query_ids(group_sizes)))
        return TrainedModel(model, num_boost_round)

    def fit_loss(self, loss, params, X, y, *, std, weight, valid, stop, num_boost_round) -> TrainedModel:
        # the Pools come from the dataset cache: the training Pool quantized once per fold and process
        quantize = quantization(params)
        content = _content_key(X, weight, y, std)
        key = ("catboost", "train", content, tuple(sorted((k, repr(v)) for k, v in quantize.items())))
        bins = 2 if int(quantize.get("border_count") or 254) > 255 else 1
        # one bin per value, and per row the labels, weights and side data (measured: 28 MiB for a
        # quantized Pool of 200,000 rows x 50 features, 42 MiB for the raw validation Pool of that size)
        size = bins * X.size + 100 * X.shape[0]
        with _ad.DATASETS.lend(
            key, lambda: _quantized_pool(X, y, std, weight, quantize), size if content is not None else 0
        ) as lent:
            if valid is None:
                return self._fit(loss, params, lent.dataset, {}, stop, std)
            vcontent = _content_key(valid.X, valid.y, valid.std, valid.dates)
            cached = lent.cached and vcontent is not None
            vkey = (key, "valid", vcontent) if cached else ("private", id(lent.dataset))
            vsize = 4 * valid.X.size + 48 * valid.X.shape[0]  # float32 features, labels and side data
            with _ad.DATASETS.lend(
                vkey, lambda: Pool(valid.X, valid.y, std=valid.std, dates=valid.dates), vsize if cached else 0
            ) as vlent:
                vpool = vlent.dataset
                fit_kwargs = {"eval_set": vpool, "metric": metric("rank_ic", pool=vpool), "early_stopping_rounds": stop}
                return self._fit(loss, params, lent.dataset, fit_kwargs, stop, std)

    def _fit(self, loss, params, pool, fit_kwargs, stop, std) -> TrainedModel:
        model = train(params, pool, objective=loss, **fit_kwargs)
        best = model.get_best_iteration() if stop else model.tree_count_
        return TrainedModel(model, int(best or model.tree_count_), z_space=std is not None)


_TRAINING = _Training()
train_builtin = _TRAINING.train_builtin
train_ranking = _TRAINING.train_ranking
train_loss = _TRAINING.train_loss

"""CatBoost's part of the walk-forward evaluation: :func:`train_builtin`, :func:`train_ranking`
and :func:`train_loss` from :data:`DEFAULTS`, as in the xgboost and lightgbm modules."""

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

__all__ = ["DEFAULTS", "RANKING_OBJECTIVES", "TrainedModel", "train_builtin", "train_ranking", "train_loss"]


#: Seeded, deterministic, quiet parameters of :func:`train_builtin`, :func:`train_ranking`
#: and :func:`train_loss` (their ``params`` override them).
DEFAULTS = {"verbose": False, "allow_writing_files": False, "thread_count": 2}

#: CatBoost's learning-to-rank objectives; the first is the default of :func:`train_ranking`.
RANKING_OBJECTIVES = RANK_OBJECTIVES["catboost"]


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
        pool, fit_kwargs = Pool(X, y, std=std, weight=weight), {}
        if valid is not None:
            vpool = Pool(valid.X, valid.y, std=valid.std, dates=valid.dates)
            fit_kwargs = {"eval_set": vpool, "metric": metric("rank_ic", pool=vpool), "early_stopping_rounds": stop}
        model = train(params, pool, objective=loss, **fit_kwargs)
        best = model.get_best_iteration() if stop else model.tree_count_
        return TrainedModel(model, int(best or model.tree_count_), z_space=std is not None)


_TRAINING = _Training()
train_builtin = _TRAINING.train_builtin
train_ranking = _TRAINING.train_ranking
train_loss = _TRAINING.train_loss

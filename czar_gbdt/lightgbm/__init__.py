"""LightGBM adapter: every czar_gbdt loss as an objective and an eval metric.

Native API::

    import lightgbm as lgb, czar_gbdt as cg
    from czar_gbdt import lightgbm as clx

    loss = cg.get_loss("czar", alpha=1.0)
    train_set = clx.Dataset(X_train, y_train, std=std_train)           # std travels with the data
    valid_set = clx.Dataset(X_valid, y_valid, std=std_valid, dates=dates_valid, reference=train_set)
    booster = clx.train({"num_leaves": 31, "learning_rate": 0.05}, train_set, 300, objective=loss,
                        valid_sets=[valid_set], metric=[loss, "rank_ic"], early_stopping_rounds=30)
    booster.predict(X_test)          # includes the starting score

:func:`train` sets ``init_score`` on the training and validation sets (LightGBM
starts a custom objective from 0 and ignores ``boost_from_average``) and, after
training, adds the starting score to every leaf of the first tree, so that
``Booster.predict`` (and a saved model) include it.

scikit-learn API (labels arrive without their Dataset: side data is bound by position)::

    obj = clx.objective(loss, std=std_train)
    met = clx.metric(loss, std=std_valid)                              # the eval set's own std
    model = lgb.LGBMRegressor(objective=obj, metric="None", n_estimators=300)
    clx.fit(model, X_train, y_train, eval_X=X_valid, eval_y=y_valid, eval_metric=met,
            callbacks=[clx.early_stopping(30)])
    model.predict(X_test)            # includes the starting score

:func:`fit` passes ``init_score``/``eval_init_score`` and bakes the starting score
into the model; with a bare ``model.fit`` do the same by hand (see :func:`fit`).
Binary losses use ``LGBMClassifier``; with a custom objective LightGBM returns raw
margins from ``predict``/``predict_proba`` (apply a sigmoid for probabilities).

A :class:`czar_gbdt.ScheduledLoss` (two losses mixed by boosting round) needs the
round, which LightGBM does not pass to objectives: :func:`train` and :func:`fit` add
the objective's :meth:`LGBObjective.callback`; with ``lgb.train``, ``lgb.cv`` or a bare
``model.fit`` pass ``callbacks=[obj.callback()]``.

The walk-forward evaluation trains through :func:`train_builtin` (LightGBM's squared
error), :func:`train_ranking` (``lambdarank``/``rank_xendcg``) and :func:`train_loss`,
starting from :data:`DEFAULTS`; the xgboost and catboost modules have the same functions.
The ranking objectives get ``lambdarank_truncation_level`` = the largest date and a
linear ``label_gain``, so that they score the whole cross-section rather than its top.

.. note::
   LightGBM's scikit-learn wrapper chooses between ``f(y, p)``, ``f(y, p, weight)``
   and ``f(y, p, weight, group)`` by counting parameters: the objects here take
   exactly ``(y_true, y_pred, weight)`` so weights are never dropped. Set
   ``metric="None"`` or LightGBM puts ``l2`` ahead of the custom metric and early
   stopping with ``first_metric_only`` watches it. See docs/backends.md.
"""

from __future__ import annotations

from .datasets import Dataset, attach
from .fitting import bake_init_score, fit, train
from .objects import LGBMetric, LGBObjective, early_stopping, metric, objective
from .training import (
    DEFAULTS,
    RANKING_OBJECTIVES,
    TRAINING_ONLY_PARAMS,
    TrainedModel,
    train_builtin,
    train_loss,
    train_ranking,
)

__all__ = [
    "Dataset",
    "attach",
    "objective",
    "metric",
    "train",
    "fit",
    "early_stopping",
    "bake_init_score",
    "LGBObjective",
    "LGBMetric",
    "DEFAULTS",
    "RANKING_OBJECTIVES",
    "TRAINING_ONLY_PARAMS",
    "TrainedModel",
    "train_builtin",
    "train_ranking",
    "train_loss",
]

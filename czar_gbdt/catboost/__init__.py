"""CatBoost adapter: every element-wise czar_gbdt loss as an objective and an eval metric.

CatBoost calls a user-defined objective on blocks of rows without saying which
rows, so a per-row ``std`` captured by position would be silently misaligned. The
adapter therefore trains the regression losses in **z-space**: :func:`Pool` stores
the standardised labels ``z = (y - mean) / std`` (each dataset with its own
``std``), the objective and metrics see ``(z_t, z_p)`` and need no side data at
all, and the model predicts ``z``. :func:`predict` maps back,
``y_pred = mean + std * z_pred``. The per-row loss is the same function of
``(z_t, z_p)`` as in the other backends; the difference is the model class: a
leaf adds a constant in units of ``std`` (the usual "vol-scaled target" model)
instead of a constant in units of ``y``, and Newton leaf values weight rows as in
z-space (no ``1/std**2``). Binary losses take 0/1 labels and need no ``std``.

::

    import catboost as cb, czar_gbdt as cg
    from czar_gbdt import catboost as ccb

    loss = cg.get_loss("czar", alpha=1.0)
    train_pool = ccb.Pool(X_train, y_train, std=std_train)
    valid_pool = ccb.Pool(X_valid, y_valid, std=std_valid)
    model = cb.CatBoostRegressor(loss_function=ccb.objective(loss), eval_metric=ccb.metric(loss),
                                 iterations=300, learning_rate=0.05)
    ccb.fit(model, train_pool, eval_set=valid_pool, early_stopping_rounds=30)
    y_hat = ccb.predict(model, X_test, std=std_test)         # back to the units of y

:func:`fit` starts training at the loss's constant minimiser (the compiled objective
and metric add it to every approx during training; afterwards it is the model's bias,
so that plain ``model.predict(X)`` includes it) and checks that every pool carries
the ``std`` the loss needs.
:func:`train` does the same from a parameter dict.

The objective and metric classes are generated per loss parameter set with method
bodies that never use ``self``: CatBoost compiles them with numba itself (they call
the loss's CatBoost kernels, generated from its row functions by
``czar_gbdt._kernels.loops``). Objectives with
cross-row coupling cannot be expressed (CatBoost evaluates row subsets) and are
refused; per-date metrics (``"rank_ic"``) are bound to one eval pool and verified
against its labels, and run in Python (CatBoost calls them once per dataset).

The walk-forward evaluation trains through :func:`train_builtin` (RMSE),
:func:`train_ranking` (``YetiRank``/``PairLogit``) and :func:`train_loss`, starting from
:data:`DEFAULTS`; the xgboost and lightgbm modules have the same functions.

.. note::
   CatBoost wants the derivatives of the quantity it maximises: ``(-grad, -hess)``
   per row. It requires an ``eval_metric`` whenever the objective is user-defined.
   The starting score is not a Pool baseline: CatBoost ingests baselines slowly (see
   bench/RESULTS.md), and a model with a bias would add both when predicting on that
   Pool. See docs/backends.md.
"""

from __future__ import annotations

from .compiled import UNCHECKED_FIT, CatBoostMetric, CatBoostObjective, metric, objective
from .fitting import fit, predict, train
from .pools import Pool, attach
from .training import DEFAULTS, RANKING_OBJECTIVES, TrainedModel, train_builtin, train_loss, train_ranking

__all__ = [
    "Pool",
    "attach",
    "objective",
    "metric",
    "fit",
    "train",
    "predict",
    "CatBoostObjective",
    "CatBoostMetric",
    "DEFAULTS",
    "RANKING_OBJECTIVES",
    "TrainedModel",
    "UNCHECKED_FIT",
    "train_builtin",
    "train_ranking",
    "train_loss",
]

"""Training with a loss: the starting score baked into the first tree, :func:`train` (native API)
and :func:`fit` (scikit-learn API)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _adapters as _ad
from .._imports import try_import
from .backend import BELOW_VERSION, DOC, MIN_VERSION
from .datasets import set_init_score
from .objects import LGBMetric, LGBObjective, early_stopping

with try_import("lightgbm", min_version=MIN_VERSION, below_version=BELOW_VERSION) as _imports:
    import lightgbm as lgb

__all__ = ["bake_init_score", "train", "fit"]


def bake_init_score(model: Any, init_score: float) -> Any:
    """Add a constant starting score to every leaf of the first tree, in place.

    LightGBM's ``predict`` never adds a Dataset's ``init_score`` back; after this,
    ``predict`` and saved models include it. Apply it once, after training.

    Parameters
    ----------
    model : lightgbm.Booster or fitted LGBMModel
        The trained model (changed in place).
    init_score : float
        The starting score the training started from.

    Returns
    -------
    the model
    """
    _imports.check()
    booster = model if isinstance(model, lgb.Booster) else model.booster_
    value = float(init_score)
    if value == 0.0:
        return model
    if booster.num_trees() == 0:
        raise ValueError("the model has no tree to hold the starting score.")
    if booster.num_model_per_iteration() != 1:
        raise ValueError("bake_init_score supports single-output models only.")
    info = booster.dump_model(num_iteration=1)["tree_info"][0]
    for leaf in range(int(info["num_leaves"])):
        booster.set_leaf_output(0, leaf, booster.get_leaf_output(0, leaf) + value)
    return model


@_ad.fill_doc(
    **DOC, watched="validation sets", kept="the booster keeps ``best_iteration``, which ``predict`` uses by default"
)
def train(
    params: dict[str, Any] | None,
    train_set: lgb.Dataset,
    num_boost_round: int = 100,
    *,
    objective: Any,
    valid_sets: Sequence[lgb.Dataset] = (),
    valid_names: Sequence[str] | None = None,
    metric: Any = None,
    early_stopping_rounds: int | None = None,
    callbacks: Sequence[Any] | None = None,
    **kwargs: Any,
) -> lgb.Booster:
    """``lightgbm.train`` with a loss: start score, weights and metrics set up.

    Parameters
    ----------
    params : dict
        Booster parameters; ``objective`` is set here, and ``metric`` defaults to
        ``"None"`` (only the metrics given below; built-in metrics named in
        ``params["metric"]`` come first and then decide early stopping).
    train_set : lightgbm.Dataset
        Training data with side data attached (or bound to ``objective``).
    num_boost_round : int
        Number of boosting rounds.
    objective : loss, loss name or LGBObjective
        The loss to train.
    valid_sets : sequence of lightgbm.Dataset
        Eval sets, each with its own side data attached (:func:`Dataset`).
    valid_names : sequence of str, optional
        Their names in the evaluation results.
    metric : metric or list of metrics, optional
        Losses (minimised) or metric names such as ``"rank_ic"`` (maximised).
        With early stopping and no metric, the objective's loss is watched.
    {stopping}
    **kwargs
        Passed to ``lightgbm.train``. ``init_model`` continues from a model: the
        starting score then comes from that model.

    Returns
    -------
    lightgbm.Booster
        Its first tree holds the starting score: ``predict`` includes it.
    """
    _imports.check()
    obj = objective if isinstance(objective, LGBObjective) else LGBObjective(objective)
    params = dict(params or {})
    for key in ("objective", "objective_type", "app", "application", "loss"):
        if params.get(key) is not None:
            raise ValueError(f"params[{key!r}] is set by train() from objective=; remove it (got {params[key]!r}).")
        params.pop(key, None)
    if params.get("boosting", params.get("boosting_type", "gbdt")) in ("dart", "rf"):
        raise ValueError(
            "boosting='dart'/'rf' rescales or averages trees: the starting score cannot be "
            "baked into the first tree; use gbdt."
        )
    params["objective"] = obj
    params.setdefault("metric", "None")  # no l2 ahead of the metrics given here
    metrics, callbacks = _ad.metrics_and_callbacks(
        obj,
        metric,
        callbacks,
        LGBMetric,
        early_stopping_rounds=early_stopping_rounds,
        has_evals=bool(valid_sets),
        evals="one set in valid_sets",
        stopper=lambda watched: early_stopping(early_stopping_rounds),
    )
    fresh = kwargs.get("init_model") is None
    init = 0.0
    if fresh:
        init = obj.init_score(train_set)
        for dataset in [train_set, *valid_sets]:
            set_init_score(dataset, init)
    try:
        booster = lgb.train(
            params,
            train_set,
            num_boost_round,
            valid_sets=list(valid_sets),
            valid_names=valid_names,
            feval=metrics or None,
            callbacks=callbacks,
            **kwargs,
        )
    finally:
        obj.clear_round()
    if fresh:
        bake_init_score(booster, init)
    return booster


def fit(model: Any, X: Any, y: Any, *, sample_weight: Any = None, **fit_kwargs: Any) -> Any:
    """Fit an ``LGBMRegressor``/``LGBMClassifier`` whose objective is an :class:`LGBObjective`.

    Computes the loss's starting score for these labels and weights, passes it as
    ``init_score`` and ``eval_init_score`` to ``model.fit`` (eval sets given as
    ``eval_set=`` or, LightGBM >= 4.7, ``eval_X=``/``eval_y=``), sets
    ``metric="None"`` unless a metric was chosen, and bakes the starting score into
    the fitted model (:func:`bake_init_score`) so that ``model.predict`` includes it.
    For a scheduled loss it adds the objective's round callback to ``callbacks``.
    By hand::

        init = obj.init_score(y, sample_weight=w)
        model.fit(X, y, sample_weight=w, init_score=np.full(len(y), init),
                  eval_set=[(Xv, yv)], eval_init_score=[np.full(len(yv), init)], ...)
        clx.bake_init_score(model, init)

    Returns
    -------
    the fitted model
    """
    _imports.check()
    obj = _ad.model_objective(model, "objective", LGBObjective, "lightgbm")
    if "init_score" in fit_kwargs or "eval_init_score" in fit_kwargs:
        raise ValueError("fit() sets init_score and eval_init_score from the loss; do not pass them.")
    if model.get_params().get("metric") is None:
        model.set_params(metric="None")
    init = obj.init_score(y, sample_weight=sample_weight)
    eval_ys: list[Any] = []
    if fit_kwargs.get("eval_set") is not None:
        eval_set = fit_kwargs["eval_set"]
        eval_set = [eval_set] if isinstance(eval_set, tuple) else list(eval_set)
        fit_kwargs["eval_set"] = eval_set
        eval_ys = [ys for _, ys in eval_set]
    elif fit_kwargs.get("eval_y") is not None:
        ey = fit_kwargs["eval_y"]
        eval_ys = list(ey) if isinstance(ey, tuple) else [ey]
    if eval_ys:
        fit_kwargs["eval_init_score"] = [np.full(np.shape(ys)[0], init) for ys in eval_ys]
    if obj.scheduled:
        fit_kwargs["callbacks"] = obj.with_round_callback(fit_kwargs.get("callbacks"))
    try:
        model.fit(X, y, sample_weight=sample_weight, init_score=np.full(np.shape(y)[0], init), **fit_kwargs)
    finally:
        obj.clear_round()
    bake_init_score(model, init)
    return model

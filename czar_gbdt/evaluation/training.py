"""One model trained through the backend modules, and its predictions (no configuration).

:func:`train_model` trains the backends' built-in squared error (``loss=None``), their
learning-to-rank objectives (:class:`~czar_gbdt.ranking.RankObjective`: each date is one
query group, the labels the target's quantile grades within the date) or a loss of
:mod:`czar_gbdt.losses` on the labels of :func:`~czar_gbdt.evaluation.training_labels`;
:func:`fit_predict` trains and predicts (a fold of the walk-forward), :func:`fit_panel`
trains on a whole panel (``czar-gbdt fit``).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ..datasets import Panel, transform_target
from ..losses import BaseLoss
from ..ranking import RankObjective, query_sizes, rank_labels
from .arguments import ModelSpec
from .labels import training_labels

__all__ = ["BACKENDS", "backend_module", "output_kind", "train_model", "fit_panel", "prediction_std", "fit_predict"]

#: The backend modules, by the name a configuration gives (imported on first use).
BACKENDS = {"lightgbm": "czar_gbdt.lightgbm", "xgboost": "czar_gbdt.xgboost", "catboost": "czar_gbdt.catboost"}


def backend_module(backend: str):
    """The adapter module of ``backend`` (``"lightgbm"``, ``"xgboost"``, ``"catboost"``): it owns
    how that backend trains the built-in objective, its ranking objective and a loss."""
    try:
        return importlib.import_module(BACKENDS[backend])
    except KeyError:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}; got {backend!r}.") from None


def output_kind(model: Any) -> str:
    """What a model's predictions are: ``"forecast"`` (a return forecast: signs and sizes mean
    something), ``"binary"`` (logits of a binary loss: signs only) or ``"score"`` (a ranking
    objective: only the order within a date does)."""
    if model is None:
        return "forecast"
    return {"ranking": "score", "binary": "binary"}.get(model.kind, "forecast")


def train_model(
    backend: str,
    booster_params: dict,
    loss: BaseLoss | RankObjective | None,
    train: Panel,
    *,
    valid: Panel | None = None,
    num_boost_round: int = 200,
    early_stopping_rounds: int = 0,
    target_transform: str = "raw",
    seed: int = 0,
):
    """Train one model on ``train``: the backend module's ``TrainedModel`` (``predict(X, std)``, ``rounds``).

    ``loss=None`` trains with the backend's built-in squared error, a :class:`RankObjective`
    with the backend's ranking objective (both without early stopping: they train
    ``num_boost_round`` rounds), a loss with the labels of :func:`training_labels` (early
    stopping on the validation rank IC of ``valid``: per date across assets, or over the
    validation dates for a single series). The backend module (:func:`backend_module`)
    does the training; :func:`fit_predict` and :func:`czar_gbdt.forecast.fit_model` call it.
    """
    module = backend_module(backend)
    X = train.X.to_numpy(dtype=np.float64)
    common = dict(params=booster_params, num_boost_round=num_boost_round, seed=seed)
    if loss is None:
        return module.train_builtin(
            X, transform_target(train.y, train.dates, target_transform), weight=train.weight, **common
        )
    if isinstance(loss, RankObjective):
        return module.train_ranking(
            X,
            rank_labels(train.y, train.dates, loss.n_bins),
            query_sizes(train.dates),
            objective=loss.resolve(backend),
            n_grades=loss.n_bins,
            **common,
        )
    y, std = training_labels(train, loss, target_transform)
    eval_rows = {}
    if valid is not None and len(valid):
        yv, stdv = training_labels(valid, loss, target_transform)
        # early stopping watches the validation rank IC per date; the rows of a single series are
        # one date group instead, so that it watches their time-series rank IC
        dates = valid.dates if valid.assets.nunique() > 1 else np.zeros(len(valid), dtype=np.int64)
        eval_rows = dict(valid_X=valid.X.to_numpy(dtype=np.float64), valid_y=yv, valid_std=stdv, valid_dates=dates)
    return module.train_loss(
        loss, X, y, std=std, weight=train.weight, early_stopping_rounds=early_stopping_rounds, **eval_rows, **common
    )


def fit_panel(panel: Panel, model: ModelSpec):
    """One model trained on every row of ``panel`` for ``model.num_boost_round`` rounds (no early stopping:
    ``model.early_stopping_rounds`` is not read): what ``czar-gbdt fit`` trains
    (:func:`czar_gbdt.forecast.fit_model`); :func:`czar_gbdt.cluster.fit_panel` does the same on a Dask cluster.
    ``target_transform = "auto"`` is resolved on ``panel`` (:meth:`ModelSpec.resolved`)."""
    model = model.resolved(panel)
    return train_model(
        model.backend,
        model.booster_params,
        model.loss,
        panel,
        num_boost_round=model.num_boost_round,
        target_transform=model.target_transform,
        seed=model.seed,
    )


def prediction_std(panel: Panel, target_transform: str) -> np.ndarray | None:
    """The std a z-space model (CatBoost) maps its predictions on ``panel`` back with: the rows'
    own ``std``, or ones for ``zscore`` labels (already in units of the cross-sectional std)."""
    return np.ones(len(panel)) if target_transform == "zscore" else panel.std


def fit_predict(
    backend: str,
    booster_params: dict,
    loss: BaseLoss | RankObjective | None,
    train: Panel,
    predict_on: list[Panel],
    *,
    valid: Panel | None = None,
    num_boost_round: int = 200,
    early_stopping_rounds: int = 0,
    target_transform: str = "raw",
    seed: int = 0,
) -> tuple[list[np.ndarray], int]:
    """Train one model (:func:`train_model`) and predict on each panel of ``predict_on``.

    Returns the predictions (raw margins: logits for binary losses, scores for ranking)
    and the number of boosting rounds kept (the best round with early stopping).
    """
    model = train_model(
        backend,
        booster_params,
        loss,
        train,
        valid=valid,
        num_boost_round=num_boost_round,
        early_stopping_rounds=early_stopping_rounds,
        target_transform=target_transform,
        seed=seed,
    )
    # a z-space model (CatBoost) maps its predictions back with the std its labels were scaled by
    return [
        model.predict(p.X.to_numpy(dtype=np.float64), std=prediction_std(p, target_transform)) for p in predict_on
    ], model.rounds

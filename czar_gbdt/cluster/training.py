"""Training on a Dask cluster: each walk-forward fold labelled per date on the workers and trained by
:mod:`czar_gbdt.dask`, its test window predicted on the workers and scored by the in-memory
functions (:func:`czar_gbdt.evaluation.score_folds`); and one model on every row (:func:`fit_panel`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import evaluation
from ..config import ConfigError
from ..datasets import Panel, transform_target
from ..evaluation import (
    FoldHooks,
    FoldScoring,
    ModelSpec,
    WalkForwardResult,
    score_folds,
    training_labels,
)
from ..losses import BaseLoss
from ..model_selection import WalkForward
from ..ranking import RankObjective
from .panel import LazyPanel, Window

__all__ = ["walk_forward", "fit_panel", "check_models"]


def _labels_part(part: pd.DataFrame, cols: dict, loss: BaseLoss | None, transform: str) -> pd.DataFrame:
    """Training labels (and the std the loss sees) of one partition: per date, as in memory."""
    std = part[cols["std"]].to_numpy(np.float64) if cols["std"] else None
    panel = Panel.from_arrays(
        pd.DataFrame(index=pd.RangeIndex(len(part))),
        part[cols["target"]].to_numpy(np.float64),
        part.index,
        part[cols["asset"]].to_numpy(),
        std=std,
    )
    if loss is None:
        y, s = transform_target(panel.y, panel.dates, transform), None
    else:
        y, s = training_labels(panel, loss, transform)
    return pd.DataFrame({"y": y, "std": np.nan if s is None else s}, index=part.index)


def _date_codes_part(part: pd.DataFrame, dates: np.ndarray) -> pd.Series:
    return pd.Series(np.searchsorted(dates, part.index.to_numpy()).astype(np.float64), index=part.index)


def _fit_fold(panel: LazyPanel, train: Window, valid: Window | None, model: ModelSpec) -> Any:
    """Train one fold's ``model`` (its transform resolved) on the cluster (:mod:`czar_gbdt.dask`); early
    stopping on ``valid`` when given."""
    from .. import dask as cdask

    backend, loss, target_transform = model.backend, model.loss, model.target_transform
    cols = panel.columns
    meta = pd.DataFrame({"y": pd.Series(dtype=np.float64), "std": pd.Series(dtype=np.float64)})

    def labels(window: Window) -> Any:
        return window.frame.map_partitions(_labels_part, cols, loss, target_transform, meta=meta)

    common = dict(
        backend=backend,
        params=model.booster_params,
        num_boost_round=model.num_boost_round,
        seed=model.seed,
        client=panel.client,
    )
    X = train.frame[panel.features]
    lab = labels(train)
    weight = train.frame[cols["weight"]] if cols["weight"] else None
    if loss is None:
        return cdask.train_builtin(X, lab["y"], weight=weight, **common)
    cdask.check_loss(loss, backend)
    needs_std = loss.requires_std and cols["std"] and target_transform != "zscore"
    eval_rows: dict[str, Any] = {}
    if valid is not None and len(valid) and model.early_stopping_rounds:
        vlab = labels(valid)
        codes = valid.frame.map_partitions(_date_codes_part, panel.dates.to_numpy(), meta=pd.Series(dtype=np.float64))
        eval_rows = dict(
            valid_X=valid.frame[panel.features],
            valid_y=vlab["y"],
            valid_std=vlab["std"] if needs_std else None,
            valid_dates=codes,
        )
    return cdask.train_loss(
        loss,
        X,
        lab["y"],
        std=lab["std"] if needs_std else None,
        weight=weight,
        early_stopping_rounds=model.early_stopping_rounds,
        **eval_rows,
        **common,
    )


def walk_forward(
    panel: LazyPanel,
    splitter: WalkForward,
    model: ModelSpec,
    scoring: FoldScoring = FoldScoring(),
    hooks: FoldHooks = FoldHooks(),
) -> WalkForwardResult:
    """:func:`czar_gbdt.evaluation.walk_forward` on a :class:`LazyPanel`: every fold trained on the cluster.

    The folds are the splitter's positions on the panel's distinct dates (a
    :class:`~czar_gbdt.evaluation.HoldoutSplit`: the holdout's). ``hooks.predict``
    (``compare``'s ensemble) receives the fold's lazy train and valid :class:`Window` and
    the test window collected without its features. The model's ``target_transform = "auto"`` is
    resolved on ``panel``, as in memory.
    """
    model = model.resolved(panel)
    positions = splitter.fold_positions(len(panel.dates))
    windows = [
        (
            panel.window(f.train_start, f.train_end),
            panel.window(f.test_start, f.test_end),
            panel.window(f.valid_start, f.valid_end),
        )
        for f in positions
    ]
    predict = hooks.predict
    if predict is None:

        def predict(i: int, train: Window, test: Panel, valid: Window | None) -> tuple[np.ndarray, int]:
            fitted = _fit_fold(panel, train, valid, model)
            pred = panel.client.compute(fitted.predict(windows[i][1].frame[panel.features]), sync=True)
            return pred.to_numpy(np.float64), fitted.rounds

    folds = ((train, panel.collect(test), valid) for train, test, valid in windows)
    return score_folds(
        folds,
        predict,
        scoring,
        hooks,
        model=f"{model.label()} on a Dask cluster",
        target_transform=model.target_transform,
    )


def fit_panel(panel: LazyPanel, model: ModelSpec) -> Any:
    """:func:`czar_gbdt.evaluation.fit_panel` on the cluster: one model trained on every row of ``panel``.

    Returns the backend module's in-memory ``TrainedModel`` of the trained booster, which
    predicts in this process as a model trained here does (a loss's margins, the starting
    score included), so that ``czar-gbdt fit`` saves it like any other.
    """
    model = model.resolved(panel)
    backend, loss = model.backend, model.loss
    check_models([loss])
    trained = _fit_fold(panel, panel.window(0, len(panel.dates)), None, model)  # no valid rows: no early stopping
    options = {}
    if loss is not None:  # a loss's raw margins, as the in-memory models predict them
        options = {"output_margin": True} if backend == "xgboost" else {"raw_score": True}
    if backend == "xgboost":  # trained on named columns; the in-memory models predict on plain matrices
        trained.model.feature_names = None
    return evaluation.backend_module(backend).TrainedModel(trained.model, trained.rounds, **options)


def check_models(models: list) -> None:
    """Refuse, before any work, a model the cluster does not train: the backends' ranking objectives.

    Their query groups (one per date) would have to follow the workers' rows, which this
    module does not arrange. Raises :class:`~czar_gbdt.config.ConfigError` naming the model.
    """
    for model in models:
        if isinstance(model, RankObjective):
            raise ConfigError(
                f"{model!r}: the backends' ranking objectives are not trained on a Dask cluster (their "
                "query groups would have to follow the workers' rows); remove 'ranking' from the loss "
                "specs (compare.losses, --loss), or set cluster.engine = 'local'."
            )

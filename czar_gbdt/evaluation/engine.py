"""The walk-forward engine: train and score one model per fold (no configuration).

:func:`walk_forward` cuts a panel into folds by date (a
:class:`~czar_gbdt.model_selection.WalkForward`, or :class:`HoldoutSplit` for the holdout),
trains each fold's model (:func:`~czar_gbdt.evaluation.fit_predict`) and scores its test
window (:func:`score_folds`, :func:`score_predictions`): per-date rank IC, IC, directional
accuracy and the top-k long-short spread. Its arguments are typed
(:mod:`czar_gbdt.evaluation.arguments`): the model, how a fold is scored, the hooks.

A single series has no cross-section: with ``FoldScoring(time_series=True)`` the rank IC
is the time-series rank IC of each test window (:func:`czar_gbdt.metrics.ts_rank_ic_by_date`:
one term per date, whose mean over the window is the Spearman correlation over the
window's dates), and the top-k spread, which needs several assets per date, is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import metrics
from ..datasets import Panel, date_text
from ..model_selection import WalkForward
from .arguments import FoldHooks, FoldPredictor, FoldScoring, ModelSpec
from .grading import allora_scores
from .training import fit_predict

__all__ = [
    "iso_date",
    "HoldoutSplit",
    "score_predictions",
    "WalkForwardResult",
    "walk_forward",
    "fold_trainer",
    "score_folds",
    "holdout_scores",
]


def iso_date(when: Any) -> str:
    """A date as text: ``"2024-05-12"``, or ``"2024-05-12T16:00:00"`` when it has a time of day (intraday bars),
    or the period number of a wide table read with ``data.wide.dates = "periods"``
    (:func:`czar_gbdt.datasets.date_text`)."""
    return date_text(pd.Timestamp(when))


class HoldoutSplit:
    """The final fold of a walk-forward splitter as a splitter of one fold, for :func:`walk_forward`.

    Its one fold trains on every date before the holdout (less the gap; the last
    ``valid_size`` of them for early stopping when configured) and tests on the holdout
    (:meth:`~czar_gbdt.model_selection.WalkForward.final_fold`). Score it once per study:
    scoring several candidates on the holdout would choose on it.
    """

    def __init__(self, splitter: WalkForward):
        self.splitter = splitter

    def split_with_validation(self, groups: Any):
        """Yield the final fold."""
        yield self.splitter.final_fold(groups=groups)

    def fold_positions(self, n_dates: int) -> list:
        """The final fold as positions on the sorted distinct dates (a lazy panel's folds)."""
        return [self.splitter.final_fold_positions(n_dates)]


def score_predictions(
    panel: Panel, pred: np.ndarray, *, top_k: int = 5, cost: float = 0.0, time_series: bool = False
) -> tuple[dict, pd.Series]:
    """Rank IC, IC, directional accuracy and top-k long-short of predictions on one window.

    With ``time_series``, the rank IC is the window's time-series rank IC, each asset's
    series on its own and averaged over the assets (:func:`czar_gbdt.metrics.ts_rank_ic_by_date`:
    the per-date series holds its terms, whose mean is the rank IC), and the IC the Pearson
    correlation over the window per asset, averaged. The top-k spread needs ``2 * top_k``
    assets.

    Returns the scores (a dict) and the per-date rank IC series.
    """
    groups = metrics.group_dates(panel.dates)
    if time_series:
        single = panel.assets.nunique() == 1
        per_date = metrics.ts_rank_ic_by_date(panel.y, pred, dates=groups, assets=None if single else panel.assets)
        out = {
            "rank_ic": float(per_date.mean()),
            "rank_icir": metrics.icir(per_date),
            "rank_ic_t": metrics.t_stat(per_date),
            "ic": metrics.ic(panel.y, pred, dates=panel.assets).mean,
            "n_dates": int(per_date.notna().sum()),
        }
    else:
        ric = metrics.rank_ic(panel.y, pred, dates=groups)
        per_date = ric.per_date
        out = {
            "rank_ic": ric.mean,
            "rank_icir": ric.icir,
            "rank_ic_t": ric.t_stat,
            "ic": metrics.ic(panel.y, pred, dates=groups).mean,
            "n_dates": ric.n_dates,
        }
    out["directional_accuracy"] = metrics.directional_accuracy(panel.y, pred)
    n_assets = panel.assets.nunique()
    if n_assets >= 2 * top_k:
        tk = metrics.top_k_long_short(panel.y, pred, dates=panel.dates, assets=panel.assets, k=top_k, cost=cost)
        out.update(
            top_k_spread=tk.mean_spread,
            top_k_sharpe=tk.sharpe,
            top_k_turnover=tk.mean_turnover,
            top_k_net_spread=tk.mean_net_spread,
            top_k_dates=tk.n_dates,
        )
    return out, per_date


@dataclass
class WalkForwardResult:
    """Per-fold table, per-date rank IC over every test date, and their summary.

    ``predictions`` concatenates the test predictions (indexed like the panel's ``X``);
    ``fold_predictions`` keeps them per fold, aligned with each fold's test rows.
    """

    folds: pd.DataFrame
    per_date: pd.Series
    predictions: pd.Series = field(repr=False, default=None)
    fold_predictions: list = field(repr=False, default_factory=list)

    @property
    def mean_rank_ic(self) -> float:
        return float(self.per_date.mean())

    @property
    def icir(self) -> float:
        return metrics.icir(self.per_date)

    @property
    def t_stat(self) -> float:
        return metrics.t_stat(self.per_date)

    def summary(self) -> dict:
        return {
            "mean_rank_ic": self.mean_rank_ic,
            "icir": self.icir,
            "t_stat": self.t_stat,
            "n_dates": int(self.per_date.notna().sum()),
            "n_folds": len(self.folds),
        }


def walk_forward(
    panel: Panel,
    splitter: WalkForward,
    model: ModelSpec,
    scoring: FoldScoring = FoldScoring(),
    hooks: FoldHooks = FoldHooks(),
) -> WalkForwardResult:
    """Train and score one model per fold.

    Parameters
    ----------
    panel : Panel
        The rows to cut into folds by date.
    splitter : WalkForward or HoldoutSplit
        The folds (a :class:`HoldoutSplit` scores the holdout).
    model : ModelSpec
        What each fold trains (:func:`~czar_gbdt.evaluation.fit_predict`); its
        ``target_transform = "auto"`` is resolved on ``panel``.
    scoring : FoldScoring
        How each test window is scored (:func:`score_predictions`; Allora's scores with
        ``allora``, :func:`~czar_gbdt.evaluation.allora_scores`).
    hooks : FoldHooks
        ``on_fold`` after each fold (raising from it stops the loop), ``predict`` instead
        of training each fold, ``score_extra`` for more columns per row.
    """
    model = model.resolved(panel)
    predict = hooks.predict or fold_trainer(model)
    folds = (
        (panel.subset(fold.train), panel.subset(fold.test), panel.subset(fold.valid) if len(fold.valid) else None)
        for fold in splitter.split_with_validation(groups=panel.dates)
    )
    return score_folds(folds, predict, scoring, hooks, model=model.label(), target_transform=model.target_transform)


def fold_trainer(model: ModelSpec) -> FoldPredictor:
    """The default ``predict`` of :func:`walk_forward`: :func:`~czar_gbdt.evaluation.fit_predict` of
    ``model`` (its transform resolved: :meth:`ModelSpec.resolved`) on the fold's training rows (early
    stopping on its validation rows), predicting its test rows."""

    def predict(i: int, train: Panel, test: Panel, valid: Panel | None) -> tuple[np.ndarray, int]:
        (pred,), rounds = fit_predict(
            model.backend,
            model.booster_params,
            model.loss,
            train,
            [test],
            valid=valid,
            num_boost_round=model.num_boost_round,
            early_stopping_rounds=model.early_stopping_rounds,
            target_transform=model.target_transform,
            seed=model.seed,
        )
        return pred, rounds

    return predict


def score_folds(
    folds: Iterable[tuple[Any, Panel, Any]],
    predict: FoldPredictor,
    scoring: FoldScoring = FoldScoring(),
    hooks: FoldHooks = FoldHooks(),
    *,
    model: str = "",
    target_transform: str = "raw",
) -> WalkForwardResult:
    """The loop of :func:`walk_forward`: predict each fold's test rows and score them.

    ``folds`` yields ``(train, test, valid)``: ``test`` a :class:`Panel` (only its
    target, dates, assets and side columns are read), ``train`` anything with the
    window's ``dates`` (a Panel, or the lazy window of the cluster evaluation,
    :mod:`czar_gbdt.cluster`), ``valid`` the same or None. ``predict`` gives each fold's
    test predictions and rounds; ``scoring`` and the ``on_fold`` and ``score_extra`` of
    ``hooks`` are those of :func:`walk_forward` (``hooks.predict`` is not read here);
    ``target_transform`` is the labels' (Allora's scores compare with them); ``model``
    names the model in errors.
    """
    rows, per_date, preds = [], [], []
    for i, (train, test, valid) in enumerate(folds):
        pred, rounds = predict(i, train, test, valid)
        pred = np.asarray(pred, dtype=np.float64)
        if pred.shape != (len(test),):
            raise ValueError(f"fold {i}: predict returned shape {pred.shape} for {len(test)} test rows.")
        if not np.isfinite(pred).all():
            raise FloatingPointError(f"fold {i}: the model predicted non-finite values ({model}).")
        scores, fold_per_date = score_predictions(
            test, pred, top_k=scoring.top_k, cost=scoring.cost, time_series=scoring.time_series
        )
        row = {
            "fold": i,
            "train_start": train.dates[0],
            "train_end": train.dates[-1],
            "test_start": test.dates[0],
            "test_end": test.dates[-1],
            "rounds": rounds,
            **scores,
        }
        if scoring.allora:
            row.update(allora_scores(test, pred, target_transform))
        if hooks.score_extra is not None:
            row.update(hooks.score_extra(test, pred))
        rows.append(row)
        per_date.append(fold_per_date)
        preds.append(pd.Series(pred, index=test.X.index))
        if hooks.on_fold is not None:
            hooks.on_fold(i, row, pd.concat(per_date))
    if not rows:
        raise ValueError(
            "the splitter yields no fold on this data: shorten splits.test_size/min_train_size/"
            "holdout or use more dates."
        )
    return WalkForwardResult(pd.DataFrame(rows), pd.concat(per_date), pd.concat(preds), [p.to_numpy() for p in preds])


#: The columns of a walk-forward fold row that say where the fold is (not scores).
_FOLD_PLACE = ("fold", "train_start", "train_end", "test_start", "test_end")


def holdout_scores(result: WalkForwardResult) -> dict:
    """The one fold of a holdout evaluation (:class:`HoldoutSplit`) as a flat dict: ``start`` and
    ``end`` of the holdout (ISO dates), ``rounds`` and the fold's scores."""
    (row,) = result.folds.to_dict(orient="records")
    return {
        "start": iso_date(row["test_start"]),
        "end": iso_date(row["test_end"]),
        **{k: v for k, v in row.items() if k not in _FOLD_PLACE},
    }

"""Allora's evaluation adapted to walk-forward forecasts: one series graded as Allora grades it,
a panel as the mean of each asset's own series (docs/allora.md).

Part of the engine (no configuration): :func:`czar_gbdt.evaluation.score_folds` adds
:func:`allora_scores` to each fold's row when asked, and ``compare`` grades a
walk-forward's test forecasts together with :func:`allora_of`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .. import allora
from ..datasets import Panel
from .labels import label_target

__all__ = ["ALLORA_COLUMNS", "allora_scores", "allora_of"]

#: What :func:`allora_scores` returns: Allora's seven metrics, the points, the grade and its scope.
ALLORA_COLUMNS = (*allora.METRIC_FUNCTIONS, "allora_points", "allora_max_points", "allora_grade", "allora_scope")


def allora_scores(panel: Panel, pred: np.ndarray, transform: str = "raw") -> dict:
    """Allora's evaluation of forecasts (docs/allora.md): its seven metrics, points (out of
    ``allora_max_points``, 7) and grade.

    One asset: :func:`czar_gbdt.allora.allora_grade` of the series, in date order. A panel:
    each asset's own series is graded (:func:`~czar_gbdt.allora.allora_grade_by_asset`;
    assets with fewer than 2 rows left out) and the metrics and points are averaged over
    the assets; the grade is that of the mean points, rounded, and ``allora_scope`` says
    ``"mean of N assets"``. The forecasts are compared with the target transformed like
    the training labels (``transform``): what the models forecast.
    """
    y = label_target(panel, transform)[0]
    pred = np.asarray(pred, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(pred)
    counts = pd.Series(ok).groupby(np.asarray(panel.assets)).transform("sum").to_numpy()
    keep = ok & (counts >= 2)
    nan = {name: math.nan for name in allora.METRIC_FUNCTIONS}
    if panel.assets.nunique() == 1:
        if keep.sum() < 2:
            return {
                **nan,
                "allora_points": math.nan,
                "allora_max_points": allora.MAX_POINTS,
                "allora_grade": "n/a",
                "allora_scope": "series",
            }
        g = allora.allora_grade(y[keep], pred[keep])
        return {
            **{name: g[name] for name in allora.METRIC_FUNCTIONS},
            "allora_points": g["allora_points"],
            "allora_max_points": allora.MAX_POINTS,
            "allora_grade": g["allora_grade"],
            "allora_scope": "series",
        }
    if not keep.any():
        return {
            **nan,
            "allora_points": math.nan,
            "allora_max_points": allora.MAX_POINTS,
            "allora_grade": "n/a",
            "allora_scope": "mean of 0 assets",
        }
    table = allora.allora_grade_by_asset(
        y[keep], pred[keep], assets=np.asarray(panel.assets)[keep], dates=np.asarray(panel.dates)[keep]
    )
    points = float(table["allora_points"].mean())
    return {
        **{name: float(table[name].mean()) for name in allora.METRIC_FUNCTIONS},
        "allora_points": points,
        "allora_max_points": allora.MAX_POINTS,
        "allora_grade": allora.allora_grade_letter(int(math.floor(points + 0.5))),
        "allora_scope": f"mean of {len(table)} assets",
    }


def allora_of(panel: Panel, result: Any, transform: str = "raw") -> dict:
    """:func:`allora_scores` of a walk-forward's test forecasts (``result``, a
    :class:`~czar_gbdt.evaluation.WalkForwardResult`), every test window together: what
    Allora would grade (a date tested twice, by overlapping windows, keeps its last forecast)."""
    pred = result.predictions[~result.predictions.index.duplicated(keep="last")]
    rows = np.sort(panel.X.index.get_indexer(pred.index))
    return allora_scores(panel.subset(rows), pred.reindex(panel.X.index[rows]).to_numpy(), transform)

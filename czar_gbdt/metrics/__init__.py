"""Evaluation metrics for cross-sectional return forecasts.

Per-date information coefficients (IC: Pearson, Rank IC: Spearman), their
summary (mean, ICIR, t-stat, dates used and skipped), directional accuracy and
a top-k long-short backtest, following the project's evaluation conventions
(Qlib / alphalens definitions, so the numbers are comparable). The significance
of any per-date series (:func:`icir`, :func:`t_stat`, :func:`newey_west_t` for
overlapping labels) is computed here only: the walk-forward results, the tuner's
objective and ``compare`` all use these functions.

Reusing the date grouping
-------------------------
Grouping rows by date is a large part of the cost. :func:`group_dates` does it
once and returns a :class:`DateGroups` that every function here accepts in
place of ``dates``; an early-stopping callback scoring the same validation set
every boosting round should build it once::

    groups = metrics.group_dates(valid_dates)          # once
    score = metrics.rank_ic(y_valid, pred, dates=groups).mean   # every round

Modules
-------
:mod:`~czar_gbdt.metrics.grouping` (:class:`DateGroups`, :func:`group_dates`, the input checks),
:mod:`~czar_gbdt.metrics.significance` (:func:`icir`, :func:`t_stat`, :func:`newey_west_t`),
:mod:`~czar_gbdt.metrics.correlation` (:func:`rank_ic`, :func:`ic`, :class:`ICResult`),
:mod:`~czar_gbdt.metrics.timeseries` (:func:`ts_rank_ic`, :func:`ts_rank_ic_by_date`),
:mod:`~czar_gbdt.metrics.directional`, :mod:`~czar_gbdt.metrics.backtest` (:func:`top_k_long_short`)
and :mod:`~czar_gbdt.metrics.registry` (:data:`METRICS`). Import the names from this package.

See Also
--------
pandas.core.groupby.DataFrameGroupBy.corr : ``df.groupby("date")[["y", "p"]].corr(method="spearman")``
    is the reference (test oracle) for :func:`rank_ic` and, with
    ``method="pearson"``, for :func:`ic`.
scipy.stats.spearmanr, scipy.stats.pearsonr : the single-series reference.
"""

from __future__ import annotations

from .backtest import TopKResult, top_k_long_short
from .correlation import ICResult, ic, ic_result, mean_ic, mean_rank_ic, rank_ic
from .directional import directional_accuracy
from .grouping import DateGroups, group_dates
from .registry import METRICS, Metric
from .significance import icir, newey_west_t, t_stat
from .timeseries import ts_rank_ic, ts_rank_ic_by_date

__all__ = [
    "DateGroups",
    "ICResult",
    "TopKResult",
    "Metric",
    "METRICS",
    "group_dates",
    "ic_result",
    "ic",
    "rank_ic",
    "mean_ic",
    "mean_rank_ic",
    "ts_rank_ic",
    "ts_rank_ic_by_date",
    "icir",
    "t_stat",
    "newey_west_t",
    "directional_accuracy",
    "top_k_long_short",
]

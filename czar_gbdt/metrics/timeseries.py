"""The time-series rank IC of one series over a window, and its per-date terms."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_unweighted
from ._docs import fill_doc
from .correlation import grouped_spearman
from .grouping import check_same_length, prepare, single_series


@fill_doc
def ts_rank_ic(y_true: Any, y_pred: Any, *, dates: Any = None, sample_weight: Any = None) -> float:
    """Time-series rank IC of one series over a window: Spearman correlation of forecast and target.

    The rank IC of a single asset: its rows (the window's dates) are ranked as one group,
    with the conventions of :func:`rank_ic` (pairwise deletion of non-finite rows, average
    ranks for ties), so one window gives one value. It is ``rank_ic(y_true, y_pred).mean``
    with the rows taken as one "date"; the walk-forward objective of a single series
    averages it over the test windows.

    {y}
    dates : array-like of shape (n_samples,) or DateGroups, optional
        Date of each row, only checked: a date with more than one row means a cross-section
        (use :func:`rank_ic`) and is refused.
    sample_weight : None
        Accepted for the backend eval wrappers; weights that are not all equal are refused.

    Returns
    -------
    float
        In [-1, 1]; NaN (with a RuntimeWarning) with fewer than 2 valid rows or a constant side.

    Raises
    ------
    ValueError
        If the arrays are not aligned, a date has several rows, or the weights vary.
    """
    yt, yp, groups = prepare(y_true, y_pred, dates)
    check_unweighted("ts_rank_ic", sample_weight, yt.shape[0])
    if dates is not None and groups.max_group_size > 1:
        sizes = np.diff(groups.offsets)
        g = int(np.argmax(sizes))
        raise ValueError(
            f"ts_rank_ic scores one series, one row per date; date {groups.dates[g]} has {sizes[g]} "
            "rows (a cross-section: use rank_ic, or pass one asset's rows)."
        )
    corr = grouped_spearman(yt, yp, single_series(yt.shape[0]))
    if np.isnan(corr[0]):
        warnings.warn(
            "ts_rank_ic: fewer than 2 rows with finite y_true and y_pred, or a constant side; returning NaN.",
            RuntimeWarning,
            stacklevel=2,
        )
    return float(corr[0])


@fill_doc
def ts_rank_ic_by_date(y_true: Any, y_pred: Any, *, dates: Any, assets: Any = None) -> pd.Series:
    """Per-date terms of the time-series rank IC over one window: their mean is the window's rank IC.

    Each asset's rows (those where both sides are finite) are ranked over the window, average
    ranks for ties, and the ranks are standardised per asset (mean 0, population std 1). A
    row's term is the product of its two standardised ranks, so the mean of one asset's terms
    is its Spearman correlation over the window, :func:`ts_rank_ic`, exactly. A date's value
    is the mean of its assets' terms.

    For a single asset this splits the window's rank IC into one term per date, so that the
    tests of a per-date series apply to it: :func:`t_stat` and :func:`newey_west_t` of the
    terms test the rank IC, and the difference of two forecasts' terms (the targets' ranks are
    shared) is a paired per-date series whose mean is the difference of their rank ICs. For a
    panel, the mean over the dates is the mean over the assets of their own time-series rank
    IC when every asset has a row on every date.

    {y}
    dates : array-like of shape (n_samples,) or DateGroups
        Date of each row.
    assets : array-like of shape (n_samples,), optional
        Asset of each row; None: the rows are one series.

    Returns
    -------
    pandas.Series of shape (n_dates,)
        Indexed by the sorted dates, named ``"ts_rank_ic"``; NaN for a date without a term (a
        non-finite row, or an asset with fewer than 2 valid rows or a constant side).

    Raises
    ------
    ValueError
        If the arrays are not aligned, or an asset label is missing.
    """
    if dates is None:
        raise ValueError("dates is required by ts_rank_ic_by_date (one term per date); got None.")
    yt, yp, groups = prepare(y_true, y_pred, dates)
    terms = _rank_terms(yt, yp, _asset_codes(assets, yt.shape[0]))
    date_codes = groups.codes()
    valid = np.isfinite(terms)
    count = np.bincount(date_codes[valid], minlength=groups.n_dates)
    total = np.bincount(date_codes[valid], weights=terms[valid], minlength=groups.n_dates)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_date = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if not valid.any():
        warnings.warn(
            "ts_rank_ic_by_date: no asset has 2 or more rows with finite y_true and y_pred and "
            "non-constant values on both sides; every term is NaN.",
            RuntimeWarning,
            stacklevel=2,
        )
    return pd.Series(per_date, index=groups.dates, name="ts_rank_ic")


def _asset_codes(assets: Any, n: int) -> np.ndarray:
    """The asset code of each row; all 0 (one series) when ``assets`` is None."""
    if assets is None:
        return np.zeros(n, dtype=np.int64)
    check_same_length(n, assets, "assets")
    codes, _ = pd.factorize(np.asarray(assets))
    if n and codes.min() < 0:
        bad = np.flatnonzero(codes < 0)
        raise ValueError(f"assets has {bad.size} missing values; the first at row {bad[0]}.")
    return codes


def _rank_terms(yt: np.ndarray, yp: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Each row's product of its two ranks standardised within its asset; NaN where it has none."""
    ok = np.isfinite(yt) & np.isfinite(yp)
    terms = np.full(yt.shape[0], np.nan)
    if ok.any():
        by = pd.Series(codes[ok])
        z = []
        for values in (yt[ok], yp[ok]):
            ranks = pd.Series(values).groupby(by).rank(method="average")
            grouped = ranks.groupby(by)
            sd = grouped.transform("std", ddof=0).to_numpy()
            with np.errstate(invalid="ignore", divide="ignore"):
                z.append(np.where(sd > 0, (ranks.to_numpy() - grouped.transform("mean").to_numpy()) / sd, np.nan))
        terms[ok] = z[0] * z[1]
    return terms

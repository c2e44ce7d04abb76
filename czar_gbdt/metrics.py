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

See Also
--------
pandas.core.groupby.DataFrameGroupBy.corr : ``df.groupby("date")[["y", "p"]].corr(method="spearman")``
    is the reference (test oracle) for :func:`rank_ic` and, with
    ``method="pearson"``, for :func:`ic`.
scipy.stats.spearmanr, scipy.stats.pearsonr : the single-series reference.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import allora
from ._kernels import metrics as _k
from ._validation import check_unweighted

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

# fewer value bits than this in a packed key: use the per-date argsort kernel
_MIN_VALUE_BITS = 20
# dates per parallel chunk of the radix kernel: enough chunks to balance the threads
_RADIX_CHUNKS = 64
# scratch vectors up to this many rows are kept per thread and reused (see _scratch)
_KEEP_BUFFER_ROWS = 1 << 21
_workspace = threading.local()

_DOC_Y = """y_true : array-like of shape (n_samples,)
        Realised target (for example the forward return).
    y_pred : array-like of shape (n_samples,)
        Prediction; only its order within a date matters for rank metrics."""

_DOC_DATES = """dates : array-like of shape (n_samples,), DateGroups or None, default=None
        Date of each row (any sortable labels: datetimes, integers, ISO
        strings); rows need not be sorted. A :class:`DateGroups` from
        :func:`group_dates` skips the grouping step. ``None`` treats the rows
        as one series (single asset): the result has one "date" labelled
        ``"all"``."""

_DOC_PARAMS = """Parameters
    ----------
    {y}
    {dates}"""

_DOC_MEAN = """{params}

    Returns
    -------
    float
        The per-date correlations averaged over the dates used (``ICResult.mean``)."""


# --------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------


def _as_float_1d(x: Any, name: str) -> np.ndarray:
    """Return ``x`` as a C-contiguous float64 vector, or raise a named ValueError."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; could not convert it to float64 ({exc}).") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got shape {arr.shape}.")
    return np.ascontiguousarray(arr)


def _check_same_length(n: int, other: Any, name: str, ref: str = "y_true") -> None:
    if len(other) != n:
        raise ValueError(f"{name} has length {len(other)} but {ref} has length {n}; they must be aligned row by row.")


@dataclass(frozen=True, eq=False)
class DateGroups:
    """Rows grouped by date, computed once by :func:`group_dates` and reusable.

    Attributes
    ----------
    dates : pandas.Index of shape (n_dates,)
        The distinct dates in ascending order, named ``"date"``.
    offsets : ndarray of shape (n_dates + 1,)
        Rows of date ``g`` are ``order[offsets[g]:offsets[g + 1]]``.
    order : ndarray of shape (n_samples,) or (0,)
        Row permutation that lists the rows date by date (rows of one date keep
        their input order). Empty when the rows are already sorted by date.
    n_samples : int
        Number of rows the grouping was built for.
    """

    dates: pd.Index
    offsets: np.ndarray
    order: np.ndarray
    n_samples: int

    @property
    def n_dates(self) -> int:
        """Number of distinct dates."""
        return len(self.dates)

    @property
    def max_group_size(self) -> int:
        """Largest number of rows on one date."""
        return int(np.diff(self.offsets).max()) if self.n_dates else 0

    def codes(self) -> np.ndarray:
        """Return the date code (0..n_dates-1, in date order) of every row.

        Returns
        -------
        ndarray of shape (n_samples,)
            Integer code of each row's date, in the original row order.
        """
        by_group = np.repeat(np.arange(self.n_dates, dtype=np.int64), np.diff(self.offsets))
        if self.order.shape[0] == 0:
            return by_group
        out = np.empty(self.n_samples, np.int64)
        out[self.order] = by_group
        return out


def group_dates(dates: Any) -> DateGroups:
    """Group row indices by date once, for reuse across metric calls.

    Parameters
    ----------
    dates : array-like of shape (n_samples,) or DateGroups
        Date of each row; any sortable labels (datetime64, integers, strings).
        Missing dates (NaT, NaN, None) are an error. A :class:`DateGroups` is
        returned unchanged.

    Returns
    -------
    DateGroups
        The grouping. Rows already sorted by date take an O(n) path with no
        permutation; otherwise the dates are factorised and counting-sorted
        (stable).

    Raises
    ------
    ValueError
        If ``dates`` is not 1-dimensional or has missing values.
    """
    if isinstance(dates, DateGroups):
        return dates
    if isinstance(dates, (pd.Series, pd.Index)):
        idx = pd.Index(dates, copy=False)
        values = None
        if isinstance(idx, pd.DatetimeIndex):
            values = idx.asi8
        elif idx.dtype.kind in "iu":
            values = idx.to_numpy()
        arr = idx
    else:
        arr = np.asarray(dates)
        if arr.ndim != 1:
            raise ValueError(f"dates must be 1-dimensional; got shape {arr.shape}.")
        values = arr.view(np.int64) if arr.dtype.kind in "mM" and arr.dtype.itemsize == 8 else None
        if values is None and arr.dtype.kind in "iu":
            values = arr
    n = len(arr)
    if values is not None:
        values = np.ascontiguousarray(values, dtype=np.int64)
        offsets, is_sorted = _k.sorted_offsets(values)
        if is_sorted:
            uniq = arr[offsets[:-1]]
            if n and getattr(arr, "dtype", None) is not None and arr.dtype.kind in "mM" and pd.isna(uniq[0]):
                raise ValueError(f"dates has {int(pd.isna(arr).sum())} missing values (NaT); the first at row 0.")
            return DateGroups(dates=_date_index(uniq), offsets=offsets, order=np.empty(0, np.int64), n_samples=n)
        if not (arr.dtype.kind in "mM" and np.any(values == np.iinfo(np.int64).min)):  # no NaT
            codes, n_groups, first_row = _k.dense_codes(values, 4 * n + 1024)
            if n_groups >= 0:
                order, offsets = _k.group_order(codes, n_groups)
                return DateGroups(dates=_date_index(arr[first_row]), offsets=offsets, order=order, n_samples=n)
    codes, uniques = pd.factorize(arr, sort=True)
    if n and codes.min() < 0:
        bad = np.flatnonzero(codes < 0)
        raise ValueError(f"dates has {bad.size} missing values (NaT/NaN/None); the first at row {bad[0]}.")
    order, offsets = _k.group_order(codes.astype(np.int64, copy=False), len(uniques))
    return DateGroups(dates=_date_index(uniques), offsets=offsets, order=order, n_samples=n)


def _date_index(uniques: Any) -> pd.Index:
    idx = pd.Index(uniques)
    idx.name = "date"
    return idx


def _single_series(n: int) -> DateGroups:
    return DateGroups(
        dates=pd.Index(["all"], name="date"),
        offsets=np.array([0, n], dtype=np.int64),
        order=np.empty(0, np.int64),
        n_samples=n,
    )


def _prepare(y_true: Any, y_pred: Any, dates: Any) -> tuple[np.ndarray, np.ndarray, DateGroups]:
    yt = _as_float_1d(y_true, "y_true")
    yp = _as_float_1d(y_pred, "y_pred")
    _check_same_length(yt.shape[0], yp, "y_pred")
    if dates is None:
        groups = _single_series(yt.shape[0])
    else:
        if not isinstance(dates, DateGroups):
            _check_same_length(yt.shape[0], dates, "dates")
        groups = group_dates(dates)
        if groups.n_samples != yt.shape[0]:
            raise ValueError(
                f"dates (a DateGroups) was built for {groups.n_samples} rows but y_true has length "
                f"{yt.shape[0]}; build it with group_dates() on the same rows."
            )
    return yt, yp, groups


# --------------------------------------------------------------------------
# IC / Rank IC
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ICResult:
    """Per-date information coefficient and its summary.

    Attributes
    ----------
    mean : float
        Mean of the per-date coefficients over the dates used (NaN if none).
    std : float
        Their standard deviation, ``ddof=1`` (NaN with fewer than 2 dates).
    icir : float
        ``mean / std``, not annualised (NaN when ``std`` is NaN or 0).
    t_stat : float
        ``icir * sqrt(n_dates)``.
    n_dates : int
        Dates used: at least 2 valid rows and neither side constant.
    n_skipped : int
        Dates present in the input but skipped (their ``per_date`` is NaN).
    per_date : pandas.Series of shape (n_dates + n_skipped,)
        Coefficient per date, indexed by the sorted dates, NaN when skipped.
    method : str
        ``"spearman"`` (Rank IC) or ``"pearson"`` (IC).
    """

    mean: float
    std: float
    icir: float
    t_stat: float
    n_dates: int
    n_skipped: int
    per_date: pd.Series
    method: str

    def __repr__(self) -> str:
        """Show the summary fields (not the per-date table)."""
        return (
            f"ICResult(method={self.method!r}, mean={self.mean:.6g}, std={self.std:.6g}, "
            f"icir={self.icir:.6g}, t_stat={self.t_stat:.6g}, n_dates={self.n_dates}, "
            f"n_skipped={self.n_skipped})"
        )


def _summarise(corr: np.ndarray, groups: DateGroups, method: str, name: str) -> ICResult:
    return _result(pd.Series(corr, index=groups.dates, name=name), method, stacklevel=4)


def ic_result(per_date: pd.Series, method: str = "spearman") -> ICResult:
    """The :class:`ICResult` of per-date correlations computed elsewhere (NaN: a skipped date).

    :func:`rank_ic` and :func:`ic` summarise their per-date values with it; so does the
    rank IC of predictions spread over a cluster (:mod:`czar_gbdt.dask`), whose per-date
    values come from this module's kernels partition by partition.

    Parameters
    ----------
    per_date : pandas.Series of shape (n_dates,)
        Correlation per date, indexed by date.
    method : {"spearman", "pearson"}, default="spearman"
        Rank IC or IC; names the series ``"rank_ic"`` or ``"ic"``.

    Returns
    -------
    ICResult
    """
    if method not in ("spearman", "pearson"):
        raise ValueError(f"method must be 'spearman' or 'pearson'; got {method!r}.")
    name = "rank_ic" if method == "spearman" else "ic"
    values = pd.Series(np.asarray(per_date, dtype=np.float64), index=per_date.index, name=name)
    return _result(values, method, stacklevel=3)


def _result(per_date: pd.Series, method: str, stacklevel: int) -> ICResult:
    corr = per_date.to_numpy()
    name = per_date.name
    used = ~np.isnan(corr)
    n_used = int(used.sum())
    vals = corr[used]
    if n_used == 0:
        warnings.warn(
            f"{name}: none of the {len(corr)} dates has 2 or more rows with finite y_true and y_pred "
            "and non-constant values on both sides; mean is NaN.",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
    return ICResult(
        mean=float(vals.mean()) if n_used else math.nan,
        std=float(vals.std(ddof=1)) if n_used >= 2 else math.nan,
        icir=icir(vals),
        t_stat=t_stat(vals),
        n_dates=n_used,
        n_skipped=len(corr) - n_used,
        per_date=per_date,
        method=method,
    )


# --------------------------------------------------------------------------
# significance of a per-date series
# --------------------------------------------------------------------------


def _finite(values: Any) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    return x[np.isfinite(x)]


def icir(values: Any) -> float:
    """Information ratio of a per-date series: mean / standard deviation (``ddof=1``), not annualised.

    Parameters
    ----------
    values : array-like of shape (n_dates,)
        Per-date scores such as ``ICResult.per_date``; non-finite values (skipped dates) are dropped.

    Returns
    -------
    float
        NaN with fewer than 2 finite values or no spread.
    """
    x = _finite(values)
    sd = float(x.std(ddof=1)) if len(x) > 1 else 0.0
    return float(x.mean()) / sd if sd > 0 else math.nan


def t_stat(values: Any) -> float:
    """t-statistic of the mean of a per-date series: ``icir(values) * sqrt(n)``, ``n`` its finite values.

    It treats the dates as independent; with overlapping multi-period labels use
    :func:`newey_west_t`.

    Parameters
    ----------
    values : array-like of shape (n_dates,)
        Per-date scores; non-finite values are dropped.

    Returns
    -------
    float
        NaN with fewer than 2 finite values or no spread.
    """
    x = _finite(values)
    return icir(x) * math.sqrt(len(x))


def newey_west_t(values: Any, lags: int) -> float:
    """t-statistic of the mean of a series with Newey-West (Bartlett) standard errors.

    Per-date rank ICs of an h-day label are autocorrelated (consecutive dates share h-1
    of their return days), so :func:`t_stat` overstates the evidence; ``lags = h - 1``
    accounts for the overlap. ``lags = 0`` gives the plain t-stat (with the population
    variance).

    Parameters
    ----------
    values : array-like of shape (n,)
        The series (non-finite values are dropped).
    lags : int
        Autocovariance lags, >= 0.

    Returns
    -------
    float
        NaN with fewer than 2 finite values or no variance.
    """
    if isinstance(lags, bool) or not isinstance(lags, (int, np.integer)) or lags < 0:
        raise ValueError(f"lags must be an integer >= 0; got {lags!r}.")
    x = _finite(values)
    n = len(x)
    if n < 2:
        return math.nan
    u = x - x.mean()
    var = u @ u / n
    for lag in range(1, min(lags, n - 1) + 1):
        var += 2.0 * (1.0 - lag / (lags + 1.0)) * (u[lag:] @ u[:-lag]) / n
    return float(x.mean() / math.sqrt(var / n)) if var > 0 else math.nan


def _scratch(n_keys: int, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Key and rank scratch vectors (two uint64 of ``n_keys``, two float64 of ``n_rows``).

    Kept per thread and reused while ``n_rows <= _KEEP_BUFFER_ROWS`` (at most
    64 MB per thread): fresh pages cost about as much as filling them, and an
    eval metric calls again and again with the same sizes.
    """
    if n_rows > _KEEP_BUFFER_ROWS:
        return (
            np.empty(n_keys, np.uint64),
            np.empty(n_keys, np.uint64),
            np.empty(n_rows, np.float64),
            np.empty(n_rows, np.float64),
        )
    buf = getattr(_workspace, "buf", None)
    if buf is None or buf[0].shape[1] < n_rows:
        size = max(n_rows, 1024)
        buf = (np.empty((2, size), np.uint64), np.empty((2, size), np.float64))
        _workspace.buf = buf
    keys, ranks = buf
    return keys[0, :n_keys], keys[1, :n_keys], ranks[0, :n_rows], ranks[1, :n_rows]


def _grouped_spearman(yt: np.ndarray, yp: np.ndarray, groups: DateGroups) -> np.ndarray:
    order, offsets = groups.order, groups.offsets
    n_groups = groups.n_dates
    date_bits = int(max(n_groups - 1, 0)).bit_length()
    pos_bits = max(1, int(max(groups.max_group_size - 1, 0)).bit_length())
    val_bits = 64 - date_bits - pos_bits
    if val_bits < _MIN_VALUE_BITS:
        corr, _ = _k.grouped_spearman_direct(yt, yp, order, offsets)
        return corr
    if order.shape[0]:
        # gather once into date order: every later pass then reads contiguously
        yt = yt[order]
        yp = yp[order]
        order = order[:0]
    if groups.max_group_size <= 1 << _k.RADIX_POS_BITS:
        # 32-bit keys radix-sorted date by date; chunks of dates share their scratch
        return _k.grouped_spearman_radix(yt, yp, offsets, min(n_groups, _RADIX_CHUNKS))
    n_valid = _k.count_valid(yt, yp, order, offsets)
    off_c = np.zeros(n_groups + 1, np.int64)
    np.cumsum(n_valid, out=off_c[1:])
    date_shift = val_bits + pos_bits if date_bits > 0 else 64
    key_x, key_y, rank_x, rank_y = _scratch(int(off_c[-1]), yt.shape[0])
    _k.pack_rank_keys(yt, yp, order, offsets, off_c, date_shift, 64 - val_bits, pos_bits, key_x, key_y)
    _k.sort_group_keys(key_x, key_y, off_c)
    return _k.spearman_from_keys(yt, yp, order, offsets, off_c, key_x, key_y, pos_bits, rank_x, rank_y)


def rank_ic(y_true: Any, y_pred: Any, *, dates: Any = None) -> ICResult:
    """Rank IC: per-date Spearman correlation between target and prediction.

    For each date, the rows where both ``y_true`` and ``y_pred`` are finite are
    ranked (average ranks for ties) and the Pearson correlation of the ranks
    is taken, exactly as ``df.groupby("date")[["y", "p"]].corr(method="spearman")``
    does (pairwise deletion of NaN rows). A date with fewer than 2 valid rows or
    with a constant side gives NaN and is skipped in the summary.

    {params}

    Returns
    -------
    ICResult
        ``mean``, ``std`` (ddof=1), ``icir`` = mean / std, ``t_stat`` =
        icir * sqrt(n_dates), ``n_dates`` used, ``n_skipped`` and ``per_date``.

    Raises
    ------
    ValueError
        If the arrays are not 1-dimensional, not numeric, or not aligned.

    Notes
    -----
    Infinite values are treated like NaN (dropped), where pandas would rank
    them. The work runs in numba over all dates at once: packed (value,
    position) keys per side, radix-sorted date by date in parallel, then ranks
    and correlations per date; there is no Python loop per date.

    Examples
    --------
    >>> import numpy as np
    >>> from czar_gbdt import metrics
    >>> res = metrics.rank_ic([1, 2, 3, 4], [10, 20, 40, 30], dates=[0, 0, 1, 1])
    >>> res.per_date.tolist(), res.n_dates
    ([1.0, -1.0], 2)
    """
    yt, yp, groups = _prepare(y_true, y_pred, dates)
    corr = _grouped_spearman(yt, yp, groups)
    return _summarise(corr, groups, "spearman", "rank_ic")


def ic(y_true: Any, y_pred: Any, *, dates: Any = None) -> ICResult:
    """IC: per-date Pearson correlation between target and prediction.

    Same conventions as :func:`rank_ic` (pairwise deletion of non-finite rows,
    NaN and skipped for dates with fewer than 2 valid rows or a constant side),
    with Pearson instead of Spearman correlation.

    {params}

    Returns
    -------
    ICResult
        See :class:`ICResult`; ``method`` is ``"pearson"``.

    Raises
    ------
    ValueError
        If the arrays are not 1-dimensional, not numeric, or not aligned.
    """
    yt, yp, groups = _prepare(y_true, y_pred, dates)
    corr, _ = _k.grouped_pearson(yt, yp, groups.order, groups.offsets)
    return _summarise(corr, groups, "pearson", "ic")


def mean_rank_ic(y_true: Any, y_pred: Any, *, dates: Any = None) -> float:
    """Mean Rank IC over dates, ``rank_ic(...).mean`` (higher is better).

    {mean}
    """
    return rank_ic(y_true, y_pred, dates=dates).mean


def mean_ic(y_true: Any, y_pred: Any, *, dates: Any = None) -> float:
    """Mean IC over dates, ``ic(...).mean`` (higher is better).

    {mean}
    """
    return ic(y_true, y_pred, dates=dates).mean


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
    yt, yp, groups = _prepare(y_true, y_pred, dates)
    check_unweighted("ts_rank_ic", sample_weight, yt.shape[0])
    if dates is not None and groups.max_group_size > 1:
        sizes = np.diff(groups.offsets)
        g = int(np.argmax(sizes))
        raise ValueError(f"ts_rank_ic scores one series, one row per date; date {groups.dates[g]} has {sizes[g]} "
                         "rows (a cross-section: use rank_ic, or pass one asset's rows).")
    corr = _grouped_spearman(yt, yp, _single_series(yt.shape[0]))
    if np.isnan(corr[0]):
        warnings.warn("ts_rank_ic: fewer than 2 rows with finite y_true and y_pred, or a constant side; "
                      "returning NaN.", RuntimeWarning, stacklevel=2)
    return float(corr[0])


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
    yt, yp, groups = _prepare(y_true, y_pred, dates)
    n = yt.shape[0]
    if assets is None:
        codes = np.zeros(n, dtype=np.int64)
    else:
        _check_same_length(n, assets, "assets")
        codes, _ = pd.factorize(np.asarray(assets))
        if n and codes.min() < 0:
            bad = np.flatnonzero(codes < 0)
            raise ValueError(f"assets has {bad.size} missing values; the first at row {bad[0]}.")
    ok = np.isfinite(yt) & np.isfinite(yp)
    terms = np.full(n, np.nan)
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
    date_codes = groups.codes()
    valid = np.isfinite(terms)
    count = np.bincount(date_codes[valid], minlength=groups.n_dates)
    total = np.bincount(date_codes[valid], weights=terms[valid], minlength=groups.n_dates)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_date = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if not valid.any():
        warnings.warn("ts_rank_ic_by_date: no asset has 2 or more rows with finite y_true and y_pred and "
                      "non-constant values on both sides; every term is NaN.", RuntimeWarning, stacklevel=2)
    return pd.Series(per_date, index=groups.dates, name="ts_rank_ic")


def _fill_doc(func: Callable[..., Any]) -> None:
    # shared parameter text; docstrings are absent under ``python -OO``
    if func.__doc__:
        func.__doc__ = (func.__doc__.replace("{mean}", _DOC_MEAN).replace("{params}", _DOC_PARAMS)
                        .replace("{y}", _DOC_Y).replace("{dates}", _DOC_DATES))


for _f in (rank_ic, ic, mean_rank_ic, mean_ic, ts_rank_ic, ts_rank_ic_by_date):
    _fill_doc(_f)


# --------------------------------------------------------------------------
# directional accuracy
# --------------------------------------------------------------------------


def directional_accuracy(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Share of rows whose prediction has the sign of the target.

    A row counts as correct when ``sign(y_pred) == sign(y_true)``; rows with a
    target of exactly 0, or a non-finite target or prediction, are left out. A
    prediction of exactly 0 is never correct (the target is non-zero).

    Parameters
    ----------
    {y}
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative finite row weights; the result is the weighted share.

    Returns
    -------
    float
        Share in [0, 1]; NaN (with a RuntimeWarning) when no row is eligible.

    Raises
    ------
    ValueError
        If the arrays are not aligned, or a weight is negative or not finite.
    """
    yt = _as_float_1d(y_true, "y_true")
    yp = _as_float_1d(y_pred, "y_pred")
    _check_same_length(yt.shape[0], yp, "y_pred")
    if sample_weight is None:
        w = np.empty(0, np.float64)
    else:
        w = _as_float_1d(sample_weight, "sample_weight")
        _check_same_length(yt.shape[0], w, "sample_weight")
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"sample_weight must be finite and >= 0; {int(bad.sum())} rows are not, the first at row {i} "
                f"(value {w[i]})."
            )
    hits, total = _k.directional_counts(yt, yp, w)
    if total <= 0:
        warnings.warn(
            "directional_accuracy: no row has a finite, non-zero target and a finite prediction "
            "(with positive weight); returning NaN.",
            RuntimeWarning,
            stacklevel=2,
        )
        return math.nan
    return float(hits / total)


_fill_doc(directional_accuracy)


# --------------------------------------------------------------------------
# top-k long-short
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TopKResult:
    """Top-k long-short backtest summary.

    Attributes
    ----------
    k : int
        Assets per leg.
    mean_spread : float
        Mean over traded dates of (mean target of the k highest predictions)
        minus (mean target of the k lowest).
    std_spread : float
        Standard deviation of the spread, ``ddof=1``.
    sharpe : float
        ``mean_spread / std_spread * sqrt(periods_per_year)``.
    mean_turnover : float
        Mean of ``sum_a |w_a(t) - w_a(t_prev)|`` over traded dates, in [0, 4]
        (the first traded date counts 2: the book is built from cash).
    cost : float
        Cost per unit of turnover used for the net figures.
    mean_net_spread : float
        Mean of ``spread - cost * turnover``.
    net_sharpe : float
        Annualised Sharpe of the net spread.
    n_dates : int
        Traded dates (at least ``2 * k`` valid rows).
    n_skipped : int
        Dates with fewer than ``2 * k`` valid rows (NaN in ``per_date``).
    periods_per_year : float
        Annualisation factor used.
    per_date : pandas.DataFrame of shape (n_dates + n_skipped, 4)
        Columns ``spread``, ``turnover``, ``net_spread``, ``n_assets`` (valid
        rows that date), indexed by date.
    """

    k: int
    mean_spread: float
    std_spread: float
    sharpe: float
    mean_turnover: float
    cost: float
    mean_net_spread: float
    net_sharpe: float
    n_dates: int
    n_skipped: int
    periods_per_year: float
    per_date: pd.DataFrame

    def __repr__(self) -> str:
        """Show the summary fields (not the per-date table)."""
        return (
            f"TopKResult(k={self.k}, mean_spread={self.mean_spread:.6g}, sharpe={self.sharpe:.6g}, "
            f"mean_turnover={self.mean_turnover:.6g}, cost={self.cost:.6g}, "
            f"mean_net_spread={self.mean_net_spread:.6g}, net_sharpe={self.net_sharpe:.6g}, "
            f"n_dates={self.n_dates}, n_skipped={self.n_skipped})"
        )


def _sharpe(x: np.ndarray, periods_per_year: float) -> tuple[float, float, float]:
    n = x.shape[0]
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n >= 2 else math.nan
    sharpe = mean / std * math.sqrt(periods_per_year) if std > 0 else math.nan
    return mean, std, sharpe


def top_k_long_short(
    y_true: Any,
    y_pred: Any,
    *,
    dates: Any,
    assets: Any,
    k: int = 5,
    cost: float = 0.0,
    periods_per_year: float = 252,
) -> TopKResult:
    """Top-k long-short portfolio: long the k highest predictions, short the k lowest.

    Each date with at least ``2 * k`` valid rows (finite target and
    prediction) is traded: weight ``+1/k`` on the k assets with the highest
    prediction, ``-1/k`` on the k lowest, held for one period, so the date's
    return is the spread ``mean(y_true[long]) - mean(y_true[short])``. Ties in
    the prediction are broken by asset label (sorted): among equal
    predictions the short leg takes the lowest labels, the long leg the
    highest. Other dates are skipped and counted.

    Turnover on a traded date is ``sum_a |w_a(t) - w_a(t_prev)|`` over all
    assets, where ``t_prev`` is the previous traded date (the book is held
    through skipped dates) and the book before the first traded date is empty,
    so that date counts 2. It lies in [0, 4]: 0 when the book is unchanged,
    4 when both legs are replaced by the opposite legs. The net spread is
    ``spread - cost * turnover``.

    Parameters
    ----------
    {y}
    dates : array-like of shape (n_samples,) or DateGroups
        Date of each row.
    assets : array-like of shape (n_samples,)
        Asset label of each row; a (date, asset) pair may appear only once.
    k : int, default=5
        Assets per leg, >= 1.
    cost : float, default=0.0
        Cost per unit of turnover, in target units (0.001 = 10 bp per unit of
        weight traded), >= 0.
    periods_per_year : float, default=252
        Annualisation factor for the Sharpe ratios (252 for daily rebalancing).
        With an h-period target and daily dates the periods overlap; use the
        rebalancing frequency that matches the target.

    Returns
    -------
    TopKResult
        Mean spread, annualised Sharpe, mean turnover, net spread and Sharpe,
        dates traded and skipped, and the per-date table.

    Raises
    ------
    ValueError
        If the inputs are not aligned, ``k``, ``cost`` or ``periods_per_year``
        are out of range, or a (date, asset) pair is duplicated.
    """
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1; got {k!r}.")
    k = int(k)
    if not (isinstance(cost, (int, float, np.floating, np.integer)) and np.isfinite(cost) and cost >= 0):
        raise ValueError(f"cost must be a finite number >= 0; got {cost!r}.")
    if not (
        isinstance(periods_per_year, (int, float, np.floating, np.integer))
        and np.isfinite(periods_per_year)
        and periods_per_year > 0
    ):
        raise ValueError(f"periods_per_year must be a finite number > 0; got {periods_per_year!r}.")
    if dates is None:
        raise ValueError("dates is required for top_k_long_short (one portfolio per date); got None.")
    yt, yp, groups = _prepare(y_true, y_pred, dates)
    if assets is None:
        raise ValueError("assets is required for top_k_long_short (turnover follows each asset); got None.")
    _check_same_length(yt.shape[0], assets, "assets")
    asset_codes, asset_labels = pd.factorize(assets if isinstance(assets, pd.Index) else np.asarray(assets), sort=True)
    if asset_codes.size and asset_codes.min() < 0:
        bad = np.flatnonzero(asset_codes < 0)
        raise ValueError(f"assets has {bad.size} missing values; the first at row {bad[0]}.")
    asset_codes = asset_codes.astype(np.int64, copy=False)
    date_codes = groups.codes()
    order = np.lexsort((asset_codes, date_codes)).astype(np.int64, copy=False)
    dc = date_codes[order]
    ac = asset_codes[order]
    dup = (dc[1:] == dc[:-1]) & (ac[1:] == ac[:-1])
    if dup.any():
        pos = np.flatnonzero(dup)
        shown = ", ".join(f"({groups.dates[dc[p]]}, {asset_labels[ac[p]]})" for p in pos[:5])
        raise ValueError(f"(date, asset) pairs must be unique; {pos.size} duplicated rows, e.g. {shown}.")
    spread, n_valid, long_a, short_a = _k.top_k_select(yt, yp, asset_codes, order, groups.offsets, k)
    used = ~np.isnan(spread)
    turnover = _k.top_k_turnover(long_a, short_a, used, max(len(asset_labels), 1))
    net = spread - cost * turnover
    mean_s, std_s, sharpe = _sharpe(spread[used], periods_per_year)
    mean_n, _, net_sharpe = _sharpe(net[used], periods_per_year)
    n_used = int(used.sum())
    if n_used == 0:
        warnings.warn(
            f"top_k_long_short: no date has 2*k = {2 * k} rows with finite y_true and y_pred; all figures are NaN.",
            RuntimeWarning,
            stacklevel=2,
        )
    per_date = pd.DataFrame(
        {"spread": spread, "turnover": turnover, "net_spread": net, "n_assets": n_valid},
        index=groups.dates,
    )
    return TopKResult(
        k=k,
        mean_spread=mean_s,
        std_spread=std_s,
        sharpe=sharpe,
        mean_turnover=float(turnover[used].mean()) if n_used else math.nan,
        cost=float(cost),
        mean_net_spread=mean_n,
        net_sharpe=net_sharpe,
        n_dates=n_used,
        n_skipped=len(spread) - n_used,
        periods_per_year=float(periods_per_year),
        per_date=per_date,
    )


_fill_doc(top_k_long_short)


# --------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A scalar metric with the metadata a backend eval wrapper needs.

    Attributes
    ----------
    name : str
        Registry key.
    func : callable
        ``func(y_true, y_pred, **kwargs) -> float``; per-date metrics take
        ``dates=`` (an array or a :class:`DateGroups`), the others
        ``sample_weight=``.
    higher_is_better : bool
        Direction for early stopping and tuning.
    needs_dates : bool
        Whether ``func`` takes ``dates=``.
    """

    name: str
    func: Callable[..., float]
    higher_is_better: bool
    needs_dates: bool


#: Scalar metrics by name, for configs, backend eval wrappers and the tuner.
METRICS: dict[str, Metric] = {
    "rank_ic": Metric("rank_ic", mean_rank_ic, higher_is_better=True, needs_dates=True),
    "ic": Metric("ic", mean_ic, higher_is_better=True, needs_dates=True),
    "directional_accuracy": Metric(
        "directional_accuracy", directional_accuracy, higher_is_better=True, needs_dates=False
    ),
    "ts_rank_ic": Metric("ts_rank_ic", ts_rank_ic, higher_is_better=True, needs_dates=False),
    # Allora's scores that are higher-is-better (its two p-values are pass/fail tests, not targets)
    **{t.name: Metric(t.name, allora.METRIC_FUNCTIONS[t.name], higher_is_better=True, needs_dates=False)
       for t in allora.PRIMARY if t.higher_is_better},
}

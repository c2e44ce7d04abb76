"""Per-date correlations: Rank IC (Spearman) and IC (Pearson), summarised as an :class:`ICResult`."""

from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._kernels import metrics as _k
from ._docs import fill_doc
from .grouping import DateGroups, prepare
from .significance import icir, t_stat

# fewer value bits than this in a packed key: use the per-date argsort kernel
_MIN_VALUE_BITS = 20
# dates per parallel chunk of the radix kernel: enough chunks to balance the threads
_RADIX_CHUNKS = 64
# scratch vectors up to this many rows are kept per thread and reused (see _scratch)
_KEEP_BUFFER_ROWS = 1 << 21
_workspace = threading.local()


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


def grouped_spearman(yt: np.ndarray, yp: np.ndarray, groups: DateGroups) -> np.ndarray:
    """Per-date Spearman correlation: the radix, packed-key or direct kernel, by the bits a key has."""
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


@fill_doc
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
    yt, yp, groups = prepare(y_true, y_pred, dates)
    corr = grouped_spearman(yt, yp, groups)
    return _summarise(corr, groups, "spearman", "rank_ic")


@fill_doc
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
    yt, yp, groups = prepare(y_true, y_pred, dates)
    corr, _ = _k.grouped_pearson(yt, yp, groups.order, groups.offsets)
    return _summarise(corr, groups, "pearson", "ic")


@fill_doc
def mean_rank_ic(y_true: Any, y_pred: Any, *, dates: Any = None) -> float:
    """Mean Rank IC over dates, ``rank_ic(...).mean`` (higher is better).

    {mean}
    """
    return rank_ic(y_true, y_pred, dates=dates).mean


@fill_doc
def mean_ic(y_true: Any, y_pred: Any, *, dates: Any = None) -> float:
    """Mean IC over dates, ``ic(...).mean`` (higher is better).

    {mean}
    """
    return ic(y_true, y_pred, dates=dates).mean

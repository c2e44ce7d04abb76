"""The date-grouping engine: rows grouped by date once (:class:`DateGroups`), and the input checks.

Grouping rows by date is a large part of a per-date metric's cost: :func:`group_dates` does
it once and every metric of the package accepts the result in place of ``dates``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._kernels import metrics as _k


def as_float_1d(x: Any, name: str) -> np.ndarray:
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


def check_same_length(n: int, other: Any, name: str, ref: str = "y_true") -> None:
    """Raise a ValueError naming ``name`` and ``ref`` unless ``other`` has ``n`` rows."""
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


def single_series(n: int) -> DateGroups:
    """The grouping of ``n`` rows taken as one series: one "date" labelled ``"all"``."""
    return DateGroups(
        dates=pd.Index(["all"], name="date"),
        offsets=np.array([0, n], dtype=np.int64),
        order=np.empty(0, np.int64),
        n_samples=n,
    )


def prepare(y_true: Any, y_pred: Any, dates: Any) -> tuple[np.ndarray, np.ndarray, DateGroups]:
    """``(y_true, y_pred, groups)`` checked and aligned: float64 vectors and their date grouping."""
    yt = as_float_1d(y_true, "y_true")
    yp = as_float_1d(y_pred, "y_pred")
    check_same_length(yt.shape[0], yp, "y_pred")
    if dates is None:
        groups = single_series(yt.shape[0])
    else:
        if not isinstance(dates, DateGroups):
            check_same_length(yt.shape[0], dates, "dates")
        groups = group_dates(dates)
        if groups.n_samples != yt.shape[0]:
            raise ValueError(
                f"dates (a DateGroups) was built for {groups.n_samples} rows but y_true has length "
                f"{yt.shape[0]}; build it with group_dates() on the same rows."
            )
    return yt, yp, groups

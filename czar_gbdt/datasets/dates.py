"""Dates: parsing a date column, the rules a table's dates follow, and period numbers held as dates.

One implementation of each rule, for a table in memory and for each partition of a table on a
Dask cluster (:mod:`czar_gbdt.cluster`): ``offset`` is the position in the whole table of the
first row given, so that a message names the row of the table either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import first_true
from .errors import DataError, argument, cell, setting

__all__ = [
    "PERIOD_LIMIT",
    "WIDE_DATES",
    "check_dates",
    "check_sorted",
    "date_text",
    "is_period",
    "parse_dates",
    "parse_periods",
    "period_index",
    "periods_shown",
]


def parse_dates(col: pd.Series, name: str, where: str, hint: str = "", *, offset: int = 0) -> pd.DatetimeIndex:
    """The dates of ``col`` (ISO strings, datetimes or YYYYMMDD integers); the error names the first
    value that is not a date, and its row (``offset`` + its position in ``col``)."""
    if isinstance(col.dtype, pd.DatetimeTZDtype) or col.dtype.kind == "M":
        return pd.DatetimeIndex(col)
    ints = col.dtype.kind in "iu"
    text = col.astype(str) if ints else col
    kwargs = {"format": "%Y%m%d"} if ints else {}
    try:
        return pd.DatetimeIndex(pd.to_datetime(text, **kwargs))
    except (ValueError, TypeError, OverflowError):
        pass
    try:
        coerced = pd.to_datetime(text, errors="coerce", **kwargs)
        bad = np.asarray(coerced.isna()) & np.asarray(col.notna())
    except (ValueError, TypeError, OverflowError):
        bad = np.ones(len(col), dtype=bool)
    i = first_true(bad) if bad.any() else 0
    value = cell(col.iloc[i])
    raise DataError(
        f"{where}: column {name!r} could not be parsed as dates: row {offset + i} has {value!r}"
        f"{f' ({int(bad.sum())} such rows)' if bad.sum() > 1 else ''}; use ISO dates (YYYY-MM-DD), datetimes, or "
        f"YYYYMMDD integers, one format throughout." + hint
    ) from None


def check_dates(
    dates: pd.DatetimeIndex, name: str, where: str, names: Mapping[str, str] | None, *, wide: bool, offset: int = 0
) -> None:
    """Refuse missing dates, and unsorted dates in a wide table (a long panel may sort them)."""
    nat = np.asarray(dates.isna())
    if nat.any():
        raise DataError(
            f"{where}: {int(nat.sum())} missing dates in {name!r}; the first at row {offset + first_true(nat)}."
        )
    if wide:
        d = dates.asi8
        down = d[1:] <= d[:-1]
        if down.any():
            i = first_true(down) + 1
            what = "repeats" if d[i] == d[i - 1] else "comes after"
            raise DataError(
                f"{where}: the dates in {name!r} must be unique and sorted ascending (one row per date); row {i} "
                f"has {dates[i].date()}, which {what} {dates[i - 1].date()} at row {i - 1}. Sort the file by date "
                "(dates that go backwards may also be a misread format: day/month against month/day)."
            )


def check_sorted(
    dates: pd.DatetimeIndex, name: str, where: str, names: Mapping[str, str] | None, *, offset: int = 0
) -> None:
    """Refuse dates of a long panel that go backwards (a date may repeat: one row per asset)."""
    d = dates.asi8
    down = d[1:] < d[:-1]
    if down.any():
        i = first_true(down) + 1
        raise DataError(
            f"{where}: dates in {name!r} must be sorted ascending; row {offset + i} has {dates[i].date()} after "
            f"{dates[i - 1].date()} at row {offset + i - 1}. Sort the table by date (or {setting(names, 'sort', True)})."
        )


#: How the first (date) column of a wide table is read (``dates`` of :func:`load_wide`).
WIDE_DATES = ("calendar", "periods")

# Period k is held as the stamp _PERIOD_ORIGIN + k nanoseconds: inside the first two seconds of
# 1970-01-01, where no calendar data has its dates, so that every output can print the period
# number back (date_text) while the splitter, the features and the scores see ordered stamps.
_PERIOD_ORIGIN = 10**9
#: Period numbers must be below this in absolute value.
PERIOD_LIMIT = 10**9


def period_index(periods: Any) -> pd.DatetimeIndex:
    """Integer period numbers as the ordered stamps a panel's dates are (see :func:`date_text`)."""
    k = np.asarray(periods, dtype=np.int64)
    if k.size and np.abs(k).max() >= PERIOD_LIMIT:
        raise ValueError(f"period numbers must be below {PERIOD_LIMIT:,} in absolute value.")
    return pd.DatetimeIndex(k + _PERIOD_ORIGIN, name="date")


def is_period(when: Any) -> bool:
    """Whether a stamp is a period number held by :func:`period_index`."""
    return isinstance(when, pd.Timestamp) and 0 < when.value < 2 * _PERIOD_ORIGIN


def date_text(when: Any) -> str:
    """How outputs print a date: ``2024-01-31`` (a day), the ISO time stamp, or the period number
    of a table read with ``dates = "periods"``."""
    if is_period(when):
        return str(when.value - _PERIOD_ORIGIN)
    if isinstance(when, pd.Timestamp):
        return str(when.date()) if when == when.normalize() else when.isoformat()
    return str(when)


def periods_shown(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its period stamps (the index, datetime columns) as the period numbers, for
    the CSV files and figures of a table read with ``dates = "periods"``; calendar dates are
    left as they are."""
    out = frame
    if isinstance(out.index, pd.DatetimeIndex) and len(out.index) and is_period(out.index[0]):
        out = out.set_axis(pd.Index(out.index.asi8 - _PERIOD_ORIGIN, name="period"), axis=0)
    for c in out.columns:
        col = out[c]
        if col.dtype.kind == "M" and col.notna().any() and is_period(col.dropna().iloc[0]):
            out = out.assign(**{str(c): col.to_numpy().astype(np.int64) - _PERIOD_ORIGIN})
    return out


def parse_periods(col: pd.Series, name: str, where: str, names: Mapping[str, str] | None) -> pd.DatetimeIndex:
    """The period numbers of ``col`` (integers, unique and ascending), as :func:`period_index` stamps."""
    key = argument(names, "dates")
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values != np.round(values)) | (np.abs(values) >= PERIOD_LIMIT)
    if bad.any():
        i = first_true(bad)
        raise DataError(
            f'{where}: {key} = "periods" reads column {name!r} as period numbers (integers); row {i} '
            f"has {cell(col.iloc[i])!r}."
        )
    k = values.astype(np.int64)
    down = k[1:] <= k[:-1]
    if down.any():
        i = first_true(down) + 1
        what = "repeats" if k[i] == k[i - 1] else "comes after"
        raise DataError(
            f"{where}: the periods in {name!r} must be unique and ascending (one row per period); row {i} "
            f"has {k[i]}, which {what} {k[i - 1]} at row {i - 1}."
        )
    return period_index(k)

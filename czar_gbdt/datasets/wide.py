"""Wide tables (one row per date, one column per asset): reading them as simple returns, checked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import first_true
from .checks import first_non_numeric
from .dates import WIDE_DATES, check_dates, date_text, parse_dates, parse_periods
from .errors import DataError, argument, cell, setting
from .files import read_table

__all__ = [
    "BAR_COLUMNS",
    "EXTREME_RETURNS",
    "RETURN_SCALE_LIMIT",
    "WIDE_VALUES",
    "extreme_returns",
    "load_wide",
    "to_returns",
]

#: What the cells of a wide table hold (``values`` of :func:`load_wide` and :func:`to_returns`).
WIDE_VALUES = ("returns", "log_returns", "prices")

#: A column of a wide table whose median absolute value exceeds this is not a table of
#: per-period simple returns (a 50% median move per period): prices or percent.
RETURN_SCALE_LIMIT = 0.5

_LAYOUT_HINT = (
    "If the file is a long panel (one row per date and asset) with its own column names, {layout} "
    "and name its columns in [data.panel]"
)


def to_returns(
    table: pd.DataFrame, values: str = "returns", *, where: str = "returns", names: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Simple returns (as decimals) of a wide table of returns, log returns or prices, checked.

    Parameters
    ----------
    table : pandas.DataFrame of shape (n_dates, n_assets)
        One row per date (the index), one column per asset. NaN marks a missing value (an
        asset not yet listed, or delisted); missing values are never filled.
    values : {"returns", "log_returns", "prices"}, default="returns"
        What the cells hold: simple returns as decimals (> -1), log returns, or prices
        (> 0). The simple return at t of prices is ``p_t / p_{t-1} - 1``: NaN where
        either price is missing, and on the first date.
    where : str
        How messages name the table (a path).
    names : mapping, optional
        How messages name the arguments (``values``) when a configuration loads the data:
        ``{"values": "data.wide.values"}``.

    Returns
    -------
    pandas.DataFrame
        Simple returns, float64, same index and columns.

    Raises
    ------
    DataError
        For a non-numeric or infinite value, a return <= -1, a price <= 0 (each with its
        row, date and asset), and a column whose median absolute return exceeds
        :data:`RETURN_SCALE_LIMIT` (prices or percent given as returns).
    """
    if values not in WIDE_VALUES:
        raise ValueError(f"{argument(names, 'values')} must be one of {WIDE_VALUES}; got {values!r}.")
    index = table.index

    def at(r: int, c: int) -> str:
        return f"row {r} (date {date_text(index[r])}, asset {table.columns[c]!r})"

    for c, name in enumerate(table.columns):
        r = first_non_numeric(table[name])
        if r is not None:
            raise DataError(
                f"{where}: {values} must be numeric; column {name!r} has {cell(table[name].iloc[r])!r} at {at(r, c)}"
                + (
                    f". {_LAYOUT_HINT.format(layout=setting(names, 'layout', 'long'))}"
                    if "layout" in (names or {})
                    else "."
                )
            )
    try:
        v = table.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {values} must be numeric (simple returns as decimals).") from None
    inf = np.isinf(v)
    if inf.any():
        r, c = np.argwhere(inf)[0]
        raise DataError(
            f"{where}: {values} has infinite values ({int(inf.sum())}), the first {v[r, c]} at "
            f"{at(r, c)}; use NaN (an empty cell) for a missing value."
        )
    if values == "returns":
        _check_scale(v, table.columns, values, where, names)
        low = v <= -1
        if low.any():
            r, c = np.argwhere(low)[0]
            raise DataError(
                f"{where}: returns must be simple returns as decimals, > -1; got {v[r, c]} at {at(r, c)}"
                f"{' (percent instead of decimals?)' if v[r, c] <= -100 else ''}."
                + ("" if v[r, c] <= -100 else f" Log returns? {setting(names, 'values', 'log_returns')}.")
            )
        simple = v
    elif values == "log_returns":
        simple = np.expm1(v)
    else:
        low = v <= 0
        if low.any():
            r, c = np.argwhere(low)[0]
            raise DataError(
                f"{where}: prices must be > 0; got {v[r, c]} at {at(r, c)}. Returns? "
                f"{setting(names, 'values', 'returns')}."
            )
        simple = np.full_like(v, np.nan)
        simple[1:] = v[1:] / v[:-1] - 1.0  # NaN where either price is missing: nothing is filled
    _check_scale(simple, table.columns, values, where, names)
    return pd.DataFrame(simple, index=index, columns=table.columns)


def _check_scale(
    simple: np.ndarray, columns: pd.Index, values: str, where: str, names: Mapping[str, str] | None
) -> None:
    """Refuse a column whose median absolute simple return exceeds :data:`RETURN_SCALE_LIMIT`."""
    with np.errstate(all="ignore"):
        finite = np.isfinite(simple)
        counts = finite.sum(axis=0)
        med = np.array(
            [np.median(np.abs(simple[finite[:, c], c])) if counts[c] >= 5 else 0.0 for c in range(simple.shape[1])]
        )
    big = med > RETURN_SCALE_LIMIT
    if big.any():
        c = first_true(big)
        hint = (
            f"Prices? {setting(names, 'values', 'prices')}. Percent returns? Divide them by 100"
            if values != "prices"
            else "Check the values"
        )
        raise DataError(
            f"{where}: column {columns[c]!r} does not look like {values}: the median absolute simple return is "
            f"{med[c]:.3g} per period ({med[c]:.0%}). {hint}. An index or date column must not be an asset column."
        )


#: A single-period simple return above the first or below the second bound is worth a look
#: (a price error, an unadjusted split, percent read as decimals): a warning, not a refusal.
EXTREME_RETURNS = (10.0, -0.95)


def extreme_returns(returns: pd.DataFrame) -> str | None:
    """One line naming the first date and asset of a simple return above 10 (1,000%) or below
    -0.95 (:data:`EXTREME_RETURNS`) in a wide table of returns, and how many there are; None
    when there is none."""
    high, low = EXTREME_RETURNS
    v = returns.to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = (v > high) | (v < low)
    if not bad.any():
        return None
    r, c = np.argwhere(bad)[0]  # the earliest
    date = date_text(returns.index[r])
    n = int(bad.sum())
    return (
        f"{n} single-period return{'s' if n > 1 else ''} above {high:,.0%} or below {low:.0%}, the first "
        f"{v[r, c]:+.4g} ({v[r, c]:+,.0%}) on {date} for asset {str(returns.columns[c])!r}: check the data (a price "
        f"error, an unadjusted split, percent read as decimals?)."
    )


#: The column names of one instrument's bars (case-insensitive): a table with two or more of
#: them is one asset's price file, not a table of assets.
BAR_COLUMNS = ("open", "high", "low", "close", "adj close", "adj_close", "adjclose", "volume")


def _refuse_bars(table: pd.DataFrame, where: str, values: str, names: Mapping[str, str] | None) -> None:
    """Refuse the columns of one instrument's bars (Open, High, Low, Close, Adj Close, Volume) read
    as assets: each would become an "asset" and the rank IC would compare a price with itself."""
    bars = [str(c) for c in table.columns if str(c).strip().lower() in BAR_COLUMNS]
    if len(bars) < 2:
        return
    adjusted = [c for c in bars if c.strip().lower().replace("_", " ") in ("adj close", "adjclose")]
    close = [c for c in bars if c.strip().lower() == "close"]
    picks = (adjusted + close)[:2] or bars[:1]
    key = (names or {}).get("columns")
    how = " (or ".join(f'set {key} = ["{c}"]' if key else f"pass columns=[{c!r}]" for c in picks)
    how += ")" * (len(picks) - 1)
    also = "" if values == "prices" else f", and {setting(names, 'values', 'prices')}"
    raise DataError(
        f"{where}: the columns {bars} are the bars of one instrument, not assets; to forecast that one "
        f"series, {how}{also}. A table of several assets has one column per asset."
    )


def load_wide(
    source: Any,
    *,
    values: str = "returns",
    date_col: str | None = None,
    columns: Sequence[str] | None = None,
    dates: str = "calendar",
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read a wide table (one row per date, one column per asset) as simple returns, checked.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        CSV or Parquet file (see :func:`read_table`), or a DataFrame.
    values : {"returns", "log_returns", "prices"}, default="returns"
        What the cells hold (see :func:`to_returns`).
    date_col : str, optional
        The date column; ``None`` (or ``""``): a DataFrame's DatetimeIndex, else the first
        column. Dates may be ISO strings, datetimes or YYYYMMDD integers; they must be
        unique and ascending.
    columns : sequence of str, optional
        The asset columns to keep (one: a single series), selected before the values are
        checked; ``None`` keeps every column, and then a table whose columns are the bars of
        one instrument (two or more of :data:`BAR_COLUMNS`: Open, High, Low, Close,
        Adj Close, Volume) is refused, naming them.
    dates : {"calendar", "periods"}, default "calendar"
        ``"periods"`` reads the date column as integer period numbers (a row index, a month
        count), unique and ascending, instead of calendar dates; they are held as
        :func:`period_index` stamps and every output prints them as the period numbers
        (:func:`date_text`). An integer column that is not YYYYMMDD is refused with
        ``"calendar"``, and the message names this argument.
    names : mapping, optional
        How messages name the arguments (``values``, ``date_col``, ``columns``, ``dates``)
        when a configuration loads the data.

    Returns
    -------
    pandas.DataFrame of shape (n_dates, n_assets)
        Simple returns as decimals, a DatetimeIndex named ``"date"``, columns named
        ``"asset"``: what :func:`czar_gbdt.features.build_features` takes. Missing
        values stay NaN.

    Raises
    ------
    DataError
        Naming the column, row, date and asset of the first bad value (see
        :func:`to_returns`), unparsable, missing, repeated or unsorted dates, and a table
        without an asset column. A single asset is accepted.
    """
    df, where = read_table(source)
    if date_col:
        if date_col not in df.columns:
            raise DataError(
                f"{where}: {argument(names, 'date_col')} {date_col!r} is not a column; columns: "
                f"{list(df.columns)[:20]}."
            )
        raw, name, table = df[date_col], date_col, df.drop(columns=date_col)
    elif isinstance(df.index, pd.DatetimeIndex):
        raw, name, table = df.index.to_series(index=np.arange(len(df))), df.index.name or "index", df
    else:
        if df.shape[1] == 0:
            raise DataError(f"{where}: the table has no columns.")
        name = df.columns[0]
        raw, table = df[name], df.drop(columns=name)
    if table.shape[1] == 0:
        raise DataError(
            f"{where}: a wide table needs a date column and at least one asset column; it has only {name!r}."
        )
    if len(df) == 0:
        raise DataError(f"{where}: the table has no rows.")
    if dates not in WIDE_DATES:
        raise ValueError(f"{argument(names, 'dates')} must be one of {WIDE_DATES}; got {dates!r}.")
    col = pd.Series(np.asarray(raw))
    if dates == "periods":
        index = parse_periods(col, str(name), where, names)
    else:
        hint = (
            ""
            if date_col
            else (
                f" The first column is read as the dates: if the dates are in another column, "
                f"{setting(names, 'date_col', 'date')} (its name)."
            )
        )
        if col.dtype.kind in "iu":
            hint += f" If it holds period numbers (a row index, a period count), {setting(names, 'dates', 'periods')}."
        index = parse_dates(col, str(name), where, hint)
        check_dates(index, str(name), where, names, wide=True)
    table = table.set_axis(pd.DatetimeIndex(index, name="date"), axis=0)
    table.columns = pd.Index([str(c) for c in table.columns], name="asset")
    if columns:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise DataError(
                f"{where}: {argument(names, 'columns')} names {missing}, which the table does not have; its "
                f"asset columns are {list(map(str, table.columns))}."
            )
        table = table[list(columns)]
    else:
        _refuse_bars(table, where, values, names)
    return to_returns(table, values, where=where, names=names)

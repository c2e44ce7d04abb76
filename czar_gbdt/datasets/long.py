"""Long panels (one row per date and asset, features and a target): :func:`load_panel`.

Loading is a sequence of named rules, each in its own module so that a Parquet panel on a Dask
cluster (:mod:`czar_gbdt.cluster`) follows the same ones: the roles of the columns
(:func:`~czar_gbdt.datasets.columns.resolve_columns`), the rows before their order
(:func:`check_rows`), the order of the dates (:func:`~czar_gbdt.datasets.dates.check_sorted`),
one row per (date, asset), and the values of the target and the side columns
(:func:`~czar_gbdt.datasets.checks.labels_and_side`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .checks import (
    Rows,
    check_assets,
    check_features,
    check_unique_pairs,
    labels_and_side,
)
from .columns import PanelColumns, resolve_columns
from .dates import check_dates, check_sorted, parse_dates
from .files import read_table
from .panel import Panel

__all__ = ["check_rows", "load_panel", "panel_rows"]


def load_panel(
    source: Any,
    *,
    date_col: str = "date",
    asset_col: str = "asset",
    target_col: str = "target",
    feature_cols: Sequence[str] | None = None,
    std_col: str | None = None,
    mean_col: str | None = None,
    weight_col: str | None = None,
    sort: bool = False,
    names: Mapping[str, str] | None = None,
) -> Panel:
    """Load a user's long panel (CSV or Parquet) with clear errors.

    The table has one row per (date, asset): a date column, an asset column,
    feature columns, the target, and optionally per-row ``std`` / ``mean``
    (for z-scored losses) and ``weight`` columns.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        ``.csv`` (optionally ``.gz``/``.bz2``/``.zip``/``.xz``), ``.tsv`` or
        ``.parquet`` file, or a DataFrame already in memory.
    date_col, asset_col, target_col : str
        Column names. Dates may be ISO strings, datetimes or YYYYMMDD integers.
    feature_cols : sequence of str, default=None
        Feature columns; ``None`` takes every other column. Features must be
        numeric (bool and pandas ``category`` are kept as they are) and may
        contain NaN (the backends handle missing values).
    std_col, mean_col, weight_col : str, default=None
        Optional columns: ``std`` finite and > 0, ``mean`` finite, ``weight``
        finite and >= 0. ``"auto"`` (:data:`AUTO`): the column named ``std``
        (``mean``, ``weight``) when the table has one, and then a column whose name
        merely looks like one (``sigma``, ``sample_weight``, ``Std`` ...) is refused
        unless ``feature_cols`` lists the features. ``None``: no such column; a column
        named ``std``/``mean``/``weight`` then becomes a feature, with a warning
        unless ``feature_cols`` lists it.
    sort : bool, default=False
        Sort rows by (date, asset) instead of raising on unsorted dates.
    names : mapping, optional
        How messages name the arguments when a configuration loads the data
        (``{"sort": "data.panel.sort", "std_col": "data.panel.std_col", ...}``).

    Returns
    -------
    Panel
        Rows in file order (sorted by date), features in ``X``.

    Raises
    ------
    DataError
        Listing missing columns, non-numeric features (with the first bad value, its
        row, date and asset), unparsable or missing dates, unsorted dates (with the first
        offending row), duplicate (date, asset) pairs (with examples), and NaN targets or
        invalid std/mean/weight values (with their count and first row). Row numbers
        are 0-based positions in the table (the line after the CSV header is row 0).
    """
    df, where = read_table(source)
    columns = resolve_columns(
        df.columns,
        date_col=date_col,
        asset_col=asset_col,
        target_col=target_col,
        feature_cols=feature_cols,
        std_col=std_col,
        mean_col=mean_col,
        weight_col=weight_col,
        where=where,
        names=names,
    )
    rows = check_rows(df, columns, where, names)
    if sort:
        order = np.lexsort((df[asset_col].astype(str).to_numpy(), rows.dates.asi8))
        df = df.iloc[order].reset_index(drop=True)
        rows = Rows(where, rows.dates[order], df[asset_col])
    else:
        check_sorted(rows.dates, date_col, where, names)
    check_unique_pairs(rows)
    y, extra = labels_and_side(df, columns, rows)
    X = df[columns.features].reset_index(drop=True)
    info = {
        "source": where if where != "the DataFrame" else "DataFrame",
        "target_col": target_col,
        "side_columns": {k: v for k, v in columns.side.items() if v is not None},
        # kept (the boosters ignore them), but named on the data line: they carry nothing
        "all_nan_features": [str(c) for c in columns.features if X[c].isna().all()],
    }
    return Panel.from_arrays(X, y, rows.dates, df[asset_col].to_numpy(), info=info, **extra)


def check_rows(
    df: pd.DataFrame, columns: PanelColumns, where: str, names: Mapping[str, str] | None = None, *, offset: int = 0
) -> Rows:
    """The rules of a long panel's rows that come before its order: dates that parse and are present,
    assets present, numeric features. Returns the rows, for the rules after them."""
    rows = panel_rows(df, columns, where, names, offset=offset)
    check_features(df, columns.features, rows)
    return rows


def panel_rows(
    df: pd.DataFrame, columns: PanelColumns, where: str, names: Mapping[str, str] | None = None, *, offset: int = 0
) -> Rows:
    """The rows of a long panel: its dates parsed (none missing) and its assets (none missing).

    ``offset`` is the position of ``df``'s first row in the whole table: a partition of a
    Parquet panel on a Dask cluster (:mod:`czar_gbdt.cluster`) is checked by these functions too.
    """
    dates = parse_dates(df[columns.date], columns.date, where, offset=offset)
    check_dates(dates, columns.date, where, names, wide=False, offset=offset)
    rows = Rows(where, dates, df[columns.asset], offset)
    check_assets(rows, columns.asset)
    return rows

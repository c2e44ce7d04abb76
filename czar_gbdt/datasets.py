"""Data: the bundled FF49 industry returns, users' wide tables and long panels, a synthetic panel.

Everything that feeds a model arrives as a :class:`Panel`: one row per
(date, asset), sorted by date, with the features, the realised target and the
optional per-row ``std`` / ``mean`` (for z-scored losses such as CZAR and
ZPTAE) and ``weight``.

Two shapes of users' data are read, with every check done when the data is loaded
(:class:`DataError` names the file, column, row, date and asset):

- a *wide* table of returns, log returns or prices (one row per date, one column per
  asset): :func:`load_wide` returns simple returns, the input of
  :func:`czar_gbdt.features.build_features`, which builds the same features, target
  and ``std`` as for the bundled FF49 table (itself a wide table, :func:`load_ff49`);
- a *long* panel that already holds features and a target: :func:`load_panel`.

:func:`detect_layout` tells them apart. See ``docs/own-data.md``.

Data source
-----------
:func:`load_ff49` reads the Kenneth R. French Data Library "49 Industry
Portfolios" (value-weighted, daily), 1969-07-01 to 2021-12-31, shipped with the
package (``czar_gbdt/data/ff49_industries_vw_daily.csv.gz``, returns in percent
as published). https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/data_library.html
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from ._validation import first_true

__all__ = [
    "AUTO",
    "BAR_COLUMNS",
    "DataError",
    "EXTREME_RETURNS",
    "LAYOUTS",
    "Panel",
    "SIDE_COLUMNS",
    "TARGET_TRANSFORMS",
    "WIDE_DATES",
    "WIDE_VALUES",
    "date_text",
    "detect_layout",
    "expected_rank_ic",
    "extreme_returns",
    "is_period",
    "load_ff49",
    "load_panel",
    "load_wide",
    "make_synthetic_panel",
    "make_synthetic_returns",
    "period_index",
    "periods_shown",
    "read_table",
    "resolve_layout",
    "source_digest",
    "to_returns",
    "transform_target",
]

_FF49_FILE = "ff49_industries_vw_daily.csv.gz"

#: Valid ``method`` values of :func:`transform_target`.
TARGET_TRANSFORMS = ("raw", "demean", "zscore")


# --------------------------------------------------------------------------
# Panel
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Panel:
    """A long (date, asset) panel, aligned row by row and sorted by date.

    Attributes
    ----------
    X : pandas.DataFrame of shape (n_samples, n_features)
        Features, indexed by a ``(date, asset)`` MultiIndex.
    y : ndarray of shape (n_samples,)
        Realised target (float64). Finite, except in panels built with
        ``build_features(..., dropna=False)`` where unlabeled rows are NaN.
    dates : pandas.Index of shape (n_samples,)
        Date of each row (a DatetimeIndex named ``"date"``).
    assets : pandas.Index of shape (n_samples,)
        Asset of each row, named ``"asset"``.
    std : ndarray of shape (n_samples,) or None
        Per-row scale for z-scored losses (finite, > 0).
    mean : ndarray of shape (n_samples,) or None
        Per-row location for z-scored losses.
    weight : ndarray of shape (n_samples,) or None
        Per-row sample weight (finite, >= 0).
    info : dict
        How the panel was made (source, parameters, planted signal ...).
    """

    X: pd.DataFrame
    y: np.ndarray
    dates: pd.Index
    assets: pd.Index
    std: np.ndarray | None = None
    mean: np.ndarray | None = None
    weight: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check that every per-row field has one value per row of ``X``."""
        n = len(self.X)
        for name in ("y", "dates", "assets", "std", "mean", "weight"):
            v = getattr(self, name)
            if v is not None and len(v) != n:
                raise ValueError(f"Panel.{name} has length {len(v)} but X has {n} rows.")

    def __len__(self) -> int:
        """Return the number of rows."""
        return len(self.X)

    def __repr__(self) -> str:
        """Summarise rows, dates, assets, features and optional columns."""
        n_dates = self.dates.nunique()
        extra = [name for name in ("std", "mean", "weight") if getattr(self, name) is not None]
        return (
            f"Panel({len(self)} rows, {n_dates} dates, {self.assets.nunique()} assets, "
            f"{self.X.shape[1]} features" + (", with " + "/".join(extra) if extra else "") + ")"
        )

    @property
    def feature_names(self) -> list[str]:
        """Feature column names."""
        return [str(c) for c in self.X.columns]

    @classmethod
    def from_arrays(
        cls,
        X: pd.DataFrame,
        y: Any,
        dates: Any,
        assets: Any,
        *,
        std: Any = None,
        mean: Any = None,
        weight: Any = None,
        info: dict | None = None,
    ) -> Panel:
        """Build a panel from row-aligned columns, indexing ``X`` by ``(date, asset)``.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, n_features)
            Features; its index is replaced (the data is not copied).
        y : array-like of shape (n_samples,)
            Target.
        dates, assets : array-like of shape (n_samples,)
            Date (parsed as datetimes) and asset of each row.
        std, mean, weight : array-like of shape (n_samples,), default=None
            Optional per-row columns, stored as float64.
        info : dict, default=None
            How the panel was made.

        Returns
        -------
        Panel
        """
        dates = pd.DatetimeIndex(dates, name="date")
        assets = pd.Index(assets, name="asset")
        X = X.copy(deep=False)
        X.index = pd.MultiIndex.from_arrays([dates, assets], names=["date", "asset"])

        def arr(v: Any) -> np.ndarray | None:
            return None if v is None else np.ascontiguousarray(v, dtype=np.float64)

        return cls(
            X=X,
            y=arr(y),
            dates=dates,
            assets=assets,
            std=arr(std),
            mean=arr(mean),
            weight=arr(weight),
            info=dict(info or {}),
        )

    def subset(self, rows: Any) -> Panel:
        """Return the panel restricted to some rows (e.g. one fold's indices).

        Parameters
        ----------
        rows : array-like of int or bool of shape (n_samples,)
            Positional row indices (ascending keeps the date order) or a mask.

        Returns
        -------
        Panel
            A new panel; ``info`` is shared.
        """
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)

        def take(v: Any) -> Any:
            return None if v is None else v[rows]

        return Panel(
            X=self.X.iloc[rows],
            y=self.y[rows],
            dates=self.dates[rows],
            assets=self.assets[rows],
            std=take(self.std),
            mean=take(self.mean),
            weight=take(self.weight),
            info=self.info,
        )

    def training_target(self, method: str = "raw") -> np.ndarray:
        """Return the target transformed for training labels; see :func:`transform_target`.

        Parameters
        ----------
        method : {"raw", "demean", "zscore"}, default="raw"
            Per-date transform.

        Returns
        -------
        ndarray of shape (n_samples,)
            Transformed labels (never use them as the evaluation target).
        """
        return transform_target(self.y, self.dates, method)

    def to_frame(self) -> pd.DataFrame:
        """Long table with columns date, asset, the features, target and the optional columns.

        Returns
        -------
        pandas.DataFrame
            The format :func:`load_panel` reads.
        """
        df = self.X.reset_index(drop=True)
        df.insert(0, "asset", np.asarray(self.assets))
        df.insert(0, "date", np.asarray(self.dates))
        df["target"] = self.y
        for name in ("std", "mean", "weight"):
            v = getattr(self, name)
            if v is not None:
                df[name] = v
        return df


# --------------------------------------------------------------------------
# target transforms
# --------------------------------------------------------------------------


def transform_target(y: Any, dates: Any, method: str = "raw") -> np.ndarray:
    """Per-date transform of training labels: raw, demeaned, or z-scored.

    Rank IC only rewards the *relative* order of assets within a date, so
    training on labels relative to the cross-section ("demean") or on
    cross-sectional z-scores ("zscore") often helps; which one is a config
    choice. Use it for training labels only, never for the evaluation target.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels, all finite.
    dates : array-like of shape (n_samples,)
        Date of each row (rows need not be sorted).
    method : {"raw", "demean", "zscore"}, default="raw"
        ``"raw"``: unchanged copy. ``"demean"``: ``y - mean_d(y)``.
        ``"zscore"``: ``(y - mean_d(y)) / std_d(y)`` with the population
        standard deviation (ddof=0) of the date; a date with a single row or
        constant labels gets 0.

    Returns
    -------
    ndarray of shape (n_samples,)
        Transformed labels, float64, in the input row order.

    Raises
    ------
    ValueError
        If ``method`` is unknown, lengths differ, or ``y`` has non-finite values.
    """
    if method not in TARGET_TRANSFORMS:
        raise ValueError(f"method must be one of {TARGET_TRANSFORMS}; got {method!r}.")
    yv = np.asarray(y, dtype=np.float64)
    if yv.ndim != 1:
        raise ValueError(f"y must be 1-dimensional; got shape {yv.shape}.")
    if len(dates) != yv.shape[0]:
        raise ValueError(f"dates has length {len(dates)} but y has length {yv.shape[0]}.")
    bad = ~np.isfinite(yv)
    if bad.any():
        raise ValueError(
            f"y has {int(bad.sum())} non-finite values (the first at row {int(np.flatnonzero(bad)[0])}); "
            "drop unlabeled rows before transforming training labels."
        )
    if method == "raw":
        return yv.copy()
    codes, uniques = pd.factorize(dates)
    if codes.size and codes.min() < 0:
        raise ValueError("dates has missing values.")
    count = np.bincount(codes, minlength=len(uniques)).astype(np.float64)
    mu = np.bincount(codes, weights=yv, minlength=len(uniques)) / count
    centred = yv - mu[codes]
    if method == "demean":
        return centred
    var = np.bincount(codes, weights=centred * centred, minlength=len(uniques)) / count
    sd = np.sqrt(var)[codes]
    out = np.zeros_like(yv)
    np.divide(centred, sd, out=out, where=sd > 0)
    return out


# --------------------------------------------------------------------------
# FF49
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _read_ff49() -> pd.DataFrame:
    ref = resources.files(__package__).joinpath("data").joinpath(_FF49_FILE)
    with ref.open("rb") as fh:
        df = pd.read_csv(fh, compression="gzip", dtype={"date": str})
    dates = pd.DatetimeIndex(pd.to_datetime(df.pop("date"), format="%Y-%m-%d"), name="date")
    values = df.to_numpy(dtype=np.float64)
    # the library codes missing returns as -99.99 or -999 (none in the shipped file)
    values[values <= -99.99] = np.nan
    return pd.DataFrame(values / 100.0, index=dates, columns=pd.Index(df.columns, name="asset"))


def load_ff49() -> pd.DataFrame:
    """Daily returns of the 49 Fama-French industry portfolios (value-weighted).

    Source: Kenneth R. French Data Library, "49 Industry Portfolios", daily,
    value-weighted, 1969-07-01 to 2021-12-31 (13245 dates), bundled with the
    package. The file holds percent returns with two decimals; they are
    returned as decimals (divided by 100).

    Returns
    -------
    pandas.DataFrame of shape (13245, 49)
        float64 returns, a DatetimeIndex named ``"date"`` and columns named
        ``"asset"`` (``Agric``, ``Food``, ... ``Other``). A fresh copy per call.

    Examples
    --------
    >>> from czar_gbdt import datasets
    >>> r = datasets.load_ff49()
    >>> r.shape
    (13245, 49)
    """
    return _read_ff49().copy()


# --------------------------------------------------------------------------
# users' data: long panels and wide tables
# --------------------------------------------------------------------------


class DataError(ValueError):
    """A problem with the data, reported before any training.

    The message names the file (or ``"the DataFrame"``), the column and, where it applies,
    the first offending row with its date and asset, and says which argument (or, when a
    configuration loads the data, which configuration key) changes the outcome. The
    command line exits with code 2 on it. Rows are 0-based positions in the table: the
    line after a CSV header is row 0.
    """


#: Values of ``layout``: ``"long"`` (one row per date and asset), ``"wide"`` (one row per date,
#: one column per asset) or ``"auto"`` (:func:`detect_layout`).
LAYOUTS = ("auto", "wide", "long")

#: What the cells of a wide table hold (``values`` of :func:`load_wide` and :func:`to_returns`).
WIDE_VALUES = ("returns", "log_returns", "prices")

#: Use a side column (``std``, ``mean``, ``weight``) when the table has one of that name:
#: the value of ``std_col``/``mean_col``/``weight_col`` that recognises it by default.
AUTO = "auto"

#: The default names of the side columns, recognised by ``std_col="auto"`` (and friends).
SIDE_COLUMNS = {"std": "std", "mean": "mean", "weight": "weight"}

# Names that look like side data without being exactly a side column's name: with
# ``feature_cols`` unset they would silently become features, so they are refused instead.
_LOOKALIKES = {
    "std": {"std", "sigma", "stdev", "stddev", "std_dev", "vol_std", "scale"},
    "mean": {"mean", "mu"},
    "weight": {"weight", "weights", "sample_weight", "sample_weights"},
}

#: A column of a wide table whose median absolute value exceeds this is not a table of
#: per-period simple returns (a 50% median move per period): prices or percent.
RETURN_SCALE_LIMIT = 0.5


def _arg(names: Mapping[str, str] | None, arg: str) -> str:
    """How a message names argument ``arg``: itself, or the configuration key it came from."""
    return (names or {}).get(arg, arg)


def _setting(names: Mapping[str, str] | None, arg: str, value: Any) -> str:
    """How a message tells the user to give ``arg`` the value ``value``: ``pass sort=True`` from
    Python, ``set data.panel.sort = true`` when a configuration loads the data."""
    key = (names or {}).get(arg)
    if key is None:
        return f"pass {arg}={value!r}"
    text = "true" if value is True else "false" if value is False else (
        f'"{value}"' if isinstance(value, str) else repr(value))
    return f"set {key} = {text}"


def read_table(source: Any) -> tuple[pd.DataFrame, str]:
    """Read a CSV/TSV or Parquet file (or take a DataFrame): the table and how messages name it.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        ``.csv`` (optionally ``.gz``/``.bz2``/``.zip``/``.xz``), ``.tsv``, ``.txt`` or
        ``.parquet`` file (Parquet needs the ``parquet`` extra), or a DataFrame.

    Returns
    -------
    table : pandas.DataFrame
    where : str
        The path, or ``"the DataFrame"``.
    """
    if isinstance(source, pd.DataFrame):
        _refuse_duplicate_names([str(c) for c in source.columns], "the DataFrame")
        return source, "the DataFrame"
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"source must be a path (CSV or Parquet) or a DataFrame; got {type(source).__name__}.")
    path = os.fspath(source)
    if not os.path.exists(path):
        raise ValueError(f"source {path!r} does not exist.")
    low = path.lower()
    _check_file(path)
    try:
        if low.endswith(_PARQUET):
            import pyarrow.parquet as pq

            _refuse_duplicate_names(list(pq.read_schema(path).names), path)
            return pd.read_parquet(path), path
        sep = "\t" if low.endswith(".tsv") else ","
        table = pd.read_csv(path, sep=sep)
        header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise DataError(_unreadable(path, exc)) from None
    _refuse_duplicate_names([c for c in header.iloc[0] if isinstance(c, str)] if len(header) else [], path)
    return table, path


def _refuse_duplicate_names(names: list, where: str) -> None:
    """Refuse repeated column names: pandas would rename the repeats ``x.1``, ``x.2``, and a
    repeated asset or feature would pass for another one."""
    seen: dict = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    dup = [name for name, n in seen.items() if n > 1]
    if dup:
        raise DataError(f"{where}: duplicate column names in the header: {dup[:10]} (pandas would rename the repeats "
                        f"{dup[0]!r} to {dup[0] + '.1'!r}, ...); give every column its own name.")


_PARQUET = (".parquet", ".pq", ".parq")
_TEXT = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".txt", ".tsv")
_SPREADSHEET = (".xlsx", ".xls", ".xlsm", ".ods")


def _check_file(path: str) -> None:
    """Refuse a file of a type no reader takes (a spreadsheet, ...) and an empty file, in one line."""
    low = path.lower()
    if not low.endswith(_PARQUET + _TEXT):
        raise DataError(f"{path}: unknown file type {os.path.splitext(path)[1] or '(no suffix)'!r}; save the table "
                        f"as .csv (optionally compressed: .csv.gz ...), .tsv or .parquet"
                        + (" (a spreadsheet: File > Save As > CSV)." if low.endswith(_SPREADSHEET) else "."))
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise DataError(f"{path}: the file is empty (0 bytes).")


def _unreadable(path: str, exc: Exception) -> str:
    """The one line that says a file could not be read, and for Parquet what it probably is."""
    text = " ".join(str(exc).split())
    hint = (" Is it a CSV (or another format) named .parquet? Give the file the suffix of its format."
            if path.lower().endswith(_PARQUET) else "")
    return f"{path}: could not be read as a table ({type(exc).__name__}: {text}).{hint}"


def source_digest(source: Any) -> str:
    """SHA-256 (hex) of the bytes of a data file; ``"ff49"`` is the bundled file.

    What a tuning study records as the content of its data: a study whose file changed
    is not resumed (see :mod:`czar_gbdt.fingerprint`).
    """
    if source == "ff49":
        with resources.files(__package__).joinpath("data").joinpath(_FF49_FILE).open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    path = os.fspath(source)
    if os.path.isdir(path):  # a folder of Parquet files (a Dask cluster's panel): names and bytes, in order
        digest = hashlib.sha256()
        for name in _parquet_files(path):
            digest.update(os.path.relpath(name, path).encode() + b"\0")
            with open(name, "rb") as fh:
                digest.update(hashlib.file_digest(fh, "sha256").digest())
        return digest.hexdigest()
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _parquet_files(folder: str) -> list[str]:
    """The Parquet files under ``folder`` (as ``dask.dataframe.read_parquet`` reads a folder), sorted."""
    found = [os.path.join(root, f) for root, _, files in os.walk(folder) for f in files
             if f.lower().endswith((".parquet", ".pq", ".parq")) and not f.startswith((".", "_"))]
    return sorted(found)


def detect_layout(source: Any, *, asset_col: str = "asset", target_col: str = "target") -> str:
    """``"long"`` when the table has the asset or the target column of a long panel, else ``"wide"``.

    Only the header is read (the first line of a CSV, the schema of a Parquet file). A
    table detected as wide whose other columns are not numeric is refused by
    :func:`load_wide`, which then says how to declare a long panel.
    """
    if isinstance(source, pd.DataFrame):
        columns = list(source.columns)
    else:
        path = os.fspath(source)
        if os.path.isdir(path):  # a folder of Parquet files: the schema of the first one
            files = _parquet_files(path)
            path = files[0] if files else path
        low = path.lower()
        if os.path.isfile(path):
            _check_file(path)
        if low.endswith(_PARQUET):
            import pyarrow.parquet as pq

            try:
                columns = list(pq.read_schema(path).names)
            except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
                raise DataError(_unreadable(path, exc)) from None
        else:
            columns = list(_read_header(path))
    return "long" if asset_col in columns or target_col in columns else "wide"


def resolve_layout(source: Any, layout: str = "auto", *, asset_col: str = "asset", target_col: str = "target") -> str:
    """``"wide"`` or ``"long"``: ``layout`` unless it is ``"auto"``; ``"ff49"`` (the bundled data) is
    wide; otherwise what :func:`detect_layout` reads from the file's header."""
    if source == "ff49":
        return "wide"
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}; got {layout!r}.")
    if layout != "auto":
        return layout
    return detect_layout(source, asset_col=asset_col, target_col=target_col)


def _read_header(path: str) -> list[str]:
    """The column names of a CSV/TSV file (its first line)."""
    sep = "\t" if path.lower().endswith(".tsv") else ","
    try:
        return [str(c) for c in pd.read_csv(path, sep=sep, nrows=0).columns]
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{path}: could not be read as a table ({type(exc).__name__}: {exc}).") from None


def _parse_dates(col: pd.Series, name: str, where: str, hint: str = "") -> pd.DatetimeIndex:
    """The dates of ``col`` (ISO strings, datetimes or YYYYMMDD integers); the error names the first
    value that is not a date, and its row."""
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
    value = _value(col.iloc[i])
    raise DataError(
        f"{where}: column {name!r} could not be parsed as dates: row {i} has {value!r}"
        f"{f' ({int(bad.sum())} such rows)' if bad.sum() > 1 else ''}; use ISO dates (YYYY-MM-DD), datetimes, or "
        f"YYYYMMDD integers, one format throughout." + hint) from None


def _value(v: Any) -> Any:
    """A cell for a message: numpy scalars as Python values (``0``, not ``np.int64(0)``)."""
    return v.item() if isinstance(v, np.generic) else v


def _first_non_numeric(col: pd.Series) -> int | None:
    """Position of the first value of ``col`` that is present but not a number (None if all are)."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    coerced = pd.to_numeric(col, errors="coerce")
    bad = np.asarray(col.notna()) & np.asarray(coerced.isna())
    return first_true(bad) if bad.any() else None


def _check_dates(dates: pd.DatetimeIndex, name: str, where: str, names: Mapping[str, str] | None,
                 *, wide: bool) -> None:
    """Refuse missing dates, and unsorted dates in a wide table (a long panel may sort them)."""
    nat = np.asarray(dates.isna())
    if nat.any():
        raise DataError(f"{where}: {int(nat.sum())} missing dates in {name!r}; the first at row {first_true(nat)}.")
    if wide:
        d = dates.asi8
        down = d[1:] <= d[:-1]
        if down.any():
            i = first_true(down) + 1
            what = "repeats" if d[i] == d[i - 1] else "comes after"
            raise DataError(
                f"{where}: the dates in {name!r} must be unique and sorted ascending (one row per date); row {i} "
                f"has {dates[i].date()}, which {what} {dates[i - 1].date()} at row {i - 1}. Sort the file by date "
                "(dates that go backwards may also be a misread format: day/month against month/day).")


def to_returns(table: pd.DataFrame, values: str = "returns", *, where: str = "returns",
               names: Mapping[str, str] | None = None) -> pd.DataFrame:
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
        raise ValueError(f"{_arg(names, 'values')} must be one of {WIDE_VALUES}; got {values!r}.")
    index = table.index

    def at(r: int, c: int) -> str:
        return f"row {r} (date {date_text(index[r])}, asset {table.columns[c]!r})"

    for c, name in enumerate(table.columns):
        r = _first_non_numeric(table[name])
        if r is not None:
            raise DataError(
                f"{where}: {values} must be numeric; column {name!r} has {_value(table[name].iloc[r])!r} at {at(r, c)}"
                + (f". {_LAYOUT_HINT.format(layout=_setting(names, 'layout', 'long'))}" if "layout" in (names or {})
                   else ".") )
    try:
        v = table.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {values} must be numeric (simple returns as decimals).") from None
    inf = np.isinf(v)
    if inf.any():
        r, c = np.argwhere(inf)[0]
        raise DataError(f"{where}: {values} has infinite values ({int(inf.sum())}), the first {v[r, c]} at "
                        f"{at(r, c)}; use NaN (an empty cell) for a missing value.")
    if values == "returns":
        _check_scale(v, table.columns, values, where, names)
        low = v <= -1
        if low.any():
            r, c = np.argwhere(low)[0]
            raise DataError(
                f"{where}: returns must be simple returns as decimals, > -1; got {v[r, c]} at {at(r, c)}"
                f"{' (percent instead of decimals?)' if v[r, c] <= -100 else ''}."
                + ("" if v[r, c] <= -100 else f" Log returns? {_setting(names, 'values', 'log_returns')}."))
        simple = v
    elif values == "log_returns":
        simple = np.expm1(v)
    else:
        low = v <= 0
        if low.any():
            r, c = np.argwhere(low)[0]
            raise DataError(f"{where}: prices must be > 0; got {v[r, c]} at {at(r, c)}. Returns? "
                            f"{_setting(names, 'values', 'returns')}.")
        simple = np.full_like(v, np.nan)
        simple[1:] = v[1:] / v[:-1] - 1.0  # NaN where either price is missing: nothing is filled
    _check_scale(simple, table.columns, values, where, names)
    return pd.DataFrame(simple, index=index, columns=table.columns)


def _check_scale(simple: np.ndarray, columns: pd.Index, values: str, where: str,
                 names: Mapping[str, str] | None) -> None:
    """Refuse a column whose median absolute simple return exceeds :data:`RETURN_SCALE_LIMIT`."""
    with np.errstate(all="ignore"):
        finite = np.isfinite(simple)
        counts = finite.sum(axis=0)
        med = np.array([np.median(np.abs(simple[finite[:, c], c])) if counts[c] >= 5 else 0.0
                        for c in range(simple.shape[1])])
    big = med > RETURN_SCALE_LIMIT
    if big.any():
        c = first_true(big)
        hint = (f"Prices? {_setting(names, 'values', 'prices')}. Percent returns? Divide them by 100"
                if values != "prices" else "Check the values")
        raise DataError(
            f"{where}: column {columns[c]!r} does not look like {values}: the median absolute simple return is "
            f"{med[c]:.3g} per period ({med[c]:.0%}). {hint}. An index or date column must not be an asset column.")


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
    return (f"{n} single-period return{'s' if n > 1 else ''} above {high:,.0%} or below {low:.0%}, the first "
            f"{v[r, c]:+.4g} ({v[r, c]:+,.0%}) on {date} for asset {str(returns.columns[c])!r}: check the data (a price "
            f"error, an unadjusted split, percent read as decimals?).")


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


def _parse_periods(col: pd.Series, name: str, where: str, names: Mapping[str, str] | None) -> pd.DatetimeIndex:
    """The period numbers of ``col`` (integers, unique and ascending), as :func:`period_index` stamps."""
    key = _arg(names, "dates")
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values != np.round(values)) | (np.abs(values) >= PERIOD_LIMIT)
    if bad.any():
        i = first_true(bad)
        raise DataError(f"{where}: {key} = \"periods\" reads column {name!r} as period numbers (integers); row {i} "
                        f"has {_value(col.iloc[i])!r}.")
    k = values.astype(np.int64)
    down = k[1:] <= k[:-1]
    if down.any():
        i = first_true(down) + 1
        what = "repeats" if k[i] == k[i - 1] else "comes after"
        raise DataError(f"{where}: the periods in {name!r} must be unique and ascending (one row per period); row {i} "
                        f"has {k[i]}, which {what} {k[i - 1]} at row {i - 1}.")
    return period_index(k)


_LAYOUT_HINT = ("If the file is a long panel (one row per date and asset) with its own column names, {layout} "
                "and name its columns in [data.panel]")


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
    also = "" if values == "prices" else f", and {_setting(names, 'values', 'prices')}"
    raise DataError(f"{where}: the columns {bars} are the bars of one instrument, not assets; to forecast that one "
                    f"series, {how}{also}. A table of several assets has one column per asset.")


def load_wide(source: Any, *, values: str = "returns", date_col: str | None = None,
              columns: Sequence[str] | None = None, dates: str = "calendar",
              names: Mapping[str, str] | None = None) -> pd.DataFrame:
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
            raise DataError(f"{where}: {_arg(names, 'date_col')} {date_col!r} is not a column; columns: "
                            f"{list(df.columns)[:20]}.")
        raw, name, table = df[date_col], date_col, df.drop(columns=date_col)
    elif isinstance(df.index, pd.DatetimeIndex):
        raw, name, table = df.index.to_series(index=np.arange(len(df))), df.index.name or "index", df
    else:
        if df.shape[1] == 0:
            raise DataError(f"{where}: the table has no columns.")
        name = df.columns[0]
        raw, table = df[name], df.drop(columns=name)
    if table.shape[1] == 0:
        raise DataError(f"{where}: a wide table needs a date column and at least one asset column; it has only "
                        f"{name!r}.")
    if len(df) == 0:
        raise DataError(f"{where}: the table has no rows.")
    if dates not in WIDE_DATES:
        raise ValueError(f"{_arg(names, 'dates')} must be one of {WIDE_DATES}; got {dates!r}.")
    col = pd.Series(np.asarray(raw))
    if dates == "periods":
        index = _parse_periods(col, str(name), where, names)
    else:
        hint = "" if date_col else (f" The first column is read as the dates: if the dates are in another column, "
                                    f"{_setting(names, 'date_col', 'date')} (its name).")
        if col.dtype.kind in "iu":
            hint += (f" If it holds period numbers (a row index, a period count), "
                     f"{_setting(names, 'dates', 'periods')}.")
        index = _parse_dates(col, str(name), where, hint)
        _check_dates(index, str(name), where, names, wide=True)
    table = table.set_axis(pd.DatetimeIndex(index, name="date"), axis=0)
    table.columns = pd.Index([str(c) for c in table.columns], name="asset")
    if columns:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise DataError(f"{where}: {_arg(names, 'columns')} names {missing}, which the table does not have; its "
                            f"asset columns are {list(map(str, table.columns))}.")
        table = table[list(columns)]
    else:
        _refuse_bars(table, where, values, names)
    return to_returns(table, values, where=where, names=names)


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
    given = {"std": std_col, "mean": mean_col, "weight": weight_col}
    explicit_features = feature_cols is not None
    if explicit_features:
        if isinstance(feature_cols, str):
            raise ValueError(f"{_arg(names, 'feature_cols')} must be a list of column names; got the string "
                             f"{feature_cols!r}.")
        feature_cols = list(feature_cols)
    listed = set(feature_cols or ())
    side: dict[str, str | None] = {}
    for role, col in given.items():
        if col == AUTO:
            default = SIDE_COLUMNS[role]
            col = default if default in df.columns and default not in listed else None
        side[role] = col
    required = [date_col, asset_col, target_col]
    wanted = required + [c for c in side.values() if c is not None]
    if explicit_features:
        wanted += feature_cols
    missing = [c for c in dict.fromkeys(wanted) if c not in df.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {missing}; available columns: {list(df.columns)}."
                        + _missing_hint(missing, names, date_col, asset_col, target_col, side))
    if not explicit_features:
        used = set(wanted)
        feature_cols = [c for c in df.columns if c not in used]
        _refuse_lookalikes(feature_cols, given, side, where, names)
    if not feature_cols:
        raise DataError(f"{where}: no feature columns: every column is the date, asset, target or a side column "
                        f"({', '.join(repr(c) for c in dict.fromkeys(wanted))}); add feature columns, or list them "
                        f"in {_arg(names, 'feature_cols')}.")
    clash = [c for c in feature_cols if c in set(required) | {c2 for c2 in side.values() if c2}]
    if clash:
        raise DataError(f"{where}: {_arg(names, 'feature_cols')} {clash} are also used as "
                        "date/asset/target/std/mean/weight.")

    dates = _parse_dates(df[date_col], date_col, where)
    _check_dates(dates, date_col, where, names, wide=False)
    asset_na = np.asarray(df[asset_col].isna())
    if asset_na.any():
        raise DataError(
            f"{where}: {int(asset_na.sum())} missing assets in {asset_col!r}; the first at row {first_true(asset_na)}."
        )

    def describe_row(i: int) -> str:
        return f"row {i} (date {dates[i].date()}, asset {df[asset_col].iloc[i]})"

    non_numeric = []
    for c in feature_cols:
        col = df[c]
        if (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
                or isinstance(col.dtype, pd.CategoricalDtype)):
            continue
        r = _first_non_numeric(col)
        first = (f"; the first non-numeric value is {_value(col.iloc[r])!r} at {describe_row(r)}"
                 if r is not None else "")
        non_numeric.append(f"{c!r} ({col.dtype}{first})")
    if non_numeric:
        raise DataError(
            f"{where}: feature columns must be numeric (or bool / pandas 'category'); not numeric: "
            + ", ".join(non_numeric)
            + "."
        )
    for c in feature_cols:  # NaN is a missing value the boosters handle; an infinity is an error upstream
        col = df[c]
        if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(col):
            continue
        inf = np.isinf(pd.to_numeric(col).to_numpy(dtype=np.float64, na_value=np.nan))
        if inf.any():
            r = first_true(inf)
            raise DataError(f"{where}: feature {c!r} has {int(inf.sum())} infinite values, the first "
                            f"{_value(col.iloc[r])} at {describe_row(r)}; use NaN (an empty cell) for a missing value, "
                            f"which the boosters treat as missing.")

    if sort:
        order = np.lexsort((df[asset_col].astype(str).to_numpy(), dates.asi8))
        df = df.iloc[order].reset_index(drop=True)
        dates = dates[order]
    else:
        d = dates.asi8
        down = d[1:] < d[:-1]
        if down.any():
            i = first_true(down) + 1
            raise DataError(
                f"{where}: dates in {date_col!r} must be sorted ascending; row {i} has {dates[i].date()} after "
                f"{dates[i - 1].date()} at row {i - 1}. Sort the table by date (or {_setting(names, 'sort', True)})."
            )

    key = pd.DataFrame({"date": dates, "asset": df[asset_col].to_numpy()})
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        examples = key[dup].drop_duplicates().head(5)
        shown = ", ".join(f"({r.date.date()}, {r.asset})" for r in examples.itertuples())
        raise DataError(
            f"{where}: {int(dup.sum())} rows share a (date, asset) pair with another row, e.g. {shown}; "
            "each (date, asset) must appear once. The first duplicated row is row "
            f"{first_true(dup)}."
        )

    def numeric(col: str, label: str) -> np.ndarray:
        r = _first_non_numeric(df[col])
        if r is not None:
            raise DataError(f"{where}: {label} column {col!r} must be numeric; it has {_value(df[col].iloc[r])!r} at "
                            f"{describe_row(r)}.")
        try:
            return pd.to_numeric(df[col]).to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            raise DataError(
                f"{where}: {label} column {col!r} must be numeric; it has dtype {df[col].dtype}."
            ) from None

    y = numeric(target_col, "target")
    bad = ~np.isfinite(y)
    if bad.any():
        raise DataError(
            f"{where}: target {target_col!r} has {int(bad.sum())} NaN/infinite values, the first at "
            f"{describe_row(first_true(bad))}; drop unlabeled rows (e.g. the last horizon dates) before training."
        )
    extra: dict[str, np.ndarray | None] = {"std": None, "mean": None, "weight": None}
    rules = {
        "std": (lambda v: np.isfinite(v) & (v > 0), "finite and > 0"),
        "mean": (np.isfinite, "finite"),
        "weight": (lambda v: np.isfinite(v) & (v >= 0), "finite and >= 0"),
    }
    for name, col in side.items():
        if col is None:
            continue
        v = numeric(col, name)
        ok_fn, rule = rules[name]
        bad = ~ok_fn(v)
        if bad.any():
            i = first_true(bad)
            raise DataError(
                f"{where}: {name} column {col!r} must be {rule}; {int(bad.sum())} rows are not, the first at "
                f"{describe_row(i)} (value {v[i]})."
            )
        extra[name] = v

    X = df[feature_cols].reset_index(drop=True)
    info = {"source": where if where != "the DataFrame" else "DataFrame", "target_col": target_col,
            "side_columns": {k: v for k, v in side.items() if v is not None},
            # kept (the boosters ignore them), but named on the data line: they carry nothing
            "all_nan_features": [str(c) for c in feature_cols if X[c].isna().all()]}
    return Panel.from_arrays(X, y, dates, df[asset_col].to_numpy(), info=info, **extra)


def _missing_hint(missing: list, names: Mapping[str, str] | None, date_col: str, asset_col: str,
                  target_col: str, side: dict) -> str:
    """Which argument (or config key) names each missing column."""
    roles = {date_col: "date_col", asset_col: "asset_col", target_col: "target_col",
             **{c: f"{r}_col" for r, c in side.items() if c}}
    named = [f"{_arg(names, roles[c])} = \"{c}\"" for c in missing if c in roles]
    if not named or not names:
        return ""
    return (f" {', '.join(named)} {'names a column' if len(named) == 1 else 'name columns'} the file does not have: "
            f"set {'it' if len(named) == 1 else 'them'} to the file's own column names.")


def _refuse_lookalikes(features: list, given: dict, side: dict, where: str,
                       names: Mapping[str, str] | None) -> None:
    """Refuse (``"auto"``) or warn about (``None``) side data about to become a feature."""
    for c in features:
        low = str(c).lower()
        for role, aliases in _LOOKALIKES.items():
            if low not in aliases:
                continue
            if given[role] == AUTO and side[role] is None:
                raise DataError(
                    f"{where}: column {c!r} looks like a per-row {role} but would become a feature: "
                    f"{_setting(names, f'{role}_col', str(c))} to use it as the {role}, or list the feature "
                    f"columns in {_arg(names, 'feature_cols')} to keep it a feature.")
            if given[role] is None and c == SIDE_COLUMNS[role]:
                warnings.warn(
                    f"{where}: column {c!r} is used as a feature because {_arg(names, f'{role}_col')} is None; "
                    f"{_setting(names, f'{role}_col', str(c))} (or {AUTO!r}) to use it as the {role}, or list the "
                    f"features in {_arg(names, 'feature_cols')} to keep it a feature and silence this warning.",
                    UserWarning, stacklevel=3)


# --------------------------------------------------------------------------
# synthetic panel
# --------------------------------------------------------------------------


def expected_rank_ic(rho: float, n_assets: int) -> float:
    """Return the expected per-date Spearman correlation of ``n_assets`` bivariate-normal pairs.

    Moran's (1948) exact formula for a sample of size n from a bivariate
    normal with correlation rho::

        E[r_s] = 6 / (pi * (n + 1)) * (arcsin(rho) + (n - 2) * arcsin(rho / 2))

    Parameters
    ----------
    rho : float
        Pearson correlation in [-1, 1].
    n_assets : int
        Assets per date, >= 2.

    Returns
    -------
    float
        Expected per-date rank IC.
    """
    n = n_assets
    return 6.0 / (math.pi * (n + 1)) * (math.asin(rho) + (n - 2) * math.asin(rho / 2.0))


def _rho_for_rank_ic(signal_ic: float, n_assets: int) -> float:
    lo, hi = -1.0, 1.0
    for _ in range(200):  # bisection: expected_rank_ic is increasing in rho
        mid = 0.5 * (lo + hi)
        if expected_rank_ic(mid, n_assets) < signal_ic:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def make_synthetic_panel(
    n_dates: int = 250,
    n_assets: int = 50,
    n_features: int = 10,
    signal_ic: float = 0.05,
    *,
    n_informative: int | None = None,
    vol: float = 0.02,
    vol_dispersion: float = 0.0,
    start: str = "2000-01-03",
    seed: int | None = 0,
) -> Panel:
    """Synthetic panel with a planted signal of known rank IC, for fast tests.

    Features are i.i.d. standard normal. The signal is a fixed random linear
    combination of the first ``n_informative`` features, scaled to unit
    variance: ``s = X[:, :n_informative] @ beta``. The z-scored target is
    ``z = rho * s + sqrt(1 - rho**2) * noise`` with ``rho`` chosen so that the
    *expected per-date* Spearman correlation between ``s`` and ``z`` over
    ``n_assets`` assets equals ``signal_ic`` (Moran's formula, see
    :func:`expected_rank_ic`). The target is ``y = std * z``.

    Parameters
    ----------
    n_dates : int, default=250
        Business days from ``start``.
    n_assets : int, default=50
        Assets per date (all present every date), >= 2.
    n_features : int, default=10
        Feature columns ``f0 .. f{n_features-1}``.
    signal_ic : float, default=0.05
        Planted expected rank IC, in (-1, 1).
    n_informative : int, default=None
        Features carrying the signal (1 <= n_informative <= n_features);
        ``None`` means ``min(3, n_features)``.
    vol : float, default=0.02
        Typical per-row target scale (``std``).
    vol_dispersion : float, default=0.0
        Standard deviation of ``log(std)`` across rows. With 0 every row has
        ``std = vol`` and the rank IC of ``y`` is the planted one; with more,
        the planted rank IC holds for ``y / std`` (the z-scored target the
        CZAR/ZPTAE losses see) and the raw ``y`` rank IC is lower.
    start : str, default="2000-01-03"
        First date.
    seed : int or None, default=0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    Panel
        With ``std`` set, ``mean`` and ``weight`` None, and ``info`` holding
        ``signal`` (the oracle prediction), ``rho``, ``beta``,
        ``signal_ic`` and ``seed``.

    Raises
    ------
    ValueError
        If a size or ``signal_ic`` is out of range.
    """
    for name, v, lo in (("n_dates", n_dates, 1), ("n_assets", n_assets, 2), ("n_features", n_features, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}; got {v!r}.")
    if n_informative is None:
        n_informative = min(3, int(n_features))
    if (
        isinstance(n_informative, bool)
        or not isinstance(n_informative, (int, np.integer))
        or not (1 <= n_informative <= n_features)
    ):
        raise ValueError(f"n_informative must be an integer in [1, n_features={n_features}]; got {n_informative!r}.")
    if not (isinstance(signal_ic, (int, float, np.floating)) and -1 < signal_ic < 1):
        raise ValueError(f"signal_ic must be in (-1, 1); got {signal_ic!r}.")
    if not (np.isfinite(vol) and vol > 0):
        raise ValueError(f"vol must be finite and > 0; got {vol!r}.")
    if not (np.isfinite(vol_dispersion) and vol_dispersion >= 0):
        raise ValueError(f"vol_dispersion must be finite and >= 0; got {vol_dispersion!r}.")
    rng = np.random.default_rng(seed)
    n = n_dates * n_assets
    X = rng.standard_normal((n, n_features))
    beta = rng.standard_normal(n_informative)
    beta /= np.linalg.norm(beta)
    signal = X[:, :n_informative] @ beta
    rho = _rho_for_rank_ic(float(signal_ic), n_assets)
    z = rho * signal + math.sqrt(1.0 - rho * rho) * rng.standard_normal(n)
    std = vol * np.exp(vol_dispersion * rng.standard_normal(n)) if vol_dispersion > 0 else np.full(n, vol)
    y = std * z
    dates = np.repeat(pd.bdate_range(start, periods=n_dates).values, n_assets)
    assets = np.tile(np.array([f"A{i:04d}" for i in range(n_assets)], dtype=object), n_dates)
    feats = pd.DataFrame(X, columns=[f"f{j}" for j in range(n_features)])
    info = {
        "source": "make_synthetic_panel",
        "signal": signal,
        "rho": rho,
        "beta": beta,
        "signal_ic": float(signal_ic),
        "seed": seed,
    }
    return Panel.from_arrays(feats, y, dates, assets, std=std, info=info)


def make_synthetic_returns(
    n_dates: int = 500,
    n_assets: int = 20,
    *,
    momentum: float = 0.1,
    vol: float = 0.015,
    late_listing: int = 0,
    delisting: int = 0,
    start: str = "2015-01-02",
    seed: int | None = 0,
) -> pd.DataFrame:
    """A wide table of daily simple returns with a little momentum, for examples and tests.

    Each asset's return is ``beta * market + vol_i * noise``, plus ``momentum`` times its
    own standardised return over the previous 5 days (a signal the features of
    :func:`czar_gbdt.features.build_features` can find). Optionally the first
    ``late_listing`` assets list a third of the way through (NaN before) and the last
    ``delisting`` assets delist two thirds of the way through (NaN after).

    Parameters
    ----------
    n_dates, n_assets : int
        Business days from ``start``, and assets (``A00``, ``A01`` ...).
    momentum : float, default=0.1
        Strength of the planted signal.
    vol : float, default=0.015
        Typical daily volatility.
    late_listing, delisting : int, default=0
        Assets that list late and that delist early.
    start : str, default="2015-01-02"
        First date.
    seed : int or None, default=0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame of shape (n_dates, n_assets)
        Decimal returns, a DatetimeIndex named ``"date"``, columns named ``"asset"``.
    """
    for name, v, lo in (("n_dates", n_dates, 10), ("n_assets", n_assets, 1)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}; got {v!r}.")
    if not 0 <= late_listing + delisting <= n_assets:
        raise ValueError(f"late_listing + delisting must be in [0, n_assets={n_assets}]; got "
                         f"{late_listing} + {delisting}.")
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0003, 0.6 * vol, n_dates)
    beta = rng.uniform(0.5, 1.5, n_assets)
    scale = vol * rng.uniform(0.6, 1.6, n_assets)
    noise = rng.standard_normal((n_dates, n_assets))
    r = np.empty((n_dates, n_assets))
    for t in range(n_dates):
        past = noise[max(0, t - 5):t].sum(axis=0) / math.sqrt(5) if t else 0.0
        r[t] = beta * market[t] + scale * (noise[t] + momentum * past)
    r = np.maximum(r, -0.5)
    if late_listing:
        r[: n_dates // 3, :late_listing] = np.nan
    if delisting:
        r[2 * n_dates // 3:, n_assets - delisting:] = np.nan
    return pd.DataFrame(r, index=pd.bdate_range(start, periods=n_dates, name="date"),
                        columns=pd.Index([f"A{i:02d}" for i in range(n_assets)], name="asset"))


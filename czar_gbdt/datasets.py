"""Data: the bundled FF49 industry returns, users' own panels, a synthetic panel.

Everything that feeds a model arrives as a :class:`Panel`: one row per
(date, asset), sorted by date, with the features, the realised target and the
optional per-row ``std`` / ``mean`` (for z-scored losses such as CZAR and
ZPTAE) and ``weight``.

Data source
-----------
:func:`load_ff49` reads the Kenneth R. French Data Library "49 Industry
Portfolios" (value-weighted, daily), 1969-07-01 to 2021-12-31, shipped with the
package (``czar_gbdt/data/ff49_industries_vw_daily.csv.gz``, returns in percent
as published). https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/data_library.html
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from ._validation import first_true

__all__ = [
    "Panel",
    "TARGET_TRANSFORMS",
    "expected_rank_ic",
    "load_ff49",
    "load_panel",
    "make_synthetic_panel",
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
# users' panels
# --------------------------------------------------------------------------


def _read_table(source: Any) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source, "the DataFrame"
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"source must be a path (CSV or Parquet) or a DataFrame; got {type(source).__name__}.")
    path = os.fspath(source)
    if not os.path.exists(path):
        raise ValueError(f"source {path!r} does not exist.")
    low = path.lower()
    if low.endswith((".parquet", ".pq", ".parq")):
        return pd.read_parquet(path), path
    if low.endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".txt", ".tsv")):
        sep = "\t" if low.endswith(".tsv") else ","
        return pd.read_csv(path, sep=sep), path
    raise ValueError(
        f"source {path!r}: unknown file type; use .csv (optionally compressed: .csv.gz ...), .tsv or .parquet."
    )


def _parse_dates(col: pd.Series, name: str, where: str) -> pd.DatetimeIndex:
    if isinstance(col.dtype, pd.DatetimeTZDtype) or col.dtype.kind == "M":
        return pd.DatetimeIndex(col)
    try:
        if col.dtype.kind in "iu":
            # integers such as 20211231
            return pd.DatetimeIndex(pd.to_datetime(col.astype(str), format="%Y%m%d"))
        return pd.DatetimeIndex(pd.to_datetime(col))
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{where}: column {name!r} could not be parsed as dates ({exc}); use ISO dates (YYYY-MM-DD), "
            "datetimes, or YYYYMMDD integers."
        ) from None


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
        finite and >= 0.
    sort : bool, default=False
        Sort rows by (date, asset) instead of raising on unsorted dates.

    Returns
    -------
    Panel
        Rows in file order (sorted by date), features in ``X``.

    Raises
    ------
    ValueError
        Listing missing columns, non-numeric features, unparsable or missing
        dates, unsorted dates (with the first offending row), duplicate
        (date, asset) pairs (with examples), and NaN targets or invalid
        std/mean/weight values (with their count and first row). Row numbers
        are 0-based positions in the table (the line after the CSV header is
        row 0).
    """
    df, where = _read_table(source)
    optional = {"std_col": std_col, "mean_col": mean_col, "weight_col": weight_col}
    required = [date_col, asset_col, target_col]
    wanted = required + [c for c in optional.values() if c is not None]
    if feature_cols is not None:
        if isinstance(feature_cols, str):
            raise ValueError(f"feature_cols must be a list of column names; got the string {feature_cols!r}.")
        feature_cols = list(feature_cols)
        wanted += feature_cols
    missing = [c for c in dict.fromkeys(wanted) if c not in df.columns]
    if missing:
        raise ValueError(f"{where}: missing column(s) {missing}; available columns: {list(df.columns)}.")
    if feature_cols is None:
        used = set(c for c in wanted)
        feature_cols = [c for c in df.columns if c not in used]
    if not feature_cols:
        raise ValueError(f"{where}: no feature columns (every column is date/asset/target/std/mean/weight).")
    clash = [c for c in feature_cols if c in set(required) | {c2 for c2 in optional.values() if c2}]
    if clash:
        raise ValueError(f"{where}: feature_cols {clash} are also used as date/asset/target/std/mean/weight.")
    non_numeric = [
        f"{c!r} ({df[c].dtype})"
        for c in feature_cols
        if not (
            pd.api.types.is_numeric_dtype(df[c])
            or pd.api.types.is_bool_dtype(df[c])
            or isinstance(df[c].dtype, pd.CategoricalDtype)
        )
    ]
    if non_numeric:
        raise ValueError(
            f"{where}: feature columns must be numeric (or bool / pandas 'category'); not numeric: "
            + ", ".join(non_numeric)
            + "."
        )

    dates = _parse_dates(df[date_col], date_col, where)
    nat = np.asarray(dates.isna())
    if nat.any():
        raise ValueError(
            f"{where}: {int(nat.sum())} missing dates in {date_col!r}; the first at row {first_true(nat)}."
        )
    asset_na = np.asarray(df[asset_col].isna())
    if asset_na.any():
        raise ValueError(
            f"{where}: {int(asset_na.sum())} missing assets in {asset_col!r}; the first at row {first_true(asset_na)}."
        )

    if sort:
        order = np.lexsort((df[asset_col].astype(str).to_numpy(), dates.asi8))
        df = df.iloc[order].reset_index(drop=True)
        dates = dates[order]
    else:
        d = dates.asi8
        down = d[1:] < d[:-1]
        if down.any():
            i = first_true(down) + 1
            raise ValueError(
                f"{where}: dates in {date_col!r} must be sorted ascending; row {i} has {dates[i].date()} after "
                f"{dates[i - 1].date()} at row {i - 1}. Sort the table by date (or pass sort=True)."
            )

    key = pd.DataFrame({"date": dates, "asset": df[asset_col].to_numpy()})
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        examples = key[dup].drop_duplicates().head(5)
        shown = ", ".join(f"({r.date.date()}, {r.asset})" for r in examples.itertuples())
        raise ValueError(
            f"{where}: {int(dup.sum())} rows share a (date, asset) pair with another row, e.g. {shown}; "
            "each (date, asset) must appear once. The first duplicated row is row "
            f"{first_true(dup)}."
        )

    def numeric(col: str, label: str) -> np.ndarray:
        try:
            return df[col].to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            raise ValueError(
                f"{where}: {label} column {col!r} must be numeric; it has dtype {df[col].dtype}."
            ) from None

    def describe_row(i: int) -> str:
        return f"row {i} (date {dates[i].date()}, asset {df[asset_col].iloc[i]})"

    y = numeric(target_col, "target")
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(
            f"{where}: target {target_col!r} has {int(bad.sum())} NaN/infinite values, the first at "
            f"{describe_row(first_true(bad))}; drop unlabeled rows (e.g. the last horizon dates) before training."
        )
    extra: dict[str, np.ndarray | None] = {"std": None, "mean": None, "weight": None}
    rules = {
        "std": (lambda v: np.isfinite(v) & (v > 0), "finite and > 0"),
        "mean": (np.isfinite, "finite"),
        "weight": (lambda v: np.isfinite(v) & (v >= 0), "finite and >= 0"),
    }
    for name, col in (("std", std_col), ("mean", mean_col), ("weight", weight_col)):
        if col is None:
            continue
        v = numeric(col, name)
        ok_fn, rule = rules[name]
        bad = ~ok_fn(v)
        if bad.any():
            i = first_true(bad)
            raise ValueError(
                f"{where}: {name} column {col!r} must be {rule}; {int(bad.sum())} rows are not, the first at "
                f"{describe_row(i)} (value {v[i]})."
            )
        extra[name] = v

    X = df[feature_cols].reset_index(drop=True)
    info = {"source": where if where != "the DataFrame" else "DataFrame", "target_col": target_col}
    return Panel.from_arrays(X, y, dates, df[asset_col].to_numpy(), info=info, **extra)


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

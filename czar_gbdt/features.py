"""Causal features and forward-return targets from a wide table of returns.

:func:`build_features` turns a wide table of simple returns (dates x assets: the
bundled FF49 table of :func:`czar_gbdt.datasets.load_ff49`, or a user's table read
by :func:`czar_gbdt.datasets.load_wide`, which also converts log returns and prices)
into a long :class:`~czar_gbdt.datasets.Panel` for a forecast made at the close of
each date t: past returns over several windows, trailing volatility, their
market-relative and cross-sectional rank versions, the forward target over
t+1..t+h and the causal ``std`` of the z-scored losses. Every configuration that
names a wide table (FF49 included) goes through this one function.

The feature set, its exact definitions and the handling of missing values (assets
that list late or delist: rows dropped per asset and date, never filled) are
documented in one place, ``docs/own-data.md`` ("What is built for you").

Every feature and ``std`` at t uses returns up to and including t only, so
changing data after t leaves them unchanged (bit for bit; the tests check
it). Only the target looks ahead, by design.

Target transforms for *training* labels (raw, demeaned, z-scored per date) are
:func:`transform_target` (also available from :mod:`czar_gbdt.datasets`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .datasets import TARGET_TRANSFORMS, DataError, Panel, to_returns, transform_target

__all__ = ["TARGET_TRANSFORMS", "build_features", "transform_target"]


def _check_returns(returns: Any) -> pd.DataFrame:
    if not isinstance(returns, pd.DataFrame):
        raise ValueError(f"returns must be a wide pandas DataFrame (dates x assets); got {type(returns).__name__}.")
    if returns.shape[0] == 0 or returns.shape[1] == 0:
        raise ValueError(f"returns is empty (shape {returns.shape}).")
    idx = returns.index
    if not isinstance(idx, pd.DatetimeIndex):
        if pd.api.types.is_numeric_dtype(idx.dtype):
            # pd.DatetimeIndex would read 0, 1, 2 ... as nanoseconds after 1970-01-01
            raise DataError(
                f"returns must have dates as its index; it holds numbers ({', '.join(map(str, idx[:3]))} ...), not "
                "dates. Read a CSV with index_col=0, parse_dates=True, or use czar_gbdt.datasets.load_wide(path)."
            )
        try:
            idx = pd.DatetimeIndex(idx)
        except (TypeError, ValueError) as exc:
            raise DataError(f"returns must have dates as its index; could not read them as dates ({exc}).") from None
    if idx.hasnans:
        raise DataError("returns has missing dates (NaT) in its index.")
    if not idx.is_monotonic_increasing or not idx.is_unique:
        raise DataError("returns' dates must be unique and sorted ascending; use returns.sort_index().")
    if not returns.columns.is_unique:
        dup = returns.columns[returns.columns.duplicated()].unique().tolist()
        raise DataError(f"returns has duplicate asset columns: {dup[:5]}.")
    frame = returns.set_axis(idx.rename("date"), axis=0)
    checked = to_returns(frame, "returns", where="returns")
    return checked.set_axis(pd.Index(returns.columns, name="asset"), axis=1)


def _check_windows(windows: Any) -> tuple[int, ...]:
    if isinstance(windows, (int, np.integer)):
        windows = (windows,)
    try:
        ws = tuple(windows)
    except TypeError:
        raise ValueError(f"windows must be a sequence of integers >= 1; got {windows!r}.") from None
    if not ws or any(isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1 for w in ws):
        raise ValueError(f"windows must be a non-empty sequence of integers >= 1; got {windows!r}.")
    if len(set(ws)) != len(ws):
        raise ValueError(f"windows must not repeat; got {windows!r}.")
    return tuple(int(w) for w in ws)


def build_features(
    returns: pd.DataFrame,
    *,
    horizon: int = 5,
    windows: Sequence[int] = (1, 5, 20, 60),
    vol_window: int = 60,
    vol_floor: float = 1e-3,
    ranks: bool = True,
    dropna: bool = True,
) -> Panel:
    """Causal features, forward-return target and z-scoring ``std`` from wide returns.

    The definitions are in ``docs/own-data.md`` ("What is built for you").

    Parameters
    ----------
    returns : pandas.DataFrame of shape (n_dates, n_assets)
        Simple returns as decimals (> -1), indexed by unique ascending dates,
        one column per asset. NaN marks a missing return (an asset not yet
        listed, say): windows that contain it give NaN.
    horizon : int, default=5
        Target horizon h: the target at t is the compounded return over
        t+1..t+h, and ``std`` is scaled by ``sqrt(h)``.
    windows : sequence of int, default=(1, 5, 20, 60)
        Look-back windows (periods) of the past-return features.
    vol_window : int, default=60
        Look-back of the trailing volatility, >= 2.
    vol_floor : float, default=1e-3
        Floor of ``std`` (in target units: 1e-3 = 0.1% per horizon), > 0, so
        a flat asset never divides by ~0.
    ranks : bool, default=True
        Add the cross-sectional rank features.
    dropna : bool, default=True
        Drop the rows where any feature, ``std`` or the target is unavailable:
        the warm-up (the first ``max(max(windows), vol_window) - 1`` dates,
        longer where returns are missing) and the last ``horizon`` dates. With
        False every (date, asset) row is kept, with NaN where a value is
        unavailable (e.g. to predict on the latest dates, whose target is NaN).

    Returns
    -------
    Panel
        Rows sorted by date then asset (column order of ``returns``), ``std``
        set, ``info`` with the parameters and the number of dropped rows.

    Raises
    ------
    ValueError
        If ``returns`` is not a valid wide return table or a parameter is out
        of range.

    Examples
    --------
    >>> from czar_gbdt import datasets, features
    >>> panel = features.build_features(datasets.load_ff49(), horizon=5)
    >>> panel.feature_names[:4]
    ['ret_1', 'ret_5', 'ret_20', 'ret_60']
    """
    ws = _check_parameters(horizon, windows, vol_window, vol_floor)
    R = _check_returns(returns)
    h = int(horizon)
    L = np.log1p(R)
    feats, vol = _feature_frames(L, ws, vol_window, ranks)
    target = np.expm1(L.rolling(h, min_periods=h).sum().shift(-h))
    std = np.maximum(vol.to_numpy() * math.sqrt(h), vol_floor)  # NaN stays NaN

    n_dates, n_assets = R.shape
    names = list(feats)
    X = np.stack([feats[k].to_numpy() for k in names], axis=-1).reshape(n_dates * n_assets, len(names))
    y = target.to_numpy().reshape(-1)
    s = std.reshape(-1)
    dates = np.repeat(R.index.values, n_assets)
    assets = np.tile(R.columns.to_numpy(), n_dates)
    n_total = X.shape[0]
    has_features = np.isfinite(X).all(axis=1) & np.isfinite(s)
    has_target = np.isfinite(y)
    info = {
        "source": "build_features",
        "horizon": h,
        "windows": ws,
        "vol_window": int(vol_window),
        "vol_floor": float(vol_floor),
        "ranks": bool(ranks),
        **_row_counts(R, has_features, has_target),
    }
    if dropna:
        keep = has_features & has_target
        X, y, s, dates, assets = X[keep], y[keep], s[keep], dates[keep], assets[keep]
        info["n_rows_dropped"] = int(n_total - keep.sum())
        kept = set(assets.tolist())
        info["assets_without_rows"] = [str(c) for c in R.columns if c not in kept]
    else:
        info["n_rows_dropped"] = 0
    return Panel.from_arrays(pd.DataFrame(X, columns=names), y, dates, assets, std=s, info=info)


def _check_parameters(horizon: Any, windows: Any, vol_window: Any, vol_floor: Any) -> tuple[int, ...]:
    """Check the parameters of :func:`build_features` (in the order of its signature); returns the windows."""
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be an integer >= 1; got {horizon!r}.")
    ws = _check_windows(windows)
    if isinstance(vol_window, bool) or not isinstance(vol_window, (int, np.integer)) or vol_window < 2:
        raise ValueError(f"vol_window must be an integer >= 2; got {vol_window!r}.")
    if not (isinstance(vol_floor, (int, float, np.floating)) and math.isfinite(vol_floor) and vol_floor > 0):
        raise ValueError(f"vol_floor must be a finite number > 0; got {vol_floor!r}.")
    return ws


def _feature_frames(
    L: pd.DataFrame, ws: tuple[int, ...], vol_window: int, ranks: bool
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The feature columns (dates x assets each, in the documented order) from log returns ``L``,
    and the trailing volatility (also the base of ``std``)."""
    feats: dict[str, pd.DataFrame] = {}
    rets: dict[int, pd.DataFrame] = {}
    for w in ws:
        rets[w] = np.expm1(L.rolling(w, min_periods=w).sum())
        feats[f"ret_{w}"] = rets[w]
    vol = L.rolling(vol_window, min_periods=vol_window).std(ddof=1)
    feats[f"vol_{vol_window}"] = vol
    for w in ws:
        feats[f"rel_ret_{w}"] = rets[w].sub(rets[w].mean(axis=1), axis=0)
    if ranks:
        for w in ws:
            feats[f"rank_ret_{w}"] = rets[w].rank(axis=1, pct=True, method="average")
        feats[f"rank_vol_{vol_window}"] = vol.rank(axis=1, pct=True, method="average")
    return feats, vol


def _row_counts(R: pd.DataFrame, has_features: np.ndarray, has_target: np.ndarray) -> dict[str, Any]:
    """The ``info`` entries that count rows (before any drop) and name what the data line reports."""
    n_dates, n_assets = R.shape
    return {
        "n_rows_total": int(has_features.shape[0]),
        "n_rows_without_features": int((~has_features).sum()),
        "n_rows_without_target": int((~has_target).sum()),
        # what the data line names (evaluation.describe_data): assets without a single return,
        # and the dates before the first row with every feature (the warm-up)
        "all_nan_assets": [str(c) for c in R.columns[R.isna().all(axis=0).to_numpy()]],
        "n_dates_warm_up": int(np.argmax(has_features.reshape(n_dates, n_assets).any(axis=1)))
        if has_features.any()
        else int(n_dates),
    }

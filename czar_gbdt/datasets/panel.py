"""Panel: a long (date, asset) panel aligned row by row, and the per-date transforms of its target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TARGET_TRANSFORMS", "Panel", "transform_target"]

#: Valid ``method`` values of :func:`transform_target`.
TARGET_TRANSFORMS = ("raw", "demean", "zscore")


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
            A new panel; ``info`` is shared. Consecutive ascending rows (a walk-forward window
            of a date-sorted panel) are taken as a slice: the arrays are read-only views of
            this panel's, not copies.
        """
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        consecutive = rows.dtype.kind in "iu" and len(rows) > 0 and rows[0] >= 0 and rows[-1] - rows[0] == len(rows) - 1
        if consecutive and (np.diff(rows) == 1).all():
            rows = slice(int(rows[0]), int(rows[-1]) + 1)

        def take(v: Any) -> Any:
            if v is None:
                return None
            part = v[rows]
            if isinstance(rows, slice) and isinstance(part, np.ndarray):
                part.flags.writeable = False  # a view: changing it would change this panel
            return part

        return Panel(
            X=self.X.iloc[rows],
            y=take(self.y),
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

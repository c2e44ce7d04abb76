"""A long panel on a Dask cluster: :class:`LazyPanel`, its :class:`Window` of consecutive dates, and
how many rows a partition holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..datasets import Panel

__all__ = ["Window", "LazyPanel", "partition_rows"]


@dataclass
class Window:
    """The rows of consecutive dates of a :class:`LazyPanel`: a lazy frame and its dates."""

    frame: Any
    dates: pd.DatetimeIndex
    rows: int

    def __len__(self) -> int:
        return self.rows


@dataclass
class LazyPanel:
    """A long (date, asset) panel on a Dask cluster: read lazily, never collected.

    Attributes
    ----------
    frame : dask.dataframe.DataFrame
        Indexed by date (sorted, divisions at date boundaries: every date inside one
        partition); columns: the asset, the target, the features, optional std/mean/weight.
    dates : pandas.DatetimeIndex
        The distinct dates, sorted.
    counts : ndarray of shape (n_dates,)
        Rows per date.
    columns : dict
        The column of each role: ``asset``, ``target``, ``std``, ``mean``, ``weight``
        (None when absent).
    features : list of str
        The feature columns.
    client : distributed.Client
        The cluster the panel lives on.
    assets : ndarray
        The distinct assets (what :func:`czar_gbdt.evaluation.scoring` reads).
    info : dict
        Where it came from.
    """

    frame: Any
    dates: pd.DatetimeIndex
    counts: np.ndarray
    columns: dict
    features: list
    client: Any
    assets: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.counts.sum())

    def __repr__(self) -> str:
        extra = [k for k in ("std", "mean", "weight") if self.columns.get(k)]
        return (
            f"LazyPanel({len(self)} rows, {len(self.dates)} dates, {len(self.features)} features, "
            f"{self.frame.npartitions} partitions" + (", with " + "/".join(extra) if extra else "") + ")"
        )

    def window(self, start: int, end: int) -> Window | None:
        """The rows of the dates at positions ``[start, end)`` (None when empty)."""
        if end <= start:
            return None
        dates = self.dates[start:end]
        return Window(self.frame.loc[dates[0] : dates[-1]], dates, int(self.counts[start:end].sum()))

    def narrow(self) -> list:
        """The columns of a window that are collected for scoring: everything but the features."""
        return [c for c in (self.columns[k] for k in ("asset", "target", "std", "mean", "weight")) if c]

    def collect(self, window: Window) -> Panel:
        """The window's target, dates, assets and side columns as an in-memory :class:`Panel` without features."""
        part = self.client.compute(window.frame[self.narrow()], sync=True)
        cols = self.columns

        def get(role: str) -> Any:
            return part[cols[role]].to_numpy(np.float64) if cols[role] else None

        return Panel.from_arrays(
            pd.DataFrame(index=pd.RangeIndex(len(part))),
            part[cols["target"]].to_numpy(np.float64),
            part.index,
            part[cols["asset"]].to_numpy(),
            std=get("std"),
            mean=get("mean"),
            weight=get("weight"),
            info=self.info,
        )


def partition_rows(total_rows: int, n_workers: int) -> int:
    """Rows per partition: about four partitions per worker, between 2,000 and 2,000,000 rows.

    A fold's training window (part of the dates) then still spreads over every worker.
    """
    return int(min(2_000_000, max(2_000, total_rows // max(1, 4 * n_workers))))

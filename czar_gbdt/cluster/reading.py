"""Reading a long Parquet panel onto a Dask cluster: read lazily, checked in two passes
(:mod:`czar_gbdt.cluster.checks`), indexed by date and repartitioned at date boundaries, so that
every date lies inside one partition (per-date labels, rank IC and early stopping are then exact
partition by partition)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import DataConfig
from ..datasets import DataError
from ..datasets.dates import parse_dates
from ..evaluation import iso_date
from .checks import check_pairs, check_partitions, panel_columns
from .panel import LazyPanel, partition_rows

__all__ = ["read_panel"]


def _date_cuts(counts: np.ndarray, target: int) -> list[int]:
    """Positions of the dates that start a partition: about ``target`` rows each, cut at date boundaries."""
    cuts, acc = [0], 0
    for i, c in enumerate(counts):
        if acc >= target:
            cuts.append(i)
            acc = 0
        acc += c
    return cuts


def read_panel(d: DataConfig, client: Any) -> LazyPanel:
    """The long panel of ``d`` on ``client``'s cluster: read, checked (two passes), indexed by date and cut
    into partitions at date boundaries."""
    import dask
    import dask.dataframe as dd

    source = d.source
    with dask.config.set({"dataframe.convert-string": False}):  # text columns as pandas.read_parquet reads them
        raw = dd.read_parquet(source)
    columns = panel_columns(raw, d.panel, source)
    raw = raw[list(dict.fromkeys(columns.used + columns.features))]
    every = check_partitions(raw, columns, source, d.panel.sort, client)
    counts = _between(every, source, d.start, d.end)
    dates = pd.DatetimeIndex(counts.index, name="date")
    n = counts.to_numpy(np.int64)
    frame, cuts = _date_partitions(raw, columns.date, dates, n, client)
    # pass 2: one row per (date, asset), every date now inside one partition; rows numbered as in the table
    before = int(every[every.index < dates[0]].sum())
    assets = check_pairs(frame, columns.asset, [before + int(n[:i].sum()) for i in cuts], source, client)
    roles = {"asset": columns.asset, "target": columns.target, **columns.side}
    info = {"source": source, "engine": "dask", "partitions": frame.npartitions}
    return LazyPanel(frame, dates, n, roles, list(columns.features), client, assets, info)


def _between(every: pd.Series, source: str, start: str | None, end: str | None) -> pd.Series:
    """The rows per date between ``data.start`` and ``data.end`` (None: no bound); none is an error."""
    counts = every
    if start:
        counts = counts[counts.index >= pd.Timestamp(start)]
    if end:
        counts = counts[counts.index <= pd.Timestamp(end)]
    if counts.empty:
        raise DataError(
            f"{source}: no rows between data.start={start or ''!r} and data.end={end or ''!r}; the data "
            f"(after the feature warm-up and the last data.horizon dates) runs from "
            f"{iso_date(every.index[0])} to {iso_date(every.index[-1])}."
        )
    return counts


def _date_partitions(
    raw: Any, date_col: str, dates: pd.DatetimeIndex, n: np.ndarray, client: Any
) -> tuple[Any, list[int]]:
    """The frame indexed by date, between the first and last of ``dates``, cut into partitions at date
    boundaries (about four per worker); and the positions of the dates that start a partition."""
    from .. import dask as cdask

    kind = raw[date_col].dtype
    frame = raw.assign(
        **{
            date_col: raw[date_col].map_partitions(
                _as_dates, date_col, meta=(date_col, kind if kind.kind == "M" else "datetime64[ns]")
            )
        }
    )
    frame = frame.set_index(date_col, sorted=True).loc[dates[0] : dates[-1]]
    cuts = _date_cuts(n, partition_rows(int(n.sum()), len(cdask.worker_addresses(client))))
    return frame.repartition(divisions=[dates[i] for i in cuts] + [dates[-1]]), cuts


def _as_dates(col: pd.Series, name: str) -> pd.Series:
    """The date column of a partition as datetimes (its values were checked by the first pass)."""
    return pd.Series(parse_dates(col, name, ""), index=col.index, name=col.name)

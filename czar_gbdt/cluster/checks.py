"""The data rules of a Parquet panel on a Dask cluster: the in-memory rules of :mod:`czar_gbdt.datasets`,
run on each partition with the position of its first row, so that a data error is the same one-line
:class:`~czar_gbdt.datasets.DataError` with the same message as in memory.

Pass 1 (:func:`check_partitions`) checks the raw partitions and the order of the dates across them;
pass 2 (:func:`check_pairs`), on the frame cut at date boundaries, checks that each (date, asset)
appears once.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pandas as pd

from ..config import PanelConfig
from ..datasets import AUTO, DataError
from ..datasets.checks import (
    Rows,
    check_finite_features,
    check_unique_pairs,
    labels_and_side,
    non_numeric_features,
    refuse_non_numeric,
)
from ..datasets.columns import PanelColumns, resolve_columns
from ..datasets.dates import check_sorted
from ..datasets.long import panel_rows
from ..evaluation import DATA_KEYS

__all__ = ["PANEL_KEYS", "panel_columns", "check_partitions", "check_pairs"]

#: How the data errors of a cluster's panel name the arguments: the configuration keys, as in memory.
PANEL_KEYS = {**DATA_KEYS, "date_col": "data.panel.date_col"}


def _partition_rules(part: pd.DataFrame, offset: int, columns: PanelColumns, where: str, names: dict) -> dict:
    """The in-memory rules on one partition of the raw table, whose first row is row ``offset`` of the table.

    Returns the first error (with the rank of its rule: the in-memory order), or the features that
    are not numeric (merged over the partitions into one message, as in memory), or the
    partition's row count per date and its first and last date.
    """
    out: dict = {
        "error": None,
        "rank": 0,
        "non_numeric": {},
        "counts": pd.Series(dtype=np.int64),
        "first": None,
        "last": None,
    }
    if len(part) == 0:
        return out
    try:
        rows = panel_rows(part, columns, where, names, offset=offset)
    except DataError as exc:
        return {**out, "error": str(exc), "rank": 0}
    out["non_numeric"] = non_numeric_features(part, columns.features, rows)
    if out["non_numeric"]:
        return out
    for rank, step in (
        (2, lambda: check_finite_features(part, columns.features, rows)),
        (3, lambda: check_sorted(rows.dates, columns.date, where, names, offset=offset)),
        (4, lambda: labels_and_side(part, columns, rows)),
    ):
        try:
            step()
        except DataError as exc:
            return {**out, "error": str(exc), "rank": rank}
    out["counts"] = pd.Series(rows.dates).value_counts(sort=False).sort_index()
    out["first"], out["last"] = rows.dates[0], rows.dates[-1]
    return out


def _non_numeric(found: list) -> dict:
    """The non-numeric features of all partitions, each with the first value that is not a number in the table."""
    merged: dict = {}
    for f in found:
        for column, text in f["non_numeric"].items():
            if column not in merged or ("; the first" in text and "; the first" not in merged[column]):
                merged[column] = text
    return merged


def _pairs_part(part: pd.DataFrame, offset: int, asset_col: str, where: str) -> dict:
    """One row per (date, asset) in one partition of the date-indexed frame (every date inside it), and its assets."""
    rows = Rows(where, pd.DatetimeIndex(part.index), part[asset_col], offset)
    try:
        check_unique_pairs(rows)
    except DataError as exc:
        return {"error": str(exc)}
    return {"error": None, "assets": pd.unique(part[asset_col].to_numpy())}


def panel_columns(raw: Any, p: PanelConfig, where: str) -> PanelColumns:
    """The roles of the columns, as in memory: a side column not named is ``"auto"`` (the column of that
    name, when the table has one) and no ``feature_cols`` takes every other column."""
    columns = resolve_columns(
        raw.columns,
        date_col=p.date_col,
        asset_col=p.asset_col,
        target_col=p.target_col,
        feature_cols=list(p.feature_cols) if p.feature_cols else None,
        where=where,
        names=PANEL_KEYS,
        std_col=p.std_col or AUTO,
        mean_col=p.mean_col or AUTO,
        weight_col=p.weight_col or AUTO,
    )
    category = [f"{c!r}" for c in columns.features if isinstance(raw[c].dtype, pd.CategoricalDtype)]
    if category:
        raise DataError(
            f"{where}: feature columns must be numeric or bool on a Dask cluster (pandas 'category' "
            f"trains in memory); 'category': {', '.join(category)}. Set cluster.engine = 'local'."
        )
    return columns


def check_partitions(raw: Any, columns: PanelColumns, where: str, sort: bool, client: Any) -> pd.Series:
    """Pass 1: the in-memory rules on every partition of the raw table, and the order of the dates across
    partitions. Returns the rows per date of the whole table."""
    import dask

    # one read of each partition: its length, the position of its first row (a chain of sums) and its rules
    parts = raw.to_delayed()
    lengths = [dask.delayed(len)(part) for part in parts]
    offsets = [0]
    for n in lengths[:-1]:
        offsets.append(dask.delayed(operator.add)(offsets[-1], n))
    tasks = [
        dask.delayed(_partition_rules)(part, offsets[i], columns, where, PANEL_KEYS) for i, part in enumerate(parts)
    ]
    found, lengths, offsets = client.compute([tasks, lengths, offsets], sync=True)
    errors = [(f["rank"], int(offsets[i]), f["error"]) for i, f in enumerate(found) if f["error"]]
    if not any(rank == 0 for rank, _, _ in errors):  # in memory the features are checked after the dates and assets
        refuse_non_numeric(where, _non_numeric(found))
    spans = [
        (f["first"], f["last"], int(offsets[i]) + lengths[i] - 1) for i, f in enumerate(found) if f["first"] is not None
    ]
    for (_, last, row), (first, _, _) in zip(spans, spans[1:]):
        try:  # the last row of a partition and the first of the next: rows `row` and `row + 1` of the table
            check_sorted(pd.DatetimeIndex([last, first]), columns.date, where, PANEL_KEYS, offset=row)
        except DataError as exc:
            errors.append((3, row + 1, str(exc)))
    if errors:
        rank, _, message = min(errors)
        if rank == 3 and sort:
            message += " On a Dask cluster data.panel.sort does not sort: write the Parquet files sorted by date."
        raise DataError(message)
    if not spans:
        raise DataError(f"{where}: the table has no rows.")
    return pd.concat([f["counts"] for f in found if len(f["counts"])]).groupby(level=0).sum().sort_index()


def check_pairs(frame: Any, asset_col: str, offsets: list[int], source: str, client: Any) -> np.ndarray:
    """Pass 2: one row per (date, asset) in each partition (the first row of partition ``i`` is row
    ``offsets[i]`` of the table), and more than one asset. Returns the distinct assets."""
    import dask

    checks = client.compute(
        [
            dask.delayed(_pairs_part)(part, offsets[i], asset_col, source)
            for i, part in enumerate(frame[[asset_col]].to_delayed())
        ],
        sync=True,
    )
    errors = [c["error"] for c in checks if c["error"]]
    if errors:
        raise DataError(errors[0])
    assets = pd.unique(np.concatenate([c["assets"] for c in checks]))
    if len(assets) == 1:
        raise DataError(
            f"{source}: one asset ({assets[0]!r}): a single series is scored by its time-series rank IC "
            "in memory, where its early stopping watches that rank IC; set cluster.engine = 'local' (a "
            "series of even a million bars fits in one process)."
        )
    return assets

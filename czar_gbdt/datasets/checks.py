"""The row rules of a long panel: assets, numeric features, one row per (date, asset), the target
and the side columns' values.

One implementation for a table in memory (:func:`czar_gbdt.datasets.load_panel`) and for each
partition of a Parquet panel on a Dask cluster (:mod:`czar_gbdt.cluster`): a :class:`Rows` says
where the rows are in the whole table (``offset``), so that a message names the same row, date
and asset either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import first_true
from .columns import PanelColumns
from .errors import DataError, cell

__all__ = [
    "SIDE_RULES",
    "Rows",
    "check_assets",
    "check_features",
    "check_finite_features",
    "check_unique_pairs",
    "first_non_numeric",
    "labels_and_side",
    "non_numeric_features",
    "refuse_non_numeric",
]


def first_non_numeric(col: pd.Series) -> int | None:
    """Position of the first value of ``col`` that is present but not a number (None if all are)."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    coerced = pd.to_numeric(col, errors="coerce")
    bad = np.asarray(col.notna()) & np.asarray(coerced.isna())
    return first_true(bad) if bad.any() else None


@dataclass(frozen=True)
class Rows:
    """Rows of a long table, as messages name them.

    Attributes
    ----------
    where : str
        The file, or ``"the DataFrame"``.
    dates : pandas.DatetimeIndex
        The parsed date of each row.
    assets : pandas.Series
        The asset column.
    offset : int
        Position of the first of these rows in the whole table (a partition's rows on a cluster).
    """

    where: str
    dates: pd.DatetimeIndex
    assets: pd.Series
    offset: int = 0

    def at(self, i: int) -> str:
        """``row 12 (date 2024-01-31, asset 'A')``: the ``i``-th of these rows."""
        return f"row {self.offset + i} (date {self.dates[i].date()}, asset {self.assets.iloc[i]})"


def check_assets(rows: Rows, name: str) -> None:
    """Refuse missing assets."""
    asset_na = np.asarray(rows.assets.isna())
    if asset_na.any():
        raise DataError(
            f"{rows.where}: {int(asset_na.sum())} missing assets in {name!r}; the first at row "
            f"{rows.offset + first_true(asset_na)}."
        )


def check_features(df: pd.DataFrame, features: list, rows: Rows) -> None:
    """Refuse features that are not numeric (bool and pandas ``category`` are kept) or hold an infinity."""
    refuse_non_numeric(rows.where, non_numeric_features(df, features, rows))
    check_finite_features(df, features, rows)


def non_numeric_features(df: pd.DataFrame, features: list, rows: Rows) -> dict:
    """The features that are not numeric (bool and pandas ``category`` are kept): ``{column: text}``, the text
    naming the dtype and the first value that is not a number, with its row, date and asset."""
    found = {}
    for c in features:
        col = df[c]
        if (
            pd.api.types.is_numeric_dtype(col)
            or pd.api.types.is_bool_dtype(col)
            or isinstance(col.dtype, pd.CategoricalDtype)
        ):
            continue
        r = first_non_numeric(col)
        first = f"; the first non-numeric value is {cell(col.iloc[r])!r} at {rows.at(r)}" if r is not None else ""
        found[c] = f"{col.dtype}{first}"
    return found


def refuse_non_numeric(where: str, found: dict) -> None:
    """The error of :func:`non_numeric_features` (nothing when ``found`` is empty)."""
    if found:
        raise DataError(
            f"{where}: feature columns must be numeric (or bool / pandas 'category'); not numeric: "
            + ", ".join(f"{c!r} ({text})" for c, text in found.items())
            + "."
        )


def check_finite_features(df: pd.DataFrame, features: list, rows: Rows) -> None:
    """Refuse a numeric feature holding an infinity.

    NaN is a missing value the boosters handle; an infinity is an error upstream.
    """
    for c in features:
        col = df[c]
        if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(col):
            continue
        inf = np.isinf(pd.to_numeric(col).to_numpy(dtype=np.float64, na_value=np.nan))
        if inf.any():
            r = first_true(inf)
            raise DataError(
                f"{rows.where}: feature {c!r} has {int(inf.sum())} infinite values, the first "
                f"{cell(col.iloc[r])} at {rows.at(r)}; use NaN (an empty cell) for a missing value, "
                f"which the boosters treat as missing."
            )


def check_unique_pairs(rows: Rows) -> None:
    """Refuse a (date, asset) pair that appears more than once."""
    key = pd.DataFrame({"date": rows.dates, "asset": rows.assets.to_numpy()})
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        examples = key[dup].drop_duplicates().head(5)
        shown = ", ".join(f"({r.date.date()}, {r.asset})" for r in examples.itertuples())
        raise DataError(
            f"{rows.where}: {int(dup.sum())} rows share a (date, asset) pair with another row, e.g. {shown}; "
            "each (date, asset) must appear once. The first duplicated row is row "
            f"{rows.offset + first_true(dup)}."
        )


#: What the values of each side column must be: a test of the values, and the rule as messages say it.
SIDE_RULES = {
    "std": (lambda v: np.isfinite(v) & (v > 0), "finite and > 0"),
    "mean": (np.isfinite, "finite"),
    "weight": (lambda v: np.isfinite(v) & (v >= 0), "finite and >= 0"),
}


def _numeric(df: pd.DataFrame, col: str, label: str, rows: Rows) -> np.ndarray:
    """Column ``col`` as float64 (NaN for a missing value), or the error naming its first non-number."""
    r = first_non_numeric(df[col])
    if r is not None:
        raise DataError(
            f"{rows.where}: {label} column {col!r} must be numeric; it has {cell(df[col].iloc[r])!r} at {rows.at(r)}."
        )
    try:
        return pd.to_numeric(df[col]).to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataError(
            f"{rows.where}: {label} column {col!r} must be numeric; it has dtype {df[col].dtype}."
        ) from None


def labels_and_side(df: pd.DataFrame, columns: PanelColumns, rows: Rows) -> tuple[np.ndarray, dict]:
    """The target (finite) and the side columns (each by its :data:`SIDE_RULES` rule), as float64.

    Returns
    -------
    y : ndarray
    side : dict
        ``{"std": ndarray or None, "mean": ..., "weight": ...}``.
    """
    y = _numeric(df, columns.target, "target", rows)
    bad = ~np.isfinite(y)
    if bad.any():
        raise DataError(
            f"{rows.where}: target {columns.target!r} has {int(bad.sum())} NaN/infinite values, the first at "
            f"{rows.at(first_true(bad))}; drop unlabeled rows (e.g. the last horizon dates) before training."
        )
    extra: dict[str, np.ndarray | None] = {"std": None, "mean": None, "weight": None}
    for name, col in columns.side.items():
        if col is None:
            continue
        v = _numeric(df, col, name, rows)
        ok_fn, rule = SIDE_RULES[name]
        bad = ~ok_fn(v)
        if bad.any():
            i = first_true(bad)
            raise DataError(
                f"{rows.where}: {name} column {col!r} must be {rule}; {int(bad.sum())} rows are not, the first at "
                f"{rows.at(i)} (value {v[i]})."
            )
        extra[name] = v
    return y, extra

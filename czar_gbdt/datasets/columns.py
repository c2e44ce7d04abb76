"""Side columns and the roles of a long panel's columns: which column is the date, the asset, the
target, the per-row ``std``/``mean``/``weight`` and the features.

One implementation for a table in memory (:func:`czar_gbdt.datasets.load_panel`) and a Parquet
panel on a Dask cluster (:mod:`czar_gbdt.cluster`): both call :func:`resolve_columns` on the
table's column names.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import DataError, argument, setting

__all__ = ["AUTO", "LOOKALIKES", "SIDE_COLUMNS", "PanelColumns", "missing_hint", "refuse_lookalikes", "resolve_columns"]

#: Use a side column (``std``, ``mean``, ``weight``) when the table has one of that name:
#: the value of ``std_col``/``mean_col``/``weight_col`` that recognises it by default.
AUTO = "auto"

#: The default names of the side columns, recognised by ``std_col="auto"`` (and friends).
SIDE_COLUMNS = {"std": "std", "mean": "mean", "weight": "weight"}

#: Names that look like side data without being exactly a side column's name: with
#: ``feature_cols`` unset they would silently become features, so they are refused instead.
LOOKALIKES = {
    "std": {"std", "sigma", "stdev", "stddev", "std_dev", "vol_std", "scale"},
    "mean": {"mean", "mu"},
    "weight": {"weight", "weights", "sample_weight", "sample_weights"},
}


@dataclass(frozen=True)
class PanelColumns:
    """The column of each role of a long panel.

    Attributes
    ----------
    date, asset, target : str
        The date, asset and target columns.
    features : list of str
        The feature columns, in table order (or as listed).
    side : dict
        ``{"std": column or None, "mean": ..., "weight": ...}``.
    """

    date: str
    asset: str
    target: str
    features: list
    side: dict

    @property
    def used(self) -> list:
        """The date, asset, target and side columns, each once."""
        return list(dict.fromkeys([self.date, self.asset, self.target] + [c for c in self.side.values() if c]))


def resolve_columns(
    columns: Sequence,
    *,
    date_col: str,
    asset_col: str,
    target_col: str,
    feature_cols: Sequence[str] | None,
    std_col: str | None,
    mean_col: str | None,
    weight_col: str | None,
    where: str,
    names: Mapping[str, str] | None = None,
) -> PanelColumns:
    """The role of each column of a long panel whose columns are ``columns``, checked.

    ``std_col`` (``mean_col``, ``weight_col``) ``"auto"`` takes the column named ``std`` when
    there is one (and ``feature_cols`` does not list it); None takes none. Without
    ``feature_cols`` every other column is a feature, and a column whose name looks like side
    data (``sigma`` ...) is refused with ``"auto"`` and warned about with None.

    Raises
    ------
    DataError
        For missing columns (naming the argument or configuration key), no feature column, and a
        feature that is also the date, asset, target or a side column.
    """
    columns = list(columns)
    given = {"std": std_col, "mean": mean_col, "weight": weight_col}
    explicit_features = feature_cols is not None
    if explicit_features:
        if isinstance(feature_cols, str):
            raise ValueError(
                f"{argument(names, 'feature_cols')} must be a list of column names; got the string {feature_cols!r}."
            )
        feature_cols = list(feature_cols)
    listed = set(feature_cols or ())
    side: dict[str, str | None] = {}
    for role, col in given.items():
        if col == AUTO:
            default = SIDE_COLUMNS[role]
            col = default if default in columns and default not in listed else None
        side[role] = col
    required = [date_col, asset_col, target_col]
    wanted = required + [c for c in side.values() if c is not None]
    if explicit_features:
        wanted += feature_cols
    missing = [c for c in dict.fromkeys(wanted) if c not in columns]
    if missing:
        raise DataError(
            f"{where}: missing column(s) {missing}; available columns: {columns}."
            + missing_hint(missing, names, date_col, asset_col, target_col, side)
        )
    if not explicit_features:
        used = set(wanted)
        feature_cols = [c for c in columns if c not in used]
        refuse_lookalikes(feature_cols, given, side, where, names)
    if not feature_cols:
        raise DataError(
            f"{where}: no feature columns: every column is the date, asset, target or a side column "
            f"({', '.join(repr(c) for c in dict.fromkeys(wanted))}); add feature columns, or list them "
            f"in {argument(names, 'feature_cols')}."
        )
    clash = [c for c in feature_cols if c in set(required) | {c2 for c2 in side.values() if c2}]
    if clash:
        raise DataError(
            f"{where}: {argument(names, 'feature_cols')} {clash} are also used as date/asset/target/std/mean/weight."
        )
    return PanelColumns(date_col, asset_col, target_col, list(feature_cols), side)


def missing_hint(
    missing: list, names: Mapping[str, str] | None, date_col: str, asset_col: str, target_col: str, side: dict
) -> str:
    """Which argument (or config key) names each missing column."""
    roles = {
        date_col: "date_col",
        asset_col: "asset_col",
        target_col: "target_col",
        **{c: f"{r}_col" for r, c in side.items() if c},
    }
    named = [f'{argument(names, roles[c])} = "{c}"' for c in missing if c in roles]
    if not named or not names:
        return ""
    return (
        f" {', '.join(named)} {'names a column' if len(named) == 1 else 'name columns'} the file does not have: "
        f"set {'it' if len(named) == 1 else 'them'} to the file's own column names."
    )


def refuse_lookalikes(features: list, given: dict, side: dict, where: str, names: Mapping[str, str] | None) -> None:
    """Refuse (``"auto"``) or warn about (``None``) side data about to become a feature."""
    for c in features:
        low = str(c).lower()
        for role, aliases in LOOKALIKES.items():
            if low not in aliases:
                continue
            if given[role] == AUTO and side[role] is None:
                raise DataError(
                    f"{where}: column {c!r} looks like a per-row {role} but would become a feature: "
                    f"{setting(names, f'{role}_col', str(c))} to use it as the {role}, or list the feature "
                    f"columns in {argument(names, 'feature_cols')} to keep it a feature."
                )
            if given[role] is None and c == SIDE_COLUMNS[role]:
                warnings.warn(
                    f"{where}: column {c!r} is used as a feature because {argument(names, f'{role}_col')} is None; "
                    f"{setting(names, f'{role}_col', str(c))} (or {AUTO!r}) to use it as the {role}, or list the "
                    f"features in {argument(names, 'feature_cols')} to keep it a feature and silence this warning.",
                    UserWarning,
                    stacklevel=4,
                )

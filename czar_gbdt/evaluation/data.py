"""The configuration glue of the data: the panel a configuration names, checked before any work.

:func:`load_data` builds the panel of ``cfg.data`` (the bundled FF49 returns with causal
features, a user's wide table, or a user's long panel), :func:`check_data` refuses data the
configuration cannot be run on, :func:`scoring` says how its forecasts are scored (which
rank IC: across assets, or over time for one series), :func:`make_splitter` builds the
walk-forward splitter of ``cfg.splits``, and :func:`describe_data` the "data:" line.

Every function taking ``cfg`` accepts a :class:`~czar_gbdt.config.Config` or the validated dict
(:func:`~czar_gbdt.config.as_config`) and reads the typed sections.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import first_true
from ..config import ALLORA_OBJECTIVES, Config, DataConfig, PanelConfig, SplitsConfig, WideConfig, as_config
from ..datasets import AUTO, DataError, Panel, extreme_returns, load_ff49, load_panel, load_wide, resolve_layout
from ..features import build_features
from ..model_selection import WalkForward
from ..ranking import RankObjective
from .engine import iso_date
from .labels import auto_transform

__all__ = [
    "DATA_KEYS",
    "data_layout",
    "panel_key",
    "load_data",
    "CROSS_SECTIONAL_OBJECTIVES",
    "Scoring",
    "scoring",
    "resolve_target_transform",
    "resolve_config",
    "check_data",
    "prepare_data",
    "describe_data",
    "name_assets",
    "data_warnings",
    "describe_transform",
    "make_splitter",
]


#: How a data error names the arguments of the loaders: the configuration keys they come from.
DATA_KEYS = {
    "values": "data.wide.values",
    "layout": "data.layout",
    "asset_col": "data.panel.asset_col",
    "target_col": "data.panel.target_col",
    "feature_cols": "data.panel.feature_cols",
    "std_col": "data.panel.std_col",
    "mean_col": "data.panel.mean_col",
    "weight_col": "data.panel.weight_col",
    "sort": "data.panel.sort",
}


def data_layout(cfg: Config | dict) -> str:
    """``"wide"`` or ``"long"``: ``data.layout``, or for ``"auto"`` what the file's header says
    (:func:`czar_gbdt.datasets.detect_layout`; the bundled FF49 data is a wide table)."""
    return _layout(as_config(cfg).data)


def _layout(d: DataConfig) -> str:
    return resolve_layout(d.source, d.layout, asset_col=d.panel.asset_col, target_col=d.panel.target_col)


def _where(d: DataConfig) -> str:
    """How a data error names the data: the bundled FF49 data, or the file."""
    return "the bundled FF49 data" if d.source == "ff49" else d.source


def panel_key(cfg: Config | dict) -> DataConfig:
    """The ``[data]`` section as the cache key of the panel loaded for it: every field but
    ``target_transform`` (which the labels apply, not the panel), so that a configuration before and
    after :func:`resolve_config` shares its cached panel."""
    return dataclasses.replace(as_config(cfg).data, target_transform="auto")


def _stamp(source: str) -> tuple:
    """What tells a data file's versions apart in the cache (a file rewritten under the same name)."""
    if source == "ff49":
        return ()
    st = os.stat(source)
    return (st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4)
def _cached_data(d: DataConfig, stamp: tuple, layout: str) -> Panel:
    if layout == "wide":
        detected = d.layout == "auto" and d.source != "ff49"
        panel = _wide_panel(
            d.source, detected, d.wide, horizon=d.horizon, windows=d.features.windows, vol_window=d.features.vol_window
        )
    else:
        panel = _long_panel(d.source, d.panel)
    return _between(panel, _where(d), d.start, d.end)


def _wide_panel(
    source: str, detected: bool, wide: WideConfig, *, horizon: int, windows: tuple, vol_window: int
) -> Panel:
    """FF49 and a user's wide table: one code path, the features of :mod:`czar_gbdt.features`
    (they need their warm-up before ``data.start``: :func:`_between` cuts the panel, not the returns)."""
    keys = {**DATA_KEYS, "date_col": "data.wide.date_col", "columns": "data.wide.columns", "dates": "data.wide.dates"}
    if not detected:  # the hint "a long panel? set data.layout" only when the layout was guessed
        del keys["layout"]
    columns = list(wide.columns or ())  # the assets to keep: one column is a single series
    if source == "ff49":
        returns = load_ff49()
        missing = [c for c in columns if c not in returns.columns]
        if missing:
            raise DataError(
                f"the bundled FF49 data: data.wide.columns names {missing}, which the table does not "
                f"have; its asset columns are {list(map(str, returns.columns))}."
            )
        returns = returns[columns] if columns else returns
    else:
        returns = load_wide(
            source, values=wide.values, date_col=wide.date_col, columns=columns or None, dates=wide.dates, names=keys
        )
    panel = build_features(returns, horizon=horizon, windows=windows, vol_window=vol_window)
    notes = extreme_returns(returns)
    if notes:
        panel.info["warnings"] = [notes]
    return panel


def _long_panel(source: str, p: PanelConfig) -> Panel:
    """A user's long panel: :func:`czar_gbdt.datasets.load_panel` with the columns of ``[data.panel]``
    (a side column not named: the column named std/mean/weight, if any)."""
    return load_panel(
        source,
        date_col=p.date_col,
        asset_col=p.asset_col,
        target_col=p.target_col,
        feature_cols=list(p.feature_cols) if p.feature_cols else None,
        std_col=p.std_col or AUTO,
        mean_col=p.mean_col or AUTO,
        weight_col=p.weight_col or AUTO,
        sort=p.sort,
        names={**DATA_KEYS, "date_col": "data.panel.date_col"},
    )


def _between(panel: Panel, where: str, start: str | None, end: str | None) -> Panel:
    """The rows of ``panel`` between ``data.start`` and ``data.end`` (None: no bound); none is an error."""
    keep = np.ones(len(panel), dtype=bool)
    if start:
        keep &= panel.dates >= pd.Timestamp(start)
    if end:
        keep &= panel.dates <= pd.Timestamp(end)
    if not keep.any():
        span = f"{iso_date(panel.dates.min())} to {iso_date(panel.dates.max())}" if len(panel) else "no dates at all"
        raise DataError(
            f"{where}: no rows between data.start={start or ''!r} and data.end={end or ''!r}; the data "
            f"(after the feature warm-up and the last data.horizon dates) runs from {span}."
        )
    return panel if keep.all() else panel.subset(np.flatnonzero(keep))


def load_data(cfg: Config | dict) -> Panel:
    """The panel of ``cfg.data`` (cached per process and per version of the file: trials reuse it).

    A wide table (``"ff49"``, or a file detected or declared as wide) goes through
    :func:`czar_gbdt.features.build_features`; a long panel through
    :func:`czar_gbdt.datasets.load_panel`, whose ``std``/``mean``/``weight`` columns are
    recognised by name unless ``[data.panel]`` names them. Data errors
    (:class:`~czar_gbdt.datasets.DataError`) name the configuration keys to change.
    """
    d = panel_key(cfg)
    return _cached_data(d, _stamp(d.source), _layout(d))


#: The study objectives (``study.objective``) scored per date across assets: they need at least
#: two assets on every scored date (``"rank_ic"`` only on a panel: on one series it is the
#: time-series rank IC, see :func:`scoring`).
CROSS_SECTIONAL_OBJECTIVES = frozenset({"rank_ic", "icir"})


@dataclass(frozen=True)
class Scoring:
    """How forecasts are scored on a configuration's data: which rank IC, and what needs a cross-section.

    Attributes
    ----------
    objective : str
        ``study.objective``.
    time_series : bool
        The rank IC is the time-series rank IC of each test window (one series, or
        ``study.objective = "ts_rank_ic"``) instead of the rank IC across assets per date.
    assets : tuple of str
        The data's assets (one: a single series).
    cluster : bool
        The folds train on a Dask cluster (``cluster.engine = "dask"``), where the backends'
        ranking objectives are not trained.
    """

    objective: str
    time_series: bool
    assets: tuple
    cluster: bool = False

    @property
    def single_series(self) -> bool:
        """One asset: no cross-section, so no top-k spread, ranking objective or rank-average ensemble."""
        return len(self.assets) == 1

    @property
    def rank_ic(self) -> str:
        """``"time-series"`` or ``"cross-sectional"``: the rank IC the outputs show."""
        return "time-series" if self.time_series else "cross-sectional"

    def keeps(self, model: Any) -> bool:
        """Whether ``model`` (a loss, a :class:`~czar_gbdt.ranking.RankObjective` or None) can be scored:
        a ranking objective needs several assets per date, and is not trained on a Dask cluster."""
        return not ((self.single_series or self.cluster) and isinstance(model, RankObjective))

    def describe(self) -> str:
        """One line: which rank IC is used and, for one series, why the cross-sectional outputs are absent."""
        if self.single_series:
            text = (
                f"scoring: one series ({self.assets[0]!r}): the rank IC is the time-series rank IC of each test "
                f"window (the Spearman correlation of forecasts and targets over the window's dates); the "
                f"top-k spread, the ranking objective and the rank-average ensemble need several assets per "
                f"date and are left out."
            )
        elif self.time_series:
            text = (
                f'scoring: study.objective = "ts_rank_ic": the rank IC is each asset\'s time-series rank IC over '
                f"each test window (the Spearman correlation over the window's dates), averaged over the "
                f"{len(self.assets)} assets."
            )
        else:
            text = (
                f"scoring: the rank IC is cross-sectional: the Spearman correlation across the "
                f"{len(self.assets)} assets of each date, averaged over the dates."
            )
        if self.objective in ALLORA_OBJECTIVES:
            text += f" The study maximises {self.objective}, Allora's score, averaged over the test windows" + (
                "." if self.single_series else " and over the assets, each scored on its own series."
            )
        if self.cluster and not self.single_series:
            text += (
                " The backends' ranking objectives are not trained on a Dask cluster (their query groups would "
                "have to follow the workers' rows) and are left out."
            )
        return text


def scoring(cfg: Config | dict, panel: Panel) -> Scoring:
    """How ``cfg``'s forecasts are scored on ``panel`` (:class:`Scoring`): the time-series rank IC for one
    asset or ``study.objective = "ts_rank_ic"``, the rank IC across assets per date otherwise."""
    cfg = as_config(cfg)
    assets = tuple(str(a) for a in pd.unique(panel.assets))
    objective = cfg.study.objective
    return Scoring(
        objective, len(assets) == 1 or objective == "ts_rank_ic", assets, cluster=cfg.cluster.engine == "dask"
    )


def resolve_target_transform(cfg: Config | dict, panel: Any) -> str:
    """``data.target_transform`` of ``cfg`` with ``"auto"`` resolved on ``panel`` (:func:`auto_transform`).

    The commands resolve it once, when the data is loaded (:func:`resolve_config`), so that the
    training labels, the printed settings and the study's fingerprint name the transform actually
    used: a study tuned on a panel with the former default ``"demean"`` keeps its fingerprint under
    ``"auto"``. Nothing is written into ``cfg``.
    """
    transform = as_config(cfg).data.target_transform
    return auto_transform(panel) if transform == "auto" else transform


def resolve_config(cfg: Config | dict, panel: Any) -> Config:
    """``cfg`` as a :class:`~czar_gbdt.config.Config` whose ``data.target_transform`` ``"auto"`` is resolved on
    ``panel`` (:func:`resolve_target_transform`): a changed copy, ``cfg`` itself when nothing changes. What the
    commands call after ``prepare_data``: ``panel = engine.prepare_data(cfg, models); cfg = resolve_config(cfg,
    panel)``."""
    config = as_config(cfg)
    transform = resolve_target_transform(config, panel)
    return (
        config if transform == config.data.target_transform else config.with_value("data.target_transform", transform)
    )


def check_data(cfg: Config | dict, panel: Panel, models: Any = ()) -> None:
    """Refuse data the configuration cannot be run on, before any training.

    Checks that the walk-forward splits fit in the panel's dates, that every date the
    folds and the holdout score has at least two assets (when the objective is the
    cross-sectional rank IC), that a single series is neither asked for the ICIR across
    assets nor given labels transformed across assets (an explicit ``demean`` or ``zscore``:
    every label would be 0; ``"auto"`` is resolved first, :func:`resolve_target_transform`),
    and that each of ``models`` (losses, ranking
    objectives or None) that needs a per-row ``std`` gets one.

    Raises
    ------
    DataError
        Naming the configuration keys to change, the dates and the assets concerned.
    """
    config = as_config(cfg)
    where = _where(config.data)
    splitter = make_splitter(config)
    codes, uniques = pd.factorize(panel.dates, sort=True)
    folds = _check_splits(config.splits, where, splitter, uniques)
    how = scoring(config, panel)
    objective, transform = config.study.objective, resolve_target_transform(cfg, panel)
    if how.single_series:
        _check_single_series(where, how, objective, transform)
    if not how.time_series and objective in CROSS_SECTIONAL_OBJECTIVES:
        _check_cross_sections(where, panel, codes, uniques, folds, splitter.holdout)
    _check_std(where, panel, models, transform)


def _check_splits(s: SplitsConfig, where: str, splitter: WalkForward, uniques: Any) -> list:
    """The folds' positions on the ``uniques`` distinct dates; too few dates for one fold is an error naming
    the split sizes that add up."""
    n = len(uniques)
    try:
        return splitter.fold_positions(n)
    except ValueError:
        span = f"{iso_date(uniques[0])} to {iso_date(uniques[-1])}" if n else "none"
        parts = (
            f"splits.min_train_size {s.min_train_size} + splits.gap {splitter.gap} + splits.test_size "
            f"{s.test_size}"
            + (f" + splits.valid_size {s.valid_size} + splits.gap {splitter.gap}" if s.valid_size else "")
            + (f" + splits.gap {splitter.gap} + splits.holdout {s.holdout}" if s.holdout else "")
        )
        raise DataError(
            f"{where}: too few dates for the configured splits: {n} dates ({span}, after data.start/data.end, the "
            f"feature warm-up and the last data.horizon dates, which have no target), but one fold needs "
            f"{splitter.min_dates()} ({parts}). Lower those sizes or use more data."
        ) from None


def _check_single_series(where: str, how: Scoring, objective: str, transform: str) -> None:
    """One series: no ICIR across assets, and no labels transformed across assets (every label would be 0)."""
    if objective in CROSS_SECTIONAL_OBJECTIVES - {"rank_ic"}:
        raise DataError(
            f"{where}: the data has a single asset ({how.assets[0]!r}); study.objective = {objective!r} is the ICIR "
            f"of the rank IC across assets on each date, which needs at least 2 assets per date. For one series use "
            f"'rank_ic' or 'ts_rank_ic' (the time-series rank IC of each test window) or an Allora score "
            f"({', '.join(ALLORA_OBJECTIVES)})."
        )
    if transform != "raw":
        what = "subtracts each date's mean" if transform == "demean" else "divides by each date's std"
        raise DataError(
            f"{where}: the data has a single asset ({how.assets[0]!r}), scored with study.objective = {objective!r} "
            f"over time (the time-series rank IC of each test window for 'rank_ic'); but data.target_transform = "
            f"{transform!r} {what} across the assets, which leaves a single series no label to learn: set "
            f'data.target_transform = "raw" (or "auto", the default: raw for one series).'
        )


def _check_cross_sections(where: str, panel: Panel, codes: np.ndarray, uniques: Any, folds: list, holdout: int) -> None:
    """Every date the folds and the holdout score has at least 2 assets (the rank IC across assets)."""
    n = len(uniques)
    counts = np.bincount(codes, minlength=n)
    scored = np.zeros(n, dtype=bool)
    for f in folds:
        scored[f.test_start : f.test_end] = True
    if holdout:
        scored[n - holdout :] = True
    thin = scored & (counts < 2)
    if thin.any():
        i = first_true(thin)
        only = panel.assets[np.flatnonzero(codes == i)]
        raise DataError(
            f"{where}: {int(thin.sum())} of the dates the folds and the holdout score have fewer than 2 assets, "
            f"the first {iso_date(uniques[i])} (assets: {list(only)}); the rank IC across assets needs at least 2 "
            f"per date. Move data.start past them, or give more assets on those dates."
        )


def _check_std(where: str, panel: Panel, models: Any, transform: str) -> None:
    """Each model that needs a per-row std gets one (``zscore`` labels bring their own)."""
    needs_std = [m for m in models if m is not None and getattr(m, "requires_std", False)]
    if needs_std and panel.std is None and transform != "zscore":
        raise DataError(
            f"{where}: {needs_std[0]!r} needs a per-row std (the scale of its z-scores), and the panel has none: add "
            f"a std column (named 'std', or name it in data.panel.std_col), use data.target_transform = \"zscore\" "
            f"(labels in units of the cross-sectional std), or a loss without std (mse)."
        )


def prepare_data(cfg: Config | dict, models: Any = ()) -> Panel:
    """:func:`load_data` and :func:`check_data`: the panel, with every data error raised before any work
    (``cfg`` is not changed: :func:`resolve_config` gives it with ``data.target_transform = "auto"`` resolved)."""
    panel = load_data(cfg)
    check_data(cfg, panel, models)
    return panel


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def describe_data(cfg: Config | dict, panel: Panel) -> str:
    """One line on what was loaded: layout, dates, assets, features, side columns."""
    cfg = as_config(cfg)
    d = cfg.data
    where = "FF49 (bundled)" if d.source == "ff49" else d.source
    layout = _layout(d)
    side = [name for name in ("std", "mean", "weight") if getattr(panel, name) is not None]
    how = "features built from the returns (docs/own-data.md)" if layout == "wide" else "features from the file"
    if layout == "wide" and d.source != "ff49":
        how = f"{d.wide.values}; " + how
        if d.wide.dates == "periods":
            how = "dates are period numbers; " + how
    cols = panel.info.get("side_columns")
    side_text = (
        ", ".join(f"{k} from column {v!r}" for k, v in cols.items())
        if cols
        else "std (the causal volatility)"
        if layout == "wide"
        else "/".join(side)
    ) or "none"
    return (
        f"data: {where}, {layout} ({how}): {len(panel):,} rows, {panel.dates.nunique():,} dates "
        f"{iso_date(panel.dates.min())} to {iso_date(panel.dates.max())}, {name_assets(panel.assets.unique())}, "
        f"{len(panel.feature_names)} features; side data: {side_text}"
        f"{_dropped(panel.info)}; {describe_transform(cfg, panel)}."
    )


def name_assets(assets: Any) -> str:
    """``"3 assets (A, B, C)"``: every name up to 10 assets, else the first five and the count."""
    names = [str(a) for a in assets]
    shown = names if len(names) <= 10 else names[:5] + [f"... {len(names):,} in all"]
    return f"{_count(len(names), 'asset')} ({', '.join(shown)})"


def _dropped(info: dict) -> str:
    """What the data line says was dropped while the features were built: whole columns (all NaN,
    or with too few returns for a single row) and rows (the warm-up, missing returns, no target);
    and the features of a long panel that are all NaN (kept: the boosters ignore them)."""
    parts = []
    if info.get("all_nan_assets"):
        parts.append(f"columns {info['all_nan_assets']} (all NaN)")
    short = [a for a in info.get("assets_without_rows", ()) if a not in info.get("all_nan_assets", ())]
    if short:
        parts.append(f"columns {short} (too few returns for one row of features)")
    if info.get("n_rows_dropped"):
        parts.append(
            f"{info['n_rows_dropped']:,} rows ({info['n_rows_without_features']:,} in the feature warm-up "
            f"of {info['n_dates_warm_up']:,} dates or with a missing return in a window, "
            f"{info['n_rows_without_target']:,} without a target on the last {info['horizon']} dates)"
        )
    text = f"; dropped: {'; '.join(parts)}" if parts else ""
    if info.get("all_nan_features"):
        text += f"; all NaN, so without information: features {info['all_nan_features']}"
    return text


def data_warnings(panel: Any) -> list[str]:
    """Lines worth a look in data that was accepted (a return above 1,000% ...), to print after
    the data line."""
    return list(getattr(panel, "info", {}).get("warnings", ()))


def describe_transform(cfg: Config | dict, panel: Any) -> str:
    """``labels demean (data.target_transform "auto": a cross-section)``: the training labels' transform, and
    why when ``"auto"`` chose it (for the "data:" line)."""
    given = as_config(cfg).data.target_transform
    if given != "auto":
        return f"labels {given} (data.target_transform)"
    chosen = auto_transform(panel)
    return f'labels {chosen} (data.target_transform "auto": {"one series" if chosen == "raw" else "a cross-section"})'


def make_splitter(cfg: Config | dict) -> WalkForward:
    """The walk-forward splitter of ``cfg.splits`` (None, 0 in the file, means "default" for the optional sizes)."""
    cfg = as_config(cfg)
    s = cfg.splits
    return WalkForward(
        horizon=cfg.data.horizon,
        test_size=s.test_size,
        gap=s.gap,
        train_size=s.train_size,
        min_train_size=s.min_train_size,
        step=s.step,
        valid_size=s.valid_size,
        holdout=s.holdout,
        max_splits=s.max_splits,
    )

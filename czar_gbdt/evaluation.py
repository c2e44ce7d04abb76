"""Walk-forward evaluation of one booster + loss on a panel, shared by the tuner and ``compare``.

The pieces, in order: :func:`load_data` builds the panel a configuration names (the
bundled FF49 returns with causal features, or a user's long panel);
:func:`make_splitter` the walk-forward splitter; :func:`fit_predict` trains one model
with the backend adapters (training labels transformed per date, the evaluation target
never) and predicts; :func:`walk_forward` loops over folds and scores each test window
with per-date rank IC, IC, directional accuracy and the top-k long-short spread.

Besides the losses of :mod:`czar_gbdt.losses` and the backends' built-in squared error
(``loss=None``), :func:`fit_predict` trains the backends' learning-to-rank objectives
(:class:`~czar_gbdt.ranking.RankObjective`): each date is one query group and the labels
are the target's quantile grades within the date (:func:`~czar_gbdt.ranking.rank_labels`).

A single series (one asset) has no cross-section: :func:`scoring` says how a configuration's
forecasts are scored on its data. With one asset, or with ``study.objective = "ts_rank_ic"``,
the rank IC is the time-series rank IC of each test window
(:func:`czar_gbdt.metrics.ts_rank_ic_by_date`: one term per date, whose mean over the
window is the Spearman correlation over the window's dates), and the outputs that need
several assets per date (the top-k spread, the ranking objective) are left out.
:func:`allora_scores` grades forecasts with Allora's evaluation (one series, or each asset's
own series averaged over the assets).

Configuration glue: :func:`run_walk_forward` runs :func:`walk_forward` with a
configuration's fixed model, :func:`evaluate_losses` does so for several model specs
(``czar-gbdt evaluate``), :class:`HoldoutSplit` turns the final fold (every date before
the holdout, then the holdout) into a splitter of one fold, and :func:`evaluate_holdout`
trains a trial's parameters on it and scores the holdout once. See ``docs/evaluation.md``.
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from . import allora, metrics
from .config import ALLORA_OBJECTIVES, ConfigError, check_compare_spec, fixed_loss, fixed_model
from ._validation import first_true
from .datasets import (AUTO, DataError, Panel, date_text, extreme_returns, load_ff49, load_panel, load_wide,
                       resolve_layout, transform_target)
from .features import build_features
from .losses import BaseLoss, get_loss
from .model_selection import WalkForward
from .ranking import RankObjective, query_sizes, rank_labels
from .specs import build_model, model_label

__all__ = ["load_data", "check_data", "prepare_data", "describe_data", "describe_transform", "auto_transform",
           "resolve_target_transform", "name_assets", "data_warnings", "data_layout", "DATA_KEYS",
           "CROSS_SECTIONAL_OBJECTIVES", "Scoring", "scoring", "output_kind", "make_splitter", "HoldoutSplit",
           "backend_module", "BACKENDS", "train_model", "fit_panel", "prediction_std", "fit_predict", "walk_forward", "WalkForwardResult", "score_predictions",
           "allora_scores", "allora_of", "ALLORA_COLUMNS", "label_target", "training_labels", "score_folds", "book",
           "run_walk_forward", "evaluate_losses", "holdout_scores", "iso_date", "evaluate_holdout", "warm_up"]

#: The backend modules, by the name a configuration gives (imported on first use).
BACKENDS = {"lightgbm": "czar_gbdt.lightgbm", "xgboost": "czar_gbdt.xgboost", "catboost": "czar_gbdt.catboost"}


def backend_module(backend: str):
    """The adapter module of ``backend`` (``"lightgbm"``, ``"xgboost"``, ``"catboost"``): it owns
    how that backend trains the built-in objective, its ranking objective and a loss."""
    try:
        return importlib.import_module(BACKENDS[backend])
    except KeyError:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}; got {backend!r}.") from None


#: How a data error names the arguments of the loaders: the configuration keys they come from.
DATA_KEYS = {
    "values": "data.wide.values", "layout": "data.layout",
    "asset_col": "data.panel.asset_col", "target_col": "data.panel.target_col",
    "feature_cols": "data.panel.feature_cols", "std_col": "data.panel.std_col", "mean_col": "data.panel.mean_col",
    "weight_col": "data.panel.weight_col", "sort": "data.panel.sort",
}


def data_layout(cfg: dict) -> str:
    """``"wide"`` or ``"long"``: ``data.layout``, or for ``"auto"`` what the file's header says
    (:func:`czar_gbdt.datasets.detect_layout`; the bundled FF49 data is a wide table)."""
    d = cfg["data"]
    return resolve_layout(d["source"], d["layout"], asset_col=d["panel"]["asset_col"],
                          target_col=d["panel"]["target_col"])


def _stamp(source: str) -> tuple:
    """What tells a data file's versions apart in the cache (a file rewritten under the same name)."""
    if source == "ff49":
        return ()
    st = os.stat(source)
    return (st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4)
def _cached_data(source: str, stamp: tuple, layout: str, detected: bool, start: str, end: str, horizon: int,
                 windows: tuple, vol_window: int, wide: tuple, panel_cols: tuple) -> Panel:
    if layout == "wide":
        # FF49 and a user's wide table: one code path, the features of czar_gbdt.features;
        # they need their warm-up before `start`: cut the panel, not the returns
        wide_opts = dict(wide)
        keys = {**DATA_KEYS, "date_col": "data.wide.date_col", "columns": "data.wide.columns",
                "dates": "data.wide.dates"}
        if not detected:  # the hint "a long panel? set data.layout" only when the layout was guessed
            del keys["layout"]
        columns = list(wide_opts["columns"])  # the assets to keep: one column is a single series
        where = "the bundled FF49 data" if source == "ff49" else source
        if source == "ff49":
            returns = load_ff49()
            missing = [c for c in columns if c not in returns.columns]
            if missing:
                raise DataError(f"{where}: data.wide.columns names {missing}, which the table does not have; its "
                                f"asset columns are {list(map(str, returns.columns))}.")
            returns = returns[columns] if columns else returns
        else:
            returns = load_wide(source, values=wide_opts["values"], date_col=wide_opts["date_col"] or None,
                                columns=columns or None, dates=wide_opts.get("dates", "calendar"), names=keys)
        panel = build_features(returns, horizon=horizon, windows=windows, vol_window=vol_window)
        notes = extreme_returns(returns)
        if notes:
            panel.info["warnings"] = [notes]
    else:
        cols = {k: (list(v) if isinstance(v, tuple) else v) for k, v in panel_cols}
        for role in ("std", "mean", "weight"):
            cols[f"{role}_col"] = cols[f"{role}_col"] or AUTO  # "": the column named std/mean/weight, if any
        cols["feature_cols"] = cols["feature_cols"] or None
        panel = load_panel(source, **cols, names={**DATA_KEYS, "date_col": "data.panel.date_col"})
        where = source
    keep = np.ones(len(panel), dtype=bool)
    if start:
        keep &= panel.dates >= pd.Timestamp(start)
    if end:
        keep &= panel.dates <= pd.Timestamp(end)
    if not keep.any():
        span = f"{iso_date(panel.dates.min())} to {iso_date(panel.dates.max())}" if len(panel) else "no dates at all"
        raise DataError(f"{where}: no rows between data.start={start!r} and data.end={end!r}; the data (after the "
                        f"feature warm-up and the last data.horizon dates) runs from {span}.")
    return panel if keep.all() else panel.subset(np.flatnonzero(keep))


def load_data(cfg: dict) -> Panel:
    """The panel of ``cfg["data"]`` (cached per process and per version of the file: trials reuse it).

    A wide table (``"ff49"``, or a file detected or declared as wide) goes through
    :func:`czar_gbdt.features.build_features`; a long panel through
    :func:`czar_gbdt.datasets.load_panel`, whose ``std``/``mean``/``weight`` columns are
    recognised by name unless ``[data.panel]`` names them. Data errors
    (:class:`~czar_gbdt.datasets.DataError`) name the configuration keys to change.
    """
    d = cfg["data"]
    layout = data_layout(cfg)
    cols = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in d["panel"].items()))
    wide = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in d["wide"].items()))
    detected = d["layout"] == "auto" and d["source"] != "ff49"
    return _cached_data(d["source"], _stamp(d["source"]), layout, detected, d["start"], d["end"], d["horizon"],
                        tuple(d["features"]["windows"]), d["features"]["vol_window"], wide, cols)


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
            text = (f"scoring: one series ({self.assets[0]!r}): the rank IC is the time-series rank IC of each test "
                    f"window (the Spearman correlation of forecasts and targets over the window's dates); the "
                    f"top-k spread, the ranking objective and the rank-average ensemble need several assets per "
                    f"date and are left out.")
        elif self.time_series:
            text = (f"scoring: study.objective = \"ts_rank_ic\": the rank IC is each asset's time-series rank IC over "
                    f"each test window (the Spearman correlation over the window's dates), averaged over the "
                    f"{len(self.assets)} assets.")
        else:
            text = (f"scoring: the rank IC is cross-sectional: the Spearman correlation across the "
                    f"{len(self.assets)} assets of each date, averaged over the dates.")
        if self.objective in ALLORA_OBJECTIVES:
            text += (f" The study maximises {self.objective}, Allora's score, averaged over the test windows"
                     + ("." if self.single_series else " and over the assets, each scored on its own series."))
        if self.cluster and not self.single_series:
            text += (" The backends' ranking objectives are not trained on a Dask cluster (their query groups would "
                     "have to follow the workers' rows) and are left out.")
        return text


def scoring(cfg: dict, panel: Panel) -> Scoring:
    """How ``cfg``'s forecasts are scored on ``panel`` (:class:`Scoring`): the time-series rank IC for one
    asset or ``study.objective = "ts_rank_ic"``, the rank IC across assets per date otherwise."""
    assets = tuple(str(a) for a in pd.unique(panel.assets))
    objective = cfg["study"]["objective"]
    return Scoring(objective, len(assets) == 1 or objective == "ts_rank_ic", assets,
                   cluster=cfg.get("cluster", {}).get("engine") == "dask")


def output_kind(model: Any) -> str:
    """What a model's predictions are: ``"forecast"`` (a return forecast: signs and sizes mean
    something), ``"binary"`` (logits of a binary loss: signs only) or ``"score"`` (a ranking
    objective: only the order within a date does)."""
    if model is None:
        return "forecast"
    return {"ranking": "score", "binary": "binary"}.get(model.kind, "forecast")


def auto_transform(panel: Any) -> str:
    """What ``data.target_transform = "auto"`` is on ``panel``: ``"raw"`` for one series, ``"demean"`` for a
    cross-section (rank IC rewards relative forecasts; across a single asset every demeaned label is 0)."""
    return "raw" if len(pd.unique(np.asarray(panel.assets))) == 1 else "demean"


def resolve_target_transform(cfg: dict, panel: Any) -> str:
    """``data.target_transform`` of ``cfg`` with ``"auto"`` resolved on ``panel`` (:func:`auto_transform`).

    The resolved value is written back into ``cfg`` (the commands resolve it once, when the
    data is loaded), so that the training labels, the printed settings and the study's
    fingerprint name the transform actually used: a study tuned on a panel with the former
    default ``"demean"`` keeps its fingerprint under ``"auto"``.
    """
    d = cfg["data"]
    if d["target_transform"] == "auto":
        d["target_transform"] = auto_transform(panel)
    return d["target_transform"]


def check_data(cfg: dict, panel: Panel, models: Any = ()) -> None:
    """Refuse data the configuration cannot be run on, before any training.

    Checks that the walk-forward splits fit in the panel's dates, that every date the
    folds and the holdout score has at least two assets (when the objective is the
    cross-sectional rank IC), that a single series is neither asked for the ICIR across
    assets nor given labels transformed across assets (an explicit ``demean`` or ``zscore``:
    every label would be 0; ``"auto"`` is resolved first, :func:`resolve_target_transform`),
    and that each of ``models`` (losses, ranking objectives or None) that needs a per-row
    ``std`` gets one.

    Raises
    ------
    DataError
        Naming the configuration keys to change, the dates and the assets concerned.
    """
    d = cfg["data"]
    where = "the bundled FF49 data" if d["source"] == "ff49" else d["source"]
    splitter = make_splitter(cfg)
    codes, uniques = pd.factorize(panel.dates, sort=True)
    n = len(uniques)
    span = f"{iso_date(uniques[0])} to {iso_date(uniques[-1])}" if n else "none"
    try:
        folds = splitter.fold_positions(n)
    except ValueError:
        s = cfg["splits"]
        parts = (f"splits.min_train_size {s['min_train_size']} + splits.gap {splitter.gap} + splits.test_size "
                 f"{s['test_size']}"
                 + (f" + splits.valid_size {s['valid_size']} + splits.gap {splitter.gap}" if s["valid_size"] else "")
                 + (f" + splits.gap {splitter.gap} + splits.holdout {s['holdout']}" if s["holdout"] else ""))
        raise DataError(
            f"{where}: too few dates for the configured splits: {n} dates ({span}, after data.start/data.end, the "
            f"feature warm-up and the last data.horizon dates, which have no target), but one fold needs "
            f"{splitter.min_dates()} ({parts}). Lower those sizes or use more data.") from None
    how = scoring(cfg, panel)
    objective, transform = cfg["study"]["objective"], resolve_target_transform(cfg, panel)
    if how.single_series and objective in CROSS_SECTIONAL_OBJECTIVES - {"rank_ic"}:
        raise DataError(
            f"{where}: the data has a single asset ({how.assets[0]!r}); study.objective = {objective!r} is the ICIR "
            f"of the rank IC across assets on each date, which needs at least 2 assets per date. For one series use "
            f"'rank_ic' or 'ts_rank_ic' (the time-series rank IC of each test window) or an Allora score "
            f"({', '.join(ALLORA_OBJECTIVES)}).")
    if how.single_series and transform != "raw":
        what = "subtracts each date's mean" if transform == "demean" else "divides by each date's std"
        raise DataError(
            f"{where}: the data has a single asset ({how.assets[0]!r}), scored with study.objective = {objective!r} "
            f"over time (the time-series rank IC of each test window for 'rank_ic'); but data.target_transform = "
            f"{transform!r} {what} across the assets, which leaves a single series no label to learn: set "
            f"data.target_transform = \"raw\" (or \"auto\", the default: raw for one series).")
    if not how.time_series and objective in CROSS_SECTIONAL_OBJECTIVES:
        counts = np.bincount(codes, minlength=n)
        scored = np.zeros(n, dtype=bool)
        for f in folds:
            scored[f.test_start:f.test_end] = True
        if splitter.holdout:
            scored[n - splitter.holdout:] = True
        thin = scored & (counts < 2)
        if thin.any():
            i = first_true(thin)
            only = panel.assets[np.flatnonzero(codes == i)]
            raise DataError(
                f"{where}: {int(thin.sum())} of the dates the folds and the holdout score have fewer than 2 assets, "
                f"the first {iso_date(uniques[i])} (assets: {list(only)}); the rank IC across assets needs at least 2 "
                f"per date. Move data.start past them, or give more assets on those dates.")
    needs_std = [m for m in models if m is not None and getattr(m, "requires_std", False)]
    if needs_std and panel.std is None and d["target_transform"] != "zscore":
        raise DataError(
            f"{where}: {needs_std[0]!r} needs a per-row std (the scale of its z-scores), and the panel has none: add "
            f"a std column (named 'std', or name it in data.panel.std_col), use data.target_transform = \"zscore\" "
            f"(labels in units of the cross-sectional std), or a loss without std (mse).")


def prepare_data(cfg: dict, models: Any = ()) -> Panel:
    """:func:`load_data` and :func:`check_data`: the panel, with every data error raised before any work."""
    panel = load_data(cfg)
    check_data(cfg, panel, models)
    return panel


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def describe_data(cfg: dict, panel: Panel) -> str:
    """One line on what was loaded: layout, dates, assets, features, side columns."""
    d = cfg["data"]
    where = "FF49 (bundled)" if d["source"] == "ff49" else d["source"]
    layout = data_layout(cfg)
    side = [name for name in ("std", "mean", "weight") if getattr(panel, name) is not None]
    how = "features built from the returns (docs/own-data.md)" if layout == "wide" else "features from the file"
    if layout == "wide" and d["source"] != "ff49":
        how = f"{d['wide']['values']}; " + how
        if d["wide"].get("dates") == "periods":
            how = "dates are period numbers; " + how
    cols = panel.info.get("side_columns")
    side_text = (", ".join(f"{k} from column {v!r}" for k, v in cols.items()) if cols else
                 "std (the causal volatility)" if layout == "wide" else "/".join(side)) or "none"
    return (f"data: {where}, {layout} ({how}): {len(panel):,} rows, {panel.dates.nunique():,} dates "
            f"{iso_date(panel.dates.min())} to {iso_date(panel.dates.max())}, {name_assets(panel.assets.unique())}, "
            f"{len(panel.feature_names)} features; side data: {side_text}"
            f"{_dropped(panel.info)}; {describe_transform(cfg, panel)}.")


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
        parts.append(f"{info['n_rows_dropped']:,} rows ({info['n_rows_without_features']:,} in the feature warm-up "
                     f"of {info['n_dates_warm_up']:,} dates or with a missing return in a window, "
                     f"{info['n_rows_without_target']:,} without a target on the last {info['horizon']} dates)")
    text = f"; dropped: {'; '.join(parts)}" if parts else ""
    if info.get("all_nan_features"):
        text += f"; all NaN, so without information: features {info['all_nan_features']}"
    return text


def data_warnings(panel: Any) -> list[str]:
    """Lines worth a look in data that was accepted (a return above 1,000% ...), to print after
    the data line."""
    return list(getattr(panel, "info", {}).get("warnings", ()))


def describe_transform(cfg: dict, panel: Any) -> str:
    """``labels demean (data.target_transform "auto": a cross-section)``: the training labels' transform, and
    why when ``"auto"`` chose it (for the "data:" line)."""
    given = cfg["data"]["target_transform"]
    if given != "auto":
        return f"labels {given} (data.target_transform)"
    chosen = auto_transform(panel)
    return f"labels {chosen} (data.target_transform \"auto\": {'one series' if chosen == 'raw' else 'a cross-section'})"


def make_splitter(cfg: dict) -> WalkForward:
    """The walk-forward splitter of ``cfg["splits"]`` (0 means "default" for the optional sizes)."""
    s = cfg["splits"]
    return WalkForward(
        horizon=cfg["data"]["horizon"], test_size=s["test_size"], gap=s["gap"] or None,
        train_size=s["train_size"] or None, min_train_size=s["min_train_size"], step=s["step"] or None,
        valid_size=s["valid_size"], holdout=s["holdout"], max_splits=s["max_splits"] or None)


class HoldoutSplit:
    """The final fold of a walk-forward splitter as a splitter of one fold, for :func:`walk_forward`.

    Its one fold trains on every date before the holdout (less the gap; the last
    ``valid_size`` of them for early stopping when configured) and tests on the holdout
    (:meth:`~czar_gbdt.model_selection.WalkForward.final_fold`). Score it once per study:
    scoring several candidates on the holdout would choose on it.
    """

    def __init__(self, splitter: WalkForward):
        self.splitter = splitter

    def split_with_validation(self, groups: Any):
        """Yield the final fold."""
        yield self.splitter.final_fold(groups=groups)

    def fold_positions(self, n_dates: int) -> list:
        """The final fold as positions on the sorted distinct dates (a lazy panel's folds)."""
        return [self.splitter.final_fold_positions(n_dates)]


def label_target(panel: Panel, transform: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The target in the units a model is trained on, and the z-scoring std of a z-space loss.

    Parameters
    ----------
    panel : Panel
        Rows to label (a training window, or a test window when scoring forecasts).
    transform : {"raw", "demean", "zscore"}
        Per-date transform of the target (``data.target_transform``).

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The transformed target.
    std : ndarray of shape (n_samples,) or None
        ``panel.std``; ones for ``zscore`` labels, which are already in units of the
        cross-sectional std; None for other labels of a panel without a std.
    """
    y = transform_target(panel.y, panel.dates, transform)
    if transform == "zscore":
        return y, np.ones_like(y)
    return y, panel.std


def training_labels(panel: Panel, loss: BaseLoss, transform: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Training labels and the z-scoring std the loss sees.

    As :func:`label_target`; binary losses train on the sign of the (transformed) target,
    and a loss that does not need a per-row std (the half squared error) gets none.
    """
    y, std = label_target(panel, transform)
    if loss.kind == "binary":
        return (y > 0).astype(np.float64), None
    if not loss.requires_std:
        return y, None
    return y, std


def train_model(backend: str, booster_params: dict, loss: BaseLoss | RankObjective | None, train: Panel, *,
                valid: Panel | None = None, num_boost_round: int = 200, early_stopping_rounds: int = 0,
                target_transform: str = "raw", seed: int = 0):
    """Train one model on ``train``: the backend module's ``TrainedModel`` (``predict(X, std)``, ``rounds``).

    ``loss=None`` trains with the backend's built-in squared error, a :class:`RankObjective`
    with the backend's ranking objective (both without early stopping: they train
    ``num_boost_round`` rounds), a loss with the labels of :func:`training_labels` (early
    stopping on the validation rank IC of ``valid``: per date across assets, or over the
    validation dates for a single series). The backend module (:func:`backend_module`)
    does the training; :func:`fit_predict` and :func:`czar_gbdt.forecast.fit_model` call it.
    """
    module = backend_module(backend)
    X = train.X.to_numpy(dtype=np.float64)
    common = dict(params=booster_params, num_boost_round=num_boost_round, seed=seed)
    if loss is None:
        return module.train_builtin(X, transform_target(train.y, train.dates, target_transform),
                                    weight=train.weight, **common)
    if isinstance(loss, RankObjective):
        return module.train_ranking(X, rank_labels(train.y, train.dates, loss.n_bins), query_sizes(train.dates),
                                    objective=loss.resolve(backend), n_grades=loss.n_bins, **common)
    y, std = training_labels(train, loss, target_transform)
    eval_rows = {}
    if valid is not None and len(valid):
        yv, stdv = training_labels(valid, loss, target_transform)
        # early stopping watches the validation rank IC per date; the rows of a single series are
        # one date group instead, so that it watches their time-series rank IC
        dates = valid.dates if valid.assets.nunique() > 1 else np.zeros(len(valid), dtype=np.int64)
        eval_rows = dict(valid_X=valid.X.to_numpy(dtype=np.float64), valid_y=yv, valid_std=stdv,
                         valid_dates=dates)
    return module.train_loss(loss, X, y, std=std, weight=train.weight,
                             early_stopping_rounds=early_stopping_rounds, **eval_rows, **common)


def fit_panel(panel: Panel, *, backend: str, booster_params: dict, loss: BaseLoss | RankObjective | None,
              num_boost_round: int = 200, target_transform: str = "raw", seed: int = 0):
    """One model trained on every row of ``panel`` for ``num_boost_round`` rounds (no early stopping):
    what ``czar-gbdt fit`` trains (:func:`czar_gbdt.forecast.fit_model`); :func:`czar_gbdt.cluster.fit_panel`
    does the same on a Dask cluster."""
    return train_model(backend, booster_params, loss, panel, num_boost_round=num_boost_round,
                       target_transform=target_transform, seed=seed)


def prediction_std(panel: Panel, target_transform: str) -> np.ndarray | None:
    """The std a z-space model (CatBoost) maps its predictions on ``panel`` back with: the rows'
    own ``std``, or ones for ``zscore`` labels (already in units of the cross-sectional std)."""
    return np.ones(len(panel)) if target_transform == "zscore" else panel.std


def fit_predict(backend: str, booster_params: dict, loss: BaseLoss | RankObjective | None, train: Panel,
                predict_on: list[Panel], *, valid: Panel | None = None, num_boost_round: int = 200,
                early_stopping_rounds: int = 0, target_transform: str = "raw",
                seed: int = 0) -> tuple[list[np.ndarray], int]:
    """Train one model (:func:`train_model`) and predict on each panel of ``predict_on``.

    Returns the predictions (raw margins: logits for binary losses, scores for ranking)
    and the number of boosting rounds kept (the best round with early stopping).
    """
    model = train_model(backend, booster_params, loss, train, valid=valid, num_boost_round=num_boost_round,
                        early_stopping_rounds=early_stopping_rounds, target_transform=target_transform, seed=seed)
    # a z-space model (CatBoost) maps its predictions back with the std its labels were scaled by
    return [model.predict(p.X.to_numpy(dtype=np.float64), std=prediction_std(p, target_transform))
            for p in predict_on], model.rounds


def score_predictions(panel: Panel, pred: np.ndarray, *, top_k: int = 5, cost: float = 0.0,
                      time_series: bool = False) -> tuple[dict, pd.Series]:
    """Rank IC, IC, directional accuracy and top-k long-short of predictions on one window.

    With ``time_series``, the rank IC is the window's time-series rank IC, each asset's
    series on its own and averaged over the assets (:func:`czar_gbdt.metrics.ts_rank_ic_by_date`:
    the per-date series holds its terms, whose mean is the rank IC), and the IC the Pearson
    correlation over the window per asset, averaged. The top-k spread needs ``2 * top_k``
    assets.

    Returns the scores (a dict) and the per-date rank IC series.
    """
    groups = metrics.group_dates(panel.dates)
    if time_series:
        single = panel.assets.nunique() == 1
        per_date = metrics.ts_rank_ic_by_date(panel.y, pred, dates=groups, assets=None if single else panel.assets)
        out = {"rank_ic": float(per_date.mean()), "rank_icir": metrics.icir(per_date),
               "rank_ic_t": metrics.t_stat(per_date), "ic": metrics.ic(panel.y, pred, dates=panel.assets).mean,
               "n_dates": int(per_date.notna().sum())}
    else:
        ric = metrics.rank_ic(panel.y, pred, dates=groups)
        per_date = ric.per_date
        out = {"rank_ic": ric.mean, "rank_icir": ric.icir, "rank_ic_t": ric.t_stat,
               "ic": metrics.ic(panel.y, pred, dates=groups).mean, "n_dates": ric.n_dates}
    out["directional_accuracy"] = metrics.directional_accuracy(panel.y, pred)
    n_assets = panel.assets.nunique()
    if n_assets >= 2 * top_k:
        tk = metrics.top_k_long_short(panel.y, pred, dates=panel.dates, assets=panel.assets, k=top_k, cost=cost)
        out.update(top_k_spread=tk.mean_spread, top_k_sharpe=tk.sharpe, top_k_turnover=tk.mean_turnover,
                   top_k_net_spread=tk.mean_net_spread, top_k_dates=tk.n_dates)
    return out, per_date


#: What :func:`allora_scores` returns: Allora's seven metrics, the points, the grade and its scope.
ALLORA_COLUMNS = (*allora.METRIC_FUNCTIONS, "allora_points", "allora_max_points", "allora_grade", "allora_scope")


def allora_scores(panel: Panel, pred: np.ndarray, transform: str = "raw") -> dict:
    """Allora's evaluation of forecasts (docs/allora.md): its seven metrics, points (out of
    ``allora_max_points``, 7) and grade.

    One asset: :func:`czar_gbdt.allora.allora_grade` of the series, in date order. A panel:
    each asset's own series is graded (:func:`~czar_gbdt.allora.allora_grade_by_asset`;
    assets with fewer than 2 rows left out) and the metrics and points are averaged over
    the assets; the grade is that of the mean points, rounded, and ``allora_scope`` says
    ``"mean of N assets"``. The forecasts are compared with the target transformed like
    the training labels (``transform``): what the models forecast.
    """
    y = label_target(panel, transform)[0]
    pred = np.asarray(pred, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(pred)
    counts = pd.Series(ok).groupby(np.asarray(panel.assets)).transform("sum").to_numpy()
    keep = ok & (counts >= 2)
    nan = {name: math.nan for name in allora.METRIC_FUNCTIONS}
    if panel.assets.nunique() == 1:
        if keep.sum() < 2:
            return {**nan, "allora_points": math.nan, "allora_max_points": allora.MAX_POINTS, "allora_grade": "n/a", "allora_scope": "series"}
        g = allora.allora_grade(y[keep], pred[keep])
        return {**{name: g[name] for name in allora.METRIC_FUNCTIONS}, "allora_points": g["allora_points"],
                "allora_max_points": allora.MAX_POINTS, "allora_grade": g["allora_grade"], "allora_scope": "series"}
    if not keep.any():
        return {**nan, "allora_points": math.nan, "allora_max_points": allora.MAX_POINTS, "allora_grade": "n/a", "allora_scope": "mean of 0 assets"}
    table = allora.allora_grade_by_asset(y[keep], pred[keep], assets=np.asarray(panel.assets)[keep],
                                         dates=np.asarray(panel.dates)[keep])
    points = float(table["allora_points"].mean())
    return {**{name: float(table[name].mean()) for name in allora.METRIC_FUNCTIONS}, "allora_points": points,
            "allora_max_points": allora.MAX_POINTS, "allora_grade": allora.allora_grade_letter(int(math.floor(points + 0.5))),
            "allora_scope": f"mean of {len(table)} assets"}


def allora_of(panel: Panel, result: "WalkForwardResult", transform: str = "raw") -> dict:
    """:func:`allora_scores` of a walk-forward's test forecasts, every test window together: what
    Allora would grade (a date tested twice, by overlapping windows, keeps its last forecast)."""
    pred = result.predictions[~result.predictions.index.duplicated(keep="last")]
    rows = np.sort(panel.X.index.get_indexer(pred.index))
    return allora_scores(panel.subset(rows), pred.reindex(panel.X.index[rows]).to_numpy(), transform)


@dataclass
class WalkForwardResult:
    """Per-fold table, per-date rank IC over every test date, and their summary.

    ``predictions`` concatenates the test predictions (indexed like the panel's ``X``);
    ``fold_predictions`` keeps them per fold, aligned with each fold's test rows.
    """

    folds: pd.DataFrame
    per_date: pd.Series
    predictions: pd.Series = field(repr=False, default=None)
    fold_predictions: list = field(repr=False, default_factory=list)

    @property
    def mean_rank_ic(self) -> float:
        return float(self.per_date.mean())

    @property
    def icir(self) -> float:
        return metrics.icir(self.per_date)

    @property
    def t_stat(self) -> float:
        return metrics.t_stat(self.per_date)

    def summary(self) -> dict:
        return {"mean_rank_ic": self.mean_rank_ic, "icir": self.icir, "t_stat": self.t_stat,
                "n_dates": int(self.per_date.notna().sum()), "n_folds": len(self.folds)}


#: ``predict(i, train, test, valid) -> (prediction on test, rounds)``: one fold's model.
FoldPredictor = Callable[[int, Panel, Panel, "Panel | None"], tuple[np.ndarray, int]]


def walk_forward(panel: Panel, splitter: WalkForward, *, backend: str, booster_params: dict,
                 loss: BaseLoss | RankObjective | None, num_boost_round: int = 200,
                 early_stopping_rounds: int = 0, target_transform: str = "raw", seed: int = 0, top_k: int = 5,
                 cost: float = 0.0, on_fold: Callable[[int, dict, pd.Series], None] | None = None,
                 predict: FoldPredictor | None = None,
                 score_extra: Callable[[Panel, np.ndarray], dict] | None = None, time_series: bool = False,
                 allora: bool = False) -> WalkForwardResult:
    """Train and score one model per fold.

    ``on_fold(i, row, per_date_so_far)`` is called after each fold (the tuner reports and
    prunes there; raising from it stops the loop). ``predict`` replaces the training of
    each fold (default: :func:`fit_predict` with ``loss``): ``compare`` scores its
    ensemble of already trained models with it. ``score_extra(test, pred)`` adds columns
    to each fold's row. ``time_series`` scores the time-series rank IC of each window
    (:func:`score_predictions`), ``allora`` adds Allora's scores of each window to its row
    (:func:`allora_scores`). ``splitter`` is a :class:`~czar_gbdt.model_selection.WalkForward`,
    or a :class:`HoldoutSplit` to score the holdout.
    """
    if target_transform == "auto":
        target_transform = auto_transform(panel)
    if predict is None:
        def predict(i: int, train: Panel, test: Panel, valid: Panel | None) -> tuple[np.ndarray, int]:
            (pred,), rounds = fit_predict(backend, booster_params, loss, train, [test], valid=valid,
                                          num_boost_round=num_boost_round,
                                          early_stopping_rounds=early_stopping_rounds,
                                          target_transform=target_transform, seed=seed)
            return pred, rounds

    folds = ((panel.subset(fold.train), panel.subset(fold.test), panel.subset(fold.valid) if len(fold.valid) else None)
             for fold in splitter.split_with_validation(groups=panel.dates))
    return score_folds(folds, predict, top_k=top_k, cost=cost, on_fold=on_fold, score_extra=score_extra,
                       model=f"{loss!r}, {backend}", time_series=time_series, allora=allora,
                       target_transform=target_transform)


def score_folds(folds: Iterable[tuple[Any, Panel, Any]], predict: FoldPredictor, *, top_k: int = 5, cost: float = 0.0,
                on_fold: Callable[[int, dict, pd.Series], None] | None = None,
                score_extra: Callable[[Panel, np.ndarray], dict] | None = None, model: str = "",
                time_series: bool = False, allora: bool = False, target_transform: str = "raw") -> WalkForwardResult:
    """The loop of :func:`walk_forward`: predict each fold's test rows and score them.

    ``folds`` yields ``(train, test, valid)``: ``test`` a :class:`Panel` (only its
    target, dates, assets and side columns are read), ``train`` anything with the
    window's ``dates`` (a Panel, or the lazy window of the cluster evaluation,
    :mod:`czar_gbdt.cluster`), ``valid`` the same or None. ``predict``, ``on_fold``,
    ``score_extra``, ``time_series``, ``allora`` and ``target_transform`` are those of
    :func:`walk_forward`; ``model`` names the model in errors.
    """
    rows, per_date, preds = [], [], []
    for i, (train, test, valid) in enumerate(folds):
        pred, rounds = predict(i, train, test, valid)
        pred = np.asarray(pred, dtype=np.float64)
        if pred.shape != (len(test),):
            raise ValueError(f"fold {i}: predict returned shape {pred.shape} for {len(test)} test rows.")
        if not np.isfinite(pred).all():
            raise FloatingPointError(f"fold {i}: the model predicted non-finite values ({model}).")
        scores, fold_per_date = score_predictions(test, pred, top_k=top_k, cost=cost, time_series=time_series)
        row = {"fold": i, "train_start": train.dates[0], "train_end": train.dates[-1],
               "test_start": test.dates[0], "test_end": test.dates[-1], "rounds": rounds, **scores}
        if allora:
            row.update(allora_scores(test, pred, target_transform))
        if score_extra is not None:
            row.update(score_extra(test, pred))
        rows.append(row)
        per_date.append(fold_per_date)
        preds.append(pd.Series(pred, index=test.X.index))
        if on_fold is not None:
            on_fold(i, row, pd.concat(per_date))
    if not rows:
        raise ValueError("the splitter yields no fold on this data: shorten splits.test_size/min_train_size/"
                         "holdout or use more dates.")
    return WalkForwardResult(pd.DataFrame(rows), pd.concat(per_date), pd.concat(preds),
                             [p.to_numpy() for p in preds])


def book(cfg: dict) -> dict:
    """The top-k long-short book every command scores: ``top_k`` and ``cost`` (per unit of
    turnover) from ``compare.top_k`` and ``compare.cost``, the one setting of tune, report,
    evaluate and compare."""
    return {"top_k": cfg["compare"]["top_k"], "cost": cfg["compare"]["cost"]}


def run_walk_forward(cfg: dict, panel: Panel, splitter: WalkForward, loss: BaseLoss | RankObjective | None,
                     command: str = "evaluate", *, walk: Callable[..., WalkForwardResult] = walk_forward,
                     **kwargs: Any) -> WalkForwardResult:
    """:func:`walk_forward` with the config's fixed model and settings.

    ``loss`` is a loss, a :class:`~czar_gbdt.ranking.RankObjective` or None (the
    backend's built-in squared error); ``command`` names the command in the error about a
    search space; ``kwargs`` go to ``walk_forward`` (``predict``, ``score_extra`` ...;
    ``top_k`` and ``cost`` default to :func:`book`, ``time_series`` to :func:`scoring`). ``walk``
    runs the folds (default :func:`walk_forward`; :func:`czar_gbdt.cluster.run_walk_forward`
    passes the cluster's).

    Raises
    ------
    ConfigError
        When the config's model holds a search space (:func:`czar_gbdt.config.fixed_model`).
    """
    backend, booster = fixed_model(cfg, command)
    return walk(panel, splitter, backend=backend, booster_params=booster, loss=loss,
                        num_boost_round=cfg["model"]["num_boost_round"],
                        early_stopping_rounds=cfg["model"]["early_stopping_rounds"],
                        target_transform=cfg["data"]["target_transform"], seed=cfg["study"]["seed"],
                        **{**book(cfg), "time_series": scoring(cfg, panel).time_series, **kwargs})


def evaluate_losses(cfg: dict, specs: list[tuple[str, dict]], *,
                    prepare: Callable[[dict, list], Any] | None = None,
                    run: Callable[..., WalkForwardResult] | None = None) -> pd.DataFrame:
    """Walk-forward summary per model spec with the config's fixed booster parameters.

    Parameters
    ----------
    cfg : dict
        A validated configuration with a fixed model (a search space is refused).
    specs : list of (name, params)
        Parsed model specs (:func:`czar_gbdt.specs.parse_spec`): a loss, ``"builtin"`` (the
        backend's own squared error) or ``"ranking"``. Empty: the config's own loss.

    Returns
    -------
    pandas.DataFrame
        One row per spec: ``loss`` (its label), the :meth:`WalkForwardResult.summary`
        figures and the mean ``directional_accuracy`` of the folds; ``attrs["scoring"]``
        says which rank IC (:meth:`Scoring.describe`). On one series a ranking objective
        is left out.

    Raises
    ------
    ConfigError
        For a search space in the model or the loss, or a spec naming an unknown model or
        parameter (the key is ``--loss NAME``).

    ``prepare(cfg, models)`` and ``run`` load and check the data and run one model's
    walk-forward (default: :func:`prepare_data` and :func:`run_walk_forward`, in memory;
    :func:`czar_gbdt.cluster.evaluate_losses` passes the cluster's).
    """
    backend, _ = fixed_model(cfg)
    for name, params in specs:
        check_compare_spec(name, params, f"--loss {name}", [backend])
    specs = list(specs) or [fixed_loss(cfg)]
    models = [build_model(name, params) for name, params in specs]
    panel = (prepare or prepare_data)(cfg, models)
    how = scoring(cfg, panel)
    if not any(how.keeps(m) for m in models):
        raise ConfigError(f"--loss: nothing to evaluate{' on one series' if how.single_series else ''}: "
                          f"{how.describe()}")
    splitter = make_splitter(cfg)
    rows = []
    for model in filter(how.keeps, models):
        result = (run or run_walk_forward)(cfg, panel, splitter, model)
        folds = result.folds
        net = (float(np.average(folds["top_k_net_spread"], weights=folds["top_k_dates"]))
               if "top_k_net_spread" in folds else np.nan)
        rows.append({"loss": model_label(model, backend), **result.summary(),
                     "directional_accuracy": float(folds["directional_accuracy"].mean()),
                     "top_k_net_spread": net})
    table = pd.DataFrame(rows)
    if how.single_series:  # no cross-section: the scoring line says why it is absent
        table = table.drop(columns="top_k_net_spread")
    table.attrs["scoring"] = how.describe()
    return table


def evaluate_holdout(cfg: dict, params: dict) -> tuple[dict, pd.Series]:
    """Train a trial's parameters on every date before the final holdout and score the holdout.

    The training window follows the walk-forward rules (:meth:`WalkForward.final_fold`:
    the gap before the holdout, the last ``valid_size`` dates for early stopping when
    configured). Call it once per study: scoring several candidates on the holdout would
    choose on it.

    Parameters
    ----------
    cfg : dict
        The study's validated configuration.
    params : dict
        The trial's parameters as :func:`czar_gbdt.tuning.suggest_params` returns them
        (``backend``, ``booster``, ``loss``, ``loss_params``, ``num_boost_round``,
        ``early_stopping_rounds``).

    Returns
    -------
    scores : dict
        ``start`` and ``end`` of the holdout (ISO dates), ``rounds`` kept, and the
        :func:`score_predictions` figures (:func:`holdout_scores`).
    per_date : pandas.Series
        Rank IC per holdout date (terms of the time-series rank IC for one series).
    """
    loss = get_loss(params["loss"], **params["loss_params"])
    panel = prepare_data(cfg, [loss])
    result = walk_forward(panel, HoldoutSplit(make_splitter(cfg)), backend=params["backend"],
                          booster_params=params["booster"], loss=loss, num_boost_round=params["num_boost_round"],
                          early_stopping_rounds=params["early_stopping_rounds"],
                          target_transform=cfg["data"]["target_transform"], seed=cfg["study"]["seed"],
                          time_series=scoring(cfg, panel).time_series, **book(cfg))
    return holdout_scores(result), result.per_date


def iso_date(when: Any) -> str:
    """A date as text: ``"2024-05-12"``, or ``"2024-05-12T16:00:00"`` when it has a time of day (intraday bars),
    or the period number of a wide table read with ``data.wide.dates = "periods"``
    (:func:`czar_gbdt.datasets.date_text`)."""
    return date_text(pd.Timestamp(when))


#: The columns of a walk-forward fold row that say where the fold is (not scores).
_FOLD_PLACE = ("fold", "train_start", "train_end", "test_start", "test_end")


def holdout_scores(result: WalkForwardResult) -> dict:
    """The one fold of a holdout evaluation (:class:`HoldoutSplit`) as a flat dict: ``start`` and
    ``end`` of the holdout (ISO dates), ``rounds`` and the fold's scores."""
    (row,) = result.folds.to_dict(orient="records")
    return {"start": iso_date(row["test_start"]), "end": iso_date(row["test_end"]),
            **{k: v for k, v in row.items() if k not in _FOLD_PLACE}}


def warm_up(losses: list, backends: Any = ("lightgbm",), *, early_stopping: bool = False,
            on_slow: Callable[[str], None] | None = None, after: float = 3.0) -> float:
    """Compile (or load from numba's cache) the kernels a run needs before it starts timing trials.

    The first run on a machine compiles the losses' loops, the backend adapters' code and
    the metric kernels, which takes several seconds; later runs load them from the cache.
    This trains each loss for two rounds on each backend on a tiny synthetic panel and
    scores it as a fold is scored. ``on_slow`` is called with one line when that takes
    longer than ``after`` seconds, so that a progress bar does not sit at 0 unexplained.
    Returns the seconds it took.
    """
    from .datasets import make_synthetic_panel

    done = threading.Event()

    def tell() -> None:
        if not done.wait(after) and on_slow is not None:
            on_slow("compiling the numba kernels of the losses, backends and metrics (first run only; later runs "
                    "load them from the cache) ...")

    start = time.perf_counter()
    thread = threading.Thread(target=tell, daemon=True)
    thread.start()
    try:
        tiny = make_synthetic_panel(n_dates=12, n_assets=12, n_features=3, signal_ic=0.3, seed=0)
        for backend in backends:
            for loss in losses:
                (pred,), _ = fit_predict(backend, {}, loss, tiny, [tiny], valid=tiny if early_stopping else None,
                                         num_boost_round=2, early_stopping_rounds=1 if early_stopping else 0,
                                         target_transform="demean")
                score_predictions(tiny, pred, top_k=2, cost=0.0005)
    finally:
        done.set()
        thread.join()
    return time.perf_counter() - start

"""The walk-forward evaluation on a Dask cluster: what ``[cluster] engine = "dask"`` runs.

With ``engine = "dask"``, ``czar-gbdt evaluate``, ``compare`` and ``tune`` read the long
panel of ``data.source`` lazily from Parquet and train every walk-forward fold on a Dask
cluster; nothing but one number per date, and each test window's target, dates and
assets, comes back to this process. The pieces:

* :func:`client_for`: the config's cluster, one client per process: the scheduler of
  ``cluster.scheduler``, or a ``LocalCluster`` of ``n_workers`` worker processes with
  ``threads_per_worker`` threads and ``memory_limit`` each.
* :func:`load_data`: a :class:`LazyPanel`. The data rules are those of the in-memory
  path, the same functions of :mod:`czar_gbdt.datasets` (columns and side columns, dates,
  numeric features, target and side values), run on each partition with the position of
  its first row, so that a data error is the same :class:`~czar_gbdt.datasets.DataError`
  (one line, exit 2) with the same message as in memory. One pass checks the partitions
  and groups the rows by date; the frame is indexed by date and repartitioned at date
  boundaries, so that every date lies inside one partition (per-date labels, rank IC and
  early stopping are then exact partition by partition); a second pass checks that each
  (date, asset) appears once.
* :func:`walk_forward`: the folds cut by date positions
  (:meth:`~czar_gbdt.model_selection.WalkForward.fold_positions`). Each fold's training
  window is labelled per date on the workers and trained by :mod:`czar_gbdt.dask`; the
  test window is predicted on the workers, and its target, dates, assets and side
  columns (no features) are collected and scored by the in-memory functions
  (:func:`czar_gbdt.evaluation.score_folds`): every figure equals the in-memory one on the
  same predictions. A worker lost during training raises
  :class:`czar_gbdt.dask.WorkerLostError` (the tuner retries the trial).
* :func:`run_walk_forward`, :func:`evaluate_losses`: the configuration glue of
  :mod:`czar_gbdt.evaluation`, with the two functions above.
* :func:`engine`: this module or :mod:`czar_gbdt.evaluation`, by ``cluster.engine``: the
  commands call the functions above through it, so that ``report``'s holdout bake-off,
  ``compare``, ``evaluate`` and the tuner's trials run on the cluster without code of
  their own for it.

See docs/cluster.md ("When your panel outgrows one machine").
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import operator
import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from . import evaluation
from .config import ClusterConfig, Config, ConfigError, DataConfig, PanelConfig, as_config
from .datasets import AUTO, DataError, Panel, transform_target
from .datasets.checks import (
    Rows,
    check_finite_features,
    check_unique_pairs,
    labels_and_side,
    non_numeric_features,
    refuse_non_numeric,
)
from .datasets.columns import PanelColumns, resolve_columns
from .datasets.dates import check_sorted, parse_dates
from .datasets.long import panel_rows
from .evaluation import (
    DATA_KEYS,
    FoldHooks,
    FoldScoring,
    ModelSpec,
    WalkForwardResult,
    auto_transform,
    iso_date,
    panel_key,
    score_folds,
    training_labels,
)
from .losses import BaseLoss
from .model_selection import WalkForward
from .ranking import RankObjective

__all__ = [
    "engine",
    "worker_lost",
    "LazyPanel",
    "Window",
    "client_for",
    "close_clients",
    "load_data",
    "prepare_data",
    "describe_data",
    "walk_forward",
    "run_walk_forward",
    "evaluate_losses",
    "check_models",
    "partition_rows",
    "fit_panel",
]

_CLIENTS: dict[ClusterConfig, Any] = {}


# --------------------------------------------------------------------------- the engine
def engine(cfg: Config | dict) -> ModuleType:
    """The module that loads ``cfg``'s data and runs its folds: :mod:`czar_gbdt.evaluation` (this
    process) or, with ``cluster.engine = "dask"``, this module (a Dask cluster).

    Both have ``load_data``, ``prepare_data``, ``describe_data``, ``walk_forward``,
    ``run_walk_forward`` and ``evaluate_losses`` with the same signatures; ``tune``,
    ``compare``, ``report`` and ``evaluate`` call them through this function.
    """
    return sys.modules[__name__] if as_config(cfg).cluster.engine == "dask" else evaluation


def worker_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is a Dask worker lost during a training call (:class:`czar_gbdt.dask.WorkerLostError`):
    the tuner fails such a trial and retries it."""
    dask_module = sys.modules.get("czar_gbdt.dask")  # not imported: no Dask training ran, so no lost worker
    return dask_module is not None and isinstance(exc, dask_module.WorkerLostError)


# --------------------------------------------------------------------------- the cluster
def client_for(cfg: Config | dict) -> Any:
    """The Dask client of ``cfg.cluster`` (created once per process, closed at exit).

    ``cluster.scheduler`` connects to a running scheduler; empty, a ``LocalCluster`` of
    worker processes is started with ``n_workers``, ``threads_per_worker`` and
    ``memory_limit``.
    """
    return _client(as_config(cfg).cluster)


def _client(c: ClusterConfig) -> Any:
    """The client of the cluster section ``c`` (hashable: the key of the clients made in this process)."""
    from . import dask as cdask

    cdask.check_imports()
    import distributed

    client = _CLIENTS.get(c)
    if client is not None and client.status == "running":
        return client
    if client is not None:  # its scheduler went away: start afresh
        _close(client)
    # not the default client: every computation here names its client, and a caller's own
    # default client (or a later one) stays theirs
    if c.scheduler:
        try:
            client = distributed.Client(c.scheduler, timeout="30s", set_as_default=False)
        except OSError as exc:
            raise OSError(f"cluster.scheduler: cannot reach the Dask scheduler at {c.scheduler!r} ({exc}).") from None
    else:
        local = distributed.LocalCluster(
            n_workers=c.n_workers,
            threads_per_worker=c.threads_per_worker,
            memory_limit=c.memory_limit,
            processes=True,
            dashboard_address=None,
        )
        client = distributed.Client(local, set_as_default=False)
    _CLIENTS[c] = client
    atexit.register(_close, client)
    return client


def close_clients() -> None:
    """Close the clients :func:`client_for` made in this process (and the LocalClusters they started)."""
    while _CLIENTS:
        _close(_CLIENTS.popitem()[1])


def _close(client: Any) -> None:
    """Close a client (and the LocalCluster it started) without waiting long for a scheduler that is gone."""
    cluster = getattr(client, "cluster", None)
    for closing in (client, cluster):
        if closing is None:
            continue
        try:
            closing.close(timeout=5)
        except Exception:  # noqa: BLE001 - closing at exit or after the scheduler went away
            pass


# --------------------------------------------------------------------------- the panel
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


def _panel_columns(raw: Any, p: PanelConfig, where: str) -> PanelColumns:
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


def _check_partitions(raw: Any, columns: PanelColumns, where: str, sort: bool, client: Any) -> pd.Series:
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


def _date_cuts(counts: np.ndarray, target: int) -> list[int]:
    """Positions of the dates that start a partition: about ``target`` rows each, cut at date boundaries."""
    cuts, acc = [0], 0
    for i, c in enumerate(counts):
        if acc >= target:
            cuts.append(i)
            acc = 0
        acc += c
    return cuts


@functools.lru_cache(maxsize=4)
def _cached_panel(d: DataConfig, cluster: ClusterConfig) -> LazyPanel:
    client = _client(cluster)
    with client.as_current():  # what dask computes by itself (the divisions of set_index) runs on the cluster
        return _read_panel(d, client)


def _read_panel(d: DataConfig, client: Any) -> LazyPanel:
    """The long panel of ``d`` on ``client``'s cluster: read, checked (two passes), indexed by date and cut
    into partitions at date boundaries."""
    import dask
    import dask.dataframe as dd

    source = d.source
    with dask.config.set({"dataframe.convert-string": False}):  # text columns as pandas.read_parquet reads them
        raw = dd.read_parquet(source)
    columns = _panel_columns(raw, d.panel, source)
    raw = raw[list(dict.fromkeys(columns.used + columns.features))]
    every = _check_partitions(raw, columns, source, d.panel.sort, client)
    counts = _between(every, source, d.start, d.end)
    dates = pd.DatetimeIndex(counts.index, name="date")
    n = counts.to_numpy(np.int64)
    frame, cuts = _date_partitions(raw, columns.date, dates, n, client)
    # pass 2: one row per (date, asset), every date now inside one partition; rows numbered as in the table
    before = int(every[every.index < dates[0]].sum())
    assets = _check_pairs(frame, columns.asset, [before + int(n[:i].sum()) for i in cuts], source, client)
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
    from . import dask as cdask

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


def _check_pairs(frame: Any, asset_col: str, offsets: list[int], source: str, client: Any) -> np.ndarray:
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


def _as_dates(col: pd.Series, name: str) -> pd.Series:
    """The date column of a partition as datetimes (its values were checked by the first pass)."""
    return pd.Series(parse_dates(col, name, ""), index=col.index, name=col.name)


def load_data(cfg: Config | dict) -> LazyPanel:
    """The panel of ``cfg.data`` on the config's cluster (cached per process: trials reuse it)."""
    cfg = as_config(cfg)
    return _cached_panel(panel_key(cfg), cfg.cluster)


# --------------------------------------------------------------------------- training a fold
def _labels_part(part: pd.DataFrame, cols: dict, loss: BaseLoss | None, transform: str) -> pd.DataFrame:
    """Training labels (and the std the loss sees) of one partition: per date, as in memory."""
    std = part[cols["std"]].to_numpy(np.float64) if cols["std"] else None
    panel = Panel.from_arrays(
        pd.DataFrame(index=pd.RangeIndex(len(part))),
        part[cols["target"]].to_numpy(np.float64),
        part.index,
        part[cols["asset"]].to_numpy(),
        std=std,
    )
    if loss is None:
        y, s = transform_target(panel.y, panel.dates, transform), None
    else:
        y, s = training_labels(panel, loss, transform)
    return pd.DataFrame({"y": y, "std": np.nan if s is None else s}, index=part.index)


def _date_codes_part(part: pd.DataFrame, dates: np.ndarray) -> pd.Series:
    return pd.Series(np.searchsorted(dates, part.index.to_numpy()).astype(np.float64), index=part.index)


def _fit_fold(
    panel: LazyPanel,
    train: Window,
    valid: Window | None,
    *,
    backend: str,
    booster_params: dict,
    loss: BaseLoss | RankObjective | None,
    num_boost_round: int,
    early_stopping_rounds: int,
    target_transform: str,
    seed: int,
) -> Any:
    """Train one fold's model on the cluster (:mod:`czar_gbdt.dask`)."""
    from . import dask as cdask

    cols = panel.columns
    meta = pd.DataFrame({"y": pd.Series(dtype=np.float64), "std": pd.Series(dtype=np.float64)})

    def labels(window: Window) -> Any:
        return window.frame.map_partitions(_labels_part, cols, loss, target_transform, meta=meta)

    common = dict(
        backend=backend, params=booster_params, num_boost_round=num_boost_round, seed=seed, client=panel.client
    )
    X = train.frame[panel.features]
    lab = labels(train)
    weight = train.frame[cols["weight"]] if cols["weight"] else None
    if loss is None:
        return cdask.train_builtin(X, lab["y"], weight=weight, **common)
    cdask.check_loss(loss, backend)
    needs_std = loss.requires_std and cols["std"] and target_transform != "zscore"
    eval_rows: dict[str, Any] = {}
    if valid is not None and len(valid) and early_stopping_rounds:
        vlab = labels(valid)
        codes = valid.frame.map_partitions(_date_codes_part, panel.dates.to_numpy(), meta=pd.Series(dtype=np.float64))
        eval_rows = dict(
            valid_X=valid.frame[panel.features],
            valid_y=vlab["y"],
            valid_std=vlab["std"] if needs_std else None,
            valid_dates=codes,
        )
    return cdask.train_loss(
        loss,
        X,
        lab["y"],
        std=lab["std"] if needs_std else None,
        weight=weight,
        early_stopping_rounds=early_stopping_rounds,
        **eval_rows,
        **common,
    )


def walk_forward(
    panel: LazyPanel,
    splitter: WalkForward,
    model: ModelSpec,
    scoring: FoldScoring = FoldScoring(),
    hooks: FoldHooks = FoldHooks(),
) -> WalkForwardResult:
    """:func:`czar_gbdt.evaluation.walk_forward` on a :class:`LazyPanel`: every fold trained on the cluster.

    The folds are the splitter's positions on the panel's distinct dates (a
    :class:`~czar_gbdt.evaluation.HoldoutSplit`: the holdout's). ``hooks.predict``
    (``compare``'s ensemble) receives the fold's lazy train and valid :class:`Window` and
    the test window collected without its features. The model's ``target_transform = "auto"`` is
    resolved on ``panel``, as in memory.
    """
    model = _resolved(model, panel)
    positions = splitter.fold_positions(len(panel.dates))
    windows = [
        (
            panel.window(f.train_start, f.train_end),
            panel.window(f.test_start, f.test_end),
            panel.window(f.valid_start, f.valid_end),
        )
        for f in positions
    ]
    predict = hooks.predict
    if predict is None:

        def predict(i: int, train: Window, test: Panel, valid: Window | None) -> tuple[np.ndarray, int]:
            fitted = _fit_fold(
                panel,
                train,
                valid,
                backend=model.backend,
                booster_params=model.booster_params,
                loss=model.loss,
                num_boost_round=model.num_boost_round,
                early_stopping_rounds=model.early_stopping_rounds,
                target_transform=model.target_transform,
                seed=model.seed,
            )
            pred = panel.client.compute(fitted.predict(windows[i][1].frame[panel.features]), sync=True)
            return pred.to_numpy(np.float64), fitted.rounds

    folds = ((train, panel.collect(test), valid) for train, test, valid in windows)
    return score_folds(
        folds,
        predict,
        scoring,
        hooks,
        model=f"{model.label()} on a Dask cluster",
        target_transform=model.target_transform,
    )


def fit_panel(panel: LazyPanel, model: ModelSpec) -> Any:
    """:func:`czar_gbdt.evaluation.fit_panel` on the cluster: one model trained on every row of ``panel``.

    Returns the backend module's in-memory ``TrainedModel`` of the trained booster, which
    predicts in this process as a model trained here does (a loss's margins, the starting
    score included), so that ``czar-gbdt fit`` saves it like any other.
    """
    model = _resolved(model, panel)
    backend, loss = model.backend, model.loss
    check_models([loss])
    trained = _fit_fold(
        panel,
        panel.window(0, len(panel.dates)),
        None,
        backend=backend,
        booster_params=model.booster_params,
        loss=loss,
        num_boost_round=model.num_boost_round,
        early_stopping_rounds=0,
        target_transform=model.target_transform,
        seed=model.seed,
    )
    options = {}
    if loss is not None:  # a loss's raw margins, as the in-memory models predict them
        options = {"output_margin": True} if backend == "xgboost" else {"raw_score": True}
    if backend == "xgboost":  # trained on named columns; the in-memory models predict on plain matrices
        trained.model.feature_names = None
    return evaluation.backend_module(backend).TrainedModel(trained.model, trained.rounds, **options)


def _resolved(model: ModelSpec, panel: LazyPanel) -> ModelSpec:
    """``model`` with its ``target_transform = "auto"`` resolved on ``panel``
    (:func:`czar_gbdt.evaluation.auto_transform`)."""
    if model.target_transform != "auto":
        return model
    return dataclasses.replace(model, target_transform=auto_transform(panel))


def run_walk_forward(
    cfg: Config | dict,
    panel: LazyPanel,
    splitter: WalkForward,
    loss: BaseLoss | RankObjective | None,
    command: str = "evaluate",
    **kwargs: Any,
) -> WalkForwardResult:
    """:func:`czar_gbdt.evaluation.run_walk_forward` on the cluster (the config's fixed model and settings).

    Raises
    ------
    ConfigError
        For a ranking objective (``"ranking"``): the backends' query groups would have to
        follow the workers' rows, which this module does not arrange.
    """
    check_models([loss])
    return evaluation.run_walk_forward(cfg, panel, splitter, loss, command, walk=walk_forward, **kwargs)


def check_models(models: list) -> None:
    """Refuse, before any work, a model the cluster does not train: the backends' ranking objectives.

    Their query groups (one per date) would have to follow the workers' rows, which this
    module does not arrange. Raises :class:`~czar_gbdt.config.ConfigError` naming the model.
    """
    for model in models:
        if isinstance(model, RankObjective):
            raise ConfigError(
                f"{model!r}: the backends' ranking objectives are not trained on a Dask cluster (their "
                "query groups would have to follow the workers' rows); remove 'ranking' from the loss "
                "specs (compare.losses, --loss), or set cluster.engine = 'local'."
            )


def prepare_data(cfg: Config | dict, models: list = ()) -> LazyPanel:
    """:func:`czar_gbdt.evaluation.prepare_data` on the cluster: the panel loaded and checked.

    ``models`` is accepted for the same signature; a ranking objective among them is left
    out by the commands (:meth:`czar_gbdt.evaluation.Scoring.keeps`), and refused by
    :func:`run_walk_forward`. ``cfg`` is not changed: :func:`czar_gbdt.evaluation.resolve_config` gives it
    with ``data.target_transform = "auto"`` resolved on the panel (a cluster's panel is a cross-section).
    """
    return load_data(cfg)


def describe_data(cfg: Config | dict, panel: LazyPanel) -> str:
    """One line on what was loaded, as :func:`czar_gbdt.evaluation.describe_data` says it in memory."""
    cfg = as_config(cfg)
    side = ", ".join(f"{k} from column {v!r}" for k, v in panel.columns.items() if k in ("std", "mean", "weight") and v)
    return (
        f"data: {cfg.data.source}, long panel on a Dask cluster ({panel.frame.npartitions} partitions, "
        f"every date inside one): {len(panel):,} rows, {len(panel.dates):,} dates {panel.dates[0].date()} to "
        f"{panel.dates[-1].date()}, {evaluation.name_assets(panel.assets)}, {len(panel.features)} features; side "
        f"data: {side or 'none'}; {evaluation.describe_transform(cfg, panel)}."
    )


def evaluate_losses(cfg: Config | dict, specs: list[tuple[str, dict]]) -> pd.DataFrame:
    """:func:`czar_gbdt.evaluation.evaluate_losses` with the data and the folds on the cluster."""
    return evaluation.evaluate_losses(cfg, specs, prepare=prepare_data, run=run_walk_forward)

"""The configuration glue for a cluster's data: :func:`load_data` (cached per process),
:func:`prepare_data` and :func:`describe_data`, as :mod:`czar_gbdt.evaluation` has them in memory."""

from __future__ import annotations

import functools

from .. import evaluation
from ..config import ClusterConfig, Config, DataConfig, as_config
from ..evaluation import panel_key
from .clients import client_of
from .panel import LazyPanel
from .reading import read_panel

__all__ = ["load_data", "prepare_data", "describe_data"]


@functools.lru_cache(maxsize=4)
def _cached_panel(d: DataConfig, cluster: ClusterConfig) -> LazyPanel:
    client = client_of(cluster)
    with client.as_current():  # what dask computes by itself (the divisions of set_index) runs on the cluster
        return read_panel(d, client)


def load_data(cfg: Config | dict) -> LazyPanel:
    """The panel of ``cfg.data`` on the config's cluster (cached per process: trials reuse it)."""
    cfg = as_config(cfg)
    return _cached_panel(panel_key(cfg), cfg.cluster)


def prepare_data(cfg: Config | dict, models: list = ()) -> LazyPanel:
    """:func:`czar_gbdt.evaluation.prepare_data` on the cluster: the panel loaded and checked.

    ``models`` is accepted for the same signature; a ranking objective among them is left
    out by the commands (:meth:`czar_gbdt.evaluation.Scoring.keeps`), and refused by
    :func:`~czar_gbdt.cluster.run_walk_forward`. ``cfg`` is not changed: :func:`czar_gbdt.evaluation.resolve_config` gives it
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

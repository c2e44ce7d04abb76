"""The configuration glue of :mod:`czar_gbdt.evaluation` on a Dask cluster: :func:`run_walk_forward` and
:func:`evaluate_losses`, with the cluster's data and folds."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import evaluation
from ..config import Config
from ..evaluation import WalkForwardResult
from ..losses import BaseLoss
from ..model_selection import WalkForward
from ..ranking import RankObjective
from .data import prepare_data
from .panel import LazyPanel
from .training import check_models, walk_forward

__all__ = ["run_walk_forward", "evaluate_losses"]


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


def evaluate_losses(cfg: Config | dict, specs: list[tuple[str, dict]]) -> pd.DataFrame:
    """:func:`czar_gbdt.evaluation.evaluate_losses` with the data and the folds on the cluster."""
    return evaluation.evaluate_losses(cfg, specs, prepare=prepare_data, run=run_walk_forward)

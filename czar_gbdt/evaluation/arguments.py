"""The typed arguments of the walk-forward engine: the model, how a fold is scored, the hooks.

:func:`czar_gbdt.evaluation.walk_forward` takes three of them instead of sixteen keyword
arguments written out again at every call site: a :class:`ModelSpec` (what one fold
trains), a :class:`FoldScoring` (how its test window is scored) and :class:`FoldHooks`
(what the caller does around each fold). All three are frozen: a caller builds them once
(the configuration glue from a configuration, :func:`czar_gbdt.evaluation.model_spec` and
:func:`czar_gbdt.evaluation.fold_scoring`) and passes them down unchanged. The callables
have named aliases, as LightGBM's ``engine.py`` names its callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..datasets import Panel
from ..losses import BaseLoss
from ..ranking import RankObjective
from .labels import auto_transform

__all__ = ["ModelSpec", "FoldScoring", "FoldHooks", "FoldPredictor", "FoldCallback", "ExtraScorer", "TARGET_TRANSFORMS"]

#: ``predict(i, train, test, valid) -> (prediction on test, rounds)``: one fold's model.
FoldPredictor = Callable[[int, Panel, Panel, "Panel | None"], tuple[np.ndarray, int]]
#: ``on_fold(i, row, per_date_so_far)``: called after each fold (the tuner reports and prunes there).
FoldCallback = Callable[[int, dict, pd.Series], None]
#: ``score_extra(test, pred) -> columns``: more columns for a fold's row.
ExtraScorer = Callable[[Panel, np.ndarray], dict]

#: The per-date transforms of the training labels (``"auto"`` is resolved on the panel).
TARGET_TRANSFORMS = ("raw", "demean", "zscore", "auto")


@dataclass(frozen=True)
class ModelSpec:
    """What one fold trains: a backend, its parameters, the loss, the rounds, the labels' transform.

    Attributes
    ----------
    backend : {"lightgbm", "xgboost", "catboost"}
        The booster (:func:`czar_gbdt.evaluation.backend_module`).
    booster_params : dict
        The booster's own parameters (a copy is kept: the caller's dict may change later).
    loss : BaseLoss, RankObjective or None
        A loss, the backend's ranking objective, or None for its built-in squared error.
    num_boost_round, early_stopping_rounds : int
        The rounds to train, and the patience of early stopping on the validation rank
        IC (0: none; a loss only).
    target_transform : {"raw", "demean", "zscore", "auto"}
        The per-date transform of the training labels; ``"auto"`` is resolved on the panel.
    seed : int
        The booster's seed.
    """

    backend: str
    booster_params: dict = field(default_factory=dict, hash=False)
    loss: BaseLoss | RankObjective | None = None
    num_boost_round: int = 200
    early_stopping_rounds: int = 0
    target_transform: str = "raw"
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.backend, str) or not self.backend:
            raise ValueError(f"ModelSpec: backend must be a backend name; got {self.backend!r}.")
        for name in ("num_boost_round", "early_stopping_rounds", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"ModelSpec: {name} must be an integer >= 0; got {value!r}.")
        if self.num_boost_round < 1:
            raise ValueError(f"ModelSpec: num_boost_round must be >= 1; got {self.num_boost_round!r}.")
        if self.target_transform not in TARGET_TRANSFORMS:
            raise ValueError(
                f"ModelSpec: target_transform must be one of {list(TARGET_TRANSFORMS)}; got {self.target_transform!r}."
            )
        object.__setattr__(self, "booster_params", dict(self.booster_params))

    def label(self) -> str:
        """``"<loss repr>, <backend>"``: how errors name the model."""
        return f"{self.loss!r}, {self.backend}"

    def resolved(self, panel: Any) -> ModelSpec:
        """The spec with ``target_transform = "auto"`` resolved on ``panel`` (a :class:`~czar_gbdt.datasets.Panel`
        or the cluster's lazy panel: :func:`~czar_gbdt.evaluation.auto_transform`); itself otherwise."""
        if self.target_transform != "auto":
            return self
        return replace(self, target_transform=auto_transform(panel))


@dataclass(frozen=True)
class FoldScoring:
    """How each fold's test window is scored (:func:`czar_gbdt.evaluation.score_predictions`).

    Attributes
    ----------
    top_k : int
        The assets held long and short in the top-k book (it needs ``2 * top_k`` assets).
    cost : float
        The book's cost per unit of turnover.
    time_series : bool
        Score the time-series rank IC of each window instead of the rank IC across assets per date.
    allora : bool
        Add Allora's scores of each window to its row (:func:`czar_gbdt.evaluation.allora_scores`).
    """

    top_k: int = 5
    cost: float = 0.0
    time_series: bool = False
    allora: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, (int, np.integer)) or self.top_k < 1:
            raise ValueError(f"FoldScoring: top_k must be an integer >= 1; got {self.top_k!r}.")
        if not isinstance(self.cost, (int, float, np.floating)) or not np.isfinite(self.cost) or self.cost < 0:
            raise ValueError(f"FoldScoring: cost must be a finite number >= 0; got {self.cost!r}.")


@dataclass(frozen=True)
class FoldHooks:
    """What a caller does around each fold; every hook is optional.

    Attributes
    ----------
    on_fold : FoldCallback or None
        Called after each fold with its row and the per-date rank IC so far (raising from
        it stops the loop: the tuner prunes there).
    predict : FoldPredictor or None
        Replaces the training of each fold (``compare`` scores its ensemble of trained
        models with it).
    score_extra : ExtraScorer or None
        Adds columns to each fold's row.
    """

    on_fold: FoldCallback | None = None
    predict: FoldPredictor | None = None
    score_extra: ExtraScorer | None = None

"""Training one model per backend for the walk-forward evaluation: the shared part.

:class:`Training` merges the booster parameters of the three kinds of model (the
backend's built-in squared error, its learning-to-rank objective, a czar_gbdt loss) in
one order for every backend; each backend module subclasses it with what differs
(parameter names, how a model is fitted) and exposes the bound methods of one instance
as its ``train_builtin``, ``train_ranking`` and ``train_loss``. They return a
:class:`TrainedModel`: ``predict(X, std=None)`` and ``rounds``.

The binned training datasets of ``train_loss`` are kept across the trials of a process by
:data:`czar_gbdt._adapters.cache.DATASETS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .docs import fill_doc

__all__ = [
    "Training",
    "TrainedModel",
    "EvalRows",
    "stopping_rounds",
    "query_ids",
    "ranking_objective",
    "features",
]


class TrainedModel:
    """A model trained by a backend module's ``train_builtin``, ``train_ranking`` or ``train_loss``.

    Each backend module subclasses it with its ``predict``.

    Attributes
    ----------
    model
        The backend's model (``xgboost.Booster``, ``lightgbm.Booster``, ``catboost.CatBoost``).
    rounds : int
        The boosting rounds the predictions use (the best round with early stopping).
    options : dict
        How the backend module predicts with it (for example ``output_margin=True``).
    """

    def __init__(self, model: Any, rounds: int, **options: Any):
        self.model = model
        self.rounds = rounds
        self.options = options

    def predict(self, X: Any, std: Any = None) -> np.ndarray:
        """Predictions on the features ``X``; ``std``: the rows' std (used by CatBoost's z-space losses)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.model).__name__}, rounds={self.rounds})"


class EvalRows(NamedTuple):
    """Validation rows for early stopping: features, labels, std (or None) and dates."""

    X: np.ndarray
    y: Any
    std: Any
    dates: Any


class Training:
    """How one backend trains a model for the walk-forward evaluation.

    Three kinds of model, one method each: :meth:`train_builtin` (the backend's own squared
    error), :meth:`train_ranking` (its learning-to-rank objective) and :meth:`train_loss`
    (a czar_gbdt loss). A backend module subclasses this class with what truly differs,
    builds one instance and exposes its bound methods as the module functions
    ``train_builtin``, ``train_ranking`` and ``train_loss``: the same names and signatures
    in every backend module, so that a caller trains any backend with
    ``module.train_loss(...)``. The booster parameters are merged here, in one order for
    every backend: for the built-in objective ``defaults < params < objective and seed``;
    for ranking ``defaults < objective, seed and ranking_params < params``; for a loss
    ``defaults < params < seed``.

    Attributes
    ----------
    imports
        The backend's deferred import guard (:func:`czar_gbdt._imports.try_import`).
    name : str
        The backend (``"xgboost"``), for messages.
    defaults : dict
        Seeded, deterministic, quiet booster parameters; ``params`` override them.
    ranking_objectives : tuple of str
        The backend's learning-to-rank objectives; the first is the default.
    builtin_objective : str
        The backend's own squared error (``"reg:squarederror"``).
    objective_key, seed_key : str
        The parameter names of the objective and of the random seed.
    rounds_key : str or None
        The parameter holding the number of rounds (CatBoost's ``"iterations"``), or None
        when the rounds are an argument of the backend's training call.
    """

    imports: Any = None
    name = ""
    defaults: dict = {}
    ranking_objectives: tuple[str, ...] = ()
    builtin_objective = ""
    objective_key = "objective"
    seed_key = "seed"
    rounds_key: str | None = None

    def __repr__(self) -> str:
        return f"<training of czar_gbdt.{self.name}>"

    # -- what a backend module writes
    def defaults_for(self, params: dict | None) -> dict:
        """The :attr:`defaults` that ``params`` leave in force (all of them unless a backend says
        otherwise: a default that would contradict one of ``params`` is dropped)."""
        return self.defaults

    def ranking_params(self, group_sizes: np.ndarray, n_grades: int) -> dict:
        """Parameters of the ranking objectives (after the defaults, before ``params``)."""
        return {}

    def fit(
        self,
        params: dict,
        X: np.ndarray,
        labels: Any,
        *,
        weight: Any,
        group_sizes: np.ndarray | None,
        num_boost_round: int,
    ) -> TrainedModel:
        """Fit a built-in objective (``group_sizes``: a ranking objective's query groups)."""
        raise NotImplementedError

    def fit_loss(
        self,
        loss: Any,
        params: dict,
        X: np.ndarray,
        y: Any,
        *,
        std: Any,
        weight: Any,
        valid: EvalRows | None,
        stop: int,
        num_boost_round: int,
    ) -> TrainedModel:
        """Fit a loss; with ``valid``, stop after ``stop`` rounds without a better validation rank IC."""
        raise NotImplementedError

    # -- the public interface
    def _fixed(self, seed: int, num_boost_round: int) -> dict:
        fixed = {self.seed_key: seed}
        if self.rounds_key is not None:
            fixed[self.rounds_key] = num_boost_round
        return fixed

    @fill_doc()
    def train_builtin(
        self,
        X: Any,
        y: Any,
        *,
        weight: Any = None,
        params: dict | None = None,
        num_boost_round: int = 200,
        seed: int = 0,
    ) -> TrainedModel:
        """Train the backend's own squared error, the baseline every loss must beat.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Training target.
        weight : array-like of shape (n_samples,), optional
            Row weights.
        {booster_params}

        Returns
        -------
        TrainedModel
            ``predict(X)`` and ``rounds`` (``num_boost_round``).
        """
        self.imports.check()
        params = {
            **self.defaults_for(params),
            **(params or {}),
            self.objective_key: self.builtin_objective,
            **self._fixed(seed, num_boost_round),
        }
        return self.fit(params, features(X), y, weight=weight, group_sizes=None, num_boost_round=num_boost_round)

    @fill_doc()
    def train_ranking(
        self,
        X: Any,
        grades: Any,
        group_sizes: Any,
        *,
        objective: str | None = None,
        n_grades: int | None = None,
        params: dict | None = None,
        num_boost_round: int = 200,
        seed: int = 0,
    ) -> TrainedModel:
        """Train the backend's learning-to-rank objective, one query group per date.

        The xgboost and lightgbm modules add parameters that make the listwise objectives
        score the whole cross-section rather than its top (see their module docstrings);
        ``params`` of the same name override them. Sample weights are not used (the
        backends weight whole query groups, not rows). Predictions are scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features, sorted by query group.
        grades : array-like of int, shape (n_samples,)
            Relevance grades 0 .. n_grades-1 (the target's quantile grades within each date).
        group_sizes : array-like of int, shape (n_groups,)
            Rows per query group, in row order.
        objective : str, optional
            One of the module's ``RANKING_OBJECTIVES`` (default: the first).
        n_grades : int, optional
            The number of grades (default ``max(grades) + 1``).
        {booster_params}

        Returns
        -------
        TrainedModel
            ``predict(X)`` (scores) and ``rounds`` (``num_boost_round``).
        """
        self.imports.check()
        objective = ranking_objective(objective, self.ranking_objectives, self.name)
        sizes = np.asarray(group_sizes)
        n_grades = int(np.max(grades)) + 1 if n_grades is None else int(n_grades)
        params = {
            **self.defaults_for(params),
            self.objective_key: objective,
            **self._fixed(seed, num_boost_round),
            **self.ranking_params(sizes, n_grades),
            **(params or {}),
        }
        return self.fit(params, features(X), grades, weight=None, group_sizes=sizes, num_boost_round=num_boost_round)

    @fill_doc()
    def train_loss(
        self,
        loss: Any,
        X: Any,
        y: Any,
        *,
        std: Any = None,
        weight: Any = None,
        valid_X: Any = None,
        valid_y: Any = None,
        valid_std: Any = None,
        valid_dates: Any = None,
        early_stopping_rounds: int = 0,
        params: dict | None = None,
        num_boost_round: int = 200,
        seed: int = 0,
    ) -> TrainedModel:
        """Train a czar_gbdt loss through the module's ``train`` (starting score, weights, ``std``).

        Parameters
        ----------
        loss : czar_gbdt.BaseLoss or str
            The loss (an instance or a registry name).
        X : array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            Training labels (0/1 for binary losses).
        std : array-like of shape (n_samples,), optional
            The z-scoring std of the training rows (required by CZAR and ZPTAE).
        weight : array-like of shape (n_samples,), optional
            Row weights.
        valid_X, valid_y, valid_std, valid_dates : array-like, optional
            Validation rows, their labels, std and dates. With ``early_stopping_rounds``,
            training stops when the validation rank IC (per date) has not improved for
            that many rounds, and the best round is kept.
        early_stopping_rounds : int, default 0
            0, or no validation rows: train every round.
        {booster_params}

        Returns
        -------
        TrainedModel
            ``predict(X, std=None)`` (raw margins: logits for binary losses; CatBoost maps
            z-space predictions back with ``std``) and ``rounds`` (the best round with
            early stopping).
        """
        self.imports.check()
        stop = stopping_rounds(valid_X, valid_y, early_stopping_rounds)
        valid = EvalRows(features(valid_X), valid_y, valid_std, valid_dates) if stop else None
        params = {**self.defaults_for(params), **(params or {}), **self._fixed(seed, num_boost_round)}
        return self.fit_loss(
            loss,
            params,
            features(X),
            y,
            std=std,
            weight=weight,
            valid=valid,
            stop=stop,
            num_boost_round=num_boost_round,
        )


def stopping_rounds(valid_X: Any, valid_y: Any, early_stopping_rounds: int) -> int:
    """``early_stopping_rounds`` when there are validation rows to stop on, else 0 (every round)."""
    if valid_X is None or not len(valid_X) or not early_stopping_rounds:
        return 0
    if valid_y is None:
        raise ValueError("valid_y is required with valid_X: early stopping scores the validation rows.")
    return early_stopping_rounds


def query_ids(group_sizes: Any) -> np.ndarray:
    """One query id per row (0, 0, ..., 1, 1, ...) from the rows per query group."""
    sizes = np.asarray(group_sizes)
    return np.repeat(np.arange(len(sizes)), sizes)


def ranking_objective(objective: str | None, known: Sequence[str], backend: str) -> str:
    """``objective`` checked against a backend's ranking objectives ``known`` (None or "": the first)."""
    if not objective:
        return known[0]
    if objective not in known:
        raise ValueError(f"objective {objective!r} is not a {backend} ranking objective; {backend} has {list(known)}.")
    return objective


def features(X: Any) -> np.ndarray:
    """Features as a float64 matrix (a DataFrame's values: the models are trained without column names)."""
    return np.asarray(X, dtype=np.float64)

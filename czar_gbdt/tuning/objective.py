"""The optuna objective of a configuration, and the failure policy every trial runs under.

:func:`make_objective` draws a trial's parameters (:func:`~czar_gbdt.tuning.space.suggest_params`)
and scores them with the walk-forward evaluation of :mod:`czar_gbdt.evaluation`;
:func:`objective_value` is the figure optimised. :class:`GuardedObjective` runs an objective
under the study's policy: a trial two racing workers started for the last free slot is
surplus (:class:`SurplusTrial`), a drawn set the study holds is drawn again
(:class:`DuplicateTrial`), a trial that failed for a reason outside it is queued again
(:class:`RetryTrial`, :func:`retry_callback`), and an error that would repeat in every trial
stops the study (:class:`StudyStopped`).
"""

from __future__ import annotations

import math
import os
import traceback
import warnings
from collections.abc import Callable
from typing import Any, NoReturn

import optuna
import pandas as pd
from optuna.trial import TrialState

from .. import cluster, metrics, selection
from ..config import ALLORA_OBJECTIVES, Config, ConfigError, as_config
from ..datasets import DataError
from ..evaluation import FoldHooks, fold_scoring, iso_date, make_splitter, resolve_config, trial_spec
from ..losses import get_loss
from .space import suggest_params
from .studies import FINISHED, PRUNE_AFTER_FOLD, TERMS_ATTR

__all__ = [
    "Objective",
    "ObjectiveFactory",
    "StudyStopped",
    "REPEATING_ERRORS",
    "STOPPED",
    "SurplusTrial",
    "DuplicateTrial",
    "MAX_DUPLICATE_DRAWS",
    "duplicate_of",
    "RetryTrial",
    "TrialFailed",
    "objective_value",
    "make_objective",
    "GuardedObjective",
    "retry_callback",
]

#: An optuna objective: a trial's score.
Objective = Callable[[optuna.Trial], float]
#: What makes the objective of a configuration (:func:`make_objective`, or a test's toy objective): it
#: gets the configuration :func:`~czar_gbdt.tuning.tune` was given (a dict keeps any extra keys).
ObjectiveFactory = Callable[[Any], Objective]


class StudyStopped(RuntimeError):
    """Trials failed for a reason that would repeat in every trial: the study was stopped.

    ``usage`` is true when the reason is a configuration or data error (exit code 2 from
    the command line, 1 otherwise). The failed trials keep the error and its traceback
    as user attributes ``error`` and ``traceback``.
    """

    def __init__(self, message: str, usage: bool = False):
        super().__init__(message)
        self.usage = usage


#: Errors raised inside a trial that do not depend on the trial's parameters (a bad
#: configuration or data, a missing package, a programming error in a loss of your own):
#: the first one stops the study. Any other error stops it when the next trial fails
#: with the same message.
REPEATING_ERRORS = (
    ConfigError,
    DataError,
    ImportError,
    TypeError,
    AttributeError,
    NameError,
    NotImplementedError,
    AssertionError,
)

#: The study user attribute a worker sets when it stopped the study (read by the others).
STOPPED = "stopped"


class SurplusTrial(Exception):
    """Raised inside a trial that two racing workers started for the last free slot."""


class DuplicateTrial(Exception):
    """Raised inside a trial whose drawn parameters are those of a trial the study already holds: it
    is failed (user attribute ``duplicate_of``), takes no slot, and another set is drawn."""


#: Draws in a row that duplicate a held parameter set after which a process takes duplicates
#: (the search space holds fewer distinct sets than the study asks for).
MAX_DUPLICATE_DRAWS = 20


def duplicate_of(study: optuna.Study, trial: optuna.Trial, cfg: Config | dict) -> int | None:
    """The number of a live or finished trial of ``study`` with the parameters ``trial`` draws, or None.

    The parameters are drawn here (:func:`suggest_params`; the objective draws the same
    values again). A trial with fixed parameters (the retry of a failed trial, an enqueued
    one) and a study that searches nothing are never duplicates.
    """
    suggest_params(trial, as_config(cfg))
    params = trial.params
    if not params:
        return None
    trials = study.get_trials(deepcopy=False)
    me = next((t for t in trials if t.number == trial.number), None)
    if me is None or "fixed_params" in me.system_attrs:
        return None
    for t in trials:
        if (
            t.number != trial.number
            and t.state in (*FINISHED, TrialState.RUNNING, TrialState.WAITING)
            and not t.user_attrs.get("surplus")
            and t.params == params
        ):
            return t.number
    return None


class RetryTrial(Exception):
    """Raised inside a trial that failed for a reason outside it (a Dask worker lost): failed, then queued again."""


def objective_value(per_date: pd.Series, kind: str, folds: Any = None) -> float:
    """The tuner's objective so far (0 where it is undefined).

    ``rank_ic`` and ``ts_rank_ic``: the mean of the per-date rank IC (for the time-series rank
    IC, of its per-date terms: the mean of the windows' rank ICs); ``icir``: its ICIR; an
    Allora score (``allora_czar_improvement`` ...): its mean over the folds so far, read from
    ``folds`` (the fold rows, a list of dicts or a DataFrame).
    """
    if kind in ALLORA_OBJECTIVES:
        values = pd.DataFrame(list(folds) if not isinstance(folds, pd.DataFrame) else folds)[kind]
        value = float(values.mean())
    else:
        value = metrics.icir(per_date) if kind == "icir" else float(per_date.mean())
    return value if math.isfinite(value) else 0.0


def make_objective(cfg: Config | dict) -> Objective:
    """The optuna objective of a configuration: walk-forward rank IC (or ICIR, or an Allora score) over the folds.

    Each trial draws its parameters with :func:`suggest_params`, the boosting and early
    stopping rounds included (fixed or searched: one source). The rank IC is the one
    :func:`czar_gbdt.evaluation.scoring` picks: across assets per date, or the time-series
    rank IC of each test window for one series (or ``study.objective = "ts_rank_ic"``).
    After each fold the running value is reported as one step and ``should_prune()``
    checked; per-fold figures are stored as user attributes (read back by
    :func:`trial_folds`). The holdout is never used.
    """
    cfg = as_config(cfg)
    kind = cfg.study.objective
    engine = cluster.engine(cfg)  # this process, or a Dask cluster ([cluster])
    panel = engine.load_data(cfg)  # once: every trial of this process scores the same data, even if the file changes
    cfg = resolve_config(cfg, panel)  # "auto": raw for one series, demean for a cross-section
    fold_scores = fold_scoring(cfg, panel, allora=kind in ALLORA_OBJECTIVES)
    splitter = make_splitter(cfg)

    def objective(trial: optuna.Trial) -> float:
        params = suggest_params(trial, cfg)
        loss = get_loss(params.loss, **params.loss_params)
        rows: list[dict] = []

        def on_fold(i: int, row: dict, per_date: pd.Series) -> None:
            rows.append(row)
            trial.set_user_attr(
                f"fold_{i}", {k: (iso_date(v) if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
            )
            trial.report(objective_value(per_date, kind, rows), i)
            if i >= PRUNE_AFTER_FOLD and trial.should_prune():  # before: the pruner's warm-up
                raise optuna.TrialPruned(f"pruned after fold {i}")

        try:
            result = engine.walk_forward(
                panel,
                splitter,
                trial_spec(cfg, params, loss),
                fold_scores,
                FoldHooks(on_fold=on_fold),
            )
        except Exception as exc:
            if not cluster.worker_lost(exc):
                raise
            trial.set_user_attr("retry_reason", str(exc))  # a lost Dask worker fails the trial, which is retried
            raise RetryTrial(str(exc)) from exc
        for k, v in result.summary().items():
            trial.set_user_attr(k, v)
        if kind not in ALLORA_OBJECTIVES:  # the per-date terms, for the study's selection bias (report)
            trial.set_user_attr(TERMS_ATTR, selection.encode_terms(result.per_date))
        return objective_value(result.per_date, kind, result.folds)

    return objective


class TrialFailed(Exception):
    """A trial's error, recorded in the trial: optuna marks the trial failed and the study goes on."""


class GuardedObjective:
    """``objective`` run under the study's failure policy, by one process running trials of ``study``
    until it holds ``n_trials`` finished ones.

    A trial that raises is marked failed, with the error and its traceback as user
    attributes (``error``, ``traceback``), and reported in one line through ``echo``. An
    error of :data:`REPEATING_ERRORS`, or the same error twice in a row, stops the study:
    :class:`StudyStopped` (recorded in the study, so that the other workers stop too).
    """

    def __init__(
        self,
        objective: Objective,
        study: optuna.Study,
        cfg: Config | dict,
        n_trials: int,
        echo: Callable[[str], None] | None = None,
    ):
        self.objective, self.study, self.n_trials, self.echo = objective, study, n_trials, echo
        self.cfg = as_config(cfg)
        self.last_error: str | None = None  # the error of the trial before, if it failed
        self.duplicates = 0  # draws in a row that repeated a held parameter set

    def __call__(self, trial: optuna.Trial) -> float:
        self._take_slot(trial)
        trial.set_user_attr("worker_pid", os.getpid())  # which process runs it (heartbeats say whether it lives)
        try:
            self._refuse_duplicate(trial)
            return self.objective(trial)
        except (optuna.TrialPruned, SurplusTrial, RetryTrial, DuplicateTrial):
            raise
        except Exception as exc:
            self._fail(trial, exc)

    def _take_slot(self, trial: optuna.Trial) -> None:
        """Two workers may both have seen one free slot: the trial numbers decide who runs.
        Trials that are neither failed nor surplus and come before this one take slots."""
        before = [
            t
            for t in self.study.get_trials(deepcopy=False)
            if t.number < trial.number
            and t.state in (*FINISHED, TrialState.RUNNING, TrialState.WAITING)
            and not t.user_attrs.get("surplus")
        ]
        if len(before) >= self.n_trials:
            trial.set_user_attr("surplus", True)
            raise SurplusTrial(f"trial {trial.number}: the study already has {self.n_trials} trials")

    def _refuse_duplicate(self, trial: optuna.Trial) -> None:
        """Fail a trial that drew a parameter set the study holds, until :data:`MAX_DUPLICATE_DRAWS`
        draws in a row did (then the space holds too few sets, and duplicates are taken)."""
        if self.duplicates >= MAX_DUPLICATE_DRAWS:
            return
        same = duplicate_of(self.study, trial, self.cfg)
        if same is None:
            self.duplicates = 0
            return
        self.duplicates += 1
        trial.set_user_attr("duplicate_of", same)
        if self.duplicates == MAX_DUPLICATE_DRAWS and self.echo is not None:
            self.echo(
                f"{MAX_DUPLICATE_DRAWS} draws in a row repeated parameter sets the study holds: the "
                f"search space seems to hold fewer distinct sets than the trials asked for, so "
                f"parameter sets may now repeat."
            )
        raise DuplicateTrial(f"trial {trial.number} drew the parameters of trial {same}")

    def _fail(self, trial: optuna.Trial, exc: Exception) -> NoReturn:
        """Record the error being handled in the trial; stop the study if it would repeat in every trial."""
        error = f"{type(exc).__name__}: {exc}"
        trial.set_user_attr("error", error)
        trial.set_user_attr("traceback", traceback.format_exc())
        repeating = isinstance(exc, REPEATING_ERRORS)
        if repeating or self.last_error == error:
            why = (
                "it does not depend on the trial's parameters"
                if repeating
                else "the trial before failed with the same error"
            )
            message = (
                f"trial {trial.number} failed with {error}; {why}, so every trial would fail: the study "
                f"is stopped (its completed trials are kept). The traceback is in the trial's user "
                f"attribute 'traceback'."
            )
            self.study.set_user_attr(STOPPED, {"message": message, "usage": isinstance(exc, (ConfigError, DataError))})
            raise StudyStopped(message, usage=isinstance(exc, (ConfigError, DataError))) from None
        self.last_error = error
        if self.echo is not None:
            self.echo(
                f"trial {trial.number} failed: {error} (the study goes on; the traceback is in the trial's "
                f"user attribute 'traceback')"
            )
        raise TrialFailed(error) from None


def retry_callback(cfg: Config | dict) -> Callable[[optuna.Study, optuna.trial.FrozenTrial], None]:
    """After a trial that raised :class:`RetryTrial` (and was failed): queue its parameters again,
    at most ``study.max_retry`` times, as for a trial whose worker died."""
    max_retry = as_config(cfg).study.max_retry

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.state == TrialState.FAIL and "retry_reason" in trial.user_attrs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)(study, trial)

    return callback

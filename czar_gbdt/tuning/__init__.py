"""Optuna tuner: search loss and booster parameters against walk-forward rank IC.

The objective (``study.objective``) is the rank IC across assets per date, or for a single
series the time-series rank IC of each test window (:func:`czar_gbdt.evaluation.scoring`),
its ICIR, or one of Allora's scores averaged over the test windows.

:func:`tune` runs a study described by a configuration (see :mod:`czar_gbdt.config`)
on one process or several worker processes sharing one storage:

- storage: a SQLite file under ``study.runs_dir`` by default, or any SQLAlchemy URL.
  SQLite cannot serve concurrent writers safely, so ``workers > 1`` requires a
  client-server database (PostgreSQL, MySQL) and is refused for SQLite. optuna's journal
  storage is refused for any number of workers: it keeps no heartbeats, so a killed
  worker's trial would never be failed and retried.
- ``study.n_trials`` is the *total* number of finished trials the study should hold:
  re-running the same command resumes the study and runs only what is missing, and
  completed trials are never lost or repeated.
- heartbeats: every trial records its worker's pid (user attribute ``worker_pid``) when it
  starts; a trial whose worker died (even by SIGKILL) stops beating; after
  ``grace_period`` seconds another worker (or the next run) marks it failed and
  re-queues its parameters (:class:`optuna.storages.RetryHeartbeatStaleTrialCallback`).
- pruning: after each walk-forward fold the running objective is reported as one step
  (a step reported twice is ignored by optuna, so per-iteration pruning callbacks would
  not work across folds) and ``trial.should_prune()`` is checked; per-fold figures are
  kept as trial user attributes.
- the final holdout period is never seen by any trial; ``czar-gbdt report``
  (:func:`czar_gbdt.reporting.report`) evaluates the best trial on it once, against the
  baselines of ``report.baselines``.
- before the storage is touched, the data is loaded and checked
  (:func:`czar_gbdt.evaluation.prepare_data`): bad data creates no study.
- a study records what its scores depend on (:mod:`czar_gbdt.fingerprint`, user attribute
  ``fingerprint``); :func:`check_fingerprint` refuses to resume it, report it or take its
  parameters with a configuration that differs, naming the keys.
- a trial that raises is failed with its error and traceback as user attributes; an error
  that would repeat in every trial stops the study (:class:`StudyStopped`).
- no parameter set is drawn twice: each trial's sampler is seeded from ``study.seed`` and
  the trial's number (:func:`trial_seed`), in whichever process runs it, and a drawn set
  that the study already holds is skipped (:class:`DuplicateTrial`).
- every completed trial keeps its per-date objective terms (user attribute
  :data:`TERMS_ATTR`), from which ``report`` measures the study's selection bias
  (:func:`trial_terms`, :mod:`czar_gbdt.selection`).

The package, bottom to top (each module imports only the ones below it):

- :mod:`~czar_gbdt.tuning.storage`: storage URLs, SQLite and database servers, heartbeats, the runs folder;
- :mod:`~czar_gbdt.tuning.space`: the search space (:func:`suggest_params`, :func:`fixed_params`: a
  :class:`TrialParams`) and the per-trial seeded sampler;
- :mod:`~czar_gbdt.tuning.studies`: study access for the layers above (:func:`load_study`,
  :func:`check_fingerprint`, :func:`best_trial`, :func:`trial_folds`, :func:`trial_terms`,
  :func:`best_czar_params`);
- :mod:`~czar_gbdt.tuning.objective`: the objective (:func:`make_objective`) and the failure
  policy every trial runs under (retry, surplus, duplicate, stop);
- :mod:`~czar_gbdt.tuning.workers` and :mod:`~czar_gbdt.tuning.progress`: the processes that
  run trials, and the progress line;
- :mod:`~czar_gbdt.tuning.run`: :func:`tune`.

See ``docs/tuning.md``.
"""

from __future__ import annotations

from .objective import (
    MAX_DUPLICATE_DRAWS,
    REPEATING_ERRORS,
    DuplicateTrial,
    Objective,
    ObjectiveFactory,
    RetryTrial,
    StudyStopped,
    SurplusTrial,
    make_objective,
    objective_value,
)
from .run import tune
from .space import TrialParams, fixed_params, search_losses, suggest_params, trial_seed
from .storage import StudyError, make_runs_dir, make_storage, output_dir, storage_url
from .studies import (
    FINISHED,
    TERMS_ATTR,
    StudyCzar,
    best_czar_params,
    best_czar_trial,
    best_trial,
    check_fingerprint,
    count_trials,
    load_checked_study,
    load_study,
    open_study,
    trial_folds,
    trial_terms,
)
from .workers import run_worker

__all__ = [
    "tune",
    "storage_url",
    "output_dir",
    "make_storage",
    "make_runs_dir",
    "open_study",
    "load_study",
    "load_checked_study",
    "check_fingerprint",
    "count_trials",
    "best_trial",
    "trial_folds",
    "trial_terms",
    "TERMS_ATTR",
    "FINISHED",
    "StudyCzar",
    "best_czar_params",
    "best_czar_trial",
    "suggest_params",
    "TrialParams",
    "fixed_params",
    "search_losses",
    "trial_seed",
    "make_objective",
    "objective_value",
    "Objective",
    "ObjectiveFactory",
    "run_worker",
    "StudyError",
    "StudyStopped",
    "REPEATING_ERRORS",
    "MAX_DUPLICATE_DRAWS",
    "SurplusTrial",
    "DuplicateTrial",
    "RetryTrial",
]

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

The objective (:func:`make_objective`) draws a trial's parameters with
:func:`suggest_params` and scores them with the walk-forward evaluation of
:mod:`czar_gbdt.evaluation`. Study access for the layers above lives here too:
:func:`load_study`, :func:`best_trial`, :func:`trial_folds`, :func:`fixed_params` and
:func:`best_czar_params`. See ``docs/tuning.md``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import multiprocessing
import os
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from . import allora, cluster, fingerprint, metrics, selection
from ._jit import share_threads
from .config import ALLORA_OBJECTIVES, Choices, ConfigError, Range, check_storage_url, load_config
from .datasets import DataError
from .evaluation import book, iso_date, make_splitter, resolve_target_transform, scoring, warm_up
from .losses import get_loss, loss_name

__all__ = ["tune", "storage_url", "output_dir", "make_storage", "open_study", "load_study", "load_checked_study", "suggest_params",
           "fixed_params", "count_trials", "best_trial", "trial_folds", "trial_terms", "TERMS_ATTR", "best_czar_params",
           "make_objective",
           "objective_value", "run_worker", "StudyError", "StudyStopped", "StudyCzar", "best_czar_trial", "check_fingerprint", "search_losses",
           "REPEATING_ERRORS", "make_runs_dir"]


class StudyError(ConfigError):
    """A study that cannot be used as asked (missing, without a completed trial, or made with
    another configuration): a usage error, exit code 2 from the command line."""


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
REPEATING_ERRORS = (ConfigError, DataError, ImportError, TypeError, AttributeError, NameError,
                    NotImplementedError, AssertionError)

#: The study user attribute a worker sets when it stopped the study (read by the others).
_STOPPED = "stopped"


#: The trial user attribute that holds a completed trial's per-date objective terms
#: (:func:`czar_gbdt.selection.encode_terms`; read back by :func:`trial_terms`).
TERMS_ATTR = "per_date_terms"

#: Trial states that count towards ``n_trials``.
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


class SurplusTrial(Exception):
    """Raised inside a trial that two racing workers started for the last free slot."""


class DuplicateTrial(Exception):
    """Raised inside a trial whose drawn parameters are those of a trial the study already holds: it
    is failed (user attribute ``duplicate_of``), takes no slot, and another set is drawn."""


#: Draws in a row that duplicate a held parameter set after which a process takes duplicates
#: (the search space holds fewer distinct sets than the study asks for).
MAX_DUPLICATE_DRAWS = 20


def _duplicate_of(study: optuna.Study, trial: optuna.Trial, cfg: dict) -> int | None:
    """The number of a live or finished trial of ``study`` with the parameters ``trial`` draws, or None.

    The parameters are drawn here (:func:`suggest_params`; the objective draws the same
    values again). A trial with fixed parameters (the retry of a failed trial, an enqueued
    one) and a study that searches nothing are never duplicates.
    """
    suggest_params(trial, cfg)
    params = trial.params
    if not params:
        return None
    trials = study.get_trials(deepcopy=False)
    me = next((t for t in trials if t.number == trial.number), None)
    if me is None or "fixed_params" in me.system_attrs:
        return None
    for t in trials:
        if (t.number != trial.number and t.state in (*FINISHED, TrialState.RUNNING, TrialState.WAITING)
                and not t.user_attrs.get("surplus") and t.params == params):
            return t.number
    return None


class RetryTrial(Exception):
    """Raised inside a trial that failed for a reason outside it (a Dask worker lost): failed, then queued again."""


class _HeartbeatStorage(optuna.storages.RDBStorage):
    """RDBStorage that also fails trials whose worker died before its first heartbeat.

    optuna creates the trial (RUNNING) and only then starts the heartbeat thread; a worker
    killed in between leaves a RUNNING trial with no heartbeat row, which optuna never
    considers stale, so the study would wait for it for ever. Such a trial is stale once
    it started more than ``grace_period`` seconds ago (by the client clock that wrote
    ``datetime_start``).
    """

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        stale = super()._get_stale_trial_ids(study_id)
        grace = self.grace_period if self.grace_period is not None else 2 * self.heartbeat_interval
        cutoff = datetime.now() - timedelta(seconds=grace)
        with _create_scoped_session(self.scoped_session) as session:
            running = (session.query(models.TrialModel)
                       .outerjoin(models.TrialHeartbeatModel)
                       .filter(models.TrialModel.study_id == study_id,
                               models.TrialModel.state == TrialState.RUNNING,
                               models.TrialHeartbeatModel.trial_heartbeat_id.is_(None))
                       .all())
            # ``datetime_start`` is local naive time whichever way the optuna version stores it
            silent = [t.trial_id for t in running if t.datetime_start is not None and t.datetime_start < cutoff]
        return stale + [trial_id for trial_id in silent if trial_id not in stale]


def storage_url(cfg: dict, *, create: bool = True) -> str:
    """The study's storage URL: ``study.storage`` or a SQLite file under ``study.runs_dir``
    (whose folder is created unless ``create`` is false)."""
    url = cfg["study"]["storage"]
    if url:
        sqlite_file = _sqlite_file(url)
        if create and sqlite_file is not None:  # optuna does not create the folder of a SQLite file
            _make_folder(sqlite_file.parent, f"study.storage (or --storage) {url!r}: the folder of the SQLite file")
        return url
    runs = Path(cfg["study"]["runs_dir"])
    if create:
        make_runs_dir(cfg)
    return f"sqlite:///{runs / (cfg['study']['name'] + '.db')}"


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``sqlite:///relative.db``, ``sqlite:////absolute.db``), else None."""
    if not url.lower().startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def _make_folder(folder: Path, what: str) -> None:
    """Create ``folder`` (and its parents), or say in one line why it cannot be (exit code 2)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudyError(f"{what} cannot be created: {folder} ({type(exc).__name__}: {exc.strerror or exc}); "
                         f"choose a folder that can be written.") from None
    if not os.access(folder, os.W_OK):
        raise StudyError(f"{what} cannot be written: {folder}; choose a folder that can be written.")


def make_runs_dir(cfg: dict) -> Path:
    """Create ``study.runs_dir`` (the default storage and every output file live there), or refuse
    in one line naming the key; called before any study is created."""
    runs = Path(cfg["study"]["runs_dir"])
    _make_folder(runs, f"study.runs_dir {str(runs)!r}: the folder")
    return runs


def output_dir(cfg: dict) -> Path:
    """The folder of the study's output files: ``<study.runs_dir>/<study.name>/``."""
    return Path(cfg["study"]["runs_dir"]) / cfg["study"]["name"]


def load_study(cfg: dict, storage: str | None = None) -> optuna.Study:
    """Load the existing study of ``cfg`` without creating anything (no SQLite file, no study).

    Raises
    ------
    StudyError
        When the default SQLite file does not exist or the storage holds no study of that name.
    """
    if storage:
        cfg = {**cfg, "study": {**cfg["study"], "storage": storage}}
    url = storage_url(cfg, create=False)
    name = cfg["study"]["name"]
    source = f" (config {cfg['_path']})" if cfg.get("_path") else ""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise StudyError(f"study.name {name!r}: there is no study yet{source}: {url} does not exist; run "
                         f"`czar-gbdt tune` with this config first.")
    try:
        return optuna.load_study(study_name=name, storage=make_storage(cfg, url))
    except KeyError:
        raise StudyError(f"study.name {name!r}: no study of that name in {url}{source}; run `czar-gbdt tune` "
                         f"with this config first (or check study.name / --storage).") from None


def load_checked_study(cfg: dict, storage: str | None, command: str) -> tuple[optuna.Study, str]:
    """The existing study of ``cfg`` (:func:`load_study`) and its storage URL, once
    :func:`check_fingerprint` has found it made with this configuration: what ``report`` and
    ``fit`` (``command``) read a study through."""
    study = load_study(cfg, storage)
    url = storage_url({**cfg, "study": {**cfg["study"], "storage": storage or cfg["study"]["storage"]}},
                      create=False)
    check_fingerprint(study, cfg, command, url=url)
    return study, url


def _resolve_transform(cfg: dict) -> None:
    """``data.target_transform = "auto"`` resolved on the data, so that the fingerprint names the
    transform used (a study tuned with "demean" on a panel matches "auto"); data that does not
    load is left for its own error (prepare_data)."""
    if cfg["data"]["target_transform"] == "auto":
        with contextlib.suppress(DataError):
            resolve_target_transform(cfg, cluster.engine(cfg).load_data(cfg))


def check_fingerprint(study: optuna.Study, cfg: dict, command: str = "tune", *, url: str = "",
                      record: dict | None = None) -> str | None:
    """Refuse a configuration whose fingerprint (:mod:`czar_gbdt.fingerprint`) differs from the study's.

    ``tune`` records the fingerprint in a study that has none (a new study, or one made
    before fingerprints were recorded: then a note says so, returned). ``report`` and
    ``compare`` (``command``) only compare. ``data.target_transform = "auto"`` is resolved
    on the data first (:func:`czar_gbdt.evaluation.resolve_target_transform`).

    Raises
    ------
    StudyError
        Naming the differing keys, and how to start a new study or go back to the old
        configuration.
    """
    if record is None:
        _resolve_transform(cfg)
    record = record or fingerprint.record(cfg)
    stored = study.user_attrs.get(fingerprint.ATTR)
    if stored is None:
        if command != "tune":
            return None
        study.set_user_attr(fingerprint.ATTR, record)
        if count_trials(study, states=None):
            return (f"study {study.study_name!r} was made before studies recorded their configuration: its "
                    f"trials are assumed to come from this config, which is recorded now.")
        return None
    diffs = fingerprint.record_differences(stored, record)
    if record["keys"].get("data.target_transform") == "auto":  # unresolved (the data did not load): not a reason
        diffs = [d for d in diffs if d[0] != "data.target_transform"]
    if not diffs:
        return None
    n = count_trials(study, states=None)
    source = f" ({cfg['_path']})" if cfg.get("_path") else ""
    if command == "tune":
        what = (f"its {n} trials were scored under another setting, and new trials would not be comparable "
                f"with them")
    else:
        what = f"`{command}` would rebuild its trials with values they were not scored with"
    raise StudyError(
        f"study.name {study.study_name!r}: the study{' in ' + url if url else ''} "
        f"was made with another configuration than this one{source}; {what}. Differing: "
        f"{fingerprint.describe(diffs)}. To start a new study with this configuration, give it a new "
        f"study.name; to use the old study, restore these values.")


def make_storage(cfg: dict, url: str | None = None) -> optuna.storages.RDBStorage:
    """An RDB storage with heartbeats and retry of trials whose worker died."""
    url = url or storage_url(cfg)
    study = cfg["study"]
    engine_kwargs = {"pool_pre_ping": True} if not url.startswith("sqlite") else {
        "connect_args": {"timeout": 60}}
    from sqlalchemy.exc import SQLAlchemyError

    # optuna marks heartbeats experimental; they are what makes a killed worker's trial
    # recoverable, so the warning is noise here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return _HeartbeatStorage(
                _with_driver(url),
                engine_kwargs=engine_kwargs,
                heartbeat_interval=study["heartbeat_interval"],
                grace_period=study["grace_period"],
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=study["max_retry"]),
            )
        except ImportError as exc:  # the database driver is missing
            cause = exc.__cause__ or exc
            extra = (" PostgreSQL needs the psycopg2 driver: pip install 'czar-gbdt[postgres]' (the postgres extra)."
                     if url.lower().startswith("postgres") else " Install the database driver this URL names.")
            raise StudyError(f"storage {url!r} (study.storage or --storage) cannot be opened: its database driver "
                             f"is not installed ({cause}).{extra}") from None
        except SQLAlchemyError as exc:  # a file that is not a database, a server that refuses, ...
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split()).split(" [SQL:")[0]
            damaged = ", or move the damaged file away" if url.lower().startswith("sqlite") else ""
            raise StudyError(f"storage {url!r} cannot be opened as a study storage ({type(exc).__name__}: {reason}); "
                             f"check study.storage (or --storage){damaged}.") from None


def _with_driver(url: str) -> str:
    """``postgresql://`` with the driver the ``postgres`` extra installs (psycopg2) when the URL
    names none: SQLAlchemy 2.1 defaults to psycopg 3 instead, which the extra does not install."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() == "postgresql":
        import importlib.util

        try:
            psycopg3 = importlib.util.find_spec("psycopg") is not None
        except (ImportError, ValueError):
            psycopg3 = False
        if not psycopg3:
            return f"postgresql+psycopg2://{rest}"
    return url


def trial_seed(seed: int, number: int) -> int:
    """The sampler seed of trial ``number`` of a study seeded ``seed`` (``study.seed``)."""
    return int(np.random.SeedSequence([int(seed), int(number)]).generate_state(1)[0])


class _TrialSeededSampler(optuna.samplers.BaseSampler):
    """A sampler made afresh for every trial, seeded from the study seed and the trial's number.

    A sampler seeded once per process restarts its sequence in every process: a resumed
    run, a run with a larger ``--trials``, a run after SIGKILL and two processes on one
    study would all draw the parameter sets already drawn. Trial numbers are handed out by
    the storage, one per trial, atomically: seeding from them gives every trial of a study
    its own draws, in any process, and the same study again when the same configuration
    runs from scratch. The samplers keep no state of their own between trials (TPE reads
    the finished trials from the storage), so nothing is lost by making one per trial.
    """

    def __init__(self, make: Callable[[int], optuna.samplers.BaseSampler], seed: int):
        self._make, self._seed = make, seed
        self._inner = make(seed)

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._inner = self._make(trial_seed(self._seed, trial.number))
        self._inner.before_trial(study, trial)

    def infer_relative_search_space(self, study, trial):
        return self._inner.infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._inner.sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._inner.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study, trial, state, values) -> None:
        self._inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._inner.reseed_rng()


def open_study(cfg: dict, storage: optuna.storages.BaseStorage | None = None, *,
               worker: int = 0) -> optuna.Study:
    """Create the study or load it if it exists (same name and storage).

    The sampler of each trial is seeded from ``study.seed`` and the trial's number
    (:func:`trial_seed`, :class:`_TrialSeededSampler`), whichever process or worker runs it:
    no process re-draws the parameters of a trial the study already holds, and the same
    configuration run from scratch gives the same study. ``worker`` is kept for callers.
    """
    study_cfg = cfg["study"]
    if study_cfg["sampler"] == "tpe":
        def make(seed: int) -> optuna.samplers.BaseSampler:
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=study_cfg["n_startup_trials"])
    else:
        def make(seed: int) -> optuna.samplers.BaseSampler:
            return optuna.samplers.RandomSampler(seed=seed)
    sampler = _TrialSeededSampler(make, study_cfg["seed"])
    if study_cfg["pruner"] == "median":
        pruner = optuna.pruners.MedianPruner(n_startup_trials=study_cfg["n_startup_trials"], n_warmup_steps=1)
    else:
        pruner = optuna.pruners.NopPruner()
    return optuna.create_study(
        storage=storage if storage is not None else make_storage(cfg),
        study_name=study_cfg["name"],
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )


def count_trials(study: optuna.Study, states=FINISHED) -> int:
    """Trials of ``study`` in ``states`` (default: the finished ones, which count towards ``n_trials``)."""
    return len(study.get_trials(deepcopy=False, states=states))


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    """The best completed trial.

    Raises
    ------
    StudyError
        When the study has no completed trial yet (the message counts its trials by state).
    """
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        states = {}
        for t in study.get_trials(deepcopy=False):
            states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
        held = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no trials"
        raise StudyError(f"study {study.study_name!r} has no completed trial yet ({held}): nothing to report; "
                         f"run or resume `czar-gbdt tune` with this config.")
    return study.best_trial


def trial_terms(study: optuna.Study, cfg: dict) -> tuple[pd.DataFrame | None, str]:
    """The per-date objective terms of every completed trial: ``(table, "")``, or ``(None, why)``.

    The table has one row per walk-forward date every completed trial holds and one column
    per trial (headed by its number, in number order): the T x N matrix of
    :mod:`czar_gbdt.selection`. ``why`` says in one sentence why there is none: an Allora
    objective (scored per fold, not per date), a study whose trials were scored before the
    terms were stored, fewer than two completed trials.
    """
    kind = cfg["study"]["objective"]
    if kind in ALLORA_OBJECTIVES:
        return None, (f"study.objective {kind!r} is scored per fold, not per date, so there are no per-date terms to "
                      f"measure the selection bias with")
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    missing = [t.number for t in done if TERMS_ATTR not in t.user_attrs]
    if missing:
        return None, (f"{len(missing)} of the {len(done)} completed trials were scored before trials stored their "
                      f"per-date terms (a study made by an older czar-gbdt)")
    if len(done) < 2:
        return None, f"the study holds {len(done)} completed trial; the selection bias needs at least 2"
    return selection.terms_matrix({t.number: selection.decode_terms(t.user_attrs[TERMS_ATTR]) for t in done}), ""


def trial_folds(trial: optuna.trial.FrozenTrial) -> pd.DataFrame:
    """The per-fold table the objective stored in ``trial`` (user attributes ``fold_0``, ``fold_1`` ...).

    Allora grades stored with the former eight-point table are re-graded on the current one
    (:func:`czar_gbdt.allora.allora_regrade`, which marks the rows it changed)."""
    rows = [trial.user_attrs[k] for k in sorted((k for k in trial.user_attrs if k.startswith("fold_")),
                                                 key=lambda k: int(k.split("_")[1]))]
    return pd.DataFrame([allora.allora_regrade(row) for row in rows])


def _suggest_value(trial: optuna.Trial, name: str, space: Any) -> Any:
    if isinstance(space, Range):
        if space.is_int:
            return trial.suggest_int(name, space.low, space.high, step=space.step or 1, log=space.log)
        return trial.suggest_float(name, float(space.low), float(space.high), log=space.log,
                                   step=None if space.log else space.step)
    if isinstance(space, Choices):
        return trial.suggest_categorical(name, list(space.choices))
    return space


def suggest_params(trial: optuna.Trial, cfg: dict) -> dict:
    """Concrete parameters of one trial: backend, booster parameters, loss name and parameters,
    boosting rounds and early stopping rounds.

    Parameter names in the study are prefixed (``model.learning_rate``,
    ``czar.alpha``) so that losses sharing a parameter name keep separate distributions;
    the rounds, when searched, are ``model.num_boost_round`` and ``model.early_stopping_rounds``.
    """
    rounds = {name: _suggest_value(trial, f"model.{name}", cfg["model"][name])
              for name in ("num_boost_round", "early_stopping_rounds")}
    backend = _suggest_value(trial, "model.backend", cfg["model"]["backend"])
    booster = {name: _suggest_value(trial, f"model.{name}", space)
               for name, space in cfg["model"]["params"].items()}
    loss = _suggest_value(trial, "loss.name", cfg["loss"]["name"])  # a name or an import path
    table = loss_name(loss)  # the parameter table: [loss.<registered name>]
    loss_params = {name: _suggest_value(trial, f"{table}.{name}", space)
                   for name, space in cfg["loss"].get(table, {}).items()}
    return {"backend": backend, "booster": booster, "loss": loss, "loss_params": loss_params, **rounds}


def fixed_params(trial: optuna.trial.FrozenTrial, cfg: dict) -> dict:
    """The parameters of a finished trial, rebuilt the way :func:`suggest_params` made them."""
    fixed = optuna.trial.FixedTrial(dict(trial.params))
    try:
        return suggest_params(fixed, cfg)
    except ValueError as exc:  # a parameter the config searches that the trial does not hold
        raise StudyError(f"trial {trial.number} cannot be rebuilt with this configuration ({exc}); it was made "
                         f"with another search space: use the config the study was made with.") from None


@dataclass(frozen=True)
class StudyCzar:
    """The best completed CZAR trial of a study, as ``compare --study`` uses it.

    Attributes
    ----------
    params : dict
        Its CZAR parameters (as tuned or fixed in the study).
    source : str
        ``"study <name>, trial <n>"``.
    tuned : tuple of str or None
        The CZAR parameters the study searched (None when unknown: a ``best_params.json``
        written before it recorded them).
    booster : dict
        The trial's booster parameters, backend and boosting rounds (what ``compare``,
        which trains every model with the same booster, does not take).
    """

    params: dict
    source: str
    tuned: tuple | None
    booster: dict


def best_czar_params(ref: str | Path, key: str = "compare.study") -> tuple[dict, str]:
    """The CZAR parameters of the best CZAR trial of a tuning study: ``(params, source)``.

    See :func:`best_czar_trial`, which also says which parameters were tuned.
    """
    best = best_czar_trial(ref, key)
    return best.params, best.source


def best_czar_trial(ref: str | Path, key: str = "compare.study") -> StudyCzar:
    """The best CZAR trial of a tuning study: its CZAR parameters, which of them were tuned, its booster.

    Parameters
    ----------
    ref : str or Path
        ``best_params.json`` written by ``czar-gbdt tune`` (its best trial must be a
        CZAR trial), or the study's TOML config: then the study is opened read-only from
        its storage (after checking that the config is the one the study was made with,
        :func:`check_fingerprint`) and the best *completed CZAR* trial is taken (a study
        that also searched other losses may have a better non-CZAR trial).
    key : str
        The option or config key named in errors.

    Returns
    -------
    StudyCzar

    Raises
    ------
    ConfigError
        If the file or the study does not exist, holds no completed CZAR trial, or was
        made with another configuration than the TOML file (:class:`StudyError`).
    """
    path = Path(ref)
    if not path.is_file():
        raise ConfigError(f"{key}: {str(ref)!r} is not a file (give best_params.json or the study's TOML config).")
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text())
            best = data["best_params"]
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{key}: {str(ref)!r} is not a best_params.json written by `czar-gbdt tune`.") from None
        if best.get("loss") != "czar":
            raise ConfigError(f"{key}: the best trial in {str(ref)!r} used loss {best.get('loss')!r}, not czar; "
                              "give the study's TOML config to take its best CZAR trial.")
        searched = data.get("searched")
        tuned = None if searched is None else tuple(k.split(".", 1)[1] for k in searched if k.startswith("czar."))
        return StudyCzar(dict(best.get("loss_params", {})),
                         f"study {data.get('study', path.stem)}, trial {data.get('best_trial')}", tuned,
                         _booster_of(best))
    if path.suffix == ".toml":
        return _best_czar_trial(path, key)
    raise ConfigError(f"{key}: {str(ref)!r} must be a .json (best_params.json) or a .toml study config.")


def _booster_of(params: dict) -> dict:
    """The booster part of a trial's parameters (:func:`suggest_params`)."""
    return {k: params[k] for k in ("backend", "booster", "num_boost_round", "early_stopping_rounds") if k in params}


def _best_czar_trial(path: Path, key: str) -> StudyCzar:
    """The best completed CZAR trial of the study a TOML config describes (read-only: creates nothing)."""
    study_cfg = load_config(path)
    url = storage_url(study_cfg, create=False)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        raise ConfigError(f"{key}: the study of {str(path)!r} has no storage yet ({url}): run "
                          f"`czar-gbdt tune --config {path}` first.")
    name = study_cfg["study"]["name"]
    try:
        study = optuna.load_study(study_name=name, storage=url)
    except KeyError:
        raise ConfigError(f"{key}: no study named {name!r} in {url}: run `czar-gbdt tune --config {path}` "
                          "first.") from None
    try:
        check_fingerprint(study, study_cfg, "compare --study", url=url)
    except StudyError as exc:
        raise StudyError(f"{key} {str(path)!r}: {exc}") from None
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    for trial in sorted(done, key=lambda t: t.value, reverse=True):
        params = fixed_params(trial, study_cfg)
        if params["loss"] == "czar":
            tuned = tuple(k.split(".", 1)[1] for k in trial.params if k.startswith("czar."))
            return StudyCzar(dict(params["loss_params"]), f"study {name}, trial {trial.number}", tuned,
                             _booster_of(params))
    raise ConfigError(f"{key}: study {name!r} has no completed CZAR trial.")


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


def make_objective(cfg: dict) -> Callable[[optuna.Trial], float]:
    """The optuna objective of a configuration: walk-forward rank IC (or ICIR, or an Allora score) over the folds.

    Each trial draws its parameters with :func:`suggest_params`, the boosting and early
    stopping rounds included (fixed or searched: one source). The rank IC is the one
    :func:`czar_gbdt.evaluation.scoring` picks: across assets per date, or the time-series
    rank IC of each test window for one series (or ``study.objective = "ts_rank_ic"``).
    After each fold the running value is reported as one step and ``should_prune()``
    checked; per-fold figures are stored as user attributes (read back by
    :func:`trial_folds`). The holdout is never used.
    """
    kind = cfg["study"]["objective"]
    engine = cluster.engine(cfg)  # this process, or a Dask cluster ([cluster])
    panel = engine.load_data(cfg)  # once: every trial of this process scores the same data, even if the file changes
    resolve_target_transform(cfg, panel)  # "auto": raw for one series, demean for a cross-section
    how = scoring(cfg, panel)

    def objective(trial: optuna.Trial) -> float:
        params = suggest_params(trial, cfg)
        loss = get_loss(params["loss"], **params["loss_params"])
        rows: list[dict] = []

        def on_fold(i: int, row: dict, per_date: pd.Series) -> None:
            rows.append(row)
            trial.set_user_attr(f"fold_{i}", {k: (iso_date(v) if isinstance(v, pd.Timestamp) else v)
                                              for k, v in row.items()})
            trial.report(objective_value(per_date, kind, rows), i)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after fold {i}")

        try:
            result = engine.walk_forward(panel, make_splitter(cfg), backend=params["backend"],
                                         booster_params=params["booster"], loss=loss,
                                         num_boost_round=params["num_boost_round"],
                                         early_stopping_rounds=params["early_stopping_rounds"],
                                         target_transform=cfg["data"]["target_transform"], seed=cfg["study"]["seed"],
                                         on_fold=on_fold, time_series=how.time_series,
                                         allora=kind in ALLORA_OBJECTIVES, **book(cfg))
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


class _TrialFailed(Exception):
    """A trial's error, recorded in the trial: optuna marks the trial failed and the study goes on."""


class _QuietFailures(logging.Filter):
    """Drop optuna's "Trial N failed ..." log records (with their traceback): the tuner reports a
    failed trial in one line itself, and keeps the traceback in the trial."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not (msg.startswith("Trial ") and " failed " in msg)


@contextlib.contextmanager
def _quiet_failures():
    log = logging.getLogger("optuna.study._optimize")  # the logger of optuna's failed-trial messages
    quiet = _QuietFailures()
    log.addFilter(quiet)
    try:
        yield
    finally:
        log.removeFilter(quiet)


def _worker_loop(cfg: dict, url: str, n_trials: int, objective: Callable[[optuna.Trial], float],
                 worker: int = 0, echo: Callable[[str], None] | None = None) -> None:
    """Run trials until the study holds ``n_trials`` finished ones.

    A trial that raises is marked failed, with the error and its traceback as user
    attributes (``error``, ``traceback``), and reported in one line through ``echo``. An
    error of :data:`REPEATING_ERRORS`, or the same error twice in a row, stops the study:
    :class:`StudyStopped` (recorded in the study, so that the other workers stop too).
    """
    storage = make_storage(cfg, url)
    study = open_study(cfg, storage, worker=worker)
    last: list[str] = []
    duplicates = [0]  # draws in a row that repeated a held parameter set

    def guarded(trial: optuna.Trial) -> float:
        # Two workers may both have seen one free slot: the trial numbers decide who runs.
        # Trials that are neither failed nor surplus and come before this one take slots.
        before = [t for t in study.get_trials(deepcopy=False)
                  if t.number < trial.number and t.state in (*FINISHED, TrialState.RUNNING, TrialState.WAITING)
                  and not t.user_attrs.get("surplus")]
        if len(before) >= n_trials:
            trial.set_user_attr("surplus", True)
            raise SurplusTrial(f"trial {trial.number}: the study already has {n_trials} trials")
        trial.set_user_attr("worker_pid", os.getpid())  # which process runs it (heartbeats say whether it lives)
        try:
            if duplicates[0] < MAX_DUPLICATE_DRAWS:
                same = _duplicate_of(study, trial, cfg)
                if same is not None:
                    duplicates[0] += 1
                    trial.set_user_attr("duplicate_of", same)
                    if duplicates[0] == MAX_DUPLICATE_DRAWS and echo is not None:
                        echo(f"{MAX_DUPLICATE_DRAWS} draws in a row repeated parameter sets the study holds: the "
                             f"search space seems to hold fewer distinct sets than the trials asked for, so "
                             f"parameter sets may now repeat.")
                    raise DuplicateTrial(f"trial {trial.number} drew the parameters of trial {same}")
                duplicates[0] = 0
            return objective(trial)
        except (optuna.TrialPruned, SurplusTrial, RetryTrial, DuplicateTrial):
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            trial.set_user_attr("error", error)
            trial.set_user_attr("traceback", traceback.format_exc())
            repeating = isinstance(exc, REPEATING_ERRORS)
            if repeating or last == [error]:
                why = ("it does not depend on the trial's parameters" if repeating else
                       "the trial before failed with the same error")
                message = (f"trial {trial.number} failed with {error}; {why}, so every trial would fail: the study "
                           f"is stopped (its completed trials are kept). The traceback is in the trial's user "
                           f"attribute 'traceback'.")
                study.set_user_attr(_STOPPED, {"message": message,
                                               "usage": isinstance(exc, (ConfigError, DataError))})
                raise StudyStopped(message, usage=isinstance(exc, (ConfigError, DataError))) from None
            last[:] = [error]
            if echo is not None:
                echo(f"trial {trial.number} failed: {error} (the study goes on; the traceback is in the trial's "
                     f"user attribute 'traceback')")
            raise _TrialFailed(error) from None

    with _quiet_failures():
        while True:
            stopped = study.user_attrs.get(_STOPPED)
            if stopped:  # another worker stopped the study
                return
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
            finished = count_trials(study)
            running = count_trials(study, (TrialState.RUNNING,))
            if finished >= n_trials:
                return
            if finished + running >= n_trials:
                # every remaining slot is taken by a running trial: wait, in case its worker dies.
                # A WAITING trial (the retry of a dead worker's trial) takes no slot here: the next
                # ``optimize`` pops and runs it, so counting it as live would wait for ever.
                time.sleep(min(1.0, cfg["study"]["heartbeat_interval"]))
                continue
            study.optimize(guarded, n_trials=1, catch=(SurplusTrial, _TrialFailed, RetryTrial, DuplicateTrial),
                           gc_after_trial=False,
                           callbacks=[_retry(cfg)])


def _retry(cfg: dict) -> Callable[[optuna.Study, optuna.trial.FrozenTrial], None]:
    """After a trial that raised :class:`RetryTrial` (and was failed): queue its parameters again,
    at most ``study.max_retry`` times, as for a trial whose worker died."""
    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.state == TrialState.FAIL and "retry_reason" in trial.user_attrs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=cfg["study"]["max_retry"])(study, trial)

    return callback


def run_worker(cfg: dict, url: str, n_trials: int, objective_factory: Callable | None = None,
               worker: int = 0, n_workers: int = 1) -> None:
    """Entry point of a worker process (spawned, so module state starts fresh): run trials of
    the study at ``url`` until it holds ``n_trials`` finished ones.

    The numba kernels' threads are shared out between the workers on this machine
    (``cpu_count // n_workers``, at least 1): N workers each running numba's default of
    one thread per core oversubscribe the cores and run slower than a single worker
    (``bench/tuning.py``; figures in ``bench/RESULTS.md``).
    """
    share_threads(n_workers)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        objective = (objective_factory or make_objective)(cfg)
        _worker_loop(cfg, url, n_trials, objective, worker, echo=_stderr)
    except KeyboardInterrupt:  # Ctrl-C reaches every worker: the parent says it once
        sys.exit(130)
    except StudyStopped:  # recorded in the study: the parent reports it
        sys.exit(3)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _best(study: optuna.Study) -> float | None:
    """The best value of the study's completed trials, or None before the first."""
    values = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if t.value is not None]
    if not values:
        return None
    return max(values) if study.direction == optuna.study.StudyDirection.MAXIMIZE else min(values)


def _progress(study: optuna.Study, total: int, stop: threading.Event, ready: threading.Event,
              objective: str) -> None:
    """The progress of ``tune`` on stderr, until ``stop`` is set.

    While the kernels compile (``ready`` not yet set after 3 s, as :func:`~czar_gbdt.evaluation.warm_up`
    waits before it says so) it says "compiling
    kernels (first run only)" and the time so far. Then a bar of finished trials with the
    best value so far; its time estimate comes from the trials after the first one of this
    run (the first pays for loading the data and warming the caches, and would make the
    estimate of every later trial too long), so the bar shows no estimate until that trial
    ends.
    """
    from tqdm import tqdm

    if not ready.wait(3.0):
        with tqdm(desc="compiling kernels (first run only)", bar_format="{desc} [{elapsed}]", leave=False) as bar:
            while not ready.wait(0.5) and not stop.is_set():
                bar.refresh()
    if stop.is_set():
        return
    start = min(count_trials(study), total)
    first = tqdm(total=total, initial=start, desc="trials", unit="trial", dynamic_ncols=True, leave=False,
                 bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, estimate after the first trial]")
    bar = None
    try:
        while True:
            last = stop.is_set()  # read before counting: the last pass counts every trial of the run
            done = min(count_trials(study), total)
            if bar is None and (done > start or last):
                first.close()  # the first trial of this run is done: estimate from here on
                bar = tqdm(total=total, initial=done, desc="trials", unit="trial", dynamic_ncols=True)
            current = bar or first
            current.update(max(0, done - current.n))
            best = _best(study)
            if best is not None:
                current.set_postfix_str(f"best {objective} {best:.4f}", refresh=False)
            current.refresh()
            if last:
                return
            stop.wait(1.0)
    finally:
        first.close()
        if bar is not None:
            bar.close()


def search_losses(cfg: dict) -> list:
    """Every loss the search may pick, with its default parameters (what the data check needs:
    whether a loss needs a per-row ``std``, and its kernels to compile)."""
    space = cfg["loss"]["name"]
    names = space.choices if isinstance(space, Choices) else (space,)
    return [get_loss(name) for name in names]


def tune(config: dict | str | os.PathLike, *, storage: str | None = None, workers: int = 1,
         n_trials: int | None = None, show_progress: bool = True,
         objective_factory: Callable[[dict], Callable[[optuna.Trial], float]] | None = None,
         echo: Callable[[str], None] | None = None) -> optuna.Study:
    """Run (or resume) the study described by ``config`` and return it.

    Before anything is created in the storage, the data is loaded and checked
    (:func:`czar_gbdt.evaluation.prepare_data`, with the default objective) and the
    configuration's fingerprint is computed; an existing study is resumed only when its
    fingerprint matches (:func:`check_fingerprint`).

    Parameters
    ----------
    config : dict or path
        A validated configuration (:func:`czar_gbdt.config.load_config`) or a TOML path.
    storage : str, optional
        SQLAlchemy URL overriding ``study.storage`` (journal storage is refused: it keeps no
        heartbeats).
    workers : int, default 1
        Worker processes sharing the study. More than one requires a client-server
        database: SQLite is refused.
    n_trials : int, optional
        Total finished trials the study should hold (overrides ``study.n_trials``).
    show_progress : bool, default True
        A progress bar of finished trials on stderr.
    objective_factory : callable, optional
        ``factory(cfg) -> objective(trial)``; the default is :func:`make_objective`, the
        walk-forward rank IC objective. Must be picklable (a module-level function) when
        ``workers > 1``.
    echo : callable, optional
        Called with one line per event worth telling (the storage, a note on resuming,
        compiling the kernels, a failed trial); the command line prints them on stderr.

    Returns
    -------
    optuna.Study

    Raises
    ------
    DataError
        For data the configuration cannot run on (before the storage is touched).
    StudyError
        When the study exists with another configuration.
    StudyStopped
        When trials fail for a reason that would repeat in every trial.
    """
    cfg = load_config(config) if not isinstance(config, dict) else config
    if storage:
        check_storage_url(storage, "storage")
        cfg = {**cfg, "study": {**cfg["study"], "storage": storage}}
    if workers < 1:
        raise ConfigError(f"workers must be >= 1; got {workers}.")
    total = n_trials if n_trials is not None else cfg["study"]["n_trials"]
    if total < 1:
        raise ConfigError(f"n_trials must be >= 1; got {total}.")
    url = storage_url(cfg, create=False)
    if workers > 1 and url.startswith("sqlite"):
        raise ConfigError(
            f"workers={workers} needs a storage that serves concurrent writers (PostgreSQL or MySQL URL in "
            f"study.storage or --storage); SQLite ({url}) is not safe for parallel workers.")
    say = echo or (lambda line: None)
    losses = search_losses(cfg)
    if objective_factory is None:
        cluster.engine(cfg).prepare_data(cfg, losses)  # every data error before the storage is touched
    else:  # a given objective checks no data, but the study records the transform it would use
        _resolve_transform(cfg)
    record = fingerprint.record(cfg)
    make_runs_dir(cfg)  # the outputs go there whatever the storage: refused before a study exists
    url = storage_url(cfg)
    study = open_study(cfg, make_storage(cfg, url))
    note = check_fingerprint(study, cfg, "tune", url=url, record=record)
    say(f"study {study.study_name!r} in {url}")
    if note:
        say(note)
    if study.user_attrs.get(_STOPPED):
        study.set_user_attr(_STOPPED, None)  # stopped by an earlier run: this run tries again
    held = count_trials(study)
    if held >= total:
        say(f"the study already holds {held} finished trials, and {total} were asked for "
            f"({'--trials' if n_trials is not None else 'study.n_trials'} is the total the study should hold, not a "
            f"number to add): nothing to run.")
    elif held:
        say(f"resuming: the study holds {held} finished trials; running {total - held} more.")
    stop, ready = threading.Event(), threading.Event()
    # nothing to run, nothing to draw
    bar = threading.Thread(target=_progress, args=(study, total, stop, ready, cfg["study"]["objective"]),
                           daemon=True) if show_progress and held < total else None
    if bar is not None:
        bar.start()
    try:
        if objective_factory is None and held < total:
            backend = cfg["model"]["backend"]
            stopping = cfg["model"]["early_stopping_rounds"]
            warm_up(losses, backend.choices if isinstance(backend, Choices) else (backend,),
                    early_stopping=any(v > 0 for v in (stopping.choices if isinstance(stopping, Choices) else
                                                       (stopping.high,) if isinstance(stopping, Range) else
                                                       (stopping,))),
                    on_slow=None if bar is not None else say)  # the bar says it
        ready.set()
        if workers == 1:
            objective = (objective_factory or make_objective)(cfg)
            _worker_loop(cfg, url, total, objective, echo=echo)
        else:
            ctx = multiprocessing.get_context("spawn")
            procs = [ctx.Process(target=run_worker, args=(cfg, url, total, objective_factory, i, workers),
                                 name=f"czar-gbdt-worker-{i}") for i in range(workers)]
            try:
                for p in procs:
                    p.start()
                for p in procs:
                    p.join()
            finally:  # interrupted (Ctrl-C): stop the workers; their RUNNING trials are retried on resume
                for p in procs:
                    if p.is_alive():
                        p.terminate()
                        p.join()
            stopped = study.user_attrs.get(_STOPPED)
            if stopped:
                raise StudyStopped(stopped["message"], usage=stopped["usage"])
            bad = [p.exitcode for p in procs if p.exitcode != 0]
            if bad:
                raise RuntimeError(f"{len(bad)} worker(s) exited with codes {bad}; the study is kept and "
                                   f"re-running the same command resumes it.")
    finally:
        ready.set()
        stop.set()
        if bar is not None:
            bar.join()
    return study

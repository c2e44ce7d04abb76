"""``tune``: run or resume the study a configuration describes, in this process or in workers.

One named step each, in the order :func:`tune` takes them: check the request
(:func:`_check_request`), check the data and open the study (:func:`_open_study`), say what
the study holds (:func:`_held`), compile the kernels (:func:`_warm_up`), then run the trials
(:func:`_optimize`: here, or in spawned workers).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import optuna

from .. import cluster, fingerprint
from ..config import Choices, Config, ConfigError, Range, as_config, check_storage_url, load_config
from ..evaluation import resolve_config, warm_up
from .objective import STOPPED, ObjectiveFactory, StudyStopped, make_objective
from .progress import report_progress
from .space import search_losses
from .storage import make_runs_dir, make_storage, storage_url
from .studies import check_fingerprint, count_trials, open_study, resolve_auto_transform, with_storage
from .workers import spawn_workers, worker_loop

__all__ = ["tune"]


def tune(
    config: Config | dict | str | os.PathLike,
    *,
    storage: str | None = None,
    workers: int = 1,
    n_trials: int | None = None,
    show_progress: bool = True,
    objective_factory: ObjectiveFactory | None = None,
    echo: Callable[[str], None] | None = None,
) -> optuna.Study:
    """Run (or resume) the study described by ``config`` and return it.

    Before anything is created in the storage, the data is loaded and checked
    (:func:`czar_gbdt.evaluation.prepare_data`, with the default objective) and the
    configuration's fingerprint is computed; an existing study is resumed only when its
    fingerprint matches (:func:`check_fingerprint`).

    Parameters
    ----------
    config : Config, dict or path
        A configuration (:func:`czar_gbdt.config.load`), a validated one as a dict
        (:func:`czar_gbdt.config.load_config`) or a TOML path.
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
        ``workers > 1``. ``cfg`` is ``config`` with this call's settings in it (the storage,
        the resolved ``data.target_transform``): a dict if ``config`` is one (keeping any
        extra keys a test's factory reads), else a Config.
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
    given = config if isinstance(config, (Config, dict)) else load_config(config)
    cfg, total = _check_request(as_config(given), storage, workers, n_trials)
    say = echo or (lambda line: None)
    losses = search_losses(cfg)
    study, url, cfg = _open_study(cfg, losses, objective_factory, say)
    held = _held(study, total, n_trials, say)
    stop, ready = threading.Event(), threading.Event()
    # nothing to run, nothing to draw
    bar = (
        threading.Thread(target=report_progress, args=(study, total, stop, ready, cfg.study.objective), daemon=True)
        if show_progress and held < total
        else None
    )
    if bar is not None:
        bar.start()
    try:
        if objective_factory is None and held < total:
            _warm_up(cfg, losses, on_slow=None if bar is not None else say)  # the bar says it
        ready.set()
        _optimize(_factory_config(given, cfg), url, total, workers, objective_factory, echo, study)
    finally:
        ready.set()
        stop.set()
        if bar is not None:
            bar.join()
    return study


def _check_request(cfg: Config, storage: str | None, workers: int, n_trials: int | None) -> tuple[Config, int]:
    """The configuration with ``storage`` in it, and the total number of trials asked for; a
    request that cannot run is refused before anything is loaded (ConfigError)."""
    if storage:
        check_storage_url(storage, "storage")
        cfg = with_storage(cfg, storage)
    if workers < 1:
        raise ConfigError(f"workers must be >= 1; got {workers}.")
    total = n_trials if n_trials is not None else cfg.study.n_trials
    if total < 1:
        raise ConfigError(f"n_trials must be >= 1; got {total}.")
    url = storage_url(cfg, create=False)
    if workers > 1 and url.startswith("sqlite"):
        raise ConfigError(
            f"workers={workers} needs a storage that serves concurrent writers (PostgreSQL or MySQL URL in "
            f"study.storage or --storage); SQLite ({url}) is not safe for parallel workers."
        )
    return cfg, total


def _open_study(
    cfg: Config, losses: list, objective_factory: ObjectiveFactory | None, say: Callable[[str], None]
) -> tuple[optuna.Study, str, Config]:
    """The study of ``cfg`` (created or loaded), its storage URL and ``cfg`` with ``data.target_transform``
    resolved on the data, once the data is checked and the study's fingerprint matches: bad data or
    another configuration creates nothing."""
    if objective_factory is None:
        panel = cluster.engine(cfg).prepare_data(cfg, losses)  # every data error before the storage is touched
        cfg = resolve_config(cfg, panel)
    else:  # a given objective checks no data, but the study records the transform it would use
        cfg = resolve_auto_transform(cfg)
    record = fingerprint.record(cfg)
    make_runs_dir(cfg)  # the outputs go there whatever the storage: refused before a study exists
    url = storage_url(cfg)
    study = open_study(cfg, make_storage(cfg, url))
    note = check_fingerprint(study, cfg, "tune", url=url, record=record)
    say(f"study {study.study_name!r} in {url}")
    if note:
        say(note)
    if study.user_attrs.get(STOPPED):
        study.set_user_attr(STOPPED, None)  # stopped by an earlier run: this run tries again
    return study, url, cfg


def _factory_config(given: Config | dict, cfg: Config) -> Any:
    """What the objective factory and the workers get: ``cfg`` (the request's storage and the resolved
    transform in it), as a dict with the extra keys of ``given`` when ``given`` is one (a test's
    factory reads its own keys there), else as it is."""
    return {**given, **cfg.to_dict()} if isinstance(given, dict) else cfg


def _held(study: optuna.Study, total: int, n_trials: int | None, say: Callable[[str], None]) -> int:
    """The finished trials the study holds; says when there is nothing to run, or how many more run."""
    held = count_trials(study)
    if held >= total:
        say(
            f"the study already holds {held} finished trials, and {total} were asked for "
            f"({'--trials' if n_trials is not None else 'study.n_trials'} is the total the study should hold, not a "
            f"number to add): nothing to run."
        )
    elif held:
        say(f"resuming: the study holds {held} finished trials; running {total - held} more.")
    return held


def _warm_up(cfg: Config, losses: list, on_slow: Callable[[str], None] | None) -> None:
    """Compile the kernels of every loss and backend the search may pick, before the first trial
    (:func:`czar_gbdt.evaluation.warm_up`)."""
    backend = cfg.model.backend
    stopping = cfg.model.early_stopping_rounds  # None: no early stopping
    warm_up(
        losses,
        backend.choices if isinstance(backend, Choices) else (backend,),
        early_stopping=any(
            v > 0
            for v in (
                stopping.choices
                if isinstance(stopping, Choices)
                else (stopping.high,)
                if isinstance(stopping, Range)
                else ()
                if stopping is None
                else (stopping,)
            )
        ),
        on_slow=on_slow,
    )


def _optimize(
    cfg: Any,
    url: str,
    total: int,
    workers: int,
    objective_factory: ObjectiveFactory | None,
    echo: Callable[[str], None] | None,
    study: optuna.Study,
) -> None:
    """Run trials until the study holds ``total`` finished ones: in this process, or in ``workers``
    spawned processes; ``cfg`` is what the objective factory gets (:func:`_factory_config`)."""
    if workers == 1:
        _optimize_here(cfg, url, total, objective_factory, echo)
    else:
        _optimize_in_workers(cfg, url, total, objective_factory, workers, study)


def _optimize_here(
    cfg: Any, url: str, total: int, objective_factory: ObjectiveFactory | None, echo: Callable[[str], None] | None
) -> None:
    """The trials run in this process (``workers = 1``)."""
    objective = (objective_factory or make_objective)(cfg)
    worker_loop(cfg, url, total, objective, echo=echo)


def _optimize_in_workers(
    cfg: Any, url: str, total: int, objective_factory: ObjectiveFactory | None, workers: int, study: optuna.Study
) -> None:
    """The trials run in ``workers`` spawned processes; a study a worker stopped raises
    :class:`~czar_gbdt.tuning.objective.StudyStopped` here, a worker that failed otherwise a RuntimeError."""
    codes = spawn_workers(cfg, url, total, objective_factory, workers)
    stopped = study.user_attrs.get(STOPPED)
    if stopped:
        raise StudyStopped(stopped["message"], usage=stopped["usage"])
    bad = [code for code in codes if code != 0]
    if bad:
        raise RuntimeError(
            f"{len(bad)} worker(s) exited with codes {bad}; the study is kept and "
            f"re-running the same command resumes it."
        )

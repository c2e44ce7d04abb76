"""The processes that run trials: the loop of one process, the worker processes tune spawns.

Every process, the one that called :func:`~czar_gbdt.tuning.tune` or a spawned worker,
runs :func:`worker_loop` on one storage until the study holds ``n_trials`` finished
trials; they share out the slots through the storage (:class:`~czar_gbdt.tuning.objective.GuardedObjective`).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import TrialState

from .._jit import share_threads
from ..config import Config, as_config
from .objective import (
    STOPPED,
    DuplicateTrial,
    GuardedObjective,
    Objective,
    ObjectiveFactory,
    RetryTrial,
    StudyStopped,
    SurplusTrial,
    TrialFailed,
    make_objective,
    retry_callback,
)
from .storage import make_storage
from .studies import count_trials, open_study

__all__ = ["worker_loop", "run_worker", "spawn_workers"]


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


def worker_loop(
    cfg: Config | dict,
    url: str,
    n_trials: int,
    objective: Objective,
    worker: int = 0,
    echo: Callable[[str], None] | None = None,
) -> None:
    """Run trials until the study holds ``n_trials`` finished ones, each under the study's failure
    policy (:class:`~czar_gbdt.tuning.objective.GuardedObjective`): a failed trial is reported
    in one line through ``echo``, and an error that would repeat in every trial raises
    :class:`~czar_gbdt.tuning.objective.StudyStopped` (recorded in the study, so that the
    other workers stop too).
    """
    cfg = as_config(cfg)
    storage = make_storage(cfg, url)
    study = open_study(cfg, storage, worker=worker)
    guarded = GuardedObjective(objective, study, cfg, n_trials, echo)
    with _quiet_failures():
        while True:
            stopped = study.user_attrs.get(STOPPED)
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
                time.sleep(min(1.0, cfg.study.heartbeat_interval))
                continue
            study.optimize(
                guarded,
                n_trials=1,
                catch=(SurplusTrial, TrialFailed, RetryTrial, DuplicateTrial),
                gc_after_trial=False,
                callbacks=[retry_callback(cfg)],
            )


def run_worker(
    cfg: Any,
    url: str,
    n_trials: int,
    objective_factory: ObjectiveFactory | None = None,
    worker: int = 0,
    n_workers: int = 1,
) -> None:
    """Entry point of a worker process (spawned, so module state starts fresh): run trials of
    the study at ``url`` until it holds ``n_trials`` finished ones.

    ``cfg`` (a :class:`~czar_gbdt.config.Config` or the validated dict) is given as it is to
    ``objective_factory`` (a dict keeps any extra keys a test's factory reads).

    The numba kernels' threads are shared out between the workers on this machine
    (``cpu_count // n_workers``, at least 1): N workers each running numba's default of
    one thread per core oversubscribe the cores and run slower than a single worker
    (``bench/tuning.py``; figures in ``bench/RESULTS.md``).
    """
    share_threads(n_workers)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        objective = (objective_factory or make_objective)(cfg)
        worker_loop(cfg, url, n_trials, objective, worker, echo=_stderr)
    except KeyboardInterrupt:  # Ctrl-C reaches every worker: the parent says it once
        sys.exit(130)
    except StudyStopped:  # recorded in the study: the parent reports it
        sys.exit(3)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def spawn_workers(
    cfg: Any, url: str, n_trials: int, objective_factory: ObjectiveFactory | None, n_workers: int
) -> list[int]:
    """Run :func:`run_worker` in ``n_workers`` spawned processes until they end; return their exit codes.

    ``cfg`` is what :func:`run_worker` gets (pickled: a Config or a dict).

    Interrupted (Ctrl-C), the workers still running are stopped: their RUNNING trials are
    retried on resume.
    """
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=run_worker, args=(cfg, url, n_trials, objective_factory, i, n_workers), name=f"czar-gbdt-worker-{i}"
        )
        for i in range(n_workers)
    ]
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
    return [p.exitcode for p in procs]

"""Where a study lives: its storage URL, the SQLite file or database server, heartbeats, the runs folder.

The storage is a SQLite file under ``study.runs_dir`` by default, or any SQLAlchemy URL
(:func:`storage_url`). Every storage is an RDB storage with heartbeats (:func:`make_storage`):
a trial whose worker died stops beating, and after ``grace_period`` seconds it is failed and
its parameters queued again.
"""

from __future__ import annotations

import os
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from ..config import Config, ConfigError, as_config

__all__ = ["StudyError", "storage_url", "make_runs_dir", "output_dir", "make_storage"]


class StudyError(ConfigError):
    """A study that cannot be used as asked (missing, without a completed trial, or made with
    another configuration): a usage error, exit code 2 from the command line."""


class _HeartbeatStorage(optuna.storages.RDBStorage):
    """RDBStorage that also fails trials whose worker died before its first heartbeat.

    optuna creates the trial (RUNNING) and only then starts the heartbeat thread; a worker
    killed in between leaves a RUNNING trial with no heartbeat row, which optuna never
    considers stale, so the study would wait for it for ever. Such a trial is stale once
    it started more than ``grace_period`` seconds ago (by the client clock that wrote
    ``datetime_start``).
    """

    def __init__(self, url: str, **kwargs: Any):
        super().__init__(url, **kwargs)
        _write_ahead(self.engine)

    def __setstate__(self, state: dict) -> None:  # a copy in another process builds its own engine
        super().__setstate__(state)
        _write_ahead(self.engine)

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        stale = super()._get_stale_trial_ids(study_id)
        grace = self.grace_period if self.grace_period is not None else 2 * self.heartbeat_interval
        cutoff = datetime.now() - timedelta(seconds=grace)
        with _create_scoped_session(self.scoped_session) as session:
            running = (
                session.query(models.TrialModel)
                .outerjoin(models.TrialHeartbeatModel)
                .filter(
                    models.TrialModel.study_id == study_id,
                    models.TrialModel.state == TrialState.RUNNING,
                    models.TrialHeartbeatModel.trial_heartbeat_id.is_(None),
                )
                .all()
            )
            # ``datetime_start`` is local naive time whichever way the optuna version stores it
            silent = [t.trial_id for t in running if t.datetime_start is not None and t.datetime_start < cutoff]
        return stale + [trial_id for trial_id in silent if trial_id not in stale]


def storage_url(cfg: Config | dict, *, create: bool = True) -> str:
    """The study's storage URL: ``study.storage`` or a SQLite file under ``study.runs_dir``
    (whose folder is created unless ``create`` is false)."""
    cfg = as_config(cfg)
    url = cfg.study.storage
    if url is not None:
        sqlite_file = _sqlite_file(url)
        if create and sqlite_file is not None:  # optuna does not create the folder of a SQLite file
            _make_folder(sqlite_file.parent, f"study.storage (or --storage) {url!r}: the folder of the SQLite file")
        return url
    runs = Path(cfg.study.runs_dir)
    if create:
        make_runs_dir(cfg)
    return f"sqlite:///{runs / (cfg.study.name + '.db')}"


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``sqlite:///relative.db``, ``sqlite:////absolute.db``), else None."""
    if not url.lower().startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def _make_folder(folder: Path, what: str) -> None:
    """Create ``folder`` (and its parents), or say in one line why it cannot be (exit code 2)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudyError(
            f"{what} cannot be created: {folder} ({type(exc).__name__}: {exc.strerror or exc}); "
            f"choose a folder that can be written."
        ) from None
    if not os.access(folder, os.W_OK):
        raise StudyError(f"{what} cannot be written: {folder}; choose a folder that can be written.")


def make_runs_dir(cfg: Config | dict) -> Path:
    """Create ``study.runs_dir`` (the default storage and every output file live there), or refuse
    in one line naming the key; called before any study is created."""
    runs = Path(as_config(cfg).study.runs_dir)
    _make_folder(runs, f"study.runs_dir {str(runs)!r}: the folder")
    return runs


def output_dir(cfg: Config | dict) -> Path:
    """The folder of the study's output files: ``<study.runs_dir>/<study.name>/``."""
    study = as_config(cfg).study
    return Path(study.runs_dir) / study.name


def make_storage(cfg: Config | dict, url: str | None = None) -> optuna.storages.RDBStorage:
    """An RDB storage with heartbeats and retry of trials whose worker died."""
    cfg = as_config(cfg)
    url = url or storage_url(cfg)
    study = cfg.study
    engine_kwargs = {"pool_pre_ping": True} if not url.startswith("sqlite") else {"connect_args": {"timeout": 60}}
    from sqlalchemy.exc import SQLAlchemyError

    # optuna marks heartbeats experimental; they are what makes a killed worker's trial
    # recoverable, so the warning is noise here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return _HeartbeatStorage(
                _with_driver(url),
                engine_kwargs=engine_kwargs,
                heartbeat_interval=study.heartbeat_interval,
                grace_period=study.grace_period,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=study.max_retry
                ),
            )
        except ImportError as exc:  # the database driver is missing
            cause = exc.__cause__ or exc
            extra = (
                " PostgreSQL needs the psycopg2 driver: pip install 'czar-gbdt[postgres]' (the postgres extra)."
                if url.lower().startswith("postgres")
                else " Install the database driver this URL names."
            )
            raise StudyError(
                f"storage {url!r} (study.storage or --storage) cannot be opened: its database driver "
                f"is not installed ({cause}).{extra}"
            ) from None
        except SQLAlchemyError as exc:  # a file that is not a database, a server that refuses, ...
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split()).split(" [SQL:")[0]
            damaged = ", or move the damaged file away" if url.lower().startswith("sqlite") else ""
            raise StudyError(
                f"storage {url!r} cannot be opened as a study storage ({type(exc).__name__}: {reason}); "
                f"check study.storage (or --storage){damaged}."
            ) from None


def _write_ahead(engine: Any) -> None:
    """Write-ahead logging (``journal_mode = WAL``, ``synchronous = NORMAL``) on every later
    connection of ``engine`` when it is a SQLite file; other databases are left alone.

    A trial makes about twenty small commits (its parameters, each fold's row and report, the
    summary, its state). SQLite's default rollback journal syncs the disk twice per commit: 1.3 ms
    a write on this project's machines, against 0.56 ms with WAL (a tenth of the main job's trial
    beyond its boosting). A killed process loses nothing committed (the ``-wal`` file next to
    the study holds it, and the next process to open the study replays it); an operating-system
    crash or a power cut can lose the last commits, not damage the file. The WAL is merged into
    the ``.db`` file when the last connection closes; copy a study after its processes ended (or
    with its ``-wal`` file). A file that cannot switch (read-only) keeps its journal.
    """
    if engine.dialect.name != "sqlite":
        return
    import sqlite3

    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.OperationalError:
            pass
        finally:
            cursor.close()

    engine.dispose()  # the connection optuna opened to create its tables had no pragmas


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

"""Tuner plumbing with a toy objective: SQLite resume, PostgreSQL workers, killed workers."""

import dataclasses
import multiprocessing
import os
import signal
import time
import uuid
from datetime import datetime, timedelta

import optuna
import pytest
from optuna.trial import TrialState
from study_helpers import data_error_objective_factory, toy_objective_factory

from czar_gbdt import tuning
from czar_gbdt.config import Config, ConfigError, as_config, validate_config

PG_URL = os.environ.get("CZAR_GBDT_PG_URL")
needs_pg = pytest.mark.skipif(
    not PG_URL and not os.environ.get("CZAR_GBDT_REQUIRE_PG"),
    reason='set CZAR_GBDT_PG_URL (eval "$(.ci/postgres.sh)") for the PostgreSQL tests',
)


def toy_config(tmp_path, name=None, n_trials=6, **study):
    cfg = validate_config(
        {
            "study": {
                "name": name or f"toy_{uuid.uuid4().hex[:8]}",
                "runs_dir": str(tmp_path),
                "n_trials": n_trials,
                "sampler": "random",
                "pruner": "none",
                "heartbeat_interval": 1,
                "grace_period": 3,
                **study,
            },
            "model": {"params": {"learning_rate": {"low": 0.01, "high": 1.0}, "num_leaves": {"low": 2, "high": 64}}},
            "loss": {"name": "czar", "czar": {"alpha": {"low": 0.0, "high": 1.0}}},
        }
    )
    cfg["_toy"] = {"sleep": 0.0, "folds": 3}
    return cfg


def finished(study):
    return study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))


@pytest.fixture
def spawn():
    """Start worker processes; whatever a test leaves running is killed at teardown.

    A worker left alive (a failed assertion, a hang) would otherwise keep pytest from exiting.
    """
    ctx = multiprocessing.get_context("spawn")
    started = []

    def start(cfg, n_trials, worker=0):
        proc = ctx.Process(
            target=tuning.run_worker, args=(cfg, tuning.storage_url(cfg), n_trials, toy_objective_factory, worker)
        )
        proc.start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.is_alive():
            proc.kill()
        proc.join()


def wait_for(predicate, what, timeout=60.0):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_sqlite_default_storage_and_resume(tmp_path):
    cfg = toy_config(tmp_path, n_trials=4)
    study = tuning.tune(cfg, objective_factory=toy_objective_factory, show_progress=False)
    assert (tmp_path / f"{cfg['study']['name']}.db").exists()
    first = {t.number: t.params for t in finished(study)}
    assert len(first) == 4
    # the same command again: nothing to do, nothing repeated
    study = tuning.tune(cfg, objective_factory=toy_objective_factory, show_progress=False)
    assert {t.number: t.params for t in finished(study)} == first
    # more trials requested: only the missing ones run, the old ones are kept as they were
    study = tuning.tune(cfg, n_trials=7, objective_factory=toy_objective_factory, show_progress=False)
    again = {t.number: t.params for t in finished(study)}
    assert len(again) == 7 and {k: again[k] for k in first} == first


def test_a_sqlite_study_is_written_ahead_and_its_file_alone_holds_it_once_the_process_ended(tmp_path, spawn):
    """A SQLite study runs in write-ahead-log mode with synchronous NORMAL on every connection (a pickled
    storage too, as worker processes get it); when the process that wrote it has ended, the log is merged
    into the .db file, so a copy of that file alone holds every trial."""
    import pickle
    import sqlite3

    from czar_gbdt.tuning import storage as st

    cfg = toy_config(tmp_path, n_trials=3)
    proc = spawn(cfg, 3)
    proc.join()
    assert proc.exitcode == 0
    db = tmp_path / f"{cfg['study']['name']}.db"
    assert db.exists() and not db.with_name(db.name + "-wal").exists()
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone() == (3,)
    storage = st.make_storage(cfg)
    for engine in (storage.engine, pickle.loads(pickle.dumps(storage)).engine):
        with engine.connect() as connection:
            modes = [connection.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("journal_mode", "synchronous")]
        assert modes == ["wal", 1]  # 1: NORMAL
        engine.dispose()


def test_sqlite_refuses_parallel_workers(tmp_path):
    with pytest.raises(ConfigError, match="SQLite .* not safe for parallel workers"):
        tuning.tune(toy_config(tmp_path), workers=2, objective_factory=toy_objective_factory, show_progress=False)


def test_stale_trial_of_killed_run_is_retried_on_resume(tmp_path, spawn):
    """SQLite, one worker: a run killed mid-trial leaves a RUNNING trial; the next run fails and retries it."""
    cfg = toy_config(tmp_path, n_trials=3)
    cfg["_toy"]["sleep"] = 30.0
    proc = spawn(cfg, 3)
    study = tuning.open_study(cfg)
    # the toy objective reports its first step after drawing every parameter: waiting for the
    # parameters alone could kill the worker half-way through drawing them
    wait_for(
        lambda: [t for t in study.get_trials(states=(TrialState.RUNNING,)) if t.intermediate_values],
        "the worker to start a trial, draw its parameters and report a first step",
    )
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    killed = study.get_trials(states=(TrialState.RUNNING,))[0]
    time.sleep(cfg["study"]["grace_period"] + 1)
    cfg["_toy"]["sleep"] = 0.0
    study = tuning.tune(cfg, objective_factory=toy_objective_factory, show_progress=False)
    trials = study.get_trials()
    assert study.trials[killed.number].state == TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].state == TrialState.COMPLETE
    assert retried[0].params == killed.params
    assert len(finished(study)) == 3


def test_dead_trial_holding_the_last_slot_is_retried_without_waiting_for_ever(tmp_path, spawn):
    """The study lacks one trial and a dead worker's RUNNING trial holds that slot.

    The resumed worker waits for the heartbeat to go stale, fails the trial, and must then run
    the WAITING retry: counting the retry as a live trial kept the slot "taken" for ever.
    """
    cfg = toy_config(tmp_path, n_trials=3)
    tuning.tune(cfg, n_trials=2, objective_factory=toy_objective_factory, show_progress=False)
    cfg["_toy"]["sleep"] = 30.0
    dead = spawn(cfg, 3)
    study = tuning.open_study(cfg)
    wait_for(lambda: study.get_trials(states=(TrialState.RUNNING,)), "the worker to start the third trial")
    os.kill(dead.pid, signal.SIGKILL)
    dead.join()
    cfg["_toy"]["sleep"] = 0.0
    survivor = spawn(cfg, 3)  # starts while the dead trial still looks alive
    survivor.join(timeout=cfg["study"]["grace_period"] + 60)
    assert survivor.exitcode == 0, "the resumed worker never ran the retried trial"
    study = tuning.open_study(cfg)
    assert len(finished(study)) == 3
    (failed,) = study.get_trials(states=(TrialState.FAIL,))
    assert [t.system_attrs.get("failed_trial") for t in finished(study)][-1] == failed.number
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))


def test_trial_whose_worker_died_before_its_first_heartbeat_is_failed_and_retried(tmp_path):
    """optuna writes a trial's first heartbeat after creating it; a worker killed in between
    leaves a RUNNING trial with no heartbeat row, which plain optuna never fails."""
    cfg = toy_config(tmp_path, n_trials=2)
    study = tuning.open_study(cfg)
    started = datetime.now() - timedelta(seconds=cfg["study"]["grace_period"] + 5)
    template = optuna.trial.create_trial(state=TrialState.RUNNING, params={}, distributions={})
    template.datetime_start = started
    silent = study._storage.create_new_trial(study._study_id, template_trial=template)
    recent = study._storage.create_new_trial(study._study_id)  # started now: within the grace period
    assert study._storage._get_stale_trial_ids(study._study_id) == [silent]
    # resuming fails the silent trial at once, the recent one after the grace period; both are retried
    study = tuning.tune(cfg, objective_factory=toy_objective_factory, show_progress=False)
    numbers = {study._storage.get_trial_number_from_id(i) for i in (silent, recent)}
    assert {t.number for t in study.get_trials(states=(TrialState.FAIL,))} == numbers
    assert {t.system_attrs["failed_trial"] for t in finished(study)} == numbers
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))


def _pg_config(tmp_path, n_trials, **study):
    assert PG_URL, "CZAR_GBDT_REQUIRE_PG is set but CZAR_GBDT_PG_URL is not: run .ci/postgres.sh"
    return toy_config(tmp_path, n_trials=n_trials, storage=PG_URL, **study)


@needs_pg
def test_postgres_two_workers_complete_exactly_the_requested_trials(tmp_path):
    cfg = _pg_config(tmp_path, n_trials=10)
    cfg["_toy"]["sleep"] = 0.05
    study = tuning.tune(cfg, workers=2, objective_factory=toy_objective_factory, show_progress=False)
    done = finished(study)
    assert len(done) == 10
    assert len({t.number for t in done}) == 10
    assert len({tuple(sorted(t.params.items())) for t in done}) == 10  # no parameter set ran twice
    assert len({t.user_attrs["pid"] for t in done}) == 2  # both workers did work
    surplus = [t for t in study.get_trials() if t.user_attrs.get("surplus")]
    assert all(t.state == TrialState.FAIL for t in surplus)


@needs_pg
def test_postgres_workers_take_a_typed_config(tmp_path):
    """A typed Config reaches the spawned workers (pickled) and their objective factory as it is."""
    study = tuning.tune(
        as_config(_pg_config(tmp_path, n_trials=4)),
        workers=2,
        objective_factory=toy_objective_factory,
        show_progress=False,
    )
    done = finished(study)
    assert len(done) == 4 and len({tuple(sorted(t.params.items())) for t in done}) == 4
    assert os.getpid() not in {t.user_attrs["pid"] for t in done}  # the spawned workers ran them


@needs_pg
def test_postgres_an_error_that_repeats_stops_every_worker(tmp_path):
    """A trial error that does not depend on the parameters, in one of two workers: the study is
    stopped (recorded in it), the other worker stops too, and the parent raises it once."""
    cfg = _pg_config(tmp_path, n_trials=20)
    cfg["_toy"]["sleep"] = 0.2
    with pytest.raises(
        tuning.StudyStopped, match="DataError: the data went bad; it does not depend on the trial's parameters"
    ) as info:
        tuning.tune(cfg, workers=2, objective_factory=data_error_objective_factory, show_progress=False)
    assert info.value.usage
    study = tuning.load_study(cfg)
    assert len(study.trials) <= 4 and all(t.state == TrialState.FAIL for t in study.trials)


@needs_pg
def test_postgres_worker_killed_mid_run_leaves_study_resumable(tmp_path, spawn):
    """SIGKILL a worker while it runs a trial: that trial is failed, retried by the survivor with
    the same parameters, and the study ends with exactly the requested trials, none twice."""
    cfg = _pg_config(tmp_path, n_trials=6)
    cfg["_toy"]["sleep"] = 0.5
    procs = [spawn(cfg, 6, worker=i) for i in range(2)]
    victim = procs[0].pid
    study = tuning.open_study(cfg)

    def victim_just_started():
        # worker 0's trial with every parameter drawn (the toy reports its first step after drawing
        # them) and only the first of its 3 folds (0.5 s each) reported: a second left to kill it
        return [
            t
            for t in study.get_trials(states=(TrialState.RUNNING,))
            if t.user_attrs.get("worker_pid") == victim and len(t.intermediate_values) == 1
        ]

    wait_for(lambda: finished(study) and victim_just_started(), "a finished trial and a running one of worker 0")
    os.kill(victim, signal.SIGKILL)
    procs[0].join()
    # the victim held exactly one RUNNING trial when it died, with its pid and parameters
    held = [t for t in study.get_trials(states=(TrialState.RUNNING,)) if t.user_attrs.get("worker_pid") == victim]
    assert len(held) == 1 and held[0].params
    (killed,) = held
    procs[1].join(timeout=120)  # the survivor finishes the study, retrying the dead worker's trial
    assert procs[1].exitcode == 0
    study = tuning.open_study(cfg)
    done = finished(study)
    assert len(done) == 6
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    assert study.trials[killed.number].state == TrialState.FAIL
    (retry,) = [t for t in done if t.system_attrs.get("failed_trial") == killed.number]
    assert retry.params == killed.params and retry.user_attrs["worker_pid"] == procs[1].pid
    assert len({t.number for t in done}) == 6
    assert len({tuple(sorted(t.params.items())) for t in done}) == 6  # no parameter set completed twice
    failed = [t for t in study.get_trials(states=(TrialState.FAIL,)) if not t.user_attrs.get("surplus")]
    for t in failed:  # every trial of the killed worker was picked up again
        assert any(r.system_attrs.get("failed_trial") == t.number for r in done)
    # and the command resumes cleanly: nothing more to run
    again = tuning.tune(cfg, objective_factory=toy_objective_factory, show_progress=False)
    assert [t.number for t in finished(again)] == [t.number for t in done]


def test_journal_storage_is_refused_with_the_reason(tmp_path):
    """optuna's JournalStorage keeps no heartbeats: a killed worker's trial would stay RUNNING."""
    log = tmp_path / "study.log"
    for workers in (1, 2):
        with pytest.raises(ConfigError, match=r"storage: journal storage is not supported .*no heartbeats"):
            tuning.tune(
                toy_config(tmp_path),
                storage=f"journal:///{log}",
                workers=workers,
                objective_factory=toy_objective_factory,
                show_progress=False,
            )
    assert not log.exists()
    with pytest.raises(ConfigError, match=r"study.storage: journal storage is not supported"):
        toy_config(tmp_path, storage=str(log))
    assert not issubclass(optuna.storages.JournalStorage, optuna.storages._heartbeat.BaseHeartbeat)


def test_searched_rounds_are_trial_parameters(tmp_path):
    cfg = validate_config(
        {
            "study": {
                "name": "rounds",
                "runs_dir": str(tmp_path),
                "n_trials": 3,
                "sampler": "random",
                "pruner": "none",
            },
            "model": {
                "num_boost_round": {"low": 10, "high": 50, "step": 10},
                "early_stopping_rounds": {"choices": [0, 5]},
                "params": {"learning_rate": 0.1},
            },
            "splits": {"valid_size": 20},
        }
    )
    study = tuning.tune(cfg, objective_factory=toy_objective_factory, show_progress=False)
    for trial in finished(study):
        params = tuning.fixed_params(trial, cfg)
        assert params.num_boost_round == trial.params["model.num_boost_round"] in (10, 20, 30, 40, 50)
        assert params.early_stopping_rounds == trial.params["model.early_stopping_rounds"] in (0, 5)
        assert params.booster == {"learning_rate": 0.1}
    fixed = tuning.suggest_params(optuna.trial.FixedTrial({}), validate_config({}))
    assert (fixed.num_boost_round, fixed.early_stopping_rounds) == (200, 0)  # the defaults, not searched


# ------------------------------------------------------------------ the typed configuration


def test_a_trials_parameters_are_a_frozen_typed_object(tmp_path):
    """suggest_params and fixed_params return a TrialParams, read by attribute; the dict form is what
    best_params.json stores, in the same order as before; a dict and a Config draw the same."""
    cfg = toy_config(tmp_path)
    drawn = {"model.learning_rate": 0.5, "model.num_leaves": 8, "czar.alpha": 0.25}
    params = tuning.suggest_params(optuna.trial.FixedTrial(drawn), cfg)
    assert isinstance(params, tuning.TrialParams)
    assert (params.backend, params.booster, params.loss, params.loss_params) == (
        "lightgbm",
        {"learning_rate": 0.5, "num_leaves": 8},
        "czar",
        {"alpha": 0.25},
    )
    assert (params.num_boost_round, params.early_stopping_rounds) == (200, 0)  # 0 in the file: no early stopping
    assert list(params.to_dict()) == [
        "backend",
        "booster",
        "loss",
        "loss_params",
        "num_boost_round",
        "early_stopping_rounds",
    ]
    with pytest.raises(TypeError):  # read by attribute: no dict access left to mistype a key in
        params["loss"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.loss = "zptae"
    assert tuning.suggest_params(optuna.trial.FixedTrial(drawn), as_config(cfg)) == params
    assert params.booster_settings() == {
        "backend": "lightgbm",
        "booster": {"learning_rate": 0.5, "num_leaves": 8},
        "num_boost_round": 200,
        "early_stopping_rounds": 0,
    }


def test_tune_takes_a_typed_config_and_writes_nothing_into_the_one_it_is_given(tmp_path):
    """The caller's dict keeps "auto" and its storage; the study's fingerprint and the objective
    factory see the transform resolved on the data and the --storage given. A typed Config runs the
    same study (same draws, same values) and reaches the factory as a Config."""
    cfg = toy_config(tmp_path, n_trials=2)
    given = []

    def factory(c):
        given.append(c)
        return toy_objective_factory(c)

    url = f"sqlite:///{tmp_path / 'other.db'}"
    study = tuning.tune(cfg, storage=url, objective_factory=factory, show_progress=False)
    assert cfg["data"]["target_transform"] == "auto" and cfg["study"]["storage"] == ""
    assert study.user_attrs["fingerprint"]["keys"]["data.target_transform"] == "demean"  # FF49: a cross-section
    (seen,) = given
    assert seen["_toy"] == cfg["_toy"] and seen["study"]["storage"] == url
    assert seen["data"]["target_transform"] == "demean"
    assert not (tmp_path / f"{cfg['study']['name']}.db").exists()  # the storage given, not the default
    typed = as_config(cfg)
    again = tuning.tune(
        typed, storage=f"sqlite:///{tmp_path / 'typed.db'}", objective_factory=factory, show_progress=False
    )
    assert isinstance(given[1], Config) and given[1].data.target_transform == "demean"
    assert [(t.params, t.value) for t in finished(again)] == [(t.params, t.value) for t in finished(study)]
    study, where = tuning.load_checked_study(typed, url, "report")
    assert where == url and len(finished(study)) == 2


def test_the_tuning_package_keeps_its_public_names_in_modules_of_at_most_600_lines():
    """Issue 23: tuning.py became a package of one concern per module; every name imported from
    ``czar_gbdt.tuning`` (by the package, the tests, the docs and bench/) is still there."""
    from pathlib import Path

    used = [
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
        "fixed_params",
        "search_losses",
        "trial_seed",
        "make_objective",
        "objective_value",
        "run_worker",
        "StudyError",
        "StudyStopped",
        "REPEATING_ERRORS",
    ]
    assert [name for name in used if not hasattr(tuning, name)] == []
    assert set(used) <= set(tuning.__all__)
    assert tuning.run_worker.__module__ == "czar_gbdt.tuning.workers"  # what a spawned worker imports by name
    sizes = {path.name: len(path.read_text().splitlines()) for path in Path(tuning.__file__).parent.glob("*.py")}
    assert len(sizes) > 1 and max(sizes.values()) <= 600, sizes

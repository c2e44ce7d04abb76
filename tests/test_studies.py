"""Studies that cannot mix or repeat: the fingerprint covers each loss's definition, and no process
re-draws a parameter set its study already holds (resume, larger --trials, SIGKILL, two processes)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from optuna.trial import TrialState
from study_helpers import study_table, toy_objective_factory
from test_tuning_storage import PG_URL, needs_pg, spawn, wait_for  # noqa: F401  (spawn is a fixture)

from czar_gbdt import tuning
from czar_gbdt.config import validate_config
from czar_gbdt.datasets import make_synthetic_panel

ROOT = Path(__file__).resolve().parents[1]


def toy(tmp_path, name=None, n_trials=3, storage="", **spaces):
    cfg = validate_config(
        {
            "study": {
                "name": name or f"s_{uuid.uuid4().hex[:8]}",
                "runs_dir": str(tmp_path),
                "n_trials": n_trials,
                "sampler": spaces.pop("sampler", "random"),
                "pruner": "none",
                "heartbeat_interval": 1,
                "grace_period": 3,
                "n_startup_trials": 2,
                "storage": storage,
            },
            "model": {
                "params": spaces or {"learning_rate": {"low": 0.01, "high": 1.0}, "num_leaves": {"low": 2, "high": 64}}
            },
            "loss": {"name": "czar", "czar": {"alpha": {"low": 0.0, "high": 1.0}}} if not spaces else {"name": "czar"},
        }
    )
    cfg["_toy"] = {"sleep": 0.0, "folds": 1}
    return cfg


def sets(study):
    done = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    return [tuple(sorted(t.params.items())) for t in sorted(done, key=lambda t: t.number)]


def run(cfg, **kw):
    return tuning.tune(cfg, objective_factory=toy_objective_factory, show_progress=False, **kw)


# ------------------------------------------------------------------ no re-draws


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_a_resumed_run_and_a_larger_trials_draw_new_sets_and_a_fresh_run_the_same(tmp_path, sampler):
    cfg = toy(tmp_path, name="a", sampler=sampler)
    run(cfg)
    study = run(cfg, n_trials=6)  # a second `tune --trials 6`: three more, none drawn before
    drawn = sets(study)
    assert len(drawn) == 6 and len(set(drawn)) == 6
    # the same configuration from scratch (another storage): the same study, trial by trial
    again = run(toy(tmp_path / "fresh", name="a", sampler=sampler), n_trials=6)
    assert sets(again) == drawn


def test_a_set_the_study_holds_is_not_drawn_again_until_the_space_is_exhausted(tmp_path):
    # three parameter sets in all: three trials take the three, a fourth has to repeat one
    cfg = toy(tmp_path, n_trials=3, num_leaves={"low": 2, "high": 4})
    study = run(cfg)
    assert sorted(sets(study)) == [(("model.num_leaves", k),) for k in (2, 3, 4)]
    skipped = [t for t in study.get_trials(states=(TrialState.FAIL,)) if "duplicate_of" in t.user_attrs]
    assert all(study.trials[t.user_attrs["duplicate_of"]].params == t.params for t in skipped)
    lines = []
    study = run(cfg, n_trials=4, echo=lines.append)
    assert len(sets(study)) == 4 and len(set(sets(study))) == 3
    assert any("fewer distinct sets than the trials asked for" in line for line in lines)


def test_a_run_after_sigkill_draws_new_sets(tmp_path, spawn):  # noqa: F811
    cfg = toy(tmp_path, n_trials=6)
    cfg["_toy"] = {"sleep": 0.3, "folds": 2}
    proc = spawn(cfg, 6)
    study = tuning.open_study(cfg)
    wait_for(lambda: len(study.get_trials(states=(TrialState.COMPLETE,))) >= 2, "two finished trials")
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    time.sleep(cfg["study"]["grace_period"] + 1)
    cfg["_toy"] = {"sleep": 0.0, "folds": 1}
    study = run(cfg)
    drawn = sets(study)
    assert len(drawn) == 6 and len(set(drawn)) == 6


def _two_processes(cfg, spawn):  # noqa: F811
    cfg["_toy"] = {"sleep": 0.05, "folds": 2}
    tuning.open_study(cfg)  # the first command created it (two creating one SQLite file at once is another race)
    procs = [spawn(cfg, cfg["study"]["n_trials"], worker=0) for _ in range(2)]  # two `tune` commands: worker 0 both
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    study = tuning.open_study(cfg)
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len({t.user_attrs["pid"] for t in done}) == 2  # both processes ran trials
    drawn = sets(study)
    assert len(drawn) == cfg["study"]["n_trials"] and len(set(drawn)) == len(drawn)


def test_two_processes_on_one_sqlite_study_draw_distinct_sets(tmp_path, spawn):  # noqa: F811
    _two_processes(toy(tmp_path, n_trials=8), spawn)


@needs_pg
def test_two_processes_on_one_postgres_study_draw_distinct_sets(tmp_path, spawn):  # noqa: F811
    _two_processes(toy(tmp_path, n_trials=8, storage=PG_URL), spawn)


# ------------------------------------------------------------------ the loss's definition


FORMULA = """
import czar_gbdt as cg

def ph(zt, zp, k=1.0):
    r = zp - zt
    return cg.where(r > 0, {over} * r * r, r * r) * k

PH = cg.define_loss("ph", ph, params={{"k": (0.1, 10.0)}})
"""


def _cli(tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    return subprocess.run(
        [sys.executable, "-m", "czar_gbdt.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


def test_editing_the_formula_of_a_loss_refuses_tune_report_fit_and_compare(tmp_path):
    panel = make_synthetic_panel(n_dates=200, n_assets=20, n_features=4, signal_ic=0.1, seed=2)
    panel.to_frame().to_parquet(tmp_path / "panel.parquet")
    (tmp_path / "mylosses.py").write_text(FORMULA.format(over=3.0))
    config = tmp_path / "ph.toml"
    config.write_text(
        study_table("ph").format(runs=tmp_path / "runs")
        + textwrap.dedent(f"""
        [data]
        source = "{tmp_path / "panel.parquet"}"
        horizon = 1
        [splits]
        test_size = 40
        min_train_size = 80
        holdout = 20
        max_splits = 1
        [model]
        backend = "lightgbm"
        num_boost_round = 5
        [model.params]
        num_leaves = {{ low = 2, high = 8 }}
        num_threads = 1
        [loss]
        name = "mylosses:PH"
        [report]
        baselines = []
        """)
    )
    compare = tmp_path / "compare.toml"
    compare.write_text(
        config.read_text()
        .replace('name = "ph"', 'name = "cmp"')
        .replace("[report]", f'[compare]\nlosses = ["builtin"]\nensemble = false\nstudy = "{config}"\n[report]')
        .replace("num_leaves = { low = 2, high = 8 }", "num_leaves = 4")
    )
    first = _cli(tmp_path, "tune", "--config", str(config), "--no-progress")
    assert first.returncode == 0, first.stderr
    (tmp_path / "mylosses.py").write_text(FORMULA.format(over=5.0))  # over-prediction now costs 5x, not 3x
    for command, config_path in (("tune", config), ("report", config), ("fit", config), ("compare", compare)):
        refused = _cli(
            tmp_path, command, "--config", str(config_path), *(("--no-progress",) if command == "tune" else ())
        )
        assert refused.returncode == 2, (command, refused.stderr)
        lines = refused.stderr.strip().splitlines()
        assert "Traceback" not in refused.stderr and "loss.definition (study:" in lines[-1], (command, lines)


# ------------------------------------------------------------------ LightGBM on a Dask cluster


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["lightgbm", "xgboost"])
def test_a_dask_cluster_gives_the_same_figures_run_after_run(tmp_path, backend):
    """Continuous features (each worker's rows give its own histogram bins) on a running cluster of
    3 workers, where the scheduler may put the partitions anywhere: three runs, one result."""
    distributed = pytest.importorskip("distributed")
    from czar_gbdt import cluster

    panel = make_synthetic_panel(n_dates=300, n_assets=100, n_features=6, signal_ic=0.05, seed=4)
    panel.to_frame().to_parquet(tmp_path / "panel.parquet", index=False)
    with (
        distributed.LocalCluster(
            n_workers=3, threads_per_worker=1, memory_limit="1GiB", dashboard_address=None
        ) as local,
        distributed.Client(local) as client,
    ):
        cfg = validate_config(
            {
                "study": {"runs_dir": str(tmp_path / "runs")},
                "data": {"source": str(tmp_path / "panel.parquet"), "horizon": 1, "panel": {"std_col": "std"}},
                "splits": {"min_train_size": 150, "test_size": 50, "holdout": 10, "max_splits": 1},
                "model": {
                    "backend": backend,
                    "num_boost_round": 15,
                    "params": {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 20}
                    if backend == "lightgbm"
                    else {"max_depth": 3, "learning_rate": 0.1},
                },
                "loss": {"name": "czar"},
                "cluster": {"engine": "dask", "scheduler": client.scheduler.address},
            }
        )
        runs = [cluster.evaluate_losses(cfg, [("builtin", {})]) for _ in range(3)]
        cluster.close_clients()
    for other in runs[1:]:
        assert list(other["mean_rank_ic"]) == list(runs[0]["mean_rank_ic"])
        assert list(other["directional_accuracy"]) == list(runs[0]["directional_accuracy"])

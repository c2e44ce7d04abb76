"""The czar-gbdt command line: tune, resume, report, exit codes, help (report's own behaviour: test_reporting.py)."""

import json

import optuna
import pytest
from config_helpers import ff49_tiny, make_config
from optuna.trial import TrialState

from czar_gbdt import tuning
from czar_gbdt.cli import main
from czar_gbdt.config import load_config


@pytest.fixture
def tiny_config(tmp_path):
    return make_config(tmp_path / "tiny.toml", **ff49_tiny("tiny", tmp_path / "runs"))


def test_tune_resume_and_report(tiny_config, tmp_path, capsys):
    assert main(["tune", "--config", str(tiny_config), "--no-progress", "--format", "json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["n_trials"] == 2 and first["best_params"]["loss"] == "czar"
    assert len(first["folds"]) == 2 and all(-1 <= f["rank_ic"] <= 1 for f in first["folds"])
    out = tmp_path / "runs" / "tiny"
    saved = json.loads((out / "best_params.json").read_text())
    assert saved["best_trial"] == first["best_trial"]
    assert (out / "folds.csv").read_text().startswith("fold,")
    # resume: the same command again runs nothing new and reports the same best trial
    assert main(["tune", "--config", str(tiny_config), "--no-progress", "--format", "json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["n_trials"] == 2 and again["best_value"] == first["best_value"]
    # report: one holdout evaluation, after every test window, said so
    assert main(["report", "--config", str(tiny_config)]) == 0
    text = capsys.readouterr().out
    assert "holdout" in text and "evaluated once" in text
    holdout = json.loads((out / "holdout.json").read_text())
    assert holdout["start"] > max(f["test_end"] for f in first["folds"])


def _tpe_config(tmp_path, runs):
    """The tiny search with TPE and the median pruner over 5 trials, TPE and the pruner active after 2."""
    study = {"n_trials": 5, "n_startup_trials": 2, "sampler": "tpe", "pruner": "median"}
    return make_config(tmp_path / f"{runs.name}.toml", **ff49_tiny("tiny", runs, study=study))


def test_same_config_and_seed_give_the_same_best_trial(tmp_path, capsys):
    """TPE + median pruner, 5 trials on one worker: two fresh studies are identical trial by trial."""
    results, trials = [], []
    for runs in (tmp_path / "runs1", tmp_path / "runs2"):
        path = _tpe_config(tmp_path, runs)
        assert main(["tune", "--config", str(path), "--no-progress", "--format", "json"]) == 0
        results.append(json.loads(capsys.readouterr().out))
        study = tuning.load_study(load_config(path))
        trials.append([(t.number, t.state, t.params, t.value, t.intermediate_values) for t in study.trials])
    assert results[0]["n_trials"] == 5
    assert results[0]["best_trial"] == results[1]["best_trial"]
    assert results[0]["best_params"] == results[1]["best_params"]
    assert results[0]["best_value"] == results[1]["best_value"]
    assert trials[0] == trials[1]
    assert len({json.dumps(t[2], sort_keys=True) for t in trials[0]}) == 5  # TPE proposed 5 distinct points


def test_real_objective_reports_each_fold_and_icir_works(tiny_config):
    """The walk-forward objective reports one step per fold (0..k-1), keeps fold_i attributes,
    and with study.objective = "icir" returns the ICIR of the per-date rank IC. The number of
    boosting rounds is searched here too."""
    cfg = load_config(
        tiny_config,
        {
            "study": {"n_trials": 1, "objective": "icir", "name": "icir"},
            "model": {"num_boost_round": {"low": 5, "high": 15}},
        },
    )
    study = tuning.tune(cfg, show_progress=False)
    (trial,) = study.trials
    assert trial.state == TrialState.COMPLETE
    k = trial.user_attrs["n_folds"]
    assert k == 2  # splits.max_splits
    assert sorted(trial.intermediate_values) == list(range(k))
    for i in range(k):
        fold = trial.user_attrs[f"fold_{i}"]
        assert fold["fold"] == i and -1 <= fold["rank_ic"] <= 1 and fold["test_start"] <= fold["test_end"]
    assert f"fold_{k}" not in trial.user_attrs
    assert trial.user_attrs["fold_0"]["test_end"] < trial.user_attrs["fold_1"]["test_start"]
    assert trial.value == pytest.approx(trial.user_attrs["icir"], rel=1e-12)
    assert trial.value != pytest.approx(trial.user_attrs["mean_rank_ic"])  # not the rank IC objective
    assert trial.intermediate_values[k - 1] == pytest.approx(trial.value, rel=1e-12)  # last step: all folds
    assert trial.user_attrs["worker_pid"] > 0
    rounds = trial.params["model.num_boost_round"]
    assert 5 <= rounds <= 15 and all(trial.user_attrs[f"fold_{i}"]["rounds"] == rounds for i in range(k))
    assert tuning.fixed_params(trial, cfg).num_boost_round == rounds


def test_missing_data_and_journal_storage_are_config_errors(tiny_config, tmp_path, capsys):
    bad = make_config(
        tmp_path / "nodata.toml", **ff49_tiny("tiny", tmp_path / "runs", data={"source": tmp_path / "nope.parquet"})
    )
    assert main(["tune", "--config", str(bad), "--no-progress"]) == 2
    assert "data.source: no such file" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # refused before a study (or its folder) exists
    journal = f"journal:///{tmp_path / 'study.log'}"
    assert main(["tune", "--config", str(tiny_config), "--storage", journal, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--storage: journal storage is not supported" in err and "heartbeats" in err
    assert not (tmp_path / "study.log").exists() and not (tmp_path / "runs").exists()
    assert main(["report", "--config", str(tiny_config), "--storage", journal]) == 2


def test_config_errors_exit_2_naming_the_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[study]\nn_trails = 3\n")
    assert main(["tune", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'study.n_trails'" in err and "Traceback" not in err
    assert main(["tune", "--config", str(tmp_path / "missing.toml")]) == 2
    make_config(bad, study={"runs_dir": tmp_path / "runs"}, model={"params": {"subsample": 2.0}})
    assert main(["tune", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "model.params.subsample must be a number in (0, 1] for lightgbm; got 2.0" in err
    assert not (tmp_path / "runs").exists()
    assert main(["tune", "--config", str(bad), "--workers", "0"]) == 2
    assert main(["tune"]) == 2  # --config is required
    assert main(["frobnicate"]) == 2


def test_help_is_complete(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "tune" in text and "report" in text
    assert main(["tune", "--help"]) == 0
    text = capsys.readouterr().out
    for flag in ("--config", "--storage", "--workers", "--trials", "--format"):
        assert flag in text
    assert "exit codes" in text and "2    usage or configuration error" in text
    assert "<runs_dir>/<study>/best_params.json" in text and "default runs/" in text
    assert main(["report", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--config" in text and "exit codes" in text and "0    success" in text
    assert "<runs_dir>/<study>/holdout.json" in text


def test_evaluate_refuses_searched_rounds(tiny_config, tmp_path, capsys):
    path = make_config(
        tmp_path / "searched_rounds.toml",
        **ff49_tiny(
            "tiny",
            tmp_path / "runs",
            model={"num_boost_round": {"low": 10, "high": 30}},
            params={"learning_rate": 0.1, "num_leaves": 4},
        ),
    )
    assert main(["evaluate", "--config", str(path)]) == 2
    assert "model.num_boost_round is a search space; `evaluate` needs fixed values" in capsys.readouterr().err


def _fixed(tiny_config, tmp_path):
    """The tiny search with fixed booster parameters (what evaluate and compare need)."""
    return make_config(
        tmp_path / "fixed.toml", **ff49_tiny("tiny", tmp_path / "runs", params={"learning_rate": 0.1, "num_leaves": 4})
    )


def test_no_optuna_info_lines_and_tune_ends_with_the_next_command(tiny_config, capfd):
    """Issue 21 (5): main([...]) with --no-progress prints none of optuna's INFO lines (a study created, each
    trial finished), and tune ends with the command to run next; the caller's optuna verbosity is kept."""
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        assert main(["tune", "--config", str(tiny_config), "--no-progress"]) == 0
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    out, err = capfd.readouterr()
    assert "A new study created" not in err and "Trial 0 finished" not in err and "[I " not in err
    assert err.rstrip().splitlines()[-1].startswith(f"next: czar-gbdt report --config {tiny_config}")
    assert "best trial #" in out


@pytest.mark.slow
def test_tune_progress_says_compiling_shows_the_best_value_and_draws_nothing_to_do(tiny_config, monkeypatch, capsys):
    """The bar on stderr: "compiling kernels (first run only)" while the kernels compile (a warm-up that
    takes 3.5 s stands in for a cold cache), no estimate before the first trial ends, the best value so
    far; and nothing drawn when the study already holds every trial."""
    import time

    monkeypatch.setattr(tuning.run, "warm_up", lambda *args, **kwargs: time.sleep(3.5))  # where tune looks it up
    study = tuning.tune(load_config(tiny_config), show_progress=True)
    err = capsys.readouterr().err
    assert "compiling kernels (first run only)" in err
    assert "estimate after the first trial" in err
    assert f"best rank_ic {study.best_value:.4f}" in err and "2/2" in err
    tuning.tune(load_config(tiny_config), show_progress=True)
    err = capsys.readouterr().err
    assert "trials" not in err and "compiling" not in err and "%|" not in err


def test_every_command_prints_directional_accuracy_raw_and_the_spread_in_bp(tiny_config, tmp_path, capsys):
    """Issue 21 (5): one definition and one unit per metric: tune's folds, evaluate and compare print the
    directional accuracy against the raw target (labelled so) and the top-k net spread in bp; the
    files keep the spread as a fraction. evaluate names the file it wrote."""
    import pandas as pd

    path = _fixed(tiny_config, tmp_path)
    assert main(["evaluate", "--config", str(path), "--loss", "czar"]) == 0
    text = capsys.readouterr().out
    saved = pd.read_csv(tmp_path / "runs" / "tiny" / "evaluate.csv")
    header, row = text.splitlines()[:2]
    assert "dir_raw" in header and "top_k_net_bp" in header and "directional_accuracy" not in header
    assert row.split()[-1] == f"{saved['top_k_net_spread'].iloc[0] * 1e4:.1f}"
    assert f"wrote {tmp_path / 'runs' / 'tiny' / 'evaluate.csv'}" in text
    assert "dir_raw: the share of rows whose forecast has the sign of the raw target" in text
    # compare: the same model's directional accuracy, against the raw target too, and the spread in bp
    assert main(["compare", "--config", str(path), "--loss", "czar", "--loss", "builtin", "--no-progress"]) == 0
    text = capsys.readouterr().out
    table = pd.read_csv(tmp_path / "runs" / "tiny" / "compare.csv").set_index("loss")
    czar = table.loc["CZAR(alpha=1, epsilon=1, tau=0.05)"]
    assert czar["directional_accuracy"] == pytest.approx(saved["directional_accuracy"].iloc[0], abs=1e-9)
    rows = {line.split()[0]: line.split() for line in text.splitlines()[1:4]}
    header = text.splitlines()[0].split()
    assert header[header.index("dir") + 1] == "raw" and "bp" in header
    assert rows["czar"][7] == f"{czar['directional_accuracy']:.4f}"
    assert rows["czar"][8] == f"{czar['top_k_net_spread'] * 1e4:.1f}"
    assert "label_direction" not in pd.read_csv(tmp_path / "runs" / "tiny" / "compare_folds.csv")
    # tune: the per-fold table in the same units
    assert main(["tune", "--config", str(tiny_config), "--no-progress"]) == 0
    text = capsys.readouterr().out
    folds = pd.read_csv(tmp_path / "runs" / "tiny" / "folds.csv")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:2] == ["fold", "test_start"])
    header = lines[at].split()
    assert "dir_raw" in header and "top_k_net_bp" in header
    for line, (_, fold) in zip(lines[at + 1 : at + 3], folds.iterrows()):
        cells = dict(zip(header, line.split()))
        assert cells["top_k_net_bp"] == f"{fold['top_k_net_spread'] * 1e4:.1f}"
        assert cells["dir_raw"] == f"{fold['directional_accuracy']:.4f}"

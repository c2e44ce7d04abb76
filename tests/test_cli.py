"""The czar-gbdt command line: tune, resume, report, exit codes, help."""

import json

import pytest

from czar_gbdt.cli import main

TINY = """
[study]
name = "tiny"
runs_dir = "{runs}"
n_trials = 2
seed = 3
sampler = "random"
pruner = "none"

[data]
source = "ff49"
start = "2017-01-01"
horizon = 5

[splits]
test_size = 120
min_train_size = 400
holdout = 120
max_splits = 2

[model]
backend = "lightgbm"
num_boost_round = 20

[model.params]
learning_rate = {{ low = 0.05, high = 0.2 }}
num_leaves = {{ low = 4, high = 8 }}
num_threads = 2

[loss]
name = "czar"

[loss.czar]
alpha = {{ low = 0.0, high = 1.0 }}
"""


@pytest.fixture
def tiny_config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(runs=tmp_path / "runs"))
    return path


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


def test_same_config_and_seed_give_the_same_best_trial(tiny_config, tmp_path, capsys):
    other = tmp_path / "other.toml"
    other.write_text(TINY.format(runs=tmp_path / "runs2"))
    results = []
    for cfg in (tiny_config, other):
        assert main(["tune", "--config", str(cfg), "--no-progress", "--format", "json"]) == 0
        results.append(json.loads(capsys.readouterr().out))
    assert results[0]["best_params"] == results[1]["best_params"]
    assert results[0]["best_value"] == results[1]["best_value"]


def test_config_errors_exit_2_naming_the_key(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[study]\nn_trails = 3\n')
    assert main(["tune", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'study.n_trails'" in err and "Traceback" not in err
    assert main(["tune", "--config", str(tmp_path / "missing.toml")]) == 2
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
    assert main(["report", "--help"]) == 0
    assert "--config" in capsys.readouterr().out

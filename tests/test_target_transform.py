"""``data.target_transform = "auto"``, the default: demean for a cross-section, raw for one series.

It is resolved once on the data, named in the "data:" line, and recorded resolved in the
study's fingerprint, so that a study made with the former default ``"demean"`` on a panel
resumes under ``"auto"``.
"""

import json

import numpy as np
import pytest
from config_helpers import ff49_tiny, make_config, small_study

from czar_gbdt import evaluation, tuning
from czar_gbdt.cli import main
from czar_gbdt.config import load_config
from czar_gbdt.datasets import DataError, make_synthetic_returns


@pytest.fixture(scope="module")
def series_csv(tmp_path_factory):
    """One asset's daily returns with its own momentum, as a wide CSV of one column."""
    path = tmp_path_factory.mktemp("series") / "btc.csv"
    make_synthetic_returns(500, 1, momentum=0.5, seed=4).rename(columns={"A00": "BTC"}).to_csv(path)
    return path


def _series(tmp_path, data, name, transform=None):
    """1 trial of fixed parameters on ``data``: 2 folds of 100 dates, a 100-date holdout, 20 rounds;
    data.target_transform left to its default unless given."""
    return make_config(
        tmp_path / f"{name}.toml",
        study=small_study(name, tmp_path / "runs", n_trials=1),
        data={"source": data, "horizon": 1, **({"target_transform": transform} if transform else {})},
        splits={"test_size": 100, "min_train_size": 200, "holdout": 100, "max_splits": 2},
        model={
            "num_boost_round": 20,
            "params": {"learning_rate": 0.1, "num_leaves": 4, "min_child_samples": 20, "num_threads": 1},
        },
        loss={"czar": {"alpha": 0.5}},
    )


def test_auto_is_the_default_and_trains_one_series_on_the_raw_return(tmp_path, series_csv, capsys):
    auto, raw = _series(tmp_path, series_csv, "auto"), _series(tmp_path, series_csv, "raw", "raw")
    cfg = load_config(auto)
    assert cfg["data"]["target_transform"] == "auto"
    panel = evaluation.prepare_data(cfg)  # no refusal: "auto" is raw on one series
    assert cfg["data"]["target_transform"] == "auto"  # nothing is written into the config: its resolved copy
    assert evaluation.resolve_config(cfg, panel).data.target_transform == "raw"
    np.testing.assert_array_equal(evaluation.label_target(panel, "raw")[0], panel.y)
    # the same figures as an explicit "raw", and the "data:" line says which transform "auto" chose
    tables = []
    for path in (auto, raw):
        assert main(["evaluate", "--config", str(path), "--loss", "czar:alpha=0.5", "--format", "json"]) == 0
        out = capsys.readouterr()
        tables.append(json.loads(out.out))
        line = next(x for x in out.err.splitlines() if x.startswith("data:"))
        assert line.endswith(
            'labels raw (data.target_transform "auto": one series).'
            if path == auto
            else "labels raw (data.target_transform)."
        )
    assert tables[0] == tables[1]
    # a study tuned under "auto" records the transform it used
    assert main(["tune", "--config", str(auto), "--no-progress"]) == 0
    assert 'labels raw (data.target_transform "auto": one series)' in capsys.readouterr().err
    study = tuning.load_study(load_config(auto))
    assert study.user_attrs["fingerprint"]["keys"]["data.target_transform"] == "raw"


@pytest.mark.parametrize("transform", ["demean", "zscore"])
def test_an_explicit_cross_sectional_transform_on_one_series_is_still_refused(tmp_path, series_csv, transform):
    cfg = load_config(_series(tmp_path, series_csv, transform, transform))
    with pytest.raises(
        DataError,
        match=rf"data.target_transform = '{transform}' .* leaves a single series no label "
        r"to learn: set data.target_transform = \"raw\" \(or \"auto\"",
    ):
        evaluation.prepare_data(cfg)
    # the data line, printed before the refusal, names the transform asked for
    assert evaluation.describe_data(cfg, evaluation.load_data(cfg)).endswith(
        f"labels {transform} (data.target_transform)."
    )


def test_the_refusal_on_the_command_line_is_the_data_line_then_one_error_line(tmp_path, series_csv, capsys):
    path = _series(tmp_path, series_csv, "demean", "demean")
    assert main(["tune", "--config", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()  # the "data:" line, then the error
    assert len(err) == 2 and err[1].startswith("czar-gbdt tune: error: ") and "Traceback" not in err[1]
    assert "data.target_transform = 'demean'" in err[1] and err[0].endswith("labels demean (data.target_transform).")
    assert not (tmp_path / "runs").exists()


def test_auto_demeans_a_panel_and_resumes_a_study_made_with_demean(tmp_path, capsys):
    """A study tuned with the former default (an explicit "demean": what the fingerprint recorded) is
    the same study under "auto" on a panel: tune resumes it and report accepts it; "raw" is another."""
    auto = make_config(tmp_path / "auto.toml", **ff49_tiny("panel", tmp_path / "runs"))
    assert "target_transform" not in auto.read_text()
    old = make_config(
        tmp_path / "old.toml", **ff49_tiny("panel", tmp_path / "runs", data={"target_transform": "demean"})
    )
    raw = make_config(tmp_path / "raw.toml", **ff49_tiny("panel", tmp_path / "runs", data={"target_transform": "raw"}))
    cfg = load_config(auto)
    assert evaluation.resolve_config(cfg, evaluation.prepare_data(cfg)).data.target_transform == "demean"

    assert main(["tune", "--config", str(old), "--no-progress", "--trials", "1"]) == 0
    capsys.readouterr()
    study = tuning.load_study(load_config(old))
    assert study.user_attrs["fingerprint"]["keys"]["data.target_transform"] == "demean"
    assert main(["tune", "--config", str(auto), "--no-progress", "--trials", "1"]) == 0  # resumed: nothing to run
    out = capsys.readouterr()
    assert "already holds 1 finished trials" in out.err
    assert 'labels demean (data.target_transform "auto": a cross-section)' in out.err
    assert tuning.check_fingerprint(study, load_config(auto), "report") is None  # what report checks
    assert main(["tune", "--config", str(raw), "--no-progress", "--trials", "1"]) == 2
    err = capsys.readouterr().err
    assert 'data.target_transform (study: "demean"; config: "raw")' in err

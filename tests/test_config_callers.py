"""The commands' modules (compare, reporting, forecast) take the typed :class:`~czar_gbdt.config.Config`
as they take the validated dict, with the same results; ``data.target_transform = "auto"`` is the
transform the data resolved, and the files keep the file's conventions (``0``, ``""``)."""

import json

import pandas as pd
import pytest
from config_helpers import make_config, small_study

from czar_gbdt import compare, forecast, reporting, tuning
from czar_gbdt.config import Config, load, load_config
from czar_gbdt.datasets import make_synthetic_panel


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    """A fixed configuration (no search space) on a small synthetic panel, target_transform "auto"."""
    tmp = tmp_path_factory.mktemp("typed")
    csv = tmp / "panel.csv"
    make_synthetic_panel(n_dates=160, n_assets=8, n_features=3, signal_ic=0.2, seed=5).to_frame().to_csv(
        csv, index=False
    )
    return make_config(
        tmp,
        study=small_study("typed", tmp / "runs"),
        data={"source": str(csv), "horizon": 2},
        splits={"test_size": 40, "min_train_size": 60, "holdout": 20, "max_splits": 1},
        model={
            "backend": "lightgbm",
            "num_boost_round": 5,
            "params": {"num_leaves": 4, "min_child_samples": 10, "num_threads": 1},
        },
        loss={"name": "czar"},
        compare={"losses": ["czar", "zptae"], "ensemble": False},
        report={"baselines": ["zptae"]},
    )


def test_compare_takes_a_config_and_labels_with_the_resolved_transform(path):
    cfg = load(path)
    assert isinstance(cfg, Config) and cfg.data.target_transform == "auto"
    assert compare.model_specs(cfg, None, None) == compare.model_specs(load_config(path), None, None)
    typed = compare.compare_losses(cfg, write=False)
    plain = compare.compare_losses(load_config(path), write=False)
    assert typed.settings["target_transform"] == "demean"  # "auto" on a cross-section, as prepare_data resolved it
    assert typed.settings == plain.settings
    pd.testing.assert_frame_equal(typed.table.drop(columns="seconds"), plain.table.drop(columns="seconds"))


def test_fit_and_evaluate_take_a_config_and_the_card_keeps_the_file_conventions(path):
    cfg = load(path)
    model = forecast.fit_model(cfg)
    card = model.card
    # the decoded None of the typed config is written as the file has it
    assert card["early_stopping_rounds"] == 0
    assert card["training"]["data_start"] == "" and card["training"]["data_end"] == ""
    assert card["features"]["target_transform"] == "demean"
    plain = forecast.fit_model(load_config(path)).card
    assert {k: v for k, v in card.items() if k != "created_at"} == {k: v for k, v in plain.items() if k != "created_at"}
    assert forecast.model_dir(cfg) == forecast.model_dir(load_config(path))
    table = reporting.evaluate(cfg, [])
    assert list(table["loss"]) == list(reporting.evaluate(load_config(path), [])["loss"])
    assert table.attrs["book"] == {"top_k": cfg.compare.top_k, "cost": cfg.compare.cost}


def test_report_takes_a_config(path, tmp_path):
    storage = f"sqlite:///{tmp_path / 'other.db'}"
    tuning.tune(load_config(path), storage=storage, n_trials=1, show_progress=False)
    summary = reporting.report(load(path), storage=storage)
    assert summary["storage"] == storage and summary["holdout_status"] == "evaluated"
    assert summary["bakeoff"]["settings"]["target_transform"] == "demean"
    written = next(f for f in summary["files"] if f.endswith("holdout.json"))
    assert json.loads(open(written).read())["settings"]["target_transform"] == "demean"
    # the dict gives the same configuration: the stored result, and no "another configuration" note
    again = reporting.report(load_config(path), storage=storage)
    assert again["holdout_status"] == "stored" and again["holdout"] == summary["holdout"]
    assert "another configuration" not in again["note"]

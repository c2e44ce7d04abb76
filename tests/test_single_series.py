"""One asset: the time-series rank IC of each test window, Allora's scores as objectives, and the
cross-sectional outputs left out with one line saying why, through tune, report, evaluate and compare."""

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from config_helpers import make_config, small_study

import czar_gbdt as cg
from czar_gbdt import allora, evaluation, metrics, tuning
from czar_gbdt.cli import main
from czar_gbdt.config import ConfigError, load_config, validate_config
from czar_gbdt.datasets import DataError, make_synthetic_returns

ROOT = Path(__file__).resolve().parents[1]

# 700 business days of one asset whose return follows its own past 5 days (momentum 0.5): 59 dates of
# feature warm-up and the last one without a target leave 640; the splits use 200 + 1 + 300 + 1 + 100.
LEFT_OUT = "need several assets per date and are left out"


@pytest.fixture(scope="module")
def series_csv(tmp_path_factory):
    """A single series of daily returns with a planted signal (its own momentum), as a wide CSV of one column."""
    path = tmp_path_factory.mktemp("series") / "btc.csv"
    make_synthetic_returns(700, 1, momentum=0.5, seed=4).rename(columns={"A00": "BTC"}).to_csv(path)
    return path


#: What evaluate and compare need: the searched parameters fixed.
FIXED = {"params": {"num_leaves": 4}, "alpha": 0.5}


def series_config(tmp_path, data, name="series", objective="rank_ic", *, transform="raw", params=None, alpha=None):
    """3 trials on ``data``: 3 folds of 100 dates, a 100-date holdout, 30 rounds; leaves and CZAR's alpha searched
    unless ``params`` / ``alpha`` fix them. 700 business days of one asset whose return follows its own past 5
    days (momentum 0.5): 59 dates of feature warm-up and the last one without a target leave 640; the splits
    use 200 + 1 + 300 + 1 + 100."""
    return make_config(
        tmp_path / f"{name}.toml",
        study=small_study(name, tmp_path / "runs", n_trials=3, objective=objective),
        data={"source": data, "horizon": 1, "target_transform": transform},
        splits={"test_size": 100, "min_train_size": 200, "holdout": 100, "max_splits": 3},
        model={
            "num_boost_round": 30,
            "params": {
                "learning_rate": 0.1,
                "num_leaves": {"low": 3, "high": 6},
                "min_child_samples": 20,
                "num_threads": 1,
                **(params or {}),
            },
        },
        loss={"czar": {"alpha": {"low": 0.0, "high": 1.0} if alpha is None else alpha}},
    )


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, series_csv):
    """The series tuned from the command line (3 trials), with what tune printed."""
    tmp = tmp_path_factory.mktemp("tuned")
    path = series_config(tmp, series_csv)
    return path, tmp


def _tune(path, capsys, fmt="json"):
    assert main(["tune", "--config", str(path), "--no-progress", "--format", fmt]) == 0
    return capsys.readouterr()


def test_a_series_with_a_planted_signal_tunes_to_a_positive_time_series_rank_ic(tuned, capsys):
    path, _ = tuned
    captured = _tune(path, capsys)
    summary = json.loads(captured.out)
    assert "1 asset" in captured.err
    assert summary["rank_ic_kind"] == "time-series" and summary["scoring"].startswith("scoring: one series ('BTC')")
    assert summary["best_value"] > 0.1, summary["best_value"]
    folds = pd.DataFrame(summary["folds"])
    assert len(folds) == 3 and (folds["rank_ic"] > 0).all()
    assert not any(c.startswith("top_k") for c in folds.columns)  # no cross-section, no top-k book
    # the objective is the mean of the windows' time-series rank IC: retrain the best trial and recompute it
    cfg = load_config(path)
    study = tuning.load_study(cfg)
    params = tuning.fixed_params(study.best_trial, cfg)
    panel = evaluation.load_data(cfg)
    model = evaluation.ModelSpec(
        "lightgbm",
        params.booster,
        cg.get_loss("czar", **params.loss_params),
        num_boost_round=30,
        target_transform="raw",
        seed=3,
    )
    result = evaluation.walk_forward(
        panel, evaluation.make_splitter(cfg), model, evaluation.FoldScoring(time_series=True)
    )
    splitter = evaluation.make_splitter(cfg)
    for i, fold in enumerate(splitter.split_with_validation(groups=panel.dates)):
        test = panel.subset(fold.test)
        want = metrics.ts_rank_ic(test.y, result.fold_predictions[i])
        assert folds["rank_ic"][i] == pytest.approx(want, abs=1e-12)
        assert result.folds["rank_ic"][i] == pytest.approx(want, abs=1e-12)
    assert summary["best_value"] == pytest.approx(np.mean(folds["rank_ic"]), abs=1e-12)  # equal windows
    # the table output says which rank IC, and why the cross-sectional outputs are absent, in one line
    text = _tune(path, capsys, "table").out
    assert sum(LEFT_OUT in line for line in text.splitlines()) == 1
    assert "the rank IC is the time-series rank IC of each test window" in text


def test_report_evaluate_and_compare_on_a_series(tuned, series_csv, capsys):
    path, tmp = tuned
    _tune(path, capsys)
    assert main(["report", "--config", str(path), "--format", "json"]) == 0
    bakeoff = json.loads(capsys.readouterr().out)["bakeoff"]
    assert [m["spec"] for m in bakeoff["models"]] == ["tuned", "builtin"]
    assert bakeoff["left_out"] == ["lightgbm lambdarank (5 grades per date)"]
    assert bakeoff["rank_ic_kind"] == "time-series" and LEFT_OUT in bakeoff["scoring"]
    for m in bakeoff["models"]:
        assert not any(k.startswith("top_k") for k in m), m
        assert m["allora_scope"] == "series" and m["allora_grade"] == allora.allora_grade_letter(m["allora_points"])
        assert m["n_dates"] == 100
    assert bakeoff["models"][0]["rank_ic"] > 0
    # a single series' holdout rank IC still has a paired test: per-date terms of the time-series rank IC
    per_date = pd.read_csv(tmp / "runs" / "series" / "holdout_rank_ic.csv", index_col="date")
    (c,) = bakeoff["comparisons"]
    d = per_date[c["model"]] - per_date[c["baseline"]]
    assert c["diff"] == pytest.approx(bakeoff["models"][0]["rank_ic"] - bakeoff["models"][1]["rank_ic"], abs=1e-12)
    assert c["t_nw"] == pytest.approx(metrics.newey_west_t(d, 0), rel=1e-9)
    assert main(["report", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert sum(LEFT_OUT in line for line in lines) == 1
    assert [line for line in lines if "top-k" in line] == [next(line for line in lines if LEFT_OUT in line)]

    fixed = series_config(tmp, series_csv, name="fixed", **FIXED)
    assert main(["evaluate", "--config", str(fixed), "--loss", "builtin", "--loss", "ranking", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["loss"] for r in rows] == ["lightgbm built-in squared error"] and "top_k_net_spread" not in rows[0]
    assert main(["evaluate", "--config", str(fixed), "--loss", "czar"]) == 0
    assert LEFT_OUT in capsys.readouterr().out
    assert main(["compare", "--config", str(fixed), "--no-progress", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    labels = [r["loss"] for r in out["table"]]
    assert not any("lambdarank" in lbl or "ensemble" in lbl for lbl in labels) and len(labels) == 4
    assert not any(k.startswith("top_k") or k.endswith("vs_ranking") for k in out["table"][0])
    assert all(r["allora_scope"] == "series" and 0 <= r["allora_points"] <= 7 for r in out["table"])
    assert LEFT_OUT in out["settings"]["scoring"] and out["settings"]["rank_ic"] == "time-series"
    assert main(["compare", "--config", str(fixed), "--no-progress", "--loss", "ranking"]) == 2
    assert "nothing to compare on one series" in capsys.readouterr().err


def test_the_time_series_and_allora_objectives(tmp_path, series_csv):
    explicit = tuning.tune(
        load_config(series_config(tmp_path, series_csv, "explicit", "ts_rank_ic")), show_progress=False
    )
    implicit = tuning.tune(load_config(series_config(tmp_path, series_csv, "implicit", "rank_ic")), show_progress=False)
    assert [t.value for t in explicit.trials] == [t.value for t in implicit.trials]
    cfg = load_config(series_config(tmp_path, series_csv, "allora", "allora_czar_improvement"))
    study = tuning.tune(cfg, show_progress=False)
    panel = evaluation.load_data(cfg)
    folds = list(evaluation.make_splitter(cfg).split_with_validation(groups=panel.dates))
    for trial in study.trials:
        rows = tuning.trial_folds(trial)
        assert trial.value == pytest.approx(rows["allora_czar_improvement"].mean(), abs=1e-12)
        assert (rows["allora_scope"] == "series").all()
        assert trial.intermediate_values[0] == pytest.approx(rows["allora_czar_improvement"][0], abs=1e-12)
    # a fold's score is Allora's CZAR improvement of the window's forecasts, recomputed here
    params = tuning.fixed_params(study.best_trial, cfg)
    train, test = panel.subset(folds[0].train), panel.subset(folds[0].test)
    (pred,), _ = evaluation.fit_predict(
        "lightgbm",
        params.booster,
        cg.get_loss("czar", **params.loss_params),
        train,
        [test],
        num_boost_round=30,
        target_transform="raw",
        seed=3,
    )
    want = allora.allora_czar_improvement(test.y, pred)
    assert tuning.trial_folds(study.best_trial)["allora_czar_improvement"][0] == pytest.approx(want, abs=1e-12)
    assert tuning.trial_folds(study.best_trial)["allora_grade"][0] == allora.allora_grade(test.y, pred)["allora_grade"]


def test_what_a_series_is_refused(tmp_path, series_csv):
    cfg = load_config(series_config(tmp_path, series_csv, objective="icir"))
    with pytest.raises(
        DataError,
        match=r"a single asset \('BTC'\); study.objective = 'icir' is the ICIR of the rank "
        r"IC across assets.*use 'rank_ic' or 'ts_rank_ic'",
    ):
        evaluation.prepare_data(cfg)
    for transform in ("demean", "zscore"):
        cfg = load_config(series_config(tmp_path, series_csv, transform=transform))
        with pytest.raises(
            DataError,
            match=rf"data.target_transform = '{transform}' .* leaves a single series no "
            r"label to learn: set data.target_transform = \"raw\"",
        ):
            evaluation.prepare_data(cfg)
    assert not (tmp_path / "runs").exists()


def test_early_stopping_on_a_series_watches_its_time_series_rank_ic(series_csv, tmp_path):
    cfg = load_config(series_config(tmp_path, series_csv))
    panel = evaluation.load_data(cfg)
    train, valid = panel.subset(np.arange(0, 300)), panel.subset(np.arange(301, 400))
    loss = cg.get_loss("czar", alpha=0.5)
    params = {"learning_rate": 0.3, "num_leaves": 4, "min_child_samples": 20, "num_threads": 1}
    (pred,), rounds = evaluation.fit_predict(
        "lightgbm",
        params,
        loss,
        train,
        [valid],
        valid=valid,
        num_boost_round=25,
        early_stopping_rounds=25,
        target_transform="raw",
    )
    # with patience as long as the run, the kept round is the first best validation time-series rank IC
    (full,), _ = evaluation.fit_predict(
        "lightgbm", params, loss, train, [valid], num_boost_round=25, target_transform="raw"
    )
    from czar_gbdt.lightgbm import train_loss

    model = train_loss(loss, train.X.to_numpy(), train.y, std=train.std, params=params, num_boost_round=25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant first-round forecast has no rank IC
        scores = [
            metrics.ts_rank_ic(valid.y, model.model.predict(valid.X.to_numpy(), num_iteration=k)) for k in range(1, 26)
        ]
    scores = [s if math.isfinite(s) else -np.inf for s in scores]
    assert rounds == int(np.argmax(scores)) + 1 and rounds < 25
    np.testing.assert_allclose(full, model.predict(valid.X.to_numpy()))


def test_ts_rank_ic_by_date_splits_the_window_rank_ic_into_terms():
    rng = np.random.default_rng(3)
    y, p = rng.normal(size=80), rng.normal(size=80)
    p[:10] = p[0]  # ties
    y[[4, 50]] = np.nan  # left out
    dates = pd.bdate_range("2024-01-01", periods=80)
    terms = metrics.ts_rank_ic_by_date(y, p, dates=dates)
    assert terms.index.equals(pd.Index(dates, name="date")) and terms.isna().sum() == 2
    assert terms.mean() == pytest.approx(metrics.ts_rank_ic(y, p), abs=1e-12)
    # two forecasts of the same target: the terms' difference is a paired series with the rank ICs' difference
    q = p + rng.normal(size=80)
    d = terms - metrics.ts_rank_ic_by_date(y, q, dates=dates)
    assert d.mean() == pytest.approx(metrics.ts_rank_ic(y, p) - metrics.ts_rank_ic(y, q), abs=1e-12)
    # the t-stat of the terms is a test of the rank IC: large for a forecast with skill
    skilled = metrics.ts_rank_ic_by_date(y, np.nan_to_num(y) + 0.5 * rng.normal(size=80), dates=dates)
    assert metrics.t_stat(skilled) > 5 and abs(metrics.t_stat(terms)) < 3
    # a panel: each asset's series on its own, then the mean over the assets on each date
    assets = np.repeat(["a", "b"], 40)
    both = metrics.ts_rank_ic_by_date(np.nan_to_num(y), p, dates=np.tile(dates[:40], 2), assets=assets)
    per_asset = [metrics.ts_rank_ic(np.nan_to_num(y)[s], p[s]) for s in (slice(0, 40), slice(40, 80))]
    assert both.mean() == pytest.approx(np.mean(per_asset), abs=1e-12) and len(both) == 40
    with pytest.warns(RuntimeWarning, match="every term is NaN"):
        assert metrics.ts_rank_ic_by_date(y, np.ones(80), dates=dates).isna().all()
    with pytest.raises(ValueError, match="dates is required"):
        metrics.ts_rank_ic_by_date(y, p, dates=None)


def test_one_column_of_a_wide_table_and_the_time_series_rank_ic_of_a_panel():
    """data.wide.columns keeps some assets of a wide table (one: a series); study.objective = "ts_rank_ic"
    on a panel scores each asset's series and averages over the assets; the top-k book stays."""
    cfg = validate_config(
        {
            "data": {
                "source": "ff49",
                "start": "2019-01-01",
                "horizon": 1,
                "target_transform": "raw",
                "wide": {"columns": ["Oil"]},
            }
        }
    )
    panel = evaluation.load_data(cfg)
    assert list(panel.assets.unique()) == ["Oil"] and evaluation.scoring(cfg, panel).single_series
    cfg = validate_config(
        {
            "study": {"objective": "ts_rank_ic"},
            "data": {"source": "ff49", "start": "2019-01-01", "wide": {"columns": ["Oil", "Gold", "Softw"]}},
        }
    )
    panel = evaluation.load_data(cfg)
    how = evaluation.scoring(cfg, panel)
    assert how.time_series and not how.single_series and "averaged over the 3 assets" in how.describe()
    test = panel.subset(np.flatnonzero(panel.dates >= pd.Timestamp("2021-01-01")))
    pred = np.asarray(test.X["ret_5"])
    scores, per_date = evaluation.score_predictions(test, pred, top_k=1, time_series=True)
    want = np.mean([metrics.ts_rank_ic(test.y[test.assets == a], pred[test.assets == a]) for a in how.assets])
    assert scores["rank_ic"] == pytest.approx(want, abs=1e-12) and "top_k_net_spread" in scores
    with pytest.raises(
        DataError,
        match=r"data.wide.columns names \['Bitcoin'\], which the table does not have; its "
        r"asset columns are \['Agric'",
    ):
        evaluation.load_data(validate_config({"data": {"source": "ff49", "wide": {"columns": ["Oil", "Bitcoin"]}}}))
    with pytest.raises(ConfigError, match="data.wide.columns must be a list of distinct column names"):
        validate_config({"data": {"source": "ff49", "wide": {"columns": ["Oil", "Oil"]}}})


def test_study_objective_names_the_new_choices():
    for objective in (
        "ts_rank_ic",
        "allora_czar_improvement",
        "allora_directional_accuracy",
        "allora_da_ci_lower",
        "allora_pearson_r",
        "allora_wrmse_improvement",
    ):
        assert validate_config({"study": {"objective": objective}})["study"]["objective"] == objective
    with pytest.raises(ValueError, match=r"study.objective must be one of .*got 'allora_da_p_value'"):
        validate_config({"study": {"objective": "allora_da_p_value"}})  # a p-value is not a target


def test_the_shipped_allora_config_tunes_one_ff49_industry():
    cfg = load_config(ROOT / "configs" / "allora_series.toml")
    panel = evaluation.prepare_data(cfg, tuning.search_losses(cfg))
    how = evaluation.scoring(cfg, panel)
    assert how.single_series and cfg["study"]["objective"] == "allora_czar_improvement"


def test_a_long_panel_with_one_asset_is_a_series_too(tmp_path, series_csv, capsys):
    cfg = load_config(series_config(tmp_path, series_csv))
    long = tmp_path / "long.csv"
    evaluation.load_data(cfg).to_frame().to_csv(long, index=False)  # date, asset, features, target, std
    path = series_config(tmp_path, long, name="long", **FIXED)
    assert main(["evaluate", "--config", str(path), "--loss", "czar", "--loss", "builtin", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "long (features from the file)" in captured.err and "1 asset" in captured.err
    rows = json.loads(captured.out)
    assert len(rows) == 2 and all(r["mean_rank_ic"] > 0 for r in rows)


def test_scoring_leaves_ranking_out_on_one_series_and_on_a_cluster():
    from czar_gbdt.evaluation import Scoring
    from czar_gbdt.ranking import RankObjective

    ranking, czar = RankObjective(), cg.get_loss("czar")
    panel = Scoring("rank_ic", False, ("a", "b"))
    assert panel.keeps(ranking) and panel.keeps(czar) and panel.keeps(None)
    on_cluster = Scoring("rank_ic", False, ("a", "b"), cluster=True)
    assert not on_cluster.keeps(ranking) and on_cluster.keeps(czar) and on_cluster.keeps(None)
    assert "not trained on a Dask cluster" in on_cluster.describe()
    assert "Dask" not in panel.describe()
    assert not Scoring("rank_ic", True, ("a",)).keeps(ranking)

"""The walk-forward engine on its own (no configuration): the typed arguments, walk_forward and
score_folds on a tiny synthetic panel with real boosters, fit_predict with the ranking objectives."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import czar_gbdt as cg
from czar_gbdt import evaluation, metrics, ranking
from czar_gbdt.config import validate_config
from czar_gbdt.datasets import make_synthetic_panel
from czar_gbdt.evaluation import FoldHooks, FoldScoring, HoldoutSplit, ModelSpec, score_folds, walk_forward
from czar_gbdt.model_selection import WalkForward

LGB = {"num_leaves": 4, "learning_rate": 0.2, "min_child_samples": 5, "num_threads": 1}


@pytest.fixture(scope="module")
def panel():
    """60 dates of 12 assets with a planted signal: three folds of 10 test dates."""
    return make_synthetic_panel(n_dates=60, n_assets=12, n_features=3, signal_ic=0.3, seed=1)


@pytest.fixture(scope="module")
def splitter():
    return WalkForward(horizon=1, test_size=10, min_train_size=20, valid_size=5)


def czar_spec(**changes):
    return ModelSpec("lightgbm", LGB, cg.get_loss("czar", alpha=0.5), **{"num_boost_round": 8, **changes})


# ---------------------------------------------------------------------------------------------------------------
# the typed arguments


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"num_boost_round": 0}, "ModelSpec: num_boost_round must be >= 1; got 0."),
        ({"num_boost_round": 2.5}, "ModelSpec: num_boost_round must be an integer >= 0; got 2.5."),
        ({"early_stopping_rounds": -1}, "ModelSpec: early_stopping_rounds must be an integer >= 0; got -1."),
        ({"seed": True}, "ModelSpec: seed must be an integer >= 0; got True."),
        (
            {"target_transform": "rank"},
            "ModelSpec: target_transform must be one of ['raw', 'demean', 'zscore', 'auto']; got 'rank'.",
        ),
    ],
)
def test_model_spec_refuses_bad_values_in_one_line(changes, message):
    with pytest.raises(ValueError) as err:
        czar_spec(**changes)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"top_k": 0}, "FoldScoring: top_k must be an integer >= 1; got 0."),
        ({"cost": -0.001}, "FoldScoring: cost must be a finite number >= 0; got -0.001."),
        ({"cost": float("nan")}, "FoldScoring: cost must be a finite number >= 0; got nan."),
    ],
)
def test_fold_scoring_refuses_bad_values_in_one_line(changes, message):
    with pytest.raises(ValueError) as err:
        FoldScoring(**changes)
    assert str(err.value) == message


def test_the_typed_arguments_are_frozen_and_keep_their_own_booster_params():
    params = {"num_leaves": 4}
    spec = ModelSpec("lightgbm", params)
    params["num_leaves"] = 64  # the caller's dict changes later: the spec does not
    assert spec.booster_params == {"num_leaves": 4}
    for frozen, name in ((spec, "num_boost_round"), (FoldScoring(), "top_k"), (FoldHooks(), "predict")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(frozen, name, 1)
    assert spec.label() == "None, lightgbm"


def test_the_config_glue_builds_the_typed_arguments_from_a_configuration(panel):
    cfg = validate_config(
        {
            "model": {"num_boost_round": 30, "early_stopping_rounds": 5},
            "data": {"target_transform": "demean"},
            "study": {"name": "glue", "seed": 7},
            "splits": {"valid_size": 5},
            "compare": {"top_k": 3, "cost": 0.001},
        }
    )
    loss = cg.get_loss("czar")
    assert evaluation.model_spec(cfg, "xgboost", {"max_depth": 2}, loss) == ModelSpec(
        "xgboost",
        {"max_depth": 2},
        loss,
        num_boost_round=30,
        early_stopping_rounds=5,
        target_transform="demean",
        seed=7,
    )
    trial = evaluation.model_spec(cfg, "xgboost", {}, loss, num_boost_round=12, early_stopping_rounds=0)
    assert (trial.num_boost_round, trial.early_stopping_rounds) == (12, 0)
    assert evaluation.fold_scoring(cfg, panel, allora=True) == FoldScoring(3, 0.001, time_series=False, allora=True)
    single = panel.subset(np.flatnonzero(panel.assets == panel.assets[0]))
    assert evaluation.fold_scoring(cfg, single).time_series  # one series: the time-series rank IC


# ---------------------------------------------------------------------------------------------------------------
# walk_forward


def test_walk_forward_trains_and_scores_each_fold_with_a_real_booster(panel, splitter):
    seen = []
    hooks = FoldHooks(
        on_fold=lambda i, row, per_date: seen.append((i, row["fold"], len(per_date))),
        score_extra=lambda test, pred: {"n_rows": len(test)},
    )
    result = walk_forward(panel, splitter, czar_spec(), FoldScoring(top_k=3, cost=0.001), hooks)
    folds = list(splitter.split_with_validation(groups=panel.dates))
    assert list(result.folds["fold"]) == [0, 1, 2] and seen == [(0, 0, 10), (1, 1, 20), (2, 2, 30)]
    assert (result.folds["n_rows"] == 120).all() and (result.folds["rounds"] == 8).all()
    for i, fold in enumerate(folds):
        train, test, valid = panel.subset(fold.train), panel.subset(fold.test), panel.subset(fold.valid)
        # the fold's model is fit_predict's (same data, same seed), and its scores are score_predictions'
        (want,), _ = evaluation.fit_predict(
            "lightgbm", LGB, cg.get_loss("czar", alpha=0.5), train, [test], valid=valid, num_boost_round=8
        )
        np.testing.assert_array_equal(result.fold_predictions[i], want)
        scores, _ = evaluation.score_predictions(test, want, top_k=3, cost=0.001)
        for name in ("rank_ic", "ic", "directional_accuracy", "top_k_net_spread"):
            assert result.folds[name][i] == pytest.approx(scores[name], abs=1e-12)
        assert result.folds["test_start"][i] == test.dates[0] and result.folds["train_end"][i] == train.dates[-1]
    assert result.mean_rank_ic > 0.1  # the planted signal
    assert result.summary()["n_folds"] == 3 and result.summary()["n_dates"] == 30


def test_walk_forward_resolves_auto_labels_on_the_panel(panel, splitter):
    auto = walk_forward(panel, splitter, czar_spec(target_transform="auto"))
    demean = walk_forward(panel, splitter, czar_spec(target_transform="demean"))
    raw = walk_forward(panel, splitter, czar_spec(target_transform="raw"))
    np.testing.assert_array_equal(auto.predictions, demean.predictions)  # a cross-section: demean
    assert not np.array_equal(auto.predictions, raw.predictions)


def test_walk_forward_early_stopping_keeps_fewer_rounds_than_it_trains(panel, splitter):
    result = walk_forward(panel, splitter, czar_spec(num_boost_round=40, early_stopping_rounds=2))
    assert ((result.folds["rounds"] >= 1) & (result.folds["rounds"] <= 40)).all()
    assert (result.folds["rounds"] < 40).any()


def test_a_predict_hook_replaces_the_training(panel, splitter):
    """compare's ensemble: predictions of already trained models, scored fold by fold like a model."""
    calls = []

    def perfect(i, train, test, valid):
        calls.append((i, len(train), len(test), len(valid)))
        return test.y, 0

    result = walk_forward(panel, splitter, ModelSpec("no-such-backend"), hooks=FoldHooks(predict=perfect))
    assert calls == [(0, 276, 120, 60), (1, 396, 120, 60), (2, 516, 120, 60)]
    assert result.folds["rank_ic"].to_numpy() == pytest.approx(1.0) and (result.folds["rounds"] == 0).all()


def test_walk_forward_adds_allora_scores_and_scores_one_series_over_time(panel, splitter):
    single = panel.subset(np.flatnonzero(panel.assets == panel.assets[0]))
    series = WalkForward(horizon=1, test_size=10, min_train_size=20)
    result = walk_forward(single, series, czar_spec(), FoldScoring(time_series=True, allora=True))
    assert set(evaluation.ALLORA_COLUMNS) <= set(result.folds.columns)
    assert (result.folds["allora_scope"] == "series").all()
    assert not any(c.startswith("top_k") for c in result.folds.columns)  # one asset: no top-k book
    for i, fold in enumerate(series.split_with_validation(groups=single.dates)):
        test = single.subset(fold.test)
        assert result.folds["rank_ic"][i] == pytest.approx(
            metrics.ts_rank_ic(test.y, result.fold_predictions[i]), abs=1e-12
        )


def test_holdout_split_trains_before_the_holdout_and_scores_it_once(panel):
    splitter = WalkForward(horizon=1, test_size=10, min_train_size=20, holdout=8)
    result = walk_forward(panel, HoldoutSplit(splitter), czar_spec())
    dates = pd.DatetimeIndex(pd.unique(panel.dates))
    scores = evaluation.holdout_scores(result)
    assert len(result.folds) == 1 and result.per_date.index.nunique() == 8
    assert (scores["start"], scores["end"]) == (evaluation.iso_date(dates[-8]), evaluation.iso_date(dates[-1]))
    assert result.folds["train_end"][0] < dates[-8]


def test_fit_panel_trains_the_spec_on_every_row_without_early_stopping(panel):
    spec = czar_spec(num_boost_round=6, early_stopping_rounds=2, seed=4)
    trained = evaluation.fit_panel(panel, spec)
    (want,), rounds = evaluation.fit_predict("lightgbm", LGB, spec.loss, panel, [panel], num_boost_round=6, seed=4)
    assert trained.rounds == rounds == 6
    np.testing.assert_array_equal(trained.predict(panel.X.to_numpy(dtype=np.float64), std=panel.std), want)


def test_run_walk_forward_reads_the_model_book_and_seed_of_a_configuration(panel, tmp_path):
    """The config glue: a configuration's fixed model, labels, seed and book become the engine's typed arguments."""
    from config_helpers import make_config, small_study

    from czar_gbdt.config import load_config

    csv = tmp_path / "panel.csv"
    panel.to_frame().to_csv(csv, index=False)
    params = {**LGB, "feature_fraction": 0.5}  # the seed matters
    cfg = load_config(
        make_config(
            tmp_path,
            study=small_study("engine", tmp_path / "runs"),
            data={"source": str(csv), "horizon": 1, "target_transform": "demean"},
            splits={"test_size": 10, "min_train_size": 20, "valid_size": 5, "holdout": 0},
            model={"num_boost_round": 7, "early_stopping_rounds": 0, "params": params},
            compare={"top_k": 2, "cost": 0.002},
        )
    )
    loaded = evaluation.prepare_data(cfg)
    loss = cg.get_loss("czar", alpha=0.5)
    result = evaluation.run_walk_forward(cfg, loaded, evaluation.make_splitter(cfg), loss)
    want = walk_forward(
        loaded,
        evaluation.make_splitter(cfg),
        ModelSpec("lightgbm", params, loss, num_boost_round=7, target_transform="demean", seed=3),
        FoldScoring(top_k=2, cost=0.002),
    )
    pd.testing.assert_frame_equal(result.folds, want.folds)
    assert (result.folds["rounds"] == 7).all() and len(result.folds) == 3
    other_seed = walk_forward(
        loaded,
        evaluation.make_splitter(cfg),
        ModelSpec("lightgbm", params, loss, num_boost_round=7, target_transform="demean"),
        FoldScoring(top_k=2, cost=0.002),
    )
    assert not np.array_equal(other_seed.predictions, result.predictions)


def test_the_config_glue_takes_a_typed_config_or_its_dict_and_resolves_auto_into_a_copy(panel, tmp_path):
    """A Config and its validated dict give the same panel (one cache entry, keyed by the data section without
    its transform), splitter and table; "auto" is resolved into a copy, never written into the config."""
    from czar_gbdt.config import Config

    csv = tmp_path / "panel.csv"
    panel.to_frame().to_csv(csv, index=False)
    raw = {
        "study": {"name": "typed"},
        "data": {"source": str(csv), "horizon": 1},
        "splits": {"test_size": 10, "min_train_size": 20, "holdout": 0, "max_splits": 2},
        "model": {"num_boost_round": 5, "params": LGB},
        "loss": {"name": "czar"},
    }
    cfg = validate_config(raw)
    typed = Config.from_validated(cfg, path="typed.toml")
    loaded = evaluation.load_data(typed)
    assert evaluation.load_data(cfg) is loaded
    resolved = evaluation.resolve_config(typed, loaded)
    assert resolved.data.target_transform == "demean" and typed.data.target_transform == "auto"
    assert resolved.path == "typed.toml" and evaluation.resolve_config(resolved, loaded) is resolved
    assert evaluation.load_data(resolved) is loaded  # the labels' transform is not the panel's key
    assert [f.test_start for f in evaluation.make_splitter(typed).fold_positions(60)] == [40, 50]  # the last 2
    assert evaluation.prepare_data(cfg) is loaded and cfg["data"]["target_transform"] == "auto"
    assert evaluation.resolve_config(cfg, loaded).data == resolved.data
    assert evaluation.resolve_target_transform(cfg, loaded) == "demean" and cfg["data"]["target_transform"] == "auto"
    specs = [("czar", {"alpha": 0.5})]
    demean = validate_config({**raw, "data": {**raw["data"], "target_transform": "demean"}})
    pd.testing.assert_frame_equal(evaluation.evaluate_losses(typed, specs), evaluation.evaluate_losses(demean, specs))


# ---------------------------------------------------------------------------------------------------------------
# score_folds: its error paths


def folds_of(panel, splitter):
    return [
        (panel.subset(f.train), panel.subset(f.test), None) for f in splitter.split_with_validation(groups=panel.dates)
    ]


def test_score_folds_refuses_a_prediction_of_the_wrong_shape(panel, splitter):
    with pytest.raises(ValueError, match=r"^fold 0: predict returned shape \(119,\) for 120 test rows\.$"):
        score_folds(folds_of(panel, splitter), lambda i, train, test, valid: (test.y[1:], 0))


def test_score_folds_refuses_non_finite_predictions_naming_the_model(panel, splitter):
    def broken(i, train, test, valid):
        pred = test.y.copy()
        if i == 1:
            pred[3] = np.inf
        return pred, 0

    seen = []
    with pytest.raises(FloatingPointError, match=r"^fold 1: the model predicted non-finite values \(my model\)\.$"):
        score_folds(
            folds_of(panel, splitter), broken, hooks=FoldHooks(on_fold=lambda i, *_: seen.append(i)), model="my model"
        )
    assert seen == [0]  # the first fold was scored and reported before the second failed


def test_score_folds_refuses_a_splitter_without_folds(panel):
    with pytest.raises(ValueError, match="the splitter yields no fold on this data"):
        score_folds([], lambda *args: (np.zeros(0), 0))


def test_an_on_fold_error_stops_the_loop(panel, splitter):
    """The tuner prunes by raising from on_fold: no later fold is trained."""
    trained = []

    def predict(i, train, test, valid):
        trained.append(i)
        return test.y, 0

    def prune(i, row, per_date):
        raise RuntimeError(f"pruned after fold {i}")

    with pytest.raises(RuntimeError, match="pruned after fold 0"):
        score_folds(folds_of(panel, splitter), predict, hooks=FoldHooks(on_fold=prune))
    assert trained == [0]


# ---------------------------------------------------------------------------------------------------------------
# fit_predict with the backends' ranking objectives


@pytest.mark.parametrize(
    "backend, module, attr, key, threads",
    [
        ("lightgbm", "lightgbm", "Dataset", "group", {"num_threads": 1}),
        ("xgboost", "xgboost", "DMatrix", "qid", {"nthread": 1}),
    ],
)
def test_ranking_objective_uses_one_query_group_per_date(monkeypatch, backend, module, attr, key, threads):
    import importlib

    lib = importlib.import_module(module)
    seen = []
    original = getattr(lib, attr)

    class Recording(original):
        def __init__(self, *args, **kwargs):
            if kwargs.get(key) is not None:
                seen.append((np.asarray(args[1]), np.asarray(kwargs[key])))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(lib, attr, Recording)
    panel = make_synthetic_panel(n_dates=100, n_assets=15, n_features=4, signal_ic=0.3, seed=3)
    train, test = panel.subset(np.arange(40 * 15)), panel.subset(np.arange(40 * 15, 100 * 15))
    (pred,), _ = evaluation.fit_predict(
        backend, threads, ranking.RankObjective(n_bins=5), train, [test], num_boost_round=20
    )
    assert len(seen) == 1
    labels, groups = seen[0]
    if key == "group":  # lightgbm: rows per query
        np.testing.assert_array_equal(groups, np.full(40, 15))
    else:  # xgboost: query id per row, one per date
        np.testing.assert_array_equal(groups, np.repeat(np.arange(40), 15))
    # grades 0..4, three assets each, on every date
    per_date = pd.Series(labels).groupby(np.repeat(np.arange(40), 15)).value_counts()
    assert (per_date == 3).all() and set(labels) == {0, 1, 2, 3, 4}
    assert metrics.rank_ic(test.y, pred, dates=test.dates).mean > 0.1


def test_catboost_ranking_runs():
    panel = make_synthetic_panel(n_dates=50, n_assets=12, n_features=4, signal_ic=0.3, seed=4)
    train, test = panel.subset(np.arange(35 * 12)), panel.subset(np.arange(35 * 12, 50 * 12))
    (pred,), rounds = evaluation.fit_predict(
        "catboost", {"depth": 3, "thread_count": 1}, ranking.RankObjective(), train, [test], num_boost_round=30
    )
    assert rounds == 30 and pred.shape == (len(test),)
    assert metrics.rank_ic(test.y, pred, dates=test.dates).mean > 0.1

"""Shared check of the backend modules' training interface (not a test module itself).

``train_builtin``, ``train_ranking`` and ``train_loss`` of each backend module must give
the predictions and rounds that ``czar_gbdt.evaluation.fit_predict`` gives for the same
backend, kind of model and data: the backend's built-in squared error, its ranking
objective (one query group per date, quantile grades), a loss with std and weights, and
a loss with early stopping on the validation rank IC. The test files of the backends
call :func:`check_same_as_fit_predict` with their module.
"""

import dataclasses

import numpy as np

import czar_gbdt as cg
from czar_gbdt import evaluation
from czar_gbdt.datasets import make_synthetic_panel

KINDS = ["builtin", "ranking", "loss_with_std_and_weights", "loss_with_early_stopping"]

PARAMS = {
    "xgboost": {"max_depth": 3, "eta": 0.1},
    "lightgbm": {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 10},
    "catboost": {"depth": 3, "learning_rate": 0.1},
}
ROUNDS, MAX_ROUNDS, STOP, SEED = 15, 150, 5, 7


def panels():
    """Train (weighted), validation and test windows of a small synthetic panel."""
    panel = make_synthetic_panel(n_dates=70, n_assets=20, n_features=5, signal_ic=0.1, vol_dispersion=0.3, seed=3)
    dates = np.unique(panel.dates)

    def window(lo, hi):
        return panel.subset(np.flatnonzero((panel.dates >= dates[lo]) & (panel.dates <= dates[hi - 1])))

    train = window(0, 40)
    weight = np.random.default_rng(0).uniform(0.5, 2.0, len(train))
    return dataclasses.replace(train, weight=weight), window(40, 55), window(55, 70)


def features(panel):
    return panel.X.to_numpy(dtype=np.float64)


def check_same_as_fit_predict(module, kind):
    """``module``'s training interface == ``evaluation.fit_predict`` for one kind of model."""
    backend = module.__name__.rsplit(".", 1)[-1]
    params = PARAMS[backend]
    train, valid, test = panels()
    common = {"params": params, "seed": SEED}
    if kind == "builtin":
        (expected,), rounds = evaluation.fit_predict(backend, params, None, train, [test], num_boost_round=ROUNDS,
                                                     seed=SEED)
        model = module.train_builtin(features(train), train.y, weight=train.weight, num_boost_round=ROUNDS, **common)
    elif kind == "ranking":
        rank = evaluation.RankObjective(n_bins=5)
        (expected,), rounds = evaluation.fit_predict(backend, params, rank, train, [test], num_boost_round=ROUNDS,
                                                     seed=SEED)
        grades = evaluation.rank_labels(train.y, train.dates, rank.n_bins)
        model = module.train_ranking(features(train), grades, evaluation.query_sizes(train.dates),
                                     objective=rank.resolve(backend), n_grades=rank.n_bins, num_boost_round=ROUNDS,
                                     **common)
    else:
        loss = cg.CZAR()
        stop, n = (STOP, MAX_ROUNDS) if kind == "loss_with_early_stopping" else (0, ROUNDS)
        (expected,), rounds = evaluation.fit_predict(backend, params, loss, train, [test], valid=valid,
                                                     num_boost_round=n, early_stopping_rounds=stop, seed=SEED)
        y, std = evaluation.label_target(train, "raw")
        y_valid, std_valid = evaluation.label_target(valid, "raw")
        model = module.train_loss(loss, features(train), y, std=std, weight=train.weight, valid_X=features(valid),
                                  valid_y=y_valid, valid_std=std_valid, valid_dates=valid.dates,
                                  early_stopping_rounds=stop, num_boost_round=n, **common)
        if stop:
            assert rounds < n  # early stopping happened
    np.testing.assert_array_equal(model.predict(features(test), std=test.std), expected)
    assert model.rounds == rounds

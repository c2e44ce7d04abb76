"""Data and checks shared by the backend test files (not a test module itself).

* The fake training and validation data of tests/test_xgboost.py and tests/test_lightgbm.py
  (:func:`make_data`, :func:`train_and_valid`, :func:`weighted_and_duplicated`,
  :func:`rank_ic_data`).
* :func:`check_same_as_fit_predict`: ``train_builtin``, ``train_ranking`` and
  ``train_loss`` of each backend module must give the predictions and rounds that
  ``czar_gbdt.evaluation.fit_predict`` gives for the same backend, kind of model and
  data: the backend's built-in squared error, its ranking objective (one query group
  per date, quantile grades), a loss with std and weights, and a loss with early
  stopping on the validation rank IC.
"""

import dataclasses

import numpy as np

import czar_gbdt as cg
from czar_gbdt import evaluation
from czar_gbdt.datasets import make_synthetic_panel

REGRESSION = ["czar", "zptae", "mse"]
BINARY = ["focal", "asymmetric"]


def make_data(n=400, seed=0, binary=False, std_scale=0.01):
    """Features, labels and a per-row std (returns-like scale); binary: 0/1 labels, no std."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    signal = 0.5 * X[:, 0] - 0.3 * X[:, 1] * X[:, 2]
    if binary:
        return X, (signal + rng.normal(size=n) > 0.3).astype(np.float64), None
    std = std_scale * np.exp(0.3 * rng.normal(size=n))
    return X, std * (signal + rng.standard_t(5, size=n)), std


def train_and_valid(name):
    """The loss ``name``, whether it is binary, and (X, y, std) of a training and a validation set."""
    loss = cg.get_loss(name)
    binary = loss.kind == "binary"
    return loss, binary, make_data(binary=binary), make_data(200, seed=1, binary=binary, std_scale=0.03)


def weighted_and_duplicated(name):
    """Weight 2 on the first 25 rows, and the rows that duplicate them.

    Returns the loss, X, y, the weights, the duplicating row index and the std keyword
    arguments of the weighted and of the duplicated data (empty for binary losses).
    """
    loss = cg.get_loss(name)
    X, y, std = make_data(300, seed=3, binary=loss.kind == "binary")
    w = np.ones(len(y))
    w[:25] = 2.0
    dup = np.r_[np.arange(len(y)), np.arange(25)]
    kw = {} if std is None else {"std": std}
    kw_d = {} if std is None else {"std": std[dup]}
    return loss, X, y, w, dup, kw, kw_d


def rank_ic_data(seed=11):
    """A panel (dates x assets) with a weak signal, so the validation rank IC peaks and then decays."""
    rng = np.random.default_rng(seed)
    n_dates, n_assets = 60, 20
    dates = np.repeat(np.arange(n_dates), n_assets)
    X = rng.normal(size=(n_dates * n_assets, 6))
    std = 0.01 * np.exp(0.3 * rng.normal(size=len(dates)))
    y = std * (0.5 * np.tanh(X[:, 0]) + 0.3 * X[:, 1] * X[:, 2] + rng.normal(size=len(dates)))
    return X, y, std, dates


def check_hessian_scale(scale, z, ref, auto, raw, X, n_splits, min_leaf_rows):
    """The checks of ``test_hessians_on_return_scales_still_split`` at one scale of the targets.

    ``z``: the automatic scale's predictions in z units, the same at every scale (``ref``:
    those of the first scale); its trees split with >= 10 rows per leaf, while the raw
    hessians grow single-row leaves at small scales and no tree at large ones.
    ``n_splits(model)`` and ``min_leaf_rows(model, X)`` read the backend's trees. Returns ``ref``.
    """
    ref = z if ref is None else ref
    np.testing.assert_allclose(z, ref, rtol=1e-6, atol=1e-9)
    assert n_splits(auto) > 0 and min_leaf_rows(auto, X) >= 10
    if scale < 1:
        assert min_leaf_rows(raw, X) == 1
    if scale > 1:
        assert n_splits(raw) == 0
    return ref


# --------------------------------------------------------------------------- training interface
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
        (expected,), rounds = evaluation.fit_predict(
            backend, params, None, train, [test], num_boost_round=ROUNDS, seed=SEED
        )
        model = module.train_builtin(features(train), train.y, weight=train.weight, num_boost_round=ROUNDS, **common)
    elif kind == "ranking":
        rank = evaluation.RankObjective(n_bins=5)
        (expected,), rounds = evaluation.fit_predict(
            backend, params, rank, train, [test], num_boost_round=ROUNDS, seed=SEED
        )
        grades = evaluation.rank_labels(train.y, train.dates, rank.n_bins)
        model = module.train_ranking(
            features(train),
            grades,
            evaluation.query_sizes(train.dates),
            objective=rank.resolve(backend),
            n_grades=rank.n_bins,
            num_boost_round=ROUNDS,
            **common,
        )
    else:
        loss = cg.CZAR()
        stop, n = (STOP, MAX_ROUNDS) if kind == "loss_with_early_stopping" else (0, ROUNDS)
        (expected,), rounds = evaluation.fit_predict(
            backend, params, loss, train, [test], valid=valid, num_boost_round=n, early_stopping_rounds=stop, seed=SEED
        )
        y, std = evaluation.label_target(train, "raw")
        y_valid, std_valid = evaluation.label_target(valid, "raw")
        model = module.train_loss(
            loss,
            features(train),
            y,
            std=std,
            weight=train.weight,
            valid_X=features(valid),
            valid_y=y_valid,
            valid_std=std_valid,
            valid_dates=valid.dates,
            early_stopping_rounds=stop,
            num_boost_round=n,
            **common,
        )
        if stop:
            assert rounds < n  # early stopping happened
    np.testing.assert_array_equal(model.predict(features(test), std=test.std), expected)
    assert model.rounds == rounds

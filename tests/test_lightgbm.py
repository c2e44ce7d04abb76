"""czar_gbdt.lightgbm: objectives and metrics trained through the native and scikit-learn APIs."""

import warnings

import numpy as np
import pytest

lgb = pytest.importorskip("lightgbm")
pytest.importorskip("sklearn")

from backend_helpers import (  # noqa: E402 (after the importorskip of the backend)
    BINARY,
    KINDS,
    REGRESSION,
    check_hessian_scale,
    check_same_as_fit_predict,  # noqa: E402
    make_data,
    rank_ic_data,
    train_and_valid,
    weighted_and_duplicated,
)

import czar_gbdt as cg  # noqa: E402
from czar_gbdt import lightgbm as clx  # noqa: E402

QUIET = {"verbose": -1, "num_threads": 2}


@pytest.mark.parametrize("name", REGRESSION + BINARY)
def test_every_loss_native_api(name):
    loss, binary, (X, y, std), (Xv, yv, stdv) = train_and_valid(name)
    train = clx.Dataset(X, y, std=std)
    valid = clx.Dataset(Xv, yv, std=stdv, reference=train)
    res = {}
    booster = clx.train(
        {"num_leaves": 7, "learning_rate": 0.2, **QUIET},
        train,
        8,
        objective=loss,
        valid_sets=[train, valid],
        valid_names=["train", "valid"],
        metric=loss,
        callbacks=[lgb.record_evaluation(res)],
    )
    pred = booster.predict(Xv)  # the starting score is baked into the first tree
    assert np.isfinite(pred).all()
    assert set(res["valid"]) == {name}  # no l2 ahead of the custom metric
    assert res["valid"][name][-1] == pytest.approx(loss(yv, pred, std=stdv), rel=1e-6)  # float32 labels
    init = loss.init_score(y, std=std)
    assert res["train"][name][-1] < loss(y, np.full(len(y), init), std=std)


@pytest.mark.parametrize("name", REGRESSION + BINARY)
def test_every_loss_sklearn_api(name):
    loss, binary, (X, y, std), (Xv, yv, stdv) = train_and_valid(name)
    Model = lgb.LGBMClassifier if binary else lgb.LGBMRegressor
    model = Model(objective=clx.objective(loss, std=std), n_estimators=8, num_leaves=7, learning_rate=0.2, **QUIET)
    clx.fit(model, X, y, eval_X=Xv, eval_y=yv, eval_metric=clx.metric(loss, std=stdv))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # LightGBM: "returning raw scores" (custom objective)
        pred = model.predict(Xv, raw_score=True)
    assert np.isfinite(pred).all()
    assert set(model.evals_result_["valid_0"]) == {name}
    assert model.evals_result_["valid_0"][name][-1] == pytest.approx(loss(yv, pred, std=stdv), rel=1e-6)


def _recorded(objective):
    """Wrap an objective to record the gradients and hessians handed to LightGBM."""
    calls = []

    def wrapped(preds, train_data):
        g, h = objective(preds, train_data)
        calls.append((g.copy(), h.copy()))
        return g, h

    return wrapped, calls


@pytest.mark.parametrize("name", REGRESSION + BINARY)
def test_weight_two_equals_duplicated_row_in_the_gradients(name):
    """Weights are applied once, checked on what LightGBM receives: with weight 2 on a row the
    gradient and hessian handed to the booster equal the sum over the row and its duplicate.
    (Models are compared below with bins and counts that cannot differ: LightGBM estimates leaf
    row counts from hessian sums, so varying hessians make min_data_in_leaf see weighted and
    duplicated data differently.)"""
    loss, X, y, w, dup, kw, kw_d = weighted_and_duplicated(name)
    obj_w, calls_w = _recorded(clx.objective(loss))
    obj_d, calls_d = _recorded(clx.objective(loss))
    params = {"num_leaves": 7, **QUIET}
    init_w = clx.objective(loss).init_score(clx.Dataset(X, y, weight=w, **kw))
    init_d = clx.objective(loss).init_score(clx.Dataset(X[dup], y[dup], **kw_d))
    assert init_w == pytest.approx(init_d, rel=1e-7, abs=1e-12)  # Brent's tolerance
    for obj, data in ((obj_w, clx.Dataset(X, y, weight=w, **kw)), (obj_d, clx.Dataset(X[dup], y[dup], **kw_d))):
        data.set_init_score(np.full(len(data.get_label()), init_w))
        lgb.train({**params, "objective": obj}, data, 1)
    (gw, hw), (gd, hd) = calls_w[0], calls_d[0]
    n = len(y)
    gd_sum, hd_sum = gd[:n].astype(np.float64).copy(), hd[:n].astype(np.float64).copy()
    gd_sum[:25] += gd[n:]
    hd_sum[:25] += hd[n:]
    np.testing.assert_allclose(gw, gd_sum, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(hw, hd_sum, rtol=1e-6, atol=1e-12)


def test_weight_two_equals_duplicated_row_in_the_model():
    """Whole models, with bins that cannot differ: integer features (one bin per value,
    min_data_in_bin=1), constant hessians (mse with a scalar std) and one thread, a case where
    LightGBM's own squared error gives identical models (checked first as a control: near-ties
    between split gains can otherwise flip with the summation order)."""
    rng = np.random.default_rng(1)
    X = rng.integers(0, 8, size=(300, 4)).astype(float)
    y = 0.3 * X[:, 0] + rng.normal(size=300)
    w = np.ones(300)
    w[:20] = 2.0
    dup = np.r_[np.arange(300), np.arange(20)]
    params = {
        "num_leaves": 7,
        "learning_rate": 0.3,
        "min_data_in_leaf": 1,
        "min_sum_hessian_in_leaf": 0,
        "min_data_in_bin": 1,
        "verbose": -1,
        "num_threads": 1,
    }
    control_w = lgb.train({**params, "objective": "regression"}, lgb.Dataset(X, y, weight=w), 20)
    control_d = lgb.train({**params, "objective": "regression"}, lgb.Dataset(X[dup], y[dup]), 20)
    np.testing.assert_allclose(control_w.predict(X), control_d.predict(X), atol=1e-9)
    b_w = clx.train(params, clx.Dataset(X, y, weight=w, std=0.5), 20, objective="mse")
    b_d = clx.train(params, clx.Dataset(X[dup], y[dup], std=0.5), 20, objective="mse")
    np.testing.assert_allclose(b_w.predict(X), b_d.predict(X), atol=1e-6)
    np.testing.assert_allclose(b_w.predict(X), control_w.predict(X), atol=1e-6)  # weights applied once
    sk = {
        "n_estimators": 20,
        "num_leaves": 7,
        "learning_rate": 0.3,
        "min_child_samples": 1,
        "min_child_weight": 0,
        "min_data_in_bin": 1,
        "verbose": -1,
        "n_jobs": 1,
    }
    m_w = clx.fit(lgb.LGBMRegressor(objective=clx.objective("mse", std=0.5), **sk), X, y, sample_weight=w)
    np.testing.assert_allclose(m_w.predict(X), b_d.predict(X), atol=1e-6)


@pytest.mark.parametrize("name", REGRESSION + BINARY)
def test_training_starts_at_the_constant_minimiser(name):
    """After one round whose tree cannot split (min_gain_to_split huge), LightGBM's tree is a
    single leaf of value 0: predictions are the starting score, which train()/fit() put in."""
    loss = cg.get_loss(name)
    X, y, std = make_data(binary=loss.kind == "binary")
    w = np.random.default_rng(0).uniform(0.5, 2, len(y))
    init = loss.init_score(y, std=std, weight=w)
    booster = clx.train({"min_gain_to_split": 1e30, **QUIET}, clx.Dataset(X, y, std=std, weight=w), 1, objective=loss)
    np.testing.assert_allclose(booster.predict(X), init, rtol=1e-9, atol=1e-12)
    Model = lgb.LGBMClassifier if loss.kind == "binary" else lgb.LGBMRegressor
    model = clx.fit(
        Model(objective=clx.objective(loss, std=std), n_estimators=1, min_split_gain=1e30, **QUIET),
        X,
        y,
        sample_weight=w,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        np.testing.assert_allclose(model.predict(X, raw_score=True), init, rtol=1e-9, atol=1e-12)
    # the starting score survives saving the model
    again = lgb.Booster(model_str=booster.model_to_string())
    np.testing.assert_allclose(again.predict(X), init, rtol=1e-9, atol=1e-12)


def test_mse_reproduces_builtin_squared_error():
    """Same seed and parameters, with bagging. (Not feature_fraction: LightGBM draws the feature
    subsets differently for any custom objective, a plain Python one included.)"""
    X, y, _ = make_data(500, seed=4)
    y = y * 100 + 3.0
    params = {"num_leaves": 15, "learning_rate": 0.1, "bagging_fraction": 0.8, "bagging_freq": 1, "seed": 7, **QUIET}
    builtin = lgb.train({**params, "objective": "regression"}, lgb.Dataset(X, y), 50)
    ours = clx.train(params, clx.Dataset(X, y), 50, objective="mse")
    np.testing.assert_allclose(ours.predict(X), builtin.predict(X), atol=1e-5)
    sk = {
        "n_estimators": 50,
        "num_leaves": 15,
        "learning_rate": 0.1,
        "subsample": 0.8,
        "subsample_freq": 1,
        "random_state": 7,
        **QUIET,
    }
    sk_builtin = lgb.LGBMRegressor(**sk).fit(X, y)
    sk_ours = clx.fit(lgb.LGBMRegressor(objective=clx.objective("mse"), **sk), X, y)
    np.testing.assert_allclose(sk_ours.predict(X), sk_builtin.predict(X), atol=1e-5)


def test_focal_gamma0_alpha_half_equals_logistic():
    """Focal(gamma=0, alpha=0.5) is half the logistic loss, so its gradient and hessian are half
    of binary's; leaf values -G/(H + lambda_l2) and min_sum_hessian_in_leaf would see the halves.
    We use the equivalent hessian scaling: hessian_scale=2 doubles both back and LightGBM grows
    the same trees as objective="binary" (which also starts from the same log-odds)."""
    X, y, _ = make_data(500, seed=5, binary=True)
    params = {"num_leaves": 15, "learning_rate": 0.1, "seed": 0, **QUIET}
    builtin = lgb.train({**params, "objective": "binary"}, lgb.Dataset(X, y), 30)
    focal = cg.FocalLoss(gamma=0.0, alpha=0.5)
    ours = clx.train(params, clx.Dataset(X, y), 30, objective=clx.objective(focal, hessian_scale=2.0))
    np.testing.assert_allclose(ours.predict(X), builtin.predict(X, raw_score=True), atol=1e-5)


def test_early_stopping_on_maximised_rank_ic_keeps_the_best_round():
    pytest.importorskip("czar_gbdt.metrics")
    assert clx.metric("rank_ic").is_higher_better and not clx.metric("czar").is_higher_better
    X, y, std, dates = rank_ic_data()
    n = len(y) // 2
    train = clx.Dataset(X[:n], y[:n], std=std[:n])
    valid = clx.Dataset(X[n:], y[n:], std=std[n:], dates=dates[n:], reference=train)
    res = {}
    params = {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 10, **QUIET}
    booster = clx.train(
        params,
        train,
        300,
        objective="czar",
        valid_sets=[valid],
        metric=["rank_ic", "czar"],
        early_stopping_rounds=10,
        callbacks=[lgb.record_evaluation(res)],
    )
    hist = np.array(res["valid_0"]["rank_ic"])
    best = int(np.argmax(hist))
    assert best > 0 and np.argmin(hist) != best
    assert booster.best_iteration == best + 1  # LightGBM counts iterations from 1
    assert len(hist) == best + 11
    np.testing.assert_array_equal(booster.predict(X[n:]), booster.predict(X[n:], num_iteration=best + 1))
    # scikit-learn API
    model = lgb.LGBMRegressor(
        objective=clx.objective("czar", std=std[:n]),
        n_estimators=300,
        num_leaves=7,
        learning_rate=0.1,
        min_child_samples=10,
        **QUIET,
    )
    clx.fit(
        model,
        X[:n],
        y[:n],
        eval_X=X[n:],
        eval_y=y[n:],
        eval_metric=clx.metric("rank_ic", std=std[n:], dates=dates[n:]),
        callbacks=[clx.early_stopping(10)],
    )
    assert model.best_iteration_ == best + 1
    # scikit-learn API with LightGBM's own early_stopping_round parameter: it takes the direction
    # from is_higher_better too (clx.fit sets metric="None", so no l2 ahead of rank IC)
    model = lgb.LGBMRegressor(
        objective=clx.objective("czar", std=std[:n]),
        n_estimators=300,
        num_leaves=7,
        learning_rate=0.1,
        min_child_samples=10,
        early_stopping_round=10,
        **QUIET,
    )
    clx.fit(
        model, X[:n], y[:n], eval_X=X[n:], eval_y=y[n:], eval_metric=clx.metric("rank_ic", std=std[n:], dates=dates[n:])
    )
    hist_sk = np.array(model.evals_result_["valid_0"]["rank_ic"])
    assert set(model.evals_result_["valid_0"]) == {"rank_ic"}
    assert model.best_iteration_ == int(np.argmax(hist_sk)) + 1 == best + 1 and len(hist_sk) == best + 11


def _n_splits(booster):
    return int(booster.trees_to_dataframe()["split_feature"].notna().sum())


def _min_leaf_rows(booster, X):
    leaves = booster.predict(X, pred_leaf=True)
    return min(np.unique(leaves[:, t], return_counts=True)[1].min() for t in range(leaves.shape[1]))


def test_hessians_on_return_scales_still_split():
    """CZAR hessians are H/std**2: ~1e4 per row on returns (std ~ 0.01), ~1e-6 at std ~ 1000.
    hessian_scale="auto" (the default) multiplies by 1/mean(1/std**2), so LightGBM sees the
    hessians of z-scored targets at every std. One data set at std ~ 2**-7 (~0.008, daily
    returns), 1 and 2**7 (exact powers of 2, so only the scale changes):

    * with min_sum_hessian_in_leaf=20 (min_data_in_leaf=1, so that only the hessian guards leaf
      size) the automatic scale grows the same trees at every std with >= 10 rows per leaf; the
      raw hessians grow single-row leaves at std ~ 0.008 and no tree at std ~ 128;
    * with default parameters both split at std ~ 0.008; at std ~ 1024 the raw hessians
      (sum ~4e-4 < min_sum_hessian_in_leaf=1e-3) stop every split and the automatic scale splits."""
    X, y1, std1 = make_data(400, seed=6, std_scale=1.0)
    guard = {"min_sum_hessian_in_leaf": 20, "min_data_in_leaf": 1, **QUIET}
    ref = None
    for scale in (2.0**-7, 1.0, 2.0**7):
        auto = clx.train(guard, clx.Dataset(X, y1 * scale, std=std1 * scale), 3, objective="czar")
        raw = clx.train(
            guard, clx.Dataset(X, y1 * scale, std=std1 * scale), 3, objective=clx.objective("czar", hessian_scale=None)
        )
        z = auto.predict(X) / scale
        ref = check_hessian_scale(scale, z, ref, auto, raw, X, _n_splits, _min_leaf_rows)
    for scale, raw_splits in ((2.0**-7, True), (2.0**10, False)):
        auto = clx.train(QUIET, clx.Dataset(X, y1 * scale, std=std1 * scale), 3, objective="czar")
        raw = clx.train(
            QUIET, clx.Dataset(X, y1 * scale, std=std1 * scale), 3, objective=clx.objective("czar", hessian_scale=None)
        )
        assert _n_splits(auto) > 0
        assert (_n_splits(raw) > 0) is raw_splits


@pytest.mark.parametrize("kind", KINDS)
def test_training_interface_gives_the_evaluations_models(kind):
    """train_builtin/train_ranking/train_loss give evaluation.fit_predict's predictions and rounds."""
    check_same_as_fit_predict(clx, kind)


def test_the_callers_histogram_layout_replaces_the_default_one():
    """The evaluation's training defaults to force_col_wise; a caller's force_row_wise replaces it
    (LightGBM refuses the two together), in each of the three training functions."""
    rng = np.random.default_rng(2)
    X, y, std = rng.normal(size=(400, 3)), 0.01 * rng.standard_t(4, size=400), np.full(400, 0.01)
    assert clx.DEFAULTS["force_col_wise"] is True
    row_wise = {"force_row_wise": True}
    model = clx.train_loss(cg.CZAR(), X, y, std=std, params=row_wise, num_boost_round=3)
    assert model.model.params.get("force_row_wise") and not model.model.params.get("force_col_wise")
    assert clx.train_builtin(X, y, params=row_wise, num_boost_round=3).rounds == 3
    assert clx.train_ranking(X, np.arange(400) % 3, [100] * 4, params=row_wise, num_boost_round=3).rounds == 3
    default = clx.train_loss(cg.CZAR(), X, y, std=std, num_boost_round=3)
    assert default.model.params.get("force_col_wise") and not default.model.params.get("force_row_wise")

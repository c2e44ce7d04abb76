"""czar_gbdt.xgboost: objectives and metrics trained through the native and scikit-learn APIs."""

import numpy as np
import pytest

xgb = pytest.importorskip("xgboost")
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
from czar_gbdt import xgboost as cx  # noqa: E402


def margins(booster, dmatrix):
    return booster.predict(dmatrix, output_margin=True).astype(np.float64)


@pytest.mark.parametrize("name", REGRESSION + BINARY)
def test_every_loss_native_api(name):
    loss, binary, (X, y, std), (Xv, yv, stdv) = train_and_valid(name)
    dtrain = cx.DMatrix(X, y, std=std)
    dvalid = cx.DMatrix(Xv, yv, std=stdv)
    res = {}
    booster = cx.train(
        {"max_depth": 3, "eta": 0.2},
        dtrain,
        8,
        objective=loss,
        evals=[(dtrain, "train"), (dvalid, "valid")],
        metric=loss,
        evals_result=res,
        verbose_eval=False,
    )
    pred = margins(booster, dvalid)
    assert np.isfinite(pred).all()
    # each eval set is scored with its own std: the logged value is the loss with std_valid
    assert res["valid"][name][-1] == pytest.approx(loss(yv, pred, std=stdv), rel=1e-5)
    if stdv is not None and loss.name != "mse":
        assert abs(loss(yv, pred, std=stdv) - loss(yv, pred, std=stdv.mean() / 3)) > 1e-3
    # training lowers the training loss below that of the best constant
    init = loss.init_score(y, std=std)
    assert res["train"][name][-1] < loss(y, np.full(len(y), init), std=std)
    if binary:
        assert booster.predict(dvalid).min() >= 0 and booster.predict(dvalid).max() <= 1  # probabilities


@pytest.mark.parametrize("name", REGRESSION + BINARY)
def test_every_loss_sklearn_api(name):
    loss, binary, (X, y, std), (Xv, yv, stdv) = train_and_valid(name)
    obj = cx.objective(loss, std=std)
    met = cx.metric(loss, std=stdv)  # the eval set's own std, bound by position
    Model = xgb.XGBClassifier if binary else xgb.XGBRegressor
    model = Model(objective=obj, eval_metric=met, n_estimators=8, max_depth=3, learning_rate=0.2)
    cx.fit(model, X, y, eval_set=[(Xv, yv)], verbose=False)
    pred = model.predict(Xv, output_margin=True).astype(np.float64)
    assert np.isfinite(pred).all()
    assert model.evals_result()["validation_0"][name][-1] == pytest.approx(loss(yv, pred, std=stdv), rel=1e-5)
    if binary:
        proba = model.predict_proba(Xv)[:, 1]
        np.testing.assert_allclose(proba, 1 / (1 + np.exp(-pred)), rtol=1e-5)


@pytest.mark.parametrize("api", ["native", "sklearn"])
@pytest.mark.parametrize("name", REGRESSION + BINARY)
def test_weight_two_equals_duplicated_row(name, api):
    """Weights are applied once: weight 2 on rows == those rows duplicated (exact tree method)."""
    loss, X, y, w, dup, kw, kw_d = weighted_and_duplicated(name)
    sk = {"n_estimators": 20, "max_depth": 3, "learning_rate": 0.3, "tree_method": "exact"}
    Model = xgb.XGBClassifier if loss.kind == "binary" else xgb.XGBRegressor
    if api == "native":
        params = {"max_depth": 3, "eta": 0.3, "tree_method": "exact"}
        m_w = cx.train(params, cx.DMatrix(X, y, weight=w, **kw), 20, objective=loss)
        m_d = cx.train(params, cx.DMatrix(X[dup], y[dup], **kw_d), 20, objective=loss)
        p_w, p_d = margins(m_w, xgb.DMatrix(X)), margins(m_d, xgb.DMatrix(X))
    else:  # std bound by position, weights through sample_weight
        m_w = cx.fit(Model(objective=cx.objective(loss, **kw), **sk), X, y, sample_weight=w)
        m_d = cx.fit(Model(objective=cx.objective(loss, **kw_d), **sk), X[dup], y[dup])
        p_w, p_d = m_w.predict(X, output_margin=True), m_d.predict(X, output_margin=True)
    np.testing.assert_allclose(p_w, p_d, atol=1e-6)
    # control: the weights change the model (ignoring them would fail the comparison above)
    unweighted = cx.fit(Model(objective=cx.objective(loss, **kw), **sk), X, y)
    assert np.abs(unweighted.predict(X, output_margin=True) - p_w).max() > 1e-4


def test_weights_native_and_sklearn_give_the_same_model():
    loss = cg.get_loss("czar")
    X, y, std = make_data(300, seed=3)
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    b = cx.train(
        {"max_depth": 3, "eta": 0.3, "tree_method": "exact"}, cx.DMatrix(X, y, weight=w, std=std), 20, objective=loss
    )
    m = cx.fit(
        xgb.XGBRegressor(
            objective=cx.objective(loss, std=std), n_estimators=20, max_depth=3, learning_rate=0.3, tree_method="exact"
        ),
        X,
        y,
        sample_weight=w,
    )
    np.testing.assert_allclose(m.predict(X, output_margin=True), margins(b, xgb.DMatrix(X)), atol=1e-6)


@pytest.mark.parametrize("name", REGRESSION + BINARY)
def test_training_starts_at_the_constant_minimiser(name):
    loss = cg.get_loss(name)
    X, y, std = make_data(binary=loss.kind == "binary")
    w = np.random.default_rng(0).uniform(0.5, 2, len(y))
    init = loss.init_score(y, std=std, weight=w)
    dtrain = cx.DMatrix(X, y, std=std, weight=w)
    booster = cx.train({}, dtrain, 0, objective=loss)  # 0 rounds: the starting score alone
    np.testing.assert_allclose(margins(booster, dtrain), init, rtol=1e-6, atol=1e-9)
    Model = xgb.XGBClassifier if loss.kind == "binary" else xgb.XGBRegressor
    model = cx.fit(
        Model(objective=cx.objective(loss, std=std), n_estimators=1, learning_rate=0.0), X, y, sample_weight=w
    )
    np.testing.assert_allclose(model.predict(X, output_margin=True), init, rtol=1e-6, atol=1e-9)


def test_mse_reproduces_builtin_squared_error():
    X, y, _ = make_data(500, seed=4)
    y = y * 100 + 3.0
    params = {"max_depth": 4, "eta": 0.1, "subsample": 0.8, "colsample_bytree": 0.8, "seed": 7}
    builtin = xgb.train({**params, "objective": "reg:squarederror"}, xgb.DMatrix(X, label=y), 50)
    ours = cx.train(params, cx.DMatrix(X, y), 50, objective="mse")
    d = xgb.DMatrix(X)
    np.testing.assert_allclose(ours.predict(d), builtin.predict(d), atol=1e-5)
    sk_builtin = xgb.XGBRegressor(
        n_estimators=50, max_depth=4, learning_rate=0.1, subsample=0.8, colsample_bytree=0.8, random_state=7
    ).fit(X, y)
    sk_ours = cx.fit(
        xgb.XGBRegressor(
            objective=cx.objective("mse"),
            n_estimators=50,
            max_depth=4,
            learning_rate=0.1,
            subsample=0.8,
            colsample_bytree=0.8,
            random_state=7,
        ),
        X,
        y,
    )
    np.testing.assert_allclose(sk_ours.predict(X), sk_builtin.predict(X), atol=1e-5)


def test_focal_gamma0_alpha_half_equals_logistic():
    """Focal(gamma=0, alpha=0.5) is half the logistic loss: its gradient and hessian are half of
    logistic's. Newton leaf values -G/(H + lambda) and the min_child_weight test see the halves,
    so we use the equivalent hessian scaling: hessian_scale=2 doubles both back, after which every
    quantity XGBoost computes equals binary:logistic's and the trees are the same."""
    X, y, _ = make_data(500, seed=5, binary=True)
    params = {"max_depth": 3, "eta": 0.1, "seed": 0}
    builtin = xgb.train({**params, "objective": "binary:logistic"}, xgb.DMatrix(X, label=y), 30)
    focal = cg.FocalLoss(gamma=0.0, alpha=0.5)
    ours = cx.train(params, cx.DMatrix(X, y), 30, objective=cx.objective(focal, hessian_scale=2.0))
    d = xgb.DMatrix(X)
    np.testing.assert_allclose(margins(ours, d), margins(builtin, d), atol=1e-5)


def test_metric_directions():
    assert cx.metric("rank_ic").maximize is True
    assert cx.metric("czar").maximize is False
    es = cx.early_stopping(cx.metric("rank_ic"), 5)
    assert es.maximize is True and es.metric_name == "rank_ic"


def test_early_stopping_on_maximised_rank_ic_keeps_the_best_round():
    pytest.importorskip("czar_gbdt.metrics")
    X, y, std, dates = rank_ic_data()
    n = len(y) // 2
    dtrain = cx.DMatrix(X[:n], y[:n], std=std[:n])
    dvalid = cx.DMatrix(X[n:], y[n:], std=std[n:], dates=dates[n:])
    res = {}
    booster = cx.train(
        {"max_depth": 3, "eta": 0.1},
        dtrain,
        200,
        objective="czar",
        evals=[(dvalid, "valid")],
        metric="rank_ic",
        early_stopping_rounds=10,
        evals_result=res,
        verbose_eval=False,
    )
    hist = np.array(res["valid"]["rank_ic"])
    best = int(np.argmax(hist))
    assert booster.best_iteration == best
    assert len(hist) == best + 11 < 200  # stopped 10 rounds after the maximum
    assert hist[best] > hist[0] and np.argmin(hist) != best
    assert booster.num_boosted_rounds() == best + 1  # the best round is kept
    # scikit-learn API: the metric bound to the eval set's std and dates; direction from the metric
    met = cx.metric("rank_ic", std=std[n:], dates=dates[n:])
    model = xgb.XGBRegressor(
        objective=cx.objective("czar", std=std[:n]),
        eval_metric=met,
        n_estimators=200,
        max_depth=3,
        learning_rate=0.1,
        callbacks=[cx.early_stopping(met, 10)],
    )
    cx.fit(model, X[:n], y[:n], eval_set=[(X[n:], y[n:])], verbose=False)
    hist_sk = np.array(model.evals_result()["validation_0"]["rank_ic"])
    assert model.best_iteration == int(np.argmax(hist_sk)) == best


@pytest.mark.parametrize("listed", [False, True])
def test_sklearn_early_stopping_rounds_on_maximised_metric_keeps_the_max(listed):
    """XGBRegressor(early_stopping_rounds=...) guesses the direction from the metric name and
    minimises "rank_ic" (the control below); cx.fit stops in the metric's own direction."""
    pytest.importorskip("czar_gbdt.metrics")
    X, y, std, dates = rank_ic_data()
    n = len(y) // 2
    met = cx.metric("rank_ic", std=std[n:], dates=dates[n:])
    obj = cx.objective("czar", std=std[:n])
    sk = {
        "n_estimators": 200,
        "max_depth": 3,
        "learning_rate": 0.1,
        "early_stopping_rounds": 10,
        "eval_metric": ["rmse", met] if listed else met,
    }
    model = cx.fit(xgb.XGBRegressor(objective=obj, **sk), X[:n], y[:n], eval_set=[(X[n:], y[n:])], verbose=False)
    hist = np.array(model.evals_result()["validation_0"]["rank_ic"])
    best = int(np.argmax(hist))
    assert np.argmin(hist) != best and hist[best] > hist[0]
    assert model.best_iteration == best and len(hist) == best + 11
    if not listed:  # (xgboost 3.2's predict fails on a model whose eval_metric list holds a callable)
        np.testing.assert_array_equal(model.predict(X[n:]), model.predict(X[n:], iteration_range=(0, best + 1)))
    assert model.get_params()["early_stopping_rounds"] == 10 and model.get_params()["callbacks"] is None  # restored
    # control: XGBoost alone (a bare fit with early_stopping_rounds) keeps the minimum
    bare = xgb.XGBRegressor(objective=obj, base_score=obj.base_score(y[:n]), **sk)
    bare.fit(X[:n], y[:n], eval_set=[(X[n:], y[n:])], verbose=False)
    hist_bare = np.array(bare.evals_result()["validation_0"]["rank_ic"])
    assert bare.best_iteration == int(np.argmin(hist_bare)) != best


def test_eval_dmatrix_without_labels_is_named():
    X, y, std = make_data(50, seed=2)
    with pytest.raises(ValueError, match=r"metric 'mse': an eval DMatrix \(50 rows\) has no labels"):
        cx.metric("mse")(np.zeros(50, np.float32), xgb.DMatrix(X))
    with pytest.raises(ValueError, match=r"evals\[1\] \('valid'\) has no labels"):
        d = cx.DMatrix(X, y, std=std)
        cx.train({}, d, 2, objective="czar", evals=[(d, "train"), (xgb.DMatrix(X), "valid")], metric="mse")


def _n_splits(booster):
    return int((booster.trees_to_dataframe()["Feature"] != "Leaf").sum())


def _min_leaf_rows(booster, X):
    leaves = booster.predict(xgb.DMatrix(X), pred_leaf=True)
    return min(np.unique(leaves[:, t], return_counts=True)[1].min() for t in range(leaves.shape[1]))


def test_hessians_on_return_scales_still_split():
    """CZAR hessians are H/std**2: ~1e4 per row on returns (std ~ 0.01), ~1e-4 at std ~ 100.
    hessian_scale="auto" (the default) multiplies by 1/mean(1/std**2), so the booster sees the
    hessians of z-scored targets at every std. Shown on one data set at std ~ 2**-7 (~0.008,
    daily returns), 1 and 2**7 (exact powers of 2, so only the scale changes):

    * with min_child_weight=20 (in units of z-space hessian, ~20 rows) the automatic scale grows
      the same trees at every std (predictions / std scale identical) with >= 10 rows per leaf;
      the raw hessians grow single-row leaves at std ~ 0.008 (min_child_weight means 1/500 of
      a row there) and no tree at all at std ~ 128;
    * with the default min_child_weight=1 the automatic scale splits at every std, the raw
      hessians do not split at std ~ 128."""
    X, y1, std1 = make_data(400, seed=6, std_scale=1.0)
    ref = None
    for scale in (2.0**-7, 1.0, 2.0**7):
        d = cx.DMatrix(X, y1 * scale, std=std1 * scale)
        auto = cx.train({"min_child_weight": 20}, d, 3, objective="czar")
        raw = cx.train({"min_child_weight": 20}, d, 3, objective=cx.objective("czar", hessian_scale=None))
        z = margins(auto, xgb.DMatrix(X)) / scale
        ref = check_hessian_scale(scale, z, ref, auto, raw, X, _n_splits, _min_leaf_rows)
        default_auto = cx.train({}, d, 3, objective="czar")
        default_raw = cx.train({}, d, 3, objective=cx.objective("czar", hessian_scale=None))
        assert _n_splits(default_auto) > 0
        assert (_n_splits(default_raw) > 0) is (scale <= 1)


@pytest.mark.parametrize("kind", KINDS)
def test_training_interface_gives_the_evaluations_models(kind):
    """train_builtin/train_ranking/train_loss give evaluation.fit_predict's predictions and rounds."""
    check_same_as_fit_predict(cx, kind)

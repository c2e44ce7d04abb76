"""Backend adapters: side data, fake payloads per loss and backend, bad input, start checks.

Fake payloads first (the objective/metric called the way each backend calls it,
compared with the loss layer), then tiny real fits that must fail with a clear
ValueError on bad input. Training behaviour per backend is in test_<backend>.py.
"""

import warnings

import numpy as np
import pytest

import czar_gbdt as cg
from czar_gbdt import _adapters as ad
from czar_gbdt._adapters import core as ad_core
from czar_gbdt._adapters import side as ad_side
from czar_gbdt._jit import numba_threads

LOSS_INSTANCES = [
    cg.CZAR(),
    cg.CZAR(alpha=0.0, epsilon=0.0),
    cg.CZAR(alpha=0.5, derivatives="exact"),
    cg.ZPTAE(),
    cg.ZPTAE(gamma=1.5, hessian="constant"),
    cg.ZPTAE(derivatives="exact", min_hessian="none"),
    cg.HalfSquaredError(),
    cg.FocalLoss(),
    cg.FocalLoss(gamma=0.5, alpha=0.7, derivatives="exact"),
    cg.AsymmetricLoss(),
    cg.AsymmetricLoss(gamma_pos=1.0, gamma_neg=2.0, clip=0.05),
]
IDS = [repr(loss) for loss in LOSS_INSTANCES]


def payload(loss, n=64, seed=0):
    """Labels, predictions, std, mean and weights of a fake training set for ``loss``."""
    rng = np.random.default_rng(seed)
    if loss.kind == "binary":
        y = (rng.random(n) < 0.3).astype(np.float64)
        pred = rng.normal(size=n) * 2
        std = mean = None
    else:
        std = 0.01 * np.exp(rng.normal(size=n) * 0.3)
        mean = 0.001 * rng.normal(size=n)
        y = mean + std * rng.standard_t(4, size=n)
        pred = mean + std * rng.normal(size=n) * 0.5
    w = rng.uniform(0.5, 2.0, size=n)
    return y, pred, std, mean, w


def expected_scale(loss, std, w):
    if loss.kind != "regression" or std is None:
        return 1.0
    return float(w.sum() / np.sum(w / std**2))


def assert_loss_derivatives(grad, hess, loss, y, pred, **side):
    """``grad`` and ``hess`` are the loss layer's, to float32 precision."""
    eg, eh = loss.grad_hess(y, pred, **side)
    np.testing.assert_allclose(grad, eg, rtol=2e-6, atol=1e-30)
    np.testing.assert_allclose(hess, eh, rtol=2e-6, atol=1e-30)


# --------------------------------------------------------------------------- side data
def test_side_data_messages_name_the_argument():
    with pytest.raises(ValueError, match="std has 90 values but the training labels have 100 rows"):
        ad.make_side(100, std=np.ones(90))
    with pytest.raises(ValueError, match=r"std must be finite and > 0; got 0.0 at row 3"):
        ad.make_side(5, std=[1, 1, 1, 0.0, 1])
    with pytest.raises(ValueError, match=r"std must be finite and > 0; got -1.0"):
        ad.make_side(5, std=-1.0)
    with pytest.raises(ValueError, match=r"std must be finite and > 0; got nan at row 1"):
        ad.make_side(3, std=[1, np.nan, 1])
    with pytest.raises(ValueError, match=r"mean must be finite; got inf"):
        ad.make_side(3, std=1.0, mean=[0, np.inf, 0])
    with pytest.raises(ValueError, match="dates has 2 values but the training labels have 3 rows"):
        ad.make_side(3, dates=[1, 2])
    with pytest.raises(ValueError, match="std must be numeric"):
        ad.make_side(2, std=["a", "b"])
    assert ad.make_side(3) is None
    side = ad.make_side(3, std=2.0)
    assert side.std.shape == ()


def test_registry_is_weak_and_per_object():
    class Data:
        pass

    a, b = Data(), Data()
    ad.attach(a, ad.make_side(2, std=[1.0, 2.0]))
    assert ad.side_of(a).std.tolist() == [1.0, 2.0]
    assert ad.side_of(b) is None
    key = id(a)
    del a
    assert key not in ad_side._REGISTRY


def test_hessian_scale_auto_is_weighted_harmonic_std2():
    loss = cg.CZAR()
    y, pred, std, mean, w = payload(loss)
    core = ad.ObjectiveCore(loss, std=std, mean=mean)
    st = core.state(y, w, hint="")
    assert st.scale == pytest.approx(expected_scale(loss, std, w), rel=1e-12)
    # duplicating a row equals weight 2 on it (the scale is computed with the weights)
    w2 = np.ones_like(y)
    w2[0] = 2.0
    core_w = ad.ObjectiveCore(loss, std=std, mean=mean)
    core_d = ad.ObjectiveCore(loss, std=np.r_[std, std[0]], mean=np.r_[mean, mean[0]])
    assert core_w.state(y, w2, hint="").scale == pytest.approx(core_d.state(np.r_[y, y[0]], None, hint="").scale)
    assert ad.ObjectiveCore(cg.HalfSquaredError()).state(y, None, hint="").scale == 1.0
    assert ad.ObjectiveCore(cg.FocalLoss()).state((y > 0).astype(float), None, hint="").scale == 1.0
    assert ad.ObjectiveCore(loss, std=0.5).state(y, None, hint="").scale == 0.25
    assert ad.ObjectiveCore(loss, std=std, hessian_scale=None).state(y, None, hint="").scale == 1.0
    with pytest.raises(ValueError, match="hessian_scale must be"):
        ad.ObjectiveCore(loss, hessian_scale=-1.0)


def test_std_required_for_z_space_losses():
    core = ad.ObjectiveCore(cg.CZAR())
    with pytest.raises(ValueError, match=r"std is required by CZAR\(.*\) but the training set has none"):
        core.state(np.zeros(3), None, hint="pass std")
    ad.ObjectiveCore(cg.HalfSquaredError()).state(np.zeros(3), None, hint="")  # mse: std optional
    metric = ad.MetricCore("zptae")
    with pytest.raises(ValueError, match=r"std is required by metric 'zptae' but the eval set has none"):
        metric.side_for(3, None, where="the eval set", hint="bind it")


def test_metric_core_rank_ic_needs_dates_and_is_maximised():
    metrics = pytest.importorskip("czar_gbdt.metrics")
    m = ad.MetricCore("rank_ic")
    assert m.higher_is_better and m.needs_dates
    with pytest.raises(ValueError, match="dates is required by metric 'rank_ic'"):
        m.side_for(4, None, where="the eval set", hint="")
    m = ad.MetricCore("rank_ic", dates=[0, 0, 1, 1])
    side = m.side_for(4, None, where="the eval set", hint="")
    value = m.value([1, 2, 3, 4], [10, 20, 40, 30], None, side)
    assert value == pytest.approx(metrics.rank_ic([1, 2, 3, 4], [10, 20, 40, 30], dates=[0, 0, 1, 1]).mean)
    with pytest.raises(ValueError, match="unknown metric 'nope'"):
        ad.MetricCore("nope")


@pytest.mark.parametrize(
    "loss",
    [cg.CZAR(), cg.ZPTAE(), cg.HalfSquaredError(), cg.FocalLoss(), cg.AsymmetricLoss()],
    ids=lambda loss: loss.name,
)
def test_constant_minimiser_on_large_data_matches_init_score(loss, monkeypatch):
    """Beyond INIT_EXACT_ROWS rows: subsample + root of the exact gradient == loss.init_score."""
    monkeypatch.setattr(ad_core, "INIT_EXACT_ROWS", 500)
    y, _, std, mean, w = payload(loss, n=20_000, seed=3)
    fast = ad.constant_minimiser(loss, y, std=std, mean=mean, weight=w)
    exact = loss.init_score(y, std=std, mean=mean, weight=w)
    scale = 1.0 if std is None else float(np.mean(std))
    assert abs(fast - exact) <= 1e-6 * scale
    pred = np.full(len(y), fast)
    assert (
        loss(y, pred, std=std, mean=mean, weight=w)
        <= loss(y, np.full(len(y), exact), std=std, mean=mean, weight=w) + 1e-12
    )


def test_n_threads_is_validated_and_restored():
    import numba

    before = numba.get_num_threads()
    with numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with pytest.raises(ValueError, match="n_threads must be a positive integer or None; got 0"):
        ad.ObjectiveCore("mse", n_threads=0)


# --------------------------------------------------------------------------- fake payloads
def fake_training_set(name, loss):
    """Backend module ``name``, its dataset of the payload of ``loss`` (one zero feature), and the payload."""
    mod = _backend(name)
    y, pred, std, mean, w = payload(loss)
    make = mod.DMatrix if name == "xgboost" else mod.Dataset
    return mod, make(np.zeros((len(y), 1)), y, std=std, mean=mean, weight=w), (y, pred, std, mean, w)


@pytest.mark.parametrize("loss", LOSS_INSTANCES, ids=IDS)
def test_xgboost_objective_payload(loss):
    xgb = pytest.importorskip("xgboost")
    cx, dtrain, (y, pred, std, mean, w) = fake_training_set("xgboost", loss)
    obj = cx.objective(loss, check_start=False)
    grad, hess = obj(pred.astype(np.float32), dtrain)
    assert grad.dtype == np.float32 and grad.flags.c_contiguous and grad.shape == y.shape
    y32 = dtrain.get_label().astype(np.float64)  # the DMatrix stores float32 labels
    c = expected_scale(loss, std, w)
    assert_loss_derivatives(grad, hess, loss, y32, pred.astype(np.float32), std=std, mean=mean, weight=w * c)
    # scikit-learn protocol: labels first, weights by keyword, std bound by position
    obj_sk = cx.objective(loss, std=std, mean=mean, check_start=False)
    g2, h2 = obj_sk(y, pred, sample_weight=w)
    assert_loss_derivatives(g2, h2, loss, y, pred, std=std, mean=mean, weight=w * c)
    # the metric is the weighted mean loss of the eval set (its own side data)
    name, value = cx.metric(loss)(pred.astype(np.float32), dtrain)
    assert name == loss.name
    assert value == pytest.approx(loss(y32, pred.astype(np.float32), std=std, mean=mean, weight=w), rel=1e-6)
    assert xgb is not None


@pytest.mark.parametrize("loss", LOSS_INSTANCES, ids=IDS)
def test_lightgbm_objective_payload(loss):
    lgb = pytest.importorskip("lightgbm")
    clx, train, (y, pred, std, mean, w) = fake_training_set("lightgbm", loss)
    obj = clx.objective(loss, check_start=False)
    grad, hess = obj(pred, train)
    assert grad.dtype == np.float32 and hess.dtype == np.float32
    assert grad.flags.c_contiguous and hess.flags.c_contiguous
    assert_loss_derivatives(grad, hess, loss, y, pred, std=std, mean=mean, weight=w * expected_scale(loss, std, w))
    # scikit-learn protocol: exactly (y_true, y_pred, weight), so LightGBM passes the weights
    import inspect

    assert len(inspect.signature(clx.objective(loss)).parameters) == 3
    g2, h2 = clx.objective(loss, std=std, mean=mean, check_start=False)(y, pred, w)
    np.testing.assert_array_equal(g2, grad)
    np.testing.assert_array_equal(h2, hess)
    name, value, higher = clx.metric(loss)(pred, train)
    assert (name, higher) == (loss.name, False)
    assert value == pytest.approx(loss(y, pred, std=std, mean=mean, weight=w), rel=1e-9)
    assert lgb is not None


@pytest.mark.parametrize("loss", LOSS_INSTANCES, ids=IDS)
def test_catboost_objective_payload(loss):
    pytest.importorskip("catboost")
    from czar_gbdt import catboost as ccb

    y, pred, std, mean, w = payload(loss)
    # z-space: CatBoost sees standardised labels and approxes, no std
    zt = y if std is None else (y - mean) / std
    zp = pred if std is None else (pred - mean) / std
    inst = type(ccb.objective(loss))()  # a fresh instance: the plain Python method
    targets = zt.astype(np.float32)
    for weights in (None, w.astype(np.float32)):
        out = inst.calc_ders_range(zp, targets, weights)
        assert out.shape == (len(y), 2) and out.dtype == np.float64
        eg, eh = loss.grad_hess(
            targets.astype(np.float64), zp, weight=None if weights is None else weights.astype(np.float64)
        )
        # CatBoost maximises: it wants (-grad, -hess)
        np.testing.assert_allclose(out[:, 0], -eg, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(out[:, 1], -eh, rtol=1e-12, atol=1e-300)
    met = type(ccb.metric(loss))()
    err, wsum = met.evaluate((zp,), targets, w.astype(np.float32))
    expected = loss(targets.astype(np.float64), zp, weight=w.astype(np.float32).astype(np.float64))
    assert met.get_final_error(err, wsum) == pytest.approx(expected, rel=1e-12)
    assert wsum == pytest.approx(w.astype(np.float32).astype(np.float64).sum(), rel=1e-12)
    assert met.is_max_optimal() is False


def test_catboost_sign_convention_matches_rmse():
    """RMSE in CatBoost's convention: der1 = target - approx, der2 = -1."""
    pytest.importorskip("catboost")
    from czar_gbdt import catboost as ccb

    inst = type(ccb.objective("mse"))()
    a = np.array([0.5, -1.0, 2.0])
    t = np.array([1.0, 1.0, 1.0], dtype=np.float32)
    np.testing.assert_array_equal(inst.calc_ders_range(a, t, None), [[0.5, -1.0], [2.0, -1.0], [-1.0, -1.0]])


# --------------------------------------------------------------------------- bad input, every backend
def _data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    std = np.full(n, 0.02)
    y = 0.01 * X[:, 0] + std * rng.normal(size=n)
    return X, y, std


BACKENDS = ["xgboost", "lightgbm", "catboost"]


def _backend(name):
    pytest.importorskip(name)
    import importlib

    return importlib.import_module(f"czar_gbdt.{name}")


def _train(name, mod, X, y, *, std=None, eval_set=None, objective="czar", bound_std=None, plain=False):
    """One tiny native fit through the module's helpers."""
    if name == "xgboost":
        import xgboost as xgb

        d = xgb.DMatrix(X, label=y) if plain else mod.DMatrix(X, y, std=std)
        obj = mod.objective(objective, std=bound_std)
        evals = [] if eval_set is None else [(eval_set, "valid")]
        return mod.train(
            {"max_depth": 2}, d, 2, objective=obj, evals=evals, metric=objective if evals else None, verbose_eval=False
        )
    if name == "lightgbm":
        import lightgbm as lgb

        d = lgb.Dataset(X, label=y) if plain else mod.Dataset(X, y, std=std)
        obj = mod.objective(objective, std=bound_std)
        valid = [] if eval_set is None else [eval_set]
        return mod.train(
            {"num_leaves": 4, "verbose": -1}, d, 2, objective=obj, valid_sets=valid, metric=objective if valid else None
        )
    import catboost as cb

    d = cb.Pool(X, label=y) if plain else mod.Pool(X, y, std=std)
    return mod.train(
        {"iterations": 2, "depth": 2, "verbose": 0, "thread_count": 1}, d, objective=objective, eval_set=eval_set
    )


def _eval_without_std(name, X, y):
    if name == "xgboost":
        import xgboost as xgb

        return xgb.DMatrix(X, label=y)
    if name == "lightgbm":
        import lightgbm as lgb

        return lgb.Dataset(X, label=y)
    import catboost as cb

    return cb.Pool(X, label=y)


def _eval_without_labels(name, X):
    if name == "xgboost":
        import xgboost as xgb

        return xgb.DMatrix(X)
    if name == "lightgbm":
        import lightgbm as lgb

        return lgb.Dataset(X)
    import catboost as cb

    return cb.Pool(X)


@pytest.mark.parametrize("name", BACKENDS)
def test_bad_input_raises_value_error_naming_the_argument(name):
    mod = _backend(name)
    X, y, std = _data()
    # misaligned std length
    with pytest.raises(ValueError, match="std has 90 values but the (training )?labels have 100 rows"):
        if name == "catboost":
            mod.Pool(X, y, std=std[:90])
        else:
            _train(name, mod, X, y, bound_std=std[:90], plain=True)
    # std <= 0 or NaN
    bad = std.copy()
    bad[7] = 0.0
    with pytest.raises(ValueError, match=r"std must be finite and > 0; got 0.0 at row 7"):
        _train(name, mod, X, y, std=bad)
    bad[7] = np.nan
    with pytest.raises(ValueError, match=r"std must be finite and > 0; got nan at row 7"):
        _train(name, mod, X, y, std=bad)
    # a dataset without labels
    with pytest.raises(ValueError, match="label is required"):
        {"xgboost": lambda: mod.DMatrix(X), "lightgbm": lambda: mod.Dataset(X), "catboost": lambda: mod.Pool(X)}[name]()
    with pytest.raises(ValueError, match="no labels"):
        _train(name, mod, X, None, plain=True, objective="mse")
    # an eval set without labels: the message says so
    Xv, _, _ = _data(50, seed=1)
    with pytest.raises(ValueError, match="has no labels"):
        _train(name, mod, X, y, eval_set=_eval_without_labels(name, Xv), objective="mse")
    # training set without std for a z-space loss
    with pytest.raises(ValueError, match=r"std is required by CZAR"):
        _train(name, mod, X, y, plain=True)
    # an eval set without std
    Xv, yv, _ = _data(50, seed=1)
    with pytest.raises(ValueError, match=r"std is required by .*(eval|eval_set\[0\])"):
        _train(name, mod, X, y, std=std, eval_set=_eval_without_std(name, Xv, yv))


@pytest.mark.parametrize("name", ["xgboost", "lightgbm"])
def test_sklearn_metric_bound_to_another_eval_set_length(name):
    mod = _backend(name)
    met = mod.metric("czar", std=np.full(30, 0.02))
    with pytest.raises(ValueError, match="std has 30 values but the eval set has 50 rows"):
        met(np.zeros(50), np.zeros(50))


@pytest.mark.parametrize("name", ["xgboost", "lightgbm"])
def test_start_check_catches_a_forgotten_starting_score(name):
    mod = _backend(name)
    X, y, std = _data()
    y = y + 0.05  # the constant minimiser is far from 0 and from 0.5
    if name == "xgboost":
        import xgboost as xgb

        with pytest.raises(ValueError, match=r"starts from the constant 0.5.*base_score"):
            xgb.train({}, mod.DMatrix(X, y, std=std), 1, obj=mod.objective("czar"))
        # the fix the message names works
        obj = mod.objective("czar")
        d = mod.DMatrix(X, y, std=std)
        xgb.train({"base_score": obj.base_score(d)}, d, 1, obj=obj)
        xgb.train({}, d, 1, obj=mod.objective("czar", check_start=False))
    else:
        import lightgbm as lgb

        with pytest.raises(ValueError, match=r"starts from the constant 0,.*init_score"):
            lgb.train({"objective": mod.objective("czar"), "verbose": -1}, mod.Dataset(X, y, std=std), 1)
        obj = mod.objective("czar")
        d = mod.Dataset(X, y, std=std)
        d.set_init_score(np.full(len(y), obj.init_score(d)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lgb.train({"objective": obj, "verbose": -1}, d, 1)


@pytest.mark.parametrize("name", ["xgboost", "lightgbm"])
def test_side_data_given_twice_is_an_error(name):
    mod = _backend(name)
    X, y, std = _data()
    with pytest.raises(ValueError, match="std were given both to the objective and attached"):
        _train(name, mod, X, y, std=std, bound_std=std)


def test_catboost_refuses_row_coupled_losses():
    pytest.importorskip("catboost")
    from czar_gbdt import catboost as ccb

    class Coupled(cg.HalfSquaredError):
        elementwise = False

    with pytest.raises(ValueError, match="couples rows; CatBoost evaluates objectives on row subsets"):
        ccb.objective(Coupled())


# --------------------------------------------------------------------------- real data, 500 rounds
def ff49_panel(n_dates=300):
    """Bundled FF49 daily industry returns (percent) as a causal panel: features up to t,
    target the return of t+1, std the trailing 20-day volatility (floored)."""
    from importlib import resources

    import pandas as pd

    with resources.as_file(resources.files("czar_gbdt") / "data" / "ff49_industries_vw_daily.csv.gz") as path:
        wide = pd.read_csv(path, index_col="date").iloc[-(n_dates + 25) :]
    feats = {
        "r1": wide,
        "r5": wide.rolling(5).mean(),
        "r20": wide.rolling(20).mean(),
        "vol20": wide.rolling(20).std(),
    }
    target = wide.shift(-1)
    std = feats["vol20"].clip(lower=0.1)
    frame = pd.concat({**feats, "y": target, "std": std}, axis=1).iloc[20:-1]
    long = frame.stack(future_stack=True).dropna()
    return long[list(feats)].to_numpy(), long["y"].to_numpy(), long["std"].to_numpy()


@pytest.mark.parametrize("name", BACKENDS)
def test_czar_on_real_returns_500_rounds_default_parameters(name):
    mod = _backend(name)
    X, y, std = ff49_panel()
    loss = cg.CZAR()
    if name == "xgboost":
        import xgboost as xgb

        model = mod.train({}, mod.DMatrix(X, y, std=std), 500, objective=loss)
        pred = model.predict(xgb.DMatrix(X))
    elif name == "lightgbm":
        model = mod.train({"verbose": -1}, mod.Dataset(X, y, std=std), 500, objective=loss)
        pred = model.predict(X)
    else:
        model = mod.train(
            {"iterations": 500, "verbose": 0, "allow_writing_files": False}, mod.Pool(X, y, std=std), objective=loss
        )
        pred = mod.predict(model, X, std=std)
    assert pred.shape == y.shape
    assert np.isfinite(pred).all()
    assert np.std(pred) > 0

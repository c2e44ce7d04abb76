"""czar_gbdt.catboost: numba-compiled objectives and metrics, z-space alignment, starting score."""

import warnings

import numpy as np
import pytest

cb = pytest.importorskip("catboost")

from backend_helpers import KINDS, check_same_as_fit_predict  # noqa: E402

import czar_gbdt as cg  # noqa: E402
from czar_gbdt import catboost as ccb  # noqa: E402

REGRESSION = ["czar", "zptae", "mse"]
BINARY = ["focal", "asymmetric"]
QUIET = {"verbose": 0, "thread_count": 2, "random_seed": 0, "allow_writing_files": False}
EXACT = {"bootstrap_type": "No", "random_strength": 0, "boosting_type": "Plain", "l2_leaf_reg": 0}


def make_data(n=400, seed=0, binary=False, std_scale=0.01):
    """Features, labels, per-row std and mean (returns-like scale); binary: 0/1 labels, no std."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    signal = 0.5 * X[:, 0] - 0.3 * X[:, 1] * X[:, 2]
    if binary:
        return X, (signal + rng.normal(size=n) > 0.3).astype(int), None, None
    std = std_scale * np.exp(0.5 * rng.normal(size=n))
    mean = 0.1 * std_scale * rng.normal(size=n)
    return X, mean + std * (signal + rng.standard_t(5, size=n)), std, mean


def _jit_warnings(record):
    return [
        str(w.message)
        for w in record
        if "optimiz" in str(w.message).lower()
        or "optimze" in str(w.message).lower()
        or "numba" in str(w.message).lower()
    ]


# parameter sets used nowhere else: their classes are generated and compiled in this test
FRESH = [
    cg.CZAR(alpha=0.7311),
    cg.ZPTAE(alpha=0.2711),
    cg.HalfSquaredError(min_hessian=1.7311e-7),
    cg.FocalLoss(gamma=1.7311),
    cg.AsymmetricLoss(gamma_neg=3.7311),
]


@pytest.mark.parametrize("loss", FRESH, ids=[loss.name for loss in FRESH])
def test_catboost_compiles_objective_and_metric_with_numba(loss):
    """CatBoost jits calc_ders_range, evaluate and get_final_error itself; fails if it warns.

    CatBoost deep-copies its parameters; a copy is the one instance per parameter set, so the
    compiled methods are reused by every later model with the same loss."""
    binary = loss.kind == "binary"
    X, y, std, mean = make_data(300, binary=binary)
    obj = ccb.objective(loss)
    met = ccb.metric(loss)
    assert not hasattr(obj, "_jited") and not hasattr(met, "_jited")  # not compiled yet
    Model = cb.CatBoostClassifier if binary else cb.CatBoostRegressor
    model = Model(loss_function=obj, eval_metric=met, iterations=5, depth=3, **QUIET)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ccb.fit(
            model,
            ccb.Pool(X, y, std=std, mean=mean),
            eval_set=ccb.Pool(X[:100], y[:100], std=None if binary else std[:100], mean=None if binary else mean[:100]),
        )
    assert _jit_warnings(record) == []
    for method in (obj.calc_ders_range, met.evaluate, met.get_final_error):
        assert getattr(method, "use_optimized", False) is True, method  # CatBoost's compiled wrapper


@pytest.mark.parametrize("name", REGRESSION + BINARY)
@pytest.mark.parametrize("api", ["native", "sklearn"])
def test_every_loss_trains(name, api):
    loss = cg.get_loss(name)
    binary = loss.kind == "binary"
    X, y, std, mean = make_data(binary=binary)
    Xv, yv, stdv, meanv = make_data(200, seed=1, binary=binary, std_scale=0.03)
    train = ccb.Pool(X, y, std=std, mean=mean)
    valid = ccb.Pool(Xv, yv, std=stdv, mean=meanv)
    params = {"iterations": 8, "depth": 3, "learning_rate": 0.3, **QUIET}
    if api == "native":
        model = ccb.train(params, train, objective=loss, eval_set=valid)
    else:
        Model = cb.CatBoostClassifier if binary else cb.CatBoostRegressor
        model = ccb.fit(
            Model(loss_function=ccb.objective(loss), eval_metric=ccb.metric(loss), **params), train, eval_set=valid
        )
    z_pred = model.predict(Xv, prediction_type="RawFormulaVal")  # includes the starting score (bias)
    assert np.isfinite(z_pred).all()
    y_pred = ccb.predict(model, Xv, std=stdv, mean=meanv)
    if binary:
        np.testing.assert_array_equal(y_pred, z_pred)
        if api == "sklearn":
            np.testing.assert_allclose(model.predict_proba(Xv)[:, 1], 1 / (1 + np.exp(-z_pred)), rtol=1e-9)
            assert set(model.predict(Xv)) <= {0, 1}
    else:
        np.testing.assert_allclose(y_pred, meanv + stdv * z_pred, rtol=1e-12)
        np.testing.assert_allclose(ccb.predict(model, valid), y_pred, rtol=1e-12)  # a Pool brings its std
    # the eval metric is the loss on the eval set with its own std: same value in y units
    # (the model keeps its best iteration: use_best_model)
    logged = model.get_evals_result()["validation"][name][model.get_best_iteration()]
    assert logged == pytest.approx(loss(yv, y_pred, std=stdv, mean=meanv), rel=1e-5)
    learn = model.get_evals_result()["learn"][name]
    init = loss.init_score(y if binary else (y - mean) / std)
    assert learn[-1] < loss(y, mean + std * init if not binary else np.full(len(y), init), std=std, mean=mean)


def test_catboost_calls_the_objective_on_row_subsets():
    """Why a closure holding std by position is wrong: CatBoost hands over blocks of rows."""
    X, y, std, mean = make_data(3000)
    sizes = []

    class Recorder:
        no_jit = True

        def calc_ders_range(self, approxes, targets, weights):
            sizes.append(len(approxes))
            return np.column_stack([targets - approxes, -np.ones(len(targets))])

    cb.CatBoostRegressor(loss_function=Recorder(), eval_metric="RMSE", iterations=2, **QUIET).fit(X, y)
    assert max(sizes) < len(y)


def test_z_space_keeps_std_aligned_with_its_rows():
    """One Newton step (depth 2, learning_rate 1, no regularisation) gives leaf values
    -sum(w g) / sum(w h) of the z-space CZAR derivatives at the starting score. Computed here in
    numpy with every row's own std, they match the model; with std misaligned by one row (what a
    closure over std by position would see on a row subset) they do not."""
    rng = np.random.default_rng(7)
    n = 600
    X = rng.normal(size=(n, 3))
    std = np.where(rng.random(n) < 0.5, 0.002, 0.05)  # two regimes: misalignment matters
    y = std * (X[:, 0] + rng.normal(size=n)) + 0.004 * X[:, 1]
    w = rng.uniform(0.5, 2.0, n)
    loss = cg.CZAR()
    params = {
        "iterations": 1,
        "depth": 2,
        "learning_rate": 1.0,
        "leaf_estimation_method": "Newton",
        "leaf_estimation_iterations": 1,
        **EXACT,
        **QUIET,
    }
    pool = ccb.Pool(X, y, std=std, weight=w)
    model = ccb.train(params, pool, objective=loss)
    z_pred = model.predict(X, prediction_type="RawFormulaVal")
    leaf = model.calc_leaf_indexes(cb.Pool(X))[:, 0]

    def one_step(std_used):
        zt = y / std_used
        init = loss.init_score(zt, weight=w)
        g, h = loss.grad_hess(zt, np.full(n, init), weight=w)
        values = {k: -g[leaf == k].sum() / h[leaf == k].sum() for k in np.unique(leaf)}
        return init + np.array([values[k] for k in leaf])

    np.testing.assert_allclose(z_pred, one_step(std), rtol=1e-6, atol=1e-9)
    misaligned = one_step(np.roll(std, 1))
    assert np.abs(z_pred - misaligned).max() > 1e-3  # 1000x the tolerance of the match above
    np.testing.assert_allclose(ccb.predict(model, pool), std * z_pred, rtol=1e-12)


def test_weight_two_equals_duplicated_row():
    """Weights are applied once: with bins that cannot differ (integer features) and CatBoost's
    own weight-dependent terms switched off (no bootstrap, no score noise, l2_leaf_reg=0, which
    CatBoost scales by the mean weight), weight 2 on rows == those rows duplicated."""
    rng = np.random.default_rng(1)
    n = 300
    X = rng.integers(0, 8, size=(n, 4)).astype(float)
    std = 0.01 * np.exp(0.3 * rng.normal(size=n))
    y = std * (0.3 * X[:, 0] + rng.normal(size=n))
    w = np.ones(n)
    w[:20] = 2.0
    dup = np.r_[np.arange(n), np.arange(20)]
    params = {"iterations": 20, "depth": 3, "learning_rate": 0.3, **EXACT, **QUIET, "thread_count": 1}
    for name in ("czar", "focal"):
        yy = (y > 0).astype(int) if name == "focal" else y
        kw = {} if name == "focal" else {"std": std}
        kw_d = {} if name == "focal" else {"std": std[dup]}
        m_w = ccb.train(params, ccb.Pool(X, yy, weight=w, **kw), objective=name)
        m_d = ccb.train(params, ccb.Pool(X[dup], yy[dup], **kw_d), objective=name)
        np.testing.assert_allclose(m_w.predict(X), m_d.predict(X), atol=1e-6)


@pytest.mark.parametrize("name", ["mse", "focal"])
def test_weight_two_equals_duplicated_row_sklearn(name):
    """The same through the estimators: features and labels with sample_weight= to ccb.fit
    (no std on this path: squared error in y units and binary losses)."""
    rng = np.random.default_rng(1)
    n = 300
    X = rng.integers(0, 8, size=(n, 4)).astype(float)
    y = 0.3 * X[:, 0] + rng.normal(size=n)
    if name == "focal":
        y = (y > 1.0).astype(int)
    w = np.ones(n)
    w[:20] = 2.0
    dup = np.r_[np.arange(n), np.arange(20)]
    params = {"iterations": 20, "depth": 3, "learning_rate": 0.3, **EXACT, **QUIET, "thread_count": 1}
    Model = cb.CatBoostClassifier if name == "focal" else cb.CatBoostRegressor

    def raw(model):
        return model.predict(X, prediction_type="RawFormulaVal")

    m_w = ccb.fit(Model(loss_function=ccb.objective(name), **params), X, y, sample_weight=w)
    m_d = ccb.fit(Model(loss_function=ccb.objective(name), **params), X[dup], y[dup])
    np.testing.assert_allclose(raw(m_w), raw(m_d), atol=1e-6)
    unweighted = ccb.fit(Model(loss_function=ccb.objective(name), **params), X, y)
    assert np.abs(raw(unweighted) - raw(m_w)).max() > 1e-4  # control: the weights matter


@pytest.mark.parametrize("name", REGRESSION + BINARY)
def test_training_starts_at_the_constant_minimiser(name):
    """One iteration whose leaves are ~0 (l2_leaf_reg = 1e30): predictions are the starting score."""
    loss = cg.get_loss(name)
    binary = loss.kind == "binary"
    X, y, std, mean = make_data(binary=binary)
    w = np.random.default_rng(0).uniform(0.5, 2, len(y))
    zt = y if binary else (y - mean) / std
    init = loss.init_score(zt, weight=w.astype(np.float32))  # CatBoost stores float32 weights
    params = {"iterations": 1, "depth": 2, "learning_rate": 1.0, "l2_leaf_reg": 1e30, **QUIET}
    model = ccb.train(params, ccb.Pool(X, y, std=std, mean=mean, weight=w), objective=loss)
    np.testing.assert_allclose(model.predict(X, prediction_type="RawFormulaVal"), init, rtol=1e-9, atol=1e-9)
    if not binary:
        np.testing.assert_allclose(ccb.predict(model, X, std=std, mean=mean), mean + std * init, rtol=1e-9, atol=1e-12)
    Model = cb.CatBoostClassifier if binary else cb.CatBoostRegressor
    model = ccb.fit(Model(loss_function=ccb.objective(loss), **params), ccb.Pool(X, y, std=std, mean=mean, weight=w))
    np.testing.assert_allclose(model.predict(X, prediction_type="RawFormulaVal"), init, rtol=1e-9, atol=1e-9)


def test_mse_reproduces_builtin_rmse():
    X, y, _, _ = make_data(500, seed=4)
    y = y * 100 + 3.0
    params = {"iterations": 50, "depth": 4, "learning_rate": 0.1, **QUIET}
    builtin = cb.CatBoostRegressor(loss_function="RMSE", **params).fit(X, y)
    ours = ccb.train(params, ccb.Pool(X, y), objective="mse")
    np.testing.assert_allclose(ours.predict(X), builtin.predict(X), atol=1e-5)
    sk = ccb.fit(cb.CatBoostRegressor(loss_function=ccb.objective("mse"), **params), X, y)
    np.testing.assert_allclose(sk.predict(X), builtin.predict(X), atol=1e-5)


def test_focal_gamma0_alpha_half_equals_logloss_at_half_the_learning_rate():
    """Focal(gamma=0, alpha=0.5) has half of Logloss's gradient. With CatBoost's Gradient leaf
    estimation a leaf is learning_rate * sum(w der1) / (sum(w) + l2): half the gradient gives half
    the step, and the tree structure (cosine score) does not see the factor. So focal at
    learning rate 2*eta trains the same trees as Logloss at eta (both from the log-odds). The random
    noise CatBoost adds to split scores is not scale-free, so it is off (random_strength=0)."""
    X, y, _, _ = make_data(500, seed=5, binary=True)
    params = {
        "iterations": 30,
        "depth": 4,
        "leaf_estimation_method": "Gradient",
        "leaf_estimation_iterations": 1,
        "random_strength": 0,
        **QUIET,
    }
    builtin = cb.CatBoostClassifier(loss_function="Logloss", learning_rate=0.05, boost_from_average=True, **params).fit(
        X, y
    )
    ours = ccb.train({**params, "learning_rate": 0.1}, ccb.Pool(X, y), objective=cg.FocalLoss(gamma=0.0, alpha=0.5))
    np.testing.assert_allclose(
        ours.predict(X, prediction_type="RawFormulaVal"), builtin.predict(X, prediction_type="RawFormulaVal"), atol=1e-5
    )


def test_early_stopping_on_maximised_rank_ic_keeps_the_best_round():
    pytest.importorskip("czar_gbdt.metrics")
    rng = np.random.default_rng(11)
    n_dates, n_assets = 60, 20
    dates = np.repeat(np.arange(n_dates), n_assets)
    X = rng.normal(size=(n_dates * n_assets, 6))
    std = 0.01 * np.exp(0.3 * rng.normal(size=len(dates)))
    y = std * (0.5 * np.tanh(X[:, 0]) + 0.3 * X[:, 1] * X[:, 2] + rng.normal(size=len(dates)))
    n = len(y) // 2
    train = ccb.Pool(X[:n], y[:n], std=std[:n], dates=dates[:n])
    valid = ccb.Pool(X[n:], y[n:], std=std[n:], dates=dates[n:])
    met = ccb.metric("rank_ic", pool=valid)
    assert met.is_max_optimal() is True
    params = {"iterations": 300, "depth": 3, "learning_rate": 0.3, **QUIET}
    model = ccb.train(params, train, objective="czar", eval_set=valid, metric=met, early_stopping_rounds=10)
    hist = np.array(model.get_evals_result()["validation"]["rank_ic"])
    best = int(np.argmax(hist))
    assert best > 0 and np.argmin(hist) != best
    assert model.get_best_iteration() == best and len(hist) == best + 11
    assert model.tree_count_ == best + 1  # use_best_model keeps the best round
    # the logged value is the rank IC of the y-unit predictions by date
    from czar_gbdt import metrics

    y_hat = ccb.predict(model, valid)
    assert hist[best] == pytest.approx(metrics.rank_ic(y[n:], y_hat, dates=dates[n:]).mean, rel=1e-9)
    # the training pool (it has dates) is scored too, the learn set is found by its labels
    assert np.all(np.array(model.get_evals_result()["learn"]["rank_ic"]) != 0)
    # scikit-learn estimator with early_stopping_rounds as a model parameter: same direction
    sk = cb.CatBoostRegressor(loss_function=ccb.objective("czar"), eval_metric=met, early_stopping_rounds=10, **params)
    ccb.fit(sk, train, eval_set=valid)
    hist_sk = np.array(sk.get_evals_result()["validation"]["rank_ic"])
    assert sk.get_best_iteration() == int(np.argmax(hist_sk)) == best and len(hist_sk) == best + 11
    assert sk.tree_count_ == best + 1


def test_z_space_hessians_do_not_depend_on_the_return_scale():
    """In z-space the booster sees the hessians of std = 1 whatever the units of y: one data set
    at std ~ 2**-7 (~0.008, daily returns), 1 and 2**7 (exact powers of 2, so only the scale
    changes) gives the same model in z units with default parameters. Control: the same loss in
    y space (hessians H/std**2; a scalar std, so row alignment plays no part) learns a different
    model at std ~ 0.008 and almost nothing at std ~ 128, where CatBoost's default l2_leaf_reg=3
    dwarfs hessian sums of ~400 * 6e-5."""
    X, y1, std1, mean1 = make_data(400, seed=6, std_scale=1.0)
    loss = cg.CZAR()

    class YSpace:  # the loss on y with std = scale: what training without z-space would do
        no_jit = True

        def __init__(self, scale):
            self.scale = scale

        def calc_ders_range(self, approxes, targets, weights):
            g, h = loss.grad_hess(np.asarray(targets, np.float64), np.asarray(approxes), std=self.scale)
            return np.column_stack([-g, -h])

    ref = None
    for scale in (2.0**-7, 1.0, 2.0**7):
        model = ccb.train(
            {"iterations": 3, **QUIET}, ccb.Pool(X, y1 * scale, std=std1 * scale, mean=mean1 * scale), objective=loss
        )
        z = model.predict(X, prediction_type="RawFormulaVal")
        ref = z if ref is None else ref
        np.testing.assert_allclose(z, ref, rtol=1e-6, atol=1e-9)
        assert np.std(z) > 0.01
        if scale != 1.0:
            ys = y1 * scale
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y_space = cb.CatBoostRegressor(
                    loss_function=YSpace(scale), eval_metric="RMSE", iterations=3, **QUIET
                ).fit(X, ys, baseline=np.full(len(ys), np.median(ys)))
            moved = np.std(y_space.predict(X, prediction_type="RawFormulaVal")) / scale
            if scale < 1:
                assert abs(moved - np.std(z)) > 0.05 * np.std(z)  # another model
            else:
                assert moved < 0.01 * np.std(z)  # hardly trained


def test_objects_survive_copies_and_offsets_are_reset():
    """CatBoost deep-copies its parameters: a copy (or an unpickled object) is the one cached,
    already compiled instance; the starting-score offset is 0 outside fit()."""
    import copy
    import pickle

    obj, met = ccb.objective("czar"), ccb.metric("czar")
    assert copy.deepcopy(obj) is obj and pickle.loads(pickle.dumps(obj)) is obj
    assert copy.deepcopy(met) is met and pickle.loads(pickle.dumps(met)) is met
    X, y, std, mean = make_data(200)
    model = ccb.train({"iterations": 3, **QUIET}, ccb.Pool(X, y, std=std, mean=mean), objective="czar")
    assert type(obj)._cell[0] == 0.0 and type(met)._cell[0] == 0.0
    assert model.get_scale_and_bias()[1] != 0.0  # the starting score lives in the model
    # without an eval set the training loss is scored at the end only (CatBoost scores it every
    # iteration otherwise: a full pass of the loss)
    assert model.get_params()["metric_period"] == 3


@pytest.mark.slow
def test_fits_sharing_an_eval_metric_run_one_at_a_time():
    """The starting score lives in a cell of the metric's class: a fit of another objective that
    shares the metric must wait until the metric is free (it holds its objective's lock, then
    blocks on the metric's, before setting any cell)."""
    import threading
    import time

    X, y, std, mean = make_data(200, seed=2)
    pool = ccb.Pool(X, y, std=std, mean=mean)
    met = ccb.metric("czar")
    obj = ccb.objective(cg.CZAR(alpha=0.4242))  # a class no other test uses: its lock is free
    done = threading.Event()

    def run():
        ccb.fit(cb.CatBoostRegressor(loss_function=obj, eval_metric=met, iterations=2, **QUIET), pool)
        done.set()

    with type(met)._lock:  # another fit using this metric is running
        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 60
        while not type(obj)._lock.locked() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert type(obj)._lock.locked()  # the fit has started ...
        time.sleep(0.5)
        assert not done.is_set() and type(obj)._cell[0] == 0.0 and type(met)._cell[0] == 0.0  # ... and waits
    thread.join(120)
    assert done.is_set()
    assert type(obj)._cell[0] == 0.0 and type(met)._cell[0] == 0.0


@pytest.mark.parametrize("kind", KINDS)
def test_training_interface_gives_the_evaluations_models(kind):
    """train_builtin/train_ranking/train_loss give evaluation.fit_predict's predictions and rounds."""
    check_same_as_fit_predict(ccb, kind)


def test_side_data_goes_to_the_pool_not_the_objective():
    """ccb.objective(loss, std=...) and ccb.metric(loss, std=...) say where std goes."""
    X, y, std, mean = make_data(100)
    for factory, name in ((ccb.objective, "objective"), (ccb.metric, "metric")):
        with pytest.raises(
            ValueError,
            match=rf"czar_gbdt.catboost.{name}\(\) takes no std: .*"
            r"czar_gbdt.catboost.Pool\(X, y, std=...\)",
        ):
            factory(cg.CZAR(), std=std)
        with pytest.raises(ValueError, match=r"takes no dates/mean"):
            factory(cg.CZAR(), mean=mean, dates=np.arange(100))
        with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['stdd'\]"):
            factory(cg.CZAR(), stdd=std)


@pytest.mark.parametrize("data", ["arrays", "pool"])
def test_a_loss_that_needs_std_never_trains_with_a_bare_fit(data):
    """CatBoost's own fit() (no check that the labels are z-scored) is refused on the first call of
    the compiled objective, with the way to train instead; ccb.fit on the same pool trains. A loss
    without std (mse) still trains with a bare fit."""
    X, y, std, mean = make_data(300, seed=3)
    loss = cg.CZAR(alpha=0.4141)  # a parameter set no other test compiles
    train = (X, y) if data == "arrays" else (ccb.Pool(X, y, std=std, mean=mean),)
    model = cb.CatBoostRegressor(loss_function=ccb.objective(loss), eval_metric="RMSE", iterations=3, **QUIET)
    with pytest.raises(
        cb.CatBoostError,
        match=r"needs labels z-scored with a per-row std, which a bare model.fit\(\) "
        r"does not check .*czar_gbdt.catboost.fit\(model, ",
    ):
        model.fit(*train)
    fitted = ccb.fit(
        cb.CatBoostRegressor(loss_function=ccb.objective(loss), iterations=3, **QUIET),
        ccb.Pool(X, y, std=std, mean=mean),
    )
    assert fitted.tree_count_ == 3
    assert type(ccb.objective(loss))._cell[1] == 0.0  # disarmed after the fit
    with pytest.raises(cb.CatBoostError, match="needs labels z-scored"):  # and a bare fit is refused again
        cb.CatBoostRegressor(loss_function=ccb.objective(loss), eval_metric="RMSE", iterations=3, **QUIET).fit(X, y)
    bare = cb.CatBoostRegressor(loss_function=ccb.objective("mse"), eval_metric="RMSE", iterations=3, **QUIET)
    assert bare.fit(X, y).tree_count_ == 3


def test_no_catboost_info_in_the_working_directory(tmp_path, monkeypatch):
    """Issue 21 (5): training through ccb.train or ccb.fit, as the docs' and the notebook's examples do,
    leaves no catboost_info/ where it runs; a train_dir the user sets still gets CatBoost's logs."""
    monkeypatch.chdir(tmp_path)
    X, y, std, _ = make_data(200)
    pool = ccb.Pool(X, y, std=std)
    ccb.train({"iterations": 5, "verbose": 0}, pool, objective="czar")
    model = cb.CatBoostRegressor(loss_function=ccb.objective(cg.get_loss("zptae")), iterations=5, verbose=0)
    ccb.fit(model, pool, eval_set=ccb.Pool(X, y, std=std))
    assert list(tmp_path.iterdir()) == []
    ccb.train({"iterations": 5, "verbose": 0, "train_dir": str(tmp_path / "logs")}, pool, objective="czar")
    assert (tmp_path / "logs").is_dir() and not (tmp_path / "catboost_info").exists()

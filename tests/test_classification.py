"""czar_gbdt.classification: PnL weights, the logistic loss and threshold selection.

Numbers are checked against independent numpy transcriptions and the backends themselves (weights vs
duplicated rows). The soft-F1 composite is tested in test_soft_f1.py, loss schedules in test_schedules.py.
"""

import math

import numpy as np
import pytest
from classification_helpers import ONE, QUIET, Spy, binary_data, payload, sigmoid

import czar_gbdt as cg
from czar_gbdt.classification import select_threshold

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

from czar_gbdt import lightgbm as clx  # noqa: E402
from czar_gbdt import xgboost as cx  # noqa: E402


# --------------------------------------------------------------------------- PnL weights
def test_pnl_weights_formula_normalisation_and_gate():
    pnl = np.array([0.0, 1.0, -2.0, 3.0])
    np.testing.assert_array_equal(cg.pnl_weights(pnl, normalize=False), [1, 2, 1, 4])
    w = cg.pnl_weights(pnl)
    assert w.mean() == pytest.approx(1.0) and np.allclose(w, np.array([1, 2, 1, 4]) / 2)
    # the weights are normalised over all rows, then the gate applies
    np.testing.assert_allclose(cg.pnl_weights(pnl, gate=[1, 1, 0, 1]), [0.5, 1.0, 0.0, 2.0])
    np.testing.assert_allclose(cg.pnl_weights(pnl, gate=np.array([True, False, True, True])), [0.5, 0, 0.5, 2])
    np.testing.assert_allclose(cg.pnl_weights([0.01, -0.02], scale=100, normalize=False), [2.0, 1.0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(pnl=[0.0, np.nan]), r"^pnl must be finite; got nan at row 1"),
        (dict(pnl=[]), r"^pnl is empty"),
        (dict(pnl=[[1.0, 2.0], [3.0, 4.0]]), r"^pnl must be 1-dimensional"),
        (dict(pnl=[1.0, 2.0], gate=[1, -1]), r"^gate must be >= 0 \(a mask\); got -1.0 at row 1"),
        (dict(pnl=[1.0, 2.0], gate=[1, np.inf]), r"^gate must be finite; got inf at row 1"),
        (dict(pnl=[1.0, 2.0], gate=[1, 1, 1]), r"^gate has 3 values but pnl has 2"),
        (dict(pnl=[1.0, 2.0], gate=[0, 0]), r"^gate removes every row"),
        (dict(pnl=[1.0, 2.0], scale=0.0), r"^scale must be in \(0, inf\]; got 0.0"),
    ],
)
def test_pnl_weights_bad_input_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cg.pnl_weights(**kwargs)


def _duplicate(X, y, w):
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    return X[rows], y[rows]


@pytest.mark.parametrize("loss", [cg.LogisticLoss(), cg.SoftF1Composite(pos_weight=1.4)], ids=lambda loss: loss.name)
def test_pnl_weights_equal_duplicated_rows(loss):
    """Integer PnL weights (gate 0 drops a row) train the same trees as rows repeated that often.

    Compared on the rows that are kept: a weight-0 row still offers its feature values as split
    points to the exact method, which moves thresholds within gaps that no kept row occupies.
    """
    X, y = binary_data(240, seed=1)
    rng = np.random.default_rng(2)
    pnl = rng.integers(-2, 3, size=len(y)).astype(float)  # weights 1, 1, 1, 2, 3
    gate = (rng.random(len(y)) > 0.1).astype(float)
    w = cg.pnl_weights(pnl, gate=gate, normalize=False)
    assert set(np.unique(w)) <= {0.0, 1.0, 2.0, 3.0} and (w == 0).any() and (w == 3).any()
    Xd, yd = _duplicate(X, y, w)
    params = {"max_depth": 3, "eta": 0.3, "tree_method": "exact", **ONE}
    b_w = cx.train(params, cx.DMatrix(X, y, weight=w), 15, objective=loss)
    b_d = cx.train(params, cx.DMatrix(Xd, yd), 15, objective=loss)
    dtest = xgb.DMatrix(X[w > 0])
    m_w = b_w.predict(dtest, output_margin=True)
    np.testing.assert_allclose(m_w, b_d.predict(dtest, output_margin=True), atol=1e-5)
    assert np.ptp(m_w) > 0.5  # real trees, not a constant
    # the normalised weights are the integer ones divided by m = mean(max(pnl, 0) + 1): gradients and
    # hessians shrink by m, so with lambda and min_child_weight divided by m too the trees are the same
    wn = cg.pnl_weights(pnl, gate=gate)
    m = float(np.mean(np.maximum(pnl, 0) + 1))
    np.testing.assert_allclose(wn * m, w, rtol=1e-15)
    scaled = {**params, "lambda": 1.0 / m, "min_child_weight": 1.0 / m}
    b_n = cx.train(scaled, cx.DMatrix(X, y, weight=wn), 15, objective=loss)
    np.testing.assert_allclose(
        b_n.predict(dtest, output_margin=True), b_d.predict(dtest, output_margin=True), atol=1e-5
    )
    # gradient sums: a row of weight k carries the gradient of its k copies
    pred = rng.normal(size=len(y))
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    g_w, h_w = loss.grad_hess(y, pred, weight=w)
    g_d, h_d = loss.grad_hess(yd, pred[rows])
    np.testing.assert_allclose(g_w, np.bincount(rows, g_d, minlength=len(y)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_w, np.bincount(rows, h_d, minlength=len(y)), rtol=1e-10, atol=1e-12)
    assert g_w.sum() == pytest.approx(g_d.sum(), rel=1e-10, abs=1e-10)


def few_level_data(n=240, seed=1, levels=6):
    """Binary data whose features take ``levels`` integer values each: LightGBM gives every value
    its own bin (with ``min_data_in_bin=1``), whatever the row counts, so weighting a row or
    repeating it cannot change the bins."""
    X, y = binary_data(n, seed=seed)
    Xq = np.clip(np.round(X * 1.2), -(levels // 2), levels // 2 - 1)
    return Xq, y


# min_data_in_leaf counts rows (a row of weight 3 is one row, its copies three): 1 makes it never bind;
# min_sum_hessian_in_leaf (default 1e-3) still refuses leaves of weight-0 rows only, as in the copies
LGB_DUP = {
    "num_leaves": 8,
    "learning_rate": 0.3,
    "min_data_in_leaf": 1,
    "min_data_in_bin": 1,
    "max_bin": 255,
    "force_row_wise": True,
    "deterministic": True,
    **QUIET,
}


def _integer_weights(n, seed=2):
    rng = np.random.default_rng(seed)
    pnl = rng.integers(-2, 3, size=n).astype(float)  # weights 1, 1, 1, 2, 3
    gate = (rng.random(n) > 0.1).astype(float)
    w = cg.pnl_weights(pnl, gate=gate, normalize=False)
    assert set(np.unique(w)) <= {0.0, 1.0, 2.0, 3.0} and (w == 0).any() and (w == 3).any()
    return w


@pytest.mark.parametrize("loss", [cg.LogisticLoss(), cg.SoftF1Composite(pos_weight=1.4)], ids=lambda loss: loss.name)
def test_lightgbm_pnl_weights_equal_duplicated_rows_gradient_by_gradient(loss):
    """LightGBM: at every round, the gradients and hessians handed to the booster for the weighted
    rows equal those of the duplicated rows summed per original row, and so the trees agree.

    Bins: LightGBM bins from row counts, so with many distinct feature values weights and copies
    can bin differently; the features here take 6 values (one bin each, ``min_data_in_bin=1``) and
    every value occurs among the kept rows."""
    X, y = few_level_data()
    w = _integer_weights(len(y))
    for j in range(X.shape[1]):
        assert set(np.unique(X[w > 0, j])) == set(np.unique(X[:, j])) and len(np.unique(X[:, j])) == 6
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    spies = {}
    margins = {}
    for name, data, n in [
        ("weighted", clx.Dataset(X, y, weight=w, free_raw_data=False), len(y)),
        ("duplicated", clx.Dataset(X[rows], y[rows], free_raw_data=False), len(rows)),
    ]:
        spy = spies[name] = Spy(clx.objective(loss))
        init = spy.obj.init_score(data)
        data.set_init_score(np.full(n, init))
        booster = lgb.train({**LGB_DUP, "objective": spy}, data, 10)
        margins[name] = booster.predict(X[w > 0]) + init
    assert len(spies["weighted"].log) == len(spies["duplicated"].log) == 10
    for (p_w, g_w, h_w), (p_d, g_d, h_d) in zip(spies["weighted"].log, spies["duplicated"].log):
        np.testing.assert_allclose(p_d, p_w[rows], atol=1e-5)  # the same model so far
        np.testing.assert_allclose(g_w, np.bincount(rows, g_d, minlength=len(y)), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h_w, np.bincount(rows, h_d, minlength=len(y)), rtol=1e-5, atol=1e-6)
        assert (g_w[w == 0] == 0).all()
    np.testing.assert_allclose(margins["weighted"], margins["duplicated"], atol=1e-5)
    assert np.ptp(margins["weighted"]) > 0.5  # real trees, not a constant


def test_lightgbm_builtin_binary_with_weights_equals_duplicated_rows():
    """LightGBM's own ``binary`` objective with the PnL weights (the weight-builder use), on bins
    that cannot differ; a control shows that the weights matter."""
    X, y = few_level_data(seed=3)
    w = _integer_weights(len(y), seed=4)
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    params = {**LGB_DUP, "objective": "binary"}
    b_w = lgb.train(params, lgb.Dataset(X, y, weight=w), 15)
    b_d = lgb.train(params, lgb.Dataset(X[rows], y[rows]), 15)
    b_1 = lgb.train(params, lgb.Dataset(X, y), 15)
    kept = X[w > 0]
    m_w, m_d = b_w.predict(kept, raw_score=True), b_d.predict(kept, raw_score=True)
    np.testing.assert_allclose(m_w, m_d, atol=1e-5)
    assert np.abs(b_1.predict(kept, raw_score=True) - m_d).max() > 1e-2


def test_lightgbm_weights_and_copies_can_differ_when_bins_come_from_row_counts():
    """Why the tests above use few feature values: with more distinct values than ``max_bin``,
    LightGBM places bin edges by row counts, and a row of weight 3 counts once, its copies
    three times: the bins, and so the trees, differ (this pins the README's caveat)."""
    X, y = binary_data(600, seed=5)
    w = _integer_weights(len(y), seed=6)
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    params = {**LGB_DUP, "objective": "binary", "max_bin": 7}
    m_w = lgb.train(params, lgb.Dataset(X, y, weight=w), 15).predict(X[w > 0], raw_score=True)
    m_d = lgb.train(params, lgb.Dataset(X[rows], y[rows]), 15).predict(X[w > 0], raw_score=True)
    assert np.abs(m_w - m_d).max() > 1e-3


# --------------------------------------------------------------------------- logistic
def test_logistic_matches_formula_and_xgboost_scale_pos_weight():
    y, x, w = payload()
    loss = cg.LogisticLoss(pos_weight=2.5)
    c = np.where(y == 1, 2.5, 1.0)
    p = sigmoid(x)
    np.testing.assert_allclose(loss.loss(y, x), c * np.logaddexp(0, np.where(y == 1, -x, x)), rtol=1e-13)
    g, h = loss.grad_hess(y, x, weight=w)
    np.testing.assert_allclose(g, w * c * (p - y), rtol=1e-12)
    np.testing.assert_allclose(h, w * c * p * (1 - p), rtol=1e-12)
    assert loss.init_score(y, weight=w) == pytest.approx(math.log(2.5 * np.dot(w, y) / np.dot(w, 1 - y)), rel=1e-12)
    # same trees as the built-in objective with scale_pos_weight
    X, yb = binary_data(400, seed=3)
    params = {"max_depth": 3, "eta": 0.2, "seed": 0, **ONE}
    base = loss.init_score(yb)
    builtin = xgb.train(
        {**params, "objective": "binary:logistic", "scale_pos_weight": 2.5, "base_score": float(sigmoid(base))},
        xgb.DMatrix(X, label=yb),
        20,
    )
    ours = cx.train(params, cx.DMatrix(X, yb), 20, objective=loss)
    d = xgb.DMatrix(X)
    np.testing.assert_allclose(ours.predict(d, output_margin=True), builtin.predict(d, output_margin=True), atol=1e-5)


def test_logistic_matches_lightgbm_binary_with_scale_pos_weight():
    """Same trees as LightGBM's ``binary`` (sigmoid 1) with ``scale_pos_weight``, started from the same
    score (LightGBM's ``boost_from_average`` ignores ``scale_pos_weight``, so the start is given)."""
    X, y = binary_data(400, seed=3)
    loss = cg.LogisticLoss(pos_weight=2.5)
    init = loss.init_score(y)
    assert init == pytest.approx(math.log(2.5 * y.sum() / (len(y) - y.sum())), rel=1e-12)
    params = {
        "num_leaves": 8,
        "learning_rate": 0.2,
        "min_data_in_leaf": 5,
        "deterministic": True,
        "force_row_wise": True,
        **QUIET,
    }
    ours = clx.train(params, clx.Dataset(X, y), 20, objective=loss)
    builtin = lgb.train(
        {**params, "objective": "binary", "scale_pos_weight": 2.5},
        lgb.Dataset(X, y, init_score=np.full(len(y), init)),
        20,
    )
    np.testing.assert_allclose(ours.predict(X), builtin.predict(X, raw_score=True) + init, atol=1e-5)
    # a control: without scale_pos_weight the built-in model is another one
    plain = lgb.train({**params, "objective": "binary"}, lgb.Dataset(X, y, init_score=np.full(len(y), init)), 20)
    assert np.abs(plain.predict(X, raw_score=True) + init - ours.predict(X)).max() > 0.1


# --------------------------------------------------------------------------- thresholds
def brute_threshold(y, s, w, criterion, low, high, g=3.0):
    """Try every candidate threshold (each distinct score, and +inf) and apply the rule directly."""
    best = None
    for t in np.r_[np.unique(s), np.inf]:
        pred = s >= t
        tp = np.sum(w * y * pred)
        fp = np.sum(w * (1 - y) * pred)
        fn = np.sum(w * y * ~pred)
        share = np.sum(w * pred) / w.sum()
        if not (low - 1e-12 <= share <= high + 1e-12):
            continue
        f1 = 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
        prec = tp / (tp + fp) if tp + fp > 0 else 0.0
        value = {"f1": f1, "precision_first": (g * prec + f1) / (g + 1), "break_even": -abs((tp + fp) - (tp + fn))}[
            criterion
        ]
        key = (value, -share, -pred.sum())  # ties: fewer predicted positives (rows, for weight-0 rows)
        if best is None or key > best[0]:
            best = (key, pred)
    return None if best is None else best[1]


@pytest.mark.parametrize("criterion", ["f1", "precision_first", "break_even"])
@pytest.mark.parametrize("band", [(0.0, 1.0), (0.10, 0.30)])
@pytest.mark.parametrize("weighted", [False, True])
def test_select_threshold_matches_brute_force(criterion, band, weighted):
    rng = np.random.default_rng(20)
    checked = 0
    for trial in range(20):
        n = int(rng.integers(30, 120))
        y = (rng.random(n) < 0.2).astype(float)
        y[0] = 1.0
        s = np.round(y * 0.7 + rng.normal(size=n), 1)  # ties
        w = rng.integers(0, 4, size=n).astype(float) if weighted else np.ones(n)
        w[0] = 1.0
        want = brute_threshold(y, s, w, criterion, *band)
        if want is None:  # no cut gives a rate in the band: refused
            with pytest.raises(ValueError, match="no threshold puts the predicted-positive rate"):
                select_threshold(y, s, weight=w if weighted else None, criterion=criterion, rate=band)
            continue
        t = select_threshold(y, s, weight=w if weighted else None, criterion=criterion, rate=band)
        np.testing.assert_array_equal(s > t, want)
        checked += 1
        share = np.dot(w, s > t) / w.sum()
        assert band[0] - 1e-12 <= share <= band[1] + 1e-12
    assert checked >= 15


def test_select_threshold_rules_edges_and_a_function_criterion():
    st = select_threshold
    y = np.array([0, 0, 1, 0, 1, 1, 0, 0, 0, 0.0])
    s = np.array([0.1, 0.2, 0.9, 0.3, 0.8, 0.4, 0.5, 0.05, 0.15, 0.25])
    assert st(y, s) == pytest.approx(0.35)  # top 4: F1 6/7
    assert st(y, s, criterion="precision_first") == pytest.approx(0.65)  # top 2: P = 1
    assert st(y, s, criterion="precision_first", g=0.01) == pytest.approx(0.35)  # ~F1 again
    assert st(y, s, criterion="break_even") == pytest.approx(0.45)  # top 3 = number of positives
    assert st(y, s, rate=(0.5, 1.0)) == pytest.approx(0.275)
    assert st(y, s, criterion=lambda tp, fp, fn, tn: tp - 1.5 * fp) == pytest.approx(0.65)  # top 2: 2 > 3 - 1.5
    assert st(y, s, criterion=lambda tp, fp, fn, tn: tp - 0.5 * fp) == pytest.approx(0.35)  # top 4: 3 - 0.5 > 2
    assert st(y, s, rate=(0.0, 0.0)) == pytest.approx(0.9) and not (s > 0.9).any()
    assert st(y, s, rate=(1.0, 1.0)) == -math.inf
    # on margins or probabilities: the same rows
    assert ((s > st(y, s)) == (sigmoid(s) > st(y, sigmoid(s)))).all()
    # adjacent floats: the midpoint would round onto the upper score, so the lower one is returned
    a = 1.0
    b = np.nextafter(a, 0.0)
    t = st([1.0, 0.0], [a, b])
    assert t == b and (np.array([a, b]) > t).tolist() == [True, False]
    # weights: a heavy negative near the top moves the best cut
    y2, s2 = np.array([1, 0, 1, 0, 0.0]), np.array([5.0, 4, 3, 2, 1])
    assert st(y2, s2) == pytest.approx(2.5)
    assert st(y2, s2, weight=[1, 10, 1, 1, 1]) == pytest.approx(4.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y_true=[0, 1, 2], score=[0, 1, 2]), r"^y_true must be 0 or 1 \(binary labels\); got 2.0 at row 2"),
        (dict(y_true=[0, 1], score=[0, np.nan]), r"^score must be finite; got nan at row 1"),
        (dict(y_true=[0, 1], score=[0, 1, 2]), r"^score has 3 values but y_true has 2"),
        (dict(y_true=[], score=[]), r"^y_true is empty"),
        (dict(y_true=[0, 0], score=[0, 1]), r"^y_true has no positive row"),
        (dict(y_true=[0, 1], score=[0, 1], weight=[1, 0]), r"^y_true has no positive row"),
        (dict(y_true=[0, 1], score=[0, 1], weight=[1, -1]), r"^weight must be >= 0; got -1.0 at row 1"),
        (dict(y_true=[0, 1], score=[0, 1], criterion="auc"), r"^criterion must be one of \('f1'"),
        (dict(y_true=[0, 1], score=[0, 1], rate=0.2), r"^rate must be a \(low, high\) pair"),
        (dict(y_true=[0, 1], score=[0, 1], rate=(0.3, 0.1)), r"^rate low must be <= rate high"),
        (dict(y_true=[0, 1], score=[0, 1], rate=(0.1, 1.5)), r"^rate high must be in \[0, 1\]; got 1.5"),
        (dict(y_true=[0, 1], score=[0, 1], g=0), r"^g must be in \(0, inf\]"),
        (
            dict(y_true=[0, 1, 0, 1], score=[1, 1, 1, 1], rate=(0.1, 0.9)),
            r"^no threshold puts the predicted-positive rate in \[0.1, 0.9\]: the nearest rates are 0 and 1",
        ),
        (dict(y_true=[0, 1], score=[0, 1], criterion=lambda tp, fp, fn, tn: 1.0), r"^criterion returned shape \(\)"),
    ],
)
def test_select_threshold_bad_input_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        select_threshold(**kwargs)


def test_select_threshold_on_a_validation_slice_keeps_the_composite_in_the_band():
    """The composite with pos_weight 1.382 predicts few positives at 0.5 on a weak signal; the threshold chosen on
    a validation slice (never the test rows) brings the test rate inside 10-30%."""
    rng = np.random.default_rng(30)
    X = rng.normal(size=(3000, 4))
    score = 0.3 * X[:, 0] + rng.normal(size=3000)  # a weak signal
    y = (score > np.quantile(score, 0.85)).astype(np.float64)
    fit, valid, test = np.arange(0, 1800), np.arange(1800, 2400), np.arange(2400, 3000)
    loss = cg.SoftF1Composite(pos_weight=1.382)
    booster = cx.train({"max_depth": 3, "eta": 0.1, **ONE}, cx.DMatrix(X[fit], y[fit]), 60, objective=loss)
    m_valid = booster.predict(xgb.DMatrix(X[valid]), output_margin=True).astype(np.float64)
    m_test = booster.predict(xgb.DMatrix(X[test]), output_margin=True).astype(np.float64)
    assert (m_test > 0).mean() < 0.10  # the collapse this fixes
    t = select_threshold(y[valid], m_valid, criterion="break_even", rate=(0.10, 0.30))
    assert (m_valid > t).mean() == pytest.approx(y[valid].mean(), abs=0.01)
    assert 0.10 <= (m_test > t).mean() <= 0.30

"""czar_gbdt.classification: PnL weights, logistic, the soft-F1 composite and loss schedules.

Numbers are checked against independent numpy transcriptions (of the PyTorch code the loss was specified with),
finite differences of the whole-dataset loss, and the backends themselves (weights vs
duplicated rows, the mix the backend received at given rounds).
"""

import math
import tracemalloc

import numpy as np
import pytest

import czar_gbdt as cg
from czar_gbdt import _adapters as ad
from czar_gbdt.classification import select_threshold

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

from czar_gbdt import lightgbm as clx  # noqa: E402
from czar_gbdt import xgboost as cx  # noqa: E402

# One thread: on a busy machine OpenMP teams wait on each other (xgboost: 2 s instead of 0.05 s
# for 15 rounds on 240 rows with 2 threads), and one thread makes the trees deterministic.
QUIET = {"verbose": -1, "num_threads": 1}
ONE = {"nthread": 1}


def binary_data(n=300, seed=0, rate=0.15):
    """Features and labels with ~``rate`` positives and a planted signal."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    score = X[:, 0] - 0.6 * X[:, 1] + 0.8 * rng.normal(size=n)
    y = (score > np.quantile(score, 1 - rate)).astype(np.float64)
    return X, y


def payload(n=80, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.float64)
    y[:2] = [0.0, 1.0]
    x = rng.normal(size=n) * 2
    w = rng.uniform(0.5, 2.0, n)
    return y, x, w


# --------------------------------------------------------------------------- numpy references
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_composite(y, x, *, alpha=0.5, beta=0.5, g=3.0, class_weights=(1.0, 1.0), eps=1e-7, average="binary"):
    """The reference CompositeF1CrossEntropyLoss.forward (PyTorch) in numpy (two-class softmax of logits [0, x]).

    ``average="macro"`` is that code as written (means over both classes);
    ``"binary"`` keeps the positive class only (the spec's soft counts).
    """
    p1 = sigmoid(x)
    probs = np.c_[1 - p1, p1]
    onehot = np.c_[1 - y, y]
    tp = (onehot * probs).sum(0)
    fp = ((1 - onehot) * probs).sum(0)
    fn = (onehot * (1 - probs)).sum(0)
    precision = tp / (tp + fp + eps)
    recall = tp / (tp + fn + eps)
    f1 = 2 * precision * recall / (precision + recall + eps)
    if average == "binary":
        precision, f1 = precision[1:], f1[1:]
    metric = (g * (1 - precision.mean()) + (1 - f1.mean())) / (g + 1)
    cw = np.asarray(class_weights)[y.astype(int)]
    ce = -np.log(probs[np.arange(len(y)), y.astype(int)])
    ce = (cw * ce).sum() / cw.sum()  # torch CrossEntropyLoss(weight=..., reduction="mean")
    return alpha * metric + beta * ce


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


@pytest.mark.parametrize("kwargs, match", [
    (dict(pnl=[0.0, np.nan]), r"^pnl must be finite; got nan at row 1"),
    (dict(pnl=[]), r"^pnl is empty"),
    (dict(pnl=[[1.0, 2.0], [3.0, 4.0]]), r"^pnl must be 1-dimensional"),
    (dict(pnl=[1.0, 2.0], gate=[1, -1]), r"^gate must be >= 0 \(a mask\); got -1.0 at row 1"),
    (dict(pnl=[1.0, 2.0], gate=[1, np.inf]), r"^gate must be finite; got inf at row 1"),
    (dict(pnl=[1.0, 2.0], gate=[1, 1, 1]), r"^gate has 3 values but pnl has 2"),
    (dict(pnl=[1.0, 2.0], gate=[0, 0]), r"^gate removes every row"),
    (dict(pnl=[1.0, 2.0], scale=0.0), r"^scale must be in \(0, inf\]; got 0.0"),
])
def test_pnl_weights_bad_input_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cg.pnl_weights(**kwargs)


def _duplicate(X, y, w):
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    return X[rows], y[rows]


@pytest.mark.parametrize("loss", [cg.LogisticLoss(), cg.SoftF1Composite(pos_weight=1.4)], ids=lambda l: l.name)
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
    np.testing.assert_allclose(b_n.predict(dtest, output_margin=True), b_d.predict(dtest, output_margin=True),
                               atol=1e-5)
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
LGB_DUP = {"num_leaves": 8, "learning_rate": 0.3, "min_data_in_leaf": 1, "min_data_in_bin": 1,
           "max_bin": 255, "force_row_wise": True, "deterministic": True, **QUIET}


def _integer_weights(n, seed=2):
    rng = np.random.default_rng(seed)
    pnl = rng.integers(-2, 3, size=n).astype(float)  # weights 1, 1, 1, 2, 3
    gate = (rng.random(n) > 0.1).astype(float)
    w = cg.pnl_weights(pnl, gate=gate, normalize=False)
    assert set(np.unique(w)) <= {0.0, 1.0, 2.0, 3.0} and (w == 0).any() and (w == 3).any()
    return w


@pytest.mark.parametrize("loss", [cg.LogisticLoss(), cg.SoftF1Composite(pos_weight=1.4)], ids=lambda l: l.name)
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
    for name, data, n in [("weighted", clx.Dataset(X, y, weight=w, free_raw_data=False), len(y)),
                          ("duplicated", clx.Dataset(X[rows], y[rows], free_raw_data=False), len(rows))]:
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
    assert loss.init_score(y, weight=w) == pytest.approx(
        math.log(2.5 * np.dot(w, y) / np.dot(w, 1 - y)), rel=1e-12)
    # same trees as the built-in objective with scale_pos_weight
    X, yb = binary_data(400, seed=3)
    params = {"max_depth": 3, "eta": 0.2, "seed": 0, **ONE}
    base = loss.init_score(yb)
    builtin = xgb.train({**params, "objective": "binary:logistic", "scale_pos_weight": 2.5,
                         "base_score": float(sigmoid(base))}, xgb.DMatrix(X, label=yb), 20)
    ours = cx.train(params, cx.DMatrix(X, yb), 20, objective=loss)
    d = xgb.DMatrix(X)
    np.testing.assert_allclose(ours.predict(d, output_margin=True), builtin.predict(d, output_margin=True),
                               atol=1e-5)


def test_logistic_matches_lightgbm_binary_with_scale_pos_weight():
    """Same trees as LightGBM's ``binary`` (sigmoid 1) with ``scale_pos_weight``, started from the same
    score (LightGBM's ``boost_from_average`` ignores ``scale_pos_weight``, so the start is given)."""
    X, y = binary_data(400, seed=3)
    loss = cg.LogisticLoss(pos_weight=2.5)
    init = loss.init_score(y)
    assert init == pytest.approx(math.log(2.5 * y.sum() / (len(y) - y.sum())), rel=1e-12)
    params = {"num_leaves": 8, "learning_rate": 0.2, "min_data_in_leaf": 5, "deterministic": True,
              "force_row_wise": True, **QUIET}
    ours = clx.train(params, clx.Dataset(X, y), 20, objective=loss)
    builtin = lgb.train({**params, "objective": "binary", "scale_pos_weight": 2.5},
                        lgb.Dataset(X, y, init_score=np.full(len(y), init)), 20)
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
        value = {"f1": f1, "precision_first": (g * prec + f1) / (g + 1),
                 "break_even": -abs((tp + fp) - (tp + fn))}[criterion]
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
    assert st(y, s) == pytest.approx(0.35)                       # top 4: F1 6/7
    assert st(y, s, criterion="precision_first") == pytest.approx(0.65)   # top 2: P = 1
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


@pytest.mark.parametrize("kwargs, match", [
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
    (dict(y_true=[0, 1, 0, 1], score=[1, 1, 1, 1], rate=(0.1, 0.9)),
     r"^no threshold puts the predicted-positive rate in \[0.1, 0.9\]: the nearest rates are 0 and 1"),
    (dict(y_true=[0, 1], score=[0, 1], criterion=lambda tp, fp, fn, tn: 1.0), r"^criterion returned shape \(\)"),
])
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


# --------------------------------------------------------------------------- soft-F1 composite
@pytest.mark.parametrize("average", ["binary", "macro"])
def test_soft_f1_value_matches_the_seed_code(average):
    y, x, _ = payload(200, seed=4)
    for kw in [dict(), dict(alpha=0.3, beta=0.7, g=1.5), dict(alpha=1.0, beta=0.0, g=3.0)]:
        loss = cg.SoftF1Composite(pos_weight=1.382, average=average, **kw)
        want = reference_composite(y, x, class_weights=(1.0, 1.382), average=average,
                              **{k: v for k, v in kw.items()})
        assert loss(y, x) == pytest.approx(want, rel=1e-12)
    parts = cg.SoftF1Composite(average=average).components(y, x)
    assert set(parts) == {"precision", "recall", "f1", "metric", "ce", "loss"}
    assert 0 < parts["precision"] < 1 and 0 < parts["recall"] < 1


def test_soft_f1_weights_are_duplicated_rows_and_the_loss_is_a_mean():
    y, x, _ = payload(60, seed=5)
    k = np.random.default_rng(0).integers(1, 4, size=len(y))
    rows = np.repeat(np.arange(len(y)), k)
    loss = cg.SoftF1Composite(pos_weight=2.0)
    assert loss(y, x, weight=k) == pytest.approx(loss(y[rows], x[rows]), rel=1e-12)
    # up to epsilon, which does not grow with the counts
    assert loss(np.r_[y, y], np.r_[x, x]) == pytest.approx(loss(y, x), rel=1e-8)
    assert cg.SoftF1Composite(epsilon=1e-300)(np.r_[y, y], np.r_[x, x]) == pytest.approx(
        cg.SoftF1Composite(epsilon=1e-300)(y, x), rel=1e-13)


CASES = [
    dict(),
    dict(alpha=0.7, beta=0.2, g=2.0, pos_weight=1.6),
    dict(alpha=1.0, beta=0.0, g=0.5),
    dict(alpha=0.5, beta=0.5, average="macro", pos_weight=1.382),
    dict(alpha=0.4, beta=0.6, epsilon=0.5),  # a large epsilon: its terms are differentiated too
]


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "defaults")
@pytest.mark.parametrize("weighted", [False, True])
def test_soft_f1_gradient_is_the_derivative_of_the_total_loss(kw, weighted):
    """grad == d(W * L)/dx_i by central differences of the whole-dataset loss; the exact
    hessian diagonal == d grad_i / dx_i; the surrogate is positive."""
    y, x, w = payload(70, seed=6)
    w = w if weighted else None
    W = len(y) if w is None else w.sum()
    loss = cg.SoftF1Composite(**kw)
    exact = loss.with_params(derivatives="exact", min_hessian="none")
    g, h = exact.grad_hess(y, x, weight=w)
    g_ref, h_sur = loss.grad_hess(y, x, weight=w)
    np.testing.assert_array_equal(g, g_ref)
    step = 1e-5
    fd_g, fd_h = np.empty_like(x), np.empty_like(x)
    for i in range(len(x)):
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        fd_g[i] = W * (loss(y, up, weight=w) - loss(y, down, weight=w)) / (2 * step)
        fd_h[i] = (exact.grad_hess(y, up, weight=w)[0][i] - exact.grad_hess(y, down, weight=w)[0][i]) / (2 * step)
    scale = np.abs(g).max()
    np.testing.assert_allclose(g, fd_g, atol=1e-7 * scale, rtol=1e-6)
    np.testing.assert_allclose(h, fd_h, atol=1e-7 * np.abs(h).max(), rtol=1e-5)
    assert (h_sur > 0).all()
    # a wrong gradient would fail: the metric part matters here
    if loss.alpha > 0:
        ce_only = cg.SoftF1Composite(alpha=0.0, beta=1.0, pos_weight=loss.pos_weight)
        assert np.abs(ce_only.grad_hess(y, x, weight=w)[0] * loss.beta - g).max() > 1e-3 * scale


def test_soft_f1_ce_part_is_the_class_weighted_logistic_gradient():
    y, x, w = payload(50, seed=7)
    loss = cg.SoftF1Composite(alpha=0.0, beta=1.0, pos_weight=1.5)
    c = np.where(y == 1, 1.5, 1.0)
    g, h = loss.grad_hess(y, x, weight=w)
    g_log, h_log = cg.LogisticLoss(pos_weight=1.5).grad_hess(y, x, weight=w)
    factor = w.sum() / np.dot(w, c)
    np.testing.assert_allclose(g, factor * g_log, rtol=1e-12)
    np.testing.assert_allclose(h, factor * h_log, rtol=1e-12)


def test_soft_f1_is_stable_for_extreme_margins_and_single_class_data():
    loss = cg.SoftF1Composite()
    x = np.array([-1e3, -40.0, -1.0, 0.0, 1.0, 40.0, 1e3])
    for y in (np.array([0, 1, 0, 1, 0, 1, 1.0]), np.zeros(7), np.ones(7)):
        g, h = loss.grad_hess(y, x)
        v = loss(y, x)
        assert np.isfinite(g).all() and np.isfinite(h).all() and math.isfinite(v)
        assert (h > 0).all()
        for value in loss.components(y, x).values():
            assert math.isfinite(value)


def test_soft_f1_is_linear_time_without_n_by_n_arrays(monkeypatch):
    """Two O(n) passes and O(n) memory, checked without trusting a busy machine's clock alone:

    * passes: each call runs the counts kernel once and the derivative kernel once (counted);
    * memory: 400k rows take < 64 bytes per row of traced memory (an n x n array: 1.3 TB);
    * time: 16x the rows cost < 64x the time (+ 20 ms), each size timed as the minimum of 7
      interleaved repeats, so that a burst of load hits both sizes. Linear is 16x in principle;
      measured about 30x here (25k rows stay in cache and run on one thread, see czar_gbdt._jit.SERIAL_ROWS);
      quadratic would be 256x.
    """
    import time

    from czar_gbdt._kernels import soft_f1 as kernels

    loss = cg.SoftF1Composite()
    rng = np.random.default_rng(0)
    n = 400_000
    y = (rng.random(n) < 0.15).astype(np.float64)
    x = rng.normal(size=n)
    loss.grad_hess(y[:100], x[:100])  # compiled / loaded from cache

    calls = {"soft_counts": [], "soft_f1_grad_hess": []}
    for name in calls:
        kernel = getattr(kernels, name)

        def counted(*args, _kernel=kernel, _name=name):
            calls[_name].append(args[0].shape[0])
            return _kernel(*args)

        monkeypatch.setattr(kernels, name, counted)
    loss.grad_hess(y[:1000], x[:1000])
    assert calls == {"soft_counts": [1000], "soft_f1_grad_hess": [1000]}
    monkeypatch.undo()

    tracemalloc.start()
    g, h = loss.grad_hess(y, x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 64 * n
    assert peak >= 16 * n  # the two float64 outputs are traced: the measurement is real
    assert np.isfinite(g).all()

    small, large = 25_000, 400_000
    best = {small: math.inf, large: math.inf}
    for _ in range(7):
        for m in (small, large):
            # CPU time of the process: on a loaded machine the wall time of the parallel
            # (large) call is mostly waiting for a core (80 ms wall for 16 ms of CPU measured)
            t0 = time.process_time()
            loss.grad_hess(y[:m], x[:m])
            best[m] = min(best[m], time.process_time() - t0)
    assert best[large] < 64 * best[small] + 0.02


def test_soft_f1_init_score_minimises_the_loss_at_a_constant():
    from scipy import optimize

    y, _, w = payload(300, seed=8)
    loss = cg.SoftF1Composite(pos_weight=1.3)
    c = loss.init_score(y, weight=w)
    best = optimize.minimize_scalar(lambda v: loss(y, np.full(len(y), v), weight=w), bounds=(-10, 10),
                                    method="bounded", options={"xatol": 1e-10})
    assert c == pytest.approx(best.x, abs=1e-5)
    # the F1 part pulls the constant above the cross-entropy's
    assert c > cg.SoftF1Composite(alpha=0.0, beta=1.0, pos_weight=1.3).init_score(y, weight=w) + 0.05


def test_starting_score_on_large_data_uses_the_whole_dataset_loss(monkeypatch):
    """Beyond INIT_EXACT_ROWS the adapter subsamples, then roots the summed exact gradient."""
    monkeypatch.setattr(ad, "INIT_EXACT_ROWS", 500)
    y, _, w = payload(20_000, seed=9)
    loss = cg.SoftF1Composite(pos_weight=1.382)
    fast = ad.constant_minimiser(loss, y, weight=w)
    assert fast == pytest.approx(loss.init_score(y, weight=w), abs=1e-6)


def test_soft_f1_per_row_values_and_catboost_are_refused():
    y, x, _ = payload()
    loss = cg.SoftF1Composite()
    with pytest.raises(ValueError, match=r"couples all rows and has no per-row values"):
        loss.loss(y, x)
    pytest.importorskip("catboost")
    from czar_gbdt import catboost as ccb

    msg = r"SoftF1Composite\(alpha=0.5.*\) couples rows; CatBoost evaluates objectives on row subsets"
    with pytest.raises(ValueError, match=msg):
        ccb.objective(loss)
    with pytest.raises(ValueError, match=msg):
        ccb.objective("soft_f1")
    with pytest.raises(ValueError, match=msg):
        ccb.metric(loss)
    sched = cg.ScheduledLoss("focal", "asymmetric", cg.linear_warmup(10))
    with pytest.raises(ValueError, match=r"^ScheduledLoss\(FocalLoss.*changes with the boosting round, but "
                                         r"CatBoost passes no round"):
        ccb.objective(sched)


@pytest.mark.parametrize("kwargs, match", [
    (dict(g=0.0), r"^g must be in \(0, inf\]; got 0.0"),
    (dict(g=-1), r"^g must be in \(0, inf\]; got -1.0"),
    (dict(alpha=1.5), r"^alpha must be in \[0, 1\]; got 1.5"),
    (dict(alpha=-0.1), r"^alpha must be in \[0, 1\]; got -0.1"),
    (dict(beta=2.0), r"^beta must be in \[0, 1\]; got 2.0"),
    (dict(alpha=0.0, beta=0.0), r"^alpha and beta are both 0"),
    (dict(pos_weight=0.0), r"^pos_weight must be in \(0, inf\]; got 0.0"),
    (dict(epsilon=0.0), r"^epsilon must be in \(0, inf\]; got 0.0"),
    (dict(g=float("nan")), r"^g must be a finite number; got nan"),
    (dict(average="micro"), r"^average must be one of \('binary', 'macro'\); got 'micro'"),
])
def test_soft_f1_bad_parameters_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cg.SoftF1Composite(**kwargs)
    with pytest.raises(ValueError, match=r"bad parameters for loss 'soft_f1'|" + match):
        cg.get_loss("soft_f1", **kwargs)


@pytest.mark.parametrize("loss", [cg.SoftF1Composite(), cg.LogisticLoss()], ids=lambda l: l.name)
def test_bad_labels_predictions_and_weights_name_the_argument(loss):
    y, x, w = payload(10)
    bad_y = y.copy()
    bad_y[3] = np.nan
    with pytest.raises(ValueError, match=r"^y_true must be 0 or 1 \(binary labels\); got nan at row 3"):
        loss.grad_hess(bad_y, x)
    bad_y[3] = 2.0
    with pytest.raises(ValueError, match=r"^y_true must be 0 or 1 \(binary labels\); got 2.0 at row 3"):
        loss.grad_hess(bad_y, x)
    with pytest.raises(ValueError, match=r"^y_true must be 0 or 1"):
        loss(bad_y, x)
    bad_x = x.copy()
    bad_x[5] = np.inf
    with pytest.raises(ValueError, match=r"^y_pred must be finite; got inf at row 5"):
        loss.grad_hess(y, bad_x)
    bad_w = w.copy()
    bad_w[1] = -1.0
    with pytest.raises(ValueError, match=r"^weight must be >= 0; got -1.0 at row 1"):
        loss.grad_hess(y, x, weight=bad_w)
    with pytest.raises(ValueError, match=r"y_pred has 9 rows but y_true has 10"):
        loss.grad_hess(y, x[:9])
    if not loss.elementwise:
        with pytest.raises(ValueError, match=r"^weight is 0 on every row"):
            loss.grad_hess(y, x, weight=np.zeros(len(y)))


# --------------------------------------------------------------------------- schedules
def test_schedules_values_and_validation():
    warm = cg.linear_warmup(10)
    assert [warm(r) for r in (0, 5, 10, 50)] == [0.0, 0.5, 1.0, 1.0]
    assert cg.linear_warmup(4, start=0.2, end=0.6)(2) == pytest.approx(0.4)
    seed000 = cg.piecewise_linear([(0, 0.0), (10, 0.1), (30, 1.0)])
    assert [seed000(r) for r in (0, 5, 10, 20, 30, 99)] == pytest.approx([0, 0.05, 0.1, 0.55, 1.0, 1.0])
    seed001 = cg.steps([30, 80], [0.3, 0.5, 0.7])
    assert [seed001(r) for r in (0, 29, 30, 79, 80, 1000)] == [0.3, 0.3, 0.5, 0.5, 0.7, 0.7]
    assert cg.steps([30, 80], [0.3, 0.5, 0.7]) == seed001 and hash(cg.linear_warmup(10)) == hash(warm)
    for bad, match in [
        (lambda: cg.linear_warmup(0), r"^rounds must be >= 1; got 0"),
        (lambda: cg.linear_warmup(5, end=1.5), r"^end must be in \[0, 1\]; got 1.5"),
        (lambda: cg.steps([30, 20], [0.1, 0.2, 0.3]), r"^boundaries must be strictly increasing"),
        (lambda: cg.steps([30], [0.1]), r"^values must have one more entry than boundaries"),
        (lambda: cg.steps([30], [0.1, 2.0]), r"^values must be in \[0, 1\]; got 2.0"),
        (lambda: cg.piecewise_linear([(5, 0.1), (5, 0.2)]), r"^points rounds must be strictly increasing"),
        (lambda: cg.piecewise_linear([(-1, 0.1)]), r"^points round must be an integer >= 0; got -1"),
        (lambda: cg.ScheduledLoss("mse", "focal", warm), r"^first and second must be the same kind"),
        (lambda: cg.ScheduledLoss("mse", "czar", 0.5), r"^schedule must be a function of the round"),
        (lambda: cg.ScheduledLoss("mse", 3, warm), r"^second must be a czar_gbdt loss"),
    ]:
        with pytest.raises(ValueError, match=match):
            bad()
    sched = cg.ScheduledLoss("mse", "czar", lambda r: 1.5 if r > 2 else 0.0)
    assert sched.at(0) == cg.HalfSquaredError()
    with pytest.raises(ValueError, match=r"^schedule returned 1.5 at round 3; the weight of the second loss"):
        sched.at(3)
    with pytest.raises(ValueError, match=r"^round must be an integer >= 0; got -1"):
        sched.at(-1)
    with pytest.raises(ValueError, match=r"^round is required"):
        sched.grad_hess([0.1], [0.0], std=1.0)
    with pytest.raises(ValueError, match=r"changes with the boosting round and cannot be a metric"):
        cx.metric(sched)
    with pytest.raises(ValueError, match=r"changes with the boosting round and cannot be a metric"):
        clx.metric(sched)


def test_mixed_loss_is_the_weighted_mix_of_its_parts():
    y, x, w = payload(40, seed=11)
    first, second = cg.LogisticLoss(pos_weight=1.4), cg.SoftF1Composite()
    sched = cg.ScheduledLoss(first, second, cg.linear_warmup(10))
    mix = sched.at(3)
    assert isinstance(mix, cg.MixedLoss) and mix.weight == pytest.approx(0.3) and not mix.elementwise
    g, h = mix.grad_hess(y, x, weight=w)
    g1, h1 = first.grad_hess(y, x, weight=w)
    g2, h2 = second.grad_hess(y, x, weight=w)
    np.testing.assert_allclose(g, 0.7 * g1 + 0.3 * g2, rtol=1e-12)
    np.testing.assert_allclose(h, 0.7 * h1 + 0.3 * h2, rtol=1e-12)
    assert mix(y, x, weight=w) == pytest.approx(0.7 * first(y, x, weight=w) + 0.3 * second(y, x, weight=w))
    assert sched(y, x, weight=w, round=3) == pytest.approx(mix(y, x, weight=w))
    assert sched.at(0) is first and sched.at(10) is second
    assert sched.init_score(y, weight=w) == pytest.approx(first.init_score(y, weight=w))


# -- the mix the backends receive at given rounds
class Spy:
    """Wraps a backend objective and logs (predictions, grad, hess) of every call, and the labels."""

    def __init__(self, obj):
        self.obj, self.log, self.labels = obj, [], []

    def __deepcopy__(self, memo):
        return self  # LightGBM deep-copies its parameters

    def __call__(self, preds, data):
        g, h = self.obj(preds, data)
        self.log.append((np.asarray(preds, dtype=np.float64).copy(), g.copy(), h.copy()))
        self.labels.append(np.asarray(data.get_label(), dtype=np.float64).copy())
        return g, h


def expected_mix(sched, y, pred, round_, weight=None, std=None):
    g, h = sched.at(round_).grad_hess(y, pred, std=std, weight=weight)
    return g, h


SCHEDULES = {
    "ce_then_soft_f1": (cg.ScheduledLoss(cg.LogisticLoss(pos_weight=1.382), cg.SoftF1Composite(),
                                         cg.linear_warmup(4)), True),
    "mse_then_czar": (cg.ScheduledLoss("mse", cg.CZAR(), cg.steps([2, 4], [0.0, 0.5, 1.0])), False),
    # a user function of the round, not expressible by the built-in schedules (it goes back and forth)
    "lambda_ce_soft_f1": (cg.ScheduledLoss(cg.LogisticLoss(pos_weight=1.382), cg.SoftF1Composite(),
                                           lambda r: (0.0, 0.9, 0.4)[r % 3]), True),
    "lambda_mse_czar": (cg.ScheduledLoss("mse", cg.CZAR(), lambda r: min(1.0, 0.3 * r) if r < 4 else 0.25),
                        False),
}


def sched_data(binary, n=200, seed=12):
    X, y = binary_data(n, seed=seed)
    if binary:
        return X, y, None
    rng = np.random.default_rng(seed)
    std = 0.01 * np.exp(0.3 * rng.normal(size=len(y)))
    return X, std * (X[:, 0] + rng.standard_t(5, size=len(y))), std


def check_log(log, sched, y, rounds, std=None, weight=None, per_round=1):
    assert len(log) == per_round * len(rounds)
    for k, (pred, g, h) in enumerate(log):
        r = rounds[k // per_round]
        eg, eh = expected_mix(sched, y, pred, r, weight=weight, std=std)
        np.testing.assert_allclose(g, eg, rtol=2e-6, atol=1e-6 * np.abs(eg).max())
        np.testing.assert_allclose(h, eh, rtol=2e-6, atol=1e-6 * np.abs(eh).max())


@pytest.mark.parametrize("case", list(SCHEDULES))
def test_xgboost_schedule_mix_at_given_rounds_and_reuse(case):
    sched, binary = SCHEDULES[case]
    X, y, std = sched_data(binary)
    obj = cx.objective(sched, std=std, hessian_scale=None)
    dtrain = cx.DMatrix(X, y)
    params = {"max_depth": 2, "eta": 0.3, "base_score": obj.base_score(dtrain), **ONE,
              "objective": obj.xgb_objective}
    spy = Spy(obj)
    # 1) xgb.train with the objective's callback: round r gets the mix at r
    booster = xgb.train(params, dtrain, 6, obj=spy, callbacks=[obj.callback()])
    check_log(spy.log, sched, y, list(range(6)), std=std)
    # the weight really changes: round 0 is the first loss, round 5 the second
    assert not np.allclose(spy.log[0][1], expected_mix(sched, y, spy.log[0][0], 5, std=std)[0])
    # 2) reuse of the same objective: the schedule restarts, also after early stopping
    spy.log.clear()
    Xv, yv, stdv = sched_data(binary, 100, seed=13)
    dvalid = cx.DMatrix(Xv, yv)
    met = cx.metric(sched.second, std=stdv)
    res = {}
    xgb.train(params, dtrain, 50, obj=spy, callbacks=[obj.callback(), cx.early_stopping(met, 1)],
              evals=[(dvalid, "valid")], custom_metric=met, evals_result=res, verbose_eval=False)
    n_rounds = len(res["valid"][met.name])
    assert n_rounds < 50  # stopped early
    check_log(spy.log, sched, y, list(range(n_rounds)), std=std)
    spy.log.clear()
    xgb.train(params, dtrain, 3, obj=spy, callbacks=[obj.callback()])
    check_log(spy.log, sched, y, [0, 1, 2], std=std)
    # 3) continued training continues the schedule from the model's size
    spy.log.clear()
    xgb.train(params, dtrain, 2, obj=spy, callbacks=[obj.callback()], xgb_model=booster)
    check_log(spy.log, sched, y, [6, 7], std=std)
    # 4) xgb.cv: every fold gets the round (each fold starts from the full data's base_score)
    if std is None:
        cv_obj = cx.objective(sched, hessian_scale=None, check_start=False)
        cv_spy = Spy(cv_obj)
        xgb.cv(params, xgb.DMatrix(X, label=y), 3, nfold=3, obj=cv_spy, callbacks=[cv_obj.callback()], seed=0)
        assert len(cv_spy.log) == 9  # 3 folds x 3 rounds, in round order
        for k, ((pred, g, h), labels) in enumerate(zip(cv_spy.log, cv_spy.labels)):
            eg, eh = sched.at(k // 3).grad_hess(labels, pred)
            np.testing.assert_allclose(g, eg, rtol=2e-6, atol=1e-6 * np.abs(eg).max())
            np.testing.assert_allclose(h, eh, rtol=2e-6, atol=1e-6 * np.abs(eh).max())
    # 5) without the callback: a clear error, not a guess
    with pytest.raises(ValueError, match=r"changes with the boosting round, but no round was set: pass "
                                         r"callbacks=\[objective.callback\(\)\]"):
        xgb.train(params, dtrain, 2, obj=obj)
    # 6) the helpers add the callback themselves, and reuse restarts the schedule
    a = cx.train({"max_depth": 2, "eta": 0.3, **ONE}, dtrain, 6, objective=obj)
    b = cx.train({"max_depth": 2, "eta": 0.3, **ONE}, dtrain, 6, objective=obj)
    np.testing.assert_array_equal(a.predict(dtrain), b.predict(dtrain))
    np.testing.assert_allclose(a.predict(dtrain, output_margin=True), booster.predict(dtrain, output_margin=True),
                               rtol=1e-6, atol=1e-6)


def test_xgboost_schedule_through_the_sklearn_api():
    sched, _ = SCHEDULES["ce_then_soft_f1"]
    X, y, _ = sched_data(True)
    obj = cx.objective(sched)
    model = cx.fit(xgb.XGBClassifier(objective=obj, n_estimators=6, max_depth=2, learning_rate=0.3,
                                                      n_jobs=1), X, y)
    native = cx.train({"max_depth": 2, "eta": 0.3, **ONE}, cx.DMatrix(X, y), 6, objective=obj)
    np.testing.assert_allclose(model.predict(X, output_margin=True),
                               native.predict(xgb.DMatrix(X), output_margin=True), rtol=1e-5, atol=1e-5)
    model.set_params(callbacks=None)
    with pytest.raises(ValueError, match="no round was set"):
        model.fit(X, y)


@pytest.mark.parametrize("case", list(SCHEDULES))
def test_lightgbm_schedule_mix_at_given_rounds_and_reuse(case):
    sched, binary = SCHEDULES[case]
    X, y, std = sched_data(binary)
    obj = clx.objective(sched, std=std, hessian_scale=None)
    init = obj.init_score(y)

    def dataset():
        return lgb.Dataset(X, y, init_score=np.full(len(y), init), free_raw_data=False)

    spy = Spy(obj)
    params = {"objective": spy, "num_leaves": 4, "learning_rate": 0.3, "min_data_in_leaf": 5, **QUIET}
    booster = lgb.train(params, dataset(), 6, callbacks=[obj.callback()])
    check_log(spy.log, sched, y, list(range(6)), std=std)
    # reuse of the objective, with early stopping: restarts at 0
    spy.log.clear()
    Xv, yv, stdv = sched_data(binary, 100, seed=13)
    met = clx.metric(sched.second, std=stdv)
    valid = lgb.Dataset(Xv, yv, init_score=np.full(len(yv), init))
    res = {}
    lgb.train({**params, "metric": "None"}, dataset(), 50, valid_sets=[valid], valid_names=["valid"], feval=met,
              callbacks=[obj.callback(), clx.early_stopping(1), lgb.record_evaluation(res)])
    n_rounds = len(res["valid"][met.name])
    assert n_rounds < 50
    check_log(spy.log, sched, y, list(range(n_rounds)), std=std)
    # continued training continues the schedule
    spy.log.clear()
    lgb.train(params, dataset(), 2, init_model=booster, callbacks=[obj.callback()])
    check_log(spy.log, sched, y, [6, 7], std=std)
    # a training without the callback after one with it: the stale round is refused
    with pytest.raises(ValueError, match=r"the round was set by the callback of another \(finished\) training"):
        lgb.train(params, dataset(), 2)
    # the helpers add the callback; reuse gives the same model
    a = clx.train({"num_leaves": 4, "learning_rate": 0.3, "min_data_in_leaf": 5, **QUIET}, clx.Dataset(X, y), 6,
                  objective=obj)
    b = clx.train({"num_leaves": 4, "learning_rate": 0.3, "min_data_in_leaf": 5, **QUIET}, clx.Dataset(X, y), 6,
                  objective=obj)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_allclose(a.predict(X), booster.predict(X) + init, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="no round was set"):
        clx.objective(sched, std=std)(np.full(len(y), init), clx.Dataset(X, y))


def test_lightgbm_cv_folds_get_their_round():
    sched, _ = SCHEDULES["ce_then_soft_f1"]
    X, y, _ = sched_data(True)
    obj = clx.objective(sched, check_start=False)  # each fold starts from the full data's init score
    spy = Spy(obj)
    folds = [(np.arange(100, 200), np.arange(100)), (np.arange(100), np.arange(100, 200))]
    init = obj.init_score(y)
    data = lgb.Dataset(X, y, init_score=np.full(len(y), init), free_raw_data=False)
    params = {"objective": spy, "num_leaves": 4, "learning_rate": 0.3, "min_data_in_leaf": 5, "metric": "None",
              **QUIET}
    lgb.cv(params, data, 3, folds=folds, callbacks=[obj.callback()], feval=clx.metric(sched.second))
    assert len(spy.log) == 6  # 2 folds x 3 rounds, in round order
    for k, ((pred, g, h), labels) in enumerate(zip(spy.log, spy.labels)):
        np.testing.assert_array_equal(labels, y[folds[k % 2][0]])
        eg, eh = sched.at(k // 2).grad_hess(labels, pred)
        np.testing.assert_allclose(g, eg, rtol=2e-6, atol=1e-6 * np.abs(eg).max())
        np.testing.assert_allclose(h, eh, rtol=2e-6, atol=1e-6 * np.abs(eh).max())


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_lambda_schedule_trains_with_the_weights_it_returns(backend):
    """A user function of the round on both backends: the gradients the booster received at round r are
    ``(1 - w_r) * first + w_r * second`` with the w_r written out here (not recomputed by the schedule)."""
    first, second = cg.LogisticLoss(pos_weight=1.382), cg.SoftF1Composite()
    sched = cg.ScheduledLoss(first, second, lambda r: (0.0, 0.9, 0.4)[r % 3])
    want = [0.0, 0.9, 0.4, 0.0, 0.9, 0.4]
    X, y, _ = sched_data(True)
    if backend == "xgboost":
        obj = cx.objective(sched, hessian_scale=None)
        dtrain = cx.DMatrix(X, y)
        spy = Spy(obj)
        xgb.train({"max_depth": 2, "eta": 0.3, "base_score": obj.base_score(dtrain), **ONE,
                   "objective": obj.xgb_objective}, dtrain, 6, obj=spy, callbacks=[obj.callback()])
    else:
        obj = clx.objective(sched, hessian_scale=None)
        spy = Spy(obj)
        data = lgb.Dataset(X, y, init_score=np.full(len(y), obj.init_score(y)), free_raw_data=False)
        lgb.train({"objective": spy, "num_leaves": 4, "learning_rate": 0.3, "min_data_in_leaf": 5, **QUIET},
                  data, 6, callbacks=[obj.callback()])
    assert len(spy.log) == 6
    for (pred, g, h), w in zip(spy.log, want):
        g1, h1 = first.grad_hess(y, pred)
        g2, h2 = second.grad_hess(y, pred)
        np.testing.assert_allclose(g, (1 - w) * g1 + w * g2, rtol=2e-6, atol=1e-6 * np.abs(g).max())
        np.testing.assert_allclose(h, (1 - w) * h1 + w * h2, rtol=2e-6, atol=1e-6 * np.abs(h).max())
        other = 0.5 if w != 0.5 else 0.0  # the parts really differ: another weight would not match
        assert np.abs((1 - other) * g1 + other * g2 - g).max() > 1e-3 * np.abs(g).max()


# --------------------------------------------------------------------------- training
@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_soft_f1_trains_and_is_logged_as_a_whole_dataset_metric(backend):
    X, y = binary_data(600, seed=13)
    Xv, yv = binary_data(300, seed=14)
    loss = cg.SoftF1Composite(pos_weight=1.382)
    res = {}
    if backend == "xgboost":
        booster = cx.train({"max_depth": 3, "eta": 0.2, **ONE}, cx.DMatrix(X, y), 30, objective=loss,
                           evals=[(cx.DMatrix(X, y), "train"), (cx.DMatrix(Xv, yv), "valid")], metric=loss,
                           evals_result=res, verbose_eval=False)
        margin = booster.predict(xgb.DMatrix(Xv), output_margin=True).astype(np.float64)
        logged = res["valid"]["soft_f1"]
        train_log = res["train"]["soft_f1"]
        rel = 1e-5
    else:
        train = clx.Dataset(X, y)
        booster = clx.train({"num_leaves": 7, "learning_rate": 0.2, **QUIET}, train, 30, objective=loss,
                            valid_sets=[train, clx.Dataset(Xv, yv, reference=train)], valid_names=["train", "valid"],
                            metric=loss, callbacks=[lgb.record_evaluation(res)])
        margin = booster.predict(Xv)
        logged = res["valid"]["soft_f1"]
        train_log = res["train"]["soft_f1"]
        rel = 1e-6
    assert logged[-1] == pytest.approx(loss(yv, margin), rel=rel)  # the whole-dataset value
    start = loss(y, np.full(len(y), loss.init_score(y)))
    assert train_log[-1] < 0.8 * start
    rate = (margin > 0).mean()
    assert 0.05 < rate < 0.3  # no collapse on this clean signal
    parts = loss.components(yv, margin)
    assert parts["precision"] > 0.4

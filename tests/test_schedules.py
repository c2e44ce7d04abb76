"""Loss schedules (czar_gbdt.ScheduledLoss, linear_warmup, steps, piecewise_linear): their values, the
mixed loss, and the mix each backend receives at given rounds (also with reuse, early stopping, continued
training and cross-validation).
"""

import numpy as np
import pytest
from classification_helpers import ONE, QUIET, Spy, binary_data, payload

import czar_gbdt as cg

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")

from czar_gbdt import lightgbm as clx  # noqa: E402
from czar_gbdt import xgboost as cx  # noqa: E402


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


def expected_mix(sched, y, pred, round_, weight=None, std=None):
    g, h = sched.at(round_).grad_hess(y, pred, std=std, weight=weight)
    return g, h


SCHEDULES = {
    "ce_then_soft_f1": (
        cg.ScheduledLoss(cg.LogisticLoss(pos_weight=1.382), cg.SoftF1Composite(), cg.linear_warmup(4)),
        True,
    ),
    "mse_then_czar": (cg.ScheduledLoss("mse", cg.CZAR(), cg.steps([2, 4], [0.0, 0.5, 1.0])), False),
    # a user function of the round, not expressible by the built-in schedules (it goes back and forth)
    "lambda_ce_soft_f1": (
        cg.ScheduledLoss(cg.LogisticLoss(pos_weight=1.382), cg.SoftF1Composite(), lambda r: (0.0, 0.9, 0.4)[r % 3]),
        True,
    ),
    "lambda_mse_czar": (cg.ScheduledLoss("mse", cg.CZAR(), lambda r: min(1.0, 0.3 * r) if r < 4 else 0.25), False),
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
    params = {"max_depth": 2, "eta": 0.3, "base_score": obj.base_score(dtrain), **ONE, "objective": obj.xgb_objective}
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
    xgb.train(
        params,
        dtrain,
        50,
        obj=spy,
        callbacks=[obj.callback(), cx.early_stopping(met, 1)],
        evals=[(dvalid, "valid")],
        custom_metric=met,
        evals_result=res,
        verbose_eval=False,
    )
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
    with pytest.raises(
        ValueError,
        match=r"changes with the boosting round, but no round was set: pass "
        r"callbacks=\[objective.callback\(\)\]",
    ):
        xgb.train(params, dtrain, 2, obj=obj)
    # 6) the helpers add the callback themselves, and reuse restarts the schedule
    a = cx.train({"max_depth": 2, "eta": 0.3, **ONE}, dtrain, 6, objective=obj)
    b = cx.train({"max_depth": 2, "eta": 0.3, **ONE}, dtrain, 6, objective=obj)
    np.testing.assert_array_equal(a.predict(dtrain), b.predict(dtrain))
    np.testing.assert_allclose(
        a.predict(dtrain, output_margin=True), booster.predict(dtrain, output_margin=True), rtol=1e-6, atol=1e-6
    )


def test_xgboost_schedule_through_the_sklearn_api():
    sched, _ = SCHEDULES["ce_then_soft_f1"]
    X, y, _ = sched_data(True)
    obj = cx.objective(sched)
    model = cx.fit(xgb.XGBClassifier(objective=obj, n_estimators=6, max_depth=2, learning_rate=0.3, n_jobs=1), X, y)
    native = cx.train({"max_depth": 2, "eta": 0.3, **ONE}, cx.DMatrix(X, y), 6, objective=obj)
    np.testing.assert_allclose(
        model.predict(X, output_margin=True), native.predict(xgb.DMatrix(X), output_margin=True), rtol=1e-5, atol=1e-5
    )
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
    lgb.train(
        {**params, "metric": "None"},
        dataset(),
        50,
        valid_sets=[valid],
        valid_names=["valid"],
        feval=met,
        callbacks=[obj.callback(), clx.early_stopping(1), lgb.record_evaluation(res)],
    )
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
    a = clx.train(
        {"num_leaves": 4, "learning_rate": 0.3, "min_data_in_leaf": 5, **QUIET}, clx.Dataset(X, y), 6, objective=obj
    )
    b = clx.train(
        {"num_leaves": 4, "learning_rate": 0.3, "min_data_in_leaf": 5, **QUIET}, clx.Dataset(X, y), 6, objective=obj
    )
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
    params = {"objective": spy, "num_leaves": 4, "learning_rate": 0.3, "min_data_in_leaf": 5, "metric": "None", **QUIET}
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
        xgb.train(
            {"max_depth": 2, "eta": 0.3, "base_score": obj.base_score(dtrain), **ONE, "objective": obj.xgb_objective},
            dtrain,
            6,
            obj=spy,
            callbacks=[obj.callback()],
        )
    else:
        obj = clx.objective(sched, hessian_scale=None)
        spy = Spy(obj)
        data = lgb.Dataset(X, y, init_score=np.full(len(y), obj.init_score(y)), free_raw_data=False)
        lgb.train(
            {"objective": spy, "num_leaves": 4, "learning_rate": 0.3, "min_data_in_leaf": 5, **QUIET},
            data,
            6,
            callbacks=[obj.callback()],
        )
    assert len(spy.log) == 6
    for (pred, g, h), w in zip(spy.log, want):
        g1, h1 = first.grad_hess(y, pred)
        g2, h2 = second.grad_hess(y, pred)
        np.testing.assert_allclose(g, (1 - w) * g1 + w * g2, rtol=2e-6, atol=1e-6 * np.abs(g).max())
        np.testing.assert_allclose(h, (1 - w) * h1 + w * h2, rtol=2e-6, atol=1e-6 * np.abs(h).max())
        other = 0.5 if w != 0.5 else 0.0  # the parts really differ: another weight would not match
        assert np.abs((1 - other) * g1 + other * g2 - g).max() > 1e-3 * np.abs(g).max()

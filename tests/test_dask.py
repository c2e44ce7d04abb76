"""czar_gbdt.dask on a real cluster (2 worker processes): starting score, rank IC, training parity, faults."""

import threading
import time

import numpy as np
import pytest
from scipy import optimize
from scipy.stats import spearmanr

pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")

from dask_helpers import FEATURES, is_training_task, kill_worker_when, panel_frame  # noqa: E402

import czar_gbdt as cg  # noqa: E402
from czar_gbdt import dask as cdask  # noqa: E402
from czar_gbdt import lightgbm as clx  # noqa: E402
from czar_gbdt import metrics  # noqa: E402
from czar_gbdt import xgboost as cx  # noqa: E402

PARAMS = {
    "xgboost": {"max_depth": 3, "eta": 0.1, "min_child_weight": 20},
    "lightgbm": {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 50},
}
MODULES = {"xgboost": cx, "lightgbm": clx}


def make_loss(name):
    """A loss by spec (``"czar:alpha=0.5"``), or one of czar_gbdt.losses.extra (defined on first use,
    inside the test: the registry of loss names is restored after each test)."""
    if name.endswith("_z"):
        from czar_gbdt.losses import extra

        return getattr(extra, name)
    base, _, arg = name.partition(":")
    return cg.get_loss(base, **({arg.split("=")[0]: float(arg.split("=")[1])} if arg else {}))


@pytest.fixture(scope="module")
def panel():
    frame = panel_frame()
    return frame, dd.from_pandas(frame, npartitions=5, sort=False)


# --------------------------------------------------------------------------- starting score and scale
@pytest.mark.parametrize("name", ["czar", "czar:alpha=0.5", "zptae", "mse", "huber_z"])
def test_init_score_is_the_loss_init_score(dask_client, panel, name):
    loss = make_loss(name)
    frame, ddf = panel
    y, std, w = frame["target"].to_numpy(), frame["std"].to_numpy(), frame["weight"].to_numpy()
    got = cdask.init_score(loss, ddf["target"], std=ddf["std"], weight=ddf["weight"])
    assert got == pytest.approx(loss.init_score(y, std=std, weight=w), rel=1e-8)
    # and it is the root of the summed exact gradient, to the last digits
    exact = loss.with_params(derivatives="exact", min_hessian="none")
    root = optimize.brentq(
        lambda c: exact.grad_hess(y, np.full(y.size, c), std=std, weight=w)[0].sum(),
        y.min(),
        y.max(),
        xtol=1e-300,
        rtol=1e-15,
    )
    assert got == pytest.approx(root, rel=1e-12)


@pytest.mark.parametrize("name", ["focal", "asymmetric"])
def test_init_score_of_binary_losses(dask_client, panel, name):
    frame, ddf = panel
    loss = cg.get_loss(name)
    labels = (ddf["target"] > 0.007).astype("float64")
    got = cdask.init_score(loss, labels, weight=ddf["weight"])
    y, w = (frame["target"] > 0.007).to_numpy(np.float64), frame["weight"].to_numpy()
    # loss.init_score searches the flat mean loss (Brent): about 1e-8 of its logit; the root of
    # the summed exact gradient is sharper
    assert got == pytest.approx(loss.init_score(y, weight=w), rel=1e-7)
    exact = loss.with_params(derivatives="exact", min_hessian="none")
    root = optimize.brentq(
        lambda c: exact.grad_hess(y, np.full(y.size, c), weight=w)[0].sum(), -30, 30, xtol=1e-300, rtol=1e-15
    )
    assert got == pytest.approx(root, rel=1e-12)


def test_hessian_scale_is_the_in_memory_auto_scale(dask_client, panel):
    frame, ddf = panel
    w, s = frame["weight"].to_numpy(), frame["std"].to_numpy()
    assert cdask.hessian_scale("czar", ddf["std"], ddf["weight"]) == pytest.approx(
        w.sum() / np.sum(w / s**2), rel=1e-12
    )
    assert cdask.hessian_scale("focal", ddf["std"], ddf["weight"]) == 1.0
    assert cdask.hessian_scale("mse", None, ddf["weight"]) == 1.0


def test_bad_side_data_names_argument_partition_and_row(dask_client, panel):
    frame, _ = panel
    bad = frame.copy()
    bad.loc[bad.index[500], "std"] = -1.0
    ddf = dd.from_pandas(bad, npartitions=5, sort=False)
    with pytest.raises(
        ValueError,
        match=r"std must be finite and > 0; 1 rows of partition 0 are not, the first at "
        r"row 500 of that partition \(value -1.0\)",
    ):
        cdask.init_score("czar", ddf["target"], std=ddf["std"])
    with pytest.raises(ValueError, match="std has 3 partitions but the labels have 5"):
        cdask.init_score("czar", ddf["target"], std=dd.from_pandas(frame["std"], npartitions=3))


# --------------------------------------------------------------------------- rank IC
def test_rank_ic_equals_in_memory_rank_ic_over_partitions(dask_client):
    rng = np.random.default_rng(4)
    frame = panel_frame(n_dates=90, n_assets=40, seed=4)
    frame.loc[rng.random(len(frame)) < 0.03, "target"] = np.nan  # skipped rows
    frame["pred"] = np.round(frame["f0"] + rng.normal(size=len(frame)), 1)  # ties
    frame.loc[frame["date"] == frame["date"].iloc[0], "pred"] = 1.0  # a constant date: skipped
    ddf = dd.from_pandas(frame.set_index("date"), npartitions=7, sort=True)  # every date inside one partition
    assert ddf.npartitions > 3
    parts = ddf.reset_index()
    for func, method in ((cdask.rank_ic, metrics.rank_ic), (cdask.ic, metrics.ic)):
        got = func(parts["target"], parts["pred"], dates=parts["date"])
        want = method(frame["target"], frame["pred"], dates=frame["date"])
        np.testing.assert_allclose(got.per_date.to_numpy(), want.per_date.to_numpy(), rtol=0, atol=1e-12)
        assert got.per_date.index.equals(want.per_date.index)
        assert (got.n_dates, got.n_skipped) == (want.n_dates, want.n_skipped) == (89, 1)
        for field in ("mean", "std", "icir", "t_stat"):
            assert getattr(got, field) == pytest.approx(getattr(want, field), rel=0, abs=1e-12)


def test_rank_ic_refuses_a_date_split_over_partitions(dask_client):
    frame = panel_frame(n_dates=10, n_assets=9)
    ddf = dd.from_pandas(frame, npartitions=4, sort=False)  # cut at row counts: dates straddle partitions
    with pytest.raises(ValueError, match=r"date 2015-01-0\d 00:00:00 lies in partitions \[\d, \d\]"):
        cdask.rank_ic(ddf["target"], ddf["f0"], dates=ddf["date"])


# --------------------------------------------------------------------------- training parity
@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
def test_training_matches_the_single_process_model(dask_client, panel, backend):
    frame, ddf = panel
    loss = cg.get_loss("czar")
    X, y, std, w = (
        frame[FEATURES].to_numpy(),
        frame["target"].to_numpy(),
        frame["std"].to_numpy(),
        frame["weight"].to_numpy(),
    )
    model = cdask.train_loss(
        loss,
        ddf[FEATURES],
        ddf["target"],
        std=ddf["std"],
        weight=ddf["weight"],
        backend=backend,
        params=PARAMS[backend],
        num_boost_round=30,
    )
    pred = model.predict(ddf[FEATURES]).compute().to_numpy()
    local = MODULES[backend].train_loss(loss, X, y, std=std, weight=w, params=PARAMS[backend], num_boost_round=30)
    want = local.predict(X)
    assert spearmanr(pred, want)[0] > 0.99
    assert model.init_score == pytest.approx(loss.init_score(y, std=std, weight=w), rel=1e-8)
    ric = metrics.rank_ic(y, pred, dates=frame["date"]).mean
    assert ric > 0.2  # the planted signal is learned
    assert ric == pytest.approx(metrics.rank_ic(y, want, dates=frame["date"]).mean, abs=0.005)
    assert model.rounds == 30


def test_the_sklearn_estimator_of_xgboost_dask_trains_a_loss_with_std(dask_client, panel):
    """cdask.DaskXGBRegressor: the estimator API of xgboost.dask, the model of train_loss."""
    frame, ddf = panel
    loss = cg.get_loss("czar")
    est = cdask.DaskXGBRegressor(objective=loss, n_estimators=20, max_depth=3, learning_rate=0.1, min_child_weight=20)
    est.fit(ddf[FEATURES], ddf["target"], std=ddf["std"], sample_weight=ddf["weight"])
    pred = est.predict(ddf[FEATURES]).compute()
    model = cdask.train_loss(
        loss,
        ddf[FEATURES],
        ddf["target"],
        std=ddf["std"],
        weight=ddf["weight"],
        backend="xgboost",
        params=PARAMS["xgboost"],
        num_boost_round=20,
    )
    np.testing.assert_allclose(pred, model.predict(ddf[FEATURES]).compute().to_numpy(), rtol=1e-6, atol=1e-9)
    y, std, w = frame["target"].to_numpy(), frame["std"].to_numpy(), frame["weight"].to_numpy()
    assert est.init_score_ == pytest.approx(loss.init_score(y, std=std, weight=w), rel=1e-8)
    with pytest.raises(ValueError, match="for early stopping on the validation rank IC use czar_gbdt.dask.train_loss"):
        est.fit(ddf[FEATURES], ddf["target"], std=ddf["std"], eval_set=[(ddf[FEATURES], ddf["target"])])
    with pytest.raises(ValueError, match="std and mean are the side data of a czar_gbdt loss"):
        cdask.DaskXGBRegressor(n_estimators=2).fit(ddf[FEATURES], ddf["target"], std=ddf["std"])


@pytest.mark.parametrize("backend", ["xgboost", "lightgbm"])
@pytest.mark.parametrize("name", ["huber_z", "zptae"])
def test_other_elementwise_losses_and_a_user_loss_train_on_the_cluster(dask_client, panel, backend, name):
    # a loss defined with define_loss (losses.extra) is pickled to the worker processes and rebuilt there
    loss = make_loss(name)
    frame, ddf = panel
    model = cdask.train_loss(
        loss, ddf[FEATURES], ddf["target"], std=ddf["std"], backend=backend, params=PARAMS[backend], num_boost_round=10
    )
    pred = model.predict(ddf[FEATURES]).compute().to_numpy()
    X, y, std = frame[FEATURES].to_numpy(), frame["target"].to_numpy(), frame["std"].to_numpy()
    want = MODULES[backend].train_loss(loss, X, y, std=std, params=PARAMS[backend], num_boost_round=10).predict(X)
    assert spearmanr(pred, want)[0] > 0.99


def test_binary_loss_trains_on_the_cluster(dask_client, panel):
    frame, ddf = panel
    loss = cg.get_loss("focal")
    labels = (ddf["target"] > 0.002).astype("float64")
    model = cdask.train_loss(
        loss, ddf[FEATURES], labels, backend="xgboost", params=PARAMS["xgboost"], num_boost_round=10
    )
    logits = model.predict(ddf[FEATURES]).compute().to_numpy()
    X, y = frame[FEATURES].to_numpy(), (frame["target"] > 0.002).to_numpy(np.float64)
    want = cx.train_loss(loss, X, y, params=PARAMS["xgboost"], num_boost_round=10).predict(X)
    assert spearmanr(logits, want)[0] > 0.99
    assert model.init_score == pytest.approx(loss.init_score(y), rel=1e-7)


def test_early_stopping_on_rank_ic_is_exact_across_workers(dask_client):
    # the validation rank IC of every round equals the in-memory metric of the same model
    frame = panel_frame(n_dates=160, n_assets=50, seed=1)
    cut = frame["date"].unique()[110]
    train, valid = frame[frame["date"] < cut], frame[frame["date"] >= cut].copy()
    valid["code"] = np.searchsorted(np.sort(valid["date"].unique()), valid["date"]).astype(np.float64)
    dtrain = dd.from_pandas(train, npartitions=4, sort=False)
    dvalid = dd.from_pandas(valid.set_index("date"), npartitions=3, sort=True)  # each date inside one partition
    loss, params = cg.get_loss("czar"), {**PARAMS["xgboost"], "eta": 0.3}
    model = cdask.train_loss(
        loss,
        dtrain[FEATURES],
        dtrain["target"],
        std=dtrain["std"],
        valid_X=dvalid[FEATURES],
        valid_y=dvalid["target"],
        valid_std=dvalid["std"],
        valid_dates=dvalid["code"],
        early_stopping_rounds=5,
        backend="xgboost",
        params=params,
        num_boost_round=200,
    )
    history = {}
    local = cx.train(
        params,
        cx.DMatrix(train[FEATURES].to_numpy(), train["target"], std=train["std"]),
        200,
        objective=loss,
        evals=[
            (cx.DMatrix(valid[FEATURES].to_numpy(), valid["target"], std=valid["std"], dates=valid["date"]), "valid")
        ],
        metric="rank_ic",
        early_stopping_rounds=5,
        evals_result=history,
        verbose_eval=False,
    )
    np.testing.assert_allclose(model.history["valid"]["rank_ic"], history["valid"]["rank_ic"], rtol=0, atol=1e-6)
    assert model.rounds == local.num_boosted_rounds() < 200


# --------------------------------------------------------------------------- refusals
def test_whole_dataset_and_scheduled_losses_are_refused(dask_client, panel):
    _, ddf = panel
    soft_f1 = cg.SoftF1Composite() if hasattr(cg, "SoftF1Composite") else cg.get_loss("soft_f1")
    for backend in ("lightgbm", "xgboost"):
        with pytest.raises(
            ValueError, match=f"cannot train on Dask {backend}: its gradients need whole-dataset counts"
        ):
            cdask.train_loss(soft_f1, ddf[FEATURES], (ddf["target"] > 0).astype("float64"), backend=backend)
    scheduled = cg.ScheduledLoss("mse", cg.get_loss("czar"), cg.linear_warmup(5))
    with pytest.raises(ValueError, match="changes with the boosting round"):
        cdask.train_loss(scheduled, ddf[FEATURES], ddf["target"], std=ddf["std"])
    with pytest.raises(ValueError, match=r"backend must be one of .*\(CatBoost has no Dask interface\)"):
        cdask.train_loss("mse", ddf[FEATURES], ddf["target"], backend="catboost")


def test_early_stopping_is_refused_on_lightgbm(dask_client, panel):
    _, ddf = panel
    with pytest.raises(ValueError, match="early_stopping_rounds is not supported on Dask LightGBM.*issues/3712"):
        cdask.train_loss(
            "czar",
            ddf[FEATURES],
            ddf["target"],
            std=ddf["std"],
            valid_X=ddf[FEATURES],
            valid_y=ddf["target"],
            valid_dates=ddf["f0"],
            early_stopping_rounds=5,
            backend="lightgbm",
        )


def test_the_watcher_asks_the_scheduler_for_the_workers_not_the_clients_cache(dask_client, monkeypatch):
    """distributed's periodic update refreshes the client's cached identity without the workers: a
    watcher reading that cache during a long training saw every worker "leave" (a 20M-row run)."""
    monkeypatch.setattr(type(dask_client), "scheduler_info", lambda self, *a, **k: {"workers": {}})
    assert len(cdask.worker_addresses(dask_client)) == 2
    # a call longer than the grace period, every worker in place: its value, no WorkerLostError
    assert cdask.run_guarded(dask_client, lambda: time.sleep(1.5) or 42, grace=0.5) == 42


# --------------------------------------------------------------------------- faults
@pytest.mark.parametrize(
    ("backend", "delay"),
    [("xgboost", 3.0), ("lightgbm", 3.0), ("lightgbm", 0.0)],
    ids=["xgboost-mid-training", "lightgbm-mid-training", "lightgbm-while-connecting"],
)
def test_worker_killed_during_training_fails_fast_with_a_clear_error(backend, delay):
    # mid-training the survivors fail at once (their peer's socket closed); while the workers
    # connect, a survivor keeps retrying and the guard restarts it after its grace period
    distributed = pytest.importorskip("distributed")
    frame = panel_frame(n_dates=400, n_assets=100, seed=2)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="1GiB", processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(2)
        ddf = dd.from_pandas(frame, npartitions=4, sort=False)
        params = {"max_depth": 8, "eta": 0.01} if backend == "xgboost" else {"num_leaves": 255, "learning_rate": 0.01}
        box = {}
        killer = threading.Thread(
            target=lambda: box.update(kill=kill_worker_when(client, is_training_task, delay)), daemon=True
        )
        killer.start()
        with pytest.raises(cdask.WorkerLostError, match="left the cluster during the call") as err:
            cdask.train_loss(
                "czar",
                ddf[FEATURES],
                ddf["target"],
                std=ddf["std"],
                backend=backend,
                params=params,
                num_boost_round=100_000,
                client=client,
            )
        failed_at = time.monotonic()
        killer.join(5)
        address, killed_at = box["kill"]
        assert address in str(err.value)
        assert failed_at - killed_at < (5 if delay else 20), "the training call did not fail within a bounded time"
        # the cluster trains again once its nanny has replaced the worker
        client.wait_for_workers(2, timeout=60)
        small = dd.from_pandas(panel_frame(n_dates=20, n_assets=20), npartitions=2, sort=False)
        model = cdask.train_loss(
            "mse", small[FEATURES], small["target"], backend=backend, num_boost_round=3, client=client
        )
        assert model.rounds == 3

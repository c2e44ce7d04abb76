"""Your own loss: define_loss derives, compiles and checks; the result is a loss like the built-ins."""

import copy
import json
import math
import pickle
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import czar_gbdt as cg
from czar_gbdt.losses import extra


def _rows(rng, n=3000):
    std = rng.uniform(0.5, 2.0, n)
    mean = rng.normal(0.0, 0.3, n)
    y = mean + std * rng.standard_t(4, n)
    p = mean + std * rng.normal(0.0, 1.0, n)
    return y, p, std, mean


def test_czar_written_with_define_loss_reproduces_the_builtin_czar():
    """Loss and exact derivatives to 1e-10 relative, with per-row std and mean."""
    rng = np.random.default_rng(0)
    y, p, std, mean = _rows(rng)
    for params in ({}, {"alpha": 0.5, "epsilon": 2.0, "tau": 0.1}, {"alpha": 0.0, "epsilon": 1.0, "tau": 0.05}):
        builtin = cg.CZAR(**params, derivatives="exact")
        ours = extra.czar_z.with_params(**params, derivatives="exact")
        np.testing.assert_allclose(
            ours.loss(y, p, std=std, mean=mean), builtin.loss(y, p, std=std, mean=mean), rtol=1e-10, atol=0
        )
        g_ours, h_ours = ours.grad_hess(y, p, std=std, mean=mean)
        g_ref, h_ref = builtin.grad_hess(y, p, std=std, mean=mean)
        np.testing.assert_allclose(g_ours, g_ref, rtol=1e-10, atol=0)
        np.testing.assert_allclose(h_ours, h_ref, rtol=1e-10, atol=1e-300)


def _numpy_huber(y, p, std, delta):
    r = (p - y) / std
    loss = np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    grad = np.where(np.abs(r) <= delta, r, delta * np.sign(r)) / std
    hess = np.where(np.abs(r) <= delta, 1.0, 0.0) / std**2
    return loss, grad, hess


def test_user_huber_matches_a_hand_written_numpy_huber():
    def huber_z(zt, zp, delta=1.0):
        r = zp - zt
        return cg.where(abs(r) <= delta, 0.5 * r**2, delta * (abs(r) - 0.5 * delta))

    loss = cg.define_loss("huber_test", huber_z, params={"delta": (0.05, 10.0)}, hessian="exact")
    rng = np.random.default_rng(1)
    y, p, std, _ = _rows(rng)
    for delta in (1.0, 0.3, 4.0):
        ours = loss.with_params(delta=delta, min_hessian="none")
        ref_loss, ref_grad, ref_hess = _numpy_huber(y, p, std, delta)
        # z_p - z_t is computed as (p - mean)/std - (y - mean)/std: last-bit differences
        np.testing.assert_allclose(ours.loss(y, p, std=std), ref_loss, rtol=1e-12, atol=1e-15)
        g, h = ours.grad_hess(y, p, std=std)
        np.testing.assert_allclose(g, ref_grad, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(h, ref_hess, rtol=1e-12, atol=1e-300)
    # the formula also runs on numbers: cg.where is numpy's where there
    np.testing.assert_allclose(huber_z(y / std, p / std), ref_loss if delta == 1.0 else _numpy_huber(y, p, std, 1.0)[0])
    assert cg.get_loss("huber_test", delta=2.0) == loss.with_params(delta=2.0)
    with pytest.raises(ValueError, match=r"delta must be in \[0.05, 10\]; got 20.0"):
        cg.get_loss("huber_test", delta=20.0)


@pytest.mark.parametrize(
    "hessian, expected",
    [
        ("constant", lambda g, h, L: np.ones_like(h)),
        (0.25, lambda g, h, L: np.full_like(h, 0.25)),
        ("abs", lambda g, h, L: np.abs(h)),
        ("gauss_newton", lambda g, h, L: np.where(L > 0, g**2 / (2 * L), h)),
    ],
)
def test_boosting_hessian_choices(hessian, expected):
    def bumpy(zt, zp, k=2.0):
        r = zp - zt
        return 0.5 * r**2 + k * (1 - np.exp(-(r**2))) + 0.1 * np.tanh(r) ** 2

    name = f"bumpy_{str(hessian).replace('.', '_')}"
    loss = cg.define_loss(name, bumpy, hessian=hessian)
    rng = np.random.default_rng(2)
    zt, zp = rng.normal(size=500), rng.normal(size=500)
    exact = loss.with_params(derivatives="exact", min_hessian="none")
    g, h = exact.grad_hess(zt, zp)
    L = loss.loss(zt, zp)
    g_ref, h_ref = loss.with_params(min_hessian="none").grad_hess(zt, zp)
    np.testing.assert_array_equal(g_ref, g)  # the gradient is exact in both modes
    np.testing.assert_allclose(h_ref, expected(g, h, L), rtol=1e-12, atol=1e-300)
    assert (h < 0).any()  # a non-convex loss: the choice matters


def test_binary_user_loss_equals_the_builtin_logistic():
    def bce(y, x, pos_weight=1.0):
        return -(
            pos_weight * y * cg.where(x >= 0, -np.log1p(np.exp(-x)), x - np.log1p(np.exp(x)))
            + (1 - y) * cg.where(x >= 0, -x - np.log1p(np.exp(-x)), -np.log1p(np.exp(x)))
        )

    loss = cg.define_loss("bce_test", bce, kind="binary", params={"pos_weight": (1e-6, 1e6)})
    assert loss.kind == "binary" and not loss.requires_std
    rng = np.random.default_rng(3)
    y = (rng.random(2000) < 0.3).astype(float)
    x = rng.normal(0, 3, 2000)
    ref = cg.LogisticLoss(pos_weight=1.7)
    ours = loss.with_params(pos_weight=1.7)
    np.testing.assert_allclose(ours.loss(y, x), ref.loss(y, x), rtol=1e-12)
    for a, b in zip(ours.grad_hess(y, x), ref.grad_hess(y, x)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-300)
    assert ours.init_score(y) == pytest.approx(ref.init_score(y), abs=1e-6)


@pytest.mark.parametrize(
    "source, message",
    [
        (
            """
        def f(zt, zp, a=1.0):
            s = 0.0
            for k in range(3):
                s = s + (zp - zt) ** 2
            return s
     """,
            "a Python loop",
        ),
        (
            """
        def f(zt, zp):
            return math.erf(zp - zt)
     """,
            "unknown function 'math.erf'",
        ),
        (
            """
        def f(zt, zp):
            return helper(zp - zt)
     """,
            "unknown function 'helper'",
        ),
        (
            """
        def f(zt, zp, kind="l2"):
            return (zp - zt) ** 2
     """,
            "parameter 'kind' of loss 'f' must be a finite number",
        ),
        (
            """
        def f(zt, zp):
            if zp > zt:
                return zp - zt
            return zt - zp
     """,
            "an if statement",
        ),
        (
            """
        def f(zt, zp, a):
            return a * (zp - zt) ** 2
     """,
            "needs a default value",
        ),
        (
            """
        def f(zt, zp):
            return zt ** 2
     """,
            "does not depend on its argument .zp.",
        ),
    ],
)
def test_unsupported_constructs_are_refused_at_definition(tmp_path, source, message):
    module = tmp_path / "user_formula.py"
    module.write_text("import math\n" + textwrap.dedent(source))
    sys.path.insert(0, str(tmp_path))
    try:
        sys.modules.pop("user_formula", None)
        import user_formula

        with pytest.raises(ValueError, match=message):
            cg.define_loss("bad_test", user_formula.f)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("user_formula", None)
    assert "bad_test" not in cg.LOSSES


def test_definition_errors_name_the_argument():
    def sq(zt, zp, a=1.0):
        return a * (zp - zt) ** 2

    with pytest.raises(ValueError, match="built-in loss"):
        cg.define_loss("czar", sq)
    with pytest.raises(ValueError, match="hessian must be one of"):
        cg.define_loss("sq_test", sq, hessian="newton")
    with pytest.raises(ValueError, match="not a parameter"):
        cg.define_loss("sq_test", sq, params={"b": (0, 1)})
    with pytest.raises(ValueError, match="outside its domain"):
        cg.define_loss("sq_test", sq, params={"a": (2, 3)})
    with pytest.raises(ValueError, match="kind must be"):
        cg.define_loss("sq_test", sq, kind="ranking")


def test_one_domain_type_for_every_loss_parameter():
    """Built-in and user losses list their parameters' domains as Intervals (the config's booster
    bounds are Intervals too); a user's (low, high) pair is converted once, the stored definition
    (what the fingerprint and pickles read) keeps the pair, and the messages are the Interval's."""
    from czar_gbdt._validation import Interval
    from czar_gbdt.losses.registry import LOSSES

    for name, cls in LOSSES.items():
        assert set(cls.param_domains) <= set(cls.param_defaults), name
        for pname, default in cls.param_defaults.items():
            domain = cls.domain(pname)
            assert isinstance(domain, Interval), (name, pname)
            assert domain.check(pname, default) == default  # every default lies in its domain
    assert cg.CZAR.param_domains["alpha"] == Interval("real", 0.0, 1.0)
    assert cg.ZPTAE.domain("hessian").options == ("irls", "constant")

    def sq(zt, zp, a=1.0, b=0.5):
        return a * (zp - zt) ** 2 + b * zp**2

    loss = cg.define_loss("domain_test", sq, params={"a": (0, math.inf), "b": [0.0, 1.0]})
    assert type(loss).param_domains == {"a": Interval("real", 0.0), "b": Interval("real", 0.0, 1.0)}
    assert loss.domain("b") is type(loss).param_domains["b"]
    assert type(loss).definition["domains"] == (("a", (0.0, math.inf)), ("b", (0.0, 1.0)))
    with pytest.raises(ValueError, match=r"^b must be in \[0, 1\]; got 2.0\.$"):
        loss.with_params(b=2.0)
    with pytest.raises(ValueError, match=r"^a must be in \[0, inf\]; got -1.0\.$"):
        type(loss)(a=-1.0)
    with pytest.raises(ValueError, match=r"^a must be a finite number"):
        type(loss)(a=math.nan)
    clone = pickle.loads(pickle.dumps(loss.with_params(b=0.25)))
    assert clone.b == 0.25 and type(clone).param_domains == type(loss).param_domains
    with pytest.raises(ValueError, match=r"^average must be one of \('binary', 'macro'\); got 'micro'\.$"):
        cg.SoftF1Composite(average="micro")
    with pytest.raises(ValueError, match=r"^clip must be in \[0, 1\); got 1.0\.$"):
        cg.AsymmetricLoss(clip=1.0)
    with pytest.raises(ValueError, match=r"^rounds must be an integer >= 0; got -1\.$"):
        cg.linear_warmup(-1)
    assert (
        Interval("int", 0).check("rounds", np.int64(3)) == 3 and Interval("str", options=("a",)).check("x", "a") == "a"
    )
    with pytest.raises(ValueError, match=r"^flag must be true or false; got 1\.$"):
        Interval("bool").check("flag", 1)


def _over_3x(pred, target):  # the measured case: over-prediction costs 3x, written prediction first
    r = pred - target
    return cg.where(r > 0, 3.0 * r**2, r**2)


def test_row_arguments_are_read_by_name_in_either_order():
    over = cg.define_loss("over_3x_test", _over_3x)
    zt, over_by_one, under_by_one = np.zeros(2), np.array([1.0, 1.0]), np.array([-1.0, -1.0])
    assert over.loss(zt, over_by_one)[0] == pytest.approx(3.0)  # over-prediction penalised 3x
    assert over.loss(zt, under_by_one)[0] == pytest.approx(1.0)
    g, _ = over.grad_hess(zt, over_by_one)
    assert g[0] == pytest.approx(6.0)
    assert over.init_score(np.array([-1.0, 1.0])) < 0  # the best constant leans low: over-prediction costs more

    def usual(zt, zp):
        r = zp - zt
        return cg.where(r > 0, 3.0 * r**2, r**2)

    ref = cg.define_loss("over_3x_ref_test", usual)
    y, x = np.random.default_rng(0).normal(size=(2, 50))
    np.testing.assert_allclose(over.loss(y, x), ref.loss(y, x))
    for label, pred in (("y_true", "y_pred"), ("target", "prediction"), ("label", "pred"), ("truth", "zp")):
        for first, second in ((label, pred), (pred, label)):
            f = eval(
                f"lambda {first}, {second}: cg.where({pred} > {label}, 3.0 * ({pred} - {label}) ** 2, "
                f"({pred} - {label}) ** 2)",
                {"cg": cg},
            )
            np.testing.assert_allclose(
                cg.define_loss("named_test", f, check=False).loss(y, x), ref.loss(y, x), err_msg=f"({first}, {second})"
            )

    def bce(margin, label, pos_weight=2.0):  # binary: the margin and the label by name too
        return pos_weight * label * cg.log1p(cg.exp(-margin)) + (1 - label) * cg.log1p(cg.exp(margin))

    weighted = cg.define_loss("bce_named_test", bce, kind="binary")
    assert weighted.loss(np.array([1.0]), np.array([0.0]))[0] == pytest.approx(2 * math.log(2))


@pytest.mark.parametrize(
    "source, message",
    [
        (
            "def f(a, b):\n    return (b - a) ** 2\n",
            r"loss 'f': its row arguments are read by name, and \(a, b\) are not one label and one prediction; name "
            r"them the label as zt or y_true or target or label or truth and the prediction .* as zp or y_pred or pred",
        ),
        ("def f(target, label):\n    return (label - target) ** 2\n", r"\(target, label\) are not one label"),
        (
            "def f(zt, zp, delta=1.0, unused=2.0):\n    return delta * (zp - zt) ** 2\n",
            r"loss 'bad_test': the formula never uses its parameter\(s\) \['unused'\]; remove them",
        ),
    ],
)
def test_row_names_and_parameters_are_refused_naming_what_is_expected(source, message):
    namespace: dict = {}
    exec(source, namespace)
    with pytest.raises(ValueError, match=message):
        cg.define_loss("bad_test", namespace["f"])
    assert "bad_test" not in cg.LOSSES


def test_user_losses_pickle_and_rebuild_in_a_fresh_process(tmp_path):
    loss = extra.huber_z.with_params(delta=0.7)
    blob = pickle.dumps(loss)
    assert pickle.loads(blob) == loss
    # a copy keeps its class even when the name is no longer registered (CatBoost deep-copies its
    # objective, whose compiled class and starting-score cell belong to the loss's class)
    cg.LOSSES.pop("huber_z", None)
    assert type(copy.deepcopy(loss)) is type(loss) and type(pickle.loads(blob)) is type(loss)
    path = tmp_path / "loss.pkl"
    path.write_bytes(blob)
    code = textwrap.dedent(f"""
        import pickle, numpy as np
        loss = pickle.loads(open({str(path)!r}, "rb").read())
        print(loss.name, loss.delta, float(loss(np.array([0.0, 3.0]), np.array([0.5, 0.0]))))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["huber_z", "0.7"]
    assert float(out[2]) == pytest.approx(loss(np.array([0.0, 3.0]), np.array([0.5, 0.0])), rel=1e-15)


@pytest.mark.parametrize("name", ["huber_z", "pinball_z", "log_cosh_z", "czar_z"])
def test_shipped_examples_train_on_all_three_backends_from_their_init_score(name):
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    from czar_gbdt import catboost as ccb
    from czar_gbdt import lightgbm as clx
    from czar_gbdt import xgboost as cx

    loss = getattr(extra, name)
    rng = np.random.default_rng(4)
    n = 2000
    X = rng.normal(size=(n, 4))
    std = 0.01 * np.exp(0.3 * rng.normal(size=n))
    y = std * (0.5 * X[:, 0] + rng.standard_t(4, size=n) + 0.3)

    tr, va = slice(0, 1500), slice(1500, n)
    init = loss.init_score(y[tr], std=std[tr])
    history = {}
    booster = cx.train(
        {"max_depth": 3, "eta": 0.1},
        cx.DMatrix(X[tr], y[tr], std=std[tr]),
        5,
        objective=loss,
        evals=[(cx.DMatrix(X[va], y[va], std=std[va]), "valid")],
        metric=loss,
        evals_result=history,
        verbose_eval=False,
    )
    config = json.loads(booster.save_config())["learner"]["learner_model_param"]["base_score"]
    assert float(re.findall(r"[-+0-9.eE]+", config)[0]) == pytest.approx(init, rel=1e-6)
    assert np.isfinite(booster.predict(xgb.DMatrix(X))).all()
    # the eval metric is the loss on the validation rows, with their own std
    pred_va = booster.predict(xgb.DMatrix(X[va]), output_margin=True)
    assert history["valid"][loss.name][-1] == pytest.approx(loss(y[va], pred_va, std=std[va]), rel=1e-5)

    train_set = clx.Dataset(X[tr], y[tr], std=std[tr])
    valid_set = clx.Dataset(X[va], y[va], std=std[va], reference=train_set)
    lgb_history = {}
    lgb_model = clx.train(
        {"num_leaves": 7, "verbose": -1},
        train_set,
        5,
        objective=loss,
        valid_sets=[valid_set],
        metric=loss,
        callbacks=[lgb.record_evaluation(lgb_history)],
    )
    assert train_set.get_init_score() == pytest.approx(np.full(1500, init), rel=1e-12, abs=1e-15)
    assert lgb_history["valid_0"][loss.name][-1] == pytest.approx(
        loss(y[va], lgb_model.predict(X[va]), std=std[va]), rel=1e-5
    )

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # CatBoost compiles the objective: no "could not be optimized"
        model = ccb.train(
            {"iterations": 5, "depth": 3, "verbose": False, "allow_writing_files": False},
            ccb.Pool(X[tr], y[tr], std=std[tr]),
            objective=loss,
            eval_set=ccb.Pool(X[va], y[va], std=std[va]),
            metric=loss,
        )
    z_init = loss.init_score(y[tr] / std[tr])
    assert model.get_scale_and_bias()[1] == pytest.approx(z_init, rel=1e-9, abs=1e-12)
    z_pred = ccb.predict(model, X[va])
    best = model.get_best_score()["validation"]
    assert list(best.values())[0] == pytest.approx(loss(y[va] / std[va], z_pred), rel=1e-5)


def test_derived_sources_are_cached_so_a_second_process_skips_derivation(tmp_path):
    code = textwrap.dedent("""
        import time
        t0 = time.perf_counter()
        from czar_gbdt.losses.extra import czar_z
        czar_z.grad_hess([0.1, -0.2], [0.0, 0.3], std=[1.0, 1.0])
        print(time.perf_counter() - t0)
    """)
    env = {**__import__("os").environ, "CZAR_GBDT_KERNEL_DIR": str(tmp_path)}
    first, second = (
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout)
        for _ in range(2)
    )
    assert any((tmp_path / "derived").iterdir())
    assert second < first


def test_where_is_numpy_where_on_numbers():
    np.testing.assert_array_equal(cg.where(np.array([True, False]), 1.0, 2.0), [1.0, 2.0])
    assert math.isclose(float(cg.where(3 > 2, 1.5, 0.0)), 1.5)


USER_MODULE = """
import czar_gbdt as cg


def _huber(zt, zp, delta=1.0):
    r = zp - zt
    return cg.where(abs(r) <= delta, 0.5 * r**2, delta * (abs(r) - 0.5 * delta))


huber = cg.define_loss("huber_cfg", _huber, params={"delta": (0.05, 10.0)}, hessian="gauss_newton")
"""


def test_a_config_naming_a_user_loss_by_import_path_tunes_its_parameters(tmp_path, monkeypatch, capsys):
    import optuna
    from study_helpers import study_table

    from czar_gbdt.cli import main
    from czar_gbdt.config import ConfigError, load_config

    (tmp_path / "my_losses.py").write_text(USER_MODULE)
    config = tmp_path / "user.toml"
    config.write_text(
        "\n"
        + study_table("user").format(runs=tmp_path / "runs")
        + """
[data]
source = "ff49"
start = "2018-01-01"
horizon = 5

[splits]
test_size = 120
min_train_size = 300
holdout = 60
max_splits = 1

[model]
backend = "lightgbm"
num_boost_round = 10

[model.params]
num_leaves = 4
num_threads = 2

[loss]
name = "my_losses:huber"

[loss.huber_cfg]
delta = { low = 0.1, high = 3.0 }
"""
    )
    monkeypatch.chdir(tmp_path)  # the module sits next to the config
    assert main(["tune", "--config", str(config), "--no-progress", "--format", "json", "--trials", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_trials"] == 2
    assert result["best_params"]["loss"] == "my_losses:huber"
    assert 0.1 <= result["best_params"]["loss_params"]["delta"] <= 3.0
    study = optuna.load_study(study_name="user", storage=f"sqlite:///{tmp_path / 'runs' / 'user.db'}")
    assert {"huber_cfg.delta"} <= set(study.best_trial.params)
    # a range outside the loss's domain is refused when the config is loaded
    config.write_text(
        config.read_text().replace("delta = { low = 0.1, high = 3.0 }", "delta = { low = 0.01, high = 3.0 }")
    )
    with pytest.raises(ConfigError, match=r"loss.huber_cfg.delta: delta must be in \[0.05, 10\]; got 0.01"):
        load_config(config)
    config.write_text(config.read_text().replace("my_losses:huber", "my_losses:hubert"))
    with pytest.raises(ConfigError, match="loss.name: loss 'my_losses:hubert': module 'my_losses' has no attribute"):
        load_config(config)


def test_loss_specs_take_import_paths(tmp_path, monkeypatch):
    from czar_gbdt import specs

    (tmp_path / "my_spec_losses.py").write_text(USER_MODULE.replace("huber_cfg", "huber_spec"))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert specs.parse_spec("my_spec_losses:huber:delta=0.5") == ("my_spec_losses:huber", {"delta": 0.5})
    assert specs.parse_spec("my_spec_losses:huber") == ("my_spec_losses:huber", {})
    assert specs.parse_spec("czar:alpha=0.5") == ("czar", {"alpha": 0.5})
    specs.check_spec("my_spec_losses:huber", {"delta": 0.5}, "--loss")
    model = specs.build_model("my_spec_losses:huber", {"delta": 0.5})
    assert model.name == "huber_spec" and model.delta == 0.5
    with pytest.raises(specs.SpecError, match="--loss: unknown parameter 'gamma'"):
        specs.check_spec("my_spec_losses:huber", {"gamma": 1.0}, "--loss")
    with pytest.raises(specs.SpecError, match="cannot import module 'no_such_module'"):
        specs.check_spec("no_such_module:huber", {}, "--loss")

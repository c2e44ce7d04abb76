"""Configuration validation: every mistake is reported with its dotted key before any work."""

import pytest

from czar_gbdt.config import Choices, ConfigError, Range, load_config, validate_config


def test_defaults_are_valid_and_complete():
    cfg = validate_config({})
    assert cfg["loss"]["name"] == "czar" and cfg["model"]["backend"] == "lightgbm"
    assert cfg["splits"]["holdout"] > 0


@pytest.mark.parametrize("raw, message", [
    ({"stduy": {}}, r"unknown key 'stduy' \(did you mean 'study'\?\)"),
    ({"study": {"n_trails": 3}}, r"unknown key 'study.n_trails' \(did you mean 'n_trials'\?\)"),
    ({"study": {"n_trials": 0}}, r"study.n_trials must be > 0; got 0"),
    ({"study": {"n_trials": "10"}}, r"study.n_trials must be an integer; got '10'"),
    ({"study": {"sampler": "tpee"}}, r"study.sampler must be one of \('tpe', 'random'\); got 'tpee'"),
    ({"data": {"target_transform": "demaen"}}, r"data.target_transform must be one of .*did you mean 'demean'"),
    ({"data": {"horizon": 5}, "splits": {"gap": 2}}, r"splits.gap must be >= data.horizon \(5\).*leak"),
    ({"model": {"early_stopping_rounds": 10}}, r"early_stopping_rounds needs splits.valid_size > 0"),
    ({"model": {"params": {"learning_rte": 0.1}}}, r"unknown lightgbm parameter 'model.params.learning_rte'"),
    ({"model": {"backend": "xgboost", "params": {"num_leaves": 8}}}, r"unknown xgboost parameter"),
    ({"model": {"params": {"learning_rate": {"low": 0.2, "high": 0.1}}}}, r"low must be <= high"),
    ({"model": {"params": {"learning_rate": {"low": 0, "high": 0.1, "log": True}}}}, r"log range needs low > 0"),
    ({"model": {"params": {"learning_rate": {"lo": 0, "hi": 0.1}}}}, r"a search range is"),
    ({"loss": {"name": "czr"}}, r"loss.name must be one of .*got 'czr' \(did you mean 'czar'\?\)"),
    ({"loss": {"name": {"choices": ["czar", "foo"]}}}, r"loss.name must be one of"),
    ({"loss": {"czar": {"alpha": 1.5}}}, r"loss.czar.alpha: alpha must be in \[0, 1\]; got 1.5"),
    ({"loss": {"czar": {"alpha": {"low": 0.0, "high": 2.0}}}}, r"loss.czar.alpha: alpha must be in \[0, 1\]; got 2.0"),
    ({"loss": {"czar": {"gamma": 2}}}, r"unknown parameter 'loss.czar.gamma'; czar takes: alpha, "),
    ({"loss": {"zptae": {"gamma": 0.5}}}, r"loss.zptae.gamma: gamma must be in \[1, inf\]"),
    ({"data": {"features": {"windows": [5, -1]}}}, r"data.features.windows must be a non-empty list"),
])
def test_bad_config_names_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(raw)


def test_search_spaces_are_parsed():
    cfg = validate_config({
        "model": {"backend": {"choices": ["lightgbm", "xgboost"]},
                  "params": {"learning_rate": {"low": 0.01, "high": 0.3, "log": True}, "max_depth": 4}},
        "loss": {"name": {"choices": ["czar", "mse"]}, "czar": {"alpha": {"low": 0, "high": 1}, "tau": 0.05}},
    })
    assert cfg["model"]["backend"] == Choices(("lightgbm", "xgboost"))
    assert cfg["model"]["params"]["learning_rate"] == Range(0.01, 0.3, True)
    assert cfg["model"]["params"]["max_depth"] == 4
    alpha = cfg["loss"]["czar"]["alpha"]
    assert (alpha.low, alpha.high) == (0, 1) and not alpha.is_int  # loss parameters are real-valued
    assert cfg["loss"]["czar"]["tau"] == 0.05


def test_load_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\nname = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    ok = tmp_path / "ok.toml"
    ok.write_text('[study]\nname = "x"\nn_trials = 3\n')
    assert load_config(ok, {"study": {"n_trials": 5}})["study"]["n_trials"] == 5


@pytest.mark.parametrize("params, message", [
    ({"learning_rate": -0.1}, r"model.params.learning_rate must be a number > 0 for lightgbm; got -0.1"),
    ({"learning_rate": 0}, r"model.params.learning_rate must be a number > 0 for lightgbm; got 0"),
    ({"learning_rate": "fast"}, r"model.params.learning_rate must be a number > 0 for lightgbm; got 'fast'"),
    ({"learning_rate": True}, r"model.params.learning_rate must be a number > 0 for lightgbm; got True"),
    ({"num_leaves": 0}, r"model.params.num_leaves must be an integer in \[2, 131072\] for lightgbm; got 0"),
    ({"num_leaves": 1}, r"model.params.num_leaves must be an integer in \[2, 131072\]"),
    ({"num_leaves": 8.0}, r"model.params.num_leaves must be an integer .*got 8.0"),
    ({"num_leaves": {"low": 4.0, "high": 8.0}}, r"model.params.num_leaves is an integer parameter .*low=4.0"),
    ({"num_leaves": {"low": 1, "high": 8}}, r"model.params.num_leaves.low must be an integer in \[2, .*got 1"),
    ({"subsample": 2.0}, r"model.params.subsample must be a number in \(0, 1\] for lightgbm; got 2.0"),
    ({"bagging_fraction": 0.0}, r"model.params.bagging_fraction must be a number in \(0, 1\] for lightgbm; got 0.0"),
    ({"feature_fraction": {"low": 0.5, "high": 1.5}}, r"model.params.feature_fraction.high must be a number in "
                                                      r"\(0, 1\] for lightgbm; got 1.5"),
    ({"feature_fraction": {"low": 0, "high": 1}}, r"model.params.feature_fraction.low .*got 0"),
    ({"reg_lambda": -1.0}, r"model.params.reg_lambda must be a number >= 0 for lightgbm; got -1.0"),
    ({"lambda_l1": {"low": -0.5, "high": 1.0}}, r"model.params.lambda_l1.low must be a number >= 0"),
    ({"min_child_weight": -0.001}, r"model.params.min_child_weight must be a number >= 0"),
    ({"min_child_samples": {"choices": [20, -5]}}, r"model.params.min_child_samples \(choice -5\) must be an "
                                                   r"integer >= 0 for lightgbm; got -5"),
    ({"max_depth": 0}, r"model.params.max_depth must be an integer >= 1, or -1 \(no limit\) for lightgbm; got 0"),
    ({"max_depth": {"low": -1, "high": 6}}, r"model.params.max_depth.low .*not range ends.*got -1"),
    ({"extra_trees": 1}, r"model.params.extra_trees must be true or false for lightgbm; got 1"),
    ({"extra_trees": {"low": 0, "high": 1}}, r"model.params.extra_trees must be true or false; a numeric range"),
])
def test_booster_values_out_of_range_name_the_key_and_value(params, message):
    with pytest.raises(ConfigError, match=message):
        validate_config({"model": {"params": params}})


def test_booster_values_are_checked_for_every_backend_the_search_may_pick():
    raw = {"model": {"backend": {"choices": ["lightgbm", "xgboost"]}, "params": {"max_depth": -1}}}
    with pytest.raises(ConfigError, match=r"model.params.max_depth must be an integer >= 1, or 0 \(no limit\) "
                                          r"for xgboost; got -1"):
        validate_config(raw)
    with pytest.raises(ConfigError, match=r"model.params.depth must be an integer in \[1, 16\] for catboost; got 17"):
        validate_config({"model": {"backend": "catboost", "params": {"depth": 17}}})
    with pytest.raises(ConfigError, match=r"model.params.grow_policy must be one of \('depthwise', 'lossguide'\) "
                                          r"for xgboost; got 'Depthwise'"):
        validate_config({"model": {"backend": "xgboost", "params": {"grow_policy": "Depthwise"}}})


def test_valid_booster_values_pass_and_real_ranges_stay_real():
    from czar_gbdt.config import BOOSTER_BOUNDS, BOOSTER_PARAMS

    assert {b: set(v) for b, v in BOOSTER_BOUNDS.items()} == {b: set(v) for b, v in BOOSTER_PARAMS.items()}
    cfg = validate_config({"model": {"params": {
        "learning_rate": {"low": 1, "high": 2}, "feature_fraction": 1.0, "bagging_fraction": {"low": 0.5, "high": 1},
        "num_leaves": {"low": 2, "high": 64, "step": 2}, "max_depth": -1, "reg_lambda": 0, "extra_trees": True,
        "min_child_samples": {"choices": [0, 20]}, "num_threads": 0}}})
    params = cfg["model"]["params"]
    # a real parameter written with integer ends searches the interval, not the integers in it
    assert not params["learning_rate"].is_int and not params["bagging_fraction"].is_int
    assert params["num_leaves"].is_int and params["max_depth"] == -1
    cfg = validate_config({"model": {"backend": "catboost", "params": {"depth": {"low": 4, "high": 8},
                                                                       "thread_count": -1, "rsm": 0.5}}})
    assert cfg["model"]["params"]["depth"] == Range(4, 8)


def test_data_source_must_exist(tmp_path, monkeypatch):
    missing = tmp_path / "no_such_panel.csv"
    with pytest.raises(ConfigError, match=r"data.source: no such file '.*no_such_panel.csv'"):
        validate_config({"data": {"source": str(missing)}})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"data.source: no such file 'rel.csv', relative to the current directory"):
        validate_config({"data": {"source": "rel.csv"}})
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text(f'[data]\nsource = "{missing}"\n')
    with pytest.raises(ConfigError, match="data.source: no such file"):
        load_config(cfg_file)
    missing.write_text("date,asset,target\n")
    assert validate_config({"data": {"source": str(missing)}})["data"]["source"] == str(missing)


@pytest.mark.parametrize("url, message", [
    ("journal:///tmp/study.log", r"study.storage: journal storage is not supported .*no heartbeats"),
    ("/tmp/study.log", r"study.storage: journal storage is not supported"),
    ("redis://localhost:6379", r"study.storage: journal storage is not supported"),
    ("runs/x.db", r"study.storage must be a SQLAlchemy URL .*got 'runs/x.db'"),
])
def test_storage_must_be_a_sqlalchemy_url(url, message):
    with pytest.raises(ConfigError, match=message):
        validate_config({"study": {"storage": url}})


def test_storage_urls_that_are_accepted():
    for url in ("sqlite:///runs/x.db", "postgresql+psycopg2://u@127.0.0.1:5432/db", "mysql://u:p@host/db"):
        assert validate_config({"study": {"storage": url}})["study"]["storage"] == url


def test_boosting_rounds_may_be_searched():
    cfg = validate_config({"model": {"num_boost_round": {"low": 50, "high": 400, "step": 50},
                                     "early_stopping_rounds": {"choices": [0, 20]}},
                           "splits": {"valid_size": 60}})
    assert cfg["model"]["num_boost_round"] == Range(50, 400, step=50)
    assert cfg["model"]["early_stopping_rounds"] == Choices((0, 20))
    assert validate_config({"model": {"num_boost_round": 30}})["model"]["num_boost_round"] == 30
    for raw, message in [
        ({"num_boost_round": 0}, r"model.num_boost_round must be an integer >= 1; got 0"),
        ({"num_boost_round": "200"}, r"model.num_boost_round must be an integer >= 1; got '200'"),
        ({"num_boost_round": {"low": 10.0, "high": 100.0}}, r"model.num_boost_round is an integer parameter"),
        ({"num_boost_round": {"low": 0, "high": 100}}, r"model.num_boost_round.low must be an integer >= 1; got 0"),
        ({"early_stopping_rounds": -1}, r"model.early_stopping_rounds must be an integer >= 0; got -1"),
        ({"early_stopping_rounds": {"low": 0, "high": 30}}, r"early_stopping_rounds needs splits.valid_size > 0"),
    ]:
        with pytest.raises(ConfigError, match=message):
            validate_config({"model": raw})


@pytest.mark.parametrize("raw, message", [
    ({"loss": {"czr": {"alpha": 0.5}}}, r"unknown key 'loss.czr' \(did you mean 'czar'\?\); known keys in \[loss\]: "
                                        r"name, \[loss.asymmetric\], \[loss.czar\], "),
    ({"data": {"layout": "tall"}}, r"data.layout must be one of \('auto', 'wide', 'long'\); got 'tall'"),
    ({"data": {"wide": {"values": "price"}}}, r"data.wide.values must be one of \('returns', 'log_returns', 'prices'\);"
                                              r" got 'price' \(did you mean 'prices'\?\)"),
    ({"data": {"wide": {"valuse": "prices"}}}, r"unknown key 'data.wide.valuse' \(did you mean 'values'\?\)"),
    ({"data": {"panel": {"sort": "yes"}}}, r"data.panel.sort must be a bool; got 'yes'"),
    ({"data": {"start": "2020-31-01"}}, r"data.start must be a date written YYYY-MM-DD \(or empty\); got '2020-31-01'"),
    ({"data": {"start": "2021-01-01", "end": "2020-01-01"}}, r"data.start \(2021-01-01\) is after data.end"),
    ({"data": {"layout": "long"}}, r'data.layout = "long" does not fit data.source = "ff49"'),
    ({"data": {"panel": {"asset_col": ""}}}, r"data.panel.asset_col must name a column"),
    ({"compare": {"top_k": 2.5}}, r"compare.top_k must be an integer; got 2.5"),
    ({"compare": {"cost": "5bp"}}, r"compare.cost must be a number; got '5bp'"),
])
def test_data_keys_and_messages(raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(raw)


def test_fixed_values_name_the_command():
    from czar_gbdt.config import fixed_model

    cfg = validate_config({"model": {"params": {"num_leaves": {"low": 4, "high": 8}}}})
    with pytest.raises(ConfigError, match=r"model.params.num_leaves is a search space; `compare` needs fixed values"):
        fixed_model(cfg, "compare")
    with pytest.raises(ConfigError, match=r"`evaluate` needs fixed values"):
        fixed_model(cfg)

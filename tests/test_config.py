"""Configuration validation: every mistake is reported with its dotted key before any work."""

import dataclasses
import pathlib

import pytest

from czar_gbdt.config import (
    Choices,
    Config,
    ConfigError,
    Range,
    as_config,
    fixed_loss,
    fixed_model,
    load,
    load_config,
    validate_config,
)


def test_defaults_are_valid_and_complete():
    cfg = validate_config({})
    assert cfg["loss"]["name"] == "czar" and cfg["model"]["backend"] == "lightgbm"
    assert cfg["splits"]["holdout"] > 0


@pytest.mark.parametrize(
    "raw, message",
    [
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
        (
            {"loss": {"czar": {"alpha": {"low": 0.0, "high": 2.0}}}},
            r"loss.czar.alpha: alpha must be in \[0, 1\]; got 2.0",
        ),
        ({"loss": {"czar": {"gamma": 2}}}, r"unknown parameter 'loss.czar.gamma'; czar takes: alpha, "),
        ({"loss": {"zptae": {"gamma": 0.5}}}, r"loss.zptae.gamma: gamma must be in \[1, inf\]"),
        ({"data": {"features": {"windows": [5, -1]}}}, r"data.features.windows must be a non-empty list"),
    ],
)
def test_bad_config_names_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(raw)


def test_search_spaces_are_parsed():
    cfg = validate_config(
        {
            "model": {
                "backend": {"choices": ["lightgbm", "xgboost"]},
                "params": {"learning_rate": {"low": 0.01, "high": 0.3, "log": True}, "max_depth": 4},
            },
            "loss": {"name": {"choices": ["czar", "mse"]}, "czar": {"alpha": {"low": 0, "high": 1}, "tau": 0.05}},
        }
    )
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


@pytest.mark.parametrize(
    "params, message",
    [
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
        (
            {"bagging_fraction": 0.0},
            r"model.params.bagging_fraction must be a number in \(0, 1\] for lightgbm; got 0.0",
        ),
        (
            {"feature_fraction": {"low": 0.5, "high": 1.5}},
            r"model.params.feature_fraction.high must be a number in "
            r"\(0, 1\] for lightgbm; got 1.5",
        ),
        ({"feature_fraction": {"low": 0, "high": 1}}, r"model.params.feature_fraction.low .*got 0"),
        ({"reg_lambda": -1.0}, r"model.params.reg_lambda must be a number >= 0 for lightgbm; got -1.0"),
        ({"lambda_l1": {"low": -0.5, "high": 1.0}}, r"model.params.lambda_l1.low must be a number >= 0"),
        ({"min_child_weight": -0.001}, r"model.params.min_child_weight must be a number >= 0"),
        (
            {"min_child_samples": {"choices": [20, -5]}},
            r"model.params.min_child_samples \(choice -5\) must be an "
            r"integer >= 0 for lightgbm; got -5",
        ),
        ({"max_depth": 0}, r"model.params.max_depth must be an integer >= 1, or -1 \(no limit\) for lightgbm; got 0"),
        ({"max_depth": {"low": -1, "high": 6}}, r"model.params.max_depth.low .*not range ends.*got -1"),
        ({"extra_trees": 1}, r"model.params.extra_trees must be true or false for lightgbm; got 1"),
        ({"extra_trees": {"low": 0, "high": 1}}, r"model.params.extra_trees must be true or false; a numeric range"),
    ],
)
def test_booster_values_out_of_range_name_the_key_and_value(params, message):
    with pytest.raises(ConfigError, match=message):
        validate_config({"model": {"params": params}})


def test_booster_values_are_checked_for_every_backend_the_search_may_pick():
    raw = {"model": {"backend": {"choices": ["lightgbm", "xgboost"]}, "params": {"max_depth": -1}}}
    with pytest.raises(
        ConfigError,
        match=r"model.params.max_depth must be an integer >= 1, or 0 \(no limit\) "
        r"for xgboost; got -1",
    ):
        validate_config(raw)
    with pytest.raises(ConfigError, match=r"model.params.depth must be an integer in \[1, 16\] for catboost; got 17"):
        validate_config({"model": {"backend": "catboost", "params": {"depth": 17}}})
    with pytest.raises(
        ConfigError,
        match=r"model.params.grow_policy must be one of \('depthwise', 'lossguide'\) "
        r"for xgboost; got 'Depthwise'",
    ):
        validate_config({"model": {"backend": "xgboost", "params": {"grow_policy": "Depthwise"}}})


def test_valid_booster_values_pass_and_real_ranges_stay_real():
    from czar_gbdt.config import BOOSTER_BOUNDS, BOOSTER_PARAMS

    assert {b: set(v) for b, v in BOOSTER_BOUNDS.items()} == {b: set(v) for b, v in BOOSTER_PARAMS.items()}
    cfg = validate_config(
        {
            "model": {
                "params": {
                    "learning_rate": {"low": 1, "high": 2},
                    "feature_fraction": 1.0,
                    "bagging_fraction": {"low": 0.5, "high": 1},
                    "num_leaves": {"low": 2, "high": 64, "step": 2},
                    "max_depth": -1,
                    "reg_lambda": 0,
                    "extra_trees": True,
                    "min_child_samples": {"choices": [0, 20]},
                    "num_threads": 0,
                }
            }
        }
    )
    params = cfg["model"]["params"]
    # a real parameter written with integer ends searches the interval, not the integers in it
    assert not params["learning_rate"].is_int and not params["bagging_fraction"].is_int
    assert params["num_leaves"].is_int and params["max_depth"] == -1
    cfg = validate_config(
        {"model": {"backend": "catboost", "params": {"depth": {"low": 4, "high": 8}, "thread_count": -1, "rsm": 0.5}}}
    )
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


@pytest.mark.parametrize(
    "url, message",
    [
        ("journal:///tmp/study.log", r"study.storage: journal storage is not supported .*no heartbeats"),
        ("/tmp/study.log", r"study.storage: journal storage is not supported"),
        ("redis://localhost:6379", r"study.storage: journal storage is not supported"),
        ("runs/x.db", r"study.storage must be a SQLAlchemy URL .*got 'runs/x.db'"),
    ],
)
def test_storage_must_be_a_sqlalchemy_url(url, message):
    with pytest.raises(ConfigError, match=message):
        validate_config({"study": {"storage": url}})


def test_storage_urls_that_are_accepted():
    for url in ("sqlite:///runs/x.db", "postgresql+psycopg2://u@127.0.0.1:5432/db", "mysql://u:p@host/db"):
        assert validate_config({"study": {"storage": url}})["study"]["storage"] == url


def test_boosting_rounds_may_be_searched():
    cfg = validate_config(
        {
            "model": {
                "num_boost_round": {"low": 50, "high": 400, "step": 50},
                "early_stopping_rounds": {"choices": [0, 20]},
            },
            "splits": {"valid_size": 60},
        }
    )
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


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            {"loss": {"czr": {"alpha": 0.5}}},
            r"unknown key 'loss.czr' \(did you mean 'czar'\?\); known keys in \[loss\]: "
            r"name, \[loss.asymmetric\], \[loss.czar\], ",
        ),
        ({"data": {"layout": "tall"}}, r"data.layout must be one of \('auto', 'wide', 'long'\); got 'tall'"),
        (
            {"data": {"wide": {"values": "price"}}},
            r"data.wide.values must be one of \('returns', 'log_returns', 'prices'\);"
            r" got 'price' \(did you mean 'prices'\?\)",
        ),
        ({"data": {"wide": {"valuse": "prices"}}}, r"unknown key 'data.wide.valuse' \(did you mean 'values'\?\)"),
        ({"data": {"panel": {"sort": "yes"}}}, r"data.panel.sort must be a bool; got 'yes'"),
        (
            {"data": {"start": "2020-31-01"}},
            r"data.start must be a date written YYYY-MM-DD \(or empty\); got '2020-31-01'",
        ),
        ({"data": {"start": "2021-01-01", "end": "2020-01-01"}}, r"data.start \(2021-01-01\) is after data.end"),
        ({"data": {"layout": "long"}}, r'data.layout = "long" does not fit data.source = "ff49"'),
        ({"data": {"panel": {"asset_col": ""}}}, r"data.panel.asset_col must name a column"),
        ({"compare": {"top_k": 2.5}}, r"compare.top_k must be an integer; got 2.5"),
        ({"compare": {"cost": "5bp"}}, r"compare.cost must be a number; got '5bp'"),
    ],
)
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


# ------------------------------------------------------------------ the schema, written once


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"compare": {"cost": -0.1}}, r"^compare.cost must be >= 0 \(cost per unit of turnover\); got -0.1.$"),
        ({"compare": {"cost": float("nan")}}, r"^compare.cost must be a finite number; got nan.$"),
        ({"compare": {"eval_alpha": 1.5}}, r"^compare.eval_alpha must be in \[0, 1\] \(CZAR's alpha\); got 1.5.$"),
        (
            {"cluster": {"engine": "dsak"}},
            r"^cluster.engine must be one of \('local', 'dask'\); got 'dsak' "
            r"\(did you mean 'dask'\?\).$",
        ),
        ({"cluster": {"threads_per_worker": 0}}, r"^cluster.threads_per_worker must be >= 1; got 0.$"),
        ({"splits": {"gap": -1}}, r"^splits.gap must be >= 0; got -1.$"),
        (
            {"model": {"backend": {"choices": ["lightgbm", "xgbost"]}}},
            r"^model.backend must be one of .*got 'xgbost' "
            r"\(did you mean 'xgboost'\?\).$",
        ),
        (
            {"model": {"params": {"num_leaves": {"low": 4, "high": 8, "step": 0}}}},
            r"^model.params.num_leaves.step must be a positive number; got 0.$",
        ),
        (
            {"model": {"params": {"learning_rate": {"low": 0.01, "high": float("inf")}}}},
            r"^model.params.learning_rate.high must be a finite number; got inf.$",
        ),
        (
            {"data": {"features": {"windows": [5, True]}}},
            r"^data.features.windows must be a non-empty list of positive ints",
        ),
    ],
)
def test_bounds_of_the_schema_word_their_errors_as_before(raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(raw)


def test_every_bound_names_a_key_of_the_defaults_and_accepts_its_default():
    from czar_gbdt.config import DEFAULTS, FIELD_BOUNDS

    for key, bound in FIELD_BOUNDS.items():
        value = DEFAULTS
        for part in key.split("."):
            value = value[part]  # a KeyError: a bound on a key the configuration does not have
        assert bound.accepts(value), (key, value)


# ------------------------------------------------------------------ the typed configuration

CONFIGS = sorted((pathlib.Path(__file__).resolve().parents[1] / "configs").glob("*.toml"))


def test_every_section_dataclass_has_the_keys_of_its_table():
    from czar_gbdt.config import DEFAULTS
    from czar_gbdt.config.typed import SECTIONS

    for name, section in SECTIONS.items():
        names = [f.name for f in dataclasses.fields(section)]
        if name == "loss":
            assert names == ["name", "tables"]
        elif name == "model":
            assert names == ["backend", "num_boost_round", "early_stopping_rounds", "params"]
        else:
            assert names == list(DEFAULTS[name]), name


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_the_typed_config_round_trips_to_the_validated_dict(path):
    cfg = load_config(path)
    config = Config.from_validated(cfg)
    assert config.to_dict() == cfg
    assert Config.from_validated(config.to_dict()) == config
    assert load(path) == config and hash(load(path)) == hash(config)


def test_the_typed_config_is_frozen():
    config = Config.from_validated(validate_config({"model": {"params": {"num_leaves": 8}}}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.data.horizon = 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.model = None
    with pytest.raises(TypeError):
        config.model.params["num_leaves"] = 16
    assert config.data.features.windows == (1, 5, 20, 60)  # a tuple, not a list to append to


def test_data_config_is_a_cache_key():
    a = Config.from_validated(validate_config({"data": {"horizon": 5}})).data
    b = Config.from_validated(validate_config({})).data
    c = Config.from_validated(validate_config({"data": {"horizon": 10}, "splits": {"gap": 10}})).data
    cache = {a: "five"}
    assert cache[b] == "five" and hash(a) == hash(b)
    assert c not in cache
    d = Config.from_validated(validate_config({"data": {"wide": {"columns": ["Softw"]}}})).data
    assert d != a and d.wide.columns == ("Softw",)


def test_the_conventions_are_decoded_once():
    config = Config.from_validated(validate_config({}))
    assert config.study.storage is None  # sqlite:///<runs_dir>/<name>.db
    assert (config.data.start, config.data.end, config.data.wide.date_col) == (None, None, None)
    assert config.data.wide.columns is None and config.data.panel.feature_cols is None
    assert (config.data.panel.std_col, config.data.panel.mean_col, config.data.panel.weight_col) == (None,) * 3
    s = config.splits
    assert (s.train_size, s.step, s.gap, s.max_splits) == (None,) * 4
    assert s.valid_size == 0 and s.holdout == 250  # sizes: 0 is none, not a default
    assert config.model.early_stopping_rounds is None
    assert config.compare.study is None and config.cluster.scheduler is None
    given = Config.from_validated(
        validate_config(
            {
                "study": {"storage": "sqlite:///x.db"},
                "data": {"start": "2001-01-02", "panel": {"weight_col": "w"}},
                "splits": {"train_size": 300, "step": 20, "gap": 7, "max_splits": 2, "valid_size": 30},
                "model": {"early_stopping_rounds": 10},
                "cluster": {"scheduler": "tcp://h:8786"},
            }
        )
    )
    assert given.study.storage == "sqlite:///x.db" and given.data.start == "2001-01-02"
    assert given.data.panel.weight_col == "w"
    assert (given.splits.train_size, given.splits.step, given.splits.gap, given.splits.max_splits) == (300, 20, 7, 2)
    assert given.model.early_stopping_rounds == 10 and given.cluster.scheduler == "tcp://h:8786"
    assert given.to_dict()["model"]["early_stopping_rounds"] == 10
    assert config.to_dict()["splits"]["gap"] == 0 and config.to_dict()["data"]["wide"]["columns"] == []


def test_the_path_is_a_field(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[study]\nname = "x"\n')
    config = load(path, {"study": {"n_trials": 4}})
    assert config.path == str(path) and config.study.n_trials == 4
    assert config.to_dict()["_path"] == str(path)  # the dict for code that still reads "_path"
    built = Config.from_validated(validate_config({}))
    assert built.path is None and "_path" not in built.to_dict()
    assert Config.from_validated(validate_config({}), path="given.toml").path == "given.toml"


def test_searched_and_fixed_are_in_the_types():
    config = Config.from_validated(
        validate_config(
            {
                "model": {
                    "num_boost_round": {"low": 50, "high": 100},
                    "params": {"num_leaves": {"low": 4, "high": 8}, "learning_rate": 0.1},
                },
                "loss": {"name": {"choices": ["czar", "mse"]}, "czar": {"alpha": {"low": 0, "high": 1}}},
            }
        )
    )
    assert config.model.searched() == {"model.num_boost_round": Range(50, 100), "model.params.num_leaves": Range(4, 8)}
    assert config.loss.names == ("czar", "mse")
    assert config.loss.params_of("czar")["alpha"] == Range(0, 1, real=True) and not config.loss.params_of("mse")
    with pytest.raises(ConfigError, match=r"^model.params.num_leaves is a search space; `compare` needs fixed values"):
        config.model.fixed("compare")
    with pytest.raises(ConfigError, match=r"^loss.name is a search space; `evaluate` needs fixed values"):
        config.loss.fixed()
    fixed = Config.from_validated(
        validate_config({"model": {"params": {"num_leaves": 8}}, "loss": {"czar": {"alpha": 0.5}}})
    )
    model = fixed.model.fixed()
    assert (model.backend, dict(model.params), model.num_boost_round, model.early_stopping_rounds) == (
        "lightgbm",
        {"num_leaves": 8},
        200,
        None,
    )
    loss = fixed.loss.fixed()
    assert (loss.name, dict(loss.params)) == ("czar", {"alpha": 0.5})
    assert fixed.model.searched() == {}


def test_as_config_takes_a_config_or_a_validated_dict():
    cfg = validate_config({"model": {"params": {"num_leaves": 8}}})
    config = as_config(cfg)
    assert isinstance(config, Config) and as_config(config) is config
    assert fixed_model(config) == fixed_model(cfg) == ("lightgbm", {"num_leaves": 8})
    assert fixed_loss(config) == fixed_loss(cfg) == ("czar", {})


def test_with_value_returns_a_changed_copy(tmp_path):
    config = Config.from_validated(validate_config({}), path="c.toml")
    demeaned = config.with_value("data.target_transform", "demean").with_value("splits.gap", 0)
    assert demeaned.data.target_transform == "demean" and config.data.target_transform == "auto"
    assert demeaned.splits.gap is None and demeaned.path == "c.toml"
    assert config.with_value("model.early_stopping_rounds", 20).model.early_stopping_rounds == 20
    with pytest.raises(KeyError, match="'data.horizn' is not a key"):
        config.with_value("data.horizn", 3)

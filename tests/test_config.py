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
    ({"study": {"n_trials": "10"}}, r"study.n_trials must be a int; got '10'"),
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

"""Model specs: one parser, one check, one builder and one label for `evaluate`, `compare` and the config."""

import pytest

from czar_gbdt import specs
from czar_gbdt.losses import CZAR
from czar_gbdt.ranking import RankObjective


def test_parse_build_and_label_each_kind_of_spec():
    assert specs.parse_spec("czar:alpha=0.5, epsilon=1") == ("czar", {"alpha": 0.5, "epsilon": 1.0})
    assert specs.parse_spec("ranking:objective=rank_xendcg") == ("ranking", {"objective": "rank_xendcg"})
    assert specs.parse_spec(" builtin ") == ("builtin", {})
    cases = [
        ("builtin", {}, type(None), "xgboost built-in squared error"),
        ("ranking", {"bins": 10.0}, RankObjective, "xgboost rank:pairwise (10 grades per date)"),
        ("czar", {"alpha": 0.5}, CZAR, "CZAR(alpha=0.5, epsilon=1, tau=0.05)"),
    ]
    for name, params, kind, label in cases:
        specs.check_spec(name, params, "--loss", ["xgboost"])
        model = specs.build_model(name, params)
        assert isinstance(model, kind) and specs.model_label(model, "xgboost") == label
    derivatives = specs.build_model("czar", {"derivatives": "exact"})
    assert specs.model_label(derivatives, "lightgbm").endswith(", derivatives='exact')")


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("czr", {}, r"--loss: unknown loss 'czr' \(did you mean 'czar'\?\)"),
        ("builtin", {"alpha": 1.0}, r"'builtin' \(the backend's squared error\) takes no parameters"),
        ("ranking", {"bins": 2.5}, r"ranking bins must be an integer >= 2; got 2.5"),
        ("ranking", {"objective": "lambdarank"}, r"'lambdarank' is not a xgboost ranking objective"),
        ("zptae", {"gama": 2.0}, r"unknown parameter 'gama' \(did you mean 'gamma'\?\) of zptae"),
    ],
)
def test_check_names_the_key(name, params, message):
    with pytest.raises(specs.SpecError, match=message):
        specs.check_spec(name, params, "--loss", ["xgboost"])


def test_parse_refuses_malformed_specs():
    with pytest.raises(specs.SpecError, match=r"--loss: a loss spec is a string NAME\[:key=value,...\]"):
        specs.parse_spec("  ")
    with pytest.raises(specs.SpecError, match=r"compare.losses\[2\] 'czar:alpha': parameters are written key=value"):
        specs.parse_spec("czar:alpha", "compare.losses[2]")

"""The fingerprint of a study's configuration: computed from the typed configuration, byte for
byte the one the stored studies hold (version 3), and compared across versions on the shared keys."""

import json
import pathlib

import pytest

from czar_gbdt import __version__, fingerprint
from czar_gbdt.config import Config, load_config, validate_config

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: The fingerprints (with the holdout keys) that the dict-reading implementation of version 3 made
#: for every config under configs/ and the cases below, in its key order; ``{version}`` stands for the
#: package version (a package loss's definition names it).
EXPECTED = json.loads((pathlib.Path(__file__).parent / "fingerprints_v3.json").read_text())


def write_panel(folder: pathlib.Path) -> pathlib.Path:
    """A small long panel of fixed bytes (its content digest is part of the expected fingerprint)."""
    rows = ["date,asset,target,f1,f2,weight"]
    for d in range(1, 11):
        for a in ("A", "B", "C"):
            rows.append(f"2020-01-{d:02d},{a},{(d * 7 + ord(a)) % 11 / 100:.2f},{d / 10:.1f},{ord(a) % 5},1.0")
    path = folder / "panel.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


RAW_CASES = {
    "default": lambda panel: {},
    "searched": lambda panel: {
        "study": {"objective": "icir", "seed": 7},
        "splits": {"valid_size": 50, "train_size": 400, "gap": 10, "step": 100, "max_splits": 3},
        "model": {
            "backend": {"choices": ["lightgbm", "xgboost"]},
            "num_boost_round": {"low": 50, "high": 200, "step": 50},
            "early_stopping_rounds": {"choices": [0, 20]},
            "params": {
                "learning_rate": {"low": 0.01, "high": 0.3, "log": True},
                "max_depth": {"low": 2, "high": 6},
                "subsample": {"low": 0.5, "high": 1},
                "colsample_bytree": 0.8,
            },
        },
        "loss": {
            "name": {"choices": ["czar", "mse", "czar_gbdt.losses.extra:huber_z"]},
            "czar": {"alpha": {"low": 0, "high": 1}, "tau": 0.05},
        },
        "report": {"baselines": ["builtin"]},
        "compare": {"top_k": 3, "cost": 0.001},
    },
    "long_panel": lambda panel: {
        "data": {
            "source": panel,
            "start": "2020-01-02",
            "end": "2020-01-09",
            "horizon": 1,
            "target_transform": "zscore",
            "panel": {"feature_cols": ["f1", "f2"], "weight_col": "weight"},
        },
        "splits": {"min_train_size": 3, "test_size": 2, "holdout": 2, "valid_size": 2},
        "model": {"backend": "xgboost", "early_stopping_rounds": 5, "params": {"max_depth": 3}},
    },
    "wide_columns": lambda panel: {
        "data": {
            "wide": {"columns": ["Softw", "Hlth"], "values": "returns"},
            "features": {"windows": [1, 5]},
            "end": "2015-12-31",
            "target_transform": "raw",
        },
        "loss": {"name": "zptae", "zptae": {"gamma": 1.5}},
        "model": {"num_boost_round": 80},
    },
}


def _validated(case: str, tmp_path: pathlib.Path) -> dict:
    if case.startswith("configs/"):
        return load_config(ROOT / case)
    return validate_config(RAW_CASES[case](str(write_panel(tmp_path))))


def _expected_text(case: str) -> str:
    return json.dumps(EXPECTED[case]).replace("{version}", __version__)


def test_the_cases_cover_every_config_file():
    assert {c for c in EXPECTED if c.startswith("configs/")} == {
        f"configs/{p.name}" for p in (ROOT / "configs").glob("*.toml")
    }
    assert {c for c in EXPECTED if not c.startswith("configs/")} == set(RAW_CASES)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_the_typed_fingerprint_is_byte_identical_to_version_3(case, tmp_path):
    """The keys, their order and their values: what a stored study compares with."""
    cfg = _validated(case, tmp_path)
    typed = fingerprint.make(Config.from_validated(cfg), also=fingerprint.HOLDOUT_KEYS)
    assert json.dumps(typed) == _expected_text(case)
    assert json.dumps(fingerprint.make(cfg, also=fingerprint.HOLDOUT_KEYS)) == _expected_text(case)  # a dict too
    assert fingerprint.record(Config.from_validated(cfg)) == fingerprint.record(cfg)


def test_keys_keeps_only_those_keys():
    cfg = validate_config({})
    assert fingerprint.make(cfg, keys=["data.horizon", "study.seed"]) == {"data.horizon": 5, "study.seed": 0}


def test_the_fingerprint_follows_the_config():
    """A change of a key that matters shows in :func:`fingerprint.differences` (the ignored ones do not)."""
    base = fingerprint.make(validate_config({}))
    other = fingerprint.make(
        validate_config(
            {"model": {"params": {"num_leaves": {"low": 4, "high": 63}}}, "study": {"n_trials": 99, "name": "other"}}
        )
    )
    assert fingerprint.differences(base, other) == [
        ("model.params.num_leaves", None, {"low": 4, "high": 63, "log": False, "step": None, "int": True})
    ]
    assert "model.params.num_leaves (study: (not set); config: 4..63)" in fingerprint.describe(
        fingerprint.differences(base, other)
    )


# ------------------------------------------------------------------ versions and loss definitions


def test_the_fingerprint_holds_each_losss_definition():
    cfg = validate_config({"loss": {"name": {"choices": ["czar", "czar_gbdt.losses.extra:huber_z"]}}})
    keys = fingerprint.make(cfg)
    assert keys["loss.definition"]["czar"] == f"czar_gbdt.losses.regression.CZAR {__version__}"
    assert keys["loss.definition"]["huber_z"].startswith("define_loss sha256:")
    old = {"version": 2, "keys": {k: v for k, v in keys.items() if k != "loss.definition"}}
    assert fingerprint.record_differences(old, fingerprint.record(cfg)) == []  # an older study: not compared


def test_a_version_1_fingerprint_is_compared_on_the_keys_both_versions_hold():
    cfg = validate_config({})
    new = fingerprint.record(cfg)
    old = {"version": 1, "keys": {k: v for k, v in new["keys"].items() if k != "data.wide.columns"}}
    assert "data.wide.columns" in new["keys"] and fingerprint.VERSION >= 2
    assert fingerprint.record_differences(old, new) == []
    old["keys"]["data.horizon"] = 10
    assert fingerprint.record_differences(old, new) == [("data.horizon", 10, 5)]
    with_holdout = fingerprint.record(cfg, also=fingerprint.HOLDOUT_KEYS)
    assert with_holdout["keys"]["report.baselines"] == ["builtin", "ranking"]
    assert with_holdout["keys"]["compare.top_k"] == 5 and with_holdout["keys"]["compare.cost"] == 0.0005

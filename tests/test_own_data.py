"""Your own returns, end to end: wide tables from the command line, every data error before any
work (exit 2, nothing in the storage), studies that refuse another configuration, trials that fail."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from config_helpers import make_config, merged, small_study

from czar_gbdt import evaluation, fingerprint, tuning
from czar_gbdt.cli import main
from czar_gbdt.config import load_config
from czar_gbdt.datasets import DataError, load_panel, make_synthetic_returns, to_returns
from czar_gbdt.features import build_features

ROOT = Path(__file__).resolve().parents[1]

# 330 business days; the features need 59 dates of warm-up and the last 5 have no target:
# 266 labelled dates, of which the splits use 80 + 5 + 60 + 5 + 40 = 190 at the least.
LATE, DELISTED, GAP = "A00", "A11", ("A05", 150)  # listed late, delisted, a missing day (asset, row)


def wide_prices(n_dates=330, n_assets=12, seed=0):
    """Prices of a late-listing asset, a delisting asset and one with a missing day; NaN elsewhere never."""
    r = make_synthetic_returns(n_dates, n_assets, late_listing=1, delisting=1, seed=seed)
    prices = 100.0 * np.exp(np.log1p(r.fillna(0.0)).cumsum())
    prices[r.isna()] = np.nan
    prices.loc[prices.index[GAP[1]], GAP[0]] = np.nan
    return prices


def write(frame, path):
    frame.to_csv(path, index_label="date", float_format="%.17g")
    return path


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """The same data as prices, simple returns and log returns (CSV files), and the prices."""
    folder = tmp_path_factory.mktemp("wide")
    prices = wide_prices()
    simple = prices / prices.shift(1) - 1.0  # NaN where either price is missing: as to_returns does
    paths = {
        "prices": write(prices, folder / "prices.csv"),
        "returns": write(simple, folder / "returns.csv"),
        "log_returns": write(np.log(prices / prices.shift(1)), folder / "log_returns.csv"),
    }
    return paths, prices


def sections(tmp_path, data) -> dict:
    """The study 'mine' on ``data``: 2 folds of 60 dates, a 40-date holdout, 8 rounds, leaves and alpha searched."""
    return {
        "study": small_study("mine", tmp_path / "runs"),
        "data": {"source": data, "horizon": 5},
        "splits": {"test_size": 60, "min_train_size": 80, "holdout": 40, "max_splits": 2},
        "model": {
            "backend": "lightgbm",
            "num_boost_round": 8,
            "params": {
                "learning_rate": 0.1,
                "num_leaves": {"low": 3, "high": 6},
                "min_child_samples": 20,
                "num_threads": 1,
            },
        },
        "loss": {"name": "czar", "czar": {"alpha": {"low": 0.0, "high": 1.0}}},
        "compare": {"losses": ["builtin", "czar"], "ensemble": False, "top_k": 3},
    }


#: The edit that fixes the booster parameters (what evaluate and compare need).
FIXED = {"model": {"params": {"num_leaves": 4}}}


def config(tmp_path, source, name="mine.toml", /, **edits):
    """Write :func:`sections` on the file ``source`` with ``edits`` (:func:`config_helpers.merged`) to
    ``tmp_path / name``."""
    return make_config(tmp_path / name, **merged(sections(tmp_path, source), **edits))


def no_study(tmp_path):
    """Nothing was created: no runs folder, so no SQLite storage and no study in it."""
    return not (tmp_path / "runs").exists()


# ------------------------------------------------------------------ wide tables, end to end


def test_wide_table_through_tune_report_evaluate_and_compare(tmp_path, tables, capsys):
    paths, _ = tables
    cfg_path = config(tmp_path, paths["returns"])
    assert main(["tune", "--config", str(cfg_path), "--no-progress", "--format", "json"]) == 0
    captured = capsys.readouterr()
    tuned = json.loads(captured.out)
    assert tuned["n_trials"] == 2 and len(tuned["folds"]) == 2
    assert tuned["storage"] == f"sqlite:///{tmp_path / 'runs' / 'mine.db'}"
    assert "wide (returns; features built from the returns" in captured.err and "12 assets" in captured.err
    assert f"study 'mine' in sqlite:///{tmp_path / 'runs' / 'mine.db'}" in captured.err
    assert main(["report", "--config", str(cfg_path)]) == 0
    text = capsys.readouterr().out
    assert "holdout" in text and "evaluated once" in text and "sqlite:///" in text
    assert "loss czar (alpha=" in text and "epsilon=1, tau=0.05)" in text  # defaults printed with their values
    fixed = config(tmp_path, paths["returns"], "fixed.toml", study={"name": "fixed"}, **FIXED)
    assert main(["evaluate", "--config", str(fixed), "--loss", "builtin", "--loss", "czar", "--format", "json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [row["loss"] for row in table] == ["lightgbm built-in squared error", "CZAR(alpha=1, epsilon=1, tau=0.05)"]
    assert all(np.isfinite(row["top_k_net_spread"]) for row in table)
    assert main(["compare", "--config", str(fixed), "--study", str(cfg_path), "--no-progress", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    labels = [row["loss"] for row in out["table"]]
    assert len(labels) == 3 and labels[2].endswith(f"tuned (study mine, trial {tuned['best_trial']})")
    assert "its booster" in out["settings"]["study"] and "num_leaves=" in out["table"][2]["from_study"]


def test_missing_values_drop_rows_per_asset_and_date(tables):
    """A late listing, a delisting and a missing day drop exactly the rows whose windows or target
    need a missing price, asset by asset; nothing is filled (build_features is the FF49 code path)."""
    paths, prices = tables
    cfg = load_config(config(Path(paths["prices"]).parent, paths["prices"], data={"wide": {"values": "prices"}}))
    panel = evaluation.load_data(cfg)
    n = len(prices)
    for asset in prices.columns:
        # the row of date t needs the prices of t-60 .. t (60 returns: features, std) and t .. t+5 (target)
        have = prices[asset].notna().to_numpy()
        want = [prices.index[t] for t in range(60, n - 5) if have[t - 60 : t + 6].all()]
        got = list(panel.dates[np.asarray(panel.assets) == asset])
        assert got == want, asset
    assert len(panel.dates[np.asarray(panel.assets) == LATE]) < len(panel.dates[np.asarray(panel.assets) == "A01"])


def test_prices_returns_and_log_returns_give_the_same_panel(tmp_path, tables):
    paths, _ = tables
    panels = {}
    for values, path in paths.items():
        cfg = load_config(config(tmp_path, path, f"{values}.toml", data={"wide": {"values": values}}))
        panels[values] = evaluation.load_data(cfg)
    ref = panels["returns"]
    for values in ("prices", "log_returns"):
        p = panels[values]
        assert p.dates.equals(ref.dates) and p.assets.equals(ref.assets)
        np.testing.assert_allclose(p.y, ref.y, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(p.std, ref.std, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(p.X.to_numpy(), ref.X.to_numpy(), rtol=1e-8, atol=1e-10)


def test_a_wide_parquet_file_with_its_dates_as_the_index(tmp_path, tables):
    pytest.importorskip("pyarrow")
    paths, prices = tables
    path = tmp_path / "prices.parquet"
    prices.to_parquet(path)  # the dates are the index
    prices_edit = {"data": {"wide": {"values": "prices"}}}
    ref = evaluation.load_data(load_config(config(tmp_path, paths["prices"], "csv.toml", **prices_edit)))
    cfg = load_config(config(tmp_path, path, "parquet.toml", **prices_edit))
    assert evaluation.data_layout(cfg) == "wide"
    panel = evaluation.load_data(cfg)
    np.testing.assert_array_equal(panel.y, ref.y)
    assert panel.dates.equals(ref.dates)


def test_ff49_is_one_wide_table_through_the_same_path():
    """data.source = "ff49" and the same returns handed to build_features give the same panel."""
    cfg = load_config_dict({"data": {"start": "2021-06-01", "horizon": 3, "features": {"windows": [1, 5]}}})
    from czar_gbdt.datasets import load_ff49

    panel = evaluation.load_data(cfg)
    direct = build_features(load_ff49(), horizon=3, windows=(1, 5), vol_window=60)
    keep = direct.dates >= pd.Timestamp("2021-06-01")
    np.testing.assert_array_equal(panel.y, direct.y[keep])
    assert evaluation.data_layout(cfg) == "wide"


def load_config_dict(raw):
    from czar_gbdt.config import validate_config

    return validate_config(raw)


def test_auto_layout_and_long_panels_keep_working(tmp_path, tables):
    paths, _ = tables
    panel = evaluation.load_data(load_config(config(tmp_path, paths["returns"])))
    long = tmp_path / "long.csv"
    frame = panel.to_frame()
    frame.to_csv(long, index=False)
    cfg = load_config(config(tmp_path, long, "long.toml"))
    assert evaluation.data_layout(cfg) == "long"
    loaded = evaluation.load_data(cfg)
    # the std column is side data by default (not a feature), whatever the loss
    assert "std" not in loaded.feature_names and loaded.std is not None
    np.testing.assert_allclose(loaded.std, panel.std)
    assert loaded.info["side_columns"] == {"std": "std"}
    # listed as a feature, it stays a feature
    features = {"data": {"panel": {"feature_cols": [*panel.feature_names, "std"]}}}
    assert evaluation.load_data(load_config(config(tmp_path, long, "long.toml", **features))).std is None


# ------------------------------------------------------------------ every data error before any work


def _wide(paths):
    return pd.read_csv(paths["returns"])


def _long(paths, tmp_path):
    cfg = load_config(config(tmp_path, paths["returns"], "tmp.toml"))
    frame = evaluation.load_data(cfg).to_frame()
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    return frame


def _set(frame, row, col, value):
    frame[col] = frame[col].astype(object)
    frame.loc[row, col] = value
    return frame


WIDE_CASES = {
    "non-numeric": (
        lambda f: _set(f, 200, "A03", "abc"),
        ["column 'A03' has 'abc' at row 200 (date 2015-10-09, asset 'A03')"],
    ),
    "unsorted": (
        lambda f: f.iloc[[*range(100), 101, 100, *range(102, len(f))]].reset_index(drop=True),
        ["row 101 has 2015-05-22, which comes after 2015-05-25 at row 100", "Sort the file by date"],
    ),
    "duplicate date": (
        lambda f: _set(f, 101, "date", f.loc[100, "date"]),
        ["row 101 has 2015-05-22, which repeats 2015-05-22 at row 100"],
    ),
    "unparsable date": (
        lambda f: _set(f, 7, "date", "2015-13-45"),
        ["column 'date' could not be parsed as dates: row 7 has '2015-13-45'"],
    ),
    "infinite": (lambda f: _set(f, 30, "A02", np.inf), ["infinite values", "row 30 (date 2015-02-13, asset 'A02')"]),
    "return <= -1": (lambda f: _set(f, 40, "A04", -1.5), ["> -1; got -1.5 at row 40 (date 2015-02-27, asset 'A04')"]),
    "prices as returns": (
        lambda f: f.set_index("date").add(1.0).cumprod().mul(100).reset_index(),
        ["does not look like returns", 'data.wide.values = "prices"'],
    ),
    "index column": (
        lambda f: f.reset_index(),
        ["column 'index' could not be parsed as dates: row 0 has 0", 'data.wide.date_col = "date"'],
    ),
    "too few dates": (
        lambda f: f.iloc[:200],
        ["too few dates for the configured splits", "splits.min_train_size 80", "splits.holdout 40"],
    ),
}
# (a single asset is a series: data.target_transform = "auto" trains it on the raw return; an explicit
# "demean" or "zscore" on one is refused: tests/test_target_transform.py)


LONG_CASES = {
    "NaN target": (
        lambda f: _set(f, 500, "target", np.nan),
        ["target 'target' has 1 NaN/infinite values, the first at row 500 (date "],
    ),
    "std <= 0": (lambda f: _set(f, 600, "std", 0.0), ["std column 'std' must be finite and > 0", "row 600 (date "]),
    "unsorted": (
        lambda f: f.iloc[[*range(300), 400, *range(300, 400), *range(401, len(f))]].reset_index(drop=True),
        ["must be sorted ascending; row 301", "set data.panel.sort = true"],
    ),
    "duplicates": (
        lambda f: pd.concat([f, f.iloc[[700]]]).sort_values("date", kind="mergesort"),
        ["2 rows share a (date, asset) pair"],
    ),
    "non-numeric feature": (
        lambda f: _set(f, 900, "ret_5", "oops"),
        ["not numeric: 'ret_5'", "'oops' at row 900 (date "],
    ),
    "a std by another name": (
        lambda f: f.rename(columns={"std": "sigma"}),
        ["column 'sigma' looks like a per-row std", 'set data.panel.std_col = "sigma"'],
    ),
    "no std for CZAR": (
        lambda f: f.drop(columns="std"),
        ["needs a per-row std", "data.panel.std_col", 'data.target_transform = "zscore"'],
    ),
    "one asset on scored dates": (
        lambda f: f[(f["asset"] == "A01") | (f["date"] < "2016-01-01")],
        ["have fewer than 2 assets", "(assets: ['A01'])", "data.start"],
    ),
    "target column renamed": (
        lambda f: f.rename(columns={"target": "fwd"}),
        ["missing column(s) ['target']", 'data.panel.target_col = "target" names a column'],
    ),
}


def _refusal(cfg_path) -> str:
    """The message of the DataError that tune's data check raises on the config's data (checked
    directly: the command-line route of the same error is test_bad_data_exits_2_in_one_line_before_any_work)."""
    cfg = load_config(cfg_path)
    with pytest.raises(DataError) as info:
        evaluation.prepare_data(cfg, tuning.search_losses(cfg))
    return str(info.value)


@pytest.mark.parametrize("layout, case", [("wide", c) for c in WIDE_CASES] + [("long", c) for c in LONG_CASES])
def test_bad_data_is_refused_by_the_data_check(layout, case, tmp_path, tables):
    paths, _ = tables
    change, expected = (WIDE_CASES if layout == "wide" else LONG_CASES)[case]
    bad = tmp_path / "bad.csv"
    change(_wide(paths) if layout == "wide" else _long(paths, tmp_path)).to_csv(bad, index=False)
    message = _refusal(config(tmp_path, bad))
    assert "\n" not in message  # one line on the command line
    for fragment in expected:
        assert fragment in message, (fragment, message)
    assert no_study(tmp_path)


def test_bad_data_exits_2_in_one_line_before_any_work(tmp_path, tables, capsys):
    """tune on bad data: exit 2, the check's message as the one error line, no traceback, nothing created."""
    paths, _ = tables
    bad = tmp_path / "bad.csv"
    WIDE_CASES["unsorted"][0](_wide(paths)).to_csv(bad, index=False)
    cfg_path = config(tmp_path, bad)
    message = _refusal(cfg_path)
    assert main(["tune", "--config", str(cfg_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and [line for line in err.splitlines() if "error" in line] == [
        f"czar-gbdt tune: error: {message}"
    ]
    assert no_study(tmp_path)


def test_bad_data_is_refused_by_every_command(tmp_path, tables, capsys):
    """report, evaluate and compare refuse the same data, before anything is written."""
    paths, _ = tables
    bad = tmp_path / "bad.csv"
    _set(_wide(paths), 200, "A03", "abc").to_csv(bad, index=False)
    fixed = config(tmp_path, bad, "fixed.toml", **FIXED)
    for argv in (["evaluate", "--config", str(fixed)], ["compare", "--config", str(fixed), "--no-progress"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "column 'A03' has 'abc' at row 200" in err and "Traceback" not in err
    assert no_study(tmp_path)
    # a storage that holds another study: the bad data adds nothing to it
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    optuna.create_study(study_name="other", storage=url)
    assert main(["tune", "--config", str(config(tmp_path, bad)), "--storage", url, "--no-progress"]) == 2
    assert [s.study_name for s in optuna.get_all_study_summaries(url)] == ["other"]
    capsys.readouterr()
    # a study made on good data, whose file then goes bad: report refuses (naming the changed file)
    good = tmp_path / "good.csv"
    _wide(paths).to_csv(good, index=False)
    cfg_path = config(tmp_path, good)
    assert main(["tune", "--config", str(cfg_path), "--no-progress"]) == 0
    _set(_wide(paths), 200, "A03", "abc").to_csv(good, index=False)
    capsys.readouterr()
    assert main(["report", "--config", str(cfg_path)]) == 2
    err = capsys.readouterr().err
    assert "data.content_sha256" in err and "Traceback" not in err
    assert not (tmp_path / "runs" / "mine" / "holdout.json").exists()


def test_wide_table_with_one_asset_loads():
    """A single series is data (a later step decides what it can be scored with): it loads."""
    r = make_synthetic_returns(200, 1)
    panel = build_features(r, horizon=1)
    assert panel.assets.nunique() == 1 and len(panel) > 100
    assert len(to_returns(r)) == 200


def test_build_features_refuses_a_table_read_without_its_dates():
    """The integer index of a CSV read without index_col would become 1970 timestamps."""
    r = make_synthetic_returns(100, 4).reset_index()
    with pytest.raises(DataError, match=r"returns must have dates as its index; it holds numbers \(0, 1, 2"):
        build_features(r)
    with pytest.raises(DataError, match=r"column 'idx' does not look like returns"):
        build_features(make_synthetic_returns(100, 4).assign(idx=np.arange(100.0)))


# ------------------------------------------------------------------ long panels: side columns


def test_side_columns_are_recognised_and_lookalikes_refused(tables, tmp_path):
    paths, _ = tables
    frame = _long(paths, tmp_path).assign(weight=1.0)
    p = load_panel(frame, std_col="auto", mean_col="auto", weight_col="auto")
    assert p.std is not None and p.weight is not None and p.mean is None
    assert "std" not in p.feature_names and "weight" not in p.feature_names
    with pytest.raises(
        DataError,
        match=r"column 'sample_weight' looks like a per-row weight .* "
        r"pass weight_col='sample_weight'",
    ):
        load_panel(frame.rename(columns={"weight": "sample_weight"}), std_col="auto", weight_col="auto")
    # feature_cols listing a look-alike keeps it a feature
    p = load_panel(frame.rename(columns={"std": "sigma"}), std_col="auto", feature_cols=["ret_1", "sigma"])
    assert p.feature_names == ["ret_1", "sigma"] and p.std is None
    with pytest.warns(UserWarning, match=r"column 'std' is used as a feature because std_col is None"):
        load_panel(frame.drop(columns="weight"))


# ------------------------------------------------------------------ fingerprints


@pytest.fixture
def tuned(tmp_path, tables, capsys):
    """A study of 2 trials on a wide table; its config and a copy of the data it may edit."""
    paths, _ = tables
    data = tmp_path / "returns.csv"
    data.write_bytes(Path(paths["returns"]).read_bytes())
    cfg_path = config(tmp_path, data)
    assert main(["tune", "--config", str(cfg_path), "--no-progress"]) == 0
    capsys.readouterr()
    study = tuning.load_study(load_config(cfg_path))
    return cfg_path, data, [(t.number, t.params, t.value) for t in study.trials]


@pytest.mark.parametrize(
    "edit, key",
    [
        ({"model": {"params": {"num_leaves": {"low": 3, "high": 9}}}}, "model.params.num_leaves"),
        ({"splits": {"test_size": 50}}, "splits.test_size"),
        (
            {
                "model": {
                    "backend": "xgboost",
                    "params": {
                        "num_leaves": None,
                        "max_depth": {"low": 3, "high": 6},
                        "min_child_samples": None,
                        "min_child_weight": 1,
                        "num_threads": None,
                        "nthread": 1,
                    },
                }
            },
            "model.backend",
        ),
        ("data", "data.content_sha256"),
    ],
)
def test_a_changed_setup_is_refused_naming_the_key(edit, key, tuned, tmp_path, capsys):
    cfg_path, data, before = tuned
    if edit == "data":
        frame = pd.read_csv(data)
        frame.loc[100, "A01"] += 0.01
        frame.to_csv(data, index=False)
    else:
        config(tmp_path, data, **edit)
    assert main(["tune", "--config", str(cfg_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "was made with another configuration" in err and key in err and "new study.name" in err
    assert "Traceback" not in err
    assert main(["report", "--config", str(cfg_path)]) == 2
    assert key in capsys.readouterr().err
    fixed = config(tmp_path, data, "fixed.toml", study={"name": "fixed"}, **FIXED)
    assert main(["compare", "--config", str(fixed), "--study", str(cfg_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"--study '{cfg_path}'" in err and key in err
    study = tuning.load_study(load_config(cfg_path))
    assert [(t.number, t.params, t.value) for t in study.trials] == before  # nothing added
    # a new study name starts a new study with the edited setup
    config(tmp_path, data, **merged(edit if isinstance(edit, dict) else {}, study={"name": "mine_2"}))
    assert main(["tune", "--config", str(cfg_path), "--no-progress"]) == 0


def test_an_unchanged_rerun_resumes_and_a_moved_file_is_the_same_data(tuned, tmp_path, capsys):
    cfg_path, data, before = tuned
    moved = tmp_path / "moved.csv"
    data.rename(moved)
    config(tmp_path, moved)
    assert main(["tune", "--config", str(cfg_path), "--no-progress", "--trials", "3"]) == 0
    err = capsys.readouterr().err
    assert "resuming: the study holds 2 finished trials; running 1 more" in err
    study = tuning.load_study(load_config(cfg_path))
    assert [(t.number, t.params, t.value) for t in study.trials][:2] == before and len(study.trials) == 3
    assert main(["tune", "--config", str(cfg_path), "--no-progress", "--trials", "2"]) == 0
    err = capsys.readouterr().err
    assert "already holds 3 finished trials, and 2 were asked for (--trials is the total" in err
    stored = study.user_attrs[fingerprint.ATTR]
    cfg = load_config(cfg_path)
    resolved = evaluation.resolve_config(cfg, evaluation.prepare_data(cfg))  # data.target_transform "auto" as tune
    assert stored["keys"] == fingerprint.make(resolved)
    assert stored["keys"]["loss.czar.alpha"] == {"low": 0.0, "high": 1.0, "log": False, "step": None, "int": False}


def test_a_study_without_a_fingerprint_is_adopted(tmp_path, tables):
    """A study made before fingerprints were recorded: tune records the config's and says so."""
    paths, _ = tables
    cfg = load_config(config(tmp_path, paths["returns"]))
    study = tuning.open_study(cfg)
    study.enqueue_trial({"model.num_leaves": 4, "czar.alpha": 0.5})
    notes = []
    study = tuning.tune(cfg, show_progress=False, echo=notes.append)
    assert any("made before studies recorded their configuration" in n for n in notes)
    resolved = evaluation.resolve_config(cfg, evaluation.prepare_data(cfg))  # "auto" resolved, as tune records it
    assert study.user_attrs[fingerprint.ATTR]["keys"] == fingerprint.make(resolved)


# ------------------------------------------------------------------ failing trials, Ctrl-C


def _failing(messages):
    def factory(cfg):
        calls = iter(messages)

        def objective(trial):
            trial.suggest_float("x", 0.0, 1.0)
            exc = next(calls)
            if exc is None:
                return trial.params["x"]
            raise exc

        return objective

    return factory


def _toy_config(tmp_path):
    from czar_gbdt.config import validate_config

    return validate_config(
        {"study": {"name": "fails", "runs_dir": str(tmp_path), "n_trials": 4, "sampler": "random", "pruner": "none"}}
    )


def test_an_error_that_repeats_stops_the_study_once(tmp_path):
    cfg = _toy_config(tmp_path)
    lines = []
    factory = _failing([ValueError("first"), None, ValueError("again"), ValueError("again"), None])
    with pytest.raises(
        tuning.StudyStopped,
        match=r"trial 3 failed with ValueError: again; the trial before failed "
        r"with the same error",
    ) as info:
        tuning.tune(cfg, objective_factory=factory, show_progress=False, echo=lines.append)
    assert not info.value.usage
    study = tuning.load_study(cfg)
    assert [t.state.name for t in study.trials] == ["FAIL", "COMPLETE", "FAIL", "FAIL"]
    assert study.trials[0].user_attrs["error"] == "ValueError: first"
    assert "Traceback" in study.trials[0].user_attrs["traceback"]
    assert [line.split(":")[0] for line in lines if "failed" in line] == ["trial 0 failed", "trial 2 failed"]
    # the next run starts again (the problem may be fixed): it completes the study
    study = tuning.tune(cfg, objective_factory=_failing([None] * 4), show_progress=False)
    assert len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) == 4


def test_an_error_that_does_not_depend_on_the_parameters_stops_at_once(tmp_path, monkeypatch, capsys):
    cfg = _toy_config(tmp_path)
    with pytest.raises(tuning.StudyStopped, match="it does not depend on the trial's parameters") as info:
        tuning.tune(cfg, objective_factory=_failing([DataError("bad rows")]), show_progress=False)
    assert info.value.usage
    assert len(tuning.load_study(cfg).trials) == 1
    # from the command line: one line, no traceback, exit 1 for an error of the code
    path = make_config(
        tmp_path / "fails.toml",
        study={"name": "cli", "runs_dir": tmp_path, "n_trials": 3},
        data={"start": "2019-01-01"},
        splits={"test_size": 100, "min_train_size": 200, "holdout": 50, "max_splits": 1},
    )
    monkeypatch.setattr(tuning.run, "make_objective", _failing([TypeError("a bug in a loss")] * 3))
    assert main(["tune", "--config", str(path), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "czar-gbdt tune: error: trial 0 failed with TypeError: a bug in a loss" in err
    assert "Traceback" not in err and "failed with parameters" not in err  # optuna's own lines are not shown


@pytest.mark.slow
def test_ctrl_c_prints_one_line(tmp_path):
    path = make_config(
        tmp_path / "long.toml",
        study={"name": "ctrl_c", "runs_dir": tmp_path, "n_trials": 500, "sampler": "random"},
        data={"start": "2016-01-01"},
        splits={"test_size": 120, "min_train_size": 400, "holdout": 120, "max_splits": 2},
        model={"num_boost_round": 20, "params": {"num_threads": 1}},
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "czar_gbdt.cli", "tune", "--config", str(path), "--no-progress"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    study_cfg = load_config(path)
    deadline = time.time() + 120
    # the storage exists once tune names it (polling before would race its creation)
    while time.time() < deadline and not any(line.startswith("study 'ctrl_c' in") for line in list(lines)):
        time.sleep(0.2)
    while time.time() < deadline and tuning.count_trials(tuning.load_study(study_cfg), states=None) < 2:
        time.sleep(0.2)  # trials are running
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    reader.join(timeout=10)
    err = "".join(lines)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.count("interrupted") == 1 and "re-run the same command to resume" in err


# ------------------------------------------------------------------ net is net, messages


def test_tune_and_report_score_the_book_net_of_the_one_cost(tmp_path, tables, capsys):
    paths, _ = tables
    cfg_path = config(tmp_path, paths["returns"], compare={"cost": 0.01})
    assert main(["tune", "--config", str(cfg_path), "--no-progress", "--format", "json"]) == 0
    folds = json.loads(capsys.readouterr().out)["folds"]
    for fold in folds:  # compare.cost, not 0, outside compare too
        assert fold["top_k_net_spread"] == pytest.approx(fold["top_k_spread"] - 0.01 * fold["top_k_turnover"])
    assert main(["report", "--config", str(cfg_path), "--format", "json"]) == 0
    holdout = json.loads(capsys.readouterr().out)["holdout"]
    assert holdout["top_k_net_spread"] == pytest.approx(holdout["top_k_spread"] - 0.01 * holdout["top_k_turnover"])


def test_zscore_labels_train_a_loss_that_needs_std(tmp_path, tables):
    """zscore labels are in units of the cross-sectional std: a z-space loss trains on them with std 1
    (it used to fail in every trial for want of a std)."""
    paths, _ = tables
    cfg = load_config(config(tmp_path, paths["returns"], data={"target_transform": "zscore"}, **FIXED))
    table = evaluation.evaluate_losses(cfg, [("czar", {})])
    assert np.isfinite(table["mean_rank_ic"].iloc[0])


def test_warm_up_says_it_is_compiling_when_that_is_slow():
    import czar_gbdt as cg

    lines = []
    seconds = evaluation.warm_up(
        [cg.get_loss("czar"), cg.get_loss("focal")], ("lightgbm",), on_slow=lines.append, after=0.0
    )
    assert seconds > 0 and len(lines) == 1 and lines[0].startswith("compiling the numba kernels")
    lines.clear()
    evaluation.warm_up([cg.get_loss("czar")], ("lightgbm",), on_slow=lines.append, after=60.0)
    assert lines == []


def test_the_missing_dates_hint_names_dates():
    import czar_gbdt as cg
    from czar_gbdt import lightgbm as clx

    X, y, std = np.random.default_rng(0).normal(size=(60, 2)), np.linspace(-1, 1, 60), np.ones(60)
    train = clx.Dataset(X, y, std=std)
    valid = clx.Dataset(X, y, std=std, reference=train)
    with pytest.raises(
        ValueError,
        match=r"dates is required by metric 'rank_ic' but an eval Dataset has none: build "
        r"it with czar_gbdt.lightgbm.Dataset\(X, y, dates=...\)",
    ):
        clx.train({"verbose": -1}, train, 2, objective=cg.CZAR(), valid_sets=[valid], metric="rank_ic")

"""czar-gbdt fit / predict, cg.fit_model / cg.load_model: the bundle, its forecasts, and what they refuse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from study_helpers import FF49_TINY, study_table

import czar_gbdt as cg
from czar_gbdt import bundle
from czar_gbdt.cli import main
from czar_gbdt.datasets import load_ff49
from czar_gbdt.forecast import chosen_rounds

#: A few FF49 industries, a short date range: a fixed configuration (no study needed).
ASSETS = ["Agric", "Food", "Soda", "Beer", "Smoke", "Toys", "Fun", "Books"]

PARAMS = {
    "lightgbm": "num_leaves = 4\nlearning_rate = 0.1\nnum_threads = 1",
    "xgboost": "max_depth = 2\nlearning_rate = 0.1\nnthread = 1",
    "catboost": "depth = 2\nlearning_rate = 0.1\nthread_count = 1",
}

USER_MODULE = """
import czar_gbdt as cg


def _huber(zt, zp, delta=1.0):
    r = zp - zt
    return cg.where(abs(r) <= delta, 0.5 * r**2, delta * (abs(r) - 0.5 * delta))


huber = cg.define_loss("huber_fit", _huber, params={"delta": (0.05, 10.0)}, hessian="gauss_newton")
"""


def fixed_config(
    tmp_path,
    *,
    backend="lightgbm",
    loss="czar",
    source="ff49",
    extra_data="",
    rounds=8,
    name="fx",
    splits="",
    model_extra="",
    wide=True,
):
    columns = ", ".join(f'"{a}"' for a in ASSETS)
    wide = f"[data.wide]\ncolumns = [{columns}]\n" if wide else ""
    path = tmp_path / f"{name}.toml"
    path.write_text(f"""
[study]
name = "{name}"
runs_dir = "{tmp_path / "runs"}"
seed = 3
[data]
source = "{source}"
start = "2020-01-01"
horizon = 5
{extra_data}
{wide}
[splits]
test_size = 40
min_train_size = 120
holdout = 40
max_splits = 2
{splits}
[model]
backend = "{backend}"
num_boost_round = {rounds}
{model_extra}
[model.params]
{PARAMS[backend]}
[loss]
name = "{loss}"
""")
    return path


def wide_csv(tmp_path, end=None, name="returns.csv"):
    """The FF49 table (decimals) of ASSETS from 2019 on, cut after ``end``: what a user's file holds."""
    returns = load_ff49().loc["2019-06-01":, ASSETS]
    if end is not None:
        returns = returns.loc[:end]
    path = tmp_path / name
    returns.to_csv(path)
    return path


LOAD_AND_PREDICT = """
import sys, numpy as np, czar_gbdt as cg
for folder, out in zip(sys.argv[2::2], sys.argv[3::2]):
    frame = cg.load_model(folder).predict(sys.argv[1], dates=30)
    np.save(out, frame["forecast"].to_numpy())
    assert "optuna" not in sys.modules and "czar_gbdt.config" not in sys.modules
"""


# --------------------------------------------------------------------------- fit, save, load, predict
@pytest.mark.slow
def test_fit_then_load_in_a_fresh_process_gives_the_in_memory_forecasts(tmp_path):
    """Every backend, with CZAR and with a loss written with define_loss (by import path): the
    bundle loaded in a fresh process forecasts what the in-memory model does, to 1e-12."""
    (tmp_path / "my_fit_losses.py").write_text(USER_MODULE)
    data = wide_csv(tmp_path)
    jobs, want = [], {}
    for backend in ("lightgbm", "xgboost", "catboost"):
        for loss in ("czar", "my_fit_losses:huber"):
            cfg = fixed_config(tmp_path, backend=backend, loss=loss, name=f"{backend}_{loss.split(':')[0]}")
            model = cg.fit_model(cfg)
            assert model.card["backend"] == backend and model.card["model"]["spec"] == loss
            if backend == "catboost":  # a z-space model: the std is built from the data, as in training
                assert model.card["prediction_needs"]["std"] == "features"
            frame = model.predict(str(data), dates=30)
            assert frame["date"].nunique() == 30 and set(frame["asset"]) == set(ASSETS)
            assert frame["forecast"].std() > 0
            folder = model.save(tmp_path / "bundles" / f"{backend}_{loss.split(':')[0]}")
            assert sorted(os.listdir(folder)) == sorted(["model.json", bundle.NATIVE_FILES[backend]])
            out = tmp_path / f"{folder.name}.npy"
            jobs += [str(folder), str(out)]
            want[out] = frame["forecast"].to_numpy()
    run = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(data), *jobs],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert run.returncode == 0, run.stderr
    for out, expected in want.items():
        np.testing.assert_allclose(np.load(out), expected, rtol=0, atol=1e-12, err_msg=out.name)


def test_forecasts_are_causal_a_file_cut_at_d_forecasts_d_as_the_full_file_does(tmp_path):
    model = cg.fit_model(fixed_config(tmp_path, backend="catboost"))  # features and the std from the data
    full = model.predict(str(wide_csv(tmp_path)), dates="all")
    for d in ("2020-06-30", "2021-03-15", "2021-12-31"):
        cut = model.predict(str(wide_csv(tmp_path, end=d, name=f"cut_{d}.csv")))  # dates="last"
        assert (cut["date"] == pd.Timestamp(d)).all() and list(cut["asset"]) == ASSETS
        ref = full[full["date"] == pd.Timestamp(d)]
        np.testing.assert_allclose(cut["forecast"].to_numpy(), ref["forecast"].to_numpy(), rtol=0, atol=1e-12)
        np.testing.assert_array_equal(cut["rank"].to_numpy(), ref["rank"].to_numpy())
    last = full[full["date"] == full["date"].max()]
    assert last["rank"].min() == 0 and last["rank"].max() == 1


def test_one_series_gives_one_forecast_for_the_next_period(tmp_path):
    """A one-column wide table of prices (Allora-style): one forecast, and the daily loop appends a price."""
    prices = 100 * (1 + load_ff49().loc["2019-06-01":, "Softw"]).cumprod()
    prices.to_frame("BTC").to_csv(tmp_path / "prices.csv")
    cfg = fixed_config(
        tmp_path,
        source=str(tmp_path / "prices.csv"),
        extra_data='target_transform = "raw"\n[data.wide]\nvalues = "prices"',
        name="one",
        wide=False,
    )
    model = cg.fit_model(cfg)
    frame = model.predict(str(tmp_path / "prices.csv"))
    assert list(frame.columns) == ["date", "asset", "forecast"] and len(frame) == 1
    tomorrow = pd.concat(
        [prices.to_frame("BTC"), pd.DataFrame({"BTC": [prices.iloc[-1] * 1.01]}, index=[pd.Timestamp("2022-01-03")])]
    )
    after = model.predict(tomorrow)  # a DataFrame with a DatetimeIndex
    assert after["date"].tolist() == [pd.Timestamp("2022-01-03")]
    assert model.predict(tomorrow, dates=2)["forecast"].iloc[0] == pytest.approx(frame["forecast"].iloc[0], abs=1e-12)


def test_early_stopping_trains_the_median_of_the_folds_rounds(tmp_path):
    assert chosen_rounds([10, 30, 20]) == 20 and chosen_rounds([10, 21]) == 16 and chosen_rounds([0]) == 1
    cfg = fixed_config(tmp_path, rounds=60, splits="valid_size = 30", model_extra="early_stopping_rounds = 3")
    model = cg.fit_model(cfg)  # a fixed configuration: its walk-forward runs to choose the rounds
    folds = model.card["chosen_by"]["folds"]
    assert len(folds) == 2 and model.card["chosen_by"]["study"] is None
    assert model.card["rounds"] == chosen_rounds([f["rounds"] for f in folds]) < 60
    assert "median" in model.card["rounds_rule"]
    # a study: the rounds its trial's folds stopped at, as the study stored them
    searched = cfg.read_text().replace("learning_rate = 0.1", "learning_rate = { low = 0.05, high = 0.3 }")
    cfg.write_text(searched.replace("seed = 3", "seed = 3\nn_trials = 1"))
    assert main(["tune", "--config", str(cfg), "--no-progress"]) == 0
    model = cg.fit_model(cfg)
    folds = model.card["chosen_by"]["folds"]
    assert model.card["chosen_by"]["study"] == "fx" and len(folds) == 2
    assert model.card["rounds"] == chosen_rounds([f["rounds"] for f in folds])


# --------------------------------------------------------------------------- the CLI chain
def test_cli_tune_report_fit_predict_writes_one_forecast_per_industry(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    small = (
        FF49_TINY.replace("num_boost_round = 20", "num_boost_round = 10") + '\n[report]\nbaselines = ["builtin"]\n'
    )  # one trial, one baseline: the chain, not the search
    config.write_text(
        ("\n" + study_table("chain").replace("n_trials = 2", "n_trials = 1") + small).format(runs=tmp_path / "runs")
    )
    assert main(["tune", "--config", str(config), "--no-progress"]) == 0
    assert main(["report", "--config", str(config)]) == 0
    capsys.readouterr()
    env = {**os.environ, "PYTHONPATH": ""}
    fit = subprocess.run(
        [sys.executable, "-m", "czar_gbdt.cli", "fit", "--config", str(config)], capture_output=True, text=True, env=env
    )
    assert fit.returncode == 0, fit.stderr
    assert "saw the holdout" in fit.stdout and "chosen by study 'chain'" in fit.stdout
    folder = tmp_path / "runs" / "chain" / "model"
    card = json.loads((folder / "model.json").read_text())
    assert card["training"]["holdout_included"] and card["chosen_by"]["holdout"]["trial"] == card["chosen_by"]["trial"]
    assert card["chosen_by"]["fingerprint"]["keys"]["data.content_sha256"]
    load_ff49().to_csv(tmp_path / "ff49.csv")
    out = tmp_path / "forecasts.csv"
    pred = subprocess.run(
        [
            sys.executable,
            "-m",
            "czar_gbdt.cli",
            "predict",
            "--model",
            str(folder),
            "--data",
            str(tmp_path / "ff49.csv"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert pred.returncode == 0, pred.stderr
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["date", "asset", "forecast", "rank"]
    assert len(frame) == 49 and frame["asset"].is_unique and (frame["date"] == "2021-12-31").all()
    assert main(["fit", "--config", str(config), "--trial", "99"]) == 2
    assert "has no trial #99" in capsys.readouterr().err
    # another configuration than the study's is refused, as report refuses it
    config.write_text(config.read_text().replace('start = "2017-01-01"', 'start = "2017-02-01"'))
    assert main(["fit", "--config", str(config), "--trial", "0"]) == 2
    assert "made with another configuration" in capsys.readouterr().err


# --------------------------------------------------------------------------- what predict refuses
@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """A wide-table model and a long-panel model, saved."""
    root = tmp_path_factory.mktemp("bundles")
    wide = cg.fit_model(fixed_config(root, rounds=4)).save(root / "wide")
    long_frame = cg.fit_model(fixed_config(root, rounds=2)).predict("ff49", dates="all")  # any numbers will do
    rng = np.random.default_rng(0)
    panel = long_frame.rename(columns={"forecast": "f0", "rank": "f1"}).assign(target=rng.normal(size=len(long_frame)))
    panel.to_csv(root / "panel.csv", index=False)
    long = cg.fit_model(
        fixed_config(root, source=str(root / "panel.csv"), rounds=4, loss="mse", name="long", wide=False)
    ).save(root / "long")
    return root, wide, long


def _predict(argv, capsys):
    code = main(["predict", *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", ["missing_feature", "warm_up", "missing_asset", "dates"])
def test_data_that_cannot_be_forecast_exits_2_with_one_line_and_writes_nothing(bundles, tmp_path, capsys, case):
    root, wide, long = bundles
    out = tmp_path / "out.csv"
    if case == "missing_feature":
        pd.read_csv(root / "panel.csv").drop(columns="f1").to_csv(tmp_path / "p.csv", index=False)
        argv, expect = ["--model", str(long), "--data", str(tmp_path / "p.csv")], "feature column(s) ['f1']"
    elif case == "warm_up":
        load_ff49().loc["2021-11-01":, ASSETS].to_csv(tmp_path / "short.csv")
        argv, expect = ["--model", str(wide), "--data", str(tmp_path / "short.csv")], "needs 60 dates"
    elif case == "missing_asset":
        load_ff49().loc["2021-01-01":, ASSETS[:-1]].to_csv(tmp_path / "few.csv")
        argv, expect = ["--model", str(wide), "--data", str(tmp_path / "few.csv")], "asset(s) ['Books']"
    else:
        argv, expect = ["--model", str(wide), "--data", str(wide_csv(tmp_path)), "--dates", "yesterday"], "--dates"
    code, err = _predict([*argv, "--out", str(out)], capsys)
    assert code == 2 and expect in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_an_asset_missing_on_the_date_is_left_out_and_named(bundles, tmp_path, capsys):
    _, wide, _ = bundles
    returns = load_ff49().loc["2021-01-01":, ASSETS].copy()
    returns.loc["2021-12-31", "Beer"] = np.nan
    returns.to_parquet(tmp_path / "gap.parquet")
    code, err = _predict(
        ["--model", str(wide), "--data", str(tmp_path / "gap.parquet"), "--out", str(tmp_path / "f.parquet")], capsys
    )
    assert code == 0 and "Beer (2021-12-31)" in err
    frame = pd.read_parquet(tmp_path / "f.parquet")
    assert sorted(frame["asset"]) == sorted(set(ASSETS) - {"Beer"})


def test_a_truncated_bundle_and_one_from_another_version_are_refused(bundles, tmp_path, capsys):
    import shutil

    _, wide, _ = bundles
    data = str(wide_csv(tmp_path))
    native = tmp_path / "native"
    shutil.copytree(wide, native)
    text = (native / "model.txt").read_bytes()
    (native / "model.txt").write_bytes(text[: len(text) // 2])
    card = tmp_path / "card"
    shutil.copytree(wide, card)
    (card / "model.json").write_text((card / "model.json").read_text()[:200])
    other = tmp_path / "other"
    shutil.copytree(wide, other)
    meta = json.loads((other / "model.json").read_text())
    (other / "model.json").write_text(json.dumps({**meta, "format": 99, "czar_gbdt": "9.0.0"}))
    for folder, expect in (
        (native, "missing, truncated or altered"),
        (card, "not a complete model card"),
        (other, f"written by czar-gbdt 9.0.0 (bundle format 99); this is czar-gbdt {cg.__version__}"),
    ):
        code, err = _predict(["--model", str(folder), "--data", data], capsys)
        assert code == 2 and expect in err and len(err.strip().splitlines()) == 1, err
        with pytest.raises(bundle.BundleError):
            cg.load_model(folder)


def test_save_replaces_a_bundle_atomically(bundles, tmp_path):
    _, wide, _ = bundles
    model = cg.load_model(wide)
    target = model.save(tmp_path / "m")
    first = (target / "model.json").read_text()
    model.save(target)  # over an existing bundle: replaced, no temporary folder left behind
    assert (target / "model.json").read_text() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    assert "lightgbm" in repr(model) and model.booster.num_trees() == 4


@pytest.mark.slow
def test_import_czar_gbdt_stays_light():
    code = textwrap.dedent("""
        import sys, czar_gbdt as cg
        assert "czar_gbdt.bundle" not in sys.modules and "optuna" not in sys.modules
        assert callable(cg.load_model) and callable(cg.fit_model) and cg.Model.__name__ == "Model"
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


# --------------------------------------------------------------------------- a Dask cluster
def test_fit_on_a_cluster_saves_a_bundle_that_forecasts_as_the_in_memory_fit(dask_client, tmp_path):
    """[cluster] engine = "dask": trained on the cluster, saved like any other; its forecasts match the
    in-memory fit of the same configuration within the Dask tests' tolerance (tests/test_dask.py)."""
    from dask_helpers import FEATURES, panel_frame, write_parquet_folder
    from scipy.stats import spearmanr

    frame = panel_frame(n_dates=100, n_assets=30, seed=7)
    write_parquet_folder(frame, tmp_path / "folder", n_files=2)
    frame.to_parquet(tmp_path / "single.parquet", index=False)
    text = f"""
[study]
name = "cl"
runs_dir = "{tmp_path / "runs"}"
[data]
source = "{tmp_path / "folder"}"
horizon = 1
target_transform = "demean"
[data.panel]
std_col = "std"
weight_col = "weight"
[splits]
min_train_size = 40
test_size = 20
holdout = 20
[model]
backend = "xgboost"
num_boost_round = 15
[model.params]
max_depth = 3
learning_rate = 0.1
min_child_weight = 20
[loss]
name = "czar"
[cluster]
engine = "dask"
scheduler = "{dask_client.scheduler.address}"
"""
    (tmp_path / "cluster.toml").write_text(text)
    (tmp_path / "local.toml").write_text(
        text.replace(str(tmp_path / "folder"), str(tmp_path / "single.parquet")).replace(
            'engine = "dask"', 'engine = "local"'
        )
    )
    assert main(["fit", "--config", str(tmp_path / "cluster.toml"), "--out", str(tmp_path / "on_cluster")]) == 0
    on_cluster = cg.load_model(tmp_path / "on_cluster")
    assert on_cluster.card["training"]["engine"] == "dask" and on_cluster.card["features"]["feature_cols"] == FEATURES
    in_memory = cg.fit_model(tmp_path / "local.toml")
    data = str(tmp_path / "single.parquet")
    got, want = on_cluster.predict(data, dates="all"), in_memory.predict(data, dates="all")
    assert len(got) == len(frame) and (got[["date", "asset"]].to_numpy() == want[["date", "asset"]].to_numpy()).all()
    assert spearmanr(got["forecast"], want["forecast"])[0] > 0.99
    np.testing.assert_allclose(got["forecast"], want["forecast"], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    ("backend", "spec"),
    [("lightgbm", "builtin"), ("xgboost", "ranking"), ("catboost", "builtin"), ("catboost", "ranking:bins=3")],
)
def test_builtin_and_ranking_models_are_saved_and_loaded(tmp_path, backend, spec):
    """A config without search ranges and fit --loss: the backend's own squared error and its ranking objective."""
    cfg = fixed_config(tmp_path, backend=backend, rounds=5)
    assert main(["fit", "--config", str(cfg), "--loss", spec, "--out", str(tmp_path / "m")]) == 0
    model = cg.load_model(tmp_path / "m")
    assert model.card["model"]["spec"] == spec.split(":")[0]
    assert model.card["model"]["output"] == ("score" if spec.startswith("ranking") else "forecast")
    in_memory = cg.fit_model(cfg, loss=spec)
    data = str(wide_csv(tmp_path))
    np.testing.assert_allclose(
        model.predict(data, dates=10)["forecast"], in_memory.predict(data, dates=10)["forecast"], rtol=0, atol=1e-12
    )

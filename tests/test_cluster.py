"""[cluster] engine = "dask": config checks, the lazy panel, the CLI's evaluate/compare/tune/report on a cluster."""

import json
import os
import threading
import uuid

import numpy as np
import pandas as pd
import pytest
from optuna.trial import TrialState

pytest.importorskip("distributed")

from dask_helpers import FEATURES, is_training_task, kill_worker_when, panel_frame, write_parquet_folder  # noqa: E402

from czar_gbdt import cluster, tuning  # noqa: E402
from czar_gbdt.cli import main  # noqa: E402
from czar_gbdt.config import ConfigError, validate_config  # noqa: E402
from czar_gbdt.datasets import DataError  # noqa: E402

PG_URL = os.environ.get("CZAR_GBDT_PG_URL")


def config_text(source, runs, *, scheduler="", backend="xgboost", extra="", name="cl"):
    params = (
        "max_depth = 3\nlearning_rate = 0.1\nmin_child_weight = 20"
        if backend == "xgboost"
        else "num_leaves = 7\nlearning_rate = 0.1\nmin_data_in_leaf = 50"
    )
    return f"""
[study]
name = "{name}"
runs_dir = "{runs}"
n_trials = 2
sampler = "random"
pruner = "none"
{extra}
[data]
source = "{source}"
horizon = 1
target_transform = "demean"
[data.panel]
std_col = "std"
weight_col = "weight"
[splits]
min_train_size = 60
test_size = 20
holdout = 20
max_splits = 2
[model]
backend = "{backend}"
num_boost_round = 15
[model.params]
{params}
[loss]
name = "czar"
[cluster]
engine = "dask"
scheduler = "{scheduler}"
n_workers = 2
memory_limit = "1GiB"
"""


@pytest.fixture(scope="module")
def parquet_panel(tmp_path_factory):
    """One panel written twice: a folder of 3 files cut at row counts (dates straddle files) and one file."""
    root = tmp_path_factory.mktemp("panel")
    frame = panel_frame(n_dates=130, n_assets=40, seed=5)
    write_parquet_folder(frame, root / "folder", n_files=3)
    frame.to_parquet(root / "single.parquet", index=False)
    return frame, root / "folder", root / "single.parquet"


# --------------------------------------------------------------------------- config
def _raw(source, **cluster):
    return {"data": {"source": str(source)}, "model": {"backend": "xgboost"}, "cluster": {"engine": "dask", **cluster}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cluster": {"engine": "spark"}}, r"cluster.engine must be one of \('local', 'dask'\); got 'spark'"),
        ({"cluster": {"scheduler": "host:8786"}}, "cluster.scheduler must be a Dask scheduler address"),
        ({"cluster": {"n_workers": 0}}, "cluster.n_workers must be >= 1; got 0"),
        ({"cluster": {"memory_limit": "lots"}}, "cluster.memory_limit must be 'auto', a size"),
        ({"data": {"source": "ff49"}}, "data.source: cluster.engine = 'dask' reads a long panel lazily from Parquet"),
        ({"model": {"backend": "catboost"}}, "model.backend: 'catboost' has no Dask interface"),
        (
            {"model": {"backend": "lightgbm", "early_stopping_rounds": 5}, "splits": {"valid_size": 10}},
            "model.early_stopping_rounds: LightGBM's Dask interface has no early stopping",
        ),
        ({"loss": {"name": "soft_f1"}}, "loss.name: 'soft_f1' cannot train on a Dask cluster: its gradients need"),
    ],
)
def test_cluster_config_errors_name_the_key(parquet_panel, change, message):
    _, folder, _ = parquet_panel
    raw = _raw(folder)
    for section, values in change.items():
        raw.setdefault(section, {}).update(values)
    with pytest.raises(ConfigError, match=message):
        validate_config(raw)


def test_a_folder_is_a_source_on_a_cluster_only(parquet_panel):
    _, folder, _ = parquet_panel
    assert validate_config(_raw(folder))["cluster"]["engine"] == "dask"
    with pytest.raises(ConfigError, match="data.source: no such file"):
        validate_config({"data": {"source": str(folder)}})
    assert validate_config({})["cluster"] == {
        "engine": "local",
        "scheduler": "",
        "n_workers": 2,
        "threads_per_worker": 1,
        "memory_limit": "auto",
    }


# --------------------------------------------------------------------------- the lazy panel
def test_lazy_panel_puts_every_date_inside_one_partition(dask_client, parquet_panel, tmp_path):
    frame, folder, _ = parquet_panel
    cfg = validate_config(
        {
            **_raw(folder, scheduler=dask_client.scheduler.address),
            "data": {"source": str(folder), "panel": {"std_col": "std", "weight_col": "weight"}, "start": "2015-01-05"},
        }
    )
    panel = cluster.load_data(cfg)
    assert panel.features == FEATURES and len(panel.dates) == 128 and len(panel) == 128 * 40  # from Monday 5th
    assert panel.frame.npartitions > 2
    seen = []
    for i in range(panel.frame.npartitions):
        seen.append(panel.frame.partitions[i].index.unique().compute())
    dates = pd.DatetimeIndex(np.concatenate(seen))
    assert dates.is_unique and dates.equals(panel.dates)  # no date in two partitions, none lost
    window = panel.window(10, 30)
    scored = panel.collect(window)
    want = frame[frame["date"].isin(panel.dates[10:30])]
    np.testing.assert_array_equal(scored.y, want["target"].to_numpy())
    np.testing.assert_array_equal(scored.assets, want["asset"].to_numpy())


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("unsorted", r"dates in 'date' must be sorted ascending; row 160 has 2015-01-01 after 2015-02-11 at row 159"),
        (
            "nan_target",
            r"target 'target' has 1 NaN/infinite values, the first at row 179 \(date 2015-02-02, asset a003\)",
        ),
        (
            "bad_std",
            r"std column 'std' must be finite and > 0; 1 rows are not, the first at row 41 \(date 2015-01-08, "
            r"asset a001\) \(value 0.0\)",
        ),
        (
            "duplicate",
            r"2 rows share a \(date, asset\) pair with another row, e.g. \(2015-01-02, a000\); .* The first "
            r"duplicated row is row 8",
        ),
        (
            "category",
            r"feature columns must be numeric or bool on a Dask cluster \(pandas 'category' trains in memory\); "
            r"'category': 'f1'",
        ),
    ],
)
def test_lazy_panel_errors_name_row_date_and_asset(dask_client, tmp_path, damage, message):
    """The rows are numbered in the whole table (the second of two files starts at row 120), as in memory."""
    frame = panel_frame(n_dates=30, n_assets=8)
    if damage == "unsorted":
        frame = pd.concat([frame.iloc[80:], frame.iloc[:80]])
    elif damage == "nan_target":
        frame.loc[(frame["date"] == "2015-02-02") & (frame["asset"] == "a003"), "target"] = np.nan
    elif damage == "bad_std":
        frame.loc[(frame["date"] == "2015-01-08") & (frame["asset"] == "a001"), "std"] = 0.0
    elif damage == "category":
        frame["f1"] = frame["f1"].astype("category")
    else:
        frame.loc[frame.index[9], "asset"] = "a000"
    write_parquet_folder(frame, tmp_path / "p", n_files=2)
    cfg = validate_config(
        {
            **_raw(tmp_path / "p", scheduler=dask_client.scheduler.address),
            "data": {"source": str(tmp_path / "p"), "panel": {"std_col": "std"}},
        }
    )
    with pytest.raises(DataError, match=message):
        cluster.load_data(cfg)


def _bad_panel(frame: pd.DataFrame, fault: str) -> pd.DataFrame:
    if fault == "non_numeric":  # text in a feature column, in the second of three files
        frame = frame.assign(f1=frame["f1"].map(str))
        frame.loc[frame.index[100], "f1"] = "n/a"
    elif fault == "unsorted":  # dates go backwards where the third file starts
        frame = pd.concat([frame.iloc[160:], frame.iloc[:160]], ignore_index=True)
    else:  # the configuration's std_col = "std", and the file has none
        frame = frame.drop(columns="std")
    return frame


@pytest.fixture(scope="module")
def bad_panels(tmp_path_factory):
    """Each bad panel as one Parquet file (read in memory) and a folder of three files (read on a cluster)."""
    root = tmp_path_factory.mktemp("bad")
    out = {}
    for fault in ("non_numeric", "unsorted", "missing_side"):
        frame = _bad_panel(panel_frame(n_dates=30, n_assets=8), fault)
        frame.to_parquet(root / f"{fault}.parquet", index=False)
        write_parquet_folder(frame, root / fault, n_files=3)
        out[fault] = (root / f"{fault}.parquet", root / fault)
    return out


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("non_numeric", "feature columns must be numeric (or bool / pandas 'category'); not numeric: 'f1' "),
        ("unsorted", "dates in 'date' must be sorted ascending; row 80 has 2015-01-01 after 2015-02-11 at row 79"),
        ("missing_side", "missing column(s) ['std']; available columns: "),
    ],
)
def test_a_bad_parquet_panel_on_a_cluster_exits_2_with_the_in_memory_message(
    dask_client, bad_panels, tmp_path, capsys, fault, message
):
    """Issue 23: the cluster path calls the in-memory data rules, so the CLI on a cluster prints the same one
    line (rows numbered in the whole table) and exits 2, without a traceback."""
    single, folder = bad_panels[fault]
    errors = {}
    for engine, source in (("local", single), ("dask", folder)):
        path = tmp_path / f"{engine}.toml"
        path.write_text(
            config_text(source, tmp_path / "runs", scheduler=dask_client.scheduler.address).replace(
                'engine = "dask"', f'engine = "{engine}"'
            )
        )
        assert main(["evaluate", "--config", str(path), "--loss", "czar", "--format", "json"]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        errors[engine] = err.replace(str(source), "SOURCE")
    assert errors["dask"] == errors["local"]
    assert errors["dask"].startswith(f"czar-gbdt evaluate: error: SOURCE: {message}")


# --------------------------------------------------------------------------- the commands
def test_the_cluster_reads_a_typed_config_and_resolves_auto_labels_on_its_panel(dask_client, parquet_panel):
    """A Config and its dict share the cluster's panel; a ModelSpec's "auto" labels are resolved on the lazy
    panel as in memory (a cross-section: demean)."""
    from czar_gbdt import get_loss
    from czar_gbdt.config import as_config
    from czar_gbdt.evaluation import FoldScoring, ModelSpec
    from czar_gbdt.model_selection import WalkForward

    _, folder, _ = parquet_panel
    cfg = validate_config(_raw(folder, scheduler=dask_client.scheduler.address))
    typed = as_config(cfg)
    assert cluster.engine(typed) is cluster and typed.data.target_transform == "auto"
    panel = cluster.load_data(typed)
    assert cluster.load_data(cfg) is panel
    splitter = WalkForward(horizon=1, test_size=20, min_train_size=60, max_splits=1)
    auto, demean = (
        cluster.walk_forward(
            panel,
            splitter,
            ModelSpec("xgboost", {"max_depth": 2}, get_loss("czar"), num_boost_round=3, target_transform=transform),
            FoldScoring(top_k=3),
        ).folds
        for transform in ("auto", "demean")
    )
    pd.testing.assert_frame_equal(auto, demean)


def test_evaluate_on_a_cluster_equals_the_in_memory_evaluation(parquet_panel, tmp_path, capsys):
    """czar-gbdt evaluate, [cluster] engine = "dask" with a LocalCluster of 2 workers started from the config."""
    _, folder, single = parquet_panel
    path = tmp_path / "cluster.toml"
    path.write_text(config_text(folder, tmp_path / "runs"))
    assert main(["evaluate", "--config", str(path), "--loss", "czar", "--loss", "builtin", "--format", "json"]) == 0
    on_cluster = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert (tmp_path / "runs" / "cl" / "evaluate.csv").is_file()
    local = tmp_path / "local.toml"
    local.write_text(config_text(single, tmp_path / "runs_local").replace('engine = "dask"', 'engine = "local"'))
    assert main(["evaluate", "--config", str(local), "--loss", "czar", "--loss", "builtin", "--format", "json"]) == 0
    in_memory = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert list(on_cluster["loss"]) == list(in_memory["loss"])
    assert (on_cluster["n_dates"] == 40).all() and (on_cluster["n_folds"] == 2).all()
    for column in ("mean_rank_ic", "icir", "t_stat", "directional_accuracy"):
        np.testing.assert_allclose(on_cluster[column], in_memory[column], rtol=0, atol=1e-6, err_msg=column)


def test_lightgbm_on_a_cluster_keeps_its_info_lines_off_stdout(parquet_panel, tmp_path, capfd):
    """Issue 21 (5): the workers of a cluster the command starts share its standard output; LightGBM's
    network set-up logs "[LightGBM] [Info] ..." there before it reads verbose = -1. The JSON on stdout
    stays JSON."""
    _, folder, _ = parquet_panel
    path = tmp_path / "lgb.toml"
    path.write_text(config_text(folder, tmp_path / "runs", backend="lightgbm"))
    assert main(["evaluate", "--config", str(path), "--loss", "builtin", "--format", "json"]) == 0
    out, err = capfd.readouterr()
    assert "[Info]" not in out and json.loads(out)[0]["n_folds"] == 2
    assert f"wrote {tmp_path / 'runs' / 'cl' / 'evaluate.csv'}" in err  # stdout holds the JSON alone


def test_compare_tune_and_report_on_a_cluster(dask_client, parquet_panel, tmp_path, capsys):
    _, folder, _ = parquet_panel
    path = tmp_path / "cluster.toml"
    path.write_text(
        config_text(
            folder,
            tmp_path / "runs",
            scheduler=dask_client.scheduler.address,
            backend="lightgbm",
            name=f"cmp_{uuid.uuid4().hex[:6]}",
        )
    )
    assert (
        main(
            [
                "compare",
                "--config",
                str(path),
                "--loss",
                "builtin",
                "--loss",
                "czar",
                "--loss",
                "mse",
                "--no-progress",
                "--format",
                "json",
            ]
        )
        == 0
    )
    table = json.loads(capsys.readouterr().out)
    assert len(table["table"] if isinstance(table, dict) else table) == 4  # three models and their ensemble
    assert main(["tune", "--config", str(path), "--no-progress", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_trials"] == 2
    assert main(["report", "--config", str(path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["holdout_status"] == "evaluated" and report["holdout"]["n_dates"] == 20
    # the bake-off trains the tuned model and the builtin baseline on the cluster; the ranking baseline is left out
    bakeoff = report["bakeoff"]
    assert len(bakeoff["models"]) == 2 and len(bakeoff["left_out"]) == 1
    assert "not trained on a Dask cluster" in bakeoff["scoring"]
    assert main(["compare", "--config", str(path), "--loss", "ranking", "--no-progress"]) == 2
    assert "ranking objectives are not trained on a Dask cluster" in capsys.readouterr().err


def test_tuner_retries_a_trial_whose_cluster_lost_a_worker(parquet_panel, tmp_path):
    """A real SIGKILL of a worker process during a trial's training: the trial is failed and retried
    with the same parameters, and the study ends with every trial it asked for."""
    distributed = pytest.importorskip("distributed")
    _, folder, _ = parquet_panel
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="1GiB", processes=True, dashboard_address=None
        ) as local,
        distributed.Client(local) as client,
    ):
        client.wait_for_workers(2)
        path = tmp_path / "cluster.toml"
        path.write_text(
            config_text(
                folder, tmp_path / "runs", scheduler=local.scheduler_address, name=f"kill_{uuid.uuid4().hex[:6]}"
            )
            .replace("num_boost_round = 15", "num_boost_round = 800")
            .replace("min_child_weight = 20", "min_child_weight = 0")
            .replace("max_depth = 3", "max_depth = 8")
        )
        box = {}
        killer = threading.Thread(
            target=lambda: box.update(kill=kill_worker_when(client, is_training_task, 0.5)), daemon=True
        )
        killer.start()
        study = tuning.tune(str(path), show_progress=False)
        killer.join(5)
        assert "kill" in box
        failed = study.get_trials(states=(TrialState.FAIL,))
        assert len(failed) == 1 and "left the cluster" in failed[0].user_attrs["retry_reason"]
        done = study.get_trials(states=(TrialState.COMPLETE,))
        assert len(done) == 2
        (retry,) = [t for t in done if t.system_attrs.get("failed_trial") == failed[0].number]
        assert retry.params == failed[0].params
        assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
        cluster.close_clients()  # the tuner's client of this scheduler, before it goes


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="set CZAR_GBDT_PG_URL for the PostgreSQL tests")
def test_two_tuner_processes_share_one_cluster_through_postgres(dask_client, parquet_panel, tmp_path):
    _, folder, _ = parquet_panel
    path = tmp_path / "cluster.toml"
    path.write_text(
        config_text(
            folder,
            tmp_path / "runs",
            scheduler=dask_client.scheduler.address,
            name=f"pg_{uuid.uuid4().hex[:6]}",
            extra=f'storage = "{PG_URL}"',
        ).replace("n_trials = 2", "n_trials = 4")
    )
    study = tuning.tune(str(path), workers=2, show_progress=False)
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(done) == 4 and len({t.user_attrs["worker_pid"] for t in done}) == 2

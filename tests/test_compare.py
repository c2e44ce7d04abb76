"""`czar-gbdt compare`: the table, the rank-average ensemble, the ranking competitor, files, errors, notebook."""

import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from config_helpers import make_config, small_study

from czar_gbdt import compare, evaluation, metrics, tuning
from czar_gbdt.cli import main
from czar_gbdt.compare import stats
from czar_gbdt.config import ConfigError, validate_config
from czar_gbdt.datasets import make_synthetic_panel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def panel_csv(tmp_path_factory):
    """A synthetic panel with a planted signal (rank IC 0.15 per date), as a user's CSV file."""
    panel = make_synthetic_panel(n_dates=300, n_assets=20, n_features=5, signal_ic=0.15, vol_dispersion=0.3, seed=7)
    path = tmp_path_factory.mktemp("data") / "panel.csv"
    panel.to_frame().to_csv(path, index=False)
    return path


def _config(tmp_path, data, losses=("builtin", "zptae", "czar", "czar:alpha=0.5", "ranking")):
    """The comparison 'cmp' on ``data``: 2 folds of 60 dates, a 30-date holdout, 25 rounds, fixed parameters."""
    return make_config(
        tmp_path / "cmp.toml",
        study={"name": "cmp", "runs_dir": tmp_path / "runs", "seed": 1},
        data={"source": data, "horizon": 5, "target_transform": "demean", "panel": {"std_col": "std"}},
        splits={"test_size": 60, "gap": 5, "min_train_size": 120, "holdout": 30, "max_splits": 2},
        model={
            "backend": "lightgbm",
            "num_boost_round": 25,
            "params": {"learning_rate": 0.1, "num_leaves": 7, "min_child_samples": 40, "num_threads": 1},
        },
        compare={"losses": list(losses), "top_k": 3, "cost": 0.001},
    )


@pytest.fixture(scope="module")
def result(tmp_path_factory, panel_csv):
    from czar_gbdt.config import load_config

    tmp = tmp_path_factory.mktemp("cmp")
    cfg = load_config(_config(tmp, panel_csv))
    return compare.compare_losses(cfg), tmp / "runs" / "cmp", cfg


def test_table_columns_and_values(result):
    res, _, _ = result
    table = res.table
    assert list(table.columns) == [c for c in compare.TABLE_COLUMNS]
    assert list(table["loss"]) == [
        "lightgbm built-in squared error",
        "ZPTAE(alpha=0.25, beta=2, gamma=4, penalty_norm=0.01" + table["loss"][1].split("penalty_norm=0.01")[1],
        "CZAR(alpha=1, epsilon=1, tau=0.05)",
        "CZAR(alpha=0.5, epsilon=1, tau=0.05)",
        "lightgbm lambdarank (5 grades per date)",
        "rank-average ensemble of the 5 models above",
    ]
    assert (table["n_folds"] == 2).all() and (table["n_dates"] == 120).all()
    for _, row in table.iterrows():
        assert row["t_stat_nw"] == pytest.approx(metrics.newey_west_t(res.per_date[row["loss"]], 4), rel=1e-12)
        assert abs(row["t_stat_nw"]) < abs(row["t_stat"]) * 1.2
    # the planted signal is found by every model
    assert (table["mean_rank_ic"] > 0.05).all(), table[["loss", "mean_rank_ic"]]
    # summary columns follow from the per-date series
    for _, row in table.iterrows():
        s = res.per_date[row["loss"]]
        assert row["mean_rank_ic"] == pytest.approx(s.mean(), abs=1e-12)
        assert row["icir"] == pytest.approx(s.mean() / s.std(ddof=1), rel=1e-9)
        assert row["t_stat"] == pytest.approx(row["icir"] * np.sqrt(120), rel=1e-9)
    # forecasts have signs and losses; scores (ranking, ensemble) do not
    forecasts = table.iloc[:4]
    assert forecasts[["directional_accuracy", "test_czar_loss", "test_zptae_loss"]].notna().all().all()
    assert ((forecasts["directional_accuracy"] > 0.5) & (forecasts["directional_accuracy"] < 0.7)).all()
    assert table.iloc[4:][["directional_accuracy", "test_czar_loss", "test_zptae_loss"]].isna().all().all()
    # costs only lower the spread
    assert (table["top_k_net_spread"] < table["top_k_spread"]).all()
    assert table["vs_ranking"].iloc[4] == "(reference)" and table["diff_vs_ranking"].iloc[4] == 0.0
    ranking = res.per_date["lightgbm lambdarank (5 grades per date)"]
    for _, row in table.drop(index=4).iterrows():
        d = res.per_date[row["loss"]] - ranking
        assert row["diff_vs_ranking"] == pytest.approx(d.mean(), abs=1e-12)
        assert row["t_vs_ranking"] == pytest.approx(metrics.newey_west_t(d, 4), rel=1e-12)
        assert row["vs_ranking"] == stats.verdict_word(
            d.mean(), row["t_vs_ranking"], (row["mean_rank_ic"], ranking.mean())
        )


def test_test_losses_are_the_mean_czar_and_zptae_losses(result):
    from czar_gbdt.losses import get_loss

    res, _, cfg = result
    member = res.members[2]  # CZAR(alpha=1)
    panel = evaluation.load_data(cfg)
    rows = panel.X.index.get_indexer(member.result.predictions.index)
    test = panel.subset(rows)
    y = test.training_target("demean")
    pred = member.result.predictions.to_numpy()
    want = get_loss("czar", alpha=0.0)(y, pred, std=test.std)
    assert res.table["test_czar_loss"].iloc[2] == pytest.approx(want, rel=1e-9)
    want = get_loss("zptae")(y, pred, std=test.std)
    assert res.table["test_zptae_loss"].iloc[2] == pytest.approx(want, rel=1e-9)


def test_ensemble_is_the_rank_average(result):
    res, _, cfg = result
    members, ensemble = res.members[:-1], res.members[-1]
    preds = pd.concat([m.result.predictions.rename(i) for i, m in enumerate(members)], axis=1)
    dates = preds.index.get_level_values("date")
    ranks = preds.groupby(dates).rank(method="average", pct=True)
    direct = ranks.mean(axis=1)
    np.testing.assert_allclose(ensemble.result.predictions.to_numpy(), direct.to_numpy(), rtol=0, atol=1e-12)
    # and it is scored like any model
    panel = evaluation.load_data(cfg)
    test = panel.subset(panel.X.index.get_indexer(preds.index))
    want = metrics.rank_ic(test.y, direct.to_numpy(), dates=test.dates).mean
    assert ensemble.result.mean_rank_ic == pytest.approx(want, abs=1e-12)
    assert res.table["mean_rank_ic"].iloc[-1] == pytest.approx(want, abs=1e-12)
    # rank_average itself, on ties: average ranks
    got = compare.rank_average([np.array([1.0, 1.0, 3.0, 5.0]), np.array([4.0, 3.0, 2.0, 1.0])], np.array([0, 0, 0, 1]))
    np.testing.assert_allclose(got, [(0.5 + 1) / 2, (0.5 + 2 / 3) / 2, (1 + 1 / 3) / 2, 1.0])
    with pytest.raises(ValueError, match=r"predictions\[1\] has shape \(2,\)"):
        compare.rank_average([np.zeros(3), np.zeros(2)], np.zeros(3))


def test_files_are_written(result):
    res, out, _ = result
    names = sorted(Path(f).name for f in res.files)
    assert names == sorted(
        [
            "compare.csv",
            "compare_folds.csv",
            "compare_rank_ic.csv",
            "compare_table.png",
            "compare_fold_rank_ic.png",
            "compare_cumulative_rank_ic.png",
        ]
    )
    for f in res.files:
        assert Path(f).parent == out and Path(f).stat().st_size > 500
        if f.endswith(".png"):
            assert Path(f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = pd.read_csv(out / "compare.csv")
    assert list(saved.columns) == list(res.table.columns)
    np.testing.assert_allclose(saved["mean_rank_ic"], res.table["mean_rank_ic"])
    folds = pd.read_csv(out / "compare_folds.csv")
    assert len(folds) == 6 * 2 and {"loss", "fold", "rank_ic", "test_czar_loss"} <= set(folds.columns)


def test_verdict_words_and_sentences(result):
    res, _, _ = result
    assert stats.verdict_word(0.01, 2.5) == "beats it"
    assert stats.verdict_word(0.01, 1.0).startswith("higher, not significant")
    assert stats.verdict_word(-0.01, -0.5) == "does NOT beat it"
    assert stats.verdict_word(-0.01, -3.0) == "does NOT beat it (significantly lower)"
    # two negative rank ICs: neither forecasts, whichever is less wrong (and however significant)
    for diff, t in ((0.01, 1.0), (0.01, 2.5), (-0.01, -3.0)):
        assert stats.verdict_word(diff, t, (-0.004, -0.014), "the holdout") == (
            "neither forecasts the holdout (both rank ICs negative)"
        )
    assert stats.verdict_word(0.01, 1.0, (0.004, -0.006)).startswith("higher, not significant")
    # one sentence per CZAR model and reference (ranking, built-in), consistent with the table
    assert len(res.verdicts) == 4
    table = res.table.set_index("loss")
    for v in res.verdicts:
        label = v.split(" vs ")[0]
        if "lambdarank" in v:
            assert v.endswith(table.loc[label, "vs_ranking"] + ".")


def test_printed_table_fits_120_columns_with_a_legend_of_the_full_names(result, capsys):
    """Issue 21 (5): short names in the printed table, full names in the CSV and in a legend; the top-k net
    spread in bp; the directional accuracy of a forecast against the raw target, of a score none."""
    res, out, cfg = result
    compare.print_comparison(res)
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert max(map(len, lines[:-6])) <= 120, max(lines, key=len)  # the last 6: the files written, full paths
    header, rows = lines[0].split(), [line.split() for line in lines[1:7]]
    assert [r[0] for r in rows] == ["builtin", "zptae", "czar", "czar:alpha=0.5", "ranking", "ensemble"]
    assert header[:2] == ["model", "rank"] and "bp" in header and "raw" in header
    for short, full in zip([r[0] for r in rows], res.table["loss"]):
        assert any(line.split(maxsplit=1) == [short, full] for line in lines[7:14]), (short, full)
    assert list(pd.read_csv(out / "compare.csv")["loss"]) == list(res.table["loss"])
    for r, (_, row) in zip(rows, res.table.iterrows()):
        assert r[8] == f"{row['top_k_net_spread'] * 1e4:.1f}"
    # directional accuracy: the sign of each forecast against the raw target's, pooled over the test rows
    panel = evaluation.load_data(cfg)
    for m, (_, row) in zip(res.members, res.table.iterrows()):
        if m.kind == "score":
            assert np.isnan(row["directional_accuracy"])
            continue
        pred = m.result.predictions
        y = pd.Series(panel.y, index=panel.X.index).reindex(pred.index).to_numpy()
        assert row["directional_accuracy"] == pytest.approx(metrics.directional_accuracy(y, pred.to_numpy()), abs=1e-12)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"compare": {"losses": ["czr"]}}, r"compare.losses\[0\]: unknown loss 'czr' \(did you mean 'czar'\?\)"),
        (
            {"compare": {"losses": ["builtin", "czar:alpa=0.5"]}},
            r"compare.losses\[1\]: unknown parameter 'alpa' \(did you mean 'alpha'\?\) of czar",
        ),
        ({"compare": {"losses": ["czar:alpha=1.5"]}}, r"compare.losses\[0\]: alpha must be in \[0, 1\]; got 1.5"),
        (
            {"compare": {"losses": ["czar:alpha"]}},
            r"compare.losses\[0\] 'czar:alpha': parameters are written key=value",
        ),
        ({"compare": {"losses": ["ranking:bins=1"]}}, r"compare.losses\[0\]: n_bins must be an integer >= 2; got 1"),
        (
            {"compare": {"losses": ["ranking:objective=rank:pairwise"]}},
            r"compare.losses\[0\]: objective 'rank:pairwise' is not a lightgbm ranking objective",
        ),
        ({"compare": {"losses": ["czar", "czar"]}}, r"compare.losses\[1\]: 'czar' is listed twice"),
        ({"compare": {"losses": []}}, r"compare.losses must be a non-empty list"),
        ({"compare": {"losess": ["czar"]}}, r"unknown key 'compare.losess' \(did you mean 'losses'\?\)"),
        ({"compare": {"top_k": 0}}, r"compare.top_k must be > 0; got 0"),
        ({"compare": {"cost": -0.1}}, r"compare.cost must be >= 0"),
        ({"compare": {"eval_alpha": 1.5}}, r"compare.eval_alpha must be in \[0, 1\]"),
        ({"compare": {"ensemble": "yes"}}, r"compare.ensemble must be a bool; got 'yes'"),
    ],
)
def test_bad_compare_config_names_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(raw)


def test_search_spaces_and_bad_studies_are_refused(tmp_path, panel_csv):
    cfg = validate_config({"model": {"params": {"learning_rate": {"low": 0.01, "high": 0.1}}}})
    with pytest.raises(ConfigError, match="model.params.learning_rate is a search space"):
        compare.compare_losses(cfg, write=False)
    with pytest.raises(ConfigError, match=r"--study: '.*missing.json' is not a file"):
        compare.compare_losses(validate_config({}), study=str(tmp_path / "missing.json"), write=False)
    best = tmp_path / "best_params.json"
    best.write_text(json.dumps({"study": "s", "best_trial": 3, "best_params": {"loss": "mse", "loss_params": {}}}))
    with pytest.raises(ConfigError, match="used loss 'mse', not czar"):
        tuning.best_czar_params(best)
    best.write_text(
        json.dumps(
            {
                "study": "s",
                "best_trial": 3,
                "best_params": {"loss": "czar", "loss_params": {"alpha": 0.3, "epsilon": 0.5}},
            }
        )
    )
    assert tuning.best_czar_params(best) == ({"alpha": 0.3, "epsilon": 0.5}, "study s, trial 3")
    toml = tmp_path / "study.toml"
    make_config(toml, study={"name": "nothing", "runs_dir": tmp_path / "runs"})
    with pytest.raises(ConfigError, match="has no storage yet"):
        tuning.best_czar_params(toml)


def _study(path, data, name="tiny_study"):
    """A study searching the loss (czar or mse), CZAR's alpha and the leaves: 2 folds, 15 rounds."""
    return make_config(
        path,
        study=small_study(name, path.parent / "runs"),
        data={"source": data, "horizon": 5, "panel": {"std_col": "std"}},
        splits={"test_size": 60, "min_train_size": 120, "holdout": 30, "max_splits": 2},
        model={
            "backend": "lightgbm",
            "num_boost_round": 15,
            "params": {"learning_rate": 0.1, "num_leaves": {"low": 3, "high": 8}, "num_threads": 1},
        },
        loss={"name": {"choices": ["czar", "mse"]}, "czar": {"alpha": {"low": 0.0, "high": 1.0}, "epsilon": 0.5}},
    )


def test_study_toml_route_takes_the_best_czar_trial(tmp_path, panel_csv):
    """`compare.study` / `--study` with a study's TOML: the best *CZAR* trial, not the best trial."""
    import optuna

    from czar_gbdt.config import load_config

    path = _study(tmp_path / "study.toml", panel_csv)
    study_cfg = load_config(path)
    study = tuning.open_study(study_cfg)
    for alpha, leaves in ((0.9, 8), (0.1, 3)):  # two real CZAR trials with different parameters
        study.enqueue_trial({"loss.name": "czar", "czar.alpha": alpha, "model.num_leaves": leaves})
    study = tuning.tune(study_cfg, show_progress=False)
    done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(done) == 2 and done[0].value != done[1].value
    best = max(done, key=lambda t: t.value)
    # trials a study searching several losses may also hold: a better non-CZAR one (skipped),
    # a worse CZAR one after it (neither the first nor the last CZAR trial is the best one)
    dist = {
        "model.num_leaves": optuna.distributions.IntDistribution(3, 8),
        "loss.name": optuna.distributions.CategoricalDistribution(["czar", "mse"]),
        "czar.alpha": optuna.distributions.FloatDistribution(0.0, 1.0),
    }
    study.add_trial(
        optuna.trial.create_trial(
            params={"model.num_leaves": 5, "loss.name": "mse"},
            distributions={k: dist[k] for k in ("model.num_leaves", "loss.name")},
            value=best.value + 0.5,
        )
    )
    study.add_trial(
        optuna.trial.create_trial(
            params={"model.num_leaves": 4, "loss.name": "czar", "czar.alpha": 0.5},
            distributions=dist,
            value=min(t.value for t in done) - 0.5,
        )
    )
    assert study.best_trial.params["loss.name"] == "mse"
    czar_numbers = [t.number for t in study.trials if t.params["loss.name"] == "czar"]
    assert len(czar_numbers) == 3 and best.number not in (czar_numbers[0], czar_numbers[-1])
    params, source = tuning.best_czar_params(path)
    assert params == {"alpha": best.params["czar.alpha"], "epsilon": 0.5}
    assert params["alpha"] in (0.1, 0.9)
    assert source == f"study tiny_study, trial {best.number}"
    # the --study route of compare adds it as the last model, labelled with its source
    cfg = load_config(_config(tmp_path, panel_csv))
    specs = compare.model_specs(cfg, ["builtin"], str(path))
    assert specs[-1] == (
        "study",
        "czar",
        params,
        f"CZAR(alpha={params['alpha']:.3g}, epsilon=0.5, tau=0.05), tuned ({source})",
    )
    # a study with no completed CZAR trial is refused
    other = _study(tmp_path / "other.toml", panel_csv, name="mse_only")
    mse_study = tuning.open_study(load_config(other))
    mse_study.add_trial(
        optuna.trial.create_trial(
            params={"model.num_leaves": 5, "loss.name": "mse"},
            value=0.1,
            distributions={k: dist[k] for k in ("model.num_leaves", "loss.name")},
        )
    )
    with pytest.raises(ConfigError, match="study 'mse_only' has no completed CZAR trial"):
        tuning.best_czar_params(other)


def test_cli_compare_on_a_user_panel_with_a_tuned_study(tmp_path, panel_csv, capsys):
    config = _config(tmp_path, "ff49", losses=["builtin", "czar"])
    best = tmp_path / "best_params.json"
    best.write_text(
        json.dumps({"study": "tuned", "best_trial": 7, "best_params": {"loss": "czar", "loss_params": {"alpha": 0.25}}})
    )
    argv = [
        "compare",
        "--config",
        str(config),
        "--data",
        str(panel_csv),
        "--study",
        str(best),
        "--no-progress",
        "--format",
        "json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    labels = [row["loss"] for row in out["table"]]
    assert labels == [
        "lightgbm built-in squared error",
        "CZAR(alpha=1, epsilon=1, tau=0.05)",
        "CZAR(alpha=0.25, epsilon=1, tau=0.05), tuned (study tuned, trial 7)",
        "rank-average ensemble of the 3 models above",
    ]
    assert out["settings"]["data"] == str(panel_csv)
    assert "vs_ranking" not in out["table"][0]  # no ranking objective compared: no such column
    assert len(out["files"]) == 6 and all(Path(f).is_file() for f in out["files"])


def test_cli_compare_exit_codes(tmp_path, panel_csv, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[compare]\nlosses = ["czar", "zptea"]\n')
    assert main(["compare", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "compare.losses[1]: unknown loss 'zptea' (did you mean 'zptae'?)" in err and "Traceback" not in err
    good = _config(tmp_path, "ff49")
    assert main(["compare", "--config", str(good), "--data", str(tmp_path / "nope.csv")]) == 2
    assert "--data: no such file" in capsys.readouterr().err
    no_std = tmp_path / "panel.csv"
    pd.read_csv(panel_csv).drop(columns="std").to_csv(no_std, index=False)
    assert main(["compare", "--config", str(good), "--data", str(no_std)]) == 2
    assert "missing column(s) ['std']" in capsys.readouterr().err
    assert main(["compare", "--config", str(good), "--loss", "czar:alpha=2"]) == 2
    assert "--loss 'czar:alpha=2': alpha must be in [0, 1]" in capsys.readouterr().err
    assert main(["compare", "--config", str(good), "--study", str(tmp_path / "x.json")]) == 2
    assert main(["compare"]) == 2
    assert main(["compare", "--help"]) == 0
    text = capsys.readouterr().out
    for flag in ("--config", "--data", "--study", "--loss", "--format"):
        assert flag in text


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_notebook_runs_top_to_bottom_in_quick_mode(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    source = ROOT / "notebooks" / "zptae_vs_czar.ipynb"
    nb = nbformat.read(source, as_version=4)
    monkeypatch.setenv("CZAR_NOTEBOOK_MODE", "quick")
    monkeypatch.setenv("CZAR_NOTEBOOK_CONFIG", str(ROOT / "configs" / "compare_ff49.toml"))
    monkeypatch.setenv("CZAR_NOTEBOOK_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    committed = source.read_bytes()
    start = time.perf_counter()
    client = nbclient.NotebookClient(
        nb, timeout=170, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, tmp_path / "executed.ipynb")  # a copy: the committed notebook keeps its full-run outputs
    assert elapsed < 180, f"quick mode took {elapsed:.0f} s"
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "MODE = quick" in text
    assert (tmp_path / "runs").is_dir() and list((tmp_path / "runs").rglob("compare.csv"))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    # the quick slice, not the full config, was compared: 2 half-year folds of 120 dates, every model
    table = pd.read_csv(tmp_path / "runs" / "compare_ff49_quick" / "compare.csv")
    assert len(table) == 6 and (table["n_folds"] == 2).all() and (table["n_dates"] == 240).all()
    assert source.read_bytes() == committed  # the test does not touch the committed (full-run) notebook


def test_committed_notebook_has_full_run_outputs():
    """Committed with the outputs of one top-to-bottom run in full mode, figures included."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(ROOT / "notebooks" / "zptae_vs_czar.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    # every code cell ran, in order, in one kernel session
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # the parameter cell defaults to full mode and its output says the run was full
    params = code[0]
    assert 'os.environ.get("CZAR_NOTEBOOK_MODE", "full")' in params.source
    assert "MODE = full" in "".join(o.get("text", "") for o in params.outputs)
    # the figures render on a repository browser: PNGs of the loss curves, the floor, the folds
    figure_cells = [c for c in code if "plt.subplots" in c.source]
    assert len(figure_cells) >= 3
    for c in figure_cells:
        pngs = [o for o in c.outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
        assert pngs, c.source[:80]
        assert all(len(o["data"]["image/png"]) > 10_000 for o in pngs)
    # the comparison ran on the full config (10 yearly folds) and printed its verdicts
    text = "".join(o.get("text", "") for c in code for o in c.outputs)
    assert "2500 test dates in 10 folds" in text and "vs lightgbm lambdarank" in text
    # no placeholder left in the prose
    prose = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "PLACEHOLDER" not in prose
    # clean outputs, read on a repository browser: no warning, no path of the machine it ran on, and the
    # table of today's output (short names, the spread in bp, Allora's grade)
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert "Warning" not in text and not re.search(r"(?<![\w.])/(work|home|tmp|root|usr|Users)/", text)
    assert "top-k bp" in text and "dir raw" in text and "Allora" in text
    # the ZPTAE figure: every curve inside its frame (no y-limits that cut the loss or the hessian panel)
    curves = next(c for c in code if "Z_TRUE = " in c.source)
    assert "set_ylim" not in curves.source


def test_study_row_is_named_after_what_was_tuned_and_says_what_it_took():
    from czar_gbdt.tuning import StudyCzar

    rows = [("czar", "czar", {}, "CZAR(alpha=1, epsilon=1, tau=0.05)")]
    tuned = StudyCzar(
        {"alpha": 0.3},
        "study s, trial 4",
        ("alpha",),
        {"backend": "lightgbm", "booster": {"num_leaves": 9}, "num_boost_round": 50},
    )
    row, note = compare.study_row(tuned, "lightgbm", rows)
    assert row == ("study", "czar", {"alpha": 0.3}, "CZAR(alpha=0.3, epsilon=1, tau=0.05), tuned (study s, trial 4)")
    assert "took its tuned CZAR parameters (alpha): alpha=0.3, epsilon=1, tau=0.05" in note["text"]
    assert "Not taken: its booster (lightgbm: num_leaves=9, num_boost_round=50)" in note["text"]
    booster_only = StudyCzar(
        {"epsilon": 0.5}, "study s, trial 2", (), {"backend": "xgboost", "booster": {"max_depth": 3}}
    )
    row, note = compare.study_row(booster_only, "lightgbm", rows)
    assert row[3] == "CZAR(alpha=1, epsilon=0.5, tau=0.05) of study s, trial 2 (CZAR parameters fixed there)"
    assert "which the study kept fixed (it tuned only the booster)" in note["text"]
    assert "xgboost (another backend): max_depth=3" in note["text"]
    same = StudyCzar({}, "study s, trial 1", (), {"backend": "lightgbm", "booster": {"num_leaves": 5}})
    row, note = compare.study_row(same, "lightgbm", rows)
    assert row is None and note["label"] == rows[0][3]
    assert "That is the model of the row 'CZAR(alpha=1, epsilon=1, tau=0.05)' ('czar'): no second row" in note["text"]


def test_a_study_that_tuned_only_the_booster_adds_no_duplicate_row(tmp_path, panel_csv):
    from czar_gbdt.config import load_config

    best = tmp_path / "best_params.json"
    best.write_text(
        json.dumps(
            {
                "study": "b",
                "best_trial": 5,
                "searched": ["model.num_leaves"],
                "best_params": {
                    "backend": "lightgbm",
                    "booster": {"num_leaves": 12},
                    "loss": "czar",
                    "loss_params": {},
                },
            }
        )
    )
    cfg = load_config(_config(tmp_path, panel_csv))
    res = compare.compare_losses(cfg, ["builtin", "czar"], study=str(best), write=False)
    assert list(res.table["loss"]) == [
        "lightgbm built-in squared error",
        "CZAR(alpha=1, epsilon=1, tau=0.05)",
        "rank-average ensemble of the 2 models above",
    ]
    assert "num_leaves=12" in res.table["from_study"].iloc[1] and res.table["from_study"].iloc[0] == ""
    assert res.settings["study"] == res.table["from_study"].iloc[1]


def test_allora_columns_grade_each_asset_and_average(result):
    """On a panel, Allora's grade is each asset's own series graded over the test windows and averaged
    (labelled so); scores (ranking, ensemble) are not graded."""
    from czar_gbdt import allora

    res, _, cfg = result
    member = res.members[2]  # CZAR(alpha=1)
    panel = evaluation.load_data(cfg)
    test = panel.subset(np.sort(panel.X.index.get_indexer(member.result.predictions.index)))
    pred = member.result.predictions.reindex(test.X.index).to_numpy()
    per_asset = allora.allora_grade_by_asset(test.training_target("demean"), pred, assets=test.assets, dates=test.dates)
    row = res.table.iloc[2]
    for name in allora.METRIC_FUNCTIONS:
        assert row[name] == pytest.approx(per_asset[name].mean(), abs=1e-12)
    assert row["allora_points"] == pytest.approx(per_asset["allora_points"].mean())
    assert row["allora_scope"] == "mean of 20 assets"
    assert row["allora_grade"] == allora.allora_grade_letter(int(np.floor(per_asset["allora_points"].mean() + 0.5)))
    assert res.table["allora_grade"].iloc[4:].tolist() == ["n/a", "n/a"]
    shown = compare.formatted_table(res.table)["Allora"]
    assert shown.iloc[2].endswith("/7, mean of 20 assets)") and shown.iloc[4] == "n/a"

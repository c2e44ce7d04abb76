"""czar_gbdt.reporting and `czar-gbdt report`: the holdout bake-off of the tuned model against the baselines,
scored once; the study report needs; what print_summary and print_table print, from hand-made summaries."""

import json
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from config_helpers import ff49_tiny, make_config, small_study
from optuna.trial import TrialState

from czar_gbdt import evaluation, metrics, reporting, tuning
from czar_gbdt.cli import main
from czar_gbdt.compare import stats
from czar_gbdt.config import ConfigError, load_config, validate_config


def expected_verdict(diff, t, means=(0.0, 0.0)):
    """The verdict rule, written out: "beats it" only with a Newey-West t >= 2; two negative rank ICs
    forecast nothing, whichever is higher."""
    if means[0] < 0 and means[1] < 0:
        return "neither forecasts the holdout (both rank ICs negative)"
    if diff > 0:
        return "beats it" if t >= 2 else "higher, not significant (|t| < 2)"
    return "does NOT beat it (significantly lower)" if t <= -2 else "does NOT beat it"


MODEL_KEYS = {
    "name",
    "role",
    "spec",
    "rank_ic",
    "icir",
    "t",
    "t_nw",
    "directional_accuracy",
    "top_k_spread",
    "top_k_net_spread",
    "top_k_turnover",
    "test_czar_loss",
    "test_zptae_loss",
    "n_dates",
    "rounds",
}


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """A quick FF49 study, tuned and reported once from the command line."""
    tmp = tmp_path_factory.mktemp("bakeoff")
    path = make_config(tmp / "quick.toml", **ff49_tiny("quick", tmp / "runs"))
    assert main(["tune", "--config", str(path), "--no-progress"]) == 0
    capsys_free = main(["report", "--config", str(path), "--format", "json"])
    assert capsys_free == 0
    return path, tmp / "runs" / "quick"


def test_report_writes_the_bakeoff_as_the_issue_names_it(reported):
    path, out = reported
    saved = json.loads((out / "holdout.json").read_text())
    # the contract: {"models": [{"name", "rank_ic", "icir", "t", "t_nw", ...}], "comparisons": [{...}]}
    assert [m["role"] for m in saved["models"]] == ["tuned", "baseline", "baseline"]
    assert [m["spec"] for m in saved["models"]] == ["tuned", "builtin", "ranking"]  # [report] baselines default
    names = [m["name"] for m in saved["models"]]
    assert names[0].startswith("CZAR(") and names[0].endswith(f"tuned (trial #{saved['trial']})")
    assert names[1:] == ["lightgbm built-in squared error", "lightgbm lambdarank (5 grades per date)"]
    for m in saved["models"]:
        assert MODEL_KEYS <= set(m), MODEL_KEYS - set(m)
        assert -1 <= m["rank_ic"] <= 1 and m["n_dates"] == 120
        assert m["t"] == pytest.approx(m["icir"] * np.sqrt(120))
    # Allora: the forecasts are graded per asset and averaged, said so; the ranking scores are not graded
    for m in saved["models"][:2]:
        assert m["allora_scope"] == "mean of 49 assets" and m["allora_grade"] in ("A+", "A", "B+", "B", "C", "D", "F")
        assert 0 <= m["allora_points"] <= 7
    assert "allora_grade" not in saved["models"][2] and saved["models"][2]["directional_accuracy"] is None
    assert [(c["model"], c["baseline"]) for c in saved["comparisons"]] == [(names[0], names[1]), (names[0], names[2])]
    assert set(saved["comparisons"][0]) == {"model", "baseline", "diff", "t_nw", "verdict"}
    assert saved["rank_ic_kind"] == "cross-sectional" and saved["newey_west_lags"] == 4
    # every figure follows from the per-date rank IC of the same holdout dates
    per_date = pd.read_csv(out / "holdout_rank_ic.csv", index_col="date", parse_dates=True)
    assert list(per_date.columns) == names and len(per_date) == 120
    assert per_date.index[0] == pd.Timestamp(saved["start"]) and per_date.index[-1] == pd.Timestamp(saved["end"])
    for m in saved["models"]:
        assert m["rank_ic"] == pytest.approx(per_date[m["name"]].mean(), abs=1e-12)
        assert m["t_nw"] == pytest.approx(metrics.newey_west_t(per_date[m["name"]], 4), rel=1e-9)
    for c in saved["comparisons"]:
        d = per_date[c["model"]] - per_date[c["baseline"]]
        assert c["diff"] == pytest.approx(d.mean(), abs=1e-12)
        assert c["t_nw"] == pytest.approx(metrics.newey_west_t(d, 4), rel=1e-9)
        means = (per_date[c["model"]].mean(), per_date[c["baseline"]].mean())
        assert (
            c["verdict"]
            == stats.verdict_word(c["diff"], c["t_nw"], means, "the holdout")
            == expected_verdict(c["diff"], c["t_nw"], means)
        )
    png = out / "holdout_cumulative_rank_ic.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the holdout follows every test window, and the stored result is what was written
    folds = pd.read_csv(out / "folds.csv")
    assert saved["start"] > folds["test_end"].max()
    stored = tuning.load_study(load_config(path)).user_attrs["holdout"]
    assert {k: v for k, v in stored["bakeoff"].items() if k != "per_date"} == {
        k: v for k, v in saved.items() if k not in ("trial",)
    }
    assert stored["result"]["rank_ic"] == pytest.approx(saved["models"][0]["rank_ic"], abs=1e-12)


def test_evaluate_holdout_scores_the_tuned_model_as_the_bakeoff_did(reported):
    """The one-model function of the Python API gives the bake-off's figures for the tuned trial."""
    path, out = reported
    saved = json.loads((out / "holdout.json").read_text())
    cfg = load_config(path)
    params = tuning.fixed_params(tuning.load_study(cfg).trials[saved["trial"]], cfg)
    scores, per_date = evaluation.evaluate_holdout(cfg, params)
    tuned = saved["models"][0]
    assert (scores["start"], scores["end"]) == (saved["start"], saved["end"]) and len(per_date) == tuned["n_dates"]
    assert scores["rank_ic"] == pytest.approx(tuned["rank_ic"], abs=1e-12)
    assert scores["rounds"] == tuned["rounds"]


def test_the_bakeoff_is_stored_once_and_not_scored_again(reported, monkeypatch, capsys):
    path, out = reported
    before = json.loads((out / "holdout.json").read_text())

    def no_training(*args, **kwargs):
        raise AssertionError("report trained a model on the holdout a second time")

    monkeypatch.setattr(evaluation.engine, "fit_predict", no_training)
    (out / "holdout_cumulative_rank_ic.png").unlink()
    assert main(["report", "--config", str(path), "--format", "json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["holdout_status"] == "stored" and "already evaluated" in again["note"]
    assert again["bakeoff"]["models"] == before["models"] and again["bakeoff"]["comparisons"] == before["comparisons"]
    assert json.loads((out / "holdout.json").read_text()) == before
    assert (out / "holdout_cumulative_rank_ic.png").exists()  # rewritten from the stored per-date series
    assert main(["report", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "(stored result)" in text and "lightgbm lambdarank (5 grades per date)" in text
    assert text.count(" vs lightgbm ") == 2 and "paired per date, Newey-West t" in text
    assert "scoring: the rank IC is cross-sectional" in text
    # a configuration that changes what the bake-off depends on: said, naming the keys, and not scored again
    edited = make_config(
        path.with_name("edited.toml"),
        **ff49_tiny("quick", path.parent / "runs"),
        report={"baselines": ["builtin", "zptae"]},
        compare={"cost": 0.002},
    )
    assert main(["report", "--config", str(edited), "--format", "json"]) == 0
    changed = json.loads(capsys.readouterr().out)
    assert "It was scored with another configuration than this one" in changed["note"]
    assert 'report.baselines (study: ["builtin", "ranking"]; config: ["builtin", "zptae"])' in changed["note"]
    assert "compare.cost (study: 0.0005; config: 0.002)" in changed["note"]
    assert changed["bakeoff"]["models"] == before["models"]


def test_a_holdout_stored_before_bakeoffs_is_printed_as_it_was(tmp_path, capsys):
    """A study whose holdout was scored by an older version (no bake-off, no fingerprint): printed, not re-scored."""
    path = make_config(tmp_path / "old.toml", **ff49_tiny("quick", tmp_path / "runs", study={"n_trials": 1}))
    assert main(["tune", "--config", str(path), "--no-progress"]) == 0
    study = tuning.load_study(load_config(path))
    old = {
        "start": "2021-07-07",
        "end": "2021-12-23",
        "rounds": 20,
        "rank_ic": 0.01,
        "rank_icir": 0.05,
        "rank_ic_t": 0.5,
        "ic": 0.0,
        "n_dates": 120,
        "directional_accuracy": 0.5,
    }
    study.set_user_attr("holdout", {"trial": 0, "result": old, "evaluated_at": "2026-01-01 00:00 UTC"})
    capsys.readouterr()
    assert main(["report", "--config", str(path), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["holdout"] == old and summary["bakeoff"] is None
    assert "no holdout bake-off" in summary["note"]


# ------------------------------------------------------------------ the verdict on planted data


def planted_config(path, data):
    """1 trial of fixed parameters on ``data``: 1 fold of 60 dates, a 150-date holdout, 40 rounds, three baselines."""
    return make_config(
        path,
        study=small_study("planted", path.parent / "runs", n_trials=1),
        data={"source": data, "horizon": 1},
        splits={"test_size": 60, "min_train_size": 120, "holdout": 150, "max_splits": 1},
        model={
            "num_boost_round": 40,
            "params": {"learning_rate": 0.1, "num_leaves": 7, "min_child_samples": 20, "num_threads": 2},
        },
        loss={"czar": {"alpha": 1.0}},
        report={"baselines": ["builtin", "ranking", "czar:alpha=0.9"]},
    )


def planted_panel(path, seed=0, n_dates=360, n_assets=30):
    """A panel whose target has a signal and, on 3% of the rows, outliers 60 times the usual noise: squared
    error chases them, CZAR (in units of std) and the ranking objective (grades within a date) do not."""
    rng = np.random.default_rng(seed)
    n = n_dates * n_assets
    X = rng.normal(size=(n, 3))
    std = 0.02 * np.exp(0.3 * rng.normal(size=n))
    noise = rng.normal(size=n)
    noise[rng.random(n) < 0.03] *= 60
    pd.DataFrame(
        {
            "date": np.repeat(pd.bdate_range("2020-01-01", periods=n_dates), n_assets),
            "asset": np.tile([f"A{i:02d}" for i in range(n_assets)], n_dates),
            "f0": X[:, 0],
            "f1": X[:, 1],
            "f2": X[:, 2],
            "target": std * (0.5 * X[:, 0] + noise),
            "std": std,
        }
    ).to_csv(path, index=False)
    return path


def test_verdicts_on_planted_data_say_beats_it_only_with_t_at_least_2(tmp_path, capsys):
    data = planted_panel(tmp_path / "planted.csv")
    path = planted_config(tmp_path / "planted.toml", data)
    assert main(["tune", "--config", str(path), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["report", "--config", str(path), "--format", "json"]) == 0
    comparisons = {c["baseline"]: c for c in json.loads(capsys.readouterr().out)["bakeoff"]["comparisons"]}
    builtin = comparisons["lightgbm built-in squared error"]
    assert builtin["diff"] > 0.05 and builtin["t_nw"] >= 2 and builtin["verdict"] == "beats it"
    rank = comparisons["lightgbm lambdarank (5 grades per date)"]
    assert rank["t_nw"] <= -2 and rank["verdict"] == "does NOT beat it (significantly lower)"
    close = comparisons["CZAR(alpha=0.9, epsilon=1, tau=0.05)"]  # nearly the same model: no verdict either way
    assert abs(close["t_nw"]) < 2 and close["verdict"] != "beats it"
    for c in comparisons.values():
        assert c["verdict"] == expected_verdict(c["diff"], c["t_nw"])
    assert main(["report", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "vs lightgbm built-in squared error: rank IC difference +" in text and "): beats it" in text


# ------------------------------------------------------------------ configuration and fingerprints


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            {"report": {"baselines": ["builtin", "zptea"]}},
            r"report.baselines\[1\]: unknown loss 'zptea' \(did you mean",
        ),
        ({"report": {"baselines": ["builtin", "builtin"]}}, r"report.baselines\[1\]: 'builtin' is listed twice"),
        ({"report": {"baselines": ["ranking:bins=1.5"]}}, r"report.baselines\[0\]: ranking bins must be an integer"),
        ({"report": {"baselines": "builtin"}}, r"report.baselines must be a list"),
        ({"report": {"baseline": []}}, r"unknown key 'report.baseline' \(did you mean 'baselines'\?\)"),
    ],
)
def test_bad_baselines_name_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(raw)


def test_no_baselines_is_a_bakeoff_of_one(tmp_path, capsys):
    cfg = validate_config({"study": {"runs_dir": str(tmp_path)}, "report": {"baselines": []}})
    assert cfg["report"]["baselines"] == []


def test_a_study_that_changed_its_best_trial_keeps_the_bakeoff_of_the_old_one(reported, capsys):
    path, _ = reported
    study = tuning.load_study(load_config(path))
    best = study.best_trial
    held = study.user_attrs["holdout"]["trial"]
    study.add_trial(
        optuna.trial.create_trial(
            params=best.params, distributions=best.distributions, value=best.value + 1.0, user_attrs=best.user_attrs
        )
    )
    assert main(["report", "--config", str(path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["holdout_trial"] == held and "best trial has changed" in out["note"]
    assert out["bakeoff"]["models"][0]["name"].endswith(f"tuned (trial #{held})")


def test_a_bakeoff_stored_with_the_eight_point_allora_table_is_regraded_and_says_so(reported, capsys):
    """A holdout record stored before builder kit e9bb684 (points out of 8, the coverage point in
    them, no ``allora_max_points``): report prints it on the current table, out of 7, and says so."""
    path, out = reported
    study = tuning.load_study(load_config(path))
    current = study.user_attrs["holdout"]
    legacy_models = []
    for m in current["bakeoff"]["models"]:
        m = dict(m)
        if m.get("allora_grade") not in (None, "n/a"):
            del m["allora_max_points"]
            m["allora_points"] += 1  # the coverage point every stored grade earned
        legacy_models.append(m)
    study.set_user_attr("holdout", {**current, "bakeoff": {**current["bakeoff"], "models": legacy_models}})
    try:
        assert main(["report", "--config", str(path), "--format", "json"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert "re-graded on the current 7-point table (e9bb684)" in shown["note"]
        assert "8-point table of builder kit 3fc8ea7b" in shown["note"]
        for new, old in zip(shown["bakeoff"]["models"], current["bakeoff"]["models"]):
            if old.get("allora_grade") in (None, "n/a"):
                assert "allora_regraded_from" not in new
                continue
            assert new["allora_points"] == pytest.approx(old["allora_points"]) and new["allora_max_points"] == 7
            assert new["allora_grade"] == old["allora_grade"]  # the grades moved down with the points
            assert new["allora_regraded_from"] == "8-point table of builder kit 3fc8ea7b"
        assert json.loads((out / "holdout.json").read_text())["models"] == shown["bakeoff"]["models"]
        assert main(["report", "--config", str(path)]) == 0
        text = capsys.readouterr().out
        # the printed table shows "F (2.3/7)", its legend the scope ("... its points (mean of 49 assets)")
        assert "/7)" in text and "(mean of 49 assets)" in text and "/8" not in text and "re-graded" in text
    finally:
        study.set_user_attr("holdout", current)


def test_fold_rows_stored_with_the_eight_point_allora_table_are_regraded():
    """The fold table of a trial tuned on an Allora objective before e9bb684 is shown out of 7."""
    old = {
        "fold": 0,
        "rank_ic": 0.01,
        "allora_czar_improvement": 0.2,
        "allora_points": 6,
        "allora_grade": "B+",
        "allora_scope": "series",
    }
    new = {**old, "fold": 1, "allora_points": 5, "allora_max_points": 7}
    trial = optuna.trial.create_trial(value=0.2, user_attrs={"fold_0": old, "fold_1": new})
    folds = tuning.trial_folds(trial)
    assert folds["allora_points"].tolist() == [5, 5] and folds["allora_grade"].tolist() == ["B+", "B+"]
    assert folds["allora_regraded_from"].iloc[0] == "8-point table of builder kit 3fc8ea7b"
    assert folds["allora_regraded_from"].isna().iloc[1]


# ------------------------------------------------------------------ what the printed report says


def _stored_with(study, rank_ics, verdict, t_nw=0.9):
    """The study's stored bake-off with the models' rank ICs replaced, as a study scored before today's
    wording would hold it (``verdict`` in every comparison); returns the original, to put back."""
    stored = study.user_attrs["holdout"]
    edited = json.loads(json.dumps(stored))
    for m, ic in zip(edited["bakeoff"]["models"], rank_ics):
        m["rank_ic"] = ic
    for c in edited["bakeoff"]["comparisons"]:
        c.update(diff=0.008, t_nw=t_nw, verdict=verdict)
    study.set_user_attr("holdout", edited)
    return stored


def test_two_negative_holdout_rank_ics_say_neither_forecasts_and_what_to_try(reported, capsys):
    """Issue 22 (6) and 21 (6): a tuned model and a baseline both below 0 on the holdout are not "higher,
    not significant": neither forecasts it. A tuned model that beats no baseline gets two sentences on what
    it means and what to try. Units: directional accuracy against the raw target, top-k spread in bp."""
    path, _ = reported
    study = tuning.load_study(load_config(path))
    stored = _stored_with(study, [-0.0054, -0.0132, 0.0075], "higher, not significant (|t| < 2)")
    try:
        assert main(["report", "--config", str(path)]) == 0
        text = capsys.readouterr().out
    finally:
        study.set_user_attr("holdout", stored)
    flat = " ".join(text.split())
    verdict = "rank IC difference +0.0080 (paired per date, Newey-West t +0.90, 4 lags): "
    assert (
        "vs lightgbm built-in squared error: " + verdict + "neither forecasts the holdout (both rank ICs negative)"
    ) in flat
    # the ranking baseline's rank IC is positive: the usual verdict
    assert "vs lightgbm lambdarank (5 grades per date): " + verdict + "higher, not significant (|t| < 2)" in flat
    assert "What this means: the walk-forward scores that chose the tuned model overstate" in flat
    assert "selection-bias figures above" in flat and "fewer trials over coarser ranges" in flat
    assert "dir raw: the share of rows whose forecast has the sign of the raw target" in flat
    assert "top-k bp: the top-k long-short spread net of costs, in basis points" in flat
    section = text.split("scored once:\n")[1].split("What this means")[0].splitlines()
    assert len(section) > 8 and max(map(len, section)) <= 120, max(section, key=len)
    # a tuned model that beats every baseline needs no such explanation
    stored = _stored_with(study, [0.03, 0.001, 0.002], "beats it", t_nw=2.5)
    try:
        assert main(["report", "--config", str(path)]) == 0
        text = capsys.readouterr().out
    finally:
        study.set_user_attr("holdout", stored)
    assert "What this means" not in text and " ".join(text.split()).count("lags): beats it") == 2


# ------------------------------------------------------------------ report from the command line: the study it needs


@pytest.fixture
def tiny_config(tmp_path):
    return make_config(tmp_path / "tiny.toml", **ff49_tiny("tiny", tmp_path / "runs"))


def test_report_without_a_study_is_a_usage_error_and_creates_nothing(tiny_config, tmp_path, capsys):
    assert main(["report", "--config", str(tiny_config)]) == 2
    err = capsys.readouterr().err
    assert "there is no study yet" in err and "tiny.db does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()
    # a storage that exists but holds another study: still nothing created
    cfg = load_config(tiny_config)
    other = optuna.create_study(study_name="other", storage=tuning.storage_url(cfg))
    assert main(["report", "--config", str(tiny_config)]) == 2
    assert "no study of that name" in capsys.readouterr().err
    assert [s.study_name for s in optuna.get_all_study_summaries(other._storage)] == ["other"]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_report_on_a_study_without_completed_trials_is_a_usage_error(tiny_config, capsys):
    cfg = load_config(tiny_config)
    study = tuning.open_study(cfg)
    study.tell(study.ask(), state=TrialState.FAIL)
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        assert main(["report", "--config", str(tiny_config)]) == 2
        assert optuna.logging.get_verbosity() == optuna.logging.INFO  # silenced while it ran, then given back
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    captured = capsys.readouterr()
    assert "has no completed trial yet (1 fail)" in captured.err and "Traceback" not in captured.err
    study = tuning.load_study(cfg)
    assert len(study.trials) == 1 and not study.user_attrs


def test_holdout_is_scored_once_and_reported_from_the_study_afterwards(tiny_config, tmp_path, capsys, monkeypatch):
    assert main(["tune", "--config", str(tiny_config), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["report", "--config", str(tiny_config), "--format", "json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["holdout_status"] == "evaluated" and first["holdout_trial"] == first["best_trial"]
    cfg = load_config(tiny_config)
    stored = tuning.load_study(cfg).user_attrs["holdout"]
    assert stored["trial"] == first["best_trial"] and stored["result"] == first["holdout"]

    def no_training(*args, **kwargs):
        raise AssertionError("report trained a model on the holdout a second time")

    monkeypatch.setattr(evaluation.engine, "fit_predict", no_training)
    assert main(["report", "--config", str(tiny_config), "--format", "json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["holdout_status"] == "stored" and second["holdout"] == first["holdout"]
    assert f"already evaluated for trial #{first['best_trial']}" in second["note"]
    assert "best trial has changed" not in second["note"]
    assert main(["report", "--config", str(tiny_config)]) == 0
    text = capsys.readouterr().out
    assert f"trial #{first['best_trial']} (stored result)" in text and "already evaluated" in text

    # a new best trial (a better copy of the old best): the holdout result is still the old one's, said so
    study = tuning.load_study(cfg)
    best = study.best_trial
    study.add_trial(
        optuna.trial.create_trial(
            params=best.params, distributions=best.distributions, value=best.value + 1.0, user_attrs=best.user_attrs
        )
    )
    new_best = study.best_trial.number
    assert new_best != first["best_trial"]
    assert main(["report", "--config", str(tiny_config), "--format", "json"]) == 0
    third = json.loads(capsys.readouterr().out)
    assert third["best_trial"] == new_best and third["holdout_trial"] == first["best_trial"]
    assert third["holdout"] == first["holdout"]
    assert f"best trial has changed since: it is now #{new_best}, not #{first['best_trial']}" in third["note"]
    saved = json.loads((tmp_path / "runs" / "tiny" / "holdout.json").read_text())
    assert saved["trial"] == first["best_trial"]


# ------------------------------------------------------------------ the functions, called directly


def hand_summary(**extra):
    """A :func:`reporting.study_summary`-shaped dict made by hand: what print_summary prints comes from it alone."""
    folds = pd.DataFrame(
        {
            "fold": [0, 1],
            "test_start": ["2020-01-02", "2020-07-01"],
            "test_end": ["2020-06-30", "2020-12-31"],
            "rounds": [20, 20],
            "rank_ic": [0.0312, -0.0051],
            "directional_accuracy": [0.5123, 0.4987],
            "top_k_net_spread": [0.00123, -0.0004],
            "unprinted": [1.0, 2.0],
        }
    )
    return {
        "study": "hand",
        "storage": "sqlite:///hand.db",
        "n_trials": 7,
        "objective": "rank_ic",
        "best_trial": 3,
        "best_value": 0.01304,
        "best_params": {
            "backend": "lightgbm",
            "loss": "czar",
            "loss_params": {"alpha": 0.3125},
            "booster": {"num_leaves": 5},
            "num_boost_round": 20,
            "early_stopping_rounds": None,
        },
        "walk_forward": {"mean_rank_ic": 0.01304, "icir": None, "n_folds": 2},
        "folds": folds,
        "book": {"top_k": 4, "cost": 0.001},
        "scoring": "scoring: a line as evaluation gives it",
        "files": ["runs/hand/best_params.json"],
        **extra,
    }


def test_print_summary_prints_the_best_trial_its_folds_in_their_units_and_the_files(capsys):
    reporting.print_summary(hand_summary(note="A note."))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "study hand (sqlite:///hand.db): 7 finished trials; best trial #3 rank_ic = 0.0130"
    assert lines[1] == "  backend lightgbm, loss czar (alpha=0.3125, epsilon=1, tau=0.05)"  # defaults with their values
    assert lines[2] == "  booster {'num_leaves': 5}, num_boost_round 20, early_stopping_rounds None"
    assert lines[3] == "  walk-forward: mean_rank_ic 0.0130, n_folds 2"  # a missing figure is left out
    header = lines[4].split()
    assert header == ["fold", "test_start", "test_end", "rounds", "rank_ic", "dir_raw", "top_k_net_bp"]
    assert lines[5].split()[-2:] == ["0.5123", "12.3"] and lines[6].split()[-1] == "-4.0"  # the spread in bp
    assert lines[7].startswith("  dir_raw: the share of rows whose forecast has the sign of the raw target")
    assert lines[8] == (
        "  top_k_net_bp: the top-4 long-short spread net of 0.001 per unit of turnover, in bp "
        "(compare.top_k, compare.cost)"
    )
    assert lines[9:] == ["scoring: a line as evaluation gives it", "A note.", "  wrote runs/hand/best_params.json"]


def test_print_summary_as_json_is_the_summary_with_its_tables_as_records(capsys):
    summary = hand_summary()
    reporting.print_summary(summary, "json")
    printed = json.loads(capsys.readouterr().out)
    assert printed["folds"] == json.loads(summary["folds"].to_json(orient="records"))
    assert {k: v for k, v in printed.items() if k != "folds"} == {k: v for k, v in summary.items() if k != "folds"}


def test_a_holdout_without_a_bakeoff_is_one_line(capsys):
    holdout = {
        "start": "2021-07-07",
        "end": "2021-12-23",
        "rank_ic": 0.01,
        "rank_icir": 0.05,
        "rank_ic_t": 0.5,
        "ic": 0.0,
        "directional_accuracy": 0.5,
        "top_k_net_spread": 0.0005,
    }
    reporting.print_summary(hand_summary(holdout=holdout, holdout_trial=2, holdout_status="stored"))
    assert (
        "holdout 2021-07-07 .. 2021-12-23, trial #2 (stored result): rank IC 0.0100, ICIR 0.0500, t 0.5000, "
        "IC 0.0000, directional accuracy 0.5000 (raw target), top-k net spread 5.0 bp"
    ) in capsys.readouterr().out


@pytest.mark.parametrize(
    "selection, words",
    [
        (
            {"pbo": 0.6, "dsr": 0.99},
            ["probability of backtest overfitting 0.60", "in 60% of splits", "selection verdict: the search overfits"],
        ),
        (
            {"pbo": 0.2, "dsr": 0.5},
            [
                "deflated: 0.50 probability",
                "selection verdict: not significant after selection: "
                "the best trial's rank IC is within what the best of 9 trials shows by chance",
            ],
        ),
        ({"pbo": 0.2, "dsr": 0.97}, ["selection verdict: the best trial's rank IC holds up after choosing it among 9"]),
        ({"pbo": 0.2, "dsr": float("nan")}, ["deflated: not defined", "selection verdict: not significant"]),
        (None, ["selection bias: not measured: the study holds 1 completed trial."]),
    ],
)
def test_the_selection_verdict_follows_the_probability_of_overfitting_and_the_deflated_score(selection, words, capsys):
    if selection is None:
        extra = {"selection": None, "selection_missing": "the study holds 1 completed trial"}
    else:
        extra = {
            "selection": {"n_trials": 9, "n_dates": 240, "cscv_blocks": 16, "sr_best": 0.12, "sr0": 0.08, **selection},
            "selection_missing": "",
        }
    reporting.print_summary(hand_summary(**extra))
    text = capsys.readouterr().out
    for w in words:
        assert w in text, (w, text)
    assert text.count("selection verdict") == (selection is not None)


def test_print_table_prints_units_scoring_and_files_and_json_records(capsys):
    table = pd.DataFrame(
        {
            "loss": ["czar", "builtin"],
            "mean_rank_ic": [0.02, 0.01],
            "directional_accuracy": [0.51, 0.5],
            "top_k_net_spread": [0.0021, float("nan")],
        }
    )
    table.attrs.update(
        book={"top_k": 5, "cost": 0.0005}, scoring="scoring: cross-sectional", files=["runs/x/evaluate.csv"]
    )
    reporting.print_table(table)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["loss", "mean_rank_ic", "dir_raw", "top_k_net_bp"]
    assert lines[1].split() == ["czar", "0.0200", "0.5100", "21.0"] and lines[2].split()[-1] == "nan"
    assert lines[3].startswith("  dir_raw:") and lines[4].startswith("  top_k_net_bp: the top-5 long-short spread")
    assert lines[5:] == ["scoring: cross-sectional", "  wrote runs/x/evaluate.csv"]
    reporting.print_table(table, "json")
    records = json.loads(capsys.readouterr().out)
    assert (
        records[0] == {"loss": "czar", "mean_rank_ic": 0.02, "directional_accuracy": 0.51, "top_k_net_spread": 0.0021}
        and records[1]["top_k_net_spread"] is None
    )


def test_report_called_directly_returns_the_stored_bakeoff_and_says_what_it_loaded(reported, capsys):
    """reporting.report on the tuned study: the data handed to on_data once, the stored holdout returned (not
    scored again), the selection figures and their files; the 'What this means' lines only when a baseline is
    not beaten."""
    path, out = reported
    seen = []
    summary = reporting.report(load_config(path), on_data=seen.append)
    assert len(seen) == 1 and len(seen[0]) > 0  # the panel, once
    assert summary["holdout_status"] == "stored" and summary["study"] == "quick"
    assert summary["bakeoff"] == {
        k: v for k, v in json.loads((out / "holdout.json").read_text()).items() if k != "trial"
    }
    # every finished trial of the study (2, and 1 more when the best-trial test above has run)
    assert summary["selection"]["n_trials"] == summary["n_trials"] >= 2
    assert summary["selection"]["best_trial"] == summary["best_trial"]
    assert all(Path(f).is_file() for f in summary["files"])
    assert str(out / "selection.json") in summary["files"]
    bakeoff = summary["bakeoff"]
    for verdicts, explained in ((["beats it", "beats it"], False), (["beats it", "does NOT beat it"], True)):
        comparisons = [{**c, "diff": None, "verdict": v} for c, v in zip(bakeoff["comparisons"], verdicts)]
        reporting.print_summary({**summary, "bakeoff": {**bakeoff, "comparisons": comparisons}})
        text = capsys.readouterr().out
        assert text.count(": beats it") == verdicts.count("beats it")
        assert ("What this means: the walk-forward scores" in text) is explained
    with pytest.raises(tuning.StudyError, match="there is no study yet"):
        reporting.report(load_config(path, {"study": {"name": "never_tuned"}}))

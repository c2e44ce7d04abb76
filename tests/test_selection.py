"""The selection bias of a study: PBO by CSCV and the deflated Sharpe ratio against an independent
implementation, the compact per-date terms, and `report` on a noise study and a planted-signal study."""

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from study_helpers import study_table, toy_objective_factory

from czar_gbdt import selection, tuning
from czar_gbdt.config import ConfigError, load_config
from czar_gbdt.datasets import make_synthetic_panel

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ an independent implementation


def oracle_pbo(m, s):
    """PBO written from the definition: loops, plain means, ranks counted by hand."""
    t, n = m.shape
    blocks = np.array_split(np.arange(t), s)
    logits = []
    for chosen in itertools.combinations(range(s), s // 2):
        rows_in = np.concatenate([blocks[b] for b in chosen])
        rows_out = np.concatenate([blocks[b] for b in range(s) if b not in chosen])
        mean_in = [m[rows_in, j].mean() for j in range(n)]
        best = max(range(n), key=lambda j: (mean_in[j], -j))  # highest, lowest index on ties
        mean_out = [m[rows_out, j].mean() for j in range(n)]
        less = sum(1 for j in range(n) if mean_out[j] < mean_out[best])
        equal = sum(1 for j in range(n) if mean_out[j] == mean_out[best])
        rank = less + (equal + 1) / 2  # average rank, 1 = worst
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    return sum(1 for x in logits if x <= 0) / len(logits)


def oracle_dsr(m, best, horizon):
    t, n = m.shape
    sr = [m[:, j].mean() / m[:, j].std(ddof=1) for j in range(n)]
    v = sum((x - sum(sr) / n) ** 2 for x in sr) / (n - 1)
    g = 0.5772156649015329
    phi = NormalDist()
    sr0 = math.sqrt(v) * ((1 - g) * phi.inv_cdf(1 - 1 / n) + g * phi.inv_cdf(1 - 1 / (n * math.e)))
    col = m[:, best]
    d = col - col.mean()
    m2, m3, m4 = (d**2).mean(), (d**3).mean(), (d**4).mean()
    g3, g4 = m3 / m2**1.5, m4 / m2**2
    s = sr[best]
    z = (s - sr0) * math.sqrt(t / horizon - 1) / math.sqrt(1 - g3 * s + (g4 - 1) / 4 * s * s)
    return s, sr0, phi.cdf(z)


MATRICES = {
    "normal": lambda rng: rng.normal(0.01, 0.1, (97, 7)),
    "ties: integers": lambda rng: rng.integers(-2, 3, (40, 6)).astype(float),
    "ties: equal columns": lambda rng: np.repeat(rng.normal(0, 1, (33, 3)), 2, axis=1),
    "few dates per block": lambda rng: rng.standard_t(3, (9, 5)),
}


@pytest.mark.parametrize("kind", MATRICES)
@pytest.mark.parametrize("s", [2, 4, 8])
def test_pbo_matches_the_definition(kind, s):
    rng = np.random.default_rng(len(kind) * 10 + s)
    m = MATRICES[kind](rng)
    assert selection.pbo_cscv(m, s) == pytest.approx(oracle_pbo(m, s), abs=1e-12)


@pytest.mark.parametrize("kind", MATRICES)
@pytest.mark.parametrize("horizon", [1, 3])
def test_dsr_matches_the_definition(kind, horizon):
    rng = np.random.default_rng(len(kind) + horizon)
    m = MATRICES[kind](rng)
    best = int(np.argmax(m.mean(axis=0)))
    got = selection.deflated_sharpe(m, best, horizon)
    s, sr0, dsr = oracle_dsr(m, best, horizon)
    assert got["sr_best"] == pytest.approx(s, rel=1e-12)
    assert got["sr0"] == pytest.approx(sr0, rel=1e-9)
    assert got["dsr"] == pytest.approx(dsr, rel=1e-9, abs=1e-12)


def test_pbo_of_a_clear_winner_and_of_noise():
    # noise: the in-sample best is a coin toss out of sample, on average over studies
    pbos = [selection.pbo_cscv(np.random.default_rng(seed).normal(0, 1, (80, 10)), 8) for seed in range(20)]
    assert 0.35 < np.mean(pbos) < 0.65
    m = np.random.default_rng(0).normal(0, 1, (160, 10))
    m[:, 4] += 1.0
    assert selection.pbo_cscv(m, 16) == 0.0


def test_bad_inputs_name_the_argument():
    m = np.zeros((20, 3)) + np.arange(20)[:, None]
    with pytest.raises(ValueError, match="blocks must be an even number"):
        selection.pbo_cscv(m, 5)
    with pytest.raises(ValueError, match=r"blocks \(32\) must be at most the number of dates \(20\)"):
        selection.pbo_cscv(m, 32)
    with pytest.raises(ValueError, match="at least 2 trials"):
        selection.pbo_cscv(m[:, :1], 4)
    with pytest.raises(ValueError, match="NaN"):
        selection.pbo_cscv(np.full((20, 3), np.nan), 4)


def test_terms_round_trip_compactly():
    dates = pd.bdate_range("2001-01-01", periods=2000)
    values = pd.Series(np.random.default_rng(1).normal(0, 0.2, len(dates)), index=dates)
    data = selection.encode_terms(values)
    assert len(json.dumps(data)) < 0.6 * len(json.dumps(values.round(6).tolist()))
    back = selection.decode_terms(data)
    assert (back.index == dates).all()
    np.testing.assert_allclose(back.to_numpy(), values.to_numpy(), rtol=1e-7)


def test_cscv_blocks_is_validated(tmp_path):
    base = study_table("s").format(runs=tmp_path) + '\n[data]\nsource = "ff49"\n'
    path = tmp_path / "c.toml"
    path.write_text(base + "\n[report]\ncscv_blocks = 7\n")
    with pytest.raises(ConfigError, match=r"report.cscv_blocks must be an even number >= 2 .*; got 7\."):
        load_config(path)
    path.write_text(base + "\n[report]\ncscv_block = 8\n")
    with pytest.raises(ConfigError, match="cscv_blocks"):  # did you mean
        load_config(path)
    path.write_text(base)
    assert load_config(path)["report"]["cscv_blocks"] == 16


# ------------------------------------------------------------------ from the command line

CONFIG = """
[data]
source = "{data}"
horizon = 1

[splits]
test_size = 40
min_train_size = 80
holdout = 0
max_splits = 5

[model]
backend = "lightgbm"
num_boost_round = 12

[model.params]
learning_rate = 0.2
num_leaves = {{ low = 2, high = 64 }}
min_child_samples = 2
num_threads = 1

[loss]
name = "mse"

[report]
cscv_blocks = 10
"""


def _study(tmp_path, name, signal_ic, n_trials=6):
    """A study on a synthetic panel (one informative feature of 12) where num_leaves decides the quality."""
    panel = make_synthetic_panel(n_dates=300, n_assets=40, n_features=12, signal_ic=signal_ic, n_informative=1, seed=1)
    data = tmp_path / f"{name}.parquet"
    panel.to_frame().to_parquet(data)
    path = tmp_path / f"{name}.toml"
    path.write_text(
        study_table(name).format(runs=tmp_path / "runs").replace("n_trials = 2", f"n_trials = {n_trials}")
        + CONFIG.format(data=data)
    )
    return path


def _cli(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "czar_gbdt.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _tune_and_report(path):
    tuned = _cli("tune", "--config", str(path), "--no-progress")
    assert tuned.returncode == 0, tuned.stderr
    reported = _cli("report", "--config", str(path))
    assert reported.returncode == 0, reported.stderr
    return reported.stdout


def _check_files(out: Path, text: str) -> dict:
    figures = json.loads((out / "selection.json").read_text())
    assert list(figures) == ["n_trials", "best_trial", "n_dates", "cscv_blocks", "pbo", "sr_best", "sr0", "dsr"]
    table = pd.read_csv(out / "trials_rank_ic.csv", index_col=0)
    assert table.index.name == "date" and figures["n_dates"] == len(table) == 200
    assert [int(c) for c in table.columns] == list(range(figures["n_trials"]))
    m = table.to_numpy()  # anyone can recompute both figures from the CSV
    best = [int(c) for c in table.columns].index(figures["best_trial"])
    assert oracle_pbo(m, figures["cscv_blocks"]) == pytest.approx(figures["pbo"])
    assert oracle_dsr(m, best, 1)[2] == pytest.approx(figures["dsr"], rel=1e-6)
    assert f"probability of backtest overfitting {figures['pbo']:.2f}: the best of {figures['n_trials']} trials" in text
    assert f"deflated: {figures['dsr']:.2f} probability that the best trial's rank IC is real" in text
    assert text.count("selection verdict:") == 1
    return figures


def test_report_on_pure_noise_gets_a_low_deflated_sharpe_ratio(tmp_path):
    text = _tune_and_report(_study(tmp_path, "noise", 0.0))
    figures = _check_files(tmp_path / "runs" / "noise", text)
    assert figures["dsr"] < 0.95
    assert "holds up" not in text


def test_report_on_a_planted_signal_gets_a_low_pbo(tmp_path):
    text = _tune_and_report(_study(tmp_path, "signal", 0.15))
    figures = _check_files(tmp_path / "runs" / "signal", text)
    assert figures["pbo"] < 0.2


def test_a_study_without_per_date_terms_says_why_in_one_line(tmp_path, capsys):
    from czar_gbdt.cli import main

    path = _study(tmp_path, "old", 0.1, n_trials=2)
    tuning.tune(path, show_progress=False, objective_factory=toy_objective_factory)  # stores no per-date terms
    assert main(["report", "--config", str(path)]) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if "selection" in x or "overfitting" in x]
    assert lines == [
        "selection bias: not measured: 2 of the 2 completed trials were scored before trials stored "
        "their per-date terms (a study made by an older czar-gbdt)."
    ]
    assert not (tmp_path / "runs" / "old" / "selection.json").exists()
    cfg = load_config(path)
    cfg["study"]["objective"] = "allora_czar_improvement"
    table, why = tuning.trial_terms(tuning.load_study(cfg), cfg)
    assert table is None and why.startswith("study.objective 'allora_czar_improvement' is scored per fold")

"""Data that looks wrong is named or refused: a price file's bars read as assets, repeated column
names, infinite features, returns beyond belief, all-NaN columns, rows lost to the warm-up, and
what the data line says; the checks are called directly, one CLI run per exit path."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from config_helpers import make_config, small_study
from pandas._libs.parsers import STR_NA_VALUES

from czar_gbdt import evaluation
from czar_gbdt.cli import main
from czar_gbdt.config import load_config
from czar_gbdt.datasets import (
    DataError,
    extreme_returns,
    load_panel,
    load_wide,
    make_synthetic_panel,
    make_synthetic_returns,
    read_table,
)

KEYS = {"values": "data.wide.values", "columns": "data.wide.columns", "date_col": "data.wide.date_col"}


def write_config(tmp_path, data, *, name="wrong", num_leaves=4, wide=None):
    """A small fixed-parameter config on the file ``data`` (1 fold of 60 dates, a 40-date holdout, 3 rounds)."""
    return make_config(
        tmp_path / f"{name}.toml",
        study=small_study(name, tmp_path / "runs"),
        data={"source": data, "horizon": 5, **({"wide": wide} if wide else {})},
        splits={"test_size": 60, "min_train_size": 80, "holdout": 40, "max_splits": 1},
        model={
            "backend": "lightgbm",
            "num_boost_round": 3,
            "params": {"learning_rate": 0.1, "num_leaves": num_leaves, "num_threads": 1},
        },
        loss={"name": "czar"},
    )


def one_error(err: str) -> str:
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1, err
    return errors[0]


@pytest.fixture(scope="module")
def returns():
    return make_synthetic_returns(330, 6, seed=1)


def bars(returns):
    price = 100.0 * np.exp(np.log1p(returns.iloc[:, 0]).cumsum())
    return pd.DataFrame(
        {
            "Open": price * 0.999,
            "High": price * 1.01,
            "Low": price * 0.99,
            "Close": price,
            "Adj Close": price * 0.98,
            "Volume": 1e6 + np.arange(len(price)),
        },
        index=returns.index,
    )


# ------------------------------------------------------------------ the bars of one instrument


def test_the_bars_of_one_instrument_are_refused_naming_them(tmp_path, returns, capsys):
    path = tmp_path / "spy.csv"
    bars(returns).to_csv(path, index_label="Date")
    with pytest.raises(DataError) as info:
        load_wide(path, values="prices", names=KEYS)
    text = str(info.value)
    assert "the columns ['Open', 'High', 'Low', 'Close', 'Adj Close', 'Volume'] are the bars of one instrument" in text
    assert 'set data.wide.columns = ["Adj Close"] (or set data.wide.columns = ["Close"])' in text
    assert "data.wide.values" not in text  # the values are prices already
    with pytest.raises(DataError, match=r"pass columns=\['close'\], and pass values='prices'"):
        load_wide(bars(returns)[["Close", "Volume"]].rename(columns=str.lower))  # lower case, two of them
    one = load_wide(path, values="prices", columns=["Adj Close"], names=KEYS)  # the suggested fix loads
    assert list(one.columns) == ["Adj Close"] and one.iloc[1:].notna().all().all()
    load_wide(bars(returns)[["Close"]], values="prices")  # one of them is a single series, not bars
    # from the command line: exit 2, one line, nothing created
    assert main(["tune", "--config", str(write_config(tmp_path, path)), "--no-progress"]) == 2
    line = one_error(capsys.readouterr().err)
    assert "are the bars of one instrument" in line and 'data.wide.columns = ["Adj Close"]' in line
    assert 'set data.wide.values = "prices"' in line
    assert not (tmp_path / "runs").exists()


def test_the_prices_hint_names_a_column_the_user_selected(tmp_path, returns):
    table = returns.copy()
    table.insert(0, "Volume", 1e6 + np.arange(len(table)))  # not an asset, and far from a return
    table["A03"] = 100.0 * np.exp(np.log1p(returns["A03"]).cumsum())  # prices among returns
    path = tmp_path / "mixed.csv"
    table.to_csv(path, index_label="date")
    with pytest.raises(DataError) as info:
        load_wide(path, columns=["A01", "A03"], names=KEYS)
    assert "column 'A03' does not look like returns" in str(info.value) and "Volume" not in str(info.value)
    with pytest.raises(DataError, match="data.wide.columns names \\['A09'\\], which the table does not have"):
        load_wide(path, columns=["A01", "A09"], names=KEYS)


# ------------------------------------------------------------------ names, infinities, extreme returns


def test_repeated_column_names_are_refused_from_the_header(tmp_path, returns):
    path = tmp_path / "dup.csv"
    returns.to_csv(path, index_label="date")
    header, body = path.read_text().split("\n", 1)
    path.write_text(header.replace("A02", "A01") + "\n" + body)
    assert list(pd.read_csv(path).columns)[2:4] == ["A01", "A01.1"]  # what pandas alone would do
    with pytest.raises(
        DataError,
        match=r"dup.csv: duplicate column names in the header: \['A01'\] \(pandas would "
        r"rename the repeats 'A01' to 'A01.1'",
    ):
        read_table(path)
    panel = make_synthetic_panel(n_dates=30, n_assets=4, n_features=3, seed=0).to_frame().reset_index()
    frame = panel.rename(columns={panel.columns[-1]: panel.columns[-2]})
    long_path = tmp_path / "long.csv"
    frame.to_csv(long_path, index=False)
    with pytest.raises(DataError, match="duplicate column names in the header"):
        load_panel(long_path)
    with pytest.raises(DataError, match="the DataFrame: duplicate column names"):
        load_panel(frame)
    with pytest.raises(DataError, match=r"duplicate column names in the header: \['A01'\]"):
        evaluation.prepare_data(load_config(write_config(tmp_path, path)))  # what tune checks first


def test_an_infinite_feature_in_a_long_panel_is_refused_and_nan_is_not(tmp_path):
    frame = make_synthetic_panel(n_dates=300, n_assets=5, n_features=3, seed=0).to_frame().reset_index()
    feature = [c for c in frame.columns if c not in ("date", "asset", "target", "std")][1]
    frame.loc[17, feature] = np.nan
    load_panel(frame, std_col="auto")  # NaN is a missing value: the boosters handle it
    frame.loc[123, feature] = -np.inf
    row = frame.loc[123]
    where = f"row 123 (date {row['date'].date()}, asset {row['asset']})"
    with pytest.raises(
        DataError,
        match=rf"feature '{feature}' has 1 infinite values, the first -inf at "
        rf"{where.replace('(', '.').replace(')', '.')}; use NaN",
    ):
        load_panel(frame, std_col="auto")
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        evaluation.prepare_data(load_config(write_config(tmp_path, path)))  # what tune checks first
    assert f"feature '{feature}' has 1 infinite values, the first -inf at {where}" in str(info.value)


def test_returns_beyond_belief_give_one_warning_line(tmp_path, returns, capsys):
    assert extreme_returns(returns) is None
    wild = returns.copy()
    wild.iloc[100, 2] = 500.0  # +50,000%
    wild.iloc[200, 4] = -0.97  # -97%
    wild.iloc[50, 1] = 10.0  # exactly 1,000%: not above
    line = extreme_returns(wild)
    assert line == (
        f"2 single-period returns above 1,000% or below -95%, the first +500 (+50,000%) on "
        f"{wild.index[100].date()} for asset 'A02': check the data (a price error, an unadjusted split, "
        f"percent read as decimals?)."
    )
    wild["Z"] = np.nan  # an all-NaN column: named on the data line with the rows lost to the warm-up
    path = tmp_path / "wild.csv"
    wild.to_csv(path, index_label="date")
    assert main(["evaluate", "--config", str(write_config(tmp_path, path)), "--format", "json"]) == 0
    err = capsys.readouterr().err.splitlines()
    warnings = [e for e in err if "warning" in e]
    assert warnings == ["czar-gbdt: warning: " + line]
    data = next(e for e in err if e.startswith("data: "))
    assert "6 assets (A00, A01, A02, A03, A04, A05)" in data
    assert "dropped: columns ['Z'] (all NaN)" in data and "the feature warm-up of 59 dates" in data
    assert "without a target on the last 5 dates" in data


# ------------------------------------------------------------------ the data line


def test_the_data_line_names_the_assets_and_what_was_dropped(tmp_path):
    many = make_synthetic_returns(200, 12, seed=2)
    many["short"] = np.nan
    many.loc[many.index[-30:], "short"] = 0.01  # 30 returns: too few for one row of 60-day features
    path = tmp_path / "many.csv"
    many.to_csv(path, index_label="date")
    cfg = load_config(write_config(tmp_path, path))
    panel = evaluation.load_data(cfg)
    line = evaluation.describe_data(cfg, panel)
    assert "12 assets (A00, A01, A02, A03, A04, ... 12 in all)" in line
    assert "dropped: columns ['short'] (too few returns for one row of features)" in line
    info = panel.info
    assert info["n_dates_warm_up"] == 59 and info["n_rows_dropped"] == 13 * 200 - len(panel)
    assert (
        f"dropped: columns ['short'] (too few returns for one row of features); {info['n_rows_dropped']:,} rows" in line
    )
    frame = make_synthetic_panel(n_dates=300, n_assets=5, n_features=3, seed=0).to_frame().reset_index()
    frame["empty"] = np.nan
    long_path = tmp_path / "long.csv"
    frame.to_csv(long_path, index=False)
    cfg = load_config(write_config(tmp_path, long_path))
    line = evaluation.describe_data(cfg, evaluation.load_data(cfg))
    assert "5 assets (A0000, A0001, A0002, A0003, A0004)" in line and "dropped" not in line
    assert "; all NaN, so without information: features ['empty']; labels demean" in line
    assert evaluation.name_assets(["x", "y"]) == "2 assets (x, y)"
    assert evaluation.name_assets([f"a{i}" for i in range(10)]).endswith("a8, a9)")


def test_the_strings_pandas_reads_as_missing_are_documented():
    page = (Path(__file__).resolve().parents[1] / "docs" / "own-data.md").read_text()
    missing = [v for v in STR_NA_VALUES if v and f"`{v}`" not in page]
    assert not missing, f"docs/own-data.md does not list {missing}, which pandas reads as missing"


# ------------------------------------------------------------------ periods instead of dates


def test_integer_periods_are_read_in_order_and_shown_as_period_numbers(tmp_path, capsys):
    r = make_synthetic_returns(330, 6, seed=3)
    table = r.reset_index(drop=True).set_axis(pd.RangeIndex(1000, 1330), axis=0)  # a period count, not dates
    path = tmp_path / "periods.csv"
    table.to_csv(path, index_label="t")
    cfg = write_config(tmp_path, path)
    assert main(["evaluate", "--config", str(cfg), "--format", "json"]) == 2  # the default reads calendar dates
    line = one_error(capsys.readouterr().err)
    assert "column 't' could not be parsed as dates: row 0 has 1000" in line
    assert 'If it holds period numbers (a row index, a period count), set data.wide.dates = "periods"' in line
    with pytest.raises(
        DataError,
        match=r'dates = "periods" reads column \'t\' as period numbers \(integers\); row 2 '
        r"has 'x'",
    ):
        load_wide(
            table.reset_index()
            .astype({"index": object})
            .rename(columns={"index": "t"})
            .assign(t=lambda f: f["t"].where(f.index != 2, "x")),
            dates="periods",
        )
    with pytest.raises(
        DataError, match="must be unique and ascending .one row per period.; row 5 has 1004, which comes after 1005"
    ):
        load_wide(table.reset_index().iloc[[0, 1, 2, 3, 5, 4, *range(6, 330)]], dates="periods")

    cfg = write_config(tmp_path, path, num_leaves={"low": 3, "high": 5}, wide={"dates": "periods"})
    assert main(["tune", "--config", str(cfg), "--no-progress"]) == 0
    err = capsys.readouterr().err
    data = next(e for e in err.splitlines() if e.startswith("data: "))
    assert "dates are period numbers" in data and "266 dates 1059 to 1324" in data, data
    assert main(["report", "--config", str(cfg)]) == 0
    assert "266 dates 1059 to 1324" in capsys.readouterr().err  # report prints the data line too
    out = tmp_path / "runs" / "wrong"
    folds = pd.read_csv(out / "folds.csv")
    assert folds["test_start"].between(1059, 1324).all() and folds["test_end"].dtype.kind == "i"
    holdout = pd.read_csv(out / "holdout_rank_ic.csv")
    assert holdout.columns[0] == "period" and holdout["period"].tolist() == list(range(1285, 1325))

    # the same returns with calendar dates: the same scores (period numbers are ordered as dates are)
    dated = tmp_path / "dated.csv"
    r.to_csv(dated, index_label="date")
    scores = []
    for source, wide in ((dated, None), (path, {"dates": "periods"})):
        fixed = write_config(tmp_path, source, name="fixed", wide=wide)
        assert main(["evaluate", "--config", str(fixed), "--format", "json"]) == 0
        scores.append(json.loads(capsys.readouterr().out))
    assert scores[0] == scores[1] and np.isfinite(scores[0][0]["mean_rank_ic"])

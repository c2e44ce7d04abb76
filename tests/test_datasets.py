"""Tests for czar_gbdt.datasets: FF49 loader, user panels, target transforms, synthetic panel."""

import numpy as np
import pandas as pd
import pytest

from czar_gbdt import datasets, metrics
from czar_gbdt.datasets import Panel, load_panel, make_synthetic_panel, transform_target

# --------------------------------------------------------------------------
# FF49
# --------------------------------------------------------------------------


def test_load_ff49():
    r = datasets.load_ff49()
    assert r.shape == (13245, 49)
    assert isinstance(r.index, pd.DatetimeIndex) and r.index.name == "date"
    assert r.index[0] == pd.Timestamp("1969-07-01") and r.index[-1] == pd.Timestamp("2021-12-31")
    assert r.index.is_monotonic_increasing and r.index.is_unique
    assert (r.dtypes == np.float64).all()
    assert list(r.columns[:3]) == ["Agric", "Food", "Soda"] and r.columns[-1] == "Other"
    assert r.columns.name == "asset"
    assert not r.isna().any().any()
    # decimal returns: the file's first row starts 0.54, 0.55, -0.19 (percent)
    np.testing.assert_allclose(r.iloc[0, :3], [0.0054, 0.0055, -0.0019])
    assert r.abs().max().max() < 0.5
    # a fresh copy every call
    r.iloc[0, 0] = 99.0
    assert datasets.load_ff49().iloc[0, 0] == pytest.approx(0.0054)


# --------------------------------------------------------------------------
# user panels
# --------------------------------------------------------------------------


@pytest.fixture
def table():
    p = make_synthetic_panel(n_dates=20, n_assets=6, n_features=3, seed=4)
    df = p.to_frame()
    df["weight"] = np.linspace(0.5, 1.5, len(df))
    df["mean"] = 0.0
    df["date"] = df["date"].dt.strftime("%Y-%m-%d")
    return df


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet", "frame"])
def test_load_panel_round_trip(table, tmp_path, fmt):
    if fmt == "frame":
        src = table
    else:
        src = tmp_path / f"panel.{fmt}"
        if fmt == "parquet":
            pytest.importorskip("pyarrow")
            table.to_parquet(src)
        else:
            table.to_csv(src, index=False)
    p = load_panel(src, feature_cols=["f0", "f1", "f2"], std_col="std", mean_col="mean", weight_col="weight")
    assert isinstance(p, Panel) and len(p) == len(table)
    assert p.feature_names == ["f0", "f1", "f2"]
    assert p.X.index.names == ["date", "asset"]
    assert isinstance(p.dates, pd.DatetimeIndex) and p.dates[0] == pd.Timestamp(table["date"].iloc[0])
    np.testing.assert_allclose(p.y, table["target"])
    np.testing.assert_allclose(p.X.to_numpy(), table[["f0", "f1", "f2"]].to_numpy())
    np.testing.assert_allclose(p.std, table["std"])
    np.testing.assert_allclose(p.weight, table["weight"])
    np.testing.assert_allclose(p.mean, 0.0)


def test_load_panel_default_features(table):
    p = load_panel(table.drop(columns=["weight", "mean"]), std_col="std")
    assert p.feature_names == ["f0", "f1", "f2"]
    assert p.weight is None and p.mean is None
    p2 = load_panel(table)  # std/mean/weight not declared: they become features
    assert p2.feature_names == ["f0", "f1", "f2", "std", "weight", "mean"]


def test_load_panel_yyyymmdd_and_sort(table):
    df = table.copy()
    df["date"] = df["date"].str.replace("-", "").astype(int)
    shuffled = df.sample(frac=1.0, random_state=0)
    with pytest.raises(ValueError, match="must be sorted ascending; row .* Sort the table by date"):
        load_panel(shuffled)
    p = load_panel(shuffled, sort=True)
    assert p.dates.is_monotonic_increasing
    ref = load_panel(df)
    assert p.dates.equals(ref.dates)
    np.testing.assert_allclose(p.y, ref.y)


def test_load_panel_missing_columns(table):
    with pytest.raises(ValueError, match=r"missing column\(s\) \['vol', 'ret'\]; available columns: \['date', 'asset'"):
        load_panel(table, feature_cols=["f0", "ret"], std_col="vol")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['y'\]"):
        load_panel(table, target_col="y")
    with pytest.raises(ValueError, match="must be a list of column names"):
        load_panel(table, feature_cols="f0")


def test_load_panel_duplicates(table):
    df = pd.concat([table, table.iloc[[3, 8]]]).sort_values("date", kind="mergesort")
    message = r"4 rows share a \(date, asset\) pair.*e\.g\. \(2000-01-03, A0003\), \(2000-01-04, A0002\)"
    with pytest.raises(ValueError, match=message):
        load_panel(df)


def test_load_panel_unsorted(table):
    df = table.copy()
    df.loc[10, "date"] = "1999-12-31"
    with pytest.raises(ValueError, match="row 10 has 1999-12-31 after 2000-01-04 at row 9"):
        load_panel(df)


def test_load_panel_nan_target(table):
    df = table.copy()
    df.loc[[7, 20, 21], "target"] = np.nan
    message = r"target 'target' has 3 NaN/infinite values, the first at row 7 \(date 2000-01-04, asset A0001\)"
    with pytest.raises(ValueError, match=message):
        load_panel(df)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("std", 0.0, "std column 'std' must be finite and > 0; 1 rows are not, the first at row 5"),
        ("std", np.nan, "std column 'std' must be finite and > 0"),
        ("weight", -1.0, "weight column 'weight' must be finite and >= 0"),
        ("mean", np.inf, "mean column 'mean' must be finite"),
    ],
)
def test_load_panel_invalid_optional_columns(table, column, value, message):
    df = table.copy()
    df.loc[5, column] = value
    with pytest.raises(ValueError, match=message):
        load_panel(df, std_col="std", mean_col="mean", weight_col="weight")


def test_load_panel_other_errors(table, tmp_path):
    df = table.copy()
    df["sector"] = "tech"
    with pytest.raises(ValueError, match=r"feature columns must be numeric .*'sector' \((object|str)"):
        load_panel(df)
    df = table.copy()
    df.loc[3, "date"] = "not a date"
    with pytest.raises(ValueError, match="column 'date' could not be parsed as dates"):
        load_panel(df)
    df = table.copy()
    df.loc[3, "asset"] = None
    with pytest.raises(ValueError, match="1 missing assets in 'asset'; the first at row 3"):
        load_panel(df)
    with pytest.raises(ValueError, match="does not exist"):
        load_panel(tmp_path / "nope.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match="unknown file type"):
        load_panel(tmp_path / "x.json")
    with pytest.raises(ValueError, match="no feature columns"):
        load_panel(table[["date", "asset", "target"]])


def test_panel_subset_and_training_target():
    p = make_synthetic_panel(n_dates=10, n_assets=4, n_features=2, seed=0)
    rows = np.arange(8, 24)
    sub = p.subset(rows)
    assert len(sub) == 16 and sub.dates.equals(p.dates[rows])
    np.testing.assert_array_equal(sub.y, p.y[rows])
    np.testing.assert_array_equal(p.subset(np.isin(np.arange(len(p)), rows)).y, sub.y)
    np.testing.assert_allclose(sub.training_target("demean"), transform_target(sub.y, sub.dates, "demean"))
    with pytest.raises(ValueError, match="Panel.y has length 3 but X has 40 rows"):
        Panel(X=p.X, y=p.y[:3], dates=p.dates, assets=p.assets)


def test_a_window_of_consecutive_rows_is_a_read_only_view_with_the_values_of_a_copy():
    """Consecutive ascending rows (a walk-forward window) are sliced, not copied: the same values as the
    rows taken one by one, arrays that share the panel's memory and refuse to be written; other rows
    (gaps, a descending order, a mask with a gap) are copies."""
    p = make_synthetic_panel(n_dates=10, n_assets=4, n_features=2, seed=0)
    p = Panel.from_arrays(p.X, p.y, p.dates, p.assets, std=np.linspace(0.01, 0.02, len(p)))
    window = p.subset(np.arange(8, 24))
    spread = p.subset(np.r_[8:16, 17:25])
    for sub, rows in ((window, np.arange(8, 24)), (spread, np.r_[8:16, 17:25])):
        np.testing.assert_array_equal(sub.y, p.y[rows])
        np.testing.assert_array_equal(sub.std, p.std[rows])
        np.testing.assert_array_equal(sub.X.to_numpy(), p.X.to_numpy()[rows])
        assert sub.X.index.equals(p.X.index[rows]) and sub.dates.equals(p.dates[rows])
    assert np.shares_memory(window.y, p.y) and np.shares_memory(window.std, p.std)
    assert spread.y.flags.writeable and not np.shares_memory(spread.y, p.y)
    with pytest.raises(ValueError, match="read-only"):
        window.y[0] = 1.0
    assert p.subset(np.arange(len(p)) % 2 == 0).y.flags.writeable
    assert not np.shares_memory(p.subset(np.arange(23, 7, -1)).y, p.y)
    assert len(p.subset(np.array([], dtype=int))) == 0 and len(p.subset([5])) == 1


# --------------------------------------------------------------------------
# target transforms
# --------------------------------------------------------------------------


def test_transform_target_matches_pandas():
    rng = np.random.default_rng(0)
    dates = rng.integers(0, 30, size=400)
    y = rng.normal(size=400)
    g = pd.Series(y).groupby(dates)
    np.testing.assert_array_equal(transform_target(y, dates, "raw"), y)
    np.testing.assert_allclose(transform_target(y, dates, "demean"), y - g.transform("mean"), atol=1e-14)
    z = (y - g.transform("mean")) / g.transform(lambda s: s.std(ddof=0))
    np.testing.assert_allclose(transform_target(y, dates, "zscore"), z, atol=1e-12)
    assert transform_target(y, dates, "raw") is not y


def test_transform_target_degenerate_dates():
    y = np.array([1.0, 2.0, 2.0, 5.0])
    d = np.array([0, 1, 1, 2])  # single-row date 0 and 2, constant date 1
    np.testing.assert_array_equal(transform_target(y, d, "zscore"), [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(transform_target(y, d, "demean"), [0.0, 0.0, 0.0, 0.0])


def test_transform_target_errors():
    with pytest.raises(ValueError, match=r"method must be one of \('raw', 'demean', 'zscore'\); got 'rank'"):
        transform_target([1.0], [0], "rank")
    with pytest.raises(ValueError, match="y has 1 non-finite values .*row 1"):
        transform_target([1.0, np.nan], [0, 0], "demean")
    with pytest.raises(ValueError, match="dates has length 1 but y has length 2"):
        transform_target([1.0, 2.0], [0], "demean")


def test_rank_ic_rewards_relative_forecasts():
    # a per-date offset in the target changes nothing in rank IC, and demeaning removes it
    p = make_synthetic_panel(n_dates=50, n_assets=20, n_features=2, signal_ic=0.3, seed=2)
    offset = np.repeat(np.random.default_rng(0).normal(size=50), 20)
    y = p.y + offset
    ric = metrics.rank_ic(y, p.info["signal"], dates=p.dates).mean
    assert ric == pytest.approx(metrics.rank_ic(p.y, p.info["signal"], dates=p.dates).mean)
    np.testing.assert_allclose(
        transform_target(y, p.dates, "demean"), transform_target(p.y, p.dates, "demean"), atol=1e-12
    )


# --------------------------------------------------------------------------
# synthetic panel
# --------------------------------------------------------------------------


def test_synthetic_panel_shape_and_seed():
    a = make_synthetic_panel(n_dates=30, n_assets=8, n_features=4, seed=7)
    b = make_synthetic_panel(n_dates=30, n_assets=8, n_features=4, seed=7)
    c = make_synthetic_panel(n_dates=30, n_assets=8, n_features=4, seed=8)
    assert len(a) == 240 and a.feature_names == ["f0", "f1", "f2", "f3"]
    assert a.dates.is_monotonic_increasing and a.dates.nunique() == 30 and a.assets.nunique() == 8
    np.testing.assert_array_equal(a.y, b.y)
    pd.testing.assert_frame_equal(a.X, b.X)
    assert not np.array_equal(a.y, c.y)
    np.testing.assert_array_equal(a.std, 0.02)
    assert a.mean is None and a.weight is None


@pytest.mark.parametrize(("n_assets", "signal_ic"), [(10, 0.1), (50, 0.05), (30, 0.5), (20, -0.2)])
def test_synthetic_oracle_rank_ic_is_the_planted_one(n_assets, signal_ic):
    p = make_synthetic_panel(n_dates=3000, n_assets=n_assets, n_features=3, signal_ic=signal_ic, seed=11)
    res = metrics.rank_ic(p.y, p.info["signal"], dates=p.dates)
    se = res.std / np.sqrt(res.n_dates)
    assert abs(res.mean - signal_ic) < 4 * se


def test_expected_rank_ic_formula():
    assert datasets.expected_rank_ic(0.0, 10) == 0.0
    assert datasets.expected_rank_ic(1.0, 10) == pytest.approx(1.0)
    # large n: the population Spearman of a bivariate normal
    assert datasets.expected_rank_ic(0.5, 10**7) == pytest.approx(6 / np.pi * np.arcsin(0.25), rel=1e-6)


def test_synthetic_vol_dispersion_plants_the_signal_in_z():
    p = make_synthetic_panel(n_dates=1000, n_assets=30, n_features=3, signal_ic=0.2, vol_dispersion=0.8, seed=3)
    assert p.std.min() > 0 and np.std(np.log(p.std)) == pytest.approx(0.8, rel=0.05)
    z_ic = metrics.rank_ic(p.y / p.std, p.info["signal"], dates=p.dates)
    y_ic = metrics.rank_ic(p.y, p.info["signal"], dates=p.dates)
    assert abs(z_ic.mean - 0.2) < 4 * z_ic.std / np.sqrt(z_ic.n_dates)
    assert y_ic.mean < z_ic.mean


def test_linear_fit_recovers_the_planted_rank_ic():
    p = make_synthetic_panel(n_dates=400, n_assets=100, n_features=10, signal_ic=0.1, seed=3)
    train = np.asarray(p.dates < p.dates[len(p) // 2])
    X = np.c_[np.ones(len(p)), p.X.to_numpy()]
    beta = np.linalg.lstsq(X[train], p.y[train], rcond=None)[0]
    res = metrics.rank_ic(p.y[~train], X[~train] @ beta, dates=p.dates[~train])
    oracle = metrics.rank_ic(p.y[~train], p.info["signal"][~train], dates=p.dates[~train])
    assert res.mean == pytest.approx(0.1, abs=0.03)
    assert res.mean > 0.85 * oracle.mean


def test_lightgbm_recovers_the_planted_rank_ic():
    lgb = pytest.importorskip("lightgbm")
    p = make_synthetic_panel(n_dates=300, n_assets=100, n_features=8, signal_ic=0.1, seed=5)
    train = np.asarray(p.dates < p.dates[len(p) // 2])
    model = lgb.LGBMRegressor(n_estimators=80, learning_rate=0.05, num_leaves=7, verbose=-1, n_jobs=2)
    model.fit(p.X[train], p.y[train])
    res = metrics.rank_ic(p.y[~train], model.predict(p.X[~train]), dates=p.dates[~train])
    assert res.mean == pytest.approx(0.1, abs=0.035)
    assert res.t_stat > 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(n_assets=1), "n_assets must be an integer >= 2; got 1"),
        (dict(n_dates=0), "n_dates must be an integer >= 1; got 0"),
        (dict(signal_ic=1.0), r"signal_ic must be in \(-1, 1\); got 1.0"),
        (dict(n_features=2, n_informative=3), r"n_informative must be an integer in \[1, n_features=2\]; got 3"),
        (dict(vol=0.0), "vol must be finite and > 0"),
        (dict(vol_dispersion=-1.0), "vol_dispersion must be finite and >= 0"),
    ],
)
def test_synthetic_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_synthetic_panel(**kwargs)


@pytest.mark.parametrize("fault", ["infinite_feature", "text_feature", "missing_date", "unsorted", "bad_weight"])
def test_a_rule_on_part_of_a_table_names_the_row_of_the_whole_table(fault):
    """The rules load_panel runs, run on the rows from 100 on with offset=100 (a partition on a cluster),
    give the message of the whole table, word for word."""
    from czar_gbdt.datasets.checks import labels_and_side
    from czar_gbdt.datasets.columns import resolve_columns
    from czar_gbdt.datasets.dates import check_sorted
    from czar_gbdt.datasets.long import check_rows

    df = make_synthetic_panel(n_dates=20, n_assets=10, n_features=3, seed=2).to_frame()
    df["weight"] = 1.0
    if fault == "infinite_feature":
        df.loc[130, "f1"] = np.inf
    elif fault == "text_feature":
        df["f2"] = df["f2"].map(str)
        df.loc[130, "f2"] = "n/a"
    elif fault == "missing_date":
        df["date"] = df["date"].astype(object)
        df.loc[130, "date"] = None
    elif fault == "unsorted":
        df.loc[130, "date"] = df.loc[0, "date"]
    else:
        df.loc[130, "weight"] = -1.0
    kwargs = dict(
        date_col="date",
        asset_col="asset",
        target_col="target",
        feature_cols=None,
        std_col="auto",
        mean_col="auto",
        weight_col="auto",
    )
    with pytest.raises(datasets.DataError) as whole:
        load_panel(df, **{k: v for k, v in kwargs.items() if k != "feature_cols"})
    columns = resolve_columns(df.columns, where="the DataFrame", **kwargs)
    part = df.iloc[100:].reset_index(drop=True)
    with pytest.raises(datasets.DataError) as partial:
        rows = check_rows(part, columns, "the DataFrame", offset=100)
        check_sorted(rows.dates, "date", "the DataFrame", None, offset=100)
        labels_and_side(part, columns, rows)
    assert str(partial.value) == str(whole.value)
    assert "row 130" in str(whole.value)

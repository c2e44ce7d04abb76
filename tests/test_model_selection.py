"""Tests for czar_gbdt.model_selection.WalkForward: no leak, time order, whole dates, holdout."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from czar_gbdt.model_selection import Fold, WalkForward


def ragged_dates(n_dates=120, seed=0, shuffle=True):
    """Per-row dates: a varying number of assets per date, rows shuffled."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2010-01-01", periods=n_dates)
    sizes = rng.integers(1, 6, size=n_dates)
    dates = np.repeat(days.values, sizes)
    if shuffle:
        dates = dates[rng.permutation(dates.size)]
    return dates


def check_folds(cv, dates):
    """Every invariant the evaluation spec asks for; returns the folds."""
    udates = np.unique(dates)
    code = np.searchsorted(udates, dates)
    rows_per_date = np.bincount(code, minlength=udates.size)
    holdout = cv.holdout_indices(groups=dates)
    folds = list(cv.split_with_validation(groups=dates))
    assert len(folds) == cv.get_n_splits(groups=dates) > 0
    prev_test_start = -1
    for fold in folds:
        assert isinstance(fold, Fold)
        tr, va, te = (code[idx] for idx in fold)
        for idx in fold:
            assert np.all(np.diff(idx) > 0)  # ascending, no duplicates
        # no overlap and whole dates on each side
        train, valid, test = (set(idx) for idx in fold)
        assert not (train & test or valid & test or train & valid)
        for part in (tr, va, te):
            if part.size:
                d, c = np.unique(part, return_counts=True)
                np.testing.assert_array_equal(c, rows_per_date[d])
        # the gap: no test date within `gap` dates of any train or validation date
        assert te.min() - tr.max() > cv.gap
        if va.size:
            assert te.min() - va.max() > cv.gap
            assert va.min() - tr.max() > cv.gap
            assert np.unique(va).size == cv.valid_size
        else:
            assert cv.valid_size == 0
        # window sizes in dates
        assert np.unique(te).size == cv.test_size
        n_train = np.unique(tr).size
        assert n_train >= cv.min_train_size
        if cv.train_size is None:
            assert tr.min() == 0
        else:
            assert n_train <= cv.train_size
        # time order
        assert te.min() > prev_test_start
        assert te.min() - prev_test_start == cv.step or prev_test_start == -1
        prev_test_start = te.min()
        # holdout never touched, and a gap before it
        assert not np.isin(np.concatenate(fold), holdout).any()
        if cv.holdout:
            assert udates.size - cv.holdout - te.max() > cv.gap
    if cv.holdout:
        np.testing.assert_array_equal(np.unique(code[holdout]), np.arange(udates.size - cv.holdout, udates.size))
        assert holdout.size == rows_per_date[-cv.holdout :].sum()
    else:
        assert holdout.size == 0
        assert folds[-1].test.size and code[folds[-1].test].max() == udates.size - 1  # anchored at the end
    # split() yields the same train/test as split_with_validation()
    for (tr_idx, te_idx), fold in zip(cv.split(groups=dates), folds, strict=True):
        np.testing.assert_array_equal(tr_idx, fold.train)
        np.testing.assert_array_equal(te_idx, fold.test)
    return folds


CONFIGS = [
    dict(horizon=5, test_size=10),
    dict(horizon=5, test_size=10, gap=8, step=5),
    dict(horizon=1, test_size=7, train_size=30),
    dict(horizon=3, test_size=10, valid_size=6),
    dict(horizon=3, test_size=10, valid_size=6, train_size=25, holdout=15),
    dict(horizon=2, test_size=12, holdout=20, max_splits=3),
    dict(horizon=4, test_size=5, step=9, min_train_size=40, holdout=1),
]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("shuffle", [True, False], ids=["unsorted", "sorted"])
def test_invariants(params, shuffle):
    cv = WalkForward(**params)
    folds = check_folds(cv, ragged_dates(shuffle=shuffle))
    if cv.max_splits:
        assert len(folds) == cv.max_splits


def test_fold_positions_by_hand():
    cv = WalkForward(horizon=2, test_size=3, valid_size=2, holdout=4, train_size=5)
    # 30 dates: holdout 26..29, gap 24..25, last test 21..23, gap, valid 17..18, gap, train 10..14
    f = cv.fold_positions(30)
    assert f[-1] == (10, 15, 17, 19, 21, 24)
    assert f[-2] == (7, 12, 14, 16, 18, 21)
    assert f[0].train_end - f[0].train_start == 5
    assert [x.test_start for x in f] == sorted(x.test_start for x in f)


def test_docstring_example():
    dates = np.repeat(np.arange(20), 3)
    cv = WalkForward(horizon=2, test_size=4)
    assert [(len(tr) // 3, len(te) // 3) for tr, te in cv.split(None, groups=dates)] == [(6, 4), (10, 4), (14, 4)]


def test_gap_smaller_than_horizon_explains_the_leak():
    with pytest.raises(ValueError, match=r"gap=2 is smaller than horizon=5.*t\+1\.\.t\+5.*look-ahead leak.*gap >= 5"):
        WalkForward(horizon=5, test_size=10, gap=2)
    assert WalkForward(horizon=5, test_size=10).gap == 5


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(horizon=0, test_size=5), "horizon must be >= 1 .*got 0"),
        (dict(horizon=1.5, test_size=5), "horizon must be an integer .*got 1.5"),
        (dict(horizon=True, test_size=5), "horizon must be an integer .*got True"),
        (dict(horizon=1, test_size=0), "test_size must be >= 1 .*got 0"),
        (dict(horizon=1, test_size=5, train_size=0), "train_size must be >= 1 .*got 0"),
        (dict(horizon=1, test_size=5, train_size="10"), "train_size must be an integer or None .*got '10'"),
        (dict(horizon=1, test_size=5, step=0), "step must be >= 1 .*got 0"),
        (dict(horizon=1, test_size=5, valid_size=-1), "valid_size must be >= 0 .*got -1"),
        (dict(horizon=1, test_size=5, holdout=-3), "holdout must be >= 0 .*got -3"),
        (dict(horizon=1, test_size=5, max_splits=0), "max_splits must be >= 1 .*got 0"),
        (dict(horizon=1, test_size=5, min_train_size=0), "min_train_size must be >= 1 .*got 0"),
        (dict(horizon=1, test_size=5, train_size=10, min_train_size=20), "min_train_size=20 exceeds train_size=10"),
    ],
)
def test_parameter_validation(params, message):
    with pytest.raises(ValueError, match=message):
        WalkForward(**params)


def test_too_few_dates():
    cv = WalkForward(horizon=5, test_size=20, valid_size=10, holdout=50)
    with pytest.raises(ValueError, match=r"No walk-forward fold fits in 60 distinct dates.*needs at least 115"):
        list(cv.split(groups=np.arange(60)))
    assert cv.get_n_splits(groups=np.arange(115)) == 1
    with pytest.raises(ValueError, match="No walk-forward fold fits in 114"):
        cv.get_n_splits(groups=np.arange(114))


def test_dates_from_x():
    dates = ragged_dates(shuffle=False)
    cv = WalkForward(horizon=2, test_size=10)
    ref = [f.test for f in cv.split_with_validation(groups=dates)]
    X = pd.DataFrame({"f": np.arange(dates.size)}, index=pd.DatetimeIndex(dates))
    by_index = [te for _, te in cv.split(X)]
    index = pd.MultiIndex.from_arrays([dates, np.arange(dates.size)], names=["date", "asset"])
    X2 = pd.DataFrame({"f": 0.0}, index=index)
    by_level = [te for _, te in cv.split(X2)]
    X3 = pd.DataFrame({"date": dates, "f": 0.0})
    by_column = [te for _, te in cv.split(X3)]
    for got in (by_index, by_level, by_column):
        assert len(got) == len(ref)
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_array_equal(a, b)
    assert cv.get_n_splits(X3) == len(ref)


def test_dates_required():
    cv = WalkForward(horizon=1, test_size=2)
    with pytest.raises(ValueError, match="pass groups=<date of each row>"):
        list(cv.split(np.zeros((10, 2))))
    with pytest.raises(ValueError, match="no 'date' column"):
        list(cv.split(pd.DataFrame({"x": range(10)})))
    with pytest.raises(ValueError, match="groups has length 3 but X has 10 rows"):
        list(cv.split(np.zeros((10, 2)), groups=[1, 2, 3]))
    with pytest.raises(ValueError, match="missing values"):
        cv.get_n_splits(groups=np.array(["2020-01-01", "NaT"], dtype="M8[ns]"))


def test_final_fold_and_fold_table():
    dates = ragged_dates(n_dates=100, shuffle=True)
    cv = WalkForward(horizon=3, test_size=10, valid_size=5, holdout=12)
    final = cv.final_fold(groups=dates)
    udates = np.unique(dates)
    code = np.searchsorted(udates, dates)
    np.testing.assert_array_equal(final.test, cv.holdout_indices(groups=dates))
    assert code[final.test].min() - code[final.valid].max() > cv.gap
    assert code[final.valid].min() - code[final.train].max() > cv.gap
    assert np.unique(code[final.valid]).size == 5
    table = cv.fold_table(groups=dates)
    assert len(table) == cv.get_n_splits(groups=dates)
    assert (table["test_first"].diff().dropna() > pd.Timedelta(0)).all()
    assert (table["train_last"] < table["valid_first"]).all() and (table["valid_last"] < table["test_first"]).all()
    assert table["test_rows"].sum() > 0
    with pytest.raises(ValueError, match="final_fold needs holdout > 0"):
        WalkForward(horizon=1, test_size=5).final_fold(groups=dates)
    # the same windows as positions on the distinct dates (what a lazy panel on a cluster cuts by)
    f = cv.final_fold_positions(len(udates))
    assert (f.test_start, f.test_end) == (len(udates) - 12, len(udates))
    for rows, start, end in [
        (final.train, f.train_start, f.train_end),
        (final.valid, f.valid_start, f.valid_end),
        (final.test, f.test_start, f.test_end),
    ]:
        np.testing.assert_array_equal(np.unique(code[rows]), np.arange(start, end))


def test_repr_round_trips():
    cv = WalkForward(horizon=5, test_size=20, train_size=100, valid_size=10, holdout=30)
    assert eval(repr(cv), {"WalkForward": WalkForward}).__dict__ == cv.__dict__


def test_sklearn_cross_validate():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import cross_val_score

    rng = np.random.default_rng(0)
    dates = ragged_dates(n_dates=80)
    X = rng.normal(size=(dates.size, 3))
    y = X[:, 0] + rng.normal(size=dates.size)
    cv = WalkForward(horizon=1, test_size=10)
    scores = cross_val_score(LinearRegression(), X, y, groups=dates, cv=cv)
    assert len(scores) == cv.get_n_splits(groups=dates) > 1
    assert (scores > 0).all()  # y is mostly X[:, 0]: every fold's R^2 is positive


@given(
    n_dates=st.integers(5, 150),
    horizon=st.integers(1, 6),
    extra_gap=st.integers(0, 3),
    test_size=st.integers(1, 15),
    step=st.none() | st.integers(1, 15),
    train_size=st.none() | st.integers(1, 40),
    valid_size=st.integers(0, 6),
    holdout=st.integers(0, 20),
)
def test_property_invariants(n_dates, horizon, extra_gap, test_size, step, train_size, valid_size, holdout):
    cv = WalkForward(
        horizon=horizon,
        gap=horizon + extra_gap,
        test_size=test_size,
        step=step,
        train_size=train_size,
        valid_size=valid_size,
        holdout=holdout,
    )
    dates = ragged_dates(n_dates=n_dates, seed=n_dates)
    try:
        n = cv.get_n_splits(groups=dates)
    except ValueError as exc:
        assert "No walk-forward fold fits" in str(exc)
        assume(False)
        return
    assert n >= 1
    check_folds(cv, dates)

"""Walk-forward cross-validation by date, with a leak-proof gap and a final holdout.

:class:`WalkForward` follows the scikit-learn splitter protocol (``split`` and
``get_n_splits``) but splits by *date*, never by row: all rows of a date go to
the same side, and every window is counted in distinct dates.

Layout of one fold on the date axis (``valid_size > 0``)::

    | train ........ | gap | valid | gap | test | ... | gap | holdout |
                                          ^ folds step forward; the last test
                                            window ends right before the final
                                            gap + holdout, which split never yields

Why the gap: a label over periods t+1..t+h (``horizon`` = h) is only known at
t+h. If a training date sits fewer than h dates before a test date, its label
includes returns from the test window: the model is trained on the answers.
``gap >= horizon`` rules that out, and the same gap separates train from
validation, validation from test, and the last test window from the holdout.

See Also
--------
sklearn.model_selection.TimeSeriesSplit : row-based analogue (``gap``,
    ``max_train_size``, ``test_size``); like it, folds are anchored at the end
    so the most recent data is always tested.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["Fold", "FoldDates", "WalkForward"]


class Fold(NamedTuple):
    """Row indices of one walk-forward fold.

    Attributes
    ----------
    train : ndarray of shape (n_train,)
        Rows to fit on (never includes the validation rows).
    valid : ndarray of shape (n_valid,)
        Rows for early stopping (empty when ``valid_size == 0``).
    test : ndarray of shape (n_test,)
        Rows to score on.
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


class FoldDates(NamedTuple):
    """Half-open positions ``[start, end)`` of a fold's windows on the sorted distinct dates."""

    train_start: int
    train_end: int
    valid_start: int
    valid_end: int
    test_start: int
    test_end: int


def _check_int(name: str, value: Any, minimum: int, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        kind = "an integer" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {kind} (a number of dates); got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum} (a number of dates); got {value}.")
    return int(value)


def _dates_of(X: Any, groups: Any) -> Any:
    """Return the per-row dates: ``groups`` if given, else read from ``X``."""
    if groups is not None:
        if X is not None and hasattr(X, "__len__") and len(X) != len(groups):
            raise ValueError(
                f"groups has length {len(groups)} but X has {len(X)} rows; groups must hold the date of each row."
            )
        return groups
    if isinstance(X, (pd.DataFrame, pd.Series)):
        idx = X.index
        if isinstance(idx, pd.DatetimeIndex):
            return idx
        if isinstance(idx, pd.MultiIndex) and "date" in idx.names:
            return idx.get_level_values("date")
        if isinstance(X, pd.DataFrame) and "date" in X.columns:
            return X["date"]
        raise ValueError(
            "WalkForward splits by date: pass groups=<date of each row>, or an X with a DatetimeIndex, "
            f"a 'date' index level or a 'date' column (X has index {type(idx).__name__} named "
            f"{list(idx.names)} and no 'date' column)."
        )
    raise ValueError(
        f"WalkForward splits by date: pass groups=<date of each row> (X is {type(X).__name__}, which carries no dates)."
    )


class WalkForward:
    """Walk-forward splitter by date with a gap of at least the label horizon.

    Every size is a number of *distinct dates* present in the data (so a gap
    of 5 on daily data skips 5 trading days, whatever the calendar). Folds
    are anchored at the end: the last test window ends just before the final
    ``gap`` + ``holdout`` dates (or at the last date when ``holdout == 0``),
    earlier test windows are ``step`` dates apart, and folds are kept while
    their train window has at least ``min_train_size`` dates. They are
    yielded in time order.

    Parameters
    ----------
    horizon : int
        Label horizon h >= 1: the label of date t uses periods t+1..t+h.
    test_size : int
        Dates per test window, >= 1.
    gap : int, default=None
        Dates left out between train and validation, between validation (or
        train) and test, and before the holdout. Defaults to ``horizon``;
        smaller values raise because labels would overlap the next window.
    train_size : int, default=None
        ``None`` for an expanding train window (from the first date), or the
        fixed length of a sliding window.
    min_train_size : int, default=None
        Smallest train window for a fold to be kept. Defaults to
        ``train_size`` for a sliding window (all folds full length) and to
        ``test_size`` for an expanding one.
    step : int, default=None
        Dates between the starts of consecutive test windows; defaults to
        ``test_size`` (adjacent, non-overlapping test windows).
    valid_size : int, default=0
        Dates of validation (early stopping) at the end of each train window,
        separated from train and from test by ``gap``.
    holdout : int, default=0
        Final dates that no fold ever touches (also separated by ``gap`` from
        the last test window); see :meth:`holdout_indices` and
        :meth:`final_fold`.
    max_splits : int, default=None
        Keep only the most recent ``max_splits`` folds.

    Notes
    -----
    ``split`` yields ``(train, test)`` where ``train`` excludes the validation
    window and the gaps, so that ``split`` and :meth:`split_with_validation`
    fit on the same rows; a tuner trains on ``train``, early-stops on
    ``valid`` and scores on ``test``. Indices are positions into the rows,
    ascending; the rows need not be sorted by date.

    The dates are taken from ``groups`` (the date of each row), or when
    ``groups`` is None from ``X``: its DatetimeIndex, its ``"date"`` index
    level, or its ``"date"`` column.

    Examples
    --------
    >>> import numpy as np
    >>> from czar_gbdt.model_selection import WalkForward
    >>> dates = np.repeat(np.arange(20), 3)          # 20 dates x 3 assets
    >>> cv = WalkForward(horizon=2, test_size=4)
    >>> [(len(tr) // 3, len(te) // 3) for tr, te in cv.split(None, groups=dates)]
    [(6, 4), (10, 4), (14, 4)]
    """

    def __init__(
        self,
        *,
        horizon: int,
        test_size: int,
        gap: int | None = None,
        train_size: int | None = None,
        min_train_size: int | None = None,
        step: int | None = None,
        valid_size: int = 0,
        holdout: int = 0,
        max_splits: int | None = None,
    ) -> None:
        self.horizon = _check_int("horizon", horizon, 1)
        self.test_size = _check_int("test_size", test_size, 1)
        gap = self.horizon if gap is None else _check_int("gap", gap, 0)
        if gap < self.horizon:
            overlap = self.horizon - gap
            raise ValueError(
                f"gap={gap} is smaller than horizon={self.horizon}: the label of date t covers periods "
                f"t+1..t+{self.horizon}, so the labels of the last {overlap} training date(s) would include "
                f"returns from the first {overlap} date(s) of the next window (a look-ahead leak). "
                f"Use gap >= {self.horizon}."
            )
        self.gap = gap
        self.train_size = _check_int("train_size", train_size, 1, allow_none=True)
        default_min = self.train_size if self.train_size is not None else self.test_size
        self.min_train_size = default_min if min_train_size is None else _check_int("min_train_size", min_train_size, 1)
        if self.train_size is not None and self.min_train_size > self.train_size:
            raise ValueError(
                f"min_train_size={self.min_train_size} exceeds train_size={self.train_size}; "
                "a sliding window never grows beyond train_size."
            )
        self.step = self.test_size if step is None else _check_int("step", step, 1)
        self.valid_size = _check_int("valid_size", valid_size, 0)
        self.holdout = _check_int("holdout", holdout, 0)
        self.max_splits = _check_int("max_splits", max_splits, 1, allow_none=True)

    def __repr__(self) -> str:
        """Show every parameter, so the repr rebuilds the splitter."""
        keys = (
            "horizon",
            "test_size",
            "gap",
            "train_size",
            "min_train_size",
            "step",
            "valid_size",
            "holdout",
            "max_splits",
        )
        return "WalkForward(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in keys) + ")"

    # ------------------------------------------------------------------ dates

    def _windows_before(self, end: int) -> tuple[int, int, int, int, int]:
        """Train and validation windows for a test (or holdout) window starting at ``end``."""
        if self.valid_size > 0:
            valid_end = end - self.gap
            valid_start = valid_end - self.valid_size
            train_end = valid_start - self.gap
        else:
            valid_start = valid_end = train_end = end - self.gap
        train_start = 0 if self.train_size is None else max(0, train_end - self.train_size)
        return train_start, train_end, valid_start, valid_end, train_end - train_start

    def min_dates(self) -> int:
        """The fewest distinct dates one fold (and the holdout) fits in:
        ``min_train_size + gap + test_size`` (``+ valid_size + gap``) (``+ gap + holdout``)."""
        n = self.min_train_size + self.gap + self.test_size
        if self.valid_size > 0:
            n += self.valid_size + self.gap
        if self.holdout > 0:
            n += self.gap + self.holdout
        return n

    def fold_positions(self, n_dates: int) -> list[FoldDates]:
        """Windows of every fold as positions on the sorted distinct dates.

        Parameters
        ----------
        n_dates : int
            Number of distinct dates in the data.

        Returns
        -------
        list of FoldDates
            Half-open ``[start, end)`` positions per fold, in time order.

        Raises
        ------
        ValueError
            If not even one fold fits in ``n_dates`` dates.
        """
        n_dates = _check_int("n_dates", n_dates, 0)
        usable = n_dates - (self.holdout + self.gap if self.holdout > 0 else 0)
        folds: list[FoldDates] = []
        j = 0
        while self.max_splits is None or len(folds) < self.max_splits:
            test_end = usable - j * self.step
            test_start = test_end - self.test_size
            train_start, train_end, valid_start, valid_end, n_train = self._windows_before(test_start)
            if test_start < 0 or valid_start < 0 or train_end < 0 or n_train < self.min_train_size:
                break
            folds.append(FoldDates(train_start, train_end, valid_start, valid_end, test_start, test_end))
            j += 1
        if not folds:
            raise ValueError(
                f"No walk-forward fold fits in {n_dates} distinct dates: {self!r} needs at least "
                f"{self.min_dates()} (min_train_size + gap + test_size"
                + (" + valid_size + gap" if self.valid_size > 0 else "")
                + (" + gap + holdout" if self.holdout > 0 else "")
                + ")."
            )
        folds.reverse()
        return folds

    # ---------------------------------------------------------------- indices

    @staticmethod
    def _codes(X: Any, groups: Any) -> tuple[np.ndarray, pd.Index]:
        """Date code of each row (0 = the first date) and the sorted distinct dates."""
        codes, uniques = pd.factorize(_dates_of(X, groups), sort=True)
        if codes.size and codes.min() < 0:
            bad = np.flatnonzero(codes < 0)
            raise ValueError(f"groups (the dates) has {bad.size} missing values; the first at row {bad[0]}.")
        return codes, pd.Index(uniques, name="date")

    @staticmethod
    def _rows(codes: np.ndarray, start: int, end: int) -> np.ndarray:
        if end <= start:
            return np.empty(0, np.int64)
        return np.flatnonzero((codes >= start) & (codes < end)).astype(np.int64, copy=False)

    def split_with_validation(self, X: Any = None, y: Any = None, groups: Any = None) -> Iterator[Fold]:
        """Yield ``Fold(train, valid, test)`` row indices, in time order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            Only used for its length and, when ``groups`` is None, its dates.
        y : array-like of shape (n_samples,), default=None
            Ignored; present for scikit-learn compatibility.
        groups : array-like of shape (n_samples,), default=None
            Date of each row.

        Yields
        ------
        Fold
            ``valid`` is empty when ``valid_size == 0``.

        Raises
        ------
        ValueError
            If no dates can be found or not even one fold fits.
        """
        codes, uniques = self._codes(X, groups)
        for f in self.fold_positions(len(uniques)):
            yield Fold(
                train=self._rows(codes, f.train_start, f.train_end),
                valid=self._rows(codes, f.valid_start, f.valid_end),
                test=self._rows(codes, f.test_start, f.test_end),
            )

    def split(self, X: Any = None, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` row indices, in time order (scikit-learn protocol).

        ``train`` excludes the validation window; use
        :meth:`split_with_validation` to get it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            Only used for its length and, when ``groups`` is None, its dates.
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Date of each row.

        Yields
        ------
        train : ndarray of shape (n_train,)
            Training rows.
        test : ndarray of shape (n_test,)
            Test rows.
        """
        for fold in self.split_with_validation(X, y, groups):
            yield fold.train, fold.test

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Return the number of folds ``split`` yields on these dates.

        Parameters
        ----------
        X : array-like, default=None
            Used for its dates when ``groups`` is None.
        y : array-like, default=None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Date of each row (required unless ``X`` carries the dates).

        Returns
        -------
        int
            Number of folds.
        """
        _, uniques = self._codes(X, groups)
        return len(self.fold_positions(len(uniques)))

    def holdout_indices(self, X: Any = None, y: Any = None, groups: Any = None) -> np.ndarray:
        """Rows of the final ``holdout`` dates, which no fold touches.

        {rows_params}

        Returns
        -------
        ndarray of shape (n_holdout_rows,)
            Ascending row positions (empty when ``holdout == 0``).
        """
        codes, uniques = self._codes(X, groups)
        n = len(uniques)
        if self.holdout == 0:
            return np.empty(0, np.int64)
        if self.holdout > n:
            raise ValueError(f"holdout={self.holdout} exceeds the {n} distinct dates in the data.")
        return self._rows(codes, n - self.holdout, n)

    def final_fold(self, X: Any = None, y: Any = None, groups: Any = None) -> Fold:
        """Return the fold for the final report: train (and validation) before the holdout, test on it.

        The windows follow the same rules as the other folds (sliding or
        expanding train, ``gap`` before validation and before the holdout).
        Only the final report should call this.

        {rows_params}

        Returns
        -------
        Fold
            ``test`` is :meth:`holdout_indices`.

        Raises
        ------
        ValueError
            If ``holdout == 0`` or the train window before it is shorter than
            ``min_train_size``.
        """
        codes, uniques = self._codes(X, groups)
        f = self.final_fold_positions(len(uniques))
        return Fold(
            train=self._rows(codes, f.train_start, f.train_end),
            valid=self._rows(codes, f.valid_start, f.valid_end),
            test=self._rows(codes, f.test_start, f.test_end),
        )

    def final_fold_positions(self, n_dates: int) -> FoldDates:
        """The windows of :meth:`final_fold` as half-open positions on the ``n_dates`` sorted
        distinct dates (:class:`FoldDates`; the test window is the holdout). Raises
        ``ValueError`` as :meth:`final_fold` does."""
        if self.holdout == 0:
            raise ValueError("final_fold needs holdout > 0; got holdout=0.")
        n = _check_int("n_dates", n_dates, 0)
        start = n - self.holdout
        train_start, train_end, valid_start, valid_end, n_train = self._windows_before(start)
        if start < 0 or valid_start < 0 or n_train < self.min_train_size:
            raise ValueError(
                f"The final train window before the holdout has {max(n_train, 0)} dates, fewer than "
                f"min_train_size={self.min_train_size} ({n} distinct dates in the data)."
            )
        return FoldDates(train_start, train_end, valid_start, valid_end, start, n)

    def fold_table(self, X: Any = None, y: Any = None, groups: Any = None) -> pd.DataFrame:
        """First and last date and row count of every window, one row per fold.

        {rows_params}

        Returns
        -------
        pandas.DataFrame
            Columns ``{train,valid,test}_{first,last,rows}``, one row per fold
            in time order (validation columns are NaN/0 without validation).
        """
        codes, uniques = self._codes(X, groups)
        counts = np.bincount(codes, minlength=len(uniques))
        rows = []
        for f in self.fold_positions(len(uniques)):
            rec: dict[str, Any] = {}
            for name, a, b in (
                ("train", f.train_start, f.train_end),
                ("valid", f.valid_start, f.valid_end),
                ("test", f.test_start, f.test_end),
            ):
                rec[f"{name}_first"] = uniques[a] if b > a else None
                rec[f"{name}_last"] = uniques[b - 1] if b > a else None
                rec[f"{name}_rows"] = int(counts[a:b].sum())
            rows.append(rec)
        return pd.DataFrame(rows)


_ROWS_PARAMS = """Parameters
        ----------
        X, y, groups
            As for :meth:`split`: the rows and the date of each row."""

for _method in (WalkForward.holdout_indices, WalkForward.final_fold, WalkForward.fold_table):
    if _method.__doc__:  # docstrings are absent under ``python -OO``
        _method.__doc__ = _method.__doc__.replace("{rows_params}", _ROWS_PARAMS)

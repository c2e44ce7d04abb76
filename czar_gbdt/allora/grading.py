"""Allora's pass rules, points and grade: the thresholds, the grade tables and the grading of a series.

The points are the primary metrics passed (7 at most) and map to a grade through
:data:`GRADES`; grades stored with the former eight-point table (:data:`LEGACY_GRADES`) are
re-graded by :func:`allora_regrade`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_rows, check_round
from .scores import BUILDER_KIT_PARTS, checked_rows

#: The builder kit commit (2026-04-27) whose grade table this module uses: points out of 7.
GRADE_TABLE_COMMIT = "e9bb684"
#: The commit of the former grade table (:data:`LEGACY_GRADES`): 7 metrics + temporal coverage.
LEGACY_GRADE_TABLE_COMMIT = "3fc8ea7b"


@dataclass(frozen=True)
class Threshold:
    """One primary metric's pass rule: ``value >= threshold`` or ``value < threshold``.

    Attributes
    ----------
    name : str
        The metric's name (a key of :data:`METRIC_FUNCTIONS`).
    threshold : float
        The builder kit's threshold.
    higher_is_better : bool
        ``True``: passes when ``value >= threshold``; ``False`` (p-values): when ``value < threshold``.
    """

    name: str
    threshold: float
    higher_is_better: bool

    def passes(self, value: float) -> bool:
        """Whether ``value`` passes (NaN never does)."""
        return bool(value >= self.threshold) if self.higher_is_better else bool(value < self.threshold)


#: The seven primary metrics and their pass rules, in the builder kit's order (``THRESHOLDS``).
PRIMARY: tuple[Threshold, ...] = (
    Threshold("allora_directional_accuracy", 0.52, True),
    Threshold("allora_da_ci_lower", 0.50, True),
    Threshold("allora_da_p_value", 0.05, False),
    Threshold("allora_pearson_r", 0.05, True),
    Threshold("allora_pearson_p_value", 0.05, False),
    Threshold("allora_wrmse_improvement", 0.05, True),
    Threshold("allora_czar_improvement", 0.10, True),
)

#: Grade of each number of points (the primary metrics passed), the builder kit's ``GRADES`` of e9bb684.
GRADES: dict[int, str] = {7: "A+", 6: "A", 5: "B+", 4: "B", 3: "C", 2: "D", 1: "F", 0: "F"}
MAX_POINTS = 7
#: The former table (3fc8ea7b): 7 primary metrics + 1 point for temporal coverage, 8 at most.
LEGACY_GRADES: dict[int, str] = {8: "A+", 7: "A", 6: "B+", 5: "B", 4: "C", 3: "D", 2: "F", 1: "F", 0: "F"}
LEGACY_MAX_POINTS = 8
#: Share of the expected epochs that must have a forecast for temporal coverage to pass (reported, not a point).
TEMPORAL_COVERAGE_THRESHOLD = 0.50


def allora_passed(values: Mapping[str, float]) -> dict[str, bool]:
    """Which of the seven primary metrics pass their thresholds (``check_primary_metrics_pass``).

    Parameters
    ----------
    values : mapping
        At least the seven names of :data:`PRIMARY` (for example :func:`allora_grade`'s result).

    Returns
    -------
    dict of str to bool
        One entry per primary metric, in the order of :data:`PRIMARY`; NaN never passes.
    """
    missing = [t.name for t in PRIMARY if t.name not in values]
    if missing:
        raise ValueError(f"values lacks the primary metrics {missing}; it has {sorted(values)}.")
    return {t.name: t.passes(values[t.name]) for t in PRIMARY}


def allora_grade_letter(points: int) -> str:
    """The grade of a number of points, 0 to 7 (:data:`GRADES`): 7 A+, 6 A, 5 B+, 4 B, 3 C, 2 D, <= 1 F.

    Parameters
    ----------
    points : int
        Primary metrics passed (temporal coverage is not a point).

    Returns
    -------
    str
    """
    points = check_round("points", points)
    if points > MAX_POINTS:
        raise ValueError(
            f"points must be at most {MAX_POINTS} (the primary metrics passed; temporal coverage "
            f"is not a point since builder kit {GRADE_TABLE_COMMIT}); got {points}."
        )
    return GRADES[points]


def allora_regrade(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored grade (``allora_points``, ``allora_grade``) on the current table; a copy of ``record``.

    A record made with the current table carries ``allora_max_points`` (7) and is returned
    unchanged. One without it was graded on the former eight-point table (:data:`LEGACY_GRADES`):
    every grade czar_gbdt stored earned the temporal-coverage point (it never passes an
    expected epoch count), so the current points are the stored ones minus 1, exactly, for one
    series and for a mean over assets alike. The grade is that of the points (rounded, for a
    mean), and ``allora_regraded_from`` names the former table.

    Parameters
    ----------
    record : mapping
        A dict with ``allora_points`` and ``allora_grade`` (a model of ``holdout.json``, a fold
        row); a record without them, or with no grade (``"n/a"``), is returned as it is.

    Returns
    -------
    dict
    """
    out = dict(record)
    points = out.get("allora_points")
    if "allora_max_points" in out or not isinstance(points, numbers.Real) or isinstance(points, bool):
        return out
    if not np.isfinite(points) or out.get("allora_grade") in (None, "n/a"):
        return out
    new = max(points - 1, 0)
    out["allora_points"] = new
    out["allora_grade"] = allora_grade_letter(int(np.floor(new + 0.5)))
    out["allora_max_points"] = MAX_POINTS
    out["allora_regraded_from"] = f"{LEGACY_MAX_POINTS}-point table of builder kit {LEGACY_GRADE_TABLE_COMMIT}"
    return out


def allora_grade(
    y_true: Any, y_pred: Any, *, n_expected_epochs: int | None = None, nan_policy: str = "omit"
) -> dict[str, Any]:
    """Allora's seven primary metrics, the points passed and the grade (``PerformanceEvaluator.evaluate``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Realised log returns, in time order.
    y_pred : array-like of shape (n_samples,)
        Forecast log returns, aligned with ``y_true``.
    n_expected_epochs : int or None, default=None
        Epochs of the evaluation window. Temporal coverage passes when the rows scored cover
        at least :data:`TEMPORAL_COVERAGE_THRESHOLD` of them (never when it is 0); ``None``
        (the builder kit's default) reports it as None. It is reported, never a point.
    nan_policy : {"omit", "raise", "propagate"}, default="omit"
        Rows where ``y_true`` or ``y_pred`` is NaN or infinite. ``"omit"`` leaves them out
        (as :func:`czar_gbdt.metrics.rank_ic` does; they count as uncovered epochs);
        ``"raise"`` refuses them, naming the first row; ``"propagate"`` passes them through
        the builder kit's arithmetic unchanged, as the builder kit does: a NaN forecast is a
        directional miss, a NaN target makes Pearson r 0, the WRMSE improvement 0 and the
        CZAR improvement NaN, a NaN forecast makes the WRMSE improvement NaN, and NaN fails.

    Returns
    -------
    dict
        The seven metrics under their names (:data:`PRIMARY`) and the builder kit's details:
        ``allora_da_ci_upper``, ``allora_da_n_samples`` (rows with ``y_true != 0``),
        ``allora_da_n_effective``, ``allora_da_n_correct``, ``allora_da_autocorrelation``,
        ``allora_wrmse_model``, ``allora_wrmse_baseline``, ``allora_czar_model``,
        ``allora_czar_oracle``; then ``allora_n_rows`` (rows scored), ``allora_n_omitted``,
        ``allora_passed`` (metric name -> bool), ``allora_primary_passed`` (0-7),
        ``allora_points`` (the same count: the primary metrics passed), ``allora_max_points``
        (7), ``allora_score`` (``points / 7``), ``allora_grade``, and beside them
        ``allora_temporal_coverage`` (the share of the expected epochs scored) and
        ``allora_temporal_coverage_pass``, both None without ``n_expected_epochs``. Plain
        Python numbers, ready for JSON.

    Raises
    ------
    ValueError
        If the inputs are not aligned 1-d numbers, fewer than 2 rows remain (Pearson r needs
        2; the builder kit fails there too), ``nan_policy`` is unknown, or ``"raise"`` meets a
        non-finite value.
    """
    yt, yp, omitted = checked_rows(y_true, y_pred, nan_policy, 2, "allora_grade")
    out: dict[str, Any] = {}
    for part in BUILDER_KIT_PARTS:
        out.update(part(yt, yp))
    passed = allora_passed(out)
    coverage: float | None = None
    coverage_pass: bool | None = None
    if n_expected_epochs is not None:
        expected = check_round("n_expected_epochs", n_expected_epochs)
        coverage = yt.shape[0] / expected if expected > 0 else 0.0
        coverage_pass = expected > 0 and coverage >= TEMPORAL_COVERAGE_THRESHOLD
    points = int(sum(passed.values()))
    out.update(
        {
            "allora_n_rows": int(yt.shape[0]),
            "allora_n_omitted": int(omitted),
            "allora_passed": passed,
            "allora_primary_passed": points,
            "allora_points": points,
            "allora_max_points": MAX_POINTS,
            "allora_score": points / MAX_POINTS,
            "allora_grade": allora_grade_letter(points),
            "allora_temporal_coverage": coverage,
            "allora_temporal_coverage_pass": coverage_pass,
        }
    )
    return out


def allora_grade_by_asset(
    y_true: Any, y_pred: Any, *, assets: Any, dates: Any = None, nan_policy: str = "omit"
) -> pd.DataFrame:
    """:func:`allora_grade` of each asset of a panel, one row per asset.

    Allora grades one series; on a panel this grades each asset's series on its own (rows
    put in date order within each asset when ``dates`` is given). Average the columns
    yourself and label the result as an average of per-asset grades.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Realised and forecast log returns.
    assets : array-like of shape (n_samples,)
        Asset of each row.
    dates : array-like of shape (n_samples,), optional
        Date of each row; without it the rows of each asset must already be in time order.
    nan_policy : {"omit", "raise", "propagate"}, default="omit"
        As in :func:`allora_grade`.

    Returns
    -------
    pandas.DataFrame
        Indexed by asset (sorted), with the scalar entries of :func:`allora_grade` as columns
        (``allora_passed`` is left out: its entries are the metrics' pass flags).

    Raises
    ------
    ValueError
        If the inputs are not aligned, an asset or date is missing, or an asset has fewer
        than 2 rows to score (the error names it).
    """
    yt = as_rows("y_true", y_true).astype(np.float64, copy=False)
    yp = as_rows("y_pred", y_pred).astype(np.float64, copy=False)
    n = yt.shape[0]
    for name, values in (("y_pred", yp), ("assets", assets)) + ((("dates", dates),) if dates is not None else ()):
        if len(values) != n:
            raise ValueError(
                f"{name} has length {len(values)} but y_true has length {n}; they must be aligned row by row."
            )
    codes, labels = pd.factorize(np.asarray(assets), sort=True)
    if (codes < 0).any():
        raise ValueError(
            f"assets has {int((codes < 0).sum())} missing values; the first at row {int(np.flatnonzero(codes < 0)[0])}."
        )
    if dates is None:
        order = np.argsort(codes, kind="stable")
    else:
        date_codes, _ = pd.factorize(np.asarray(dates), sort=True)
        if (date_codes < 0).any():
            raise ValueError(
                f"dates has {int((date_codes < 0).sum())} missing values; the first at row "
                f"{int(np.flatnonzero(date_codes < 0)[0])}."
            )
        order = np.lexsort((date_codes, codes))
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    rows = []
    for a, label in enumerate(labels):
        idx = order[bounds[a] : bounds[a + 1]]
        try:
            res = allora_grade(yt[idx], yp[idx], nan_policy=nan_policy)
        except ValueError as exc:
            raise ValueError(f"asset {_plain(label)!r}: {exc}") from None
        res.pop("allora_passed")
        rows.append(res)
    return pd.DataFrame(rows, index=pd.Index(labels, name="asset"))


def _plain(label: Any) -> Any:
    """A numpy scalar label as the Python value it holds (for messages)."""
    return label.item() if isinstance(label, np.generic) else label

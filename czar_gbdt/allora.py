"""Allora's evaluation of a single-series forecast of log returns: seven metrics and a grade.

This module reproduces the seven primary metrics, their thresholds and the grade of
``PerformanceEvaluator`` (the "v3.0 evaluation framework") of the Allora forge builder kit:
repository ``allora-network/allora-forge-builder-kit``, file
``allora_forge_builder_kit/evaluation.py``. The metrics and thresholds are those of commit
``3fc8ea7b35b17119d4628e9e8d46062535f40653``; the grade is that of commit ``e9bb684``
(2026-04-27), which scores on seven points instead of eight. ``docs/allora.md`` lists the
definitions, what changed between the two commits and where this module differs from the
builder kit.

The names start with ``allora_`` because the builder kit's "CZAR improvement" is an
evaluation score and not the CZAR loss of :mod:`czar_gbdt.losses`. The seven metrics are:

==============================  ==========  =================================================
name                            passes if   definition (builder kit)
==============================  ==========  =================================================
``allora_directional_accuracy``  >= 0.52     share of rows with ``sign(y_pred) == sign(y_true)``,
                                             rows with ``y_true == 0`` left out
``allora_da_ci_lower``           >= 0.50     lower end of its 95% Wilson interval (``n_eff``)
``allora_da_p_value``            < 0.05      one-sided z-test of DA > 0.5, continuity correction,
                                             ``n_eff`` from the lag-1 autocorrelation of the hits
``allora_pearson_r``             >= 0.05     ``scipy.stats.pearsonr`` (0 when undefined)
``allora_pearson_p_value``       < 0.05      its two-sided p-value (1 when undefined)
``allora_wrmse_improvement``     >= 0.05     1 - WRMSE(model) / WRMSE(zero forecast), weights
                                             ``|y_true|``
``allora_czar_improvement``      >= 0.10     ``sum(+-|z|) / sum(|z|)``, ``z = y_true / std``,
                                             ``+`` when the signs agree; 0 when ``std == 0``
==============================  ==========  =================================================

Each metric is computed with the builder kit's operations in its order, including its
edge cases (zero returns, a constant series, an undefined correlation);
``nan_policy="propagate"`` also reproduces its arithmetic on NaN inputs. The points are the
metrics passed, 7 at most, and they map to a grade through :data:`GRADES`; temporal coverage
is reported beside them (None when no expected epoch count is given) and is never a point.
Grades stored with the former eight-point table (:data:`LEGACY_GRADES`) are re-graded by
:func:`allora_regrade`.

Rows must be in time order: the effective sample size of the directional test comes from
the lag-1 autocorrelation of the hit sequence.

See Also
--------
scipy.stats.pearsonr, scipy.stats.norm : the builder kit's own tools, used the same way here.
czar_gbdt.metrics.ts_rank_ic : the time-series rank IC of a single series.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._validation import as_rows, check_round, check_unweighted, first_bad

__all__ = [
    "BUILDER_KIT_COMMIT",
    "GRADE_TABLE_COMMIT",
    "LEGACY_GRADE_TABLE_COMMIT",
    "Threshold",
    "PRIMARY",
    "GRADES",
    "MAX_POINTS",
    "LEGACY_GRADES",
    "LEGACY_MAX_POINTS",
    "TEMPORAL_COVERAGE_THRESHOLD",
    "NAN_POLICIES",
    "METRIC_FUNCTIONS",
    "allora_directional_accuracy",
    "allora_da_ci_lower",
    "allora_da_p_value",
    "allora_pearson_r",
    "allora_pearson_p_value",
    "allora_wrmse_improvement",
    "allora_czar_improvement",
    "allora_passed",
    "allora_grade_letter",
    "allora_grade",
    "allora_grade_by_asset",
    "allora_regrade",
]

#: The builder kit commit whose metrics and thresholds this module reproduces
#: (``allora_forge_builder_kit/evaluation.py``); the later commit below kept them.
BUILDER_KIT_COMMIT = "3fc8ea7b35b17119d4628e9e8d46062535f40653"
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
#: What to do with rows where ``y_true`` or ``y_pred`` is not finite (see :func:`allora_grade`).
NAN_POLICIES = ("omit", "raise", "propagate")

_DOC_ARGS = """Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Realised log returns, in time order.
    y_pred : array-like of shape (n_samples,)
        Forecast log returns, aligned with ``y_true``.
    sample_weight : None
        Accepted for the backend eval wrappers; the builder kit's metrics are unweighted, so
        weights that are not all equal are refused.
    nan_policy : {"omit", "raise", "propagate"}, default="omit"
        Rows where either side is NaN or infinite: left out, refused, or passed through
        the builder kit's arithmetic unchanged (see :func:`allora_grade`)."""


# --------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------


def _rows(y_true: Any, y_pred: Any, nan_policy: str, min_rows: int, what: str) -> tuple[np.ndarray, np.ndarray, int]:
    """``(y_true, y_pred, n_omitted)`` as float64 vectors after the NaN policy."""
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {NAN_POLICIES}; got {nan_policy!r}.")
    yt = as_rows("y_true", y_true).astype(np.float64, copy=False)
    yp = as_rows("y_pred", y_pred).astype(np.float64, copy=False)
    if yt.shape[0] != yp.shape[0]:
        raise ValueError(f"y_pred has length {yp.shape[0]} but y_true has length {yt.shape[0]}; "
                         "they must be aligned row by row.")
    n_rows = yt.shape[0]
    omitted = 0
    if nan_policy == "raise":
        first_bad("y_true", yt, np.isfinite(yt), "finite (nan_policy='raise')")
        first_bad("y_pred", yp, np.isfinite(yp), "finite (nan_policy='raise')")
    elif nan_policy == "omit":
        keep = np.isfinite(yt) & np.isfinite(yp)
        if not keep.all():
            yt, yp = yt[keep], yp[keep]
            omitted = n_rows - yt.shape[0]
    if yt.shape[0] < min_rows:
        dropped = f" after leaving out {omitted} rows where y_true or y_pred is not finite" if omitted else ""
        raise ValueError(f"{what} needs at least {min_rows} rows; got {yt.shape[0]}{dropped}.")
    return yt, yp, omitted


# --------------------------------------------------------------------------
# the builder kit's computations, on rows already checked
# --------------------------------------------------------------------------


def _directional(yt: np.ndarray, yp: np.ndarray) -> dict[str, float]:
    """``calculate_directional_metrics``: DA, its Wilson interval and z-test on ``n_eff``."""
    nonzero = yt != 0
    yt_nz, yp_nz = yt[nonzero], yp[nonzero]
    n = yt_nz.shape[0]
    if n == 0:
        return {"allora_directional_accuracy": 0.5, "allora_da_ci_lower": 0.0, "allora_da_ci_upper": 1.0,
                "allora_da_p_value": 1.0, "allora_da_n_samples": 0, "allora_da_n_effective": 0.0,
                "allora_da_n_correct": 0, "allora_da_autocorrelation": 0.0}
    correct = np.sign(yt_nz) == np.sign(yp_nz)
    da = np.mean(correct)
    hits = correct.astype(float)
    if n > 2:
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)   # a constant hit sequence: rho is NaN, taken as 0
            rho = np.corrcoef(hits[:-1], hits[1:])[0, 1]
        if np.isnan(rho):
            rho = 0.0
        rho = max(rho, 0.0)
        n_eff = max(n * (1 - rho) / (1 + rho), 2.0)
    else:
        rho = 0.0
        n_eff = float(n)
    # one-sided z-test of H0: p = 0.5 against p > 0.5, with continuity correction
    z_stat = max((da - 0.5 - 0.5 / n_eff) / np.sqrt(0.25 / n_eff), 0.0)
    p_value = 1.0 - stats.norm.cdf(z_stat)
    # Wilson score interval on the effective sample size
    z_ci = 1.96
    denominator = 1 + z_ci**2 / n_eff
    center = (da + z_ci**2 / (2 * n_eff)) / denominator
    margin = z_ci * np.sqrt((da * (1 - da) / n_eff + z_ci**2 / (4 * n_eff**2))) / denominator
    return {"allora_directional_accuracy": float(da), "allora_da_ci_lower": float(center - margin),
            "allora_da_ci_upper": float(center + margin), "allora_da_p_value": float(p_value),
            "allora_da_n_samples": int(n), "allora_da_n_effective": float(n_eff),
            "allora_da_n_correct": int(np.sum(correct)), "allora_da_autocorrelation": float(rho)}


def _pearson(yt: np.ndarray, yp: np.ndarray) -> dict[str, float]:
    """``calculate_correlation_metrics`` (its Pearson part): r and p are 0 and 1 when undefined."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore")
        r, p = stats.pearsonr(yp, yt)
    if np.isnan(r):
        r, p = 0.0, 1.0
    return {"allora_pearson_r": float(r), "allora_pearson_p_value": float(p)}


def _wrmse(yt: np.ndarray, yp: np.ndarray) -> dict[str, float]:
    """``calculate_wrmse_improvement``: weights ``|y_true|``, baseline the zero forecast."""
    weights = np.abs(yt)
    weights_sum = np.sum(weights)
    if weights_sum == 0:
        return {"allora_wrmse_model": 0.0, "allora_wrmse_baseline": 0.0, "allora_wrmse_improvement": 0.0}
    with np.errstate(invalid="ignore", over="ignore"):
        model = np.sqrt(np.sum(weights * (yt - yp) ** 2) / weights_sum)
        baseline = np.sqrt(np.sum(weights * yt**2) / weights_sum)
        improvement = (baseline - model) / baseline if baseline > 0 else 0.0
    return {"allora_wrmse_model": float(model), "allora_wrmse_baseline": float(baseline),
            "allora_wrmse_improvement": float(improvement)}


def _czar(yt: np.ndarray, yp: np.ndarray) -> dict[str, float]:
    """``calculate_czar_improvement``: the z-scored return captured by the signs, over the oracle's."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        stdev = np.std(yt)
        if stdev == 0:
            return {"allora_czar_model": 0.0, "allora_czar_oracle": 0.0, "allora_czar_improvement": 0.0}
        z_true = yt / stdev
        correct = np.sign(yt) == np.sign(yp)
        model = np.sum(np.where(correct, np.abs(z_true), -np.abs(z_true)))
        oracle = np.sum(np.abs(z_true))
        improvement = model / oracle
    return {"allora_czar_model": float(model), "allora_czar_oracle": float(oracle),
            "allora_czar_improvement": float(improvement)}


# --------------------------------------------------------------------------
# the seven metrics, one function each (the signature of czar_gbdt.metrics)
# --------------------------------------------------------------------------


def _one(part: Callable[[np.ndarray, np.ndarray], dict], key: str, y_true: Any, y_pred: Any, sample_weight: Any,
         nan_policy: str, min_rows: int = 1) -> float:
    """The metric ``key`` of the builder kit's computation ``part``, after the input checks."""
    yt, yp, omitted = _rows(y_true, y_pred, nan_policy, min_rows, key)
    check_unweighted(key, sample_weight, yt.shape[0] + omitted)
    return part(yt, yp)[key]


def allora_directional_accuracy(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                                nan_policy: str = "omit") -> float:
    """Allora's directional accuracy: the share of rows whose forecast has the target's sign.

    Rows with ``y_true == 0`` are left out (direction undefined); a forecast of exactly 0 on
    a non-zero target is a miss. With no row left the builder kit returns 0.5.

    {args}

    Returns
    -------
    float
        In [0, 1]; Allora's threshold is >= 0.52.
    """
    return _one(_directional, "allora_directional_accuracy", y_true, y_pred, sample_weight, nan_policy)


def allora_da_ci_lower(y_true: Any, y_pred: Any, *, sample_weight: Any = None, nan_policy: str = "omit") -> float:
    """Lower end of the 95% Wilson interval of Allora's directional accuracy.

    The interval uses ``z = 1.96`` and the effective sample size
    ``n_eff = max(n (1 - rho) / (1 + rho), 2)``, where ``rho >= 0`` is the lag-1 autocorrelation
    of the hit sequence (0 when it is undefined) and ``n`` the rows with ``y_true != 0``;
    ``n_eff = n`` when ``n <= 2``. With no such row it is 0.

    {args}

    Returns
    -------
    float
        Allora's threshold is >= 0.50.
    """
    return _one(_directional, "allora_da_ci_lower", y_true, y_pred, sample_weight, nan_policy)


def allora_da_p_value(y_true: Any, y_pred: Any, *, sample_weight: Any = None, nan_policy: str = "omit") -> float:
    """p-value of Allora's one-sided z-test that directional accuracy exceeds 0.5 (lower is better).

    ``z = max((DA - 0.5 - 0.5 / n_eff) / sqrt(0.25 / n_eff), 0)`` (continuity correction,
    ``n_eff`` as in :func:`allora_da_ci_lower`) and ``p = 1 - Phi(z)``, so ``p <= 0.5``; it
    is 1 when no row has ``y_true != 0``.

    {args}

    Returns
    -------
    float
        Allora's threshold is < 0.05.
    """
    return _one(_directional, "allora_da_p_value", y_true, y_pred, sample_weight, nan_policy)


def allora_pearson_r(y_true: Any, y_pred: Any, *, sample_weight: Any = None, nan_policy: str = "omit") -> float:
    """Pearson correlation of forecast and target, ``scipy.stats.pearsonr``; 0 when undefined.

    A constant side (or a NaN passed through with ``nan_policy="propagate"``) makes the
    correlation undefined: the builder kit then reports 0 (and a p-value of 1).

    {args}

    Returns
    -------
    float
        In [-1, 1]; Allora's threshold is >= 0.05.

    Raises
    ------
    ValueError
        With fewer than 2 rows (``scipy.stats.pearsonr`` needs 2).
    """
    return _one(_pearson, "allora_pearson_r", y_true, y_pred, sample_weight, nan_policy, 2)


def allora_pearson_p_value(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                           nan_policy: str = "omit") -> float:
    """Two-sided p-value of :func:`allora_pearson_r` (``scipy.stats.pearsonr``); 1 when undefined.

    Lower is better.

    {args}

    Returns
    -------
    float
        Allora's threshold is < 0.05.

    Raises
    ------
    ValueError
        With fewer than 2 rows.
    """
    return _one(_pearson, "allora_pearson_p_value", y_true, y_pred, sample_weight, nan_policy, 2)


def allora_wrmse_improvement(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                             nan_policy: str = "omit") -> float:
    """Allora's WRMSE improvement over the zero forecast.

    ``WRMSE(f) = sqrt(sum(|y| (y - f)**2) / sum(|y|))`` and the result is
    ``(WRMSE(0) - WRMSE(y_pred)) / WRMSE(0)``; 0 when every target is 0.

    {args}

    Returns
    -------
    float
        At most 1 (a perfect forecast); Allora's threshold is >= 0.05.
    """
    return _one(_wrmse, "allora_wrmse_improvement", y_true, y_pred, sample_weight, nan_policy)


def allora_czar_improvement(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                            nan_policy: str = "omit") -> float:
    """Allora's "CZAR improvement": an evaluation score of the forecast's signs, not the CZAR loss.

    With ``z = y_true / std(y_true)`` (population std), the z-scored absolute returns the
    forecast's signs capture, minus those they miss, over all of them:
    ``sum(where(sign(y_true) == sign(y_pred), |z|, -|z|)) / sum(|z|)``. 0 for a constant
    target (``std == 0``); a zero target weighs nothing; a zero forecast on a non-zero target
    is a miss.

    {args}

    Returns
    -------
    float
        In [-1, 1] (0 when the signs are right as often as wrong, weighted by size); Allora's
        threshold is >= 0.10.
    """
    return _one(_czar, "allora_czar_improvement", y_true, y_pred, sample_weight, nan_policy)


#: The seven primary metrics by name.
METRIC_FUNCTIONS: dict[str, Callable[..., float]] = {
    f.__name__: f for f in (allora_directional_accuracy, allora_da_ci_lower, allora_da_p_value, allora_pearson_r,
                            allora_pearson_p_value, allora_wrmse_improvement, allora_czar_improvement)
}
for _f in METRIC_FUNCTIONS.values():
    if _f.__doc__:  # docstrings are absent under ``python -OO``
        _f.__doc__ = _f.__doc__.replace("{args}", _DOC_ARGS)


# --------------------------------------------------------------------------
# pass / fail, points and the grade
# --------------------------------------------------------------------------


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
        raise ValueError(f"points must be at most {MAX_POINTS} (the primary metrics passed; temporal coverage "
                         f"is not a point since builder kit {GRADE_TABLE_COMMIT}); got {points}.")
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


def allora_grade(y_true: Any, y_pred: Any, *, n_expected_epochs: int | None = None,
                 nan_policy: str = "omit") -> dict[str, Any]:
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
    yt, yp, omitted = _rows(y_true, y_pred, nan_policy, 2, "allora_grade")
    out: dict[str, Any] = {}
    for part in (_directional, _pearson, _wrmse, _czar):
        out.update(part(yt, yp))
    passed = allora_passed(out)
    coverage: float | None = None
    coverage_pass: bool | None = None
    if n_expected_epochs is not None:
        expected = check_round("n_expected_epochs", n_expected_epochs)
        coverage = yt.shape[0] / expected if expected > 0 else 0.0
        coverage_pass = expected > 0 and coverage >= TEMPORAL_COVERAGE_THRESHOLD
    points = int(sum(passed.values()))
    out.update({"allora_n_rows": int(yt.shape[0]), "allora_n_omitted": int(omitted), "allora_passed": passed,
                "allora_primary_passed": points, "allora_points": points, "allora_max_points": MAX_POINTS,
                "allora_score": points / MAX_POINTS, "allora_grade": allora_grade_letter(points),
                "allora_temporal_coverage": coverage, "allora_temporal_coverage_pass": coverage_pass})
    return out


def allora_grade_by_asset(y_true: Any, y_pred: Any, *, assets: Any, dates: Any = None,
                          nan_policy: str = "omit") -> pd.DataFrame:
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
            raise ValueError(f"{name} has length {len(values)} but y_true has length {n}; "
                             "they must be aligned row by row.")
    codes, labels = pd.factorize(np.asarray(assets), sort=True)
    if (codes < 0).any():
        raise ValueError(f"assets has {int((codes < 0).sum())} missing values; the first at row "
                         f"{int(np.flatnonzero(codes < 0)[0])}.")
    if dates is None:
        order = np.argsort(codes, kind="stable")
    else:
        date_codes, _ = pd.factorize(np.asarray(dates), sort=True)
        if (date_codes < 0).any():
            raise ValueError(f"dates has {int((date_codes < 0).sum())} missing values; the first at row "
                             f"{int(np.flatnonzero(date_codes < 0)[0])}.")
        order = np.lexsort((date_codes, codes))
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    rows = []
    for a, label in enumerate(labels):
        idx = order[bounds[a]:bounds[a + 1]]
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

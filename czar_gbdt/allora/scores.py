"""Allora's seven primary metrics of a single series, computed as the builder kit computes them.

The builder kit's four computations (directional, Pearson, WRMSE, CZAR improvement) run on
rows already checked by :func:`checked_rows`; each of the seven metric functions returns one
entry of one computation, and :func:`czar_gbdt.allora.allora_grade` runs all four at once
(:data:`BUILDER_KIT_PARTS`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from .._validation import as_rows, check_unweighted, first_bad

#: The builder kit commit whose metrics and thresholds this module reproduces
#: (``allora_forge_builder_kit/evaluation.py``); the later commit of
#: :data:`czar_gbdt.allora.GRADE_TABLE_COMMIT` kept them.
BUILDER_KIT_COMMIT = "3fc8ea7b35b17119d4628e9e8d46062535f40653"
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


def checked_rows(
    y_true: Any, y_pred: Any, nan_policy: str, min_rows: int, what: str
) -> tuple[np.ndarray, np.ndarray, int]:
    """``(y_true, y_pred, n_omitted)`` as float64 vectors after the NaN policy."""
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {NAN_POLICIES}; got {nan_policy!r}.")
    yt = as_rows("y_true", y_true).astype(np.float64, copy=False)
    yp = as_rows("y_pred", y_pred).astype(np.float64, copy=False)
    if yt.shape[0] != yp.shape[0]:
        raise ValueError(
            f"y_pred has length {yp.shape[0]} but y_true has length {yt.shape[0]}; they must be aligned row by row."
        )
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
        return {
            "allora_directional_accuracy": 0.5,
            "allora_da_ci_lower": 0.0,
            "allora_da_ci_upper": 1.0,
            "allora_da_p_value": 1.0,
            "allora_da_n_samples": 0,
            "allora_da_n_effective": 0.0,
            "allora_da_n_correct": 0,
            "allora_da_autocorrelation": 0.0,
        }
    correct = np.sign(yt_nz) == np.sign(yp_nz)
    da = np.mean(correct)
    hits = correct.astype(float)
    if n > 2:
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # a constant hit sequence: rho is NaN, taken as 0
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
    margin = z_ci * np.sqrt(da * (1 - da) / n_eff + z_ci**2 / (4 * n_eff**2)) / denominator
    return {
        "allora_directional_accuracy": float(da),
        "allora_da_ci_lower": float(center - margin),
        "allora_da_ci_upper": float(center + margin),
        "allora_da_p_value": float(p_value),
        "allora_da_n_samples": int(n),
        "allora_da_n_effective": float(n_eff),
        "allora_da_n_correct": int(np.sum(correct)),
        "allora_da_autocorrelation": float(rho),
    }


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
    return {
        "allora_wrmse_model": float(model),
        "allora_wrmse_baseline": float(baseline),
        "allora_wrmse_improvement": float(improvement),
    }


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
    return {
        "allora_czar_model": float(model),
        "allora_czar_oracle": float(oracle),
        "allora_czar_improvement": float(improvement),
    }


#: The builder kit's computations in its order, each ``part(y_true, y_pred) -> dict`` on checked rows.
BUILDER_KIT_PARTS: tuple[Callable[[np.ndarray, np.ndarray], dict], ...] = (_directional, _pearson, _wrmse, _czar)


# --------------------------------------------------------------------------
# the seven metrics, one function each (the signature of czar_gbdt.metrics)
# --------------------------------------------------------------------------


def _one(
    part: Callable[[np.ndarray, np.ndarray], dict],
    key: str,
    y_true: Any,
    y_pred: Any,
    sample_weight: Any,
    nan_policy: str,
    min_rows: int = 1,
) -> float:
    """The metric ``key`` of the builder kit's computation ``part``, after the input checks."""
    yt, yp, omitted = checked_rows(y_true, y_pred, nan_policy, min_rows, key)
    check_unweighted(key, sample_weight, yt.shape[0] + omitted)
    return part(yt, yp)[key]


def allora_directional_accuracy(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, nan_policy: str = "omit"
) -> float:
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


def allora_pearson_p_value(y_true: Any, y_pred: Any, *, sample_weight: Any = None, nan_policy: str = "omit") -> float:
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


def allora_wrmse_improvement(y_true: Any, y_pred: Any, *, sample_weight: Any = None, nan_policy: str = "omit") -> float:
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


def allora_czar_improvement(y_true: Any, y_pred: Any, *, sample_weight: Any = None, nan_policy: str = "omit") -> float:
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
    f.__name__: f
    for f in (
        allora_directional_accuracy,
        allora_da_ci_lower,
        allora_da_p_value,
        allora_pearson_r,
        allora_pearson_p_value,
        allora_wrmse_improvement,
        allora_czar_improvement,
    )
}
for _f in METRIC_FUNCTIONS.values():
    if _f.__doc__:  # docstrings are absent under ``python -OO``
        _f.__doc__ = _f.__doc__.replace("{args}", _DOC_ARGS)

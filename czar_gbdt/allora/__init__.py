"""Allora's evaluation of a single-series forecast of log returns: seven metrics and a grade.

This package reproduces the seven primary metrics, their thresholds and the grade of
``PerformanceEvaluator`` (the "v3.0 evaluation framework") of the Allora forge builder kit:
repository ``allora-network/allora-forge-builder-kit``, file
``allora_forge_builder_kit/evaluation.py``. The metrics and thresholds are those of commit
``3fc8ea7b35b17119d4628e9e8d46062535f40653``; the grade is that of commit ``e9bb684``
(2026-04-27), which scores on seven points instead of eight. ``docs/allora.md`` lists the
definitions, what changed between the two commits and where this package differs from the
builder kit. :mod:`czar_gbdt.allora.scores` holds the seven metrics, :mod:`czar_gbdt.allora.grading`
the thresholds, the points and the grade.

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

from .grading import (
    GRADE_TABLE_COMMIT,
    GRADES,
    LEGACY_GRADE_TABLE_COMMIT,
    LEGACY_GRADES,
    LEGACY_MAX_POINTS,
    MAX_POINTS,
    PRIMARY,
    TEMPORAL_COVERAGE_THRESHOLD,
    Threshold,
    allora_grade,
    allora_grade_by_asset,
    allora_grade_letter,
    allora_passed,
    allora_regrade,
)
from .scores import (
    BUILDER_KIT_COMMIT,
    METRIC_FUNCTIONS,
    NAN_POLICIES,
    allora_czar_improvement,
    allora_da_ci_lower,
    allora_da_p_value,
    allora_directional_accuracy,
    allora_pearson_p_value,
    allora_pearson_r,
    allora_wrmse_improvement,
)

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

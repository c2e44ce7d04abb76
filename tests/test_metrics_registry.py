"""Tests for czar_gbdt.metrics.registry: METRICS, the scalar metrics by name (Allora's scores included)."""

from metrics_helpers import random_panel

from czar_gbdt import metrics

# --------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------


def test_registry():
    dates, y, p = random_panel(7)
    for name, m in metrics.METRICS.items():
        assert m.name == name and m.higher_is_better
        value = m.func(y, p, dates=dates) if m.needs_dates else m.func(y, p)
        assert isinstance(value, float)
    assert metrics.METRICS["rank_ic"].func(y, p, dates=dates) == metrics.rank_ic(y, p, dates=dates).mean


def test_registered_as_metrics():
    for name in (
        "allora_directional_accuracy",
        "allora_da_ci_lower",
        "allora_pearson_r",
        "allora_wrmse_improvement",
        "allora_czar_improvement",
        "ts_rank_ic",
    ):
        m = metrics.METRICS[name]
        assert m.higher_is_better and not m.needs_dates and m.name == name
    # the p-values pass when low: tests, not registered as scores
    assert "allora_da_p_value" not in metrics.METRICS and "allora_pearson_p_value" not in metrics.METRICS

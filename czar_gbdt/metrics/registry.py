"""METRICS: the scalar metrics by name, for configs, backend eval wrappers and the tuner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import allora
from .correlation import mean_ic, mean_rank_ic
from .directional import directional_accuracy
from .timeseries import ts_rank_ic


@dataclass(frozen=True)
class Metric:
    """A scalar metric with the metadata a backend eval wrapper needs.

    Attributes
    ----------
    name : str
        Registry key.
    func : callable
        ``func(y_true, y_pred, **kwargs) -> float``; per-date metrics take
        ``dates=`` (an array or a :class:`DateGroups`), the others
        ``sample_weight=``.
    higher_is_better : bool
        Direction for early stopping and tuning.
    needs_dates : bool
        Whether ``func`` takes ``dates=``.
    """

    name: str
    func: Callable[..., float]
    higher_is_better: bool
    needs_dates: bool


#: Scalar metrics by name, for configs, backend eval wrappers and the tuner.
METRICS: dict[str, Metric] = {
    "rank_ic": Metric("rank_ic", mean_rank_ic, higher_is_better=True, needs_dates=True),
    "ic": Metric("ic", mean_ic, higher_is_better=True, needs_dates=True),
    "directional_accuracy": Metric(
        "directional_accuracy", directional_accuracy, higher_is_better=True, needs_dates=False
    ),
    "ts_rank_ic": Metric("ts_rank_ic", ts_rank_ic, higher_is_better=True, needs_dates=False),
    # Allora's scores that are higher-is-better (its two p-values are pass/fail tests, not targets)
    **{
        t.name: Metric(t.name, allora.METRIC_FUNCTIONS[t.name], higher_is_better=True, needs_dates=False)
        for t in allora.PRIMARY
        if t.higher_is_better
    },
}

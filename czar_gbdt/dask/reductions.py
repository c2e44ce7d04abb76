"""Distributed reductions on dask collections: the starting score and hessian scale of a loss, and
the rank IC and IC of predictions, each a pass (or a few) over the partitions, never collected."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .. import _adapters as _ad
from .. import metrics
from .._imports import try_import
from .._jit import numba_threads
from ..datasets.checks import SIDE_RULES
from ..datasets.errors import DataError
from ..losses import BaseLoss
from .parts import aligned, as_array, check_loss, get_client, partitions, worker_threads

with try_import("dask", min_version="2026.8", extra="dask", module="czar_gbdt.dask") as _imports:
    import dask

__all__ = ["hessian_scale", "ic", "init_score", "rank_ic"]

_GRID = 16  # points per distributed pass of the starting-score search
_ROOT_TOL = 1e-13  # relative to the label range: where the section search stops


def _moments_part(i: int, y: Any, std: Any, mean: Any, weight: Any, binary: bool) -> dict:
    """Row count, weight sums, label range and the first invalid value of one partition."""
    y, std, mean, weight = as_array(y), as_array(std), as_array(mean), as_array(weight)
    n = y.shape[0]
    out = {"n": n, "sum_w": 0.0, "sum_w_inv_var": 0.0, "y_min": math.inf, "y_max": -math.inf, "bad": None}
    rules = [
        (
            "y",
            y,
            np.isfinite(y) & ((y == 0) | (y == 1)) if binary else np.isfinite(y),
            "0 or 1 (a binary loss)" if binary else "finite",
        )
    ]
    for name, values in (("std", std), ("mean", mean), ("weight", weight)):
        if values is not None:  # the rules of the side columns in memory (czar_gbdt.datasets)
            ok, rule = SIDE_RULES[name]
            rules.append((name, values, ok(values), rule))
    for name, values, ok, rule in rules:
        if values.shape[0] != n:
            out["bad"] = (
                f"{name} has {values.shape[0]} rows in partition {i} but the labels have {n}; build it from "
                "the same dask DataFrame as the labels."
            )
            return out
        if not ok.all():
            j = int(np.flatnonzero(~ok)[0])
            out["bad"] = (
                f"{name} must be {rule}; {int((~ok).sum())} rows of partition {i} are not, the first at row "
                f"{j} of that partition (value {float(values[j])!r})."
            )
            return out
    if n:
        w = np.ones(n) if weight is None else weight
        out["sum_w"] = float(w.sum())
        if std is not None:
            out["sum_w_inv_var"] = float(np.dot(w, 1.0 / std**2))
        out["y_min"], out["y_max"] = float(y.min()), float(y.max())
    return out


def _moments(parts: list[tuple], loss: BaseLoss, client: Any) -> dict:
    binary = loss.kind == "binary"
    found = client.compute([dask.delayed(_moments_part)(i, *p, binary) for i, p in enumerate(parts)], sync=True)
    for m in found:
        if m["bad"] is not None:
            raise DataError(m["bad"])
    total = {k: sum(m[k] for m in found) for k in ("n", "sum_w", "sum_w_inv_var")}
    if total["n"] == 0:
        raise ValueError("y is empty: there is no constant to fit.")
    total["y_min"] = min(m["y_min"] for m in found)
    total["y_max"] = max(m["y_max"] for m in found)
    return total


def _sums_part(
    y: Any, std: Any, mean: Any, weight: Any, loss: BaseLoss, points: np.ndarray, with_loss: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Summed exact gradient (and summed weighted loss) of one partition at each constant of ``points``."""
    y, std, mean, weight = as_array(y), as_array(std), as_array(mean), as_array(weight)
    grad = np.zeros(points.shape[0])
    total = np.zeros(points.shape[0])
    if y.shape[0] == 0:
        return grad, total
    exact = loss.with_params(derivatives="exact", min_hessian="none")
    pred = np.empty_like(y)
    w_sum = float(y.shape[0] if weight is None else weight.sum())
    with numba_threads(worker_threads()):
        for k, c in enumerate(points):
            pred.fill(c)
            grad[k] = float(exact.grad_hess(y, pred, std=std, mean=mean, weight=weight)[0].sum())
            if with_loss and w_sum > 0:
                total[k] = float(loss(y, pred, std=std, mean=mean, weight=weight)) * w_sum
    return grad, total


def _sums(
    parts: list[tuple], loss: BaseLoss, points: np.ndarray, client: Any, with_loss: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    tasks = [dask.delayed(_sums_part)(*p, loss, points, with_loss) for p in parts]
    found = client.compute(tasks, sync=True)
    return sum(g for g, _ in found), sum(t for _, t in found)


def init_score(
    loss: Any, y: Any, *, std: Any = None, mean: Any = None, weight: Any = None, client: Any = None
) -> float:
    """The loss's constant minimiser (the starting score) of labels held in a dask collection.

    The labels are never collected: a first pass evaluates the summed loss on a grid of
    18 constants over the label range (logits in [-30, 30] for binary losses); the
    minimum lies between the neighbours of the grid's smallest value, where the root of
    the summed exact gradient is then bracketed by sections of 16 points per pass until
    the bracket is ``1e-13`` of the label range (about ten passes), and interpolated.
    For a loss whose mean is convex in the constant this is ``loss.init_score`` of the
    collected data up to that tolerance.

    Parameters
    ----------
    loss : BaseLoss or str
        An element-wise loss.
    y : dask Series or 1-d dask Array
        Labels (0/1 for binary losses).
    std, mean, weight : dask Series or 1-d dask Array, optional
        Per-row side data and weights, partitioned like ``y``.
    client : distributed.Client, optional
        Default: the current client.

    Returns
    -------
    float
        A raw score: a margin, or log-odds for binary losses.
    """
    client = get_client(client)
    loss = check_loss(loss)
    parts = aligned(y, std=std, mean=mean, weight=weight)
    if loss.requires_std and std is None:
        raise ValueError(f"std is required by {loss!r}; pass std= partitioned like y.")
    mom = _moments(parts, loss, client)
    if loss.kind == "binary":
        lo, hi = -30.0, 30.0
    else:
        lo, hi = mom["y_min"], mom["y_max"]
        if lo == hi:
            return lo
    scale = hi - lo
    points = np.linspace(lo, hi, _GRID + 2)
    grad, total = _sums(parts, loss, points, client, with_loss=True)
    j = int(np.argmin(total))
    if grad[j] == 0.0:
        return float(points[j])
    a, b = points[max(j - 1, 0)], points[min(j + 1, _GRID + 1)]
    ga, gb = grad[max(j - 1, 0)], grad[min(j + 1, _GRID + 1)]
    if not (ga < 0.0 < gb):
        return float(points[j])  # the grid's best constant sits at an end of the range
    while b - a > _ROOT_TOL * scale:
        inner = np.linspace(a, b, _GRID + 2)[1:-1]
        g = _sums(parts, loss, inner, client)[0]
        k = int(np.argmax(g >= 0.0)) if (g >= 0.0).any() else _GRID
        if k < _GRID and g[k] == 0.0:
            return float(inner[k])
        if k > 0:
            a, ga = inner[k - 1], g[k - 1]
        if k < _GRID:
            b, gb = inner[k], g[k]
    return float(a - ga * (b - a) / (gb - ga))


def hessian_scale(loss: Any, std: Any = None, weight: Any = None, *, client: Any = None) -> float:
    """The objectives' ``hessian_scale="auto"`` over all rows: ``sum(w) / sum(w / std**2)``.

    One scale for every worker (a worker's own rows would give each its own scale, and
    their Newton steps would no longer add up). 1 without ``std`` and for binary losses,
    as in memory (docs/backends.md, "Hessian scale").
    """
    loss = _ad.as_loss(loss)
    if std is None or loss.kind != "regression":
        return 1.0
    client = get_client(client)
    parts = aligned(std, std=std, weight=weight)  # std stands in for the labels: only the weights are read
    found = client.compute([dask.delayed(_scale_part)(p[1], p[2]) for p in parts], sync=True)
    sum_w, sum_wi = (sum(f[k] for f in found) for k in (0, 1))
    return float(sum_w / sum_wi) if sum_wi > 0 else 1.0


def _scale_part(std: Any, weight: Any) -> tuple[float, float]:
    std, weight = as_array(std), as_array(weight)
    w = np.ones_like(std) if weight is None else weight
    return float(w.sum()), float(np.dot(w, 1.0 / std**2))


# --------------------------------------------------------------------------- rank IC on dask collections
def _per_date_part(i: int, y: Any, pred: Any, dates: Any, method: str) -> tuple[int, pd.Series]:
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    dates = np.asarray(dates).reshape(-1)
    if y.shape[0] == 0:
        return i, pd.Series([], dtype=np.float64)
    if not (pred.shape[0] == dates.shape[0] == y.shape[0]):
        raise ValueError(
            f"partition {i}: y_true has {y.shape[0]} rows, y_pred {pred.shape[0]} and dates "
            f"{dates.shape[0]}; they must be partitioned alike."
        )
    func = metrics.rank_ic if method == "spearman" else metrics.ic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a partition without a scored date: judged overall
        return i, func(y, pred, dates=dates).per_date


def _date_values(y_true: Any, y_pred: Any, dates: Any, method: str, client: Any) -> pd.Series:
    client = get_client(client)
    ys = partitions("y_true", y_true, None)
    tasks = [
        dask.delayed(_per_date_part)(i, a, b, c, method)
        for i, (a, b, c) in enumerate(
            zip(ys, partitions("y_pred", y_pred, len(ys)), partitions("dates", dates, len(ys)))
        )
    ]
    found = [
        s.set_axis(pd.Index(s.index, name="date")).to_frame("v").assign(part=i)
        for i, s in client.compute(tasks, sync=True)
        if len(s)
    ]
    if not found:
        return pd.Series([], dtype=np.float64, index=pd.Index([], name="date"))
    table = pd.concat(found)
    dup = table.index.duplicated(keep=False)
    if dup.any():
        date = table.index[dup][0]
        where = sorted(table.loc[[date], "part"].tolist())
        raise ValueError(
            f"dates: date {date} lies in partitions {where}; each date must lie inside one partition "
            "(repartition by date, for example set_index(date, sorted=True).repartition(divisions=...) "
            "with the divisions on dates)."
        )
    return table["v"].sort_index()


def rank_ic(y_true: Any, y_pred: Any, *, dates: Any, client: Any = None) -> metrics.ICResult:
    """Rank IC (per-date Spearman correlation) of predictions held in dask collections.

    Each partition is scored by :func:`czar_gbdt.metrics.rank_ic`; the per-date values
    are gathered (one number per date) and summarised as in memory, so the result equals
    ``metrics.rank_ic`` of the collected data.

    Parameters
    ----------
    y_true, y_pred : dask Series or 1-d dask Array
        Target and prediction, partitioned alike.
    dates : dask Series or 1-d dask Array
        Date of each row, partitioned alike, each date inside one partition (a
        ``ValueError`` names a date found in two partitions).
    client : distributed.Client, optional
        Default: the current client.

    Returns
    -------
    czar_gbdt.metrics.ICResult
    """
    return metrics.ic_result(_date_values(y_true, y_pred, dates, "spearman", client), "spearman")


def ic(y_true: Any, y_pred: Any, *, dates: Any, client: Any = None) -> metrics.ICResult:
    """IC (per-date Pearson correlation) of predictions held in dask collections; see :func:`rank_ic`."""
    return metrics.ic_result(_date_values(y_true, y_pred, dates, "pearson", client), "pearson")

"""Directional accuracy: the share of rows whose prediction has the sign of the target."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .._kernels import metrics as _k
from ._docs import fill_doc
from .grouping import as_float_1d, check_same_length


@fill_doc
def directional_accuracy(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Share of rows whose prediction has the sign of the target.

    A row counts as correct when ``sign(y_pred) == sign(y_true)``; rows with a
    target of exactly 0, or a non-finite target or prediction, are left out. A
    prediction of exactly 0 is never correct (the target is non-zero).

    Parameters
    ----------
    {y}
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative finite row weights; the result is the weighted share.

    Returns
    -------
    float
        Share in [0, 1]; NaN (with a RuntimeWarning) when no row is eligible.

    Raises
    ------
    ValueError
        If the arrays are not aligned, or a weight is negative or not finite.
    """
    yt = as_float_1d(y_true, "y_true")
    yp = as_float_1d(y_pred, "y_pred")
    check_same_length(yt.shape[0], yp, "y_pred")
    if sample_weight is None:
        w = np.empty(0, np.float64)
    else:
        w = as_float_1d(sample_weight, "sample_weight")
        check_same_length(yt.shape[0], w, "sample_weight")
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"sample_weight must be finite and >= 0; {int(bad.sum())} rows are not, the first at row {i} "
                f"(value {w[i]})."
            )
    hits, total = _k.directional_counts(yt, yp, w)
    if total <= 0:
        warnings.warn(
            "directional_accuracy: no row has a finite, non-zero target and a finite prediction "
            "(with positive weight); returning NaN.",
            RuntimeWarning,
            stacklevel=2,
        )
        return math.nan
    return float(hits / total)

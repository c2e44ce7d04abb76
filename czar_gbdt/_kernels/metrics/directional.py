"""Directional accuracy: weighted sign hits over the rows with a finite, non-zero target."""

import numpy as np

from ..._jit import serial_loop


@serial_loop
def directional_counts(y_true, y_pred, sample_weight):
    """Weighted counts ``(hits, total)`` of rows with a finite, non-zero target.

    A row is a hit when ``sign(y_pred) == sign(y_true)``; rows where either
    value is not finite, or the target is exactly 0, are left out. An empty
    ``sample_weight`` means unit weights.
    """
    hits = 0.0
    total = 0.0
    weighted = sample_weight.shape[0] > 0
    for i in range(y_true.shape[0]):
        a = y_true[i]
        b = y_pred[i]
        if not (np.isfinite(a) and np.isfinite(b)) or a == 0.0:
            continue
        w = sample_weight[i] if weighted else 1.0
        total += w
        if (a > 0.0 and b > 0.0) or (a < 0.0 and b < 0.0):
            hits += w
    return hits, total

"""The target in the units a model trains on: per-date transforms, binary signs, the z-scoring std.

The lowest layer of the evaluation engine (no configuration): :func:`label_target` and
:func:`training_labels` turn a panel's target into training labels, :func:`auto_transform`
is what ``data.target_transform = "auto"`` means on a panel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..datasets import Panel, transform_target
from ..losses import BaseLoss

__all__ = ["auto_transform", "label_target", "training_labels"]


def auto_transform(panel: Any) -> str:
    """What ``data.target_transform = "auto"`` is on ``panel``: ``"raw"`` for one series, ``"demean"`` for a
    cross-section (rank IC rewards relative forecasts; across a single asset every demeaned label is 0)."""
    return "raw" if len(pd.unique(np.asarray(panel.assets))) == 1 else "demean"


def label_target(panel: Panel, transform: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The target in the units a model is trained on, and the z-scoring std of a z-space loss.

    Parameters
    ----------
    panel : Panel
        Rows to label (a training window, or a test window when scoring forecasts).
    transform : {"raw", "demean", "zscore"}
        Per-date transform of the target (``data.target_transform``).

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The transformed target.
    std : ndarray of shape (n_samples,) or None
        ``panel.std``; ones for ``zscore`` labels, which are already in units of the
        cross-sectional std; None for other labels of a panel without a std.
    """
    y = transform_target(panel.y, panel.dates, transform)
    if transform == "zscore":
        return y, np.ones_like(y)
    return y, panel.std


def training_labels(panel: Panel, loss: BaseLoss, transform: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Training labels and the z-scoring std the loss sees.

    As :func:`label_target`; binary losses train on the sign of the (transformed) target,
    and a loss that does not need a per-row std (the half squared error) gets none.
    """
    y, std = label_target(panel, transform)
    if loss.kind == "binary":
        return (y > 0).astype(np.float64), None
    if not loss.requires_std:
        return y, None
    return y, std

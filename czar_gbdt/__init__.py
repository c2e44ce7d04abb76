"""czar-gbdt: gradient-boosted trees trained on the losses return forecasters care about.

Public names of the loss layer (:mod:`czar_gbdt.losses`) and the decision helpers of
:mod:`czar_gbdt.classification`. The backend adapters (``czar_gbdt.xgboost``,
``czar_gbdt.lightgbm``, ``czar_gbdt.catboost``), :mod:`czar_gbdt.metrics` and the
tuner are imported on demand. The layers and the contract that enforces them are
described in ``docs/architecture.md``.
"""

from ._version import __version__
from .classification import balanced_pos_weight, pnl_weights, select_threshold
from .losses import (
    CZAR,
    LOSSES,
    ZPTAE,
    AsymmetricLoss,
    BaseLoss,
    FocalLoss,
    HalfSquaredError,
    LogisticLoss,
    MixedLoss,
    ScheduledLoss,
    SoftF1Composite,
    get_loss,
    linear_warmup,
    piecewise_linear,
    steps,
)

__all__ = [
    "__version__",
    # losses
    "BaseLoss",
    "CZAR",
    "ZPTAE",
    "HalfSquaredError",
    "FocalLoss",
    "AsymmetricLoss",
    "LogisticLoss",
    "SoftF1Composite",
    "LOSSES",
    "get_loss",
    # schedules
    "ScheduledLoss",
    "MixedLoss",
    "linear_warmup",
    "piecewise_linear",
    "steps",
    # decision helpers
    "pnl_weights",
    "balanced_pos_weight",
    "select_threshold",
]

"""czar-gbdt: gradient-boosted trees trained on the losses return forecasters care about.

Layers (imports flow one way): ``_kernels`` (numba) <- ``losses`` <- ``classification``, ``metrics``,
backend adapters (``czar_gbdt.xgboost``, ``czar_gbdt.lightgbm``, ``czar_gbdt.catboost``,
imported on demand) <- ``tuning`` <- ``cli``.
"""

from ._version import __version__
from .losses import (
    CZAR,
    LOSSES,
    ZPTAE,
    AsymmetricLoss,
    BaseLoss,
    FocalLoss,
    HalfSquaredError,
    get_loss,
)
from .classification import (  # registers "logistic" and "soft_f1" in LOSSES
    LogisticLoss,
    MixedLoss,
    ScheduledLoss,
    SoftF1Composite,
    balanced_pos_weight,
    linear_warmup,
    piecewise_linear,
    pnl_weights,
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
    "LOSSES",
    "get_loss",
    # classification (seeds 000 and 001)
    "LogisticLoss",
    "SoftF1Composite",
    "ScheduledLoss",
    "MixedLoss",
    "pnl_weights",
    "balanced_pos_weight",
    "linear_warmup",
    "piecewise_linear",
    "steps",
]

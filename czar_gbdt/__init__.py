"""czar-gbdt: gradient-boosted trees trained on the losses return forecasters care about.

Layers (imports flow one way): ``_kernels`` (numba) <- ``losses`` <- ``metrics``,
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
]

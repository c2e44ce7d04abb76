"""czar-gbdt: gradient-boosted trees trained on the losses return forecasters care about.

The top level holds the loss layer (:mod:`czar_gbdt.losses`: every loss class, the
schedules, :data:`LOSSES` and :func:`get_loss`) and the decision helpers of
:mod:`czar_gbdt.classification`. The backend adapters (``czar_gbdt.xgboost``,
``czar_gbdt.lightgbm``, ``czar_gbdt.catboost``), :mod:`czar_gbdt.metrics`, the
walk-forward evaluation and the tuner are imported on demand. The layers, and the
import contract that enforces them, are described in ``docs/architecture.md``.
"""

from . import classification, losses
from ._version import __version__
from .classification import *  # noqa: F403 - the public names listed in classification.__all__
from .losses import *  # noqa: F403 - the public names listed in losses.__all__

__all__ = ["__version__", *losses.__all__, *classification.__all__]

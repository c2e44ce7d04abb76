"""czar-gbdt: gradient-boosted trees trained on the losses return forecasters care about.

The top level holds the loss layer (:mod:`czar_gbdt.losses`: every loss class, the
schedules, :data:`LOSSES` and :func:`get_loss`) and the decision helpers of
:mod:`czar_gbdt.classification`. The backend adapters (``czar_gbdt.xgboost``,
``czar_gbdt.lightgbm``, ``czar_gbdt.catboost``), :mod:`czar_gbdt.metrics`, the
walk-forward evaluation and the tuner are imported on demand, and so are
:func:`load_model`, :class:`Model` (:mod:`czar_gbdt.bundle`) and :func:`fit_model`
(:mod:`czar_gbdt.forecast`): ``import czar_gbdt`` stays light. The layers, and the
import contract that enforces them, are described in ``docs/architecture.md``.
"""

from . import classification, losses
from ._version import __version__
from .classification import *  # noqa: F403 - the public names listed in classification.__all__
from .losses import *  # noqa: F403 - the public names listed in losses.__all__

__all__ = ["__version__", *losses.__all__, *classification.__all__, "load_model", "Model", "fit_model"]  # noqa: F405

#: The names imported on first use, and their modules: a trained model and its training.
_LAZY = {"load_model": "czar_gbdt.bundle", "Model": "czar_gbdt.bundle", "fit_model": "czar_gbdt.forecast"}


def __getattr__(name: str):
    """``cg.load_model``, ``cg.Model`` and ``cg.fit_model``, imported when first used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'czar_gbdt' has no attribute {name!r}")

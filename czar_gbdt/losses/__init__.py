"""Loss classes: one class per loss, described once, and the registry of their names.

* :mod:`.base`: :class:`BaseLoss` (the method family every loss shares), :class:`ElementwiseLoss`
  (a loss described by its row functions, whose loops are generated) and :class:`BinaryLoss`.
* :mod:`.regression`: :class:`CZAR`, :class:`ZPTAE`, :class:`HalfSquaredError` (z-space).
* :mod:`.binary`: :class:`FocalLoss`, :class:`AsymmetricLoss`, :class:`LogisticLoss` (logit).
* :mod:`.composite`: :class:`SoftF1Composite` (whole-dataset soft counts).
* :mod:`.schedules`: :class:`MixedLoss`, :class:`ScheduledLoss` and the schedules of the round.
* :mod:`.registry`: :data:`LOSSES` and :func:`get_loss`.
* :mod:`.user`: :func:`define_loss`, your own loss from its formula (derivatives and kernels made for you).
"""

from .base import BaseLoss, BinaryLoss, ElementwiseLoss
from .binary import AsymmetricLoss, FocalLoss, LogisticLoss
from .composite import SoftF1Composite
from .registry import LOSSES, get_loss, loss_class, loss_name
from .regression import CZAR, ZPTAE, HalfSquaredError
from .schedules import MixedLoss, ScheduledLoss, linear_warmup, piecewise_linear, steps
from .user import UserLoss, define_loss, where

__all__ = [
    "BaseLoss",
    "ElementwiseLoss",
    "BinaryLoss",
    "CZAR",
    "ZPTAE",
    "HalfSquaredError",
    "FocalLoss",
    "AsymmetricLoss",
    "LogisticLoss",
    "SoftF1Composite",
    "MixedLoss",
    "ScheduledLoss",
    "linear_warmup",
    "piecewise_linear",
    "steps",
    "LOSSES",
    "get_loss",
    "loss_class",
    "loss_name",
    "define_loss",
    "where",
    "UserLoss",
]

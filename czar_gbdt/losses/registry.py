"""The registry of loss names (configs, the CLI, :func:`get_loss`)."""

from __future__ import annotations

from typing import Any

from .base import BaseLoss
from .binary import AsymmetricLoss, FocalLoss, LogisticLoss
from .composite import SoftF1Composite
from .regression import CZAR, ZPTAE, HalfSquaredError

__all__ = ["LOSSES", "get_loss"]

#: Registry of loss names (configs, the CLI, :func:`get_loss`).
LOSSES: dict[str, type[BaseLoss]] = {
    cls.name: cls for cls in (CZAR, ZPTAE, HalfSquaredError, FocalLoss, AsymmetricLoss, LogisticLoss,
                                SoftF1Composite)
}


def get_loss(name: str, **params: Any) -> BaseLoss:
    """Build a loss from its registry name and parameters.

    Parameters
    ----------
    name : str
        One of ``LOSSES`` ("czar", "zptae", "mse", "focal", "asymmetric", and from
        :mod:`czar_gbdt.classification` "logistic", "soft_f1").
    **params
        Constructor arguments of that loss, e.g. ``alpha=1.0`` or ``derivatives="exact"``.

    Examples
    --------
    >>> get_loss("czar", alpha=0.5)
    CZAR(alpha=0.5, epsilon=1.0, tau=0.05)
    """
    if isinstance(name, BaseLoss):
        return name.with_params(**params) if params else name
    try:
        cls = LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(sorted(LOSSES))}.") from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for loss {name!r}: {exc}") from None

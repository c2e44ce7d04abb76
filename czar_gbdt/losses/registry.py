"""The registry of loss names (configs, the CLI, :func:`get_loss`)."""

from __future__ import annotations

import importlib
from typing import Any

from .base import BaseLoss
from .binary import AsymmetricLoss, FocalLoss, LogisticLoss
from .composite import SoftF1Composite
from .regression import CZAR, ZPTAE, HalfSquaredError

__all__ = ["LOSSES", "get_loss", "loss_class", "loss_name"]

#: Registry of loss names (configs, the CLI, :func:`get_loss`).
LOSSES: dict[str, type[BaseLoss]] = {
    cls.name: cls for cls in (CZAR, ZPTAE, HalfSquaredError, FocalLoss, AsymmetricLoss, LogisticLoss, SoftF1Composite)
}


def _import_loss(path: str) -> type[BaseLoss]:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(
            f"loss {path!r}: cannot import module {module_name!r} ({exc}); the module must be "
            "importable: installed, on PYTHONPATH, or next to the config."
        ) from None
    except SyntaxError as exc:  # the module is the user's: say where, not a traceback
        raise ValueError(
            f"loss {path!r}: module {module_name!r} has a syntax error in {exc.filename}, line {exc.lineno}: {exc.msg}."
        ) from None
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise ValueError(f"loss {path!r}: module {module_name!r} has no attribute {attr!r}.") from None
    cls = type(obj) if isinstance(obj, BaseLoss) else obj
    if not (isinstance(cls, type) and issubclass(cls, BaseLoss)):
        raise ValueError(f"loss {path!r} is {obj!r}, not a loss: define it with czar_gbdt.define_loss(...).")
    registered = LOSSES.get(cls.name)
    if registered is not None and registered is not cls and not getattr(registered, "definition", None):
        raise ValueError(f"loss {path!r} is named {cls.name!r}, the name of a built-in loss.")
    LOSSES[cls.name] = cls
    return cls


def loss_class(name: str) -> type[BaseLoss]:
    """The class of a registered loss name, or of a loss given by import path ``"package.module:attr"``
    (the module is imported and the loss registered under its own name).

    Raises
    ------
    ValueError
        Naming the loss, for an unknown name or a path that does not lead to a loss.
    """
    if isinstance(name, str) and ":" in name:
        return _import_loss(name)
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown loss {name!r}; known losses: {', '.join(sorted(LOSSES))} (or a loss of "
            "your own by import path, 'package.module:name')."
        ) from None


def loss_name(name: str) -> str:
    """The registered name of ``name`` (itself, or the name of the loss an import path leads to)."""
    return loss_class(name).name


def get_loss(name: str, **params: Any) -> BaseLoss:
    """Build a loss from its registry name and parameters.

    Parameters
    ----------
    name : str
        One of ``LOSSES`` ("czar", "zptae", "mse", "focal", "asymmetric", "logistic",
        "soft_f1", and the losses defined with :func:`czar_gbdt.define_loss`), or a loss of
        your own by import path, ``"package.module:name"`` (see :func:`loss_class`).
    **params
        Constructor arguments of that loss, e.g. ``alpha=1.0`` or ``derivatives="exact"``.

    Examples
    --------
    >>> get_loss("czar", alpha=0.5)
    CZAR(alpha=0.5, epsilon=1.0, tau=0.05)
    """
    if isinstance(name, BaseLoss):
        return name.with_params(**params) if params else name
    cls = loss_class(name)
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for loss {name!r}: {exc}") from None

"""The user loss classes: :class:`UserLoss`, and :func:`define_loss`, which makes one class per
definition (its row functions derived or read from the disk cache, and checked)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from ..._kernels.loops import RowFunctions
from ..._validation import POSITIVE, Interval
from ..base import ElementwiseLoss
from ..registry import LOSSES
from .cache import read_source, write_source
from .checks import finite_difference_check
from .codegen import derive
from .formula import check_source, expression, signature, sympy_module

__all__ = ["UserLoss", "define_loss", "class_for", "HESSIANS"]

#: The named boosting hessians (or pass a positive number).
HESSIANS = ("exact", "gauss_newton", "constant", "abs")


class UserLoss(ElementwiseLoss):
    """Base of the classes :func:`define_loss` creates (one per definition).

    Instances take the formula's parameters as keyword arguments (defaults from the
    formula's signature, checked against the domains given in ``params``: the class's
    ``param_domains``, :class:`~czar_gbdt._validation.Interval` objects made from those
    ``(low, high)`` pairs), plus ``derivatives`` and ``min_hessian`` like every loss.
    """

    hessian: ClassVar[Any] = "exact"
    expression: ClassVar[str] = ""  # the loss as sympy's srepr (what a pickle rebuilds from)
    definition: ClassVar[dict] = {}

    def __init__(self, *, derivatives: str = "reference", min_hessian: float | None = None, **params: Any):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        unknown = set(params) - set(self.param_defaults)
        if unknown:
            raise TypeError(
                f"unexpected parameter(s) {sorted(unknown)} of loss {self.name!r}; it takes "
                f"{list(self.param_defaults) or 'no parameters'}."
            )
        self._set_params(**{pname: params.get(pname, default) for pname, default in self.param_defaults.items()})

    def kernel_args(self) -> tuple[float, ...]:
        return tuple(float(getattr(self, p)) for p in self.param_defaults)

    def __repr__(self) -> str:
        return super().__repr__().replace(type(self).__name__, self.name, 1)

    def __reduce__(self):
        return (_rebuild, (self.definition, self.get_params()))


#: The class of every definition made in this process: a copy or an unpickled loss gets the
#: class its original had (CatBoost deep-copies its objective, whose generated class is keyed
#: by the loss's class).
_CLASSES: dict[str, type] = {}


def _key(definition: dict) -> str:
    return repr(sorted(definition.items()))


def _rebuild(definition: dict, params: dict) -> UserLoss:
    cls = _CLASSES.get(_key(definition))
    if cls is None:
        cls = class_for(definition)
    return cls(**params)


def define_loss(
    name: str,
    loss: Callable,
    *,
    kind: str = "regression",
    params: dict | None = None,
    hessian: Any = "exact",
    requires_std: bool | None = None,
    check: bool = True,
) -> UserLoss:
    """Define a loss from a formula of one row: exact derivatives and compiled kernels are made for you.

    Parameters
    ----------
    name : str
        The loss's name: its key in :data:`czar_gbdt.LOSSES` (``get_loss(name)``, configs
        ``[loss] name = ...`` and the ``[loss.<name>]`` parameter table). Built-in names are
        refused; defining a name again replaces the earlier definition.
    loss : callable
        ``loss(zt, zp, **params)`` (regression: the row's z-scores ``(y - mean)/std`` of the
        label and the prediction) or ``loss(y, x, **params)`` (binary: the 0/1 label and the
        margin), returning the loss of that row. The two row arguments are read by name, in
        either order (:data:`ROW_NAMES`): ``zt``/``y`` or ``y_true``, ``target``, ``label``,
        ``truth`` for the label; ``zp``/``x`` or ``y_pred``, ``pred``, ``prediction`` (and
        ``margin``, binary) for the prediction. Every parameter has a numeric default in the
        signature and is used by the formula. Straight-line maths only (see the module docstring).
    kind : {"regression", "binary"}, default "regression"
    params : dict of name -> (low, high), optional
        The domain of each parameter, checked whenever the loss is built (and at config
        load for search ranges). Parameters not listed are unbounded.
    hessian : {"exact", "gauss_newton", "constant", "abs"} or float > 0, default "exact"
        The boosting hessian (``derivatives="reference"``); see the module docstring for
        when each is safe. ``derivatives="exact"`` gives the true hessian.
    requires_std : bool, optional
        Whether the loss is meaningless without a per-row ``std`` (default: True for
        regression, as z-space losses are; binary losses ignore ``std``).
    check : bool, default True
        Check the compiled derivatives against finite differences at the defaults.

    Returns
    -------
    UserLoss
        An instance with the default parameters; ``type(result)(delta=2.0)``,
        ``result.with_params(delta=2.0)`` and ``czar_gbdt.get_loss(name, delta=2.0)`` build
        others.

    Raises
    ------
    ValueError
        For a construct that cannot be differentiated or compiled (naming it), row arguments
        with other names (naming the expected ones), a parameter the formula never uses, a
        non-numeric parameter, a bad ``hessian``, a name of a built-in loss, or derivatives
        that disagree with finite differences.
    """
    hessian = _check_arguments(name, kind, hessian, loss)
    check_source(loss)
    (t_name, p_name, swapped), defaults, domains = signature(loss, params, kind)
    expr = expression(name, loss, (t_name, p_name, swapped), defaults)
    definition = dict(
        name=name,
        kind=kind,
        expression=sympy_module().srepr(expr),
        param_names=tuple(defaults),
        defaults=tuple(defaults.values()),
        domains=tuple(sorted((n, d.bounds()) for n, d in domains.items())),
        hessian=hessian,
        requires_std=(kind == "regression") if requires_std is None else bool(requires_std),
        row_names=(t_name, p_name),
    )
    cls = class_for(definition, check=check)
    LOSSES[name] = cls
    return cls()


def _check_arguments(name: Any, kind: Any, hessian: Any, loss: Any) -> Any:
    """Refuse a bad name (or a built-in's), kind, hessian or formula object; the hessian as
    :func:`define_loss` stores it."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be an identifier (letters, digits, _); got {name!r}.")
    if kind not in ("regression", "binary"):
        raise ValueError(f"kind must be 'regression' or 'binary'; got {kind!r}.")
    if isinstance(hessian, str):
        if hessian not in HESSIANS:
            raise ValueError(f"hessian must be one of {HESSIANS} or a number > 0; got {hessian!r}.")
    else:
        hessian = POSITIVE.check("hessian", hessian)
    if not callable(loss):
        raise ValueError(f"loss must be a function of the row; got {loss!r}.")
    existing = LOSSES.get(name)
    if existing is not None and not issubclass(existing, UserLoss):
        raise ValueError(f"name {name!r} is a built-in loss; choose another name.")
    return hessian


def class_for(definition: dict, *, check: bool = False) -> type:
    """The loss class of a definition: made once per process; its source derived (and checked
    when ``check``), or read from the cache of derived sources, where it was written after its
    check passed."""
    key = _key(definition)
    cls = _CLASSES.get(key)
    if cls is not None:
        return cls
    source, conditions = read_source(definition), None
    if source is None:
        source, conditions = derive(definition)
    cls = _make_class(definition, source)
    if conditions is not None:
        if check:
            finite_difference_check(cls(), conditions)
        write_source(definition, source)
    _CLASSES[key] = cls
    return cls


def _make_class(definition: dict, source: str) -> type:
    name, kind = definition["name"], definition["kind"]
    rows = RowFunctions(
        label=f"user_{name}",
        kind=kind,
        loss="loss_row",
        grad_hess=(("reference", "grad_hess_reference"), ("exact", "grad_hess_exact")),
        n_args=len(definition["param_names"]),
        source=source,
    )
    attrs = {
        "__doc__": f"User-defined loss {name!r} (kind {kind!r}, boosting hessian {definition['hessian']!r}), "
        f"made by czar_gbdt.define_loss.",
        "__module__": __name__,
        "name": name,
        "kind": kind,
        "rows": rows,
        "requires_std": definition["requires_std"],
        "param_defaults": dict(zip(definition["param_names"], definition["defaults"])),
        "param_domains": {n: Interval.closed(*pair) for n, pair in definition["domains"]},
        "hessian": definition["hessian"],
        "expression": definition["expression"],
        "definition": definition,
        "default_min_hessian": 1e-6 if kind == "regression" else 1e-16,
    }
    return type(f"UserLoss_{name}", (UserLoss,), attrs)

"""Model specs: the strings ``NAME[:key=value,...]`` that name what ``evaluate`` and ``compare`` train.

A spec names one of three kinds of model, and this module is the one place that tells
them apart:

- ``builtin``: the backend's own squared error (no parameters);
- ``ranking``: the backend's learning-to-rank objective (:class:`~czar_gbdt.ranking.RankObjective`;
  parameters ``bins`` and ``objective``), e.g. ``ranking:bins=10``;
- any loss of :data:`czar_gbdt.losses.LOSSES` with its parameters, e.g. ``czar:alpha=0.5``.

:func:`parse_spec` reads a spec, :func:`check_spec` refuses an unknown name or parameter or
a value the model refuses, :func:`build_model` makes the model (``None`` for ``builtin``) and
:func:`model_label` its display name. Errors are :class:`SpecError` naming the option or key the spec came
from; :mod:`czar_gbdt.config` turns them into configuration errors.
"""

from __future__ import annotations

import difflib
from typing import Any

from .losses import LOSSES, BaseLoss, get_loss, loss_class
from .ranking import RankObjective

__all__ = [
    "BUILTIN",
    "RANKING",
    "EXTRA",
    "SpecError",
    "parse_spec",
    "check_spec",
    "build_model",
    "model_label",
    "loss_parameters",
    "did_you_mean",
]

BUILTIN = "builtin"
RANKING = "ranking"

#: Spec names besides the losses, with the parameters each takes.
EXTRA = {BUILTIN: frozenset(), RANKING: frozenset({"bins", "objective"})}


class SpecError(ValueError):
    """A spec that cannot be used; the message names the option or key it came from."""


def did_you_mean(value: str, options: Any) -> str:
    """``" (did you mean 'czar'?)"`` for the closest of ``options``, or ``""``."""
    close = difflib.get_close_matches(value, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def loss_parameters(name: str) -> frozenset[str]:
    """The parameters loss ``name`` (or import path) takes: its own and the derivative options every loss has."""
    return frozenset(loss_class(name).param_defaults) | {"derivatives", "min_hessian"}


def parse_spec(spec: str, key: str = "--loss") -> tuple[str, dict]:
    """``"czar:alpha=0.5,epsilon=1"`` -> ``("czar", {"alpha": 0.5, "epsilon": 1.0})``.

    Values that parse as numbers become floats, others stay strings. ``key`` names the
    option or config key in the error.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise SpecError(f"{key}: a loss spec is a string NAME[:key=value,...]; got {spec!r}.")
    name, _, rest = spec.strip().partition(":")
    if name not in LOSSES and name not in EXTRA and rest and "=" not in rest.split(":", 1)[0]:
        # a loss of your own by import path: "package.module:name[:key=value,...]"
        attr, _, rest = rest.partition(":")
        name = f"{name}:{attr}"
    params: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        pname, eq, value = item.partition("=")
        if not eq or not pname:
            raise SpecError(f"{key} {spec!r}: parameters are written key=value; got {item!r}.")
        try:
            params[pname.strip()] = float(value)
        except ValueError:
            params[pname.strip()] = value.strip()
    return name.strip(), params


def check_spec(name: str, params: dict, key: str, backends: Any = ()) -> None:
    """Refuse an unknown name or parameter, or a value the model refuses, naming ``key``.

    A ranking objective is also checked against each of ``backends``.
    """
    known_names = sorted(set(LOSSES) | set(EXTRA))
    if ":" in name:
        try:
            loss_class(name)
        except ValueError as exc:
            raise SpecError(f"{key}: {exc}") from None
    elif name not in known_names:
        raise SpecError(
            f"{key}: unknown loss {name!r}{did_you_mean(name, known_names)}; "
            f"known: {', '.join(known_names)}, or a loss of your own by import path "
            f"('package.module:name')."
        )
    if name == BUILTIN:
        if params:
            raise SpecError(
                f"{key}: 'builtin' (the backend's squared error) takes no parameters; got {sorted(params)}."
            )
        return
    if name == RANKING:
        extra = set(params) - EXTRA[RANKING]
        if extra:
            raise SpecError(f"{key}: unknown parameter(s) {sorted(extra)} of 'ranking'; it takes bins, objective.")
        bins = params.get("bins", 5)
        if not (isinstance(bins, (int, float)) and not isinstance(bins, bool) and float(bins).is_integer()):
            raise SpecError(f"{key}: ranking bins must be an integer >= 2; got {bins!r}.")
        try:
            rank = build_model(name, params)
            for backend in backends:
                rank.resolve(backend)
        except ValueError as exc:
            raise SpecError(f"{key}: {exc}") from None
        return
    known = loss_parameters(name)
    for pname in params:
        if pname not in known:
            raise SpecError(
                f"{key}: unknown parameter {pname!r}{did_you_mean(pname, known)} of {name}; "
                f"{name} takes: {', '.join(sorted(known))}."
            )
    try:
        build_model(name, params)
    except ValueError as exc:
        raise SpecError(f"{key}: {exc}") from None


def build_model(name: str, params: dict) -> BaseLoss | RankObjective | None:
    """The model a checked spec names: a loss, a :class:`RankObjective`, or ``None`` for ``builtin``."""
    if name == BUILTIN:
        return None
    if name == RANKING:
        return RankObjective(str(params.get("objective", "")), int(params.get("bins", 5)))
    return get_loss(name, **params)


def model_label(model: BaseLoss | RankObjective | None, backend: str) -> str:
    """Display name of a model on ``backend``.

    ``lightgbm built-in squared error``, ``lightgbm lambdarank (5 grades per date)``, or a
    loss with its parameters to 3 significant digits, ``CZAR(alpha=0.5, epsilon=1, tau=0.05)``.
    """
    if model is None:
        return f"{backend} built-in squared error"
    if model.kind == RANKING:
        return model.label(backend)
    args = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in model.params.items())
    extra = "" if model.derivatives == "reference" else f", derivatives={model.derivatives!r}"
    return f"{type(model).__name__}({args}{extra})"

"""What a study's scores depend on, recorded so that a study never mixes trials of two setups.

A tuning study holds trials scored on one data set, one target, one set of splits and one
search space; a trial scored under another setting is not comparable with them, and
optuna would happily append it (and then pick a "best" trial across the two). The
fingerprint is a flat dict of dotted configuration keys and their values:

- the data: ``data.content_sha256`` (the bytes of the file, see
  :func:`czar_gbdt.datasets.source_digest`; moving or renaming the file is fine,
  changing its content is not), ``data.layout`` (as read), for a wide table
  ``data.wide.*`` and ``data.features.*``, for a long panel ``data.panel.*``, the date
  range ``data.start`` / ``data.end``, ``data.horizon``, ``data.target_transform`` (as
  resolved on the data: ``"auto"`` is recorded as the ``"demean"`` or ``"raw"`` it chose, so
  a study made with an explicit value stays resumable under ``"auto"`` when they agree);
- ``splits.*``;
- the search space: ``model.backend``, ``model.num_boost_round``,
  ``model.early_stopping_rounds``, every ``model.params.*``, ``loss.name`` and the
  ``loss.<name>.*`` tables of the losses it may pick (a range as ``{low, high, log, step,
  int}``, choices as ``{choices}``);
- ``loss.definition``: what each loss the search may pick computes (:func:`loss_definition`):
  for a loss defined with :func:`czar_gbdt.define_loss` (by import path or not) a digest of
  its definition (the formula, its parameters and their domains, the boosting hessian), so
  that editing the formula of ``loss.name = "mylosses:PH"`` does not resume the old study;
  for the package's own losses their class and the package version;
- ``study.objective`` and ``study.seed`` (the boosters' seed).

Version 2 added ``data.wide.columns`` (the assets kept from a wide table), version 3
``loss.definition``; a study recorded with an older version is compared on the keys both
versions hold.

:func:`make` builds it from the typed configuration (:class:`czar_gbdt.config.Config`, or a
validated dict, typed first): the dotted keys are the dataclasses' fields, the values as the file
writes them (``""``, ``0``, lists). :func:`differences` compares two, :func:`describe` words the
differences for an error message. :mod:`czar_gbdt.tuning` stores it in the study (user
attribute :data:`ATTR`) and refuses a configuration whose fingerprint differs; any other
record that must stay tied to a configuration (a stored holdout evaluation, say) can use
the same functions with its own ``keys``, and add keys of its own with ``also``: the
stored holdout bake-off of ``report`` adds :data:`HOLDOUT_KEYS`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from ._version import __version__
from .config import Choices, Config, Range, as_config
from .datasets import resolve_layout, source_digest
from .losses import loss_class, loss_name

__all__ = [
    "ATTR",
    "VERSION",
    "HOLDOUT_KEYS",
    "make",
    "record",
    "differences",
    "record_differences",
    "describe",
    "space_value",
    "loss_definition",
]

#: The study user attribute that holds the fingerprint.
ATTR = "fingerprint"

#: Bumped when the keys or their encoding change (a stored fingerprint of another version is
#: compared on the keys both hold).
VERSION = 3

#: What the holdout bake-off of ``report`` depends on besides the study's keys: the baselines and the
#: top-k book its rows are scored with.
HOLDOUT_KEYS = ("report.baselines", "compare.top_k", "compare.cost")

#: Sections copied key by key (nested tables flattened).
_SECTIONS = ("data", "splits")
#: Keys of those sections that do not change a score (period numbers are ordered as the
#: dates would be: the splits, features and scores are the same).
_IGNORED = {"data.source", "data.wide.dates"}


def space_value(space: Any) -> Any:
    """A fixed value, a :class:`~czar_gbdt.config.Range` or :class:`~czar_gbdt.config.Choices`
    as plain JSON data (what the fingerprint stores)."""
    if isinstance(space, Range):
        return {"low": space.low, "high": space.high, "log": space.log, "step": space.step, "int": space.is_int}
    if isinstance(space, Choices):
        return {"choices": list(space.choices)}
    if isinstance(space, tuple):
        return list(space)
    return space


def loss_definition(name: str) -> str:
    """What the loss ``name`` (a registered name or an import path) computes, as one string.

    A loss made by :func:`czar_gbdt.define_loss` carries its definition (the formula as
    sympy's ``srepr``, its row argument names, parameters, defaults, domains, kind and
    boosting hessian): ``"define_loss sha256:<digest>"`` of it, so that any edit of the
    formula changes the string. The package's own losses are their class and the package
    version (``"czar_gbdt.losses.regression.CZAR 0.9.0"``): a new version may change a loss.
    """
    cls = loss_class(name)
    definition = getattr(cls, "definition", None)
    if definition:
        text = json.dumps({k: v for k, v in definition.items() if k != "name"}, sort_keys=True, default=str)
        return f"define_loss sha256:{hashlib.sha256(text.encode()).hexdigest()}"
    return f"{cls.__module__}.{cls.__qualname__} {__version__}"


def _flatten(prefix: str, table: dict, out: dict) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}"
        if isinstance(value, dict) and not {"low", "high"} <= set(value) and "choices" not in value:
            _flatten(key, value, out)
        elif key not in _IGNORED:
            out[key] = space_value(value)


def _data_keys(config: Config, out: dict) -> None:
    """``data.*`` (the tables of the layout as read) and ``splits.*``, with the data's content digest."""
    data = config.data
    layout = resolve_layout(data.source, data.layout, asset_col=data.panel.asset_col, target_col=data.panel.target_col)
    unused = {"long": ("wide", "features"), "wide": ("panel",)}[layout]  # tables that do not apply
    _flatten("data", {k: v for k, v in data.to_dict().items() if k not in unused}, out)
    _flatten("splits", config.splits.to_dict(), out)
    out["data.layout"] = layout  # as read: "auto" resolved
    out["data.content_sha256"] = source_digest(data.source)


def _search_keys(config: Config, out: dict) -> None:
    """The search space: the model's keys and parameters, the losses it may pick and their tables."""
    model = config.model.to_dict()
    for name in ("backend", "num_boost_round", "early_stopping_rounds"):
        out[f"model.{name}"] = space_value(model[name])
    for name, space in sorted(model["params"].items()):
        out[f"model.params.{name}"] = space_value(space)
    loss = config.loss
    out["loss.name"] = space_value(loss.name)
    for name in loss.names:
        for pname, space in sorted(loss.params_of(name).items()):
            out[f"loss.{loss_name(name)}.{pname}"] = space_value(space)
    out["loss.definition"] = {loss_name(name): loss_definition(name) for name in loss.names}


def make(cfg: Config | dict, keys: Iterable[str] | None = None, also: Iterable[str] = ()) -> dict:
    """The fingerprint of a configuration (a :class:`~czar_gbdt.config.Config` or a validated
    dict): ``{dotted key: JSON value}``, the keys named by the dataclasses' fields.

    ``keys`` keeps only those keys (a record tied to part of the configuration); ``also``
    adds other dotted keys of the configuration as they are (``"report.baselines"``).
    """
    config = as_config(cfg)
    out: dict[str, Any] = {}
    _data_keys(config, out)
    _search_keys(config, out)
    out["study.objective"] = config.study.objective
    out["study.seed"] = config.study.seed
    for key in also:
        out[key] = space_value(config.value(key))
    out = json.loads(json.dumps(out))  # exactly what a storage keeps (tuples as lists, ...)
    if keys is not None:
        wanted = set(keys)
        out = {k: v for k, v in out.items() if k in wanted}
    return out


def record(cfg: Config | dict, also: Iterable[str] = ()) -> dict:
    """What a study stores: the fingerprint (with the keys ``also``), its version and what made it
    (not compared)."""
    return {
        "version": VERSION,
        "keys": make(cfg, also=also),
        "info": {"data.source": as_config(cfg).data.source, "czar_gbdt": __version__},
    }


def record_differences(stored: dict, current: dict) -> list[tuple[str, Any, Any]]:
    """:func:`differences` of two :func:`record` results; records of two versions are compared
    on the keys both hold."""
    old, new = stored.get("keys", {}), current["keys"]
    if stored.get("version") != current["version"]:
        common = set(old) & set(new)
        old, new = {k: old[k] for k in common}, {k: new[k] for k in common}
    return differences(old, new)


def differences(stored: dict, current: dict) -> list[tuple[str, Any, Any]]:
    """``(key, stored value, current value)`` for every key whose value differs; a key that
    only one side holds counts as different (its missing value is ``None``)."""
    out = []
    for key in sorted(set(stored) | set(current)):
        a, b = stored.get(key), current.get(key)
        if a != b:
            out.append((key, a, b))
    return out


def _show(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, dict) and {"low", "high"} <= set(value):
        extra = ", log" if value.get("log") else ""
        step = f", step {value['step']}" if value.get("step") else ""
        return f"{value['low']}..{value['high']}{extra}{step}"
    if isinstance(value, dict) and "choices" in value:
        return f"one of {value['choices']}"
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:12] + "..."  # a content hash
    if isinstance(value, dict) and any(isinstance(v, str) and "sha256:" in v for v in value.values()):
        return json.dumps(
            {
                k: v.split("sha256:")[0] + "sha256:" + v.split("sha256:")[1][:12] + "..."
                if isinstance(v, str) and "sha256:" in v
                else v
                for k, v in value.items()
            }
        )
    return json.dumps(value)


def describe(diffs: list[tuple[str, Any, Any]], limit: int = 8) -> str:
    """``"model.params.num_leaves (study: 4..31; config: 4..63), ..."``: the differences in words."""
    shown = [f"{key} (study: {_show(a)}; config: {_show(b)})" for key, a, b in diffs[:limit]]
    more = f" and {len(diffs) - limit} more" if len(diffs) > limit else ""
    return ", ".join(shown) + more

"""Search spaces and the check of one value against its domain.

:func:`parse_space` reads a fixed value or a ``{low, high[, log, step]}`` / ``{choices}`` table
into a :class:`~.schema.Range` or :class:`~.schema.Choices`; :func:`check_space` checks a fixed
value, both ends of a range and every choice against an :class:`~czar_gbdt._validation.Interval`;
:func:`check_field` does the same for a key of :data:`~.schema.FIELD_BOUNDS`, with the wording of
the configuration errors (``"study.n_trials must be > 0; got 0."``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .._validation import Interval
from ..specs import did_you_mean
from .schema import BOOSTER_BOUNDS, FIELD_BOUNDS, FIELD_NOTES, FINITE, POSITIVE, Choices, ConfigError, Range, rule_text

__all__ = ["parse_space", "check_space", "check_booster_value", "space_values", "check_field"]


def check_booster_value(key: str, backend: str, space: Any) -> Any:
    """Refuse a booster parameter value (fixed, either end of a range, any choice) out of its
    bounds for ``backend``; return the space, a range of a real parameter marked real."""
    return check_space(key, BOOSTER_BOUNDS[backend][key.rsplit(".", 1)[1]], space, f" for {backend}")


def check_space(key: str, bound: Interval, space: Any, where: str = "") -> Any:
    """Refuse a value of ``space`` (fixed, either end of a range, any choice) out of ``bound``."""
    if isinstance(space, Range):
        if bound.kind in ("bool", "str"):
            raise ConfigError(
                f"{key} must be {bound.describe()}; a numeric range "
                f"{{ low = {space.low!r}, high = {space.high!r} }} is not (use {{ choices = [...] }})."
            )
        if bound.kind == "int" and not space.is_int:
            raise ConfigError(
                f"{key} is an integer parameter{where}: write the range with integer ends (and step); "
                f"got low={space.low!r}, high={space.high!r}, step={space.step!r}."
            )
        for end, v in (("low", space.low), ("high", space.high)):
            if not bound.accepts(v, in_range=True):
                raise ConfigError(
                    f"{key}.{end} must be {bound.describe()}{where}"
                    f"{' (the special values are not range ends)' if bound.special else ''}; got {v!r}."
                )
        if bound.kind == "real" and space.is_int:  # { low = 0, high = 1 } searches [0, 1], not {0, 1}
            space = dataclasses.replace(space, real=True)
        return space
    values = space.choices if isinstance(space, Choices) else (space,)
    for v in values:
        if not bound.accepts(v):
            what = f"{key} (choice {v!r})" if isinstance(space, Choices) else key
            raise ConfigError(f"{what} must be {bound.describe()}{where}; got {v!r}.")
    return space


def parse_space(key: str, value: Any) -> Any:
    """A fixed value stays as it is; a ``{low, high[, log, step]}`` or ``{choices}`` table
    becomes a :class:`Range` or :class:`Choices`."""
    if not isinstance(value, dict):
        return value
    if "choices" in value:
        extra = set(value) - {"choices"}
        if extra:
            raise ConfigError(f"{key}: a choices table takes only 'choices'; unknown key(s) {sorted(extra)}.")
        choices = value["choices"]
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{key}.choices must be a non-empty list; got {choices!r}.")
        return Choices(tuple(choices))
    extra = set(value) - {"low", "high", "log", "step"}
    if extra or "low" not in value or "high" not in value:
        raise ConfigError(
            f"{key}: a search range is {{ low = ..., high = ... [, log = true] [, step = ...] }} or "
            f"{{ choices = [...] }}; got keys {sorted(value)}."
        )
    low, high = value["low"], value["high"]
    for end, v in (("low", low), ("high", high)):
        if not FINITE.accepts(v):
            raise ConfigError(f"{key}.{end} must be a finite number; got {v!r}.")
    if low > high:
        raise ConfigError(f"{key}: low must be <= high; got low={low!r}, high={high!r}.")
    log = value.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{key}.log must be true or false; got {log!r}.")
    if log and low <= 0:
        raise ConfigError(f"{key}: a log range needs low > 0; got low={low!r}.")
    step = value.get("step")
    if step is not None and not POSITIVE.accepts(step):
        raise ConfigError(f"{key}.step must be a positive number; got {step!r}.")
    if log and step is not None:
        raise ConfigError(
            f"{key}: log = true and step = {step!r} cannot be combined (optuna samples a log range "
            f"without steps); remove one of them."
        )
    return Range(low, high, log, step)


def space_values(space: Any) -> list:
    """Representative values of a space (ends of a range, every choice) for validation."""
    if isinstance(space, Range):
        return [space.low, space.high]
    if isinstance(space, Choices):
        return list(space.choices)
    return [space]


def check_field(key: str, value: Any) -> None:
    """Refuse a value of the key ``key`` of :data:`FIELD_BOUNDS` (every value of a search space)
    outside its bound: ``"study.sampler must be one of ('tpe', 'random'); got 'tpee' (did you mean 'tpe'?)."``"""
    bound = FIELD_BOUNDS[key]
    note = f" ({FIELD_NOTES[key]})" if key in FIELD_NOTES else ""
    for v in space_values(value):
        if bound.kind == "real" and not math.isfinite(v):
            raise ConfigError(f"{key} must be a finite number; got {v!r}.")
        if not bound.accepts(v):
            hint = did_you_mean(str(v), bound.options) if bound.kind == "str" else ""
            raise ConfigError(f"{key} must be {rule_text(bound)}{note}; got {v!r}{hint}.")

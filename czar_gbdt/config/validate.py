"""Validation of a run configuration: every key and value checked before any work starts.

:func:`validate_config` merges a configuration over :data:`~.schema.DEFAULTS` and checks it in
named steps, one per concern (types, bounds, data, splits, model, loss, compare and report, cluster).
An unknown key, a wrong type or a value out of range raises :class:`~.schema.ConfigError` naming
the dotted key (``loss.czar.alpha``), with a did-you-mean for a misspelt name.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
from pathlib import Path
from typing import Any

from .. import specs
from ..losses import LOSSES, get_loss, loss_class
from ..specs import did_you_mean
from .checks import check_cluster, check_installed, check_storage_url, validate_specs
from .schema import BOOSTER_PARAMS, DEFAULTS, FIELD_BOUNDS, POSITIVE_INT, ROUND_BOUNDS, SEARCHABLE, ConfigError, Range
from .spaces import check_booster_value, check_field, check_space, parse_space, space_values

__all__ = ["validate_config", "register_user_losses"]


def _merge(key: str, defaults: dict, given: dict, free: set[str]) -> dict:
    if not isinstance(given, dict):
        raise ConfigError(f"{key or 'the configuration'} must be a table; got {given!r}.")
    out = copy.deepcopy(defaults)
    for name, value in given.items():
        dotted = f"{key}.{name}" if key else name
        if dotted in free:
            out[name] = value
            continue
        if name not in defaults:
            tables = sorted(
                f.rsplit(".", 1)[1]
                for f in free
                if key and f.startswith(key + ".") and f.rsplit(".", 1)[1] not in defaults
            )
            known = sorted(defaults) + [f"[{key}.{t}]" for t in tables]
            raise ConfigError(
                f"unknown key {dotted!r}{did_you_mean(name, list(defaults) + tables)}; "
                f"known keys{' in [' + key + ']' if key else ''}: {', '.join(known)}."
            )
        if isinstance(defaults[name], dict) and defaults[name]:
            out[name] = _merge(dotted, defaults[name], value, free)
        else:
            out[name] = value
    return out


def _check_type(key: str, value: Any, default: Any) -> None:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, list):
        ok = isinstance(value, list)
    else:
        ok = True
    if not ok:
        raise ConfigError(f"{key} must be {_TYPE_NAMES.get(type(default), type(default).__name__)}; got {value!r}.")


#: How a type error names the expected type.
_TYPE_NAMES = {bool: "a bool", int: "an integer", float: "a number", str: "a string", list: "a list"}


def validate_config(raw: dict) -> dict:
    """Merge ``raw`` over :data:`DEFAULTS`, check every key and value, and parse search spaces.

    Returns the complete configuration (plain dicts; search spaces as :class:`Range` /
    :class:`Choices`). Raises :class:`ConfigError` naming the first bad key.
    """
    register_user_losses(raw)
    cfg = _merged(raw)
    _check_types(cfg)
    _check_bounds(cfg)
    _check_data(cfg)
    if cfg["study"]["storage"]:
        check_storage_url(cfg["study"]["storage"], "study.storage")
    _check_splits(cfg)
    backends = _check_model(cfg)
    _check_loss(cfg)
    _check_compare_report(cfg, backends)
    _check_dates_kind(cfg)
    check_cluster(cfg)
    return cfg


#: The free-form keys of the sections: search spaces and the ``model.params`` / ``loss.<name>`` tables.
def _free_keys() -> set[str]:
    return (
        {"model.params", "loss.name", "model.backend"}
        | {f"loss.{name}" for name in LOSSES}
        | {f"model.{name}" for name in ROUND_BOUNDS}
    )


def _merged(raw: dict) -> dict:
    """``raw`` over the defaults (an unknown key refused), the model rounds parsed as spaces."""
    cfg = _merge("", DEFAULTS, raw, _free_keys())
    for name, bound in ROUND_BOUNDS.items():  # fixed or searched, e.g. { low = 100, high = 400, step = 50 }
        cfg["model"][name] = check_space(f"model.{name}", bound, parse_space(f"model.{name}", cfg["model"][name]))
    return cfg


def _check_types(cfg: dict) -> None:
    """Every key of the sections has the type of its default."""
    free = _free_keys()
    for section in ("study", "data", "splits", "model", "compare", "report", "cluster"):
        for name, default in DEFAULTS[section].items():
            key = f"{section}.{name}"
            if key in free or isinstance(default, dict):
                continue
            _check_type(key, cfg[section][name], default)
    for name in ("features", "wide", "panel"):
        for sub, default in DEFAULTS["data"][name].items():
            _check_type(f"data.{name}.{sub}", cfg["data"][name][sub], default)


def _check_bounds(cfg: dict) -> None:
    """Every key of :data:`FIELD_BOUNDS` inside its bound (a searchable key parsed as a space first)."""
    for key in FIELD_BOUNDS:
        *path, name = key.split(".")
        table = cfg
        for part in path:
            table = table[part]
        if key in SEARCHABLE:
            table[name] = parse_space(key, table[name])
        check_field(key, table[name])


def _check_data(cfg: dict) -> None:
    """The ``[data]`` table: the source exists, the panel's columns, the date range, the feature windows."""
    data = cfg["data"]
    source = data["source"]
    if (
        source != "ff49"
        and not Path(source).is_file()
        and not (cfg["cluster"]["engine"] != "local" and Path(source).is_dir())
    ):
        where = "" if Path(source).is_absolute() else f", relative to the current directory {str(Path.cwd())!r}"
        raise ConfigError(
            f"data.source: no such file {source!r}{where}; give the path of a CSV or Parquet file "
            f'(a wide table of returns or prices, or a long panel) or "ff49" for the bundled '
            f"data."
        )
    if source == "ff49" and data["layout"] == "long":
        raise ConfigError(
            'data.layout = "long" does not fit data.source = "ff49", a wide table of returns; '
            'leave data.layout out ("auto") or set it to "wide".'
        )
    panel_cols = data["panel"]
    for name in ("date_col", "asset_col", "target_col"):
        if not panel_cols[name]:
            raise ConfigError(f"data.panel.{name} must name a column; got an empty string.")
    if any(not isinstance(c, str) or not c for c in panel_cols["feature_cols"]):
        raise ConfigError(
            f"data.panel.feature_cols must be a list of column names; got {panel_cols['feature_cols']!r}."
        )
    for name in ("start", "end"):
        value = data[name]
        if value:
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise ConfigError(f"data.{name} must be a date written YYYY-MM-DD (or empty); got {value!r}.") from None
    if data["start"] and data["end"] and data["start"] > data["end"]:
        raise ConfigError(f"data.start ({data['start']}) is after data.end ({data['end']}).")
    windows = data["features"]["windows"]
    if not windows or not all(POSITIVE_INT.accepts(w) for w in windows):
        raise ConfigError(f"data.features.windows must be a non-empty list of positive ints; got {windows!r}.")


def _check_splits(cfg: dict) -> None:
    """The gap covers the label's horizon; early stopping has a validation slice to watch."""
    gap = cfg["splits"]["gap"]
    if gap and gap < cfg["data"]["horizon"]:
        raise ConfigError(
            f"splits.gap must be >= data.horizon ({cfg['data']['horizon']}): a label over t+1..t+h overlaps "
            f"the test window otherwise (leak); got {gap}."
        )
    if any(space_values(cfg["model"]["early_stopping_rounds"])) and not cfg["splits"]["valid_size"]:
        raise ConfigError(
            "model.early_stopping_rounds needs splits.valid_size > 0 (the validation slice "
            "that early stopping watches); got valid_size = 0."
        )


def _check_model(cfg: dict) -> list:
    """The booster parameters, checked against every backend the search may pick (returned)."""
    backends = space_values(cfg["model"]["backend"])
    for backend in backends:
        check_installed(backend)
    params = cfg["model"]["params"]
    if not isinstance(params, dict):
        raise ConfigError(f"model.params must be a table; got {params!r}.")
    for name, value in list(params.items()):
        key = f"model.params.{name}"
        for backend in backends:
            known = BOOSTER_PARAMS[backend]
            if name not in known:
                raise ConfigError(
                    f"unknown {backend} parameter {key!r}{did_you_mean(name, known)}; "
                    f"known: {', '.join(sorted(known))}."
                )
        space = parse_space(key, value)
        for backend in backends:
            space = check_booster_value(key, backend, space)
        params[name] = space
    return backends


def _check_loss(cfg: dict) -> None:
    """The loss name and parameters: every loss the search may pick, at every end of every range."""
    loss_cfg = cfg["loss"]
    loss_cfg["name"] = parse_space("loss.name", loss_cfg["name"])
    for name in space_values(loss_cfg["name"]):
        if not (isinstance(name, str) and (name in LOSSES or ":" in name)):
            raise ConfigError(
                f"loss.name must be one of {sorted(LOSSES)} or a loss of your own by import path "
                f"('package.module:name'); got {name!r}{did_you_mean(str(name), LOSSES)}."
            )
    for name in LOSSES:  # every table, {} when not given (the losses of your own registered above)
        loss_cfg[name] = _loss_table(f"loss.{name}", name, loss_cfg.get(name, {}))


def _loss_table(key: str, name: str, table: Any) -> dict:
    """The ``[loss.<name>]`` table: known parameters, ranges real-valued, every value one the loss accepts."""
    if not isinstance(table, dict):
        raise ConfigError(f"{key} must be a table; got {table!r}.")
    known = specs.loss_parameters(name)
    parsed = {}
    for pname, value in table.items():
        pkey = f"{key}.{pname}"
        if pname not in known:
            raise ConfigError(
                f"unknown parameter {pkey!r}{did_you_mean(pname, known)}; {name} takes: {', '.join(sorted(known))}."
            )
        parsed[pname] = parse_space(pkey, value)
        if isinstance(parsed[pname], Range):
            parsed[pname] = dataclasses.replace(parsed[pname], real=True)
        for v in space_values(parsed[pname]):
            try:
                get_loss(name, **{pname: v})
            except ValueError as exc:
                raise ConfigError(f"{pkey}: {exc}") from None
    return parsed


def _check_compare_report(cfg: dict, backends: list) -> None:
    """The model specs of ``compare.losses`` and ``report.baselines``; the CSCV blocks even."""
    validate_specs(cfg["compare"]["losses"], "compare.losses", backends)
    validate_specs(cfg["report"]["baselines"], "report.baselines", backends, allow_empty=True)
    if cfg["report"]["cscv_blocks"] % 2 or cfg["report"]["cscv_blocks"] < 2:
        raise ConfigError(
            f"report.cscv_blocks must be an even number >= 2 (half the blocks are in-sample); got "
            f"{cfg['report']['cscv_blocks']!r}."
        )


def _check_dates_kind(cfg: dict) -> None:
    """The assets kept from a wide table; period numbers (``data.wide.dates``) only for a file without a date range."""
    data = cfg["data"]
    columns = data["wide"]["columns"]
    if any(not isinstance(c, str) or not c for c in columns) or len(set(columns)) < len(columns):
        raise ConfigError(
            f"data.wide.columns must be a list of distinct column names (the assets to keep); got {columns!r}."
        )
    if data["wide"]["dates"] == "periods":
        if data["source"] == "ff49":
            raise ConfigError(
                'data.wide.dates = "periods" reads the integer first column of a file as period numbers; '
                "the bundled FF49 data has calendar dates: remove the key."
            )
        dated = [k for k in ("start", "end") if data[k]]
        if dated:
            raise ConfigError(
                f'data.{dated[0]} is a calendar date, and data.wide.dates = "periods" reads the table\'s '
                f"dates as period numbers: remove data.{dated[0]} (cut the file instead)."
            )


def register_user_losses(raw: dict) -> None:
    """Import the losses ``loss.name`` gives by import path (``"package.module:name"``), so that
    their ``[loss.<name>]`` tables are known; the error names ``loss.name``."""
    loss = raw.get("loss", {})
    given = loss.get("name") if isinstance(loss, dict) else None
    values = given.get("choices", []) if isinstance(given, dict) else [given]
    for value in values:
        if isinstance(value, str) and ":" in value:
            try:
                loss_class(value)
            except ValueError as exc:
                raise ConfigError(f"loss.name: {exc}") from None

"""Run configurations (TOML): schema, defaults and validation before any work starts.

A configuration describes one study: the data, the walk-forward splits, the booster and
its parameters, the loss and its parameters, and the optuna study (name, storage,
sampler, pruner, trials, seed). Every value may be fixed or, under ``[model.params]``
and ``[loss.<name>]`` (and ``loss.name``, ``model.backend``, ``model.num_boost_round``,
``model.early_stopping_rounds``), a search range:

.. code-block:: toml

    learning_rate = 0.05                                # fixed
    learning_rate = { low = 0.01, high = 0.2, log = true }  # float range (int if both ends are ints)
    num_leaves = { low = 8, high = 64, step = 8 }
    name = { choices = ["czar", "mse"] }                 # categorical

An unknown key, a wrong type or a value out of range raises :class:`ConfigError`
naming the dotted key (``loss.czar.alpha``) before any data is loaded; the model specs of
``compare.losses`` are checked by :mod:`czar_gbdt.specs`. :func:`fixed_model` and
:func:`fixed_loss` read the fixed values that ``evaluate`` and ``compare`` need, refusing a
search space. See ``docs/tuning.md`` for the full reference.
"""

from __future__ import annotations

import copy
import contextlib
import dataclasses
import datetime
import importlib.util
import math
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import specs
from ._imports import install_hint
from ._validation import Interval
from .datasets import LAYOUTS, WIDE_DATES, WIDE_VALUES
from .metrics import METRICS
from .losses import LOSSES, get_loss, loss_class, loss_name
from .specs import did_you_mean

__all__ = ["ConfigError", "Range", "Choices", "load_config", "validate_config", "DEFAULTS", "OBJECTIVES",
           "ALLORA_OBJECTIVES", "BOOSTER_PARAMS", "BOOSTER_BOUNDS", "parse_loss_spec", "check_compare_spec",
           "check_storage_url", "check_cluster", "fixed_model", "fixed_loss"]


class ConfigError(ValueError):
    """A configuration problem, reported with the dotted key it concerns."""


@dataclass(frozen=True)
class Range:
    """A numeric search range.

    Booster parameters give an integer range when both ends (and the step) are written
    as integers (``num_leaves = { low = 8, high = 64 }``); loss parameters are always
    real-valued, so ``alpha = { low = 0, high = 1 }`` searches the interval, not {0, 1}.
    """

    low: float
    high: float
    log: bool = False
    step: float | None = None
    real: bool = False

    @property
    def is_int(self) -> bool:
        return not self.real and isinstance(self.low, int) and isinstance(self.high, int) and (
            self.step is None or isinstance(self.step, int))


@dataclass(frozen=True)
class Choices:
    """A categorical search space."""

    choices: tuple


#: Defaults of every section; a key absent here is unknown (except under the free-form
#: tables ``model.params`` and ``loss.<name>``, which are checked against the backend's and
#: the loss's own parameter names).
DEFAULTS: dict[str, Any] = {
    "study": {
        "name": "czar_gbdt",
        "storage": "",  # "" -> sqlite:///<runs_dir>/<name>.db
        "runs_dir": "runs",
        "n_trials": 20,
        "seed": 0,
        "sampler": "tpe",
        "pruner": "median",
        "objective": "rank_ic",
        "heartbeat_interval": 10,
        "grace_period": 30,
        "max_retry": 3,
        "n_startup_trials": 5,
    },
    "data": {
        "source": "ff49",  # "ff49" or a path to a wide table or a long panel (CSV or Parquet)
        "layout": "auto",  # "wide", "long" or "auto" (long if it has the asset or target column)
        "start": "",
        "end": "",
        "horizon": 5,
        # "auto": "demean" for a cross-section, "raw" for one series (resolved on the data: evaluation.prepare_data)
        "target_transform": "auto",
        "features": {"windows": [1, 5, 20, 60], "vol_window": 60},
        # date_col "": the first column; columns []: every asset column (["Softw"]: that one series)
        # dates "periods": the date column holds integer period numbers (a row index), not dates
        "wide": {"values": "returns", "date_col": "", "columns": [], "dates": "calendar"},
        "panel": {
            "date_col": "date", "asset_col": "asset", "target_col": "target",
            # "" -> the column named std / mean / weight, when the table has one
            "feature_cols": [], "std_col": "", "mean_col": "", "weight_col": "", "sort": False,
        },
    },
    "splits": {
        "train_size": 0,  # 0: expanding window
        "min_train_size": 500,
        "test_size": 250,
        "step": 0,  # 0: test_size
        "gap": 0,  # 0: the horizon
        "valid_size": 0,
        "holdout": 250,
        "max_splits": 0,  # 0: all
    },
    "model": {
        "backend": "lightgbm",
        "num_boost_round": 200,
        "early_stopping_rounds": 0,  # 0: none (needs splits.valid_size > 0 otherwise)
        "params": {},
    },
    "loss": {"name": "czar"},
    "compare": {
        # what `czar-gbdt compare` trains on the same folds: loss specs NAME[:k=v,...]
        "losses": ["builtin", "zptae", "czar", "czar:alpha=0.5", "ranking"],
        "ensemble": True,  # add the rank-average ensemble of the models above
        "study": "",  # best_params.json or a study's TOML config: adds its best CZAR parameters
        "top_k": 5,
        "cost": 0.0005,  # per unit of turnover, in target units
        "eval_alpha": 0.0,  # CZAR alpha of the test-fold loss column
    },
    "report": {
        # what `czar-gbdt report` trains beside the tuned model on the holdout (loss specs as in
        # compare.losses; "ranking" only when the data has a cross-section)
        "baselines": ["builtin", "ranking"],
        # the blocks the walk-forward dates are cut into for the probability of backtest
        # overfitting (combinatorially symmetric cross-validation; even; docs/tuning.md)
        "cscv_blocks": 16,
    },
    "cluster": {
        # "local": train in this process; "dask": read data.source (Parquet) lazily and train each
        # walk-forward fold on a Dask cluster (czar_gbdt.cluster; docs/cluster.md)
        "engine": "local",
        "scheduler": "",  # "tcp://host:8786"; "": start a LocalCluster with the settings below
        "n_workers": 2,
        "threads_per_worker": 1,
        "memory_limit": "auto",  # per worker: "auto", "4GiB", "0" (no limit)
    },
}

#: Allora's scores a study may maximise (the higher-is-better ones registered in ``metrics.METRICS``;
#: its two p-values are pass/fail tests, not targets).
ALLORA_OBJECTIVES = tuple(name for name, m in METRICS.items() if name.startswith("allora_") and m.higher_is_better)
#: ``study.objective``: the rank IC across assets per date (``rank_ic``, or the time-series rank IC
#: of each test window when the data is one series), its ICIR, the time-series rank IC, or an
#: Allora score (docs/tuning.md).
OBJECTIVES = ("rank_ic", "icir", "ts_rank_ic", *ALLORA_OBJECTIVES)

_CHOICES = {
    "study.sampler": ("tpe", "random"),
    "study.pruner": ("median", "none"),
    "study.objective": OBJECTIVES,
    "data.layout": LAYOUTS,
    "data.target_transform": ("auto", "raw", "demean", "zscore"),
    "data.wide.values": WIDE_VALUES,
    "data.wide.dates": WIDE_DATES,
    "model.backend": ("lightgbm", "xgboost", "catboost"),
}
_POSITIVE_INT = {
    "study.n_trials", "study.heartbeat_interval", "study.grace_period", "data.horizon",
    "splits.min_train_size", "splits.test_size", "study.n_startup_trials",
    "data.features.vol_window", "compare.top_k", "report.cscv_blocks",
}
_NON_NEGATIVE_INT = {
    "study.seed", "study.max_retry", "splits.train_size", "splits.step", "splits.gap", "splits.valid_size",
    "splits.holdout", "splits.max_splits",
}
#: keys whose value may be a search space
_SEARCHABLE = {"model.backend", "loss.name"}

#: Booster parameters a config may set (and search) per backend: the common ones.
BOOSTER_PARAMS: dict[str, frozenset[str]] = {
    "lightgbm": frozenset({
        "learning_rate", "num_leaves", "max_depth", "min_child_samples", "min_data_in_leaf",
        "min_sum_hessian_in_leaf", "min_child_weight", "subsample", "bagging_fraction", "bagging_freq",
        "subsample_freq", "colsample_bytree", "feature_fraction", "reg_alpha", "lambda_l1", "reg_lambda",
        "lambda_l2", "min_split_gain", "min_gain_to_split", "max_bin", "extra_trees", "num_threads",
        "path_smooth",
    }),
    "xgboost": frozenset({
        "learning_rate", "eta", "max_depth", "min_child_weight", "subsample", "colsample_bytree",
        "colsample_bylevel", "colsample_bynode", "reg_alpha", "alpha", "reg_lambda", "lambda", "gamma",
        "min_split_loss", "max_bin", "tree_method", "grow_policy", "max_leaves", "nthread",
        "max_delta_step",
    }),
    "catboost": frozenset({
        "learning_rate", "depth", "l2_leaf_reg", "random_strength", "bagging_temperature", "subsample",
        "rsm", "border_count", "min_data_in_leaf", "grow_policy", "thread_count", "bootstrap_type",
    }),
}


_POS_REAL = Interval("real", 0, open_low=True)
_NONNEG_REAL = Interval("real", 0)
_FRACTION = Interval("real", 0, 1, open_low=True)
_NONNEG_INT = Interval("int", 0)

#: The values each booster parameter of :data:`BOOSTER_PARAMS` accepts: checked for a fixed
#: value, both ends of a range and every choice, for every backend the search may pick.
BOOSTER_BOUNDS: dict[str, dict[str, Interval]] = {
    "lightgbm": {
        "learning_rate": _POS_REAL,
        "num_leaves": Interval("int", 2, 131072),
        "max_depth": Interval("int", 1, special=(-1,), meaning="no limit"),
        "min_child_samples": _NONNEG_INT, "min_data_in_leaf": _NONNEG_INT,
        "min_sum_hessian_in_leaf": _NONNEG_REAL, "min_child_weight": _NONNEG_REAL,
        "subsample": _FRACTION, "bagging_fraction": _FRACTION,
        "bagging_freq": _NONNEG_INT, "subsample_freq": _NONNEG_INT,
        "colsample_bytree": _FRACTION, "feature_fraction": _FRACTION,
        "reg_alpha": _NONNEG_REAL, "lambda_l1": _NONNEG_REAL, "reg_lambda": _NONNEG_REAL, "lambda_l2": _NONNEG_REAL,
        "min_split_gain": _NONNEG_REAL, "min_gain_to_split": _NONNEG_REAL,
        "max_bin": Interval("int", 2),
        "extra_trees": Interval("bool"),
        "num_threads": Interval("int", 1, special=(0,), meaning="OpenMP default"),
        "path_smooth": _NONNEG_REAL,
    },
    "xgboost": {
        "learning_rate": _POS_REAL, "eta": _POS_REAL,
        "max_depth": Interval("int", 1, special=(0,), meaning="no limit"),
        "min_child_weight": _NONNEG_REAL,
        "subsample": _FRACTION, "colsample_bytree": _FRACTION, "colsample_bylevel": _FRACTION,
        "colsample_bynode": _FRACTION,
        "reg_alpha": _NONNEG_REAL, "alpha": _NONNEG_REAL, "reg_lambda": _NONNEG_REAL, "lambda": _NONNEG_REAL,
        "gamma": _NONNEG_REAL, "min_split_loss": _NONNEG_REAL,
        "max_bin": Interval("int", 2),
        "tree_method": Interval("str", options=("auto", "exact", "approx", "hist")),
        "grow_policy": Interval("str", options=("depthwise", "lossguide")),
        "max_leaves": Interval("int", 2, special=(0,), meaning="no limit"),
        "nthread": Interval("int", 1),
        "max_delta_step": _NONNEG_REAL,
    },
    "catboost": {
        "learning_rate": _POS_REAL,
        "depth": Interval("int", 1, 16),
        "l2_leaf_reg": _NONNEG_REAL, "random_strength": _NONNEG_REAL, "bagging_temperature": _NONNEG_REAL,
        "subsample": _FRACTION, "rsm": _FRACTION,
        "border_count": Interval("int", 1, 65535),
        "min_data_in_leaf": Interval("int", 1),
        "grow_policy": Interval("str", options=("SymmetricTree", "Depthwise", "Lossguide")),
        "thread_count": Interval("int", 1, special=(-1,), meaning="all cores"),
        "bootstrap_type": Interval("str", options=("Bayesian", "Bernoulli", "MVS", "Poisson", "No")),
    },
}


#: Model settings that may be searched like booster parameters (integers, any backend).
ROUND_BOUNDS: dict[str, Interval] = {
    "num_boost_round": Interval("int", 1),
    "early_stopping_rounds": Interval("int", 0),  # 0: no early stopping
}


def _check_booster_value(key: str, backend: str, space: Any) -> Any:
    """Refuse a booster parameter value (fixed, either end of a range, any choice) out of its
    bounds for ``backend``; return the space, a range of a real parameter marked real."""
    return _check_space(key, BOOSTER_BOUNDS[backend][key.rsplit(".", 1)[1]], space, f" for {backend}")


def _check_space(key: str, bound: Interval, space: Any, where: str = "") -> Any:
    """Refuse a value of ``space`` (fixed, either end of a range, any choice) out of ``bound``."""
    if isinstance(space, Range):
        if bound.kind in ("bool", "str"):
            raise ConfigError(f"{key} must be {bound.describe()}; a numeric range "
                              f"{{ low = {space.low!r}, high = {space.high!r} }} is not (use {{ choices = [...] }}).")
        if bound.kind == "int" and not space.is_int:
            raise ConfigError(f"{key} is an integer parameter{where}: write the range with integer ends (and step); "
                              f"got low={space.low!r}, high={space.high!r}, step={space.step!r}.")
        for end, v in (("low", space.low), ("high", space.high)):
            if not bound.accepts(v, in_range=True):
                raise ConfigError(f"{key}.{end} must be {bound.describe()}{where}"
                                  f"{' (the special values are not range ends)' if bound.special else ''}; got {v!r}.")
        if bound.kind == "real" and space.is_int:  # { low = 0, high = 1 } searches [0, 1], not {0, 1}
            space = dataclasses.replace(space, real=True)
        return space
    values = space.choices if isinstance(space, Choices) else (space,)
    for v in values:
        if not bound.accepts(v):
            what = f"{key} (choice {v!r})" if isinstance(space, Choices) else key
            raise ConfigError(f"{what} must be {bound.describe()}{where}; got {v!r}.")
    return space


def _parse_space(key: str, value: Any) -> Any:
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
            f"{{ choices = [...] }}; got keys {sorted(value)}.")
    low, high = value["low"], value["high"]
    for end, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"{key}.{end} must be a finite number; got {v!r}.")
    if low > high:
        raise ConfigError(f"{key}: low must be <= high; got low={low!r}, high={high!r}.")
    log = value.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{key}.log must be true or false; got {log!r}.")
    if log and low <= 0:
        raise ConfigError(f"{key}: a log range needs low > 0; got low={low!r}.")
    step = value.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, (int, float)) or step <= 0):
        raise ConfigError(f"{key}.step must be a positive number; got {step!r}.")
    if log and step is not None:
        raise ConfigError(f"{key}: log = true and step = {step!r} cannot be combined (optuna samples a log range "
                          f"without steps); remove one of them.")
    return Range(low, high, log, step)


def _space_values(space: Any) -> list:
    """Representative values of a space (ends of a range, every choice) for validation."""
    if isinstance(space, Range):
        return [space.low, space.high]
    if isinstance(space, Choices):
        return list(space.choices)
    return [space]


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
            tables = sorted(f.rsplit(".", 1)[1] for f in free if key and f.startswith(key + ".")
                            and f.rsplit(".", 1)[1] not in defaults)
            known = sorted(defaults) + [f"[{key}.{t}]" for t in tables]
            raise ConfigError(
                f"unknown key {dotted!r}{did_you_mean(name, list(defaults) + tables)}; "
                f"known keys{' in [' + key + ']' if key else ''}: {', '.join(known)}.")
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
_TYPE_NAMES = {bool: "a bool", int: "an integer", float: "a number", str: "a string",
               list: "a list"}


def validate_config(raw: dict) -> dict:
    """Merge ``raw`` over :data:`DEFAULTS`, check every key and value, and parse search spaces.

    Returns the complete configuration (plain dicts; search spaces as :class:`Range` /
    :class:`Choices`). Raises :class:`ConfigError` naming the first bad key.
    """
    _register_user_losses(raw)
    loss_tables = {f"loss.{name}" for name in LOSSES}
    rounds = {f"model.{name}" for name in ROUND_BOUNDS}
    free = {"model.params", "loss.name", "model.backend"} | loss_tables | rounds
    cfg = _merge("", DEFAULTS, raw, free)
    for name, bound in ROUND_BOUNDS.items():  # fixed or searched, e.g. { low = 100, high = 400, step = 50 }
        cfg["model"][name] = _check_space(f"model.{name}", bound, _parse_space(f"model.{name}", cfg["model"][name]))

    for section in ("study", "data", "splits", "model", "compare", "report", "cluster"):
        for name, default in DEFAULTS[section].items():
            key = f"{section}.{name}"
            if key in free or isinstance(default, dict):
                continue
            _check_type(key, cfg[section][name], default)
    for name in ("features", "wide", "panel"):
        for sub, default in DEFAULTS["data"][name].items():
            _check_type(f"data.{name}.{sub}", cfg["data"][name][sub], default)
    for key in _POSITIVE_INT | _NON_NEGATIVE_INT:
        section, *rest = key.split(".")
        value = cfg[section]
        for part in rest:
            value = value[part]
        if key in _POSITIVE_INT and value <= 0:
            raise ConfigError(f"{key} must be > 0; got {value!r}.")
        if key in _NON_NEGATIVE_INT and value < 0:
            raise ConfigError(f"{key} must be >= 0; got {value!r}.")
    for key, options in _CHOICES.items():
        *path, name = key.split(".")
        table = cfg
        for part in path:
            table = table[part]
        value = table[name]
        if key in _SEARCHABLE:
            value = _parse_space(key, value)
            table[name] = value
        for v in _space_values(value):
            if v not in options:
                raise ConfigError(f"{key} must be one of {options}; got {v!r}{did_you_mean(str(v), options)}.")
    source = cfg["data"]["source"]
    if source != "ff49" and not Path(source).is_file() and not (cfg["cluster"]["engine"] != "local"
                                                               and Path(source).is_dir()):
        where = "" if Path(source).is_absolute() else f", relative to the current directory {str(Path.cwd())!r}"
        raise ConfigError(f"data.source: no such file {source!r}{where}; give the path of a CSV or Parquet file "
                          f"(a wide table of returns or prices, or a long panel) or \"ff49\" for the bundled "
                          f"data.")
    if source == "ff49" and cfg["data"]["layout"] == "long":
        raise ConfigError("data.layout = \"long\" does not fit data.source = \"ff49\", a wide table of returns; "
                          "leave data.layout out (\"auto\") or set it to \"wide\".")
    panel_cols = cfg["data"]["panel"]
    for name in ("date_col", "asset_col", "target_col"):
        if not panel_cols[name]:
            raise ConfigError(f"data.panel.{name} must name a column; got an empty string.")
    if any(not isinstance(c, str) or not c for c in panel_cols["feature_cols"]):
        raise ConfigError(f"data.panel.feature_cols must be a list of column names; got "
                          f"{panel_cols['feature_cols']!r}.")
    for name in ("start", "end"):
        value = cfg["data"][name]
        if value:
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise ConfigError(f"data.{name} must be a date written YYYY-MM-DD (or empty); got {value!r}.") from None
    if cfg["data"]["start"] and cfg["data"]["end"] and cfg["data"]["start"] > cfg["data"]["end"]:
        raise ConfigError(f"data.start ({cfg['data']['start']}) is after data.end ({cfg['data']['end']}).")
    if cfg["study"]["storage"]:
        check_storage_url(cfg["study"]["storage"], "study.storage")
    windows = cfg["data"]["features"]["windows"]
    if not windows or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in windows):
        raise ConfigError(f"data.features.windows must be a non-empty list of positive ints; got {windows!r}.")
    gap = cfg["splits"]["gap"]
    if gap and gap < cfg["data"]["horizon"]:
        raise ConfigError(
            f"splits.gap must be >= data.horizon ({cfg['data']['horizon']}): a label over t+1..t+h overlaps "
            f"the test window otherwise (leak); got {gap}.")
    if any(_space_values(cfg["model"]["early_stopping_rounds"])) and not cfg["splits"]["valid_size"]:
        raise ConfigError("model.early_stopping_rounds needs splits.valid_size > 0 (the validation slice "
                          "that early stopping watches); got valid_size = 0.")

    # booster parameters, checked against every backend the search may pick
    backends = _space_values(cfg["model"]["backend"])
    for backend in backends:
        _check_installed(backend)
    params = cfg["model"]["params"]
    if not isinstance(params, dict):
        raise ConfigError(f"model.params must be a table; got {params!r}.")
    for name, value in list(params.items()):
        key = f"model.params.{name}"
        for backend in backends:
            known = BOOSTER_PARAMS[backend]
            if name not in known:
                raise ConfigError(f"unknown {backend} parameter {key!r}{did_you_mean(name, known)}; "
                                  f"known: {', '.join(sorted(known))}.")
        space = _parse_space(key, value)
        for backend in backends:
            space = _check_booster_value(key, backend, space)
        params[name] = space

    # loss name and parameters: every loss the search may pick, at every end of every range
    loss_cfg = cfg["loss"]
    loss_cfg["name"] = _parse_space("loss.name", loss_cfg["name"])
    names = _space_values(loss_cfg["name"])
    for name in names:
        if not (isinstance(name, str) and (name in LOSSES or ":" in name)):
            raise ConfigError(f"loss.name must be one of {sorted(LOSSES)} or a loss of your own by import path "
                              f"('package.module:name'); got {name!r}{did_you_mean(str(name), LOSSES)}.")
    for key in loss_tables:
        name = key.split(".")[1]
        table = loss_cfg.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{key} must be a table; got {table!r}.")
        known = specs.loss_parameters(name)
        parsed = {}
        for pname, value in table.items():
            pkey = f"{key}.{pname}"
            if pname not in known:
                raise ConfigError(f"unknown parameter {pkey!r}{did_you_mean(pname, known)}; "
                                  f"{name} takes: {', '.join(sorted(known))}.")
            parsed[pname] = _parse_space(pkey, value)
            if isinstance(parsed[pname], Range):
                parsed[pname] = dataclasses.replace(parsed[pname], real=True)
            for v in _space_values(parsed[pname]):
                try:
                    get_loss(name, **{pname: v})
                except ValueError as exc:
                    raise ConfigError(f"{pkey}: {exc}") from None
        loss_cfg[name] = parsed
    _validate_compare(cfg["compare"], backends)
    _validate_specs(cfg["report"]["baselines"], "report.baselines", backends, allow_empty=True)
    if cfg["report"]["cscv_blocks"] % 2 or cfg["report"]["cscv_blocks"] < 2:
        raise ConfigError(f"report.cscv_blocks must be an even number >= 2 (half the blocks are in-sample); got "
                          f"{cfg['report']['cscv_blocks']!r}.")
    columns = cfg["data"]["wide"]["columns"]
    if any(not isinstance(c, str) or not c for c in columns) or len(set(columns)) < len(columns):
        raise ConfigError(f"data.wide.columns must be a list of distinct column names (the assets to keep); got "
                          f"{columns!r}.")
    if cfg["data"]["wide"]["dates"] == "periods":
        if cfg["data"]["source"] == "ff49":
            raise ConfigError('data.wide.dates = "periods" reads the integer first column of a file as period numbers; '
                              'the bundled FF49 data has calendar dates: remove the key.')
        dated = [k for k in ("start", "end") if cfg["data"][k]]
        if dated:
            raise ConfigError(f"data.{dated[0]} is a calendar date, and data.wide.dates = \"periods\" reads the table's "
                              f"dates as period numbers: remove data.{dated[0]} (cut the file instead).")
    check_cluster(cfg)
    return cfg


_SCHEDULER_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://", "ws://", "wss://")


def check_cluster(cfg: dict) -> None:
    """The ``[cluster]`` table, and what ``engine = "dask"`` asks of the other sections.

    On a Dask cluster the data is a Parquet file or a folder of them (read lazily), the
    backend has a Dask interface (xgboost, lightgbm), LightGBM trains without early
    stopping (its Dask interface has none), and the loss is element-wise and not scheduled
    (each worker sees only its rows, and no round). Errors name the key.
    """
    c = cfg["cluster"]
    if c["engine"] not in ("local", "dask"):
        raise ConfigError(f"cluster.engine must be one of ('local', 'dask'); got {c['engine']!r}"
                          f"{did_you_mean(str(c['engine']), ('local', 'dask'))}.")
    scheduler = c["scheduler"]
    if scheduler and (not scheduler.startswith(_SCHEDULER_SCHEMES) or scheduler.endswith("://")):
        raise ConfigError(f"cluster.scheduler must be a Dask scheduler address such as 'tcp://host:8786' (or \"\" to "
                          f"start a LocalCluster); got {scheduler!r}.")
    for key in ("n_workers", "threads_per_worker"):
        if c[key] < 1:
            raise ConfigError(f"cluster.{key} must be >= 1; got {c[key]!r}.")
    limit = c["memory_limit"].strip()
    if limit != "auto":
        try:
            from dask.utils import parse_bytes

            ok = parse_bytes(limit) >= 0
        except (ImportError, ValueError, TypeError):
            ok = bool(limit) and limit.replace(".", "", 1).isdigit()
        if not ok:
            raise ConfigError(f"cluster.memory_limit must be 'auto', a size such as '4GiB' or '500MB', or '0' (no "
                              f"limit); got {c['memory_limit']!r}.")
    if c["engine"] != "dask":
        return
    source = cfg["data"]["source"]
    if source == "ff49" or not (Path(source).is_dir() or source.lower().endswith((".parquet", ".pq", ".parq"))):
        raise ConfigError(f"data.source: cluster.engine = 'dask' reads a long panel lazily from Parquet (a file or a "
                          f"folder of Parquet files); got {source!r}.")
    if cfg["data"].get("layout") == "wide":
        raise ConfigError("data.layout: cluster.engine = 'dask' reads a long panel (one row per date and asset); a "
                          "wide table's features are built in memory.")
    for backend in _space_values(cfg["model"]["backend"]):
        if backend not in ("xgboost", "lightgbm"):
            raise ConfigError(f"model.backend: {backend!r} has no Dask interface; on a cluster use 'xgboost' or "
                              "'lightgbm'.")
        if backend == "lightgbm" and any(_space_values(cfg["model"]["early_stopping_rounds"])):
            raise ConfigError("model.early_stopping_rounds: LightGBM's Dask interface has no early stopping "
                              "(https://github.com/microsoft/LightGBM/issues/3712); set it to 0 or use backend "
                              "'xgboost', which stops on the validation rank IC summed over the workers.")
    for name in _space_values(cfg["loss"]["name"]):
        loss = get_loss(name)
        if not loss.elementwise or loss.scheduled:
            raise ConfigError(f"loss.name: {name!r} cannot train on a Dask cluster: "
                              + ("its gradients need whole-dataset counts and each worker sees only its own rows."
                                 if not loss.elementwise else "it changes with the boosting round."))


def _register_user_losses(raw: dict) -> None:
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


def check_storage_url(url: str, key: str = "study.storage") -> None:
    """Refuse a storage the tuner cannot use, naming ``key``: anything but a SQLAlchemy URL.

    optuna's journal storage (``journal:///path.log``, a ``.log`` file, Redis) is refused: in
    the installed optuna only :class:`optuna.storages.RDBStorage` keeps heartbeats, and
    without them a trial whose worker was killed stays RUNNING for ever instead of being
    failed and retried. Parsing the URL opens no connection.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"{key} must be a SQLAlchemy URL; got {url!r}.")
    scheme = url.split(":", 1)[0].lower() if "://" in url else ""
    if scheme.startswith("journal") or scheme in ("redis", "rediss") or (
            not scheme and url.endswith((".log", ".journal"))):
        raise ConfigError(
            f"{key}: journal storage is not supported ({url!r}): optuna's JournalStorage has no heartbeats, so "
            f"a trial whose worker is killed would stay RUNNING for ever instead of being failed and retried. "
            f"Use a PostgreSQL or MySQL URL (postgresql://user@host/db) for several workers, or SQLite "
            f"(sqlite:///path.db, the default) for one.")
    try:
        make_url(url)
    except ArgumentError:
        raise ConfigError(f"{key} must be a SQLAlchemy URL such as sqlite:///runs/study.db or "
                          f"postgresql://user@host/db; got {url!r}.") from None


@contextlib.contextmanager
def _spec_errors():
    """Report a bad model spec as a configuration error (exit code 2 on the command line)."""
    try:
        yield
    except specs.SpecError as exc:
        raise ConfigError(str(exc)) from None


def parse_loss_spec(spec: str, key: str = "--loss") -> tuple[str, dict]:
    """``"czar:alpha=0.5,epsilon=1"`` -> ``("czar", {"alpha": 0.5, "epsilon": 1.0})``
    (:func:`czar_gbdt.specs.parse_spec`); ``key`` names the option or config key in the error."""
    with _spec_errors():
        return specs.parse_spec(spec, key)


#: The extra of ``pyproject.toml`` that installs each optional backend (LightGBM is a dependency).
_BACKEND_EXTRAS = {"xgboost": "xgboost", "catboost": "catboost"}


def _check_installed(backend: str) -> None:
    """Refuse, before any work, a ``model.backend`` whose booster is not installed (an extra)."""
    if backend in _BACKEND_EXTRAS and importlib.util.find_spec(backend) is None:
        raise ConfigError(f"model.backend = {backend!r}, but {backend} is not installed (it is an extra of "
                          f"czar-gbdt): install it with {install_hint(backend, _BACKEND_EXTRAS[backend])}.")


def check_compare_spec(name: str, params: dict, key: str, backends: list | None = None) -> None:
    """Refuse an unknown name or parameter, or a value the model refuses, naming ``key``
    (:func:`czar_gbdt.specs.check_spec`)."""
    with _spec_errors():
        specs.check_spec(name, params, key, backends or ())


def _validate_specs(given: list, key: str, backends: list, allow_empty: bool = False) -> None:
    """A list of model specs (``compare.losses``, ``report.baselines``): each checked, none twice."""
    if not given and not allow_empty:
        raise ConfigError(f"{key} must be a non-empty list of loss specs; got {given!r}.")
    seen = set()
    for i, spec in enumerate(given):
        item = f"{key}[{i}]"
        name, params = parse_loss_spec(spec, item)
        check_compare_spec(name, params, item, backends)
        canonical = (name, tuple(sorted(params.items())))
        if canonical in seen:
            raise ConfigError(f"{item}: {spec!r} is listed twice.")
        seen.add(canonical)


def _validate_compare(cmp: dict, backends: list) -> None:
    """The ``[compare]`` table (types are checked with the other sections)."""
    _validate_specs(cmp["losses"], "compare.losses", backends)
    for name in ("cost", "eval_alpha"):
        if not math.isfinite(cmp[name]):
            raise ConfigError(f"compare.{name} must be a finite number; got {cmp[name]!r}.")
    if cmp["cost"] < 0:
        raise ConfigError(f"compare.cost must be >= 0 (cost per unit of turnover); got {cmp['cost']!r}.")
    if not 0 <= cmp["eval_alpha"] <= 1:
        raise ConfigError(f"compare.eval_alpha must be in [0, 1] (CZAR's alpha); got {cmp['eval_alpha']!r}.")


def load_config(path: str | Path, overrides: dict | None = None) -> dict:
    """Read a TOML file and validate it (see :func:`validate_config`).

    ``overrides`` is a nested dict merged over the file (the CLI's ``--trials`` etc.).
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {str(path)!r}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}.") from None
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update(values)
    # a loss of your own (loss.name = "my_losses:huber") may live next to the config or in the
    # current directory: both are searched after the installed packages
    for folder in (str(path.resolve().parent), str(Path.cwd())):
        if folder not in sys.path:
            sys.path.append(folder)
    cfg = validate_config(raw)
    cfg["_path"] = str(path)
    return cfg


def _fixed(key: str, value: Any, command: str) -> Any:
    if isinstance(value, (Range, Choices)):
        raise ConfigError(f"{key} is a search space; `{command}` needs fixed values (use `tune` to search).")
    return value


def fixed_model(cfg: dict, command: str = "evaluate") -> tuple[str, dict]:
    """The config's backend and booster parameters, refusing search spaces.

    ``command`` (``"evaluate"``, ``"compare"``) is the command the error names.

    Raises
    ------
    ConfigError
        Naming the key (``model.params.learning_rate``, ``model.num_boost_round``) that
        holds a range or choices.
    """
    backend = _fixed("model.backend", cfg["model"]["backend"], command)
    booster = {k: _fixed(f"model.params.{k}", v, command) for k, v in cfg["model"]["params"].items()}
    for name in ("num_boost_round", "early_stopping_rounds"):
        _fixed(f"model.{name}", cfg["model"][name], command)
    return backend, booster


def fixed_loss(cfg: dict, command: str = "evaluate") -> tuple[str, dict]:
    """The config's loss name and parameters, refusing search spaces (as :func:`fixed_model`)."""
    name = _fixed("loss.name", cfg["loss"]["name"], command)
    table = loss_name(name)
    return name, {k: _fixed(f"loss.{table}.{k}", v, command) for k, v in cfg["loss"].get(table, {}).items()}

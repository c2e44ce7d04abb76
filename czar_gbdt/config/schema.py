"""The schema of a run configuration, written once: defaults, choices, bounds and search-space types.

Every constraint on a value lives here as a :class:`~czar_gbdt._validation.Interval` (the one
domain type of the package): :data:`FIELD_BOUNDS` for the keys of the sections,
:data:`BOOSTER_BOUNDS` for the booster parameters, :data:`ROUND_BOUNDS` for the searchable
model rounds. :func:`rule_text` words a bound the way the configuration errors do
(``"> 0"``, ``"in [0, 1]"``, ``"one of ('tpe', 'random')"``); :mod:`.validate` applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._validation import Interval
from ..datasets import LAYOUTS, WIDE_DATES, WIDE_VALUES
from ..metrics import METRICS

__all__ = [
    "ConfigError",
    "Range",
    "Choices",
    "DEFAULTS",
    "OBJECTIVES",
    "ALLORA_OBJECTIVES",
    "FIELD_BOUNDS",
    "FIELD_NOTES",
    "SEARCHABLE",
    "POSITIVE_INT",
    "NONNEG_INT",
    "FINITE",
    "POSITIVE",
    "BOOSTER_PARAMS",
    "BOOSTER_BOUNDS",
    "ROUND_BOUNDS",
    "rule_text",
]


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
        return (
            not self.real
            and isinstance(self.low, int)
            and isinstance(self.high, int)
            and (self.step is None or isinstance(self.step, int))
        )


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
        # "auto": "demean" for a cross-section, "raw" for one series (resolved on the data: evaluation.resolve_config)
        "target_transform": "auto",
        "features": {"windows": [1, 5, 20, 60], "vol_window": 60},
        # date_col "": the first column; columns []: every asset column (["Softw"]: that one series)
        # dates "periods": the date column holds integer period numbers (a row index), not dates
        "wide": {"values": "returns", "date_col": "", "columns": [], "dates": "calendar"},
        "panel": {
            "date_col": "date",
            "asset_col": "asset",
            "target_col": "target",
            # "" -> the column named std / mean / weight, when the table has one
            "feature_cols": [],
            "std_col": "",
            "mean_col": "",
            "weight_col": "",
            "sort": False,
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

#: The domains the checks share: a count > 0, a count >= 0, a finite number (a range's ends),
#: a number > 0 (a range's step).
POSITIVE_INT = Interval("int", 0, open_low=True)
NONNEG_INT = Interval("int", 0)
FINITE = Interval("real")
POSITIVE = Interval("real", 0, open_low=True)


def _options(*options: str) -> Interval:
    return Interval("str", options=tuple(options))


#: The domain of each key of the sections that has one, checked in this order after the types
#: (:data:`DEFAULTS`); a key of :data:`SEARCHABLE` is checked at every value of its search space.
FIELD_BOUNDS: dict[str, Interval] = {
    "study.n_trials": POSITIVE_INT,
    "study.heartbeat_interval": POSITIVE_INT,
    "study.grace_period": POSITIVE_INT,
    "study.n_startup_trials": POSITIVE_INT,
    "study.seed": NONNEG_INT,
    "study.max_retry": NONNEG_INT,
    "data.horizon": POSITIVE_INT,
    "data.features.vol_window": POSITIVE_INT,
    "splits.min_train_size": POSITIVE_INT,
    "splits.test_size": POSITIVE_INT,
    "splits.train_size": NONNEG_INT,
    "splits.step": NONNEG_INT,
    "splits.gap": NONNEG_INT,
    "splits.valid_size": NONNEG_INT,
    "splits.holdout": NONNEG_INT,
    "splits.max_splits": NONNEG_INT,
    "compare.top_k": POSITIVE_INT,
    "report.cscv_blocks": POSITIVE_INT,
    "study.sampler": _options("tpe", "random"),
    "study.pruner": _options("median", "none"),
    "study.objective": _options(*OBJECTIVES),
    "data.layout": _options(*LAYOUTS),
    "data.target_transform": _options("auto", "raw", "demean", "zscore"),
    "data.wide.values": _options(*WIDE_VALUES),
    "data.wide.dates": _options(*WIDE_DATES),
    "model.backend": _options("lightgbm", "xgboost", "catboost"),
    "compare.cost": Interval("real", 0),
    "compare.eval_alpha": Interval("real", 0, 1),
    "cluster.engine": _options("local", "dask"),
    "cluster.n_workers": Interval("int", 1),
    "cluster.threads_per_worker": Interval("int", 1),
}
#: What a bound is about, added to its error in brackets.
FIELD_NOTES = {"compare.cost": "cost per unit of turnover", "compare.eval_alpha": "CZAR's alpha"}
#: Keys of :data:`FIELD_BOUNDS` whose value may be a search space.
SEARCHABLE = frozenset({"model.backend", "loss.name"})


def rule_text(bound: Interval) -> str:
    """The rule of ``bound`` as the configuration errors word it: ``"> 0"``, ``">= 1"``,
    ``"in [0, 1]"``, ``"one of ('tpe', 'random')"``."""
    if bound.kind == "str":
        return f"one of {bound.options}"
    if bound.low is not None and bound.high is not None:
        return f"in {bound.interval_text()}"
    if bound.low is not None:
        return f"{'>' if bound.open_low else '>='} {bound.low:g}"
    return f"{'<' if bound.open_high else '<='} {bound.high:g}"


#: Booster parameters a config may set (and search) per backend: the common ones.
BOOSTER_PARAMS: dict[str, frozenset[str]] = {
    "lightgbm": frozenset(
        {
            "learning_rate",
            "num_leaves",
            "max_depth",
            "min_child_samples",
            "min_data_in_leaf",
            "min_sum_hessian_in_leaf",
            "min_child_weight",
            "subsample",
            "bagging_fraction",
            "bagging_freq",
            "subsample_freq",
            "colsample_bytree",
            "feature_fraction",
            "reg_alpha",
            "lambda_l1",
            "reg_lambda",
            "lambda_l2",
            "min_split_gain",
            "min_gain_to_split",
            "max_bin",
            "extra_trees",
            "num_threads",
            "path_smooth",
        }
    ),
    "xgboost": frozenset(
        {
            "learning_rate",
            "eta",
            "max_depth",
            "min_child_weight",
            "subsample",
            "colsample_bytree",
            "colsample_bylevel",
            "colsample_bynode",
            "reg_alpha",
            "alpha",
            "reg_lambda",
            "lambda",
            "gamma",
            "min_split_loss",
            "max_bin",
            "tree_method",
            "grow_policy",
            "max_leaves",
            "nthread",
            "max_delta_step",
        }
    ),
    "catboost": frozenset(
        {
            "learning_rate",
            "depth",
            "l2_leaf_reg",
            "random_strength",
            "bagging_temperature",
            "subsample",
            "rsm",
            "border_count",
            "min_data_in_leaf",
            "grow_policy",
            "thread_count",
            "bootstrap_type",
        }
    ),
}

_POS_REAL = Interval("real", 0, open_low=True)
_NONNEG_REAL = Interval("real", 0)
_FRACTION = Interval("real", 0, 1, open_low=True)

#: The values each booster parameter of :data:`BOOSTER_PARAMS` accepts: checked for a fixed
#: value, both ends of a range and every choice, for every backend the search may pick.
BOOSTER_BOUNDS: dict[str, dict[str, Interval]] = {
    "lightgbm": {
        "learning_rate": _POS_REAL,
        "num_leaves": Interval("int", 2, 131072),
        "max_depth": Interval("int", 1, special=(-1,), meaning="no limit"),
        "min_child_samples": NONNEG_INT,
        "min_data_in_leaf": NONNEG_INT,
        "min_sum_hessian_in_leaf": _NONNEG_REAL,
        "min_child_weight": _NONNEG_REAL,
        "subsample": _FRACTION,
        "bagging_fraction": _FRACTION,
        "bagging_freq": NONNEG_INT,
        "subsample_freq": NONNEG_INT,
        "colsample_bytree": _FRACTION,
        "feature_fraction": _FRACTION,
        "reg_alpha": _NONNEG_REAL,
        "lambda_l1": _NONNEG_REAL,
        "reg_lambda": _NONNEG_REAL,
        "lambda_l2": _NONNEG_REAL,
        "min_split_gain": _NONNEG_REAL,
        "min_gain_to_split": _NONNEG_REAL,
        "max_bin": Interval("int", 2),
        "extra_trees": Interval("bool"),
        "num_threads": Interval("int", 1, special=(0,), meaning="OpenMP default"),
        "path_smooth": _NONNEG_REAL,
    },
    "xgboost": {
        "learning_rate": _POS_REAL,
        "eta": _POS_REAL,
        "max_depth": Interval("int", 1, special=(0,), meaning="no limit"),
        "min_child_weight": _NONNEG_REAL,
        "subsample": _FRACTION,
        "colsample_bytree": _FRACTION,
        "colsample_bylevel": _FRACTION,
        "colsample_bynode": _FRACTION,
        "reg_alpha": _NONNEG_REAL,
        "alpha": _NONNEG_REAL,
        "reg_lambda": _NONNEG_REAL,
        "lambda": _NONNEG_REAL,
        "gamma": _NONNEG_REAL,
        "min_split_loss": _NONNEG_REAL,
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
        "l2_leaf_reg": _NONNEG_REAL,
        "random_strength": _NONNEG_REAL,
        "bagging_temperature": _NONNEG_REAL,
        "subsample": _FRACTION,
        "rsm": _FRACTION,
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

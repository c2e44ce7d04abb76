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

After validation, :meth:`Config.from_validated` (or :func:`load`) gives the typed, frozen
configuration (:mod:`.typed`). The package holds one concern per module: :mod:`.schema`
(defaults, choices and bounds, written once), :mod:`.spaces` (search spaces and the check of a
value against its bound), :mod:`.checks` (cluster, storage URL, model specs), :mod:`.validate`
(:func:`validate_config` in named steps), :mod:`.typed` (the dataclasses) and :mod:`.load`
(reading a file).
"""

from __future__ import annotations

from .checks import check_cluster, check_compare_spec, check_installed, check_storage_url, parse_loss_spec
from .load import load, load_config
from .schema import (
    ALLORA_OBJECTIVES,
    BOOSTER_BOUNDS,
    BOOSTER_PARAMS,
    DEFAULTS,
    FIELD_BOUNDS,
    OBJECTIVES,
    ROUND_BOUNDS,
    Choices,
    ConfigError,
    Range,
)
from .typed import (
    ClusterConfig,
    CompareConfig,
    Config,
    DataConfig,
    FeaturesConfig,
    FixedLoss,
    FixedModel,
    LossConfig,
    ModelConfig,
    PanelConfig,
    Params,
    ReportConfig,
    SplitsConfig,
    StudyConfig,
    WideConfig,
    as_config,
    fixed_loss,
    fixed_model,
    is_searched,
)
from .validate import validate_config

__all__ = [
    "ConfigError",
    "Range",
    "Choices",
    "load_config",
    "validate_config",
    "DEFAULTS",
    "OBJECTIVES",
    "ALLORA_OBJECTIVES",
    "BOOSTER_PARAMS",
    "BOOSTER_BOUNDS",
    "ROUND_BOUNDS",
    "FIELD_BOUNDS",
    "parse_loss_spec",
    "check_compare_spec",
    "check_storage_url",
    "check_cluster",
    "check_installed",
    "fixed_model",
    "fixed_loss",
    "load",
    "as_config",
    "is_searched",
    "Config",
    "StudyConfig",
    "DataConfig",
    "FeaturesConfig",
    "WideConfig",
    "PanelConfig",
    "SplitsConfig",
    "ModelConfig",
    "LossConfig",
    "CompareConfig",
    "ReportConfig",
    "ClusterConfig",
    "FixedModel",
    "FixedLoss",
    "Params",
]

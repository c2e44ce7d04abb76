"""Walk-forward evaluation of one booster + loss on a panel, shared by the tuner and ``compare``.

The pieces, in order: :func:`load_data` builds the panel a configuration names (the
bundled FF49 returns with causal features, or a user's long panel);
:func:`make_splitter` the walk-forward splitter; :func:`fit_predict` trains one model
with the backend adapters (training labels transformed per date, the evaluation target
never) and predicts; :func:`walk_forward` loops over folds and scores each test window
with per-date rank IC, IC, directional accuracy and the top-k long-short spread.

Besides the losses of :mod:`czar_gbdt.losses` and the backends' built-in squared error
(``loss=None``), :func:`fit_predict` trains the backends' learning-to-rank objectives
(:class:`~czar_gbdt.ranking.RankObjective`): each date is one query group and the labels
are the target's quantile grades within the date (:func:`~czar_gbdt.ranking.rank_labels`).

A single series (one asset) has no cross-section: :func:`scoring` says how a configuration's
forecasts are scored on its data. With one asset, or with ``study.objective = "ts_rank_ic"``,
the rank IC is the time-series rank IC of each test window
(:func:`czar_gbdt.metrics.ts_rank_ic_by_date`: one term per date, whose mean over the
window is the Spearman correlation over the window's dates), and the outputs that need
several assets per date (the top-k spread, the ranking objective) are left out.
:func:`allora_scores` grades forecasts with Allora's evaluation (one series, or each asset's
own series averaged over the assets).

Configuration glue: :func:`run_walk_forward` runs :func:`walk_forward` with a
configuration's fixed model, :func:`evaluate_losses` does so for several model specs
(``czar-gbdt evaluate``), :class:`HoldoutSplit` turns the final fold (every date before
the holdout, then the holdout) into a splitter of one fold, and :func:`evaluate_holdout`
trains a trial's parameters on it and scores the holdout once. See ``docs/evaluation.md``.

The package's modules, bottom to top (the engine imports no configuration):

* ``labels``: training labels (:func:`label_target`, :func:`training_labels`, :func:`auto_transform`);
* ``arguments``: the engine's typed arguments (:class:`ModelSpec`, :class:`FoldScoring`,
  :class:`FoldHooks`) and the named callable aliases;
* ``training``: one model through the backend modules (:func:`train_model`, :func:`fit_predict`);
* ``grading``: Allora's evaluation of walk-forward forecasts (:func:`allora_scores`, :func:`allora_of`);
* ``engine``: :func:`walk_forward`, :func:`score_folds`, :func:`score_predictions`, :class:`HoldoutSplit`;
* ``data``: the configuration glue of the data (:func:`load_data`, :func:`check_data`, :func:`scoring`,
  :func:`make_splitter`, :func:`resolve_config`);
* ``runs``: the configuration glue of the runs (:func:`run_walk_forward`, :func:`evaluate_losses`,
  :func:`evaluate_holdout`);
* ``warmup``: :func:`warm_up`, the kernels compiled before a run times its trials.
"""

from __future__ import annotations

from ..ranking import RankObjective, query_sizes, rank_labels  # noqa: F401 (reached through here by tests)
from .arguments import TARGET_TRANSFORMS, ExtraScorer, FoldCallback, FoldHooks, FoldPredictor, FoldScoring, ModelSpec
from .data import (
    CROSS_SECTIONAL_OBJECTIVES,
    DATA_KEYS,
    Scoring,
    check_data,
    data_layout,
    data_warnings,
    describe_data,
    describe_transform,
    load_data,
    make_splitter,
    name_assets,
    panel_key,
    prepare_data,
    resolve_config,
    resolve_target_transform,
    scoring,
)
from .engine import (
    HoldoutSplit,
    WalkForwardResult,
    fold_trainer,
    holdout_scores,
    iso_date,
    score_folds,
    score_predictions,
    walk_forward,
)
from .grading import ALLORA_COLUMNS, allora_of, allora_scores
from .labels import auto_transform, label_target, training_labels
from .runs import book, evaluate_holdout, evaluate_losses, fold_scoring, model_spec, run_walk_forward, trial_spec
from .training import BACKENDS, backend_module, fit_panel, fit_predict, output_kind, prediction_std, train_model
from .warmup import warm_up

__all__ = [
    "load_data",
    "check_data",
    "prepare_data",
    "describe_data",
    "describe_transform",
    "auto_transform",
    "resolve_target_transform",
    "resolve_config",
    "panel_key",
    "name_assets",
    "data_warnings",
    "data_layout",
    "DATA_KEYS",
    "CROSS_SECTIONAL_OBJECTIVES",
    "Scoring",
    "scoring",
    "output_kind",
    "make_splitter",
    "HoldoutSplit",
    "backend_module",
    "BACKENDS",
    "train_model",
    "fit_panel",
    "prediction_std",
    "fit_predict",
    "walk_forward",
    "fold_trainer",
    "WalkForwardResult",
    "score_predictions",
    "allora_scores",
    "allora_of",
    "ALLORA_COLUMNS",
    "label_target",
    "training_labels",
    "score_folds",
    "book",
    "model_spec",
    "trial_spec",
    "fold_scoring",
    "run_walk_forward",
    "evaluate_losses",
    "holdout_scores",
    "iso_date",
    "evaluate_holdout",
    "warm_up",
    "ModelSpec",
    "FoldScoring",
    "FoldHooks",
    "FoldPredictor",
    "FoldCallback",
    "ExtraScorer",
    "TARGET_TRANSFORMS",
]

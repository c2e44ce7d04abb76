"""LightGBM adapter: every czar_gbdt loss as an objective and an eval metric.

Native API::

    import lightgbm as lgb, czar_gbdt as cg
    from czar_gbdt import lightgbm as clx

    loss = cg.get_loss("czar", alpha=1.0)
    train_set = clx.Dataset(X_train, y_train, std=std_train)           # std travels with the data
    valid_set = clx.Dataset(X_valid, y_valid, std=std_valid, dates=dates_valid, reference=train_set)
    booster = clx.train({"num_leaves": 31, "learning_rate": 0.05}, train_set, 300, objective=loss,
                        valid_sets=[valid_set], metric=[loss, "rank_ic"], early_stopping_rounds=30)
    booster.predict(X_test)          # includes the starting score

:func:`train` sets ``init_score`` on the training and validation sets (LightGBM
starts a custom objective from 0 and ignores ``boost_from_average``) and, after
training, adds the starting score to every leaf of the first tree, so that
``Booster.predict`` (and a saved model) include it.

scikit-learn API (labels arrive without their Dataset: side data is bound by position)::

    obj = clx.objective(loss, std=std_train)
    met = clx.metric(loss, std=std_valid)                              # the eval set's own std
    model = lgb.LGBMRegressor(objective=obj, metric="None", n_estimators=300)
    clx.fit(model, X_train, y_train, eval_X=X_valid, eval_y=y_valid, eval_metric=met,
            callbacks=[clx.early_stopping(30)])
    model.predict(X_test)            # includes the starting score

:func:`fit` passes ``init_score``/``eval_init_score`` and bakes the starting score
into the model; with a bare ``model.fit`` do the same by hand (see :func:`fit`).
Binary losses use ``LGBMClassifier``; with a custom objective LightGBM returns raw
margins from ``predict``/``predict_proba`` (apply a sigmoid for probabilities).

A :class:`czar_gbdt.ScheduledLoss` (two losses mixed by boosting round) needs the
round, which LightGBM does not pass to objectives: :func:`train` and :func:`fit` add
the objective's :meth:`LGBObjective.callback`; with ``lgb.train``, ``lgb.cv`` or a bare
``model.fit`` pass ``callbacks=[obj.callback()]``.

The walk-forward evaluation trains through :func:`train_builtin` (LightGBM's squared
error), :func:`train_ranking` (``lambdarank``/``rank_xendcg``) and :func:`train_loss`,
starting from :data:`DEFAULTS`; the xgboost and catboost modules have the same functions.
The ranking objectives get ``lambdarank_truncation_level`` = the largest date and a
linear ``label_gain``, so that they score the whole cross-section rather than its top.

.. note::
   LightGBM's scikit-learn wrapper chooses between ``f(y, p)``, ``f(y, p, weight)``
   and ``f(y, p, weight, group)`` by counting parameters: the objects here take
   exactly ``(y_true, y_pred, weight)`` so weights are never dropped. Set
   ``metric="None"`` or LightGBM puts ``l2`` ahead of the custom metric and early
   stopping with ``first_metric_only`` watches it. See docs/backends.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _adapters as _ad
from ._imports import try_import
from .ranking import RANK_OBJECTIVES

with try_import("lightgbm", min_version="4.7", below_version="5") as _imports:
    import lightgbm as lgb

__all__ = [
    "Dataset",
    "attach",
    "objective",
    "metric",
    "train",
    "fit",
    "early_stopping",
    "bake_init_score",
    "LGBObjective",
    "LGBMetric",
    "DEFAULTS",
    "RANKING_OBJECTIVES",
    "TrainedModel",
    "train_builtin",
    "train_ranking",
    "train_loss",
]

_INIT_KEY = "lightgbm_init_score"
_DOC = {
    "package": "lightgbm",
    "dataset": "Dataset",
    "argument": "dataset",
    "name": "LightGBM",
    "objective_class": "LGBObjective",
    "metric_class": "LGBMetric",
    "threads": "None",
    "hessian_params": "``min_sum_hessian_in_leaf`` and ``lambda_l2``",
    "start": "LightGBM starts custom objectives at 0",
}


# --------------------------------------------------------------------------- backend
class _RoundCallback(_ad.RoundCallback):
    """Sets the boosting round of one objective before every iteration (see LGBObjective.callback).

    The round is ``env.iteration``, which counts the rounds of an ``init_model``.
    LightGBM has no end-of-training hook: a round left behind by a finished training is
    recognised as stale by the objective (the model has grown since).
    """

    order = 0
    before_iteration = True

    def __call__(self, env: Any) -> None:
        self.core.set_round(env.model, env.iteration, _model_size)


def _model_size(model: Any) -> int:
    # CVBooster returns one size per fold: the smallest stays at the round's size until
    # the last fold has been updated
    size = model.current_iteration()
    return min(size) if isinstance(size, list) else size


class _LightGBM(_ad.Backend):
    """What the shared objective and metric need to know about LightGBM."""

    name, dataset, argument, alias = "lightgbm", "Dataset", "dataset", "lgb"
    callback_type, sklearn_fit = _RoundCallback, "model.fit"
    metric_threads = None
    native_advice = (
        "set the training and validation Datasets' init_score to {init!r} "
        "(objective.init_score(train_set)) or use czar_gbdt.lightgbm.train()"
    )
    sklearn_advice = (
        "pass init_score=np.full(len(y), {init!r}) (objective.init_score(y_train)) and "
        "eval_init_score to fit(), or use czar_gbdt.lightgbm.fit()"
    )

    def rows(self, dataset: lgb.Dataset) -> int:
        if dataset.label is not None:
            return int(np.shape(dataset.label)[0])
        if _constructed(dataset):  # label freed from Python
            return int(dataset.num_data())
        raise ValueError("the Dataset has no labels (label=None): build it with labels.")

    def labels_weights(self, dataset: lgb.Dataset) -> tuple[np.ndarray, np.ndarray | None]:
        if _constructed(dataset):
            label, weight = dataset.get_label(), dataset.get_weight()
        else:  # not constructed yet: the raw inputs
            label, weight = dataset.label, dataset.weight
        if label is None or np.size(label) == 0:
            raise ValueError("the Dataset has no labels (label=None): build it with labels.")
        label = np.asarray(label, dtype=np.float64).reshape(-1)
        weight = None if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)
        return label, weight


def _constructed(dataset: lgb.Dataset) -> bool:
    """Whether LightGBM has built the Dataset (it then holds the labels; Python may have freed its copy)."""
    try:
        dataset.num_data()  # raises before the Dataset is constructed
    except lgb.basic.LightGBMError:
        return False
    return True


_BACKEND = _LightGBM(_imports, lgb.Dataset if _imports.is_successful() else None)


# --------------------------------------------------------------------------- data
@_ad.fill_doc("dataset", **_DOC, kwargs="``weight=``, ``reference=``, ``params=``, ...")
def Dataset(
    data: Any, label: Any = None, *, std: Any = None, mean: Any = None, dates: Any = None, **kwargs: Any
) -> lgb.Dataset:
    """A ``lightgbm.Dataset`` with per-row ``std``, ``mean`` and ``dates`` attached.

    LightGBM constructs it lazily; its labels, weights and init score are read from the
    raw inputs until then.
    """
    return _BACKEND.make_dataset(data, label, std=std, mean=mean, dates=dates, **kwargs)


@_ad.fill_doc("attach", **_DOC)
def attach(dataset: lgb.Dataset, *, std: Any = None, mean: Any = None, dates: Any = None) -> lgb.Dataset:
    """Attach per-row ``std``/``mean``/``dates`` to an existing ``lightgbm.Dataset``."""
    return _BACKEND.attach_side(dataset, std=std, mean=mean, dates=dates)


# --------------------------------------------------------------------------- objective
class LGBObjective(_ad.Objective):
    """A loss as a LightGBM objective, for ``params["objective"]`` and ``LGBMModel(objective=...)``.

    Called as ``obj(preds, train_data)`` (native) it reads labels and weights from
    the Dataset and ``std``/``mean`` from its side data or the bound arrays; called
    as ``obj(y_true, y_pred, weight)`` (scikit-learn; exactly three parameters so
    that LightGBM passes the weights) it uses the bound arrays. Returns float32
    contiguous gradients and hessians with the weights multiplied in.

    Use :func:`objective` to build one; see there for the parameters.
    """

    backend = _BACKEND

    def __init__(
        self,
        loss: Any,
        *,
        std: Any = None,
        mean: Any = None,
        hessian_scale: Any = "auto",
        check_start: bool = True,
        n_threads: int | None = None,
    ):
        super().__init__(
            loss, std=std, mean=mean, hessian_scale=hessian_scale, check_start=check_start, n_threads=n_threads
        )

    def __call__(self, first: Any, second: Any, weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """``(preds, train_data)`` (native API) or ``(y_true, y_pred, weight)`` (scikit-learn)."""
        return self.grad_hess(first, second, weight)


@_ad.fill_doc("objective", **_DOC)
def objective(
    loss: Any,
    *,
    std: Any = None,
    mean: Any = None,
    hessian_scale: Any = "auto",
    check_start: bool = True,
    n_threads: int | None = None,
) -> LGBObjective:
    """Wrap a loss as a LightGBM objective (native and scikit-learn APIs).

    Use it with :func:`train`, or as ``objective=`` of an ``LGBMRegressor``/``LGBMClassifier``
    fitted with :func:`fit`; both set the ``init_score`` LightGBM needs (it starts at 0).
    """
    return LGBObjective(
        loss, std=std, mean=mean, hessian_scale=hessian_scale, check_start=check_start, n_threads=n_threads
    )


# --------------------------------------------------------------------------- metric
class LGBMetric(_ad.Metric):
    """A loss or a registered metric as a LightGBM eval metric (``feval`` / ``eval_metric``).

    Native: ``metric(preds, eval_data) -> (name, value, is_higher_better)`` with the
    eval Dataset's side data; scikit-learn: ``metric(y_true, y_pred, weight)`` with
    the bound side data. Predictions are raw scores and include the init score.
    """

    backend = _BACKEND

    def __repr__(self) -> str:
        return f"LGBMetric({self.name!r}, is_higher_better={self.is_higher_better})"

    @property
    def is_higher_better(self) -> bool:
        """Whether higher values are better (LightGBM's direction flag)."""
        return self.higher_is_better

    def __call__(self, first: Any, second: Any, weight: Any = None) -> tuple[str, float, bool]:
        """``(preds, eval_data)`` (native) or ``(y_true, y_pred, weight)`` (scikit-learn)."""
        return self.name, self.evaluate(first, second, weight), self.is_higher_better


@_ad.fill_doc("metric", **_DOC)
def metric(what: Any, *, std: Any = None, mean: Any = None, dates: Any = None, name: str | None = None) -> LGBMetric:
    """Wrap a loss (lower is better) or a metric such as ``"rank_ic"`` (higher is better).

    Give it as ``metric=`` to :func:`train` (or ``feval=`` to ``lgb.train``), or as
    ``eval_metric=`` to :func:`fit`; LightGBM reads its direction from each result.
    """
    return LGBMetric(what, std=std, mean=mean, dates=dates, name=name)


def early_stopping(rounds: int, **kwargs: Any):
    """``lightgbm.early_stopping`` deciding on the first metric only.

    LightGBM takes the direction from each eval result's ``is_higher_better`` (set
    by :class:`LGBMetric`); this sets ``first_metric_only=True`` so that the first
    metric decides, and ``verbose=False``. The booster keeps ``best_iteration``.
    """
    _imports.check()
    kwargs.setdefault("first_metric_only", True)
    kwargs.setdefault("verbose", False)
    return lgb.early_stopping(int(rounds), **kwargs)


# --------------------------------------------------------------------------- starting score
def bake_init_score(model: Any, init_score: float) -> Any:
    """Add a constant starting score to every leaf of the first tree, in place.

    LightGBM's ``predict`` never adds a Dataset's ``init_score`` back; after this,
    ``predict`` and saved models include it. Apply it once, after training.

    Parameters
    ----------
    model : lightgbm.Booster or fitted LGBMModel
        The trained model (changed in place).
    init_score : float
        The starting score the training started from.

    Returns
    -------
    the model
    """
    _imports.check()
    booster = model if isinstance(model, lgb.Booster) else model.booster_
    value = float(init_score)
    if value == 0.0:
        return model
    if booster.num_trees() == 0:
        raise ValueError("the model has no tree to hold the starting score.")
    if booster.num_model_per_iteration() != 1:
        raise ValueError("bake_init_score supports single-output models only.")
    info = booster.dump_model(num_iteration=1)["tree_info"][0]
    for leaf in range(int(info["num_leaves"])):
        booster.set_leaf_output(0, leaf, booster.get_leaf_output(0, leaf) + value)
    return model


def _set_init(dataset: lgb.Dataset, value: float) -> None:
    """Set a constant init_score on ``dataset`` (refusing to overwrite a user's own)."""
    side = _ad.side_of(dataset)
    current = dataset.get_init_score() if (dataset.init_score is not None or _constructed(dataset)) else None
    ours = side is not None and _INIT_KEY in side.extra
    if current is not None and np.size(current) and not ours:
        raise ValueError(
            "the Dataset already has an init_score; train() sets it from the loss. "
            "Build the Dataset without init_score."
        )
    n = _BACKEND.rows(dataset)
    dataset.set_init_score(np.full(n, value))
    if side is None:
        side = _ad.SideData(n, None, None, None)
        _ad.attach(dataset, side)
    side.extra[_INIT_KEY] = value


@_ad.fill_doc(
    **_DOC, watched="validation sets", kept="the booster keeps ``best_iteration``, which ``predict`` uses by default"
)
def train(
    params: dict[str, Any] | None,
    train_set: lgb.Dataset,
    num_boost_round: int = 100,
    *,
    objective: Any,
    valid_sets: Sequence[lgb.Dataset] = (),
    valid_names: Sequence[str] | None = None,
    metric: Any = None,
    early_stopping_rounds: int | None = None,
    callbacks: Sequence[Any] | None = None,
    **kwargs: Any,
) -> lgb.Booster:
    """``lightgbm.train`` with a loss: start score, weights and metrics set up.

    Parameters
    ----------
    params : dict
        Booster parameters; ``objective`` is set here, and ``metric`` defaults to
        ``"None"`` (only the metrics given below; built-in metrics named in
        ``params["metric"]`` come first and then decide early stopping).
    train_set : lightgbm.Dataset
        Training data with side data attached (or bound to ``objective``).
    num_boost_round : int
        Number of boosting rounds.
    objective : loss, loss name or LGBObjective
        The loss to train.
    valid_sets : sequence of lightgbm.Dataset
        Eval sets, each with its own side data attached (:func:`Dataset`).
    valid_names : sequence of str, optional
        Their names in the evaluation results.
    metric : metric or list of metrics, optional
        Losses (minimised) or metric names such as ``"rank_ic"`` (maximised).
        With early stopping and no metric, the objective's loss is watched.
    {stopping}
    **kwargs
        Passed to ``lightgbm.train``. ``init_model`` continues from a model: the
        starting score then comes from that model.

    Returns
    -------
    lightgbm.Booster
        Its first tree holds the starting score: ``predict`` includes it.
    """
    _imports.check()
    obj = objective if isinstance(objective, LGBObjective) else LGBObjective(objective)
    params = dict(params or {})
    for key in ("objective", "objective_type", "app", "application", "loss"):
        if params.get(key) is not None:
            raise ValueError(f"params[{key!r}] is set by train() from objective=; remove it (got {params[key]!r}).")
        params.pop(key, None)
    if params.get("boosting", params.get("boosting_type", "gbdt")) in ("dart", "rf"):
        raise ValueError(
            "boosting='dart'/'rf' rescales or averages trees: the starting score cannot be "
            "baked into the first tree; use gbdt."
        )
    params["objective"] = obj
    params.setdefault("metric", "None")  # no l2 ahead of the metrics given here
    metrics, callbacks = _ad.metrics_and_callbacks(
        obj,
        metric,
        callbacks,
        LGBMetric,
        early_stopping_rounds=early_stopping_rounds,
        has_evals=bool(valid_sets),
        evals="one set in valid_sets",
        stopper=lambda watched: early_stopping(early_stopping_rounds),
    )
    fresh = kwargs.get("init_model") is None
    init = 0.0
    if fresh:
        init = obj.init_score(train_set)
        for dataset in [train_set, *valid_sets]:
            _set_init(dataset, init)
    try:
        booster = lgb.train(
            params,
            train_set,
            num_boost_round,
            valid_sets=list(valid_sets),
            valid_names=valid_names,
            feval=metrics or None,
            callbacks=callbacks,
            **kwargs,
        )
    finally:
        obj.clear_round()
    if fresh:
        bake_init_score(booster, init)
    return booster


def fit(model: Any, X: Any, y: Any, *, sample_weight: Any = None, **fit_kwargs: Any) -> Any:
    """Fit an ``LGBMRegressor``/``LGBMClassifier`` whose objective is an :class:`LGBObjective`.

    Computes the loss's starting score for these labels and weights, passes it as
    ``init_score`` and ``eval_init_score`` to ``model.fit`` (eval sets given as
    ``eval_set=`` or, LightGBM >= 4.7, ``eval_X=``/``eval_y=``), sets
    ``metric="None"`` unless a metric was chosen, and bakes the starting score into
    the fitted model (:func:`bake_init_score`) so that ``model.predict`` includes it.
    For a scheduled loss it adds the objective's round callback to ``callbacks``.
    By hand::

        init = obj.init_score(y, sample_weight=w)
        model.fit(X, y, sample_weight=w, init_score=np.full(len(y), init),
                  eval_set=[(Xv, yv)], eval_init_score=[np.full(len(yv), init)], ...)
        clx.bake_init_score(model, init)

    Returns
    -------
    the fitted model
    """
    _imports.check()
    obj = _ad.model_objective(model, "objective", LGBObjective, "lightgbm")
    if "init_score" in fit_kwargs or "eval_init_score" in fit_kwargs:
        raise ValueError("fit() sets init_score and eval_init_score from the loss; do not pass them.")
    if model.get_params().get("metric") is None:
        model.set_params(metric="None")
    init = obj.init_score(y, sample_weight=sample_weight)
    eval_ys: list[Any] = []
    if fit_kwargs.get("eval_set") is not None:
        eval_set = fit_kwargs["eval_set"]
        eval_set = [eval_set] if isinstance(eval_set, tuple) else list(eval_set)
        fit_kwargs["eval_set"] = eval_set
        eval_ys = [ys for _, ys in eval_set]
    elif fit_kwargs.get("eval_y") is not None:
        ey = fit_kwargs["eval_y"]
        eval_ys = list(ey) if isinstance(ey, tuple) else [ey]
    if eval_ys:
        fit_kwargs["eval_init_score"] = [np.full(np.shape(ys)[0], init) for ys in eval_ys]
    if obj.scheduled:
        fit_kwargs["callbacks"] = obj.with_round_callback(fit_kwargs.get("callbacks"))
    try:
        model.fit(X, y, sample_weight=sample_weight, init_score=np.full(np.shape(y)[0], init), **fit_kwargs)
    finally:
        obj.clear_round()
    bake_init_score(model, init)
    return model


# --------------------------------------------------------------------------- training for the evaluation
#: Seeded, deterministic, quiet booster parameters of :func:`train_builtin`, :func:`train_ranking`
#: and :func:`train_loss` (their ``params`` override them). ``feature_pre_filter`` off keeps the
#: binned Dataset independent of ``min_data_in_leaf`` (tuned by most studies), so that
#: :func:`train_loss` reuses it across trials (as optuna's LightGBM tuner does).
DEFAULTS = {"verbose": -1, "deterministic": True, "force_col_wise": True, "num_threads": 2, "feature_pre_filter": False}

#: LightGBM's learning-to-rank objectives; the first is the default of :func:`train_ranking`.
RANKING_OBJECTIVES = RANK_OBJECTIVES["lightgbm"]

#: Booster parameters (and aliases) that do not change a constructed Dataset: left out of the
#: key of the dataset cache. Any other parameter (``max_bin``, ``min_data_in_bin``, ``seed``, an
#: unknown one, ...) is part of it; ``min_data_in_leaf`` and its aliases too when
#: ``feature_pre_filter`` is on.
TRAINING_ONLY_PARAMS = frozenset(
    {
        "learning_rate",
        "shrinkage_rate",
        "eta",
        "num_leaves",
        "num_leaf",
        "max_leaves",
        "max_leaf",
        "max_leaf_nodes",
        "max_depth",
        "min_sum_hessian_in_leaf",
        "min_sum_hessian_per_leaf",
        "min_sum_hessian",
        "min_hessian",
        "min_child_weight",
        "bagging_fraction",
        "sub_row",
        "subsample",
        "bagging",
        "bagging_freq",
        "subsample_freq",
        "bagging_seed",
        "bagging_fraction_seed",
        "pos_bagging_fraction",
        "neg_bagging_fraction",
        "feature_fraction",
        "sub_feature",
        "colsample_bytree",
        "feature_fraction_bynode",
        "sub_feature_bynode",
        "colsample_bynode",
        "feature_fraction_seed",
        "extra_trees",
        "extra_tree",
        "extra_seed",
        "lambda_l1",
        "reg_alpha",
        "l1_regularization",
        "lambda_l2",
        "reg_lambda",
        "lambda",
        "l2_regularization",
        "min_gain_to_split",
        "min_split_gain",
        "max_delta_step",
        "max_tree_output",
        "max_leaf_output",
        "path_smooth",
        "num_threads",
        "num_thread",
        "nthread",
        "nthreads",
        "n_jobs",
        "verbose",
        "verbosity",
        "deterministic",
        "force_col_wise",
        "force_row_wise",
        "histogram_pool_size",
        "metric",
        "metrics",
        "metric_types",
        "first_metric_only",
        "early_stopping_round",
        "early_stopping_rounds",
        "early_stopping",
        "n_iter_no_change",
        "num_iterations",
        "num_iteration",
        "n_iter",
        "num_tree",
        "num_trees",
        "num_round",
        "num_rounds",
        "nrounds",
        "num_boost_round",
        "n_estimators",
        "max_iter",
    }
)
_MIN_DATA_IN_LEAF = frozenset(
    {"min_data_in_leaf", "min_data_per_leaf", "min_data", "min_child_samples", "min_samples_leaf"}
)


def _dataset_key(kind: str, X: np.ndarray, weight: Any, params: dict) -> tuple:
    """The dataset cache's key of a Dataset of ``X`` (and ``weight``) trained with ``params``."""
    skip = TRAINING_ONLY_PARAMS if params.get("feature_pre_filter", True) else TRAINING_ONLY_PARAMS | _MIN_DATA_IN_LEAF
    dataset_params = tuple(sorted((k, repr(v)) for k, v in params.items() if k not in skip))
    return ("lightgbm", kind, _ad.digest(X, weight), dataset_params)


def _reset(dataset: lgb.Dataset, y: Any, *, weight: Any = None, std: Any = None, dates: Any = None) -> None:
    """Give a cached Dataset this training's labels and side data; the init score that an
    earlier :func:`train` left on it stays :func:`train`'s to overwrite.

    LightGBM keeps float32 copies of the labels and weights once a Dataset is built; the
    objective reads the float64 arrays again, as it reads the raw inputs of a new Dataset
    (the weights are part of the cache key: they are those the Dataset was built with).
    """
    dataset.set_label(y)
    dataset.label = np.asarray(y, dtype=np.float64)
    if weight is not None:
        dataset.weight = np.asarray(weight, dtype=np.float64)
    attach(dataset, std=std, dates=dates)
    side = _ad.side_of(dataset)
    if side is None:
        side = _ad.SideData(_BACKEND.rows(dataset), None, None, None)
        _ad.attach(dataset, side)
    side.extra[_INIT_KEY] = None


class TrainedModel(_ad.TrainedModel):
    """A ``lightgbm.Booster`` (``model``) and the ``rounds`` its predictions use."""

    def predict(self, X: Any, std: Any = None) -> np.ndarray:
        """Predictions on ``X`` (a loss's raw scores, with its starting score); ``std`` is not used."""
        return self.model.predict(_ad.features(X), **self.options)


class _Training(_ad.Training):
    """LightGBM's part of the evaluation's training (see :class:`czar_gbdt._adapters.Training`)."""

    imports, name, defaults, ranking_objectives = _imports, "lightgbm", DEFAULTS, RANKING_OBJECTIVES
    builtin_objective = "regression"

    def ranking_params(self, group_sizes: np.ndarray, n_grades: int) -> dict:
        # the listwise objectives score the whole date, with a linear gain per grade
        return {
            "lambdarank_truncation_level": int(group_sizes.max()),
            "label_gain": [float(g) for g in range(n_grades)],
        }

    def fit(self, params, X, labels, *, weight, group_sizes, num_boost_round) -> TrainedModel:
        model = lgb.train(params, lgb.Dataset(X, labels, weight=weight, group=group_sizes), num_boost_round)
        return TrainedModel(model, num_boost_round)

    def fit_loss(self, loss, params, X, y, *, std, weight, valid, stop, num_boost_round) -> TrainedModel:
        # the binned Datasets come from the dataset cache: built once per fold and process
        key = _dataset_key("train", X, weight, params)
        size = X.nbytes + X.size + 24 * X.shape[0]  # the raw features kept, one byte per bin, label/weight/init
        with _ad.DATASETS.lend(key, lambda: Dataset(X, y, std=std, weight=weight, free_raw_data=False), size) as lent:
            train_set = lent.dataset
            if lent.reused:
                _reset(train_set, y, weight=weight, std=std)
            stopping = {}
            if valid is None:
                return self._fit(loss, params, train_set, num_boost_round, stopping)
            vkey = (key, "valid", _ad.digest(valid.X)) if lent.cached else ("private", id(train_set))
            vsize = valid.X.nbytes + valid.X.size + 24 * valid.X.shape[0]
            with _ad.DATASETS.lend(
                vkey,
                lambda: Dataset(
                    valid.X, valid.y, std=valid.std, dates=valid.dates, reference=train_set, free_raw_data=False
                ),
                vsize if lent.cached else 0,
            ) as vlent:
                if vlent.reused:
                    _reset(vlent.dataset, valid.y, std=valid.std, dates=valid.dates)
                stopping = {
                    "valid_sets": [vlent.dataset],
                    "valid_names": ["valid"],
                    "metric": "rank_ic",
                    "early_stopping_rounds": stop,
                }
                return self._fit(loss, params, train_set, num_boost_round, stopping)

    def _fit(self, loss, params, train_set, num_boost_round, stopping) -> TrainedModel:
        model = train(params, train_set, num_boost_round, objective=loss, **stopping)
        best = model.best_iteration or model.current_iteration()
        return TrainedModel(model, best, num_iteration=best)


_TRAINING = _Training()
train_builtin = _TRAINING.train_builtin
train_ranking = _TRAINING.train_ranking
train_loss = _TRAINING.train_loss

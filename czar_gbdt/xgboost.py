"""XGBoost adapter: every czar_gbdt loss as an objective and an eval metric.

Native API::

    import xgboost as xgb, czar_gbdt as cg
    from czar_gbdt import xgboost as cx

    loss = cg.get_loss("czar", alpha=1.0)
    dtrain = cx.DMatrix(X_train, y_train, std=std_train)            # std travels with the data
    dvalid = cx.DMatrix(X_valid, y_valid, std=std_valid, dates=dates_valid)
    booster = cx.train({"max_depth": 4, "eta": 0.05}, dtrain, 300, objective=loss,
                       evals=[(dvalid, "valid")], metric=[loss, "rank_ic"], early_stopping_rounds=30)

or with ``xgb.train`` directly (then ``base_score`` and ``maximize`` are yours to set)::

    obj = cx.objective(loss, std=std_train)                          # bound to the training rows
    params = {"max_depth": 4, "base_score": obj.base_score(dtrain)}
    booster = xgb.train(params, dtrain, 300, obj=obj, evals=[(dvalid, "valid")],
                        custom_metric=cx.metric(loss), maximize=False)

scikit-learn API (labels arrive without their DMatrix, so side data is bound by position)::

    obj = cx.objective(loss, std=std_train)
    met = cx.metric(loss, std=std_valid)                             # the eval set's own std
    model = xgb.XGBRegressor(objective=obj, base_score=obj.base_score(y_train), eval_metric=met,
                             callbacks=[cx.early_stopping(met, rounds=30)])
    model.fit(X_train, y_train, eval_set=[(X_valid, y_valid)])

Binary losses (focal, asymmetric) use ``XGBClassifier`` or, natively, objective
``"binary:logistic"`` (set by :func:`train`): ``base_score`` is then a probability,
which :meth:`XGBObjective.base_score` accounts for, and ``predict`` returns probabilities.

A :class:`czar_gbdt.ScheduledLoss` (two losses mixed by boosting round) needs the
round, which XGBoost does not pass to objectives: :func:`train` and :func:`fit` add
the objective's :meth:`XGBObjective.callback`; with ``xgb.train``, ``xgb.cv`` or an
estimator of your own pass ``callbacks=[obj.callback()]``.

:func:`train_builtin`, :func:`train_ranking` and :func:`train_loss` (with
:data:`DEFAULTS`) train one model the way the walk-forward evaluation does: XGBoost's
own squared error, its learning-to-rank objective, or a loss; the lightgbm and
catboost modules have the same functions. The ranking objectives sample their pairs
over the whole list (``lambdarank_pair_method="mean"``, 8 pairs per row), so that they
score the whole cross-section rather than its top.

.. note::
   XGBoost never applies sample weights to a custom objective's gradients
   (the objective here multiplies them in, once), starts a custom objective from
   ``base_score = 0.5`` instead of estimating an intercept, and minimises a
   callable metric unless ``maximize=True``. See docs/backends.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _adapters as _ad
from ._imports import try_import
from .ranking import RANK_OBJECTIVES

with try_import("xgboost", min_version="3.1", extra="xgboost") as _imports:
    import xgboost as xgb

__all__ = [
    "DMatrix",
    "attach",
    "objective",
    "metric",
    "train",
    "fit",
    "early_stopping",
    "XGBObjective",
    "XGBMetric",
    "DEFAULTS",
    "RANKING_OBJECTIVES",
    "TrainedModel",
    "train_builtin",
    "train_ranking",
    "train_loss",
]

_DOC = {
    "package": "xgboost",
    "dataset": "DMatrix",
    "argument": "dmatrix",
    "name": "XGBoost",
    "objective_class": "XGBObjective",
    "metric_class": "XGBMetric",
    "threads": "1",
    "hessian_params": "``min_child_weight`` and ``lambda``",
    "start": "a forgotten ``base_score``",
}


# --------------------------------------------------------------------------- backend
class _RoundCallback(_ad.RoundCallback, xgb.callback.TrainingCallback if _imports.is_successful() else object):
    """Sets the boosting round of one objective before every iteration (see XGBObjective.callback).

    The round is the model's size, ``num_boosted_rounds()``; it is forgotten after each
    iteration and after training. Works with ``xgb.train``, ``xgb.cv`` and the estimators.
    """

    def before_training(self, model):
        self.core.clear_round()
        return model

    def before_iteration(self, model, epoch: int, evals_log) -> bool:
        # the round is the model's size: epoch counts from 0 even when training continues a model
        self.core.set_round(model, _num_rounds(model), _num_rounds)
        return False

    def after_iteration(self, model, epoch: int, evals_log) -> bool:
        self.core.clear_round()
        return False

    def after_training(self, model):
        self.core.clear_round()
        return model


def _num_rounds(model) -> int:
    # xgb.cv's packed booster reports its first fold; the smallest fold stays at the
    # round's size until the last fold has been updated
    folds = getattr(model, "cvfolds", None)
    if folds is not None:
        return min(fold.bst.num_boosted_rounds() for fold in folds)
    return model.num_boosted_rounds()


class _XGBoost(_ad.Backend):
    """What the shared objective and metric need to know about XGBoost."""

    name, dataset, argument, article, alias = "xgboost", "DMatrix", "dmatrix", "an", "xgb"
    callback_type, sklearn_fit = _RoundCallback, "the estimator"
    native_advice = (
        "set params['base_score'] = {setting!r} (objective.base_score(dtrain)) or use czar_gbdt.xgboost.train()"
    )
    sklearn_advice = (
        "pass base_score={setting!r} (objective.base_score(y_train)) to the estimator or use czar_gbdt.xgboost.fit()"
    )

    def rows(self, dmatrix: xgb.DMatrix) -> int:
        return dmatrix.num_row()

    def labels_weights(self, dmatrix: xgb.DMatrix) -> tuple[np.ndarray, np.ndarray | None]:
        weight = dmatrix.get_weight()
        return dmatrix.get_label(), (weight if weight.size else None)

    def eval_labels_weights(self, dmatrix: xgb.DMatrix, metric_name: str) -> tuple[np.ndarray, np.ndarray | None]:
        if dmatrix.get_label().size == 0 and dmatrix.num_row() > 0:
            raise ValueError(
                f"metric {metric_name!r}: an eval DMatrix ({dmatrix.num_row()} rows) has no labels "
                "(label=None): build it with labels (czar_gbdt.xgboost.DMatrix(X, y, ...))."
            )
        return self.labels_weights(dmatrix)


_BACKEND = _XGBoost(_imports, xgb.DMatrix if _imports.is_successful() else None)


# --------------------------------------------------------------------------- data
@_ad.fill_doc("dataset", **_DOC, kwargs="``weight=``, ``nthread=``, ...")
def DMatrix(
    data: Any, label: Any = None, *, std: Any = None, mean: Any = None, dates: Any = None, **kwargs: Any
) -> xgb.DMatrix:
    """An ``xgboost.DMatrix`` with per-row ``std``, ``mean`` and ``dates`` attached."""
    return _BACKEND.make_dataset(data, label, std=std, mean=mean, dates=dates, **kwargs)


@_ad.fill_doc("attach", **_DOC)
def attach(dmatrix: xgb.DMatrix, *, std: Any = None, mean: Any = None, dates: Any = None) -> xgb.DMatrix:
    """Attach per-row ``std``/``mean``/``dates`` to an existing DMatrix (or QuantileDMatrix)."""
    return _BACKEND.attach_side(dmatrix, std=std, mean=mean, dates=dates)


# --------------------------------------------------------------------------- objective
class XGBObjective(_ad.Objective):
    """A loss as an XGBoost objective, for ``xgb.train(obj=...)`` and ``XGBModel(objective=...)``.

    Called as ``obj(predt, dtrain)`` (native) it reads labels and weights from the
    DMatrix and ``std``/``mean`` from the DMatrix's side data or from the bound
    arrays; called as ``obj(y_true, y_pred, sample_weight=None)`` (scikit-learn) it
    uses the bound arrays. Gradients and hessians are returned as float32 arrays
    with the weights multiplied in (XGBoost does not apply them to custom objectives).

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
        n_threads: int | None = 1,
    ):
        super().__init__(
            loss, std=std, mean=mean, hessian_scale=hessian_scale, check_start=check_start, n_threads=n_threads
        )

    def __call__(self, first: Any, second: Any, *, sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """``(predt, dtrain)`` (native API) or ``(y_true, y_pred, sample_weight=)`` (scikit-learn)."""
        return self.grad_hess(first, second, sample_weight)

    def start_setting(self, init: float) -> float:
        """The ``base_score`` of the starting margin ``init``: a probability for binary losses."""
        return _ad.sigmoid(init) if self.loss.kind == "binary" else init

    def base_score(self, data: Any, *, sample_weight: Any = None) -> float:
        """The ``base_score`` parameter that starts training at :meth:`init_score`.

        For regression losses (objective ``"reg:squarederror"``) it is the margin
        itself; for binary losses (``XGBClassifier``, objective ``"binary:logistic"``)
        XGBoost reads ``base_score`` as a probability, so it is ``sigmoid(init)``.
        """
        return self.start_setting(self.init_score(data, sample_weight=sample_weight))

    @property
    def xgb_objective(self) -> str:
        """The built-in objective whose link XGBoost should use with this loss."""
        return "binary:logistic" if self.loss.kind == "binary" else "reg:squarederror"


@_ad.fill_doc("objective", **_DOC)
def objective(
    loss: Any,
    *,
    std: Any = None,
    mean: Any = None,
    hessian_scale: Any = "auto",
    check_start: bool = True,
    n_threads: int | None = 1,
) -> XGBObjective:
    """Wrap a loss as an XGBoost objective (native and scikit-learn APIs).

    Pass it as ``obj=`` to ``xgb.train`` with ``base_score=obj.base_score(dtrain)`` (or use
    :func:`train`), or as ``objective=`` to an ``XGBRegressor``/``XGBClassifier`` fitted
    with :func:`fit`.
    """
    return XGBObjective(
        loss, std=std, mean=mean, hessian_scale=hessian_scale, check_start=check_start, n_threads=n_threads
    )


# --------------------------------------------------------------------------- metric
class XGBMetric(_ad.Metric):
    """A loss or a registered metric as an XGBoost eval metric.

    Native: ``metric(predt, dmatrix) -> (name, value)`` with the eval DMatrix's own
    side data. scikit-learn: ``metric(y_true, y_score, sample_weight=None) -> value``
    with the bound side data (one eval set). Predictions are margins (XGBoost hands
    raw margins to metrics when the objective is custom).

    Attributes
    ----------
    __name__ : str
        The metric name (XGBoost's scikit-learn wrapper reports ``__name__``).
    maximize : bool
        Whether higher is better; pass it to ``xgb.train(maximize=...)`` or use
        :func:`early_stopping`.
    """

    backend = _BACKEND

    @property
    def maximize(self) -> bool:
        """Whether higher values are better."""
        return self.higher_is_better

    def __repr__(self) -> str:
        return f"XGBMetric({self.name!r}, maximize={self.maximize})"

    def __call__(self, first: Any, second: Any, *, sample_weight: Any = None):
        """``(predt, dmatrix) -> (name, value)`` or ``(y_true, y_score[, sample_weight]) -> value``."""
        value = self.evaluate(first, second, sample_weight)
        return (self.name, value) if self.backend.is_dataset(second) else value


@_ad.fill_doc("metric", **_DOC)
def metric(what: Any, *, std: Any = None, mean: Any = None, dates: Any = None, name: str | None = None) -> XGBMetric:
    """Wrap a loss (lower is better) or a metric such as ``"rank_ic"`` (higher is better).

    Pass it as ``custom_metric=`` to ``xgb.train`` with ``maximize=metric.maximize`` (or
    use :func:`train`), or as an estimator's ``eval_metric=`` with :func:`early_stopping`.
    """
    return XGBMetric(what, std=std, mean=mean, dates=dates, name=name)


def early_stopping(
    metric: XGBMetric, rounds: int, *, data_name: str | None = None, save_best: bool = True, min_delta: float = 0.0
) -> xgb.callback.EarlyStopping:
    """An ``EarlyStopping`` callback watching ``metric`` in its own direction.

    XGBoost guesses the direction from the name (``rank_ic`` would be minimised);
    this sets ``maximize`` from the metric. ``save_best=True`` keeps the best round.
    """
    _imports.check()
    if not isinstance(metric, XGBMetric):
        metric = XGBMetric(metric)
    return xgb.callback.EarlyStopping(
        rounds=int(rounds),
        metric_name=metric.name,
        data_name=data_name,
        maximize=metric.maximize,
        save_best=save_best,
        min_delta=min_delta,
    )


# --------------------------------------------------------------------------- training helpers
@_ad.fill_doc(**_DOC, watched="last eval set", kept="the returned booster is truncated to the best round")
def train(
    params: dict[str, Any] | None,
    dtrain: xgb.DMatrix,
    num_boost_round: int = 10,
    *,
    objective: Any,
    evals: Sequence[tuple[xgb.DMatrix, str]] = (),
    metric: Any = None,
    early_stopping_rounds: int | None = None,
    callbacks: Sequence[Any] | None = None,
    **kwargs: Any,
) -> xgb.Booster:
    """``xgboost.train`` with a loss: start score, weights, metric directions set up.

    Parameters
    ----------
    params : dict
        Booster parameters. ``objective`` and ``base_score`` are set here (the
        link matching the loss, and the loss's constant minimiser); passing a
        different ``base_score`` is an error.
    dtrain : xgboost.DMatrix
        Training data, with side data attached or bound to ``objective``.
    num_boost_round : int
        Number of boosting rounds.
    objective : loss, loss name or XGBObjective
        The loss to train.
    evals : sequence of (DMatrix, name)
        Eval sets, each with its own side data attached (:func:`DMatrix`).
    metric : metric or list of metrics, optional
        Losses/loss names (minimised) or metric names such as ``"rank_ic"``
        (maximised). Default metrics are switched off when given. With early
        stopping and no metric, the objective's loss is watched.
    {stopping}
    **kwargs
        Passed to ``xgboost.train`` (``evals_result=``, ``verbose_eval=``, ...).

    Returns
    -------
    xgboost.Booster
        Its predictions include the starting score (``base_score``).
    """
    _imports.check()
    obj = objective if isinstance(objective, XGBObjective) else XGBObjective(objective)
    params = dict(params or {})
    link = obj.xgb_objective
    if params.get("objective", link) != link:
        raise ValueError(
            f"params['objective'] must be {link!r} (or absent) with {obj.loss!r}; got {params['objective']!r}."
        )
    params["objective"] = link
    base = obj.base_score(dtrain)
    if "base_score" in params and not np.isclose(float(params["base_score"]), base, rtol=1e-6, atol=1e-12):
        raise ValueError(
            f"params['base_score'] = {params['base_score']!r} differs from the loss's starting "
            f"score {base!r}; remove it (train() sets it)."
        )
    params["base_score"] = base
    metrics, callbacks = _ad.metrics_and_callbacks(
        obj,
        metric,
        callbacks,
        XGBMetric,
        early_stopping_rounds=early_stopping_rounds,
        has_evals=bool(evals),
        evals="one eval set in evals",
        stopper=lambda watched: early_stopping(watched, early_stopping_rounds, data_name=evals[-1][1]),
    )
    custom = None
    for i, (dmatrix, name) in enumerate(evals):
        if metrics and dmatrix.num_row() > 0 and dmatrix.get_label().size == 0:
            raise ValueError(
                f"evals[{i}] ({name!r}) has no labels (label=None): the metrics need them; "
                "build it with czar_gbdt.xgboost.DMatrix(X, y, ...)."
            )
    if metrics:
        params.setdefault("disable_default_eval_metric", 1)
        custom = metrics[0] if len(metrics) == 1 else _MultiMetric(metrics)
    maximize = kwargs.pop("maximize", metrics[0].maximize if metrics else None)
    return xgb.train(
        params,
        dtrain,
        num_boost_round,
        evals=list(evals),
        obj=obj,
        custom_metric=custom,
        maximize=maximize,
        callbacks=callbacks,
        **kwargs,
    )


class _MultiMetric:
    """Several metrics in one ``custom_metric`` callable (XGBoost takes a list of pairs)."""

    def __init__(self, metrics: list[XGBMetric]):
        self.metrics = metrics

    def __call__(self, predt: np.ndarray, dmatrix: xgb.DMatrix) -> list[tuple[str, float]]:
        return [m(predt, dmatrix) for m in self.metrics]


def fit(model: Any, X: Any, y: Any, *, sample_weight: Any = None, **fit_kwargs: Any) -> Any:
    """Fit an ``XGBRegressor``/``XGBClassifier`` whose objective is an :class:`XGBObjective`.

    Sets ``base_score`` to the loss's starting score for these labels and weights,
    then calls ``model.fit``. Equivalent to passing
    ``base_score=objective.base_score(y, sample_weight=...)`` yourself. For a scheduled
    loss it also adds the objective's round callback to ``model.callbacks``.

    When the model has ``early_stopping_rounds`` and its ``eval_metric`` is (or, in a
    list, contains) an :class:`XGBMetric`, the fit uses an ``EarlyStopping`` callback
    in that metric's direction (``maximize=metric.maximize``) instead: XGBoost's own
    ``early_stopping_rounds`` guesses the direction from the metric name and would
    minimise ``"rank_ic"``. As with ``early_stopping_rounds``, the model keeps all
    rounds and ``best_iteration``, which ``predict`` uses. The model's parameters are
    restored after the fit. (A bare ``model.fit`` with ``early_stopping_rounds`` still
    guesses: pass ``callbacks=[early_stopping(metric, rounds)]`` there instead.)

    Returns
    -------
    the fitted model
    """
    _imports.check()
    obj = _ad.model_objective(model, "objective", XGBObjective, "xgboost")
    params = model.get_params()
    model.set_params(base_score=obj.base_score(y, sample_weight=sample_weight))
    if obj.scheduled:
        model.set_params(callbacks=obj.with_round_callback(params.get("callbacks")))
    watched = _early_stopping_metric(params.get("eval_metric"))
    rounds = params.get("early_stopping_rounds")
    if not (rounds and watched is not None):
        return model.fit(X, y, sample_weight=sample_weight, **fit_kwargs)
    # XGBoost watches the last metric logged for the last eval set; a callable metric is
    # logged after the built-in ones, so that is this metric
    callbacks = model.get_params().get("callbacks")
    model.set_params(
        early_stopping_rounds=None, callbacks=list(callbacks or []) + [early_stopping(watched, rounds, save_best=False)]
    )
    try:
        model.fit(X, y, sample_weight=sample_weight, **fit_kwargs)
    finally:
        model.set_params(early_stopping_rounds=rounds, callbacks=callbacks)
    return model


def _early_stopping_metric(eval_metric: Any) -> XGBMetric | None:
    """The XGBMetric among a model's ``eval_metric`` (XGBoost allows one callable), or None."""
    if isinstance(eval_metric, XGBMetric):
        return eval_metric
    if isinstance(eval_metric, (list, tuple)):
        found = [m for m in eval_metric if isinstance(m, XGBMetric)]
        return found[0] if len(found) == 1 else None
    return None


# --------------------------------------------------------------------------- training for the evaluation
#: Seeded, deterministic, quiet booster parameters of :func:`train_builtin`, :func:`train_ranking`
#: and :func:`train_loss` (their ``params`` override them).
DEFAULTS = {"tree_method": "hist", "nthread": 2, "verbosity": 0}

#: XGBoost's learning-to-rank objectives; the first is the default of :func:`train_ranking`.
RANKING_OBJECTIVES = RANK_OBJECTIVES["xgboost"]


class TrainedModel(_ad.TrainedModel):
    """An ``xgboost.Booster`` (``model``) and its ``rounds``, returned by the ``train_*`` functions."""

    def predict(self, X: Any, std: Any = None) -> np.ndarray:
        """Predictions on ``X`` (a loss's margins: logits for binary losses); ``std`` is not used."""
        return self.model.predict(xgb.DMatrix(_ad.features(X)), **self.options)


class _Training(_ad.Training):
    """XGBoost's part of the evaluation's training (see :class:`czar_gbdt._adapters.Training`)."""

    imports, name, defaults, ranking_objectives = _imports, "xgboost", DEFAULTS, RANKING_OBJECTIVES
    builtin_objective = "reg:squarederror"

    def ranking_params(self, group_sizes: np.ndarray, n_grades: int) -> dict:
        # pairs sampled over the whole list, not only its top
        return {"lambdarank_pair_method": "mean", "lambdarank_num_pair_per_sample": 8}

    def fit(self, params, X, labels, *, weight, group_sizes, num_boost_round) -> TrainedModel:
        qid = None if group_sizes is None else _ad.query_ids(group_sizes)
        model = xgb.train(params, xgb.DMatrix(X, labels, weight=weight, qid=qid), num_boost_round)
        return TrainedModel(model, num_boost_round)

    def fit_loss(self, loss, params, X, y, *, std, weight, valid, stop, num_boost_round) -> TrainedModel:
        # the DMatrices come from the dataset cache: one per fold and process. A DMatrix keeps the
        # histogram index it builds on first use for each max_bin, so any parameters may share it.
        key = ("xgboost", "train", _ad.ContentKey(X, weight))
        size = 9 * X.size + 16 * X.shape[0]  # float32 values and their column indices, one byte per bin
        with _ad.DATASETS.lend(key, lambda: DMatrix(X, y, std=std, weight=weight), size) as lent:
            dtrain = lent.dataset
            if lent.reused:
                dtrain.set_label(y)
                attach(dtrain, std=std)
            if valid is None:
                return self._fit(loss, params, dtrain, num_boost_round, {})
            vkey = (key, "valid", _ad.ContentKey(valid.X)) if lent.cached else ("private",)
            with _ad.DATASETS.lend(
                vkey,
                lambda: DMatrix(valid.X, valid.y, std=valid.std, dates=valid.dates),
                9 * valid.X.size + 16 * valid.X.shape[0] if lent.cached else 0,
            ) as vlent:
                dvalid = vlent.dataset
                if vlent.reused:
                    dvalid.set_label(valid.y)
                    attach(dvalid, std=valid.std, dates=valid.dates)
                evals = {
                    "evals": [(dvalid, "valid")],
                    "metric": "rank_ic",
                    "early_stopping_rounds": stop,
                    "verbose_eval": False,
                }
                return self._fit(loss, params, dtrain, num_boost_round, evals)

    def _fit(self, loss, params, dtrain, num_boost_round, evals) -> TrainedModel:
        model = train(params, dtrain, num_boost_round, objective=loss, **evals)
        # train() truncates the booster to its best round
        return TrainedModel(model, model.num_boosted_rounds(), output_margin=True)


_TRAINING = _Training()
train_builtin = _TRAINING.train_builtin
train_ranking = _TRAINING.train_ranking
train_loss = _TRAINING.train_loss

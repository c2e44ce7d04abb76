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

.. note::
   XGBoost never applies sample weights to a custom objective's gradients
   (the objective here multiplies them in, once), starts a custom objective from
   ``base_score = 0.5`` instead of estimating an intercept, and minimises a
   callable metric unless ``maximize=True``. See BACKENDS.md in the project docs.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import _adapters as _ad
from ._imports import try_import

with try_import("xgboost", min_version="3.0") as _imports:
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
]

_HINT = ("build it with czar_gbdt.xgboost.DMatrix(X, y, std=...) or attach(dmatrix, std=...), "
         "or bind it with std= (objective() for the training set, metric() for one eval set)")
_SK_HINT = ("the scikit-learn API passes labels without their DMatrix: bind the eval set's own "
            "std with metric(loss, std=std_valid)")
_ROUND_HINT = ("pass callbacks=[objective.callback()] to xgb.train/xgb.cv or to the estimator, "
               "or use czar_gbdt.xgboost.train()/fit()")


# --------------------------------------------------------------------------- data
def DMatrix(data: Any, label: Any = None, *, std: Any = None, mean: Any = None, dates: Any = None,
            **kwargs: Any) -> "xgb.DMatrix":
    """An ``xgboost.DMatrix`` with per-row ``std``, ``mean`` and ``dates`` attached.

    Parameters
    ----------
    data, label
        As for ``xgboost.DMatrix``; ``label`` is required.
    std, mean : float or array-like of shape (n_samples,), optional
        z-scoring scale (> 0) and centre of the regression losses.
    dates : array-like of shape (n_samples,), optional
        Date of each row, for per-date metrics such as ``"rank_ic"``.
    **kwargs
        Passed to ``xgboost.DMatrix`` (``weight=``, ``nthread=``, ...).

    Returns
    -------
    xgboost.DMatrix
        A plain DMatrix; objectives and metrics of this module find its side data.
    """
    _imports.check()
    if label is None:
        raise ValueError("label is required: objectives and metrics need the targets of every dataset.")
    dmatrix = xgb.DMatrix(data, label=label, **kwargs)
    return attach(dmatrix, std=std, mean=mean, dates=dates)


def attach(dmatrix: "xgb.DMatrix", *, std: Any = None, mean: Any = None, dates: Any = None) -> "xgb.DMatrix":
    """Attach per-row ``std``/``mean``/``dates`` to an existing DMatrix (or QuantileDMatrix).

    Returns
    -------
    xgboost.DMatrix
        ``dmatrix`` itself (unchanged; the side data is held in a registry).
    """
    _imports.check()
    if not isinstance(dmatrix, xgb.DMatrix):
        raise ValueError(f"dmatrix must be an xgboost.DMatrix; got {type(dmatrix).__name__}.")
    side = _ad.make_side(dmatrix.num_row(), std=std, mean=mean, dates=dates, where="the DMatrix has")
    _ad.attach(dmatrix, side)
    return dmatrix


# --------------------------------------------------------------------------- objective
class XGBObjective:
    """A loss as an XGBoost objective, for ``xgb.train(obj=...)`` and ``XGBModel(objective=...)``.

    Called as ``obj(predt, dtrain)`` (native) it reads labels and weights from the
    DMatrix and ``std``/``mean`` from the DMatrix's side data or from the bound
    arrays; called as ``obj(y_true, y_pred, sample_weight=None)`` (scikit-learn) it
    uses the bound arrays. Gradients and hessians are returned as float32 arrays
    with the weights multiplied in (XGBoost does not apply them to custom objectives).

    Use :func:`objective` to build one; see there for the parameters.
    """

    def __init__(self, loss: Any, *, std: Any = None, mean: Any = None, hessian_scale: Any = "auto",
                 check_start: bool = True, n_threads: int | None = 1):
        _imports.check()
        self._core = _ad.ObjectiveCore(loss, std=std, mean=mean, hessian_scale=hessian_scale,
                                       check_start=check_start, n_threads=n_threads)

    def __deepcopy__(self, memo: dict) -> "XGBObjective":
        # the configuration never changes after construction and the caches are keyed by
        # dataset identity: a copy (LightGBM and scikit-learn deep-copy parameters) can be
        # this very object, which keeps the starting score and per-dataset state computed once
        return self

    @property
    def loss(self):
        """The loss (a :class:`czar_gbdt.BaseLoss`)."""
        return self._core.loss

    def __repr__(self) -> str:
        return f"XGBObjective({self.loss!r}, hessian_scale={self._core.hessian_scale!r})"

    def __call__(self, first: Any, second: Any, *, sample_weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """``(predt, dtrain)`` (native API) or ``(y_true, y_pred, sample_weight=)`` (scikit-learn)."""
        if isinstance(second, xgb.DMatrix):
            st = self._state(second)
            return self._core.grad_hess(st, first, np.float32, fix=self._fix_native, round_hint=_ROUND_HINT)
        st = self._core.state(first, sample_weight, hint=_HINT)
        return self._core.grad_hess(st, second, np.float32, fix=self._fix_sklearn, round_hint=_ROUND_HINT)

    @property
    def scheduled(self) -> bool:
        """Whether the loss changes with the boosting round (it then needs :meth:`callback`)."""
        return self._core.scheduled

    def callback(self) -> "xgb.callback.TrainingCallback":
        """A training callback telling this objective the boosting round.

        Needed by a :class:`czar_gbdt.ScheduledLoss` (harmless otherwise). Before each
        iteration it records the round, ``model.num_boosted_rounds()`` (so continued
        training continues the schedule); after each iteration and after training it
        forgets it. Works with ``xgb.train``, ``xgb.cv`` (every fold gets the round)
        and the scikit-learn estimators (``callbacks=[obj.callback()]``).
        """
        return _RoundCallback(self._core)

    def _fix_native(self, init: float) -> str:
        return (f"set params['base_score'] = {self._base_from_init(init)!r} (objective.base_score(dtrain)) "
                "or use czar_gbdt.xgboost.train()")

    def _fix_sklearn(self, init: float) -> str:
        return (f"pass base_score={self._base_from_init(init)!r} (objective.base_score(y_train)) to the "
                "estimator or use czar_gbdt.xgboost.fit()")

    def _state(self, data: Any, sample_weight: Any = None):
        if isinstance(data, xgb.DMatrix):
            if sample_weight is not None:
                raise ValueError("sample_weight is read from the DMatrix; do not pass it as well.")
            st = self._core._state
            if st.ref is not None and st.ref() is data:
                return st  # labels and weights of a DMatrix do not change between rounds
            weight = data.get_weight()
            return self._core.state(data.get_label(), weight if weight.size else None, data, hint=_HINT)
        return self._core.state(data, sample_weight, hint=_HINT)

    def init_score(self, data: Any, *, sample_weight: Any = None) -> float:
        """The loss's constant minimiser (a margin) on the training set.

        Parameters
        ----------
        data : xgboost.DMatrix or array-like of shape (n_samples,)
            The training DMatrix, or the training labels (scikit-learn API).
        sample_weight : array-like of shape (n_samples,), optional
            With labels only; a DMatrix brings its own weights.

        Returns
        -------
        float
        """
        return self._core.init_score(self._state(data, sample_weight))

    def _base_from_init(self, init: float) -> float:
        return _ad._sigmoid(init) if self.loss.kind == "binary" else init

    def base_score(self, data: Any, *, sample_weight: Any = None) -> float:
        """The ``base_score`` parameter that starts training at :meth:`init_score`.

        For regression losses (objective ``"reg:squarederror"``) it is the margin
        itself; for binary losses (``XGBClassifier``, objective ``"binary:logistic"``)
        XGBoost reads ``base_score`` as a probability, so it is ``sigmoid(init)``.
        """
        return self._base_from_init(self.init_score(data, sample_weight=sample_weight))

    @property
    def xgb_objective(self) -> str:
        """The built-in objective whose link XGBoost should use with this loss."""
        return "binary:logistic" if self.loss.kind == "binary" else "reg:squarederror"


class _RoundCallback(xgb.callback.TrainingCallback if _imports.is_successful() else object):
    """Sets the boosting round of one objective before every iteration (see XGBObjective.callback)."""

    def __init__(self, core: "_ad.ObjectiveCore"):
        self._core = core

    def __deepcopy__(self, memo: dict) -> "_RoundCallback":
        return self  # it must keep talking to the objective's own core

    def before_training(self, model):
        self._core.clear_round()
        return model

    def before_iteration(self, model, epoch: int, evals_log) -> bool:
        # the round is the model's size: epoch counts from 0 even when training continues a model
        self._core.set_round(model, _num_rounds(model), _num_rounds)
        return False

    def after_iteration(self, model, epoch: int, evals_log) -> bool:
        self._core.clear_round()
        return False

    def after_training(self, model):
        self._core.clear_round()
        return model


def _num_rounds(model) -> int:
    # xgb.cv's packed booster reports its first fold; the smallest fold stays at the
    # round's size until the last fold has been updated
    folds = getattr(model, "cvfolds", None)
    if folds is not None:
        return min(fold.bst.num_boosted_rounds() for fold in folds)
    return model.num_boosted_rounds()


def _with_round_callback(obj: XGBObjective, callbacks: Sequence[Any] | None) -> list[Any]:
    """``callbacks`` plus the objective's round callback when its loss is scheduled."""
    callbacks = list(callbacks or [])
    if obj.scheduled and not any(isinstance(c, _RoundCallback) and c._core is obj._core for c in callbacks):
        callbacks.append(obj.callback())
    return callbacks


def objective(loss: Any, *, std: Any = None, mean: Any = None, hessian_scale: Any = "auto",
              check_start: bool = True, n_threads: int | None = 1) -> XGBObjective:
    """Wrap a loss as an XGBoost objective (native and scikit-learn APIs).

    Parameters
    ----------
    loss : czar_gbdt.BaseLoss or str
        A loss instance or registry name.
    std, mean : float or array-like of shape (n_train,), optional
        ``std``/``mean`` of the training rows, bound by position (checked against
        the number of labels). Alternatively attach them to the training DMatrix
        (:func:`DMatrix`); not both. CZAR and ZPTAE require ``std``.
    hessian_scale : "auto", float or None, default "auto"
        Factor applied to gradients and hessians. ``"auto"`` uses
        ``sum(w) / sum(w / std**2)``: z-space losses have hessians ``H / std**2``,
        which for returns (std ~ 0.01) are ~1e4 and for large-scale targets tiny;
        the factor brings them back to the scale of ``std = 1`` so that
        ``min_child_weight`` and ``lambda`` keep their usual meaning. Newton leaf
        values do not depend on it, up to ``lambda`` and to the loss's
        ``min_hessian`` floor, which applies to the unscaled hessians ``H / std**2``
        (default 1e-6; the z-space hessians ``H`` of CZAR and ZPTAE are about 1, so
        it binds only when ``std`` is about 1000 or more). It is 1 without ``std``
        and for binary losses, so ``"mse"`` without std is exactly
        ``reg:squarederror``.
    check_start : bool, default True
        Raise on the first round if training starts from a constant other than
        :meth:`XGBObjective.init_score` (a forgotten ``base_score``).
    n_threads : int or None, default 1
        numba threads of the derivative kernels. The objective runs between the
        backend's OpenMP parallel regions, whose threads keep spinning; a second
        thread team on the same cores slows the next round by more than it saves
        (25% of a round measured with 2 cores). None keeps numba's own setting.

    Returns
    -------
    XGBObjective
    """
    return XGBObjective(loss, std=std, mean=mean, hessian_scale=hessian_scale, check_start=check_start,
                        n_threads=n_threads)


# --------------------------------------------------------------------------- metric
class XGBMetric:
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

    def __init__(self, what: Any, *, std: Any = None, mean: Any = None, dates: Any = None,
                 name: str | None = None):
        _imports.check()
        self._core = _ad.MetricCore(what, std=std, mean=mean, dates=dates, name=name)
        self.__name__ = self._core.name

    def __deepcopy__(self, memo: dict) -> "XGBMetric":
        # the configuration never changes after construction and the caches are keyed by
        # dataset identity: a copy (LightGBM and scikit-learn deep-copy parameters) can be
        # this very object, which keeps the starting score and per-dataset state computed once
        return self

    @property
    def name(self) -> str:
        """Display name."""
        return self._core.name

    @property
    def maximize(self) -> bool:
        """Whether higher values are better."""
        return self._core.higher_is_better

    def __repr__(self) -> str:
        return f"XGBMetric({self.name!r}, maximize={self.maximize})"

    def __call__(self, first: Any, second: Any, *, sample_weight: Any = None):
        """``(predt, dmatrix) -> (name, value)`` or ``(y_true, y_score[, sample_weight]) -> value``."""
        if isinstance(second, xgb.DMatrix):
            label = second.get_label()
            if label.size == 0 and second.num_row() > 0:
                raise ValueError(f"metric {self.name!r}: an eval DMatrix ({second.num_row()} rows) has no labels "
                                 "(label=None): build it with labels (czar_gbdt.xgboost.DMatrix(X, y, ...)).")
            side = self._core.side_for(second.num_row(), second, where="an eval DMatrix", hint=_HINT)
            weight = second.get_weight()
            return self.name, self._core.value(label, first, weight if weight.size else None, side)
        y_true = np.asarray(first).reshape(-1)
        side = self._core.side_for(y_true.shape[0], None, where="the eval set", hint=_SK_HINT)
        return self._core.value(y_true, second, sample_weight, side)


def metric(what: Any, *, std: Any = None, mean: Any = None, dates: Any = None,
           name: str | None = None) -> XGBMetric:
    """Wrap a loss (lower is better) or a metric such as ``"rank_ic"`` (higher is better).

    Parameters
    ----------
    what : czar_gbdt.BaseLoss, str or czar_gbdt.metrics.Metric
        A loss or loss name, or a name of ``czar_gbdt.metrics.METRICS``.
    std, mean, dates : array-like, optional
        Side data of the one eval set this metric scores, bound by position (the
        scikit-learn API needs it). With the native API prefer attaching side data
        to each eval DMatrix (:func:`DMatrix`), which scores every eval set with
        its own ``std``.
    name : str, optional
        Display name (default: the loss or metric name).

    Returns
    -------
    XGBMetric
    """
    return XGBMetric(what, std=std, mean=mean, dates=dates, name=name)


def early_stopping(metric: XGBMetric, rounds: int, *, data_name: str | None = None, save_best: bool = True,
                   min_delta: float = 0.0) -> "xgb.callback.EarlyStopping":
    """An ``EarlyStopping`` callback watching ``metric`` in its own direction.

    XGBoost guesses the direction from the name (``rank_ic`` would be minimised);
    this sets ``maximize`` from the metric. ``save_best=True`` keeps the best round.
    """
    _imports.check()
    if not isinstance(metric, XGBMetric):
        metric = XGBMetric(metric)
    return xgb.callback.EarlyStopping(rounds=int(rounds), metric_name=metric.name, data_name=data_name,
                                      maximize=metric.maximize, save_best=save_best, min_delta=min_delta)


def _as_metrics(metric: Any) -> list[XGBMetric]:
    if metric is None:
        return []
    items = list(metric) if isinstance(metric, (list, tuple)) else [metric]
    return [m if isinstance(m, XGBMetric) else XGBMetric(m) for m in items]


# --------------------------------------------------------------------------- training helpers
def train(params: dict[str, Any] | None, dtrain: "xgb.DMatrix", num_boost_round: int = 10, *,
          objective: Any, evals: Sequence[tuple["xgb.DMatrix", str]] = (), metric: Any = None,
          early_stopping_rounds: int | None = None, callbacks: Sequence[Any] | None = None,
          **kwargs: Any) -> "xgb.Booster":
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
        (maximised). Default metrics are switched off when given. Early stopping
        watches the first one on the last eval set; with early stopping and no
        metric, the objective's loss is used.
    early_stopping_rounds : int, optional
        Stop after this many rounds without improvement; the returned booster is
        truncated to the best round. A scheduled loss without ``metric`` is watched
        through its ``second`` loss.
    callbacks : list, optional
        Further XGBoost callbacks (the round callback of a scheduled loss is added).
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
        raise ValueError(f"params['objective'] must be {link!r} (or absent) with {obj.loss!r}; "
                         f"got {params['objective']!r}.")
    params["objective"] = link
    base = obj.base_score(dtrain)
    if "base_score" in params and not np.isclose(float(params["base_score"]), base, rtol=1e-6, atol=1e-12):
        raise ValueError(f"params['base_score'] = {params['base_score']!r} differs from the loss's starting "
                         f"score {base!r}; remove it (train() sets it).")
    params["base_score"] = base
    metrics = _as_metrics(metric)
    callbacks = _with_round_callback(obj, callbacks)
    if early_stopping_rounds:
        if not evals:
            raise ValueError("early_stopping_rounds needs at least one eval set in evals.")
        if not metrics:
            metrics = [XGBMetric(obj.loss.second if obj.scheduled else obj.loss)]
        callbacks.append(early_stopping(metrics[0], early_stopping_rounds, data_name=evals[-1][1]))
    custom = None
    for i, (dmatrix, name) in enumerate(evals):
        if metrics and dmatrix.num_row() > 0 and dmatrix.get_label().size == 0:
            raise ValueError(f"evals[{i}] ({name!r}) has no labels (label=None): the metrics need them; "
                             "build it with czar_gbdt.xgboost.DMatrix(X, y, ...).")
    if metrics:
        params.setdefault("disable_default_eval_metric", 1)
        custom = metrics[0] if len(metrics) == 1 else _MultiMetric(metrics)
    maximize = kwargs.pop("maximize", metrics[0].maximize if metrics else None)
    return xgb.train(params, dtrain, num_boost_round, evals=list(evals), obj=obj, custom_metric=custom,
                     maximize=maximize, callbacks=callbacks, **kwargs)


class _MultiMetric:
    """Several metrics in one ``custom_metric`` callable (XGBoost takes a list of pairs)."""

    def __init__(self, metrics: list[XGBMetric]):
        self.metrics = metrics

    def __call__(self, predt: np.ndarray, dmatrix: "xgb.DMatrix") -> list[tuple[str, float]]:
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
    params = model.get_params()
    obj = params.get("objective")
    if not isinstance(obj, XGBObjective):
        raise ValueError(f"model.objective must be a czar_gbdt.xgboost objective; got {obj!r}.")
    model.set_params(base_score=obj.base_score(y, sample_weight=sample_weight))
    if obj.scheduled:
        model.set_params(callbacks=_with_round_callback(obj, params.get("callbacks")))
    watched = _early_stopping_metric(params.get("eval_metric"))
    rounds = params.get("early_stopping_rounds")
    if not (rounds and watched is not None):
        return model.fit(X, y, sample_weight=sample_weight, **fit_kwargs)
    # XGBoost watches the last metric logged for the last eval set; a callable metric is
    # logged after the built-in ones, so that is this metric
    callbacks = model.get_params().get("callbacks")
    model.set_params(early_stopping_rounds=None,
                     callbacks=list(callbacks or []) + [early_stopping(watched, rounds, save_best=False)])
    try:
        model.fit(X, y, sample_weight=sample_weight, **fit_kwargs)
    finally:
        model.set_params(early_stopping_rounds=rounds, callbacks=callbacks)
    return model


def _early_stopping_metric(eval_metric: Any) -> "XGBMetric | None":
    """The XGBMetric among a model's ``eval_metric`` (XGBoost allows one callable), or None."""
    if isinstance(eval_metric, XGBMetric):
        return eval_metric
    if isinstance(eval_metric, (list, tuple)):
        found = [m for m in eval_metric if isinstance(m, XGBMetric)]
        return found[0] if len(found) == 1 else None
    return None

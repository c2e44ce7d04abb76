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

.. note::
   LightGBM's scikit-learn wrapper chooses between ``f(y, p)``, ``f(y, p, weight)``
   and ``f(y, p, weight, group)`` by counting parameters: the objects here take
   exactly ``(y_true, y_pred, weight)`` so weights are never dropped. Set
   ``metric="None"`` or LightGBM puts ``l2`` ahead of the custom metric and early
   stopping with ``first_metric_only`` watches it.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import _adapters as _ad
from ._imports import try_import

with try_import("lightgbm", min_version="4.0", below_version="5") as _imports:
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
]

_HINT = ("build it with czar_gbdt.lightgbm.Dataset(X, y, std=...) or attach(dataset, std=...), "
         "or bind it with std= (objective() for the training set, metric() for one eval set)")
_SK_HINT = ("the scikit-learn API passes labels without their Dataset: bind the eval set's own "
            "std with metric(loss, std=std_valid)")
_INIT_KEY = "lightgbm_init_score"
_ROUND_HINT = ("pass callbacks=[objective.callback()] to lgb.train/lgb.cv or to model.fit, "
               "or use czar_gbdt.lightgbm.train()/fit()")


# --------------------------------------------------------------------------- data
def Dataset(data: Any, label: Any = None, *, std: Any = None, mean: Any = None, dates: Any = None,
            **kwargs: Any) -> "lgb.Dataset":
    """A ``lightgbm.Dataset`` with per-row ``std``, ``mean`` and ``dates`` attached.

    Parameters
    ----------
    data, label
        As for ``lightgbm.Dataset``; ``label`` is required.
    std, mean : float or array-like of shape (n_samples,), optional
        z-scoring scale (> 0) and centre of the regression losses.
    dates : array-like of shape (n_samples,), optional
        Date of each row, for per-date metrics such as ``"rank_ic"``.
    **kwargs
        Passed to ``lightgbm.Dataset`` (``weight=``, ``reference=``, ``params=``, ...).

    Returns
    -------
    lightgbm.Dataset
    """
    _imports.check()
    if label is None:
        raise ValueError("label is required: objectives and metrics need the targets of every dataset.")
    dataset = lgb.Dataset(data, label=label, **kwargs)
    return attach(dataset, std=std, mean=mean, dates=dates)


def _n_rows(dataset: "lgb.Dataset") -> int:
    if dataset.label is not None:
        return int(np.shape(dataset.label)[0])
    if dataset._handle is not None:  # constructed, label freed from Python
        return int(dataset.num_data())
    raise ValueError("the Dataset has no labels (label=None): build it with labels.")


def attach(dataset: "lgb.Dataset", *, std: Any = None, mean: Any = None, dates: Any = None) -> "lgb.Dataset":
    """Attach per-row ``std``/``mean``/``dates`` to an existing ``lightgbm.Dataset``.

    Returns
    -------
    lightgbm.Dataset
        ``dataset`` itself (unchanged; the side data is held in a registry).
    """
    _imports.check()
    if not isinstance(dataset, lgb.Dataset):
        raise ValueError(f"dataset must be a lightgbm.Dataset; got {type(dataset).__name__}.")
    side = _ad.make_side(_n_rows(dataset), std=std, mean=mean, dates=dates, where="the Dataset has")
    _ad.attach(dataset, side)
    return dataset


def _label_weight(dataset: "lgb.Dataset") -> tuple[np.ndarray, np.ndarray | None]:
    if dataset._handle is None:  # not constructed yet: the raw inputs
        label, weight = dataset.label, dataset.weight
    else:
        label, weight = dataset.get_label(), dataset.get_weight()
    if label is None or np.size(label) == 0:
        raise ValueError("the Dataset has no labels (label=None): build it with labels.")
    label = np.asarray(label, dtype=np.float64).reshape(-1)
    weight = None if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)
    return label, weight


# --------------------------------------------------------------------------- objective
class LGBObjective:
    """A loss as a LightGBM objective, for ``params["objective"]`` and ``LGBMModel(objective=...)``.

    Called as ``obj(preds, train_data)`` (native) it reads labels and weights from
    the Dataset and ``std``/``mean`` from its side data or the bound arrays; called
    as ``obj(y_true, y_pred, weight)`` (scikit-learn; exactly three parameters so
    that LightGBM passes the weights) it uses the bound arrays. Returns float32
    contiguous gradients and hessians with the weights multiplied in.

    Use :func:`objective` to build one; see there for the parameters.
    """

    def __init__(self, loss: Any, *, std: Any = None, mean: Any = None, hessian_scale: Any = "auto",
                 check_start: bool = True, n_threads: int | None = None):
        _imports.check()
        self._core = _ad.ObjectiveCore(loss, std=std, mean=mean, hessian_scale=hessian_scale,
                                       check_start=check_start, n_threads=n_threads)

    def __deepcopy__(self, memo: dict) -> "LGBObjective":
        # the configuration never changes after construction and the caches are keyed by
        # dataset identity: a copy (LightGBM and scikit-learn deep-copy parameters) can be
        # this very object, which keeps the starting score and per-dataset state computed once
        return self

    @property
    def loss(self):
        """The loss (a :class:`czar_gbdt.BaseLoss`)."""
        return self._core.loss

    def __repr__(self) -> str:
        return f"LGBObjective({self.loss!r}, hessian_scale={self._core.hessian_scale!r})"

    def __call__(self, first: Any, second: Any, weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """``(preds, train_data)`` (native API) or ``(y_true, y_pred, weight)`` (scikit-learn)."""
        if isinstance(second, lgb.Dataset):
            st = self._state(second)
            return self._core.grad_hess(st, first, np.float32, fix=self._fix_native, round_hint=_ROUND_HINT)
        st = self._core.state(first, weight, hint=_HINT)
        return self._core.grad_hess(st, second, np.float32, fix=self._fix_sklearn, round_hint=_ROUND_HINT)

    @property
    def scheduled(self) -> bool:
        """Whether the loss changes with the boosting round (it then needs :meth:`callback`)."""
        return self._core.scheduled

    def callback(self) -> "_RoundCallback":
        """A LightGBM callback telling this objective the boosting round.

        Needed by a :class:`czar_gbdt.ScheduledLoss` (harmless otherwise). It runs
        before every iteration and records ``env.iteration`` (which counts the rounds
        of an ``init_model``, so continued training continues the schedule). Works
        with ``lgb.train``, ``lgb.cv`` and ``LGBMModel.fit(callbacks=...)``.
        """
        return _RoundCallback(self._core)

    @staticmethod
    def _fix_native(init: float) -> str:
        return (f"set the training and validation Datasets' init_score to {init!r} "
                "(objective.init_score(train_set)) or use czar_gbdt.lightgbm.train()")

    @staticmethod
    def _fix_sklearn(init: float) -> str:
        return (f"pass init_score=np.full(len(y), {init!r}) (objective.init_score(y_train)) and "
                "eval_init_score to fit(), or use czar_gbdt.lightgbm.fit()")

    def _state(self, data: Any, sample_weight: Any = None):
        if isinstance(data, lgb.Dataset):
            if sample_weight is not None:
                raise ValueError("sample_weight is read from the Dataset; do not pass it as well.")
            st = self._core._state
            if st.ref is not None and st.ref() is data:
                return st
            label, weight = _label_weight(data)
            return self._core.state(label, weight, data, hint=_HINT)
        return self._core.state(data, sample_weight, hint=_HINT)

    def init_score(self, data: Any, *, sample_weight: Any = None) -> float:
        """The loss's constant minimiser (a raw score) on the training set.

        Parameters
        ----------
        data : lightgbm.Dataset or array-like of shape (n_samples,)
            The training Dataset, or the training labels (scikit-learn API).
        sample_weight : array-like of shape (n_samples,), optional
            With labels only.

        Returns
        -------
        float
        """
        return self._core.init_score(self._state(data, sample_weight))


class _RoundCallback:
    """Sets the boosting round of one objective before every iteration (see LGBObjective.callback).

    LightGBM has no end-of-training hook: a round left behind by a finished training is
    recognised as stale by the objective (the model has grown since).
    """

    order = 0
    before_iteration = True

    def __init__(self, core: "_ad.ObjectiveCore"):
        self._core = core

    def __deepcopy__(self, memo: dict) -> "_RoundCallback":
        return self  # it must keep talking to the objective's own core

    def __call__(self, env: Any) -> None:
        self._core.set_round(env.model, env.iteration, _model_size)


def _model_size(model: Any) -> int:
    # CVBooster returns one size per fold: the smallest stays at the round's size until
    # the last fold has been updated
    size = model.current_iteration()
    return min(size) if isinstance(size, list) else size


def _with_round_callback(obj: LGBObjective, callbacks: Sequence[Any] | None) -> list[Any]:
    """``callbacks`` plus the objective's round callback when its loss is scheduled."""
    callbacks = list(callbacks or [])
    if obj.scheduled and not any(isinstance(c, _RoundCallback) and c._core is obj._core for c in callbacks):
        callbacks.append(obj.callback())
    return callbacks


def objective(loss: Any, *, std: Any = None, mean: Any = None, hessian_scale: Any = "auto",
              check_start: bool = True, n_threads: int | None = None) -> LGBObjective:
    """Wrap a loss as a LightGBM objective (native and scikit-learn APIs).

    Parameters
    ----------
    loss : czar_gbdt.BaseLoss or str
        A loss instance or registry name.
    std, mean : float or array-like of shape (n_train,), optional
        Training rows' side data bound by position (checked against the labels),
        or attach it to the training Dataset instead (:func:`Dataset`); not both.
    hessian_scale : "auto", float or None, default "auto"
        Factor on gradients and hessians; ``"auto"`` = ``sum(w) / sum(w / std**2)``
        puts the z-space hessians ``H / std**2`` back on the scale of ``std = 1`` so
        that ``min_sum_hessian_in_leaf`` and ``lambda_l2`` keep their meaning
        (see :func:`czar_gbdt.xgboost.objective`).
    check_start : bool, default True
        Raise on the first round when training starts from a constant other than
        :meth:`LGBObjective.init_score` (LightGBM starts custom objectives at 0).
    n_threads : int or None, default None
        numba threads of the derivative kernels; None keeps numba's setting (all
        cores). With LightGBM the parallel kernel is faster: in a 40-round A/B run on
        2 cores, training took 1.15x the built-in objective's time with two threads
        and 1.24x with one (a short run, not the benchmark of bench/RESULTS.md).
        XGBoost, whose OpenMP threads keep spinning between rounds, is the opposite.

    Returns
    -------
    LGBObjective
    """
    return LGBObjective(loss, std=std, mean=mean, hessian_scale=hessian_scale, check_start=check_start,
                        n_threads=n_threads)


# --------------------------------------------------------------------------- metric
class LGBMetric:
    """A loss or a registered metric as a LightGBM eval metric (``feval`` / ``eval_metric``).

    Native: ``metric(preds, eval_data) -> (name, value, is_higher_better)`` with the
    eval Dataset's side data; scikit-learn: ``metric(y_true, y_pred, weight)`` with
    the bound side data. Predictions are raw scores and include the init score.
    """

    def __init__(self, what: Any, *, std: Any = None, mean: Any = None, dates: Any = None,
                 name: str | None = None):
        _imports.check()
        self._core = _ad.MetricCore(what, std=std, mean=mean, dates=dates, name=name, n_threads=None)
        self.__name__ = self._core.name

    def __deepcopy__(self, memo: dict) -> "LGBMetric":
        # the configuration never changes after construction and the caches are keyed by
        # dataset identity: a copy (LightGBM and scikit-learn deep-copy parameters) can be
        # this very object, which keeps the starting score and per-dataset state computed once
        return self

    @property
    def name(self) -> str:
        """Display name."""
        return self._core.name

    @property
    def is_higher_better(self) -> bool:
        """Whether higher values are better (LightGBM's direction flag)."""
        return self._core.higher_is_better

    def __repr__(self) -> str:
        return f"LGBMetric({self.name!r}, is_higher_better={self.is_higher_better})"

    def __call__(self, first: Any, second: Any, weight: Any = None) -> tuple[str, float, bool]:
        """``(preds, eval_data)`` (native) or ``(y_true, y_pred, weight)`` (scikit-learn)."""
        if isinstance(second, lgb.Dataset):
            label, w = _label_weight(second)
            side = self._core.side_for(label.shape[0], second, where="an eval Dataset", hint=_HINT)
            return self.name, self._core.value(label, first, w, side), self.is_higher_better
        y_true = np.asarray(first).reshape(-1)
        side = self._core.side_for(y_true.shape[0], None, where="the eval set", hint=_SK_HINT)
        return self.name, self._core.value(y_true, second, weight, side), self.is_higher_better


def metric(what: Any, *, std: Any = None, mean: Any = None, dates: Any = None,
           name: str | None = None) -> LGBMetric:
    """Wrap a loss (lower is better) or a metric such as ``"rank_ic"`` (higher is better).

    Parameters
    ----------
    what : czar_gbdt.BaseLoss, str or czar_gbdt.metrics.Metric
        A loss or loss name, or a name of ``czar_gbdt.metrics.METRICS``.
    std, mean, dates : array-like, optional
        Side data of the one eval set this metric scores, bound by position (the
        scikit-learn API needs it); with the native API prefer attaching side data
        to each eval Dataset (:func:`Dataset`).
    name : str, optional
        Display name (default: the loss or metric name).

    Returns
    -------
    LGBMetric
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


def _as_metrics(metric: Any) -> list[LGBMetric]:
    if metric is None:
        return []
    items = list(metric) if isinstance(metric, (list, tuple)) else [metric]
    return [m if isinstance(m, LGBMetric) else LGBMetric(m) for m in items]


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


def _set_init(dataset: "lgb.Dataset", value: float) -> None:
    """Set a constant init_score on ``dataset`` (refusing to overwrite a user's own)."""
    side = _ad.side_of(dataset)
    current = dataset.get_init_score() if (dataset.init_score is not None or dataset._handle is not None) \
        else None
    ours = side is not None and _INIT_KEY in side.extra
    if current is not None and np.size(current) and not ours:
        raise ValueError("the Dataset already has an init_score; train() sets it from the loss. "
                         "Build the Dataset without init_score.")
    n = _n_rows(dataset)
    dataset.set_init_score(np.full(n, value))
    if side is None:
        side = _ad.SideData(n, None, None, None)
        _ad.attach(dataset, side)
    side.extra[_INIT_KEY] = value


def train(params: dict[str, Any] | None, train_set: "lgb.Dataset", num_boost_round: int = 100, *,
          objective: Any, valid_sets: Sequence["lgb.Dataset"] = (), valid_names: Sequence[str] | None = None,
          metric: Any = None, early_stopping_rounds: int | None = None, callbacks: Sequence[Any] | None = None,
          **kwargs: Any) -> "lgb.Booster":
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
        Early stopping watches the first; with early stopping and no metric, the
        objective's loss.
    early_stopping_rounds : int, optional
        The booster keeps ``best_iteration``; ``predict`` uses it by default. A
        scheduled loss without ``metric`` is watched through its ``second`` loss.
    callbacks : list, optional
        Further LightGBM callbacks (the round callback of a scheduled loss is added).
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
            raise ValueError(f"params[{key!r}] is set by train() from objective=; remove it "
                             f"(got {params[key]!r}).")
        params.pop(key, None)
    if params.get("boosting", params.get("boosting_type", "gbdt")) in ("dart", "rf"):
        raise ValueError("boosting='dart'/'rf' rescales or averages trees: the starting score cannot be "
                         "baked into the first tree; use gbdt.")
    params["objective"] = obj
    params.setdefault("metric", "None")  # no l2 ahead of the metrics given here
    metrics = _as_metrics(metric)
    callbacks = _with_round_callback(obj, callbacks)
    if early_stopping_rounds:
        if not valid_sets:
            raise ValueError("early_stopping_rounds needs at least one set in valid_sets.")
        if not metrics:
            metrics = [LGBMetric(obj.loss.second if obj.scheduled else obj.loss)]
        callbacks.append(early_stopping(early_stopping_rounds))
    fresh = kwargs.get("init_model") is None
    init = 0.0
    if fresh:
        init = obj.init_score(train_set)
        for dataset in [train_set, *valid_sets]:
            _set_init(dataset, init)
    try:
        booster = lgb.train(params, train_set, num_boost_round, valid_sets=list(valid_sets),
                            valid_names=valid_names, feval=metrics or None, callbacks=callbacks, **kwargs)
    finally:
        obj._core.clear_round()
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
    obj = model.get_params().get("objective")
    if not isinstance(obj, LGBObjective):
        raise ValueError(f"model.objective must be a czar_gbdt.lightgbm objective; got {obj!r}.")
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
        fit_kwargs["callbacks"] = _with_round_callback(obj, fit_kwargs.get("callbacks"))
    try:
        model.fit(X, y, sample_weight=sample_weight, init_score=np.full(np.shape(y)[0], init), **fit_kwargs)
    finally:
        obj._core.clear_round()
    bake_init_score(model, init)
    return model

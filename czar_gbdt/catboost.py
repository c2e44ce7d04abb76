"""CatBoost adapter: every element-wise czar_gbdt loss as an objective and an eval metric.

CatBoost calls a user-defined objective on blocks of rows without saying which
rows, so a per-row ``std`` captured by position would be silently misaligned. The
adapter therefore trains the regression losses in **z-space**: :func:`Pool` stores
the standardised labels ``z = (y - mean) / std`` (each dataset with its own
``std``), the objective and metrics see ``(z_t, z_p)`` and need no side data at
all, and the model predicts ``z``. :func:`predict` maps back,
``y_pred = mean + std * z_pred``. The per-row loss is the same function of
``(z_t, z_p)`` as in the other backends; the difference is the model class: a
leaf adds a constant in units of ``std`` (the usual "vol-scaled target" model)
instead of a constant in units of ``y``, and Newton leaf values weight rows as in
z-space (no ``1/std**2``). Binary losses take 0/1 labels and need no ``std``.

::

    import catboost as cb, czar_gbdt as cg
    from czar_gbdt import catboost as ccb

    loss = cg.get_loss("czar", alpha=1.0)
    train_pool = ccb.Pool(X_train, y_train, std=std_train)
    valid_pool = ccb.Pool(X_valid, y_valid, std=std_valid)
    model = cb.CatBoostRegressor(loss_function=ccb.objective(loss), eval_metric=ccb.metric(loss),
                                 iterations=300, learning_rate=0.05)
    ccb.fit(model, train_pool, eval_set=valid_pool, early_stopping_rounds=30)
    y_hat = ccb.predict(model, X_test, std=std_test)         # back to the units of y

:func:`fit` starts training at the loss's constant minimiser (the compiled objective
and metric add it to every approx during training; afterwards it is the model's bias,
so that plain ``model.predict(X)`` includes it) and checks that every pool carries
the ``std`` the loss needs.
:func:`train` does the same from a parameter dict.

The objective and metric classes are generated per loss parameter set with method
bodies that never use ``self``: CatBoost compiles them with numba itself (they call
the loss's CatBoost kernels, generated from its row functions by
``czar_gbdt._kernels.loops``). Objectives with
cross-row coupling cannot be expressed (CatBoost evaluates row subsets) and are
refused; per-date metrics (``"rank_ic"``) are bound to one eval pool and verified
against its labels, and run in Python (CatBoost calls them once per dataset).

The walk-forward evaluation trains through :func:`train_builtin` (RMSE),
:func:`train_ranking` (``YetiRank``/``PairLogit``) and :func:`train_loss`, starting from
:data:`DEFAULTS`; the xgboost and lightgbm modules have the same functions.

.. note::
   CatBoost wants the derivatives of the quantity it maximises: ``(-grad, -hess)``
   per row. It requires an ``eval_metric`` whenever the objective is user-defined.
   The starting score is not a Pool baseline: CatBoost ingests baselines slowly (see
   bench/RESULTS.md), and a model with a bias would add both when predicting on that
   Pool. See docs/backends.md.
"""

from __future__ import annotations

import contextlib
import math
import threading
from typing import Any

import numpy as np

from . import _adapters as _ad
from ._imports import try_import
from .ranking import RANK_OBJECTIVES
from ._kernels import catboost_jit as _cbk
from .losses import LOSSES, BaseLoss

with try_import("catboost", min_version="1.2.8", extra="catboost") as _imports:
    import catboost as cb

__all__ = [
    "Pool",
    "attach",
    "objective",
    "metric",
    "fit",
    "train",
    "predict",
    "CatBoostObjective",
    "CatBoostMetric",
    "DEFAULTS",
    "RANKING_OBJECTIVES",
    "TrainedModel",
    "UNCHECKED_FIT",
    "train_builtin",
    "train_ranking",
    "train_loss",
]



# --------------------------------------------------------------------------- data
def Pool(data: Any, label: Any = None, *, std: Any = None, mean: Any = None, dates: Any = None,
         **kwargs: Any) -> "cb.Pool":
    """A ``catboost.Pool`` whose labels are ``(label - mean) / std`` (z-space).

    Parameters
    ----------
    data, label
        As for ``catboost.Pool``; ``label`` is required.
    std, mean : float or array-like of shape (n_samples,), optional
        This dataset's own z-scoring scale (> 0) and centre. Without them the
        labels are stored unchanged (binary losses, or squared error in y units).
    dates : array-like of shape (n_samples,), optional
        Date of each row, for :func:`metric` ``("rank_ic", pool=...)``.
    **kwargs
        Passed to ``catboost.Pool`` (``weight=``, ``cat_features=``, ...; not
        ``baseline``: :func:`fit` starts from the loss's constant minimiser).

    Returns
    -------
    catboost.Pool
        The original labels, ``std``, ``mean`` and ``dates`` stay attached to it.
    """
    _imports.check()
    _ad.require_label(label)
    if "baseline" in kwargs:
        raise ValueError("baseline is not supported: czar_gbdt.catboost.fit() starts from the loss's "
                         "constant minimiser.")
    y = _ad.as_labels(label, "label")
    side = _ad.make_side(y.shape[0], std=std, mean=mean, dates=dates, where="the labels have")
    z = y
    if side is not None and (side.std is not None or side.mean is not None):
        mu = 0.0 if side.mean is None else side.mean
        sd = 1.0 if side.std is None else side.std
        z = (y - mu) / sd
        if not np.isfinite(z).all():
            raise ValueError("(label - mean) / std overflows for some rows: std is too small for the labels.")
    # unstandardised labels go in as given (class labels of a CatBoostClassifier)
    pool = cb.Pool(data, label=z if z is not y else label, **kwargs)
    if side is None:
        side = _ad.SideData(y.shape[0], None, None, None)
    side.extra["y"] = y
    side.extra["z"] = z
    side.extra["standardised"] = side.std is not None or side.mean is not None
    _ad.attach(pool, side)
    return pool


def attach(pool: "cb.Pool", *, dates: Any = None) -> "cb.Pool":
    """Attach ``dates`` to a pool built by :func:`Pool` (or to a plain ``catboost.Pool``).

    ``std``/``mean`` cannot be attached afterwards: they must standardise the labels
    when the pool is built (:func:`Pool`).
    """
    _imports.check()
    if not isinstance(pool, cb.Pool):
        raise ValueError(f"pool must be a catboost.Pool; got {type(pool).__name__}.")
    side = _ad.side_of(pool)
    n = pool.num_row()
    new = _ad.make_side(n, dates=dates, where="the Pool has")
    if side is None:
        side = new if new is not None else _ad.SideData(n, None, None, None)
        _ad.attach(pool, side)
    elif new is not None:
        side.copy_dates(new)
    return pool


def _pool_side(pool: "cb.Pool") -> _ad.SideData:
    side = _ad.side_of(pool)
    if side is None:
        side = _ad.SideData(pool.num_row(), None, None, None)
        _ad.attach(pool, side)
    if "z" not in side.extra:
        label = pool.get_label()
        if label is None or np.size(label) == 0:
            raise ValueError("the Pool has no labels (label=None): build it with labels.")
        z = np.asarray(label, dtype=np.float64).reshape(-1)
        side.extra.update(y=z, z=z, standardised=False)
    return side


# --------------------------------------------------------------------------- generated classes
def _kernel_spec(loss) -> tuple[str, tuple[float, ...], float]:
    """``(derivative mode, kernel arguments, hessian floor)`` of an element-wise loss."""
    if loss.scheduled:
        raise ValueError(f"{loss!r} changes with the boosting round, but CatBoost passes no round to "
                         "objectives (and calls them on row subsets): schedules work with xgboost and "
                         "lightgbm only.")
    if not loss.elementwise:
        raise ValueError(f"{loss!r} couples rows; CatBoost evaluates objectives on row subsets and "
                         "cannot train it.")
    args = tuple(float(v) for v in loss.kernel_args())
    floor = -math.inf if loss.min_hessian is None else float(loss.min_hessian)
    return loss.derivative_mode, args, floor


class CatBoostObjective:
    """Base of the generated objective classes (one per loss parameter set).

    Instances have ``calc_ders_range(approxes, targets, weights)`` returning an
    ``(n, 2)`` array of ``(-grad, -hess)`` in z-space, compiled by CatBoost with
    numba, and ``loss`` (the wrapped loss). Build them with :func:`objective`.
    """

    loss: Any = None
    _cell: np.ndarray | None = None  # the starting-score offset the compiled method reads
    _lock: Any = None

    def __reduce__(self):
        # CatBoost deep-copies its parameters: the copy is the one instance per parameter set
        return (objective, (self.loss,))

    def __repr__(self) -> str:
        return f"czar_gbdt.catboost.objective({self.loss!r})"


class CatBoostMetric:
    """Base of the generated loss-metric classes; build them with :func:`metric`.

    ``evaluate`` returns ``(sum(w * loss), sum(w))`` and ``get_final_error`` their
    ratio, both compiled by CatBoost with numba; lower is better.
    """

    loss: Any = None
    _cell: np.ndarray | None = None
    _lock: Any = None
    _name: str | None = None

    def __reduce__(self):
        return (_rebuild_metric, (self.loss, self._name))

    def __repr__(self) -> str:
        return f"czar_gbdt.catboost.metric({self.loss!r})"


def _rebuild_metric(loss: Any, name: str | None) -> "CatBoostMetric":
    return metric(loss, name=name)


#: Why a loss that needs ``std`` refuses to train outside :func:`fit` / :func:`train` (raised by
#: the compiled objective on CatBoost's first call, which CatBoost reports as a CatBoostError).
UNCHECKED_FIT = ("this czar_gbdt.catboost objective needs labels z-scored with a per-row std, which a bare "
                 "model.fit() does not check (it would train with std = 1): train with "
                 "czar_gbdt.catboost.fit(model, czar_gbdt.catboost.Pool(X, y, std=...)) or czar_gbdt.catboost.train()")


def _objective_class(loss: Any, mode: str, args: tuple, floor: float) -> type:
    # The method below is compiled by CatBoost with numba.njit: its body may only use
    # the closure constants and the loss's generated kernels, never the instance. The
    # starting score is read at call time from ``cell[0]`` (its address is the constant);
    # ``cell[1]`` is 1 while fit() runs, after it checked that the pools carry the std the
    # loss needs: compiled by CatBoost, a loss with ``requires_std`` refuses to train
    # without it (a call from Python, outside any training, is not refused).
    ders = loss.loops.catboost_ders[mode]
    read_cell, compiled = _cbk.read_cell, _cbk.compiled
    cell = np.zeros(2)
    address = cell.ctypes.data
    checked = address + cell.itemsize
    guard = bool(loss.requires_std)
    message = UNCHECKED_FIT

    class _Objective(CatBoostObjective):
        def calc_ders_range(self, approxes, targets, weights):
            if guard and compiled() and read_cell(checked) == 0.0:  # CatBoost runs it, fit() did not check
                raise ValueError(message)
            return ders(approxes, targets, weights, args, floor, read_cell(address))

    _Objective._cell = cell
    _Objective._lock = threading.Lock()
    return _Objective


def _metric_class(loss: Any, args: tuple) -> type:
    loss_sum = loss.loops.catboost_loss_sum
    read_cell = _cbk.read_cell
    cell = np.zeros(1)
    address = cell.ctypes.data

    class _Metric(CatBoostMetric):
        def is_max_optimal(self):
            return False

        def evaluate(self, approxes, target, weight):
            return loss_sum(approxes[0], target, weight, args, read_cell(address))

        def get_final_error(self, error, weight):
            return error / weight if weight != 0.0 else 0.0

    _Metric._cell = cell
    _Metric._lock = threading.Lock()
    return _Metric


# one instance per loss parameter set: CatBoost compiles an instance's methods once
_OBJECTIVES: dict[Any, CatBoostObjective] = {}
_METRICS: dict[Any, CatBoostMetric] = {}


def _refuse_side(where: str, given: dict) -> None:
    """Side data passed to an objective or metric factory: say where it goes instead."""
    side = sorted(set(given) & {"std", "mean", "dates", "weight", "sample_weight"})
    if side:
        raise ValueError(
            f"{where} takes no {'/'.join(side)}: CatBoost calls objectives and metrics on blocks of rows without "
            f"saying which rows, so per-row data bound here would be misaligned. Give it to the data: "
            f"czar_gbdt.catboost.Pool(X, y, {', '.join(f'{k}=...' for k in side)}), then train with "
            f"czar_gbdt.catboost.fit() or train().")
    if given:
        raise TypeError(f"{where} got unexpected keyword argument(s) {sorted(given)}.")


def objective(loss: Any, **side: Any) -> CatBoostObjective:
    """A CatBoost objective (``loss_function=``) for ``loss``, compiled by CatBoost with numba.

    Regression losses are evaluated in z-space: train on pools built with
    :func:`Pool` ``(..., std=..., mean=...)`` (and see :func:`predict`). Binary
    losses take 0/1 labels (``CatBoostClassifier``) and return logits.

    A loss that needs a per-row ``std`` (CZAR, ZPTAE) trains only through :func:`fit`
    or :func:`train`, which check that the pools carry it: with a bare
    ``model.fit(X, y)`` the compiled objective raises on CatBoost's first call
    (:data:`UNCHECKED_FIT`) instead of training silently with ``std = 1``.

    Parameters
    ----------
    loss : czar_gbdt.BaseLoss or str
        An element-wise loss (losses coupling rows are refused).
    **side
        Refused: ``std``, ``mean`` and ``dates`` belong to the :func:`Pool` (the error
        says so).

    Returns
    -------
    CatBoostObjective
        The same instance for equal losses, so CatBoost compiles it once per process.
    """
    _imports.check()
    _refuse_side("czar_gbdt.catboost.objective()", side)
    loss = _ad.as_loss(loss)
    spec = _kernel_spec(loss)
    key = (type(loss), spec)
    if key not in _OBJECTIVES:
        cls = _objective_class(loss, *spec)
        cls.__name__ = cls.__qualname__ = f"{type(loss).__name__}Objective"
        cls.loss = loss
        _OBJECTIVES[key] = cls()
    return _OBJECTIVES[key]


def metric(what: Any, *, pool: Any = None, name: str | None = None, **side: Any) -> Any:
    """A CatBoost eval metric: a loss (compiled, lower is better) or a per-date metric.

    Parameters
    ----------
    what : czar_gbdt.BaseLoss, str or czar_gbdt.metrics.Metric
        A loss or loss name: evaluated in z-space on every dataset CatBoost scores,
        each with its own standardised labels. Or a metric name such as
        ``"rank_ic"`` (higher is better), which needs ``pool``.
    pool : catboost.Pool, optional
        For per-date metrics: the one eval pool (from :func:`Pool` with ``dates=``)
        the metric is bound to. Its predictions are mapped back to ``y`` units with
        the pool's ``std``/``mean`` before ranking. :func:`fit` also binds the
        training pool when it has what the metric needs; other datasets score 0.
    name : str, optional
        Display name of a per-date metric (CatBoost reports the class name).
    **side
        Refused: ``std``, ``mean`` and ``dates`` belong to the :func:`Pool`.

    Returns
    -------
    metric object for ``eval_metric=``
    """
    _imports.check()
    _refuse_side("czar_gbdt.catboost.metric()", side)
    if isinstance(what, BaseLoss) or (isinstance(what, str) and what in LOSSES):
        if pool is not None:
            raise ValueError("loss metrics need no pool: each dataset carries its own standardised labels.")
        loss = _ad.as_loss(what)
        _, args, _ = _kernel_spec(loss)
        key = (type(loss), args, name)
        if key not in _METRICS:
            cls = _metric_class(loss, args)
            cls.__name__ = cls.__qualname__ = name or loss.name
            cls.loss = loss
            cls._name = name
            _METRICS[key] = cls()
        return _METRICS[key]
    core = _ad.MetricCore(what, name=name)
    if pool is None:
        raise ValueError(f"metric {core.name!r} needs pool=: the eval pool whose dates it uses "
                         "(CatBoost passes no row ids to metrics).")
    side = _pool_side(pool)
    core.side_for(side.n, pool, where="the eval Pool",
                  hint="build it with czar_gbdt.catboost.Pool(X, y, {name}=...)")
    # a class per metric object: CatBoost reports the class name, and the class holds the
    # lock fit() takes while the offset is set (a lock on the instance would not deep-copy)
    cls = type(core.name, (_PooledMetric,), {"_lock": threading.Lock()})
    return cls(core, pool, side)


class _PooledMetric:
    """A per-date metric bound to eval pools (run in Python: ``no_jit``).

    CatBoost calls ``evaluate`` once per dataset with all its rows in order, but
    says not which dataset. The labels it passes are compared with each bound
    pool's own (float32) labels to find the pool, so the pool's dates, ``std`` and
    ``mean`` line up with the rows; a dataset that matches no bound pool (for
    example a shuffled training set) scores 0 (CatBoost cannot log NaN).
    """

    no_jit = True

    def __init__(self, core: _ad.MetricCore, pool: Any, side: _ad.SideData):
        self._core = core
        self._pools: list[tuple[np.ndarray, _ad.SideData]] = []
        self._offset = 0.0  # the starting score, set by fit() while training
        self._add(side)

    def _add(self, side: _ad.SideData) -> None:
        labels = np.asarray(side.extra["z"], dtype=np.float32)
        if not any(s is side for _, s in self._pools):
            self._pools.append((labels, side))

    def bind(self, pool: Any) -> None:
        """Also score ``pool`` (its side data must have what the metric needs)."""
        side = _pool_side(pool)
        self._core.side_for(side.n, pool, where="the Pool",
                            hint="build it with czar_gbdt.catboost.Pool(X, y, {name}=...)")
        self._add(side)

    def __repr__(self) -> str:
        return f"czar_gbdt.catboost.metric({self._core.name!r}, <{len(self._pools)} pools>)"

    def is_max_optimal(self) -> bool:
        return self._core.higher_is_better

    def evaluate(self, approxes, target, weight):
        target = np.asarray(target)
        for labels, side in self._pools:
            if target.shape[0] == labels.shape[0] and np.array_equal(target, labels):
                z_pred = np.asarray(approxes[0], dtype=np.float64) + self._offset
                std = 1.0 if side.std is None else side.std
                mean = 0.0 if side.mean is None else side.mean
                return self._core.value(side.extra["y"], mean + std * z_pred, None, side), 1.0
        return 0.0, 1.0

    def get_final_error(self, error, weight):
        return error


_make_objective = objective
_make_metric = metric


# --------------------------------------------------------------------------- training helpers
def _as_pool(data: Any, what: str) -> "cb.Pool":
    if isinstance(data, cb.Pool):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return Pool(data[0], data[1])
    raise ValueError(f"{what} must be a catboost.Pool (czar_gbdt.catboost.Pool) or an (X, y) pair; "
                     f"got {type(data).__name__}.")


def _check_pool(pool: "cb.Pool", loss, what: str) -> _ad.SideData:
    side = _pool_side(pool)
    if loss.kind == "binary" and side.extra.get("standardised"):
        raise ValueError(f"{what} was standardised with std/mean, but {loss!r} takes 0/1 labels: "
                         "build it without std/mean.")
    if loss.requires_std and not side.extra.get("standardised"):
        raise ValueError(f"std is required by {loss!r} but {what} has none: build it with "
                         "czar_gbdt.catboost.Pool(X, y, std=..., mean=...).")
    return side


def fit(model: Any, X: Any, y: Any = None, *, eval_set: Any = None, **fit_kwargs: Any) -> Any:
    """Fit a CatBoost model whose ``loss_function`` is a :func:`objective`.

    Checks that the training and eval pools carry the ``std`` the loss needs, sets
    ``eval_metric`` to the loss if none was chosen (and, without an eval set, scores
    the training set with it at the end only), starts training at the loss's constant
    minimiser (added to the approxes by the compiled objective and metric, which read it
    from a cell of their class: fits that share an objective parameter set or an eval
    metric run one at a time, in any thread) and stores it as the model's bias, so
    ``model.predict(X)`` includes it. A model that sets neither ``train_dir`` nor
    ``allow_writing_files`` writes no files (CatBoost would leave ``catboost_info/`` in
    the working directory); set ``train_dir`` to keep CatBoost's training logs.

    Parameters
    ----------
    model : catboost.CatBoost, CatBoostRegressor or CatBoostClassifier
        Its ``loss_function`` is a :func:`objective`.
    X : catboost.Pool or array-like
        A pool from :func:`Pool`, or features (then ``y`` is required and no
        ``std`` is possible: squared error in y units or binary losses only).
    y : array-like, optional
        Labels, when ``X`` holds features.
    eval_set : Pool, (X, y) or list of them, optional
        Eval datasets; regression losses need pools from :func:`Pool` with ``std``.
    **fit_kwargs
        Passed to ``model.fit`` (``early_stopping_rounds=``, ``verbose=``, ...).

    Returns
    -------
    the fitted model
    """
    _imports.check()
    obj = _ad.model_objective(model, "loss_function", CatBoostObjective, "catboost", where="model's loss_function")
    if "init_model" in fit_kwargs or "baseline" in fit_kwargs:
        raise ValueError("fit() sets the starting score itself; init_model and baseline are not supported.")
    loss = obj.loss
    pool = _as_pool(X if y is None else (X, y), "X")
    if y is not None and "sample_weight" in fit_kwargs:
        pool.set_weight(np.asarray(fit_kwargs.pop("sample_weight"), dtype=np.float64))
    evals: list[Any] = []
    if eval_set is not None:
        items = [eval_set] if isinstance(eval_set, (cb.Pool, tuple)) else list(eval_set)
        evals = [_as_pool(e, f"eval_set[{i}]") for i, e in enumerate(items)]
    side = _check_pool(pool, loss, "the training Pool")
    for i, e in enumerate(evals):
        _check_pool(e, loss, f"eval_set[{i}]")
    if isinstance(model, cb.CatBoostClassifier) and model.get_params().get("class_names") is None:
        # with a user-defined eval metric CatBoost does not record the classes: predict() would fail
        model.set_params(class_names=np.unique(np.asarray(pool.get_label())).tolist())
    params = model.get_params()
    if "train_dir" not in params and "allow_writing_files" not in params:
        # CatBoost's default writes its training logs to catboost_info/ in the working directory
        model.set_params(allow_writing_files=False)
    eval_metric = params.get("eval_metric")
    if eval_metric is None:
        eval_metric = metric(loss)
        if not evals and "metric_period" not in params:
            # CatBoost needs an eval metric and scores the training set with it every
            # iteration: a full pass of the loss that nobody asked for. Score it at the
            # end only.
            model.set_params(metric_period=int(params.get("iterations") or 1000))
    elif isinstance(eval_metric, _PooledMetric):
        try:
            eval_metric.bind(pool)
        except ValueError:
            pass  # the training pool lacks what the metric needs: it scores 0 there
    model.set_params(eval_metric=eval_metric)  # get_params() may have returned a copy
    weight = _pool_weight(pool)
    init = _ad.constant_minimiser(loss, side.extra["z"], weight=weight)
    # Training starts at ``init``: the compiled objective and metric add it to every approx
    # (read from their offset cells), so no Pool baseline is needed. A cell belongs to a
    # generated class (one per parameter set) and is shared by every fit using it, so a fit
    # holds the lock of its objective class and then the lock of its metric (class or pooled
    # instance): fits sharing either run one at a time. Locks are always taken objective
    # first, so two fits cannot wait for each other.
    locks = [type(obj)._lock]
    if isinstance(eval_metric, CatBoostMetric):
        locks.append(type(eval_metric)._lock)
    elif isinstance(eval_metric, _PooledMetric):
        locks.append(type(eval_metric)._lock)
    with contextlib.ExitStack() as stack:
        for lock in locks:
            stack.enter_context(lock)
        cells = [type(obj)._cell]
        if isinstance(eval_metric, CatBoostMetric):
            cells.append(type(eval_metric)._cell)
        try:
            for cell in cells:
                cell[0] = init
            type(obj)._cell[1] = 1.0  # the pools were checked above: the objective may run
            if isinstance(eval_metric, _PooledMetric):
                eval_metric._offset = init
            model.fit(pool, eval_set=evals or None, **fit_kwargs)
        finally:
            type(obj)._cell[1] = 0.0
            for cell in cells:
                cell[0] = 0.0
            if isinstance(eval_metric, _PooledMetric):
                eval_metric._offset = 0.0
    scale, bias = model.get_scale_and_bias()
    model.set_scale_and_bias(scale, bias + init)
    return model


def _pool_weight(pool: "cb.Pool") -> np.ndarray | None:
    weight = np.asarray(pool.get_weight(), dtype=np.float64)
    return None if weight.size == 0 or np.all(weight == 1.0) else weight


def train(params: dict[str, Any] | None, pool: Any, *, objective: Any, eval_set: Any = None,
          metric: Any = None, early_stopping_rounds: int | None = None, **fit_kwargs: Any) -> "cb.CatBoost":
    """Train a ``catboost.CatBoost`` model on a loss; see :func:`fit`.

    Parameters
    ----------
    params : dict
        CatBoost parameters (``iterations``, ``learning_rate``, ``depth``, ...);
        ``loss_function`` and ``eval_metric`` are set here.
    pool : catboost.Pool
        From :func:`Pool`.
    objective : loss, loss name or CatBoostObjective
        The loss to train.
    eval_set : Pool or list of Pools, optional
        Eval pools from :func:`Pool`.
    metric : loss or metric object, optional
        The eval metric (default: the objective's loss). Early stopping and
        ``use_best_model`` follow it in its own direction.
    early_stopping_rounds : int, optional
        Stop after this many iterations without improvement of the eval metric.
    **fit_kwargs
        Passed to ``CatBoost.fit``.

    Returns
    -------
    catboost.CatBoost
        Truncated to the best iteration when there is an eval set
        (``use_best_model``); its bias holds the starting score.
    """
    _imports.check()
    obj = objective if isinstance(objective, CatBoostObjective) else _make_objective(objective)
    params = dict(params or {})
    params["loss_function"] = obj
    if isinstance(metric, (str, BaseLoss)):
        metric = _make_metric(metric)
    if metric is not None:
        params["eval_metric"] = metric  # otherwise fit() chooses the loss
    model = cb.CatBoost(params)
    if early_stopping_rounds is not None:
        fit_kwargs["early_stopping_rounds"] = early_stopping_rounds
    return fit(model, pool, eval_set=eval_set, **fit_kwargs)


def predict(model: Any, data: Any, *, std: Any = None, mean: Any = None, **kwargs: Any) -> np.ndarray:
    """Predictions in the units of ``y``: ``mean + std * z_pred``.

    Parameters
    ----------
    model : catboost.CatBoost
        A fitted model (trained with a z-space loss by :func:`fit` or :func:`train`).
    data : catboost.Pool or array-like
        A pool from :func:`Pool` brings its own ``std``/``mean``; for features
        pass them explicitly.
    std, mean : float or array-like of shape (n_samples,), optional
        Without them (and for binary losses) the raw prediction (z or logit) is returned.
    **kwargs
        Passed to ``model.predict`` (``ntree_end=``, ...).

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    _imports.check()
    kwargs.setdefault("prediction_type", "RawFormulaVal")
    raw = np.asarray(model.predict(data, **kwargs), dtype=np.float64).reshape(-1)
    side = _ad.side_of(data) if isinstance(data, cb.Pool) else None
    if side is not None and (std is not None or mean is not None):
        raise ValueError("the Pool brings its own std/mean; do not pass them as well.")
    if side is not None:
        std, mean = side.std, side.mean
    bound = _ad.make_side(raw.shape[0], std=std, mean=mean, where="the predictions have")
    if bound is None:
        return raw
    out = raw if bound.std is None else raw * bound.std
    return out if bound.mean is None else out + bound.mean


_predict = predict


# --------------------------------------------------------------------------- training for the evaluation
#: Seeded, deterministic, quiet parameters of :func:`train_builtin`, :func:`train_ranking`
#: and :func:`train_loss` (their ``params`` override them).
DEFAULTS = {"verbose": False, "allow_writing_files": False, "thread_count": 2}

#: CatBoost's learning-to-rank objectives; the first is the default of :func:`train_ranking`.
RANKING_OBJECTIVES = RANK_OBJECTIVES["catboost"]


class TrainedModel(_ad.TrainedModel):
    """A ``catboost.CatBoost`` model (``model``) and its ``rounds``.

    A loss trained on z-space labels (:func:`train_loss` with ``std``) predicts ``z``:
    ``predict(X, std)`` maps it back to the units of ``y`` with the rows' own ``std``.
    The other models ignore ``std``.
    """

    def predict(self, X: Any, std: Any = None) -> np.ndarray:
        """Predictions on ``X``: ``std * z`` for a z-space loss, else raw scores (logits, ranking scores)."""
        z_space = self.options.get("z_space")
        if z_space is None:  # a built-in objective
            return self.model.predict(_ad.features(X))
        return _predict(self.model, _ad.features(X), std=std if z_space else None)


class _Training(_ad.Training):
    """CatBoost's part of the evaluation's training (see :class:`czar_gbdt._adapters.Training`)."""

    imports, name, defaults, ranking_objectives = _imports, "catboost", DEFAULTS, RANKING_OBJECTIVES
    builtin_objective, objective_key, seed_key, rounds_key = "RMSE", "loss_function", "random_seed", "iterations"

    def fit(self, params, X, labels, *, weight, group_sizes, num_boost_round) -> TrainedModel:
        if group_sizes is None:
            model = cb.CatBoostRegressor(**params).fit(X, labels, sample_weight=weight)
        else:
            model = cb.CatBoost(params).fit(cb.Pool(X, labels, group_id=_ad.query_ids(group_sizes)))
        return TrainedModel(model, num_boost_round)

    def fit_loss(self, loss, params, X, y, *, std, weight, valid, stop, num_boost_round) -> TrainedModel:
        pool, fit_kwargs = Pool(X, y, std=std, weight=weight), {}
        if valid is not None:
            vpool = Pool(valid.X, valid.y, std=valid.std, dates=valid.dates)
            fit_kwargs = {"eval_set": vpool, "metric": metric("rank_ic", pool=vpool), "early_stopping_rounds": stop}
        model = train(params, pool, objective=loss, **fit_kwargs)
        best = model.get_best_iteration() if stop else model.tree_count_
        return TrainedModel(model, int(best or model.tree_count_), z_space=std is not None)


_TRAINING = _Training()
train_builtin = _TRAINING.train_builtin
train_ranking = _TRAINING.train_ranking
train_loss = _TRAINING.train_loss

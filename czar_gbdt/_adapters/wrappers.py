"""The shared body of the backend wrappers, parameterised by a small per-backend description.

* :class:`Backend`: what the wrappers need to know about one backend (its dataset type,
  how to read a dataset's rows, labels and weights, its hints, its round callback).
* :class:`Objective` and :class:`Metric`: the bases of ``XGBObjective``/``LGBObjective``
  and ``XGBMetric``/``LGBMetric``; the subclasses keep only the backend's call
  signatures and return conventions.
* :class:`RoundCallback`: the base of the callbacks that tell a scheduled loss the round.
* Helpers of the modules' ``train()``/``fit()``: :func:`as_metrics`,
  :func:`metrics_and_callbacks`, :func:`model_objective`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..losses import BaseLoss
from .core import MetricCore, ObjectiveCore, TrainState
from .side import attach, make_side, require_label

__all__ = [
    "Backend",
    "RoundCallback",
    "Wrapper",
    "Objective",
    "Metric",
    "as_metrics",
    "metrics_and_callbacks",
    "model_objective",
]

_AUTO = "auto"


class Backend:
    """The small description of one backend that parameterises the shared wrappers.

    Each backend module subclasses it once (how a dataset's rows, labels and weights are
    read, its round callback) and builds one instance with its deferred import guard
    (:func:`czar_gbdt._imports.try_import`) and its dataset class (None when the backend
    failed to import: every public constructor checks the import first).

    Attributes
    ----------
    name : str
        The package, and the name of the backend module (``"xgboost"``).
    dataset : str
        The backend's dataset class (``"DMatrix"``).
    argument : str
        The name of the dataset argument of the module's ``attach`` (``"dmatrix"``).
    article : str
        ``"a"`` or ``"an"`` before ``name`` in messages.
    alias : str
        The backend's usual import alias (``"xgb"``), for messages.
    sklearn_fit : str
        Where its scikit-learn estimators take callbacks (``"the estimator"``).
    native_advice, sklearn_advice : str
        The advice when training starts elsewhere than at the loss's starting score,
        in the native and in the scikit-learn API: templates formatted with ``init``
        (the starting score) and ``setting`` (the backend parameter's value that
        starts there, :meth:`Objective.start_setting`).
    callback_type : type
        The backend's :class:`RoundCallback`.
    metric_threads : int or None
        numba threads of the metrics (see :class:`MetricCore`).
    hint, sklearn_hint : str
        Where ``std`` comes from, in the native and in the scikit-learn API.
    round_hint : str
        The advice when a scheduled loss trains without the round callback.
    """

    name = ""
    dataset = ""
    argument = ""
    article = "a"
    alias = ""
    sklearn_fit = ""
    native_advice = ""
    sklearn_advice = ""
    callback_type: type = None  # type: ignore[assignment]
    metric_threads: int | None = 1

    def __init__(self, imports: Any, dataset_type: type | None):
        self.imports = imports
        self.dataset_type = dataset_type
        # templates: ``{name}`` is the missing side data ("std" or "dates"), filled by required_error
        self.hint = (
            f"build it with czar_gbdt.{self.name}.{self.dataset}(X, y, {{name}}=...) or "
            f"attach({self.argument}, {{name}}=...), or bind it with {{name}}= (objective() for the "
            "training set, metric() for one eval set)"
        )
        self.sklearn_hint = (
            f"the scikit-learn API passes labels without their {self.dataset}: bind the eval "
            "set's own {name} with metric(..., {name}={name}_valid)"
        )
        self.round_hint = (
            f"pass callbacks=[objective.callback()] to {self.alias}.train/{self.alias}.cv or to "
            f"{self.sklearn_fit}, or use czar_gbdt.{self.name}.train()/fit()"
        )

    def check(self) -> None:
        """Raise the backend's deferred ImportError, if any."""
        self.imports.check()

    def is_dataset(self, data: Any) -> bool:
        """Whether ``data`` is the backend's dataset (native API) rather than labels."""
        return self.dataset_type is not None and isinstance(data, self.dataset_type)

    def make_dataset(
        self, data: Any, label: Any, *, std: Any = None, mean: Any = None, dates: Any = None, **kwargs: Any
    ) -> Any:
        """The backend's dataset of ``data`` and ``label`` (required), with side data attached."""
        self.check()
        require_label(label)
        return self.attach_side(self.dataset_type(data, label=label, **kwargs), std=std, mean=mean, dates=dates)

    def attach_side(self, data: Any, *, std: Any = None, mean: Any = None, dates: Any = None) -> Any:
        """Attach side data, validated for the rows of the backend dataset ``data``; returns ``data``."""
        self.check()
        if not self.is_dataset(data):
            raise ValueError(
                f"{self.argument} must be {self.article} {self.name}.{self.dataset}; got {type(data).__name__}."
            )
        attach(data, make_side(self.rows(data), std=std, mean=mean, dates=dates, where=f"the {self.dataset} has"))
        return data

    def rows(self, data: Any) -> int:
        """The number of rows of a dataset."""
        raise NotImplementedError

    def labels_weights(self, data: Any) -> tuple[Any, Any]:
        """Labels and weights (None when absent) of a training dataset."""
        raise NotImplementedError

    def eval_labels_weights(self, data: Any, metric_name: str) -> tuple[Any, Any]:
        """Labels and weights of an eval dataset scored by ``metric_name`` (default: as for training)."""
        return self.labels_weights(data)


class RoundCallback:
    """Base of the backends' round callbacks: holds the core of one objective.

    A backend module subclasses it with the backend's callback protocol and calls
    ``self.core.set_round(model, round, size)`` before each iteration.
    """

    def __init__(self, core: ObjectiveCore):
        self.core = core

    def __deepcopy__(self, memo: dict) -> RoundCallback:
        return self  # it must keep talking to the objective's own core


class Wrapper:
    """What :class:`Objective` and :class:`Metric` share: the backend, and copies that are the object itself."""

    backend: Backend

    def __deepcopy__(self, memo: dict) -> Wrapper:
        # the configuration never changes after construction and the caches are keyed by
        # dataset identity: a copy (LightGBM and scikit-learn deep-copy parameters) can be
        # this very object, which keeps the starting score and per-dataset state computed once
        return self


class Objective(Wrapper):
    """A loss as a backend objective: the shared body of ``XGBObjective`` and ``LGBObjective``.

    A subclass sets :attr:`backend` and writes ``__init__`` (with its default
    ``n_threads``) and ``__call__`` (with the parameters the backend inspects). Called
    with the backend's dataset second (native API), the objective reads labels and
    weights from the dataset and ``std``/``mean`` from its side data or from the bound
    arrays; called with labels first (scikit-learn API), it uses the bound arrays.
    Gradients and hessians are float32 arrays with the weights multiplied in, once.
    """

    def __init__(
        self,
        loss: Any,
        *,
        std: Any = None,
        mean: Any = None,
        hessian_scale: Any = _AUTO,
        check_start: bool = True,
        n_threads: int | None = 1,
    ):
        self.backend.check()
        self._core = ObjectiveCore(
            loss, std=std, mean=mean, hessian_scale=hessian_scale, check_start=check_start, n_threads=n_threads
        )

    @property
    def loss(self) -> BaseLoss:
        """The loss (a :class:`czar_gbdt.BaseLoss`)."""
        return self._core.loss

    @property
    def scheduled(self) -> bool:
        """Whether the loss changes with the boosting round (it then needs :meth:`callback`)."""
        return self._core.scheduled

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.loss!r}, hessian_scale={self._core.hessian_scale!r})"

    def grad_hess(self, first: Any, second: Any, weight: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Gradients and hessians: ``(preds, dataset)`` (native) or ``(y_true, y_pred, weight)``."""
        if self.backend.is_dataset(second):
            st, pred, native = self._train_state(second), first, True
        else:
            st, pred, native = self._core.state(first, weight, hint=self.backend.hint), second, False
        return self._core.grad_hess(
            st, pred, np.float32, fix=lambda init: self.start_advice(init, native), round_hint=self.backend.round_hint
        )

    def start_advice(self, init: float, native: bool) -> str:
        """How to start training at ``init``, for the start check's error (native or scikit-learn API)."""
        template = self.backend.native_advice if native else self.backend.sklearn_advice
        return template.format(init=init, setting=self.start_setting(init))

    def start_setting(self, init: float) -> float:
        """The value of the backend's start parameter that starts training at the raw score ``init``."""
        return init

    def _train_state(self, data: Any, sample_weight: Any = None) -> TrainState:
        if self.backend.is_dataset(data):
            if sample_weight is not None:
                raise ValueError(f"sample_weight is read from the {self.backend.dataset}; do not pass it as well.")
            return self._core.dataset_state(data, self.backend.labels_weights, hint=self.backend.hint)
        return self._core.state(data, sample_weight, hint=self.backend.hint)

    def init_score(self, data: Any, *, sample_weight: Any = None) -> float:
        """The loss's constant minimiser (a raw score: a margin, or log-odds) on the training set.

        Parameters
        ----------
        data : the backend's dataset or array-like of shape (n_samples,)
            The training dataset (``DMatrix``, ``Dataset``), or the training labels
            (scikit-learn API).
        sample_weight : array-like of shape (n_samples,), optional
            With labels only; a dataset brings its own weights.

        Returns
        -------
        float
        """
        return self._core.init_score(self._train_state(data, sample_weight))

    def callback(self) -> RoundCallback:
        """A training callback telling this objective the boosting round.

        Needed by a :class:`czar_gbdt.ScheduledLoss` (harmless otherwise). Before every
        iteration it records the model's size as the round, so continued training
        continues the schedule. It works with the backend's ``train`` and ``cv`` (every fold
        gets the round) and the scikit-learn estimators (``callbacks=[obj.callback()]``);
        the ``train()`` and ``fit()`` of the backend modules add it themselves.
        """
        return self.backend.callback_type(self._core)

    def with_round_callback(self, callbacks: Sequence[Any] | None) -> list[Any]:
        """``callbacks`` (as a new list) plus this objective's round callback when its loss is scheduled."""
        callbacks = list(callbacks or [])
        if self.scheduled and not any(isinstance(c, RoundCallback) and c.core is self._core for c in callbacks):
            callbacks.append(self.callback())
        return callbacks

    def clear_round(self) -> None:
        """Forget the boosting round (after a training, for backends without an end-of-training hook)."""
        self._core.clear_round()


class Metric(Wrapper):
    """A loss or a registered metric as a backend eval metric: the body of ``XGBMetric`` and ``LGBMetric``.

    A subclass sets :attr:`backend` and writes ``__call__`` (the backend's parameters
    and return convention) around :meth:`evaluate`.
    """

    def __init__(self, what: Any, *, std: Any = None, mean: Any = None, dates: Any = None, name: str | None = None):
        self.backend.check()
        self._core = MetricCore(what, std=std, mean=mean, dates=dates, name=name, n_threads=self.backend.metric_threads)
        self.__name__ = self._core.name
        #: Whether higher values are better (the backend subclasses name it their way).
        self.higher_is_better = self._core.higher_is_better

    @property
    def name(self) -> str:
        """Display name."""
        return self._core.name

    def evaluate(self, first: Any, second: Any, weight: Any = None) -> float:
        """The value: ``(preds, dataset)`` with the dataset's side data, or ``(y_true, y_pred, weight)``."""
        backend = self.backend
        if backend.is_dataset(second):
            label, w = backend.eval_labels_weights(second, self.name)
            side = self._core.side_for(
                backend.rows(second), second, where=f"an eval {backend.dataset}", hint=backend.hint
            )
            return self._core.value(label, first, w, side)
        y_true = np.asarray(first).reshape(-1)
        side = self._core.side_for(y_true.shape[0], None, where="the eval set", hint=backend.sklearn_hint)
        return self._core.value(y_true, second, weight, side)


def as_metrics(metric: Any, cls: type) -> list:
    """``metric`` (None, one metric or a list/tuple of them) as a list of ``cls`` instances."""
    if metric is None:
        return []
    items = list(metric) if isinstance(metric, (list, tuple)) else [metric]
    return [m if isinstance(m, cls) else cls(m) for m in items]


def metrics_and_callbacks(
    objective: Objective,
    metric: Any,
    callbacks: Sequence[Any] | None,
    metric_type: type,
    *,
    early_stopping_rounds: int | None,
    has_evals: bool,
    evals: str,
    stopper: Callable[[Any], Any],
) -> tuple[list, list]:
    """The metrics and callbacks of a backend module's ``train()``.

    ``metric`` as a list of ``metric_type``, ``callbacks`` with the objective's round
    callback (for a scheduled loss) and, with early stopping, ``stopper(metric)``
    watching the first metric: the objective's loss when no metric is given (the
    ``second`` part of a scheduled loss: a loss that changes with the round cannot be a
    metric). ``evals`` names where eval sets go (for the error when there is none).
    """
    metrics = as_metrics(metric, metric_type)
    callbacks = objective.with_round_callback(callbacks)
    if early_stopping_rounds:
        if not has_evals:
            raise ValueError(f"early_stopping_rounds needs at least {evals}.")
        metrics = metrics or [metric_type(objective.loss.second if objective.scheduled else objective.loss)]
        callbacks.append(stopper(metrics[0]))
    return metrics, callbacks


def model_objective(model: Any, key: str, cls: type, module: str, *, where: str | None = None) -> Any:
    """The objective a scikit-learn style ``model`` holds in its parameter ``key``, checked to be a ``cls``.

    ``where`` names the parameter in the error (default ``"model.<key>"``), ``module`` the
    backend module whose objectives are expected.
    """
    obj = model.get_params().get(key)
    if not isinstance(obj, cls):
        raise ValueError(f"{where or 'model.' + key} must be a czar_gbdt.{module} objective; got {obj!r}.")
    return obj

"""A loss as a LightGBM objective, a loss or a registered metric as a LightGBM eval metric, and
early stopping on the first metric."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _adapters as _ad
from .._imports import try_import
from .backend import BACKEND, BELOW_VERSION, DOC, MIN_VERSION

with try_import("lightgbm", min_version=MIN_VERSION, below_version=BELOW_VERSION) as _imports:
    import lightgbm as lgb

__all__ = ["LGBObjective", "objective", "LGBMetric", "metric", "early_stopping"]


class LGBObjective(_ad.Objective):
    """A loss as a LightGBM objective, for ``params["objective"]`` and ``LGBMModel(objective=...)``.

    Called as ``obj(preds, train_data)`` (native) it reads labels and weights from
    the Dataset and ``std``/``mean`` from its side data or the bound arrays; called
    as ``obj(y_true, y_pred, weight)`` (scikit-learn; exactly three parameters so
    that LightGBM passes the weights) it uses the bound arrays. Returns float32
    contiguous gradients and hessians with the weights multiplied in.

    Use :func:`objective` to build one; see there for the parameters.
    """

    backend = BACKEND

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


@_ad.fill_doc("objective", **DOC)
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


class LGBMetric(_ad.Metric):
    """A loss or a registered metric as a LightGBM eval metric (``feval`` / ``eval_metric``).

    Native: ``metric(preds, eval_data) -> (name, value, is_higher_better)`` with the
    eval Dataset's side data; scikit-learn: ``metric(y_true, y_pred, weight)`` with
    the bound side data. Predictions are raw scores and include the init score.
    """

    backend = BACKEND

    def __repr__(self) -> str:
        return f"LGBMetric({self.name!r}, is_higher_better={self.is_higher_better})"

    @property
    def is_higher_better(self) -> bool:
        """Whether higher values are better (LightGBM's direction flag)."""
        return self.higher_is_better

    def __call__(self, first: Any, second: Any, weight: Any = None) -> tuple[str, float, bool]:
        """``(preds, eval_data)`` (native) or ``(y_true, y_pred, weight)`` (scikit-learn)."""
        return self.name, self.evaluate(first, second, weight), self.is_higher_better


@_ad.fill_doc("metric", **DOC)
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

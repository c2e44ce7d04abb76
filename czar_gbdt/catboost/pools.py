"""CatBoost Pools in z-space: the labels standardised with each dataset's own ``std``/``mean``,
the original labels and side data attached to the Pool, and the checks a training runs on them."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _adapters as _ad
from .._imports import try_import

#: The oldest CatBoost this package supports.
MIN_VERSION = "1.2.8"

with try_import("catboost", min_version=MIN_VERSION, extra="catboost") as _imports:
    import catboost as cb

__all__ = ["Pool", "attach", "pool_side", "as_pool", "check_pool", "pool_weight", "MIN_VERSION"]


def Pool(
    data: Any, label: Any = None, *, std: Any = None, mean: Any = None, dates: Any = None, **kwargs: Any
) -> cb.Pool:
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
        raise ValueError(
            "baseline is not supported: czar_gbdt.catboost.fit() starts from the loss's constant minimiser."
        )
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


def attach(pool: cb.Pool, *, dates: Any = None) -> cb.Pool:
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


def pool_side(pool: cb.Pool) -> _ad.SideData:
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


def as_pool(data: Any, what: str) -> cb.Pool:
    if isinstance(data, cb.Pool):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return Pool(data[0], data[1])
    raise ValueError(
        f"{what} must be a catboost.Pool (czar_gbdt.catboost.Pool) or an (X, y) pair; got {type(data).__name__}."
    )


def check_pool(pool: cb.Pool, loss, what: str) -> _ad.SideData:
    side = pool_side(pool)
    if loss.kind == "binary" and side.extra.get("standardised"):
        raise ValueError(
            f"{what} was standardised with std/mean, but {loss!r} takes 0/1 labels: build it without std/mean."
        )
    if loss.requires_std and not side.extra.get("standardised"):
        raise ValueError(
            f"std is required by {loss!r} but {what} has none: build it with "
            "czar_gbdt.catboost.Pool(X, y, std=..., mean=...)."
        )
    return side


def pool_weight(pool: cb.Pool) -> np.ndarray | None:
    weight = np.asarray(pool.get_weight(), dtype=np.float64)
    return None if weight.size == 0 or np.all(weight == 1.0) else weight

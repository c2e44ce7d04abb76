"""LightGBM Datasets with their side data, and the constant init score :func:`czar_gbdt.lightgbm.train`
sets on them (LightGBM starts a custom objective from 0)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _adapters as _ad
from .._imports import try_import
from .backend import BACKEND, BELOW_VERSION, DOC, MIN_VERSION, constructed

with try_import("lightgbm", min_version=MIN_VERSION, below_version=BELOW_VERSION):
    import lightgbm as lgb

__all__ = ["Dataset", "attach", "set_init_score", "INIT_KEY"]

#: The key of the side data's ``extra`` that holds the init score set by :func:`set_init_score`
#: (``None`` once a cached Dataset is handed to a new training).
INIT_KEY = "lightgbm_init_score"


@_ad.fill_doc("dataset", **DOC, kwargs="``weight=``, ``reference=``, ``params=``, ...")
def Dataset(
    data: Any, label: Any = None, *, std: Any = None, mean: Any = None, dates: Any = None, **kwargs: Any
) -> lgb.Dataset:
    """A ``lightgbm.Dataset`` with per-row ``std``, ``mean`` and ``dates`` attached.

    LightGBM constructs it lazily; its labels, weights and init score are read from the
    raw inputs until then.
    """
    return BACKEND.make_dataset(data, label, std=std, mean=mean, dates=dates, **kwargs)


@_ad.fill_doc("attach", **DOC)
def attach(dataset: lgb.Dataset, *, std: Any = None, mean: Any = None, dates: Any = None) -> lgb.Dataset:
    """Attach per-row ``std``/``mean``/``dates`` to an existing ``lightgbm.Dataset``."""
    return BACKEND.attach_side(dataset, std=std, mean=mean, dates=dates)


def set_init_score(dataset: lgb.Dataset, value: float) -> None:
    """Set a constant init_score on ``dataset`` (refusing to overwrite a user's own)."""
    side = _ad.side_of(dataset)
    current = dataset.get_init_score() if (dataset.init_score is not None or constructed(dataset)) else None
    ours = side is not None and INIT_KEY in side.extra
    if current is not None and np.size(current) and not ours:
        raise ValueError(
            "the Dataset already has an init_score; train() sets it from the loss. "
            "Build the Dataset without init_score."
        )
    n = BACKEND.rows(dataset)
    dataset.set_init_score(np.full(n, value))
    if side is None:
        side = _ad.SideData(n, None, None, None)
        _ad.attach(dataset, side)
    side.extra[INIT_KEY] = value

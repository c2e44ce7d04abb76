"""Partition plumbing of the Dask modules: the optional imports, the client, the losses a cluster
trains, and the partitions of dask collections as delayed objects, aligned with the labels."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _adapters as _ad
from .._imports import try_import
from ..losses import BaseLoss

with try_import("dask", min_version="2026.8", extra="dask", module="czar_gbdt.dask") as _imports:
    import distributed

with try_import("xgboost", min_version="3.1", extra="xgboost", module="czar_gbdt.dask") as _xgb_imports:
    import xgboost  # noqa: F401 - checked by check_imports("xgboost")

with try_import("lightgbm", min_version="4.7", below_version="5", module="czar_gbdt.dask") as _lgb_imports:
    import lightgbm  # noqa: F401 - checked by check_imports("lightgbm")

__all__ = [
    "BACKENDS",
    "MEAN_COLUMN",
    "STD_COLUMN",
    "aligned",
    "as_array",
    "check_imports",
    "check_loss",
    "get_client",
    "is_dask",
    "partitions",
    "worker_threads",
]


#: The backends with a Dask interface (CatBoost has none).
BACKENDS = ("xgboost", "lightgbm")

#: Column of the feature frame that carries ``std`` to LightGBM's workers.
STD_COLUMN = "__czar_gbdt_std__"
#: Column of the feature frame that carries ``mean`` to LightGBM's workers.
MEAN_COLUMN = "__czar_gbdt_mean__"


def check_imports(backend: str | None = None) -> None:
    """Raise the deferred ImportError of dask/distributed (and of ``backend``), and refuse a backend without Dask."""
    _imports.check()
    if backend is None:
        return
    if backend not in BACKENDS:
        raise ValueError(
            f"backend must be one of {BACKENDS} on a Dask cluster (CatBoost has no Dask interface); got {backend!r}."
        )
    (_xgb_imports if backend == "xgboost" else _lgb_imports).check()


def get_client(client: Any) -> distributed.Client:
    check_imports()
    if client is not None:
        return client
    try:
        return distributed.default_client()
    except ValueError:
        raise ValueError("no Dask client: pass client= or create a distributed.Client first.") from None


def check_loss(loss: Any, backend: str = "") -> BaseLoss:
    """The loss instance of ``loss``, refused when it cannot train on a cluster.

    A loss that couples rows (the soft-F1 composite: whole-dataset counts) would get
    wrong gradients from workers that see only their own rows; a scheduled loss needs the
    boosting round on every worker. Both raise ``ValueError`` naming the loss.
    """
    loss = _ad.as_loss(loss)
    where = f" on Dask {backend}" if backend else " on a Dask cluster"
    if not loss.elementwise:
        raise ValueError(
            f"{loss!r} cannot train{where}: its gradients need whole-dataset counts, and each worker "
            "sees only its own rows; train it in memory (czar_gbdt.xgboost/lightgbm) or use an "
            "element-wise loss."
        )
    if loss.scheduled:
        raise ValueError(
            f"{loss!r} changes with the boosting round, which is not passed to the objectives of the "
            f"workers{where}; train it in memory or use one of its parts."
        )
    return loss


def worker_threads() -> int:
    """The thread count of the Dask worker running the caller (1 outside a worker)."""
    try:
        return max(1, int(distributed.get_worker().state.nthreads))
    except (ValueError, AttributeError):
        return 1


def is_dask(x: Any) -> bool:
    return x is not None and hasattr(x, "to_delayed") and hasattr(x, "npartitions")


def partitions(name: str, x: Any, n_parts: int | None) -> list:
    """The partitions of a dask Series/DataFrame/1-d Array as delayed objects, checked in number."""
    if not is_dask(x):
        raise ValueError(
            f"{name} must be a dask Series or 1-dimensional dask Array partitioned like the labels; "
            f"got {type(x).__name__}."
        )
    parts = x.to_delayed()
    parts = list(np.ravel(parts)) if isinstance(parts, np.ndarray) else list(parts)
    if n_parts is not None and len(parts) != n_parts:
        raise ValueError(
            f"{name} has {len(parts)} partitions but the labels have {n_parts}; build it from the same "
            "dask DataFrame as the labels (same partitions)."
        )
    return parts


def aligned(y: Any, **side: Any) -> list[tuple]:
    """``(y, std, mean, weight)`` partition by partition (None where not given)."""
    ys = partitions("y", y, None)
    cols = {k: (partitions(k, v, len(ys)) if v is not None else [None] * len(ys)) for k, v in side.items()}
    return list(zip(ys, *cols.values()))


def as_array(part: Any) -> np.ndarray | None:
    if part is None:
        return None
    return np.ascontiguousarray(np.asarray(part, dtype=np.float64).reshape(-1))

"""Side data: the per-row ``std``, ``mean`` and ``dates`` of one dataset, and where it is kept.

:class:`SideData` is validated once (length, ``std > 0`` and finite). A registry
attaches it to a backend dataset object (``xgboost.DMatrix``, ``lightgbm.Dataset``,
``catboost.Pool``) without modifying it, holding the dataset weakly: objectives and
metrics look the side data up from the dataset they are handed, so each eval set is
scored with its own ``std``. Side data reaches a computation from exactly one place:
attached to the dataset, or bound to the objective/metric by position; giving a field
in both places is an error (:func:`merge_sides`).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from .._validation import first_bad

__all__ = [
    "SideData",
    "make_side",
    "check_side_rows",
    "attach",
    "side_of",
    "merge_sides",
    "required_error",
    "as_labels",
    "require_label",
]


class SideData:
    """Per-row ``std``, ``mean`` and ``dates`` of one dataset (validated).

    ``std`` and ``mean`` are float64 arrays of length ``n``, 0-d arrays (scalars) or None.
    ``extra`` holds backend bookkeeping (for example the init score an adapter set).
    """

    __slots__ = ("n", "std", "mean", "dates", "extra", "_groups", "__weakref__")

    def __init__(self, n: int, std: np.ndarray | None, mean: np.ndarray | None, dates: Any):
        self.n = n
        self.std = std
        self.mean = mean
        self.dates = dates
        self.extra: dict[str, Any] = {}
        self._groups = None

    @property
    def groups(self):
        """The rows grouped by date (``czar_gbdt.metrics.group_dates``), built once."""
        if self._groups is None:
            from ..metrics import group_dates

            self._groups = group_dates(self.dates)
        return self._groups

    def copy_dates(self, other: SideData) -> None:
        """Take the dates of ``other`` (validated side data of the same rows), and their grouping."""
        self.dates, self._groups = other.dates, other._groups

    def __repr__(self) -> str:
        parts = [f"n={self.n}"]
        for name in ("std", "mean", "dates"):
            if getattr(self, name) is not None:
                parts.append(name)
        return f"SideData({', '.join(parts)})"


def _float_rows(name: str, values: Any, n: int | None, where: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim == 0:
        return arr.copy()  # a scalar stays 0-d: the loss layer broadcasts it
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a scalar or 1-dimensional; got shape {arr.shape}.")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} values but {where} {n} rows.")
    return np.ascontiguousarray(arr)


def make_side(
    n: int | None,
    *,
    std: Any = None,
    mean: Any = None,
    dates: Any = None,
    where: str = "the training labels have",
    prefix: str = "",
) -> SideData | None:
    """Validate side data for ``n`` rows (``n=None``: lengths checked later).

    Scalars ``std``/``mean`` are kept as 0-d arrays.

    Returns None when nothing is given. ``prefix`` is put before the argument
    names in messages (``"eval_std"``-style names of the sklearn helpers).
    """
    if std is None and mean is None and dates is None:
        return None
    std_a = mean_a = dates_a = None
    if std is not None:
        std_a = _float_rows(prefix + "std", std, n, where)
        first_bad(prefix + "std", std_a, np.isfinite(std_a) & (std_a > 0), "finite and > 0")
    if mean is not None:
        mean_a = _float_rows(prefix + "mean", mean, n, where)
        first_bad(prefix + "mean", mean_a, np.isfinite(mean_a), "finite")
    if dates is not None:
        if hasattr(dates, "offsets") and hasattr(dates, "n_samples"):  # a metrics.DateGroups
            m = dates.n_samples
        else:
            dates = np.asarray(dates)
            if dates.ndim != 1:
                raise ValueError(f"{prefix}dates must be 1-dimensional; got shape {dates.shape}.")
            m = dates.shape[0]
        if n is not None and m != n:
            raise ValueError(f"{prefix}dates has {m} values but {where} {n} rows.")
        dates_a = dates
    rows = n
    if rows is None:
        lengths = [a.shape[0] for a in (std_a, mean_a) if a is not None and a.ndim == 1]
        if dates_a is not None:
            lengths.append(m)
        if len(set(lengths)) > 1:
            raise ValueError(f"{prefix}std, {prefix}mean and {prefix}dates must have the same length; got {lengths}.")
        rows = lengths[0] if lengths else None
    side = SideData(rows, std_a, mean_a, dates_a)
    if dates_a is not None and hasattr(dates_a, "offsets"):
        side._groups = dates_a
    return side


def check_side_rows(side: SideData, n: int, where: str, prefix: str = "") -> None:
    """Raise unless the per-row arrays of ``side`` (bound without a length) fit ``n`` rows."""
    for name in ("std", "mean"):
        arr = getattr(side, name)
        if arr is not None and arr.ndim == 1 and arr.shape[0] != n:
            raise ValueError(f"{prefix}{name} has {arr.shape[0]} values but {where} {n} rows.")
    if side.dates is not None:
        m = side.dates.n_samples if hasattr(side.dates, "offsets") else len(side.dates)
        if m != n:
            raise ValueError(f"{prefix}dates has {m} values but {where} {n} rows.")


# id(dataset) -> (weak reference to it, its side data)
_REGISTRY: dict[int, tuple[weakref.ref, SideData]] = {}


def _forget(key: int, ref: weakref.ref) -> None:
    entry = _REGISTRY.get(key)
    if entry is not None and entry[0] is ref:
        del _REGISTRY[key]


def attach(data: Any, side: SideData | None) -> None:
    """Attach ``side`` to the dataset object ``data`` (replacing earlier side data).

    The dataset is not modified and is held weakly: the entry disappears with it.
    """
    key = id(data)
    if side is None:
        _REGISTRY.pop(key, None)
        return
    ref = weakref.ref(data, lambda r, key=key: _forget(key, r))
    _REGISTRY[key] = (ref, side)


def side_of(data: Any) -> SideData | None:
    """The side data attached to ``data``, or None."""
    entry = _REGISTRY.get(id(data))
    if entry is None or entry[0]() is not data:
        return None
    return entry[1]


_FIELDS = ("std", "mean", "dates")


def merge_sides(attached: SideData | None, bound: SideData | None, bound_to: str, attached_to: str) -> SideData | None:
    """Side data from the dataset and from the bound arrays; each field from one place only."""
    if bound is None:
        return attached
    if attached is None or all(getattr(attached, f) is None for f in _FIELDS):
        return bound
    clash = [f for f in _FIELDS if getattr(attached, f) is not None and getattr(bound, f) is not None]
    if clash:
        raise ValueError(
            f"{'/'.join(clash)} were given both to {bound_to} and attached to {attached_to}; give them in one place."
        )
    key = ("merged", id(bound))
    merged = attached.extra.get(key)
    if merged is None or merged[0] is not bound:
        side = SideData(
            attached.n,
            *(getattr(attached, f) if getattr(attached, f) is not None else getattr(bound, f) for f in _FIELDS),
        )
        merged = (bound, side)
        attached.extra[key] = merged
    return merged[1]


def required_error(what: str, name: str, hint: str) -> ValueError:
    """The error for side data ``name`` that ``what`` needs and did not get (``hint``: where to give it;
    ``{name}`` in it becomes ``name``, so that one hint serves ``std`` and ``dates``)."""
    return ValueError(f"{name} is required by {what} but {hint.replace('{name}', name)}.")


def as_labels(y: Any, name: str = "label") -> np.ndarray:
    """Training labels as a contiguous float64 vector (one target, not empty, numeric)."""
    if y is None:
        raise ValueError(f"the training data has no labels ({name}=None): build it with labels.")
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional (one target); got shape {arr.shape}.")
    if arr.shape[0] == 0:
        raise ValueError(f"the training data has no labels ({name} is empty).")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}.")
    return np.ascontiguousarray(arr, dtype=np.float64)


def require_label(label: Any) -> None:
    """Raise unless a dataset is built with labels (every objective and metric needs them)."""
    if label is None:
        raise ValueError("label is required: objectives and metrics need the targets of every dataset.")

"""The parameter text the metric docstrings share, filled in by :func:`fill_doc`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

_DOC_Y = """y_true : array-like of shape (n_samples,)
        Realised target (for example the forward return).
    y_pred : array-like of shape (n_samples,)
        Prediction; only its order within a date matters for rank metrics."""

_DOC_DATES = """dates : array-like of shape (n_samples,), DateGroups or None, default=None
        Date of each row (any sortable labels: datetimes, integers, ISO
        strings); rows need not be sorted. A :class:`DateGroups` from
        :func:`group_dates` skips the grouping step. ``None`` treats the rows
        as one series (single asset): the result has one "date" labelled
        ``"all"``."""

_DOC_PARAMS = """Parameters
    ----------
    {y}
    {dates}"""

_DOC_MEAN = """{params}

    Returns
    -------
    float
        The per-date correlations averaged over the dates used (``ICResult.mean``)."""


def fill_doc(func: _F) -> _F:
    """Fill ``{y}``, ``{dates}``, ``{params}`` and ``{mean}`` in ``func``'s docstring; return ``func``."""
    # docstrings are absent under ``python -OO``
    if func.__doc__:
        func.__doc__ = (
            func.__doc__.replace("{mean}", _DOC_MEAN)
            .replace("{params}", _DOC_PARAMS)
            .replace("{y}", _DOC_Y)
            .replace("{dates}", _DOC_DATES)
        )
    return func

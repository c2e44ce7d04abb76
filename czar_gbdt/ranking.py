"""The backends' own learning-to-rank objectives, with one query group per date.

:class:`RankObjective` names a backend's ranking objective (lightgbm ``lambdarank``,
xgboost ``rank:pairwise``, catboost ``YetiRank`` ...); the walk-forward evaluation trains
it with each date as one query group (:func:`query_sizes`) and the target's quantile
grades within the date as labels (:func:`rank_labels`). It is the strongest built-in
competitor when rank IC is the target, which is why ``compare`` puts it beside CZAR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RANK_OBJECTIVES", "RankObjective", "rank_labels", "query_sizes"]

#: Learning-to-rank objectives per backend; the first is the default.
RANK_OBJECTIVES = {
    "lightgbm": ("lambdarank", "rank_xendcg"),
    "xgboost": ("rank:pairwise", "rank:ndcg"),
    "catboost": ("YetiRank", "PairLogit"),
}


def _check_bins(n_bins: Any) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2; got {n_bins!r}.")


@dataclass(frozen=True)
class RankObjective:
    """A backend's own learning-to-rank objective, each date one query group.

    The training labels are the target's quantile grades within each date
    (:func:`rank_labels`), so the model learns only the cross-sectional order, which is
    what rank IC scores. Its predictions are scores, not return forecasts.

    Parameters
    ----------
    objective : str, default=""
        One of :data:`RANK_OBJECTIVES` for the backend; "" is the backend's first
        (lightgbm ``lambdarank``, xgboost ``rank:pairwise``, catboost ``YetiRank``).
    n_bins : int, default=5
        Relevance grades per date, >= 2.

    Notes
    -----
    Defaults that make the listwise objectives score the whole cross-section rather than
    its top: lightgbm ``lambdarank_truncation_level`` = the largest date and linear
    ``label_gain``; xgboost pairs sampled over the whole list
    (``lambdarank_pair_method="mean"``, 8 pairs per row). A booster parameter of the
    same name overrides them. Sample weights are not used (the backends weight whole
    query groups, not rows).
    """

    objective: str = ""
    n_bins: int = 5

    def __post_init__(self) -> None:
        _check_bins(self.n_bins)
        known = {o for objs in RANK_OBJECTIVES.values() for o in objs}
        if self.objective and self.objective not in known:
            raise ValueError(
                f"objective must be one of {sorted(known)} (or '' for the backend's default); got {self.objective!r}."
            )

    name = "ranking"
    kind = "ranking"

    def resolve(self, backend: str) -> str:
        """The objective used on ``backend`` (the default when none is set)."""
        if backend not in RANK_OBJECTIVES:
            raise ValueError(f"backend must be one of {sorted(RANK_OBJECTIVES)}; got {backend!r}.")
        objective = self.objective or RANK_OBJECTIVES[backend][0]
        if objective not in RANK_OBJECTIVES[backend]:
            raise ValueError(
                f"objective {objective!r} is not a {backend} ranking objective; "
                f"{backend} has {list(RANK_OBJECTIVES[backend])}."
            )
        return objective

    def label(self, backend: str) -> str:
        """A display name such as ``lightgbm lambdarank (5 grades per date)``."""
        return f"{backend} {self.resolve(backend)} ({self.n_bins} grades per date)"


def rank_labels(y: Any, dates: Any, n_bins: int) -> np.ndarray:
    """Quantile grades 0 .. n_bins-1 of ``y`` within each date.

    A row's grade is ``floor(n_bins * (r - 0.5) / n)`` where ``r`` is its rank in its date
    (1 = lowest, ties averaged) and ``n`` the number of rows that date: each date's rows
    are spread evenly and symmetrically over the grades (the lowest row gets 0, the
    highest ``n_bins - 1``) whatever the scale of that date's returns.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Target, finite.
    dates : array-like of shape (n_samples,)
        Date of each row.
    n_bins : int
        Number of grades, >= 2.

    Returns
    -------
    ndarray of int32, shape (n_samples,)
    """
    _check_bins(n_bins)
    yv = np.asarray(y, dtype=np.float64)
    if len(dates) != len(yv):
        raise ValueError(f"dates has length {len(dates)} but y has length {len(yv)}.")
    if not np.isfinite(yv).all():
        raise ValueError(f"y has {int((~np.isfinite(yv)).sum())} non-finite values; grades need finite labels.")
    groups = pd.Series(yv).groupby(np.asarray(dates))
    rank = groups.rank(method="average").to_numpy()
    n = groups.transform("size").to_numpy(dtype=np.float64)
    return np.clip(np.floor(n_bins * (rank - 0.5) / n), 0, n_bins - 1).astype(np.int32)


def query_sizes(dates: Any) -> np.ndarray:
    """Rows per query group, one group per date, for date-sorted rows (lightgbm's ``group``).

    Raises
    ------
    ValueError
        If the rows are not sorted by date (a date would be split into several groups).
    """
    codes, uniques = pd.factorize(np.asarray(dates))
    if len(codes) and (np.diff(codes) < 0).any():
        raise ValueError("dates must be sorted (each date's rows contiguous) to form one query group per date.")
    return np.bincount(codes, minlength=len(uniques)).astype(np.int64)

"""What a comparison holds: one :class:`Member` per trained model and the :class:`ComparisonResult`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..evaluation import WalkForwardResult

__all__ = ["Member", "ComparisonResult"]


@dataclass
class Member:
    """One compared model: its spec, display label, walk-forward result and a note.

    ``kind`` is ``"forecast"`` (a return forecast: signs and losses are meaningful),
    ``"binary"`` (logits of a binary loss: signs only) or ``"score"`` (ranking objective,
    ensemble: only the order within a date is). ``allora`` holds Allora's grade of its test
    forecasts (return forecasts only).
    """

    key: str
    label: str
    kind: str
    result: WalkForwardResult
    seconds: float = 0.0
    note: str = ""  # what the row took from a tuning study (``compare --study``), else ""
    #: Allora's scores of its test forecasts (:func:`czar_gbdt.evaluation.allora_of`); empty for scores
    allora: dict = field(default_factory=dict)


@dataclass
class ComparisonResult:
    """What :func:`~czar_gbdt.compare.compare_losses` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model, columns :data:`~czar_gbdt.compare.stats.TABLE_COLUMNS`.
    folds : pandas.DataFrame
        Long per-fold table: ``loss``, ``fold``, test window, ``rank_ic`` and the other
        fold scores.
    per_date : pandas.DataFrame
        Per-date rank IC, one column per model (test dates as the index).
    verdicts : list of str
        One sentence per CZAR model against the ranking objective and the built-in
        squared error, with the paired Newey-West t-stat.
    members : list of Member
        The models, in table order (their predictions are in ``member.result``).
    settings : dict
        Backend, booster parameters, evaluation losses, top_k, cost, study.
    files : list of str
        Files written by :func:`~czar_gbdt.compare.write_outputs`.
    """

    table: pd.DataFrame
    folds: pd.DataFrame
    per_date: pd.DataFrame
    verdicts: list
    members: list = field(repr=False)
    settings: dict = field(default_factory=dict)
    files: list = field(default_factory=list)

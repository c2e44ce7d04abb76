"""The statistics of a comparison: one table row per model, paired differences and verdicts.

Every t-statistic comes from :mod:`czar_gbdt.metrics` (:func:`~czar_gbdt.metrics.t_stat`,
:func:`~czar_gbdt.metrics.newey_west_t`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import metrics
from ..evaluation import ALLORA_COLUMNS
from .result import Member

__all__ = [
    "TABLE_COLUMNS",
    "CROSS_SECTION_COLUMNS",
    "T_THRESHOLD",
    "comparison_table",
    "verdicts",
    "versus",
    "verdict_word",
    "paired",
    "fold_table",
    "per_date_table",
]

#: Columns of :attr:`ComparisonResult.table`, in order (``vs_ranking`` and friends only
#: when a ranking objective is compared; the top-k columns only with a cross-section). The ``allora_*`` columns grade each model's test
#: forecasts (NaN and ``"n/a"`` for scores: the ranking objective, the ensemble).
TABLE_COLUMNS = (
    "loss",
    "mean_rank_ic",
    "icir",
    "t_stat",
    "t_stat_nw",
    "fold_rank_ic_std",
    "positive_folds",
    "fold_t",
    "directional_accuracy",
    "top_k_spread",
    "top_k_net_spread",
    "top_k_turnover",
    "test_czar_loss",
    "test_zptae_loss",
    *ALLORA_COLUMNS,
    "diff_vs_ranking",
    "t_vs_ranking",
    "folds_above_ranking",
    "vs_ranking",
    "n_dates",
    "n_folds",
    "seconds",
    "from_study",
)

#: Columns that need several assets per date (left out of a single series' table).
CROSS_SECTION_COLUMNS = ("top_k_spread", "top_k_net_spread", "top_k_turnover")

#: Significance threshold of the verdicts (|t| of the paired per-date difference, Newey-West).
T_THRESHOLD = 2.0


def _weighted(folds: pd.DataFrame, col: str, weight: str) -> float:
    if col not in folds:
        return math.nan
    v, w = folds[col].to_numpy(dtype=np.float64), folds[weight].to_numpy(dtype=np.float64)
    ok = np.isfinite(v)
    return float(np.average(v[ok], weights=w[ok])) if ok.any() and w[ok].sum() > 0 else math.nan


def _row(member: Member, lags: int) -> dict:
    r, f = member.result, member.result.folds
    fold_ic = f["rank_ic"].to_numpy(dtype=np.float64)
    top_w = "top_k_dates" if "top_k_dates" in f else "n_dates"
    return {
        "loss": member.label,
        "mean_rank_ic": r.mean_rank_ic,
        "icir": r.icir,
        "t_stat": r.t_stat,
        "t_stat_nw": metrics.newey_west_t(r.per_date.to_numpy(), lags),
        "fold_rank_ic_std": float(np.nanstd(fold_ic, ddof=1)) if len(fold_ic) > 1 else math.nan,
        "positive_folds": int((fold_ic > 0).sum()),
        "fold_t": metrics.t_stat(fold_ic),
        # the sign of a return forecast against the raw target's, as every command scores it; a score
        # (ranking objective, ensemble) has no sign to read
        "directional_accuracy": math.nan if member.kind == "score" else _weighted(f, "directional_accuracy", "n_rows"),
        "top_k_spread": _weighted(f, "top_k_spread", top_w),
        "top_k_net_spread": _weighted(f, "top_k_net_spread", top_w),
        "top_k_turnover": _weighted(f, "top_k_turnover", top_w),
        "test_czar_loss": _weighted(f, "test_czar_loss", "n_rows"),
        "test_zptae_loss": _weighted(f, "test_zptae_loss", "n_rows"),
        **{
            k: member.allora.get(k, "n/a" if k in ("allora_grade", "allora_scope") else math.nan)
            for k in ALLORA_COLUMNS
        },
        "n_dates": int(r.per_date.notna().sum()),
        "n_folds": len(f),
        "seconds": member.seconds,
        "from_study": member.note,
    }


def versus(member: Member, other: Member, lags: int) -> tuple[float, float, int]:
    """Mean per-date rank IC difference, its Newey-West t-stat, and the folds where ``member`` is higher."""
    a, b = member.result.per_date, other.result.per_date
    if not a.index.equals(b.index):
        raise ValueError("the two models were scored on different test dates; they cannot be paired.")
    d = a.to_numpy(dtype=np.float64) - b.to_numpy(dtype=np.float64)
    higher = int((member.result.folds["rank_ic"].to_numpy() > other.result.folds["rank_ic"].to_numpy()).sum())
    return float(np.nanmean(d)), metrics.newey_west_t(d, lags), higher


def verdict_word(diff: float, t: float, means: tuple[float, float] | None = None, where: str = "the test dates") -> str:
    """The verdict on a mean difference ``diff`` with paired t-stat ``t``: "beats it" only with t >= 2.

    ``means`` are the two models' mean rank ICs: when both are negative, neither model
    forecasts ``where`` (the test dates, the holdout), and a difference between two
    wrong-signed forecasts is no win: the verdict says so instead of comparing them.
    """
    if not math.isfinite(diff):
        return "n/a"
    if means is not None and all(math.isfinite(m) and m < 0 for m in means):
        return f"neither forecasts {where} (both rank ICs negative)"
    if diff > 0 and t >= T_THRESHOLD:
        return "beats it"
    if diff > 0:
        return f"higher, not significant (|t| < {T_THRESHOLD:g})"
    if t <= -T_THRESHOLD:
        return "does NOT beat it (significantly lower)"
    return "does NOT beat it"


def _means(member: Member, other: Member) -> tuple[float, float]:
    return member.result.mean_rank_ic, other.result.mean_rank_ic


def paired(member: Member, references: list[Member], lags: int, where: str = "the holdout") -> list[dict]:
    """``member`` against each of ``references`` on the paired per-date rank IC difference: one dict per
    reference with ``model``, ``baseline``, ``diff`` (mean difference), ``t_nw`` (its Newey-West
    t-stat, ``lags`` lags) and ``verdict`` (:func:`verdict_word` on ``where``: "beats it" only with
    t >= 2, "neither forecasts ..." when both rank ICs are negative)."""
    out = []
    for ref in references:
        diff, t, _ = versus(member, ref, lags)
        out.append(
            {
                "model": member.label,
                "baseline": ref.label,
                "diff": diff,
                "t_nw": t,
                "verdict": verdict_word(diff, t, _means(member, ref), where),
            }
        )
    return out


def verdicts(members: list[Member], lags: int) -> list[str]:
    """One sentence per CZAR model against the ranking objective and the built-in squared error."""
    refs = [m for m in members if m.key.startswith("ranking")] + [m for m in members if m.key == "builtin"]
    out = []
    for m in members:
        if not (m.key == "study" or m.key.split(":")[0] == "czar"):
            continue
        for ref in refs:
            diff, t, higher = versus(m, ref, lags)
            out.append(
                f"{m.label} vs {ref.label}: mean Rank IC {m.result.mean_rank_ic:.4f} vs "
                f"{ref.result.mean_rank_ic:.4f}, difference {diff:+.4f} (paired t {t:+.2f}, Newey-West "
                f"{lags} lags; "
                f"higher in {higher} of {len(m.result.folds)} folds): {verdict_word(diff, t, _means(m, ref))}."
            )
    return out


def comparison_table(members: list[Member], lags: int) -> pd.DataFrame:
    """One row per model, columns :data:`TABLE_COLUMNS` (the ranking columns when one is compared)."""
    rows = [_row(m, lags) for m in members]
    ranking = next((m for m in members if m.key.startswith("ranking")), None)
    for m, row in zip(members, rows):
        if ranking is None:
            continue
        if m is ranking:
            row.update(diff_vs_ranking=0.0, t_vs_ranking=math.nan, folds_above_ranking=0, vs_ranking="(reference)")
            continue
        diff, t, higher = versus(m, ranking, lags)
        row.update(
            diff_vs_ranking=diff,
            t_vs_ranking=t,
            folds_above_ranking=higher,
            vs_ranking=verdict_word(diff, t, _means(m, ranking)),
        )
    table = pd.DataFrame(rows)
    return table[[c for c in TABLE_COLUMNS if c in table]]


def fold_table(members: list[Member]) -> pd.DataFrame:
    """The members' per-fold tables, one below the other, with a ``loss`` column first."""
    frames = []
    for m in members:
        f = m.result.folds.copy()
        f.insert(0, "loss", m.label)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def per_date_table(members: list[Member]) -> pd.DataFrame:
    """Per-date rank IC per model; a date in two overlapping test windows keeps its mean."""
    cols = {m.label: m.result.per_date.groupby(level=0).mean() for m in members}
    frame = pd.DataFrame(cols)
    frame.index.name = "date"
    return frame

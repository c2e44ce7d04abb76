"""The figures of a comparison: Rank IC per fold, cumulative Rank IC, and the table as a figure.

Figures are built on ``matplotlib.figure.Figure`` (no pyplot), so they work in scripts,
in notebooks (pass ``ax=``) and on machines without a display.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import allora
from .result import ComparisonResult

__all__ = ["SHOWN", "allora_text", "formatted_table", "plot_fold_rank_ic", "plot_cumulative_rank_ic", "plot_table"]

#: Columns shown in the printed table and the table figure, with their headers.
SHOWN = {
    "loss": "loss",
    "mean_rank_ic": "Rank IC",
    "icir": "ICIR",
    "t_stat": "t",
    "t_stat_nw": "t (NW)",
    "fold_rank_ic_std": "fold sd",
    "positive_folds": "folds > 0",
    "directional_accuracy": "dir. acc.",
    "top_k_net_spread": "top-k net",
    "test_czar_loss": "CZAR loss",
    "test_zptae_loss": "ZPTAE loss",
    "allora_grade": "Allora",
    "vs_ranking": "vs ranking",
}


def allora_text(row: Any) -> str:
    """A model's Allora grade for a table: ``"B+ (5/7)"`` for one series, ``"C (3.2/7, mean of 49
    assets)"`` for a panel (each asset graded on its own series), ``"n/a"`` for scores.

    A row stored with the former eight-point table is shown re-graded
    (:func:`czar_gbdt.allora.allora_regrade`)."""
    row = allora.allora_regrade(dict(row))
    grade, points, scope = row.get("allora_grade"), row.get("allora_points"), row.get("allora_scope")
    if not isinstance(grade, str) or grade == "n/a" or not np.isfinite(points):
        return "n/a"
    if scope == "series":
        return f"{grade} ({int(points)}/{allora.MAX_POINTS})"
    return f"{grade} ({points:.1f}/{allora.MAX_POINTS}, {scope})"


def _axes(ax, figsize: tuple[float, float]):
    """``ax`` or a new Agg-backed figure's axes (no pyplot: works in scripts and notebooks)."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _line_style(label: str) -> str:
    """Dashed for the ensemble, solid for the trained models."""
    return "--" if label.startswith("rank-average") else "-"


def _finish(ax, xlabel: str, ylabel: str, title: str) -> None:
    """The zero line, labels, title, legend under the plot and a light grid."""
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    ax.grid(alpha=0.3)


def plot_fold_rank_ic(result: ComparisonResult, ax=None):
    """Mean Rank IC of each test fold, one line per model; returns the figure."""
    fig, ax = _axes(ax, (10, 5.5))
    for label, f in result.folds.groupby("loss", sort=False):
        start = f["test_start"] if pd.api.types.is_numeric_dtype(f["test_start"]) else pd.to_datetime(f["test_start"])
        ax.plot(start, f["rank_ic"], marker="o", lw=1.2, ms=4, label=label, ls=_line_style(label))
    _finish(ax, "test window start", "mean Rank IC in the fold", "Rank IC per walk-forward fold")
    return fig


def plot_cumulative_rank_ic(
    result: ComparisonResult, ax=None, *, title: str = "Cumulative Rank IC over the test dates"
):
    """Cumulative sum of the per-date Rank IC over the test dates, one line per model.

    For the time-series rank IC (``result.settings["rank_ic"]``), the per-date values are
    the terms whose mean over a window is its rank IC (:func:`czar_gbdt.metrics.ts_rank_ic_by_date`).
    """
    fig, ax = _axes(ax, (10, 5.5))
    for label in result.per_date:
        s = result.per_date[label].fillna(0.0).cumsum()
        ax.plot(s.index, s.to_numpy(), lw=1.2, label=label, ls=_line_style(label))
    series = result.settings.get("rank_ic") == "time-series"
    _finish(ax, "test date", "cumulative time-series Rank IC terms" if series else "cumulative Rank IC", title)
    return fig


def formatted_table(table: pd.DataFrame) -> pd.DataFrame:
    """The :data:`SHOWN` columns of a comparison table as text, with their display headers."""
    out = table[[c for c in SHOWN if c in table]].copy()
    for col in out:
        if col in ("loss", "vs_ranking"):
            continue
        if col == "allora_grade":
            out[col] = [allora_text(row) for _, row in table.iterrows()]
            continue
        if col == "positive_folds":
            out[col] = [f"{p}/{n}" for p, n in zip(table["positive_folds"], table["n_folds"])]
        elif col == "top_k_net_spread":
            out[col] = [f"{v * 1e4:.1f} bp" if np.isfinite(v) else "n/a" for v in table[col]]
        else:
            digits = 2 if col in ("t_stat", "t_stat_nw") else 4
            out[col] = [f"{v:.{digits}f}" if np.isfinite(v) else "n/a" for v in table[col]]
    return out.rename(columns=SHOWN)


def plot_table(result: ComparisonResult):
    """The comparison table as a figure (for the PNG next to the CSV)."""
    from matplotlib.figure import Figure

    shown = formatted_table(result.table)
    fig = Figure(figsize=(16, 0.3 * (len(shown) + 1) + 0.5))
    ax = fig.add_subplot()
    ax.axis("off")
    tab = ax.table(cellText=shown.to_numpy(), colLabels=list(shown.columns), loc="center", cellLoc="right")
    tab.auto_set_font_size(False)
    tab.set_fontsize(7.5)
    tab.auto_set_column_width(list(range(shown.shape[1])))
    for (r, c), cell in tab.get_celld().items():
        if c == 0:
            cell.set_text_props(ha="left")
        if r == 0:
            cell.set_text_props(weight="bold")
    s = result.settings
    ax.set_title(
        f"{s.get('backend')} on {s.get('data')}: top-k net of {s.get('cost')} per unit turnover, "
        f"losses {s.get('czar_eval')}, {s.get('zptae_eval')}",
        fontsize=8,
    )
    return fig

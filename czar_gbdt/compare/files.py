"""The outputs of a comparison: CSV tables and PNG figures on disk, and the printed table."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from .._files import dumps
from ..datasets import periods_shown
from .plots import formatted_table, plot_cumulative_rank_ic, plot_fold_rank_ic, plot_table
from .result import ComparisonResult
from .stats import T_THRESHOLD

__all__ = ["write_outputs", "print_comparison", "save_figure"]


def save_figure(fig, path: Path) -> None:
    """Save a figure as the comparison's PNG files are saved."""
    fig.savefig(path, dpi=120, bbox_inches="tight")


def write_outputs(result: ComparisonResult, out: str | Path) -> list[str]:
    """Write the tables (CSV) and figures (PNG) into ``out``; returns and records the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result_in = result  # the files show period numbers for a table read with data.wide.dates = "periods"
    result = dataclasses.replace(result, per_date=periods_shown(result.per_date), folds=periods_shown(result.folds))
    files = {
        "compare.csv": lambda p: result.table.to_csv(p, index=False),
        "compare_folds.csv": lambda p: result.folds.to_csv(p, index=False),
        "compare_rank_ic.csv": lambda p: result.per_date.to_csv(p),
        "compare_table.png": lambda p: save_figure(plot_table(result), p),
        "compare_fold_rank_ic.png": lambda p: save_figure(plot_fold_rank_ic(result), p),
        "compare_cumulative_rank_ic.png": lambda p: save_figure(plot_cumulative_rank_ic(result), p),
    }
    written = []
    for name, save in files.items():
        save(out / name)
        written.append(str(out / name))
    result_in.files = written
    return written


def print_comparison(result: ComparisonResult, fmt: str = "table") -> None:
    """Print the table, the verdicts and the files written (or all of it as JSON)."""
    if fmt == "json":
        data = {"table": json.loads(result.table.to_json(orient="records")), "verdicts": result.verdicts,
                "settings": result.settings, "files": result.files}
        print(dumps(data))
        return
    print(formatted_table(result.table).to_string(index=False))
    s = result.settings
    ranking = "vs_ranking" in result.table
    top_k = "top_k_net_spread" in result.table
    print(f"\n{s['backend']}, {s['num_boost_round']} rounds, labels {s['target_transform']}; "
          f"{int(result.table['n_dates'].iloc[0])} test dates in {int(result.table['n_folds'].iloc[0])} folds. "
          f"Rank IC t = ICIR * sqrt(dates), t (NW) with Newey-West errors ({s['newey_west_lags']} lags: "
          f"overlapping labels); "
          + (f"'vs ranking' from the paired per-date difference (NW t, |t| >= {T_THRESHOLD:g} to count); "
             if ranking else "")
          + f"dir. acc. and losses against the {s['target_transform']} target "
          f"({s['czar_eval']}, {s['zptae_eval']}); "
          + (f"top-k: k = {s['top_k']}, cost {s['cost']} per unit turnover; " if top_k else "")
          + "Allora: the grade of the test forecasts, every window as one series (docs/allora.md; per asset, "
            "averaged, on a panel).")
    if s.get("scoring"):
        print(s["scoring"])
    if s.get("study"):
        print(s["study"])
    for v in result.verdicts:
        print(v)
    for f in result.files:
        print(f"  wrote {f}")

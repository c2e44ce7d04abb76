"""The outputs of a comparison: CSV tables and PNG figures on disk, and the printed table."""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
from pathlib import Path

import pandas as pd

from .._files import dumps
from ..datasets import periods_shown
from .plots import SHOWN, formatted_table, plot_cumulative_rank_ic, plot_fold_rank_ic, plot_table
from .result import ComparisonResult
from .stats import T_THRESHOLD

__all__ = ["write_outputs", "print_comparison", "save_figure", "text_table", "short_names", "legend", "TEXT_WIDTH"]

#: The printed tables of ``compare`` and ``report`` fit a terminal this wide.
TEXT_WIDTH = 120

#: Short headers of the printed table (the figure and the CSV keep the long names).
_TEXT_HEADERS = {
    "loss": "model",
    "mean_rank_ic": "rank IC",
    "t_stat_nw": "t NW",
    "positive_folds": "folds>0",
    "directional_accuracy": "dir raw",
    "top_k_net_spread": "top-k bp",
    "test_czar_loss": "CZAR",
    "test_zptae_loss": "ZPTAE",
    "vs_ranking": "vs rank",
}


def short_names(keys: list[str], width: int = 16) -> list[str]:
    """Short model names for a printed table: each model's spec (``czar:alpha=0.5``, ``builtin``,
    ``ensemble``) when it is at most ``width`` characters and unique, else ``m<row>``."""
    out = []
    for i, key in enumerate(keys):
        fits = len(key) <= width and keys.count(key) == 1 and not re.fullmatch(r"m\d+", key)
        out.append(key if fits else f"m{i + 1}")
    return out


def _short_verdict(verdict: str) -> str:
    """A verdict of :func:`~czar_gbdt.compare.stats.verdict_word` in a few characters (the legend says them)."""
    for start, short in (
        ("beats", "beats"),
        ("higher", "higher ns"),
        ("neither", "both < 0"),
        ("does NOT beat it (", "lower sig"),
        ("does NOT", "lower"),
        ("(reference)", "ref"),
    ):
        if verdict.startswith(start):
            return short
    return verdict


def text_table(table: pd.DataFrame, names: list[str]) -> str:
    """A comparison table as text at most :data:`TEXT_WIDTH` wide: ``names`` (:func:`short_names`)
    instead of the full model names, the top-k net spread in bp, the Allora grade without its scope
    and the verdicts in short words; :func:`legend` says what each stands for."""
    shown = formatted_table(table)
    width = max(len("model"), *map(len, names))
    shown.iloc[:, 0] = [n.ljust(width) for n in names]  # left-aligned, as the legend lists them
    if "top_k_net_spread" in table:
        shown[SHOWN["top_k_net_spread"]] = [s.removesuffix(" bp") for s in shown[SHOWN["top_k_net_spread"]]]
    if "allora_grade" in table:
        shown[SHOWN["allora_grade"]] = [re.sub(r", [^)]*\)$", ")", s) for s in shown[SHOWN["allora_grade"]]]
    if "vs_ranking" in table:
        shown[SHOWN["vs_ranking"]] = [_short_verdict(v) for v in shown[SHOWN["vs_ranking"]]]
    shown.columns = [_TEXT_HEADERS.get(col, SHOWN[col]) for col in SHOWN if col in table]
    shown = shown.rename(columns={"model": "model".ljust(width)})
    return shown.to_string(index=False, justify="right")


def legend(table: pd.DataFrame, names: list[str], *, transform: str, where: str) -> list[str]:
    """The lines under a :func:`text_table`: each short name's full model name, and what the columns hold."""
    lines = [f"  {n:<{max(map(len, names))}}  {full}" for n, full in zip(names, table["loss"])]
    scope = next((s for s in table.get("allora_scope", []) if isinstance(s, str) and s.startswith("mean of")), None)
    notes = [
        f"dir raw: the share of rows whose forecast has the sign of the raw target (not the {transform} labels)"
        if transform != "raw"
        else "dir raw: the share of rows whose forecast has the sign of the target"
    ]
    if "top_k_net_spread" in table:
        notes.append("top-k bp: the top-k long-short spread net of costs, in basis points of the target")
    if "test_czar_loss" in table:
        notes.append(f"CZAR, ZPTAE: the mean test loss against the {transform} labels")
    if scope:
        notes.append(f"Allora: the grade of the {where} forecasts and its points ({scope})")
    if "vs_ranking" in table:
        notes.append(
            f"vs rank: against the ranking objective, paired per date: 'beats' with NW t >= {T_THRESHOLD:g}, "
            "'higher ns' not significant, 'lower', 'lower sig', 'both < 0': neither forecasts"
        )
    return lines + [
        textwrap.fill(n + ".", width=TEXT_WIDTH, initial_indent="  ", subsequent_indent="    ") for n in notes
    ]


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
        data = {
            "table": json.loads(result.table.to_json(orient="records")),
            "verdicts": result.verdicts,
            "settings": result.settings,
            "files": result.files,
        }
        print(dumps(data))
        return
    names = short_names([m.key for m in result.members])
    print(text_table(result.table, names))
    s = result.settings
    for line in legend(result.table, names, transform=s["target_transform"], where="test"):
        print(line)
    top_k = "top_k_net_spread" in result.table
    print(
        textwrap.fill(
            f"{s['backend']}, {s['num_boost_round']} rounds, labels {s['target_transform']}; "
            f"{int(result.table['n_dates'].iloc[0])} test dates in {int(result.table['n_folds'].iloc[0])} folds. "
            f"t = ICIR * sqrt(dates), t NW with Newey-West errors ({s['newey_west_lags']} lags: overlapping labels); "
            + (f"top-k: k = {s['top_k']}, cost {s['cost']} per unit of turnover; " if top_k else "")
            + f"test losses {s['czar_eval']} and {s['zptae_eval']}; Allora: every test window graded as one series "
            "(docs/allora.md; per asset, averaged, on a panel).",
            width=TEXT_WIDTH,
        )
    )
    for line in (s.get("scoring"), s.get("study")):
        if line:
            print(textwrap.fill(line, width=TEXT_WIDTH, subsequent_indent="    "))
    for v in result.verdicts:
        print(textwrap.fill(v, width=TEXT_WIDTH, subsequent_indent="    "))
    for f in result.files:
        print(f"  wrote {f}")

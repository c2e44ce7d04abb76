"""What ``tune``, ``report`` and ``evaluate`` print and save: best parameters, per-fold table, holdout bake-off.

Files are written next to the study, in ``<runs_dir>/<study name>/``: ``best_params.json``,
``folds.csv`` (the best trial's walk-forward folds), after ``report`` ``holdout.json``,
``holdout_rank_ic.csv`` and ``holdout_cumulative_rank_ic.png`` (the single evaluation on
the final holdout period: the tuned model against the baselines of ``report.baselines``,
:func:`czar_gbdt.compare.holdout_bakeoff`), and after ``evaluate`` ``evaluate.csv``. The
holdout evaluation is also kept in the study itself (study user attribute ``holdout``: the
trial number, its result, the bake-off and the fingerprint of the configuration it was
scored with), so a later ``report`` prints the stored result instead of scoring the holdout
again, and says so when the configuration has changed since
(:data:`czar_gbdt.fingerprint.HOLDOUT_KEYS`).

Nothing is trained here: the holdout models come from :mod:`czar_gbdt.compare`, the
``evaluate`` table from :mod:`czar_gbdt.evaluation`, the study from :mod:`czar_gbdt.tuning`.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import numpy as np
import optuna
import pandas as pd

from . import cluster, compare, evaluation, fingerprint, selection
from ._files import dumps, write_json
from .compare.stats import verdict_word
from .config import Config, as_config
from .losses import get_loss
from .tuning import (
    FINISHED,
    best_trial,
    fixed_params,
    load_checked_study,
    output_dir,
    search_losses,
    storage_url,
    trial_folds,
    trial_terms,
)

__all__ = ["study_summary", "selection_bias", "report", "evaluate", "print_summary", "print_table", "HOLDOUT_ATTR"]

#: the study user attribute that records the holdout evaluation
HOLDOUT_ATTR = "holdout"


def study_summary(study: optuna.Study, cfg: Config | dict, *, storage: str | None = None) -> dict:
    """Best trial, its parameters and per-fold table; saved as JSON/CSV next to the study."""
    cfg = as_config(cfg)
    best = best_trial(study)
    if storage:
        cfg = cfg.with_value("study.storage", storage)
    params = fixed_params(best, cfg)
    folds = trial_folds(best)
    n_finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    summary = {
        "study": study.study_name,
        "storage": storage_url(cfg, create=False),
        "n_trials": n_finished,
        "objective": cfg.study.objective,
        "best_trial": best.number,
        "best_value": best.value,
        "best_params": params.to_dict(),
        "searched": sorted(best.params),  # which parameters the study searched (compare --study reads it)
        "walk_forward": {k: best.user_attrs.get(k) for k in ("mean_rank_ic", "icir", "t_stat", "n_dates", "n_folds")},
        "folds": folds,
        "book": evaluation.book(cfg),
    }
    how = evaluation.scoring(cfg, cluster.engine(cfg).load_data(cfg))  # cached: the data the command loaded
    summary.update(rank_ic_kind=how.rank_ic, scoring=how.describe())
    out = output_dir(cfg)
    write_json(out / "best_params.json", {k: v for k, v in summary.items() if k not in ("folds", "scoring")})
    if len(folds):
        folds.to_csv(out / "folds.csv", index=False)
    summary["files"] = [str(out / "best_params.json"), str(out / "folds.csv")]
    return summary


def selection_bias(study: optuna.Study, cfg: Config | dict, best: int) -> tuple[dict | None, list[str], str]:
    """The selection bias of the study's best trial (:func:`czar_gbdt.selection.selection_bias`).

    Returns ``(figures, files, why)``: the figures as written to ``selection.json``
    (``n_trials``, ``best_trial``, ``n_dates``, ``cscv_blocks``, ``pbo``, ``sr_best``, ``sr0``,
    ``dsr``) with ``trials_rank_ic.csv`` (the matrix they are computed from, so that anyone can
    recompute them), or ``(None, [], why)`` with one sentence saying why they are missing.
    """
    cfg = as_config(cfg)
    table, why = trial_terms(study, cfg)
    if table is None:
        return None, [], why
    blocks = cfg.report.cscv_blocks
    if len(table) < blocks:
        return None, [], (f"the trials share {len(table)} walk-forward dates, fewer than report.cscv_blocks = {blocks}")
    figures = selection.selection_bias(
        table.to_numpy(), list(table.columns).index(best), blocks=blocks, horizon=cfg.data.horizon
    )
    figures = {
        "n_trials": figures["n_trials"],
        "best_trial": best,
        **{k: figures[k] for k in ("n_dates", "cscv_blocks", "pbo", "sr_best", "sr0", "dsr")},
    }
    out = output_dir(cfg)
    write_json(out / "selection.json", figures)
    csv = table.copy()
    csv.index = [evaluation.iso_date(d) for d in csv.index]
    csv.index.name = "date"
    csv.to_csv(out / "trials_rank_ic.csv")
    return figures, [str(out / "selection.json"), str(out / "trials_rank_ic.csv")], ""


def report(cfg: Config | dict, *, storage: str | None = None, progress: Any = None, on_data: Any = None) -> dict:
    """Evaluate the best trial once on the final holdout period, which no trial has seen, against the baselines.

    The tuned model and each baseline of ``report.baselines`` are trained with the best
    trial's booster parameters on every date before the holdout (less the gap; the last
    ``valid_size`` of them for early stopping when configured) and scored on the holdout:
    :func:`czar_gbdt.compare.holdout_bakeoff`. The study is loaded, never created: a
    missing study or one without a completed trial raises
    :class:`~czar_gbdt.tuning.StudyError`.

    The evaluation is recorded in the study (user attribute ``holdout``: trial number, the
    tuned model's result, the bake-off, the fingerprint of the configuration, time). A
    later call does not score the holdout again: it returns the stored result with
    ``holdout_status = "stored"`` and a note naming the trial it belongs to, and says so
    explicitly when the best trial has changed since or when the configuration differs in
    what the bake-off depends on (:data:`czar_gbdt.fingerprint.HOLDOUT_KEYS`).

    Returns
    -------
    dict
        The :func:`study_summary`, and ``holdout`` (the tuned model's scores),
        ``holdout_trial``, ``holdout_status`` (``"evaluated"`` or ``"stored"``), ``bakeoff``
        (:func:`czar_gbdt.compare.holdout_record`, without its per-date series; None for a
        holdout scored before bake-offs were), ``note`` and ``files``.

    ``on_data``, if given, is called with the panel once the study has been found and the
    data loaded and checked (the command line prints the data line).
    """
    cfg = as_config(cfg)
    study, url = load_checked_study(cfg, storage, "report")
    panel = cluster.engine(cfg).prepare_data(cfg, search_losses(cfg))  # every data error before anything is written
    cfg = evaluation.resolve_config(cfg, panel)  # data.target_transform "auto" resolved on the data
    if on_data is not None:  # the command line says what was loaded, as every command does
        on_data(panel)
    summary = study_summary(study, cfg, storage=storage)
    summary["selection"], files, summary["selection_missing"] = selection_bias(study, cfg, summary["best_trial"])
    summary["files"] += files
    if not cfg.splits.holdout:
        summary["holdout"] = None
        summary["holdout_status"] = None
        summary["note"] = "splits.holdout = 0: there is no holdout period to evaluate."
        return summary
    out = output_dir(cfg)
    current = fingerprint.record(cfg, also=fingerprint.HOLDOUT_KEYS)
    stored = study.user_attrs.get(HOLDOUT_ATTR)
    if stored is not None:
        holdout, trial, record = stored["result"], stored["trial"], stored.get("bakeoff")
        summary.update(holdout=holdout, holdout_trial=trial, holdout_status="stored")
        note = (
            f"The holdout was already evaluated for trial #{trial} (on {stored.get('evaluated_at', '?')}); "
            f"this is that stored result, not a new evaluation: the holdout is scored once per study."
        )
        if trial != summary["best_trial"]:
            note += (
                f" The best trial has changed since: it is now #{summary['best_trial']}, not #{trial}, and "
                f"the holdout result above is trial #{trial}'s. Scoring #{summary['best_trial']} on the same "
                f"holdout would be choosing on it; keep it for a final check only."
            )
        if record is None:
            note += (
                " It was scored before `report` compared the tuned model with baselines, so this study has no "
                "holdout bake-off."
            )
            summary["note"] = note
            summary["bakeoff"] = None
            write_json(out / "holdout.json", {"trial": trial, **holdout})
            summary["files"] += [str(out / "holdout.json")]
            return summary
        record, regraded = compare.regrade_record(record)
        if regraded:
            note += " " + regraded
        diffs = fingerprint.record_differences(stored["fingerprint"], current)
        if diffs:
            note += (
                f" It was scored with another configuration than this one: {fingerprint.describe(diffs)}. It "
                f"is printed as it was scored, not scored again."
            )
        summary["note"] = note
    else:
        params = fixed_params(best_trial(study), cfg)  # the best trial's, as summary["best_params"] holds them
        result = compare.holdout_bakeoff(cfg, params, trial=summary["best_trial"], progress=progress)
        record = compare.holdout_record(result)
        holdout = json.loads(dumps(evaluation.holdout_scores(result.members[0].result)))  # what the storage keeps
        study.set_user_attr(
            HOLDOUT_ATTR,
            {
                "trial": summary["best_trial"],
                "result": holdout,
                "evaluated_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC"),
                "fingerprint": current,
                "bakeoff": record,
            },
        )
        summary.update(holdout=holdout, holdout_trial=summary["best_trial"], holdout_status="evaluated")
        summary["note"] = (
            f"The holdout period was evaluated once, now, with the parameters of best trial "
            f"#{summary['best_trial']}; no trial of the study has seen it. The result is stored in the "
            f"study: a later `report` prints it again instead of re-scoring."
        )
    summary["bakeoff"] = {k: v for k, v in record.items() if k != "per_date"}
    write_json(out / "holdout.json", {"trial": summary["holdout_trial"], **summary["bakeoff"]})
    summary["files"] += [str(out / "holdout.json"), *compare.write_holdout_files(record, out)]
    return summary


def evaluate(cfg: Config | dict, specs: list[tuple[str, dict]]) -> pd.DataFrame:
    """:func:`czar_gbdt.evaluation.evaluate_losses`, saved as ``evaluate.csv`` next to the study."""
    cfg = as_config(cfg)
    table = cluster.engine(cfg).evaluate_losses(cfg, specs)  # in this process or on a Dask cluster
    out = output_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "evaluate.csv", index=False)
    table.attrs.update(book=evaluation.book(cfg), files=[str(out / "evaluate.csv")])
    return table


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}" if np.isfinite(v) else "nan"
    return str(v)


def print_summary(summary: dict, fmt: str = "table") -> None:
    """Print a :func:`study_summary` or :func:`report` result as a table or as JSON."""
    if fmt == "json":
        data = {k: (v.to_dict(orient="records") if isinstance(v, pd.DataFrame) else v) for k, v in summary.items()}
        print(dumps(data))
        return
    p = summary["best_params"]
    print(
        f"study {summary['study']} ({summary['storage']}): {summary['n_trials']} finished trials; best trial "
        f"#{summary['best_trial']} {summary['objective']} = {_fmt(summary['best_value'])}"
    )
    print(f"  backend {p['backend']}, loss {_loss_text(p['loss'], p['loss_params'])}")
    print(
        f"  booster {p['booster']}, num_boost_round {p.get('num_boost_round')}, "
        f"early_stopping_rounds {p.get('early_stopping_rounds')}"
    )
    wf = summary["walk_forward"]
    print("  walk-forward: " + ", ".join(f"{k} {_fmt(v)}" for k, v in wf.items() if v is not None))
    folds = summary["folds"]
    if len(folds):
        cols = [
            c
            for c in dict.fromkeys(
                (
                    "fold",
                    "test_start",
                    "test_end",
                    "rounds",
                    "rank_ic",
                    "rank_icir",
                    "ic",
                    "directional_accuracy",
                    "top_k_net_spread",
                    summary["objective"],
                )
            )
            if c in folds
        ]
        print(_printed(folds[cols]).to_string(index=False, float_format=lambda x: f"{x:.4f}"))
        for line in _units(cols, summary.get("book")):
            print(line)
    if summary.get("scoring"):
        print(summary["scoring"])
    _print_selection(summary)
    if summary.get("holdout"):
        h = summary["holdout"]
        when = "stored result" if summary.get("holdout_status") == "stored" else "evaluated once, now"
        if summary.get("bakeoff"):
            _print_bakeoff(summary["bakeoff"], summary.get("holdout_trial"), when)
        else:
            print(
                f"holdout {h['start']} .. {h['end']}, trial #{summary.get('holdout_trial')} ({when}): "
                f"rank IC {_fmt(h['rank_ic'])}, ICIR {_fmt(h['rank_icir'])}, t {_fmt(h['rank_ic_t'])}, "
                f"IC {_fmt(h['ic'])}, directional accuracy {_fmt(h['directional_accuracy'])} (raw target)"
                + (f", top-k net spread {_bp(h['top_k_net_spread'])} bp" if "top_k_net_spread" in h else "")
            )
    if summary.get("note"):
        print(summary["note"])
    for f in summary.get("files", []):
        print(f"  wrote {f}")


def _print_selection(summary: dict) -> None:
    """The selection bias of the best trial in words, and a one-line verdict (``report`` only)."""
    if summary.get("selection_missing"):
        print(f"selection bias: not measured: {summary['selection_missing']}.")
        return
    sel = summary.get("selection")
    if not sel:
        return
    n, pbo, dsr = sel["n_trials"], sel["pbo"], sel["dsr"]
    print(
        f"  probability of backtest overfitting {pbo:.2f}: the best of {n} trials ranks below the median out of "
        f"sample in {pbo:.0%} of splits ({sel['cscv_blocks']} blocks of {sel['n_dates']} dates, half in-sample)"
    )
    if np.isfinite(dsr):
        print(
            f"  deflated: {dsr:.2f} probability that the best trial's rank IC is real after {n} trials (Sharpe "
            f"ratio per date {sel['sr_best']:.3f} against {sel['sr0']:.3f} expected from the best of {n} trials "
            f"of no skill)"
        )
    else:
        print("  deflated: not defined (too few independent dates for data.horizon, or an extreme kurtosis)")
    if pbo >= 0.5:
        verdict = (
            "the search overfits: the trial that is best in-sample is usually below the median out of sample; "
            "do not trust the best trial's walk-forward rank IC"
        )
    elif not dsr >= 0.95:
        verdict = (
            f"not significant after selection: the best trial's rank IC is within what the best of {n} "
            f"trials shows by chance"
        )
    else:
        verdict = f"the best trial's rank IC holds up after choosing it among {n} trials"
    print(f"  selection verdict: {verdict} (docs/tuning.md, selection bias).")


def _print_bakeoff(bakeoff: dict, trial: Any, when: str) -> None:
    """The holdout bake-off: one row per model, the paired verdicts against each baseline, and what a
    tuned model that does not beat its baselines means."""
    s = bakeoff["settings"]
    n = max((m.get("n_dates") or 0 for m in bakeoff["models"]), default=0)
    print(
        textwrap.fill(
            f"holdout {bakeoff['start']} .. {bakeoff['end']} ({n} dates), trial #{trial} ({when}): every "
            f"model trained with the tuned booster ({s['backend']}, {s['num_boost_round']} rounds) on the "
            f"dates before it, scored once:",
            width=compare.TEXT_WIDTH,
        )
    )
    table = compare.record_table(bakeoff)
    names = compare.short_names([m["spec"] for m in bakeoff["models"]])
    print(compare.text_table(table, names))
    for line in compare.legend(table, names, transform=s["target_transform"], where="holdout"):
        print(line)
    rank_ic = {m["name"]: m["rank_ic"] for m in bakeoff["models"]}
    beaten = []
    for c in bakeoff["comparisons"]:
        diff = "n/a" if c["diff"] is None else f"{c['diff']:+.4f}"
        t = "n/a" if c["t_nw"] is None else f"{c['t_nw']:+.2f}"
        means = (rank_ic.get(c["model"]), rank_ic.get(c["baseline"]))
        verdict = c["verdict"]
        if c["diff"] is not None and c["t_nw"] is not None and None not in means:
            verdict = verdict_word(c["diff"], c["t_nw"], means, "the holdout")  # a stored record: today's wording
        beaten.append(verdict == "beats it")
        print(
            textwrap.fill(
                f"{c['model']} vs {c['baseline']}: rank IC difference {diff} (paired per date, "
                f"Newey-West t {t}, {bakeoff['newey_west_lags']} lags): {verdict}",
                width=compare.TEXT_WIDTH,
                initial_indent="  ",
                subsequent_indent="      ",
            )
        )
    print(
        textwrap.fill(
            f"{bakeoff['rank_ic_kind']} rank IC; t NW with Newey-West errors; 'beats it' only with "
            f"t >= 2"
            + (
                f"; top-k net of {s['cost']} per unit of turnover, k = {s['top_k']}"
                if any("top_k_net_spread" in m for m in bakeoff["models"])
                else ""
            )
            + ".",
            width=compare.TEXT_WIDTH,
            initial_indent="  ",
            subsequent_indent="  ",
        )
    )
    if beaten and not all(beaten):
        for line in _not_beaten(n):
            print(line)


def _not_beaten(n_dates: int) -> list[str]:
    """What a tuned model that does not beat its baselines on the holdout means, and what to try (two
    sentences, wrapped; the README's main-job section says the same)."""
    text = (
        f"What this means: the walk-forward scores that chose the tuned model overstate how well it forecasts "
        f"new dates, or its edge is too small to show in {n_dates} holdout dates, so keep the baseline until a "
        f"holdout says otherwise. What to try: read the selection-bias figures above (a high probability of "
        f"backtest overfitting or a low deflated score says the search fitted noise), then a longer "
        f"walk-forward (more test windows), fewer trials over coarser ranges, or the rank-average ensemble of "
        f"`czar-gbdt compare --study`."
    )
    return textwrap.wrap(text, width=compare.TEXT_WIDTH, initial_indent="  ", subsequent_indent="  ")


def _loss_text(name: str, params: dict) -> str:
    """``czar (alpha=0.31, epsilon=1, tau=0.05)``: every parameter with its value, tuned or default."""
    try:
        values = get_loss(name, **params).params
    except (ValueError, TypeError):
        values = params
    return (
        f"{name} (" + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()) + ")"
    )


#: The printed names of the per-fold and ``evaluate`` columns whose unit the text says (files and JSON keep the
#: column names, and the spread as a fraction of the target).
PRINTED = {"directional_accuracy": "dir_raw", "top_k_net_spread": "top_k_net_bp"}


def _bp(v: Any) -> str:
    """A spread in basis points of the target, as every command prints it."""
    return f"{v * 1e4:.1f}" if isinstance(v, (int, float)) and np.isfinite(v) else "nan"


def _printed(table: pd.DataFrame) -> pd.DataFrame:
    """A table as printed: the top-k spread in bp, the columns of :data:`PRINTED` renamed to say their unit."""
    table = table.copy()
    if "top_k_net_spread" in table:
        table["top_k_net_spread"] = [_bp(v) for v in table["top_k_net_spread"]]
    return table.rename(columns=PRINTED)


def _units(columns: Any, book: dict | None) -> list[str]:
    """The lines under a printed table that say what :data:`PRINTED`'s columns hold."""
    lines = []
    if "directional_accuracy" in columns:
        lines.append(
            "  dir_raw: the share of rows whose forecast has the sign of the raw target (directional accuracy)"
        )
    if "top_k_net_spread" in columns and book:
        lines.append(
            f"  top_k_net_bp: the top-{book['top_k']} long-short spread net of {book['cost']} per unit of "
            f"turnover, in bp (compare.top_k, compare.cost)"
        )
    return lines


def print_table(table: pd.DataFrame, fmt: str = "table") -> None:
    """Print an :func:`evaluate` table as text or as JSON records, then the files it was saved to."""
    if fmt == "json":
        print(table.to_json(orient="records", indent=2))
        return
    print(_printed(table).to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    for line in _units(table.columns, table.attrs.get("book")):
        print(line)
    if table.attrs.get("scoring"):
        print(table.attrs["scoring"])
    for f in table.attrs.get("files", []):
        print(f"  wrote {f}")

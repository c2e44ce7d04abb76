"""What ``tune``, ``report`` and ``evaluate`` print and save: best parameters, per-fold table, holdout result.

Files are written next to the study, in ``<runs_dir>/<study name>/``: ``best_params.json``,
``folds.csv`` (the best trial's walk-forward folds), after ``report`` ``holdout.json`` and
``holdout_rank_ic.csv`` (the single evaluation on the final holdout period), and after
``evaluate`` ``evaluate.csv``. The holdout evaluation is also kept in the study itself
(study user attribute ``holdout``: the trial number and its result), so a later ``report``
prints the stored result instead of scoring the holdout again.

Nothing is trained here: the holdout model and the ``evaluate`` table come from
:mod:`czar_gbdt.evaluation`, the study from :mod:`czar_gbdt.tuning`.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import optuna
import pandas as pd

from . import evaluation
from ._files import dumps, write_json
from .losses import get_loss
from .tuning import (FINISHED, best_trial, check_fingerprint, fixed_params, load_study, output_dir, search_losses,
                     storage_url, trial_folds)

__all__ = ["study_summary", "report", "evaluate", "print_summary", "print_table", "HOLDOUT_ATTR"]

#: the study user attribute that records the holdout evaluation
HOLDOUT_ATTR = "holdout"


def study_summary(study: optuna.Study, cfg: dict, *, storage: str | None = None) -> dict:
    """Best trial, its parameters and per-fold table; saved as JSON/CSV next to the study."""
    best = best_trial(study)
    params = fixed_params(best, cfg)
    folds = trial_folds(best)
    n_finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    if storage:
        cfg = {**cfg, "study": {**cfg["study"], "storage": storage}}
    summary = {
        "study": study.study_name,
        "storage": storage_url(cfg, create=False),
        "n_trials": n_finished,
        "objective": cfg["study"]["objective"],
        "best_trial": best.number,
        "best_value": best.value,
        "best_params": params,
        "searched": sorted(best.params),  # which parameters the study searched (compare --study reads it)
        "walk_forward": {k: best.user_attrs.get(k) for k in ("mean_rank_ic", "icir", "t_stat", "n_dates",
                                                                 "n_folds")},
        "folds": folds,
        "book": evaluation.book(cfg),
    }
    out = output_dir(cfg)
    write_json(out / "best_params.json", {k: v for k, v in summary.items() if k != "folds"})
    if len(folds):
        folds.to_csv(out / "folds.csv", index=False)
    summary["files"] = [str(out / "best_params.json"), str(out / "folds.csv")]
    return summary


def report(cfg: dict, *, storage: str | None = None) -> dict:
    """Evaluate the best trial once on the final holdout period, which no trial has seen.

    The model is trained with the best parameters on every date before the holdout
    (less the gap; the last ``valid_size`` of them for early stopping when configured):
    :func:`czar_gbdt.evaluation.evaluate_holdout`. The study is loaded, never created: a
    missing study or one without a completed trial raises
    :class:`~czar_gbdt.tuning.StudyError`.

    The evaluation is recorded in the study (user attribute ``holdout``: trial number,
    result, time). A later call does not score the holdout again: it returns the stored
    result with ``holdout_status = "stored"`` and a note naming the trial it belongs to,
    and says so explicitly when the best trial has changed since.
    """
    study = load_study(cfg, storage)
    url = storage_url({**cfg, "study": {**cfg["study"], "storage": storage or cfg["study"]["storage"]}},
                      create=False)
    check_fingerprint(study, cfg, "report", url=url)
    if cfg["cluster"]["engine"] == "dask":  # [cluster] hook (issue 15): the data lives on a Dask cluster
        from . import cluster

        cluster.prepare_data(cfg, search_losses(cfg))
    else:
        evaluation.prepare_data(cfg, search_losses(cfg))  # every data error before anything is written
    summary = study_summary(study, cfg, storage=storage)
    if not cfg["splits"]["holdout"]:
        summary["holdout"] = None
        summary["holdout_status"] = None
        summary["note"] = "splits.holdout = 0: there is no holdout period to evaluate."
        return summary
    out = output_dir(cfg)
    stored = study.user_attrs.get(HOLDOUT_ATTR)
    if stored is not None:
        holdout, trial = stored["result"], stored["trial"]
        summary.update(holdout=holdout, holdout_trial=trial, holdout_status="stored")
        note = (f"The holdout was already evaluated for trial #{trial} (on {stored.get('evaluated_at', '?')}); "
                f"this is that stored result, not a new evaluation: the holdout is scored once per study.")
        if trial != summary["best_trial"]:
            note += (f" The best trial has changed since: it is now #{summary['best_trial']}, not #{trial}, and "
                     f"the holdout result above is trial #{trial}'s. Scoring #{summary['best_trial']} on the same "
                     f"holdout would be choosing on it; keep it for a final check only.")
        summary["note"] = note
        write_json(out / "holdout.json", {"trial": trial, **holdout})
        summary["files"] += [str(out / "holdout.json")]
        return summary

    if cfg["cluster"]["engine"] == "dask":  # [cluster] hook (issue 15): the holdout model trains on the cluster
        from . import cluster

        holdout, per_date = cluster.evaluate_holdout(cfg, summary["best_params"])
    else:
        holdout, per_date = evaluation.evaluate_holdout(cfg, summary["best_params"])
    holdout = json.loads(dumps(holdout))  # what the storage keeps (JSON)
    study.set_user_attr(HOLDOUT_ATTR, {"trial": summary["best_trial"], "result": holdout,
                                       "evaluated_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC")})
    summary.update(holdout=holdout, holdout_trial=summary["best_trial"], holdout_status="evaluated")
    summary["note"] = (f"The holdout period was evaluated once, now, with the parameters of best trial "
                       f"#{summary['best_trial']}; no trial of the study has seen it. The result is stored in the "
                       f"study: a later `report` prints it again instead of re-scoring.")
    write_json(out / "holdout.json", {"trial": summary["best_trial"], **holdout})
    per_date.rename("rank_ic").to_csv(out / "holdout_rank_ic.csv")
    summary["files"] += [str(out / "holdout.json"), str(out / "holdout_rank_ic.csv")]
    return summary


def evaluate(cfg: dict, specs: list[tuple[str, dict]]) -> pd.DataFrame:
    """:func:`czar_gbdt.evaluation.evaluate_losses`, saved as ``evaluate.csv`` next to the study."""
    if cfg["cluster"]["engine"] == "dask":  # [cluster] hook (issue 15): the folds train on a Dask cluster
        from . import cluster

        table = cluster.evaluate_losses(cfg, specs)
    else:
        table = evaluation.evaluate_losses(cfg, specs)
    out = output_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "evaluate.csv", index=False)
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
    print(f"study {summary['study']} ({summary['storage']}): {summary['n_trials']} finished trials; best trial "
          f"#{summary['best_trial']} {summary['objective']} = {_fmt(summary['best_value'])}")
    print(f"  backend {p['backend']}, loss {_loss_text(p['loss'], p['loss_params'])}")
    print(f"  booster {p['booster']}, num_boost_round {p.get('num_boost_round')}, "
          f"early_stopping_rounds {p.get('early_stopping_rounds')}")
    wf = summary["walk_forward"]
    print("  walk-forward: " + ", ".join(f"{k} {_fmt(v)}" for k, v in wf.items() if v is not None))
    folds = summary["folds"]
    if len(folds):
        cols = [c for c in ("fold", "test_start", "test_end", "rounds", "rank_ic", "rank_icir", "ic",
                            "directional_accuracy", "top_k_net_spread") if c in folds]
        print(folds[cols].to_string(index=False, float_format=lambda x: f"{x:.4f}"))
        if "top_k_net_spread" in cols and summary.get("book"):
            b = summary["book"]
            print(f"  top_k_net_spread: the top-{b['top_k']} long-short spread net of {b['cost']} per unit of "
                  f"turnover (compare.top_k, compare.cost)")
    if summary.get("holdout"):
        h = summary["holdout"]
        when = "stored result" if summary.get("holdout_status") == "stored" else "evaluated once, now"
        print(f"holdout {h['start']} .. {h['end']}, trial #{summary.get('holdout_trial')} ({when}): "
              f"rank IC {_fmt(h['rank_ic'])}, ICIR {_fmt(h['rank_icir'])}, t {_fmt(h['rank_ic_t'])}, IC {_fmt(h['ic'])}, "
              f"directional accuracy {_fmt(h['directional_accuracy'])}"
              + (f", top-k net spread {_fmt(h['top_k_net_spread'])}" if "top_k_net_spread" in h else ""))
    if summary.get("note"):
        print(summary["note"])
    for f in summary.get("files", []):
        print(f"  wrote {f}")


def _loss_text(name: str, params: dict) -> str:
    """``czar (alpha=0.31, epsilon=1, tau=0.05)``: every parameter with its value, tuned or default."""
    try:
        values = get_loss(name, **params).params
    except (ValueError, TypeError):
        values = params
    return f"{name} (" + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                   for k, v in values.items()) + ")"


def print_table(table: pd.DataFrame, fmt: str = "table") -> None:
    """Print an :func:`evaluate` table as text or as JSON records."""
    if fmt == "json":
        print(table.to_json(orient="records", indent=2))
    else:
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))

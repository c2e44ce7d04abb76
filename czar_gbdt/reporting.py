"""What ``tune`` and ``report`` print and save: best parameters, per-fold table, holdout result.

Files are written next to the study, in ``<runs_dir>/<study name>/``: ``best_params.json``,
``folds.csv`` (the best trial's walk-forward folds) and, after ``report``,
``holdout.json`` and ``holdout_rank_ic.csv`` (the single evaluation on the final holdout
period). The holdout evaluation is also kept in the study itself (study user attribute
``holdout``: the trial number and its result), so a later ``report`` prints the stored
result instead of scoring the holdout again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from .config import Choices, ConfigError, Range
from .evaluation import (
    WalkForwardResult,
    fit_predict,
    load_data,
    make_splitter,
    score_predictions,
    walk_forward,
)
from .losses import get_loss
from .tuning import FINISHED, StudyError, fixed_params, load_study, save_json

__all__ = ["study_summary", "report", "print_summary", "output_dir", "evaluate_losses", "print_table", "fixed_model",
           "run_walk_forward"]


def output_dir(cfg: dict) -> Path:
    return Path(cfg["study"]["runs_dir"]) / cfg["study"]["name"]


def _best(study: optuna.Study) -> optuna.trial.FrozenTrial:
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not done:
        states = {}
        for t in study.get_trials(deepcopy=False):
            states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
        held = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no trials"
        raise StudyError(f"study {study.study_name!r} has no completed trial yet ({held}): nothing to report; "
                         f"run or resume `czar-gbdt tune` with this config.")
    return study.best_trial


def _fold_table(trial: optuna.trial.FrozenTrial) -> pd.DataFrame:
    rows = [trial.user_attrs[k] for k in sorted((k for k in trial.user_attrs if k.startswith("fold_")),
                                                 key=lambda k: int(k.split("_")[1]))]
    return pd.DataFrame(rows)


def study_summary(study: optuna.Study, cfg: dict, *, storage: str | None = None) -> dict:
    """Best trial, its parameters and per-fold table; saved as JSON/CSV next to the study."""
    best = _best(study)
    params = fixed_params(best, cfg)
    folds = _fold_table(best)
    n_finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    summary = {
        "study": study.study_name,
        "n_trials": n_finished,
        "objective": cfg["study"]["objective"],
        "best_trial": best.number,
        "best_value": best.value,
        "best_params": params,
        "walk_forward": {k: best.user_attrs.get(k) for k in ("mean_rank_ic", "icir", "t_stat", "n_dates",
                                                                 "n_folds")},
        "folds": folds,
    }
    out = output_dir(cfg)
    save_json(out / "best_params.json", {k: v for k, v in summary.items() if k != "folds"})
    if len(folds):
        folds.to_csv(out / "folds.csv", index=False)
    summary["files"] = [str(out / "best_params.json"), str(out / "folds.csv")]
    return summary


#: the study user attribute that records the holdout evaluation
HOLDOUT_ATTR = "holdout"


def report(cfg: dict, *, storage: str | None = None) -> dict:
    """Evaluate the best trial once on the final holdout period, which no trial has seen.

    The model is trained with the best parameters on every date before the holdout
    (less the gap; the last ``valid_size`` of them for early stopping when configured).
    The study is loaded, never created: a missing study or one without a completed trial
    raises :class:`~czar_gbdt.tuning.StudyError`.

    The evaluation is recorded in the study (user attribute ``holdout``: trial number,
    result, time). A later call does not score the holdout again: it returns the stored
    result with ``holdout_status = "stored"`` and a note naming the trial it belongs to,
    and says so explicitly when the best trial has changed since.
    """
    study = load_study(cfg, storage)
    summary = study_summary(study, cfg)
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
        save_json(out / "holdout.json", {"trial": trial, **holdout})
        summary["files"] += [str(out / "holdout.json")]
        return summary

    params = summary["best_params"]
    panel = load_data(cfg)
    splitter = make_splitter(cfg)
    final = splitter.final_fold(groups=panel.dates)
    train, test = panel.subset(final.train), panel.subset(final.test)
    valid = panel.subset(final.valid) if len(final.valid) else None
    loss = get_loss(params["loss"], **params["loss_params"])
    (pred,), rounds = fit_predict(params["backend"], params["booster"], loss, train, [test], valid=valid,
                                  num_boost_round=params["num_boost_round"],
                                  early_stopping_rounds=params["early_stopping_rounds"],
                                  target_transform=cfg["data"]["target_transform"], seed=cfg["study"]["seed"])
    scores, per_date = score_predictions(test, pred)
    holdout = {"start": str(test.dates[0].date()), "end": str(test.dates[-1].date()), "rounds": rounds, **scores}
    holdout = json.loads(json.dumps(holdout, default=_plain))  # what the storage keeps (JSON)
    study.set_user_attr(HOLDOUT_ATTR, {"trial": summary["best_trial"], "result": holdout,
                                       "evaluated_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC")})
    summary.update(holdout=holdout, holdout_trial=summary["best_trial"], holdout_status="evaluated")
    summary["note"] = (f"The holdout period was evaluated once, now, with the parameters of best trial "
                       f"#{summary['best_trial']}; no trial of the study has seen it. The result is stored in the "
                       f"study: a later `report` prints it again instead of re-scoring.")
    save_json(out / "holdout.json", {"trial": summary["best_trial"], **holdout})
    per_date.rename("rank_ic").to_csv(out / "holdout_rank_ic.csv")
    summary["files"] += [str(out / "holdout.json"), str(out / "holdout_rank_ic.csv")]
    return summary


def _plain(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}" if np.isfinite(v) else "nan"
    return str(v)


def print_summary(summary: dict, fmt: str = "table") -> None:
    if fmt == "json":
        data = {k: (v.to_dict(orient="records") if isinstance(v, pd.DataFrame) else v) for k, v in summary.items()}
        print(json.dumps(data, indent=2, default=str))
        return
    p = summary["best_params"]
    print(f"study {summary['study']}: {summary['n_trials']} finished trials; best trial #{summary['best_trial']} "
          f"{summary['objective']} = {_fmt(summary['best_value'])}")
    print(f"  backend {p['backend']}, loss {p['loss']} {p['loss_params']}")
    print(f"  booster {p['booster']}, num_boost_round {p.get('num_boost_round')}, "
          f"early_stopping_rounds {p.get('early_stopping_rounds')}")
    wf = summary["walk_forward"]
    print("  walk-forward: " + ", ".join(f"{k} {_fmt(v)}" for k, v in wf.items() if v is not None))
    folds = summary["folds"]
    if len(folds):
        cols = [c for c in ("fold", "test_start", "test_end", "rounds", "rank_ic", "rank_icir", "ic",
                            "directional_accuracy", "top_k_net_spread") if c in folds]
        print(folds[cols].to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    if summary.get("holdout"):
        h = summary["holdout"]
        when = "stored result" if summary.get("holdout_status") == "stored" else "evaluated once, now"
        print(f"holdout {h['start']} .. {h['end']}, trial #{summary.get('holdout_trial')} ({when}): "
              f"rank IC {_fmt(h['rank_ic'])}, ICIR {_fmt(h['rank_icir'])}, t {_fmt(h['rank_ic_t'])}, IC {_fmt(h['ic'])}, "
              f"directional accuracy {_fmt(h['directional_accuracy'])}")
    if summary.get("note"):
        print(summary["note"])
    for f in summary.get("files", []):
        print(f"  wrote {f}")


def _fixed(key: str, value: Any) -> Any:
    if isinstance(value, (Range, Choices)):
        raise ConfigError(f"{key} is a search space; `evaluate` needs fixed values (use `tune` to search).")
    return value


def fixed_model(cfg: dict) -> tuple[str, dict]:
    """The config's backend and booster parameters, refusing search spaces.

    Raises
    ------
    ConfigError
        Naming the key (``model.params.learning_rate``, ``model.num_boost_round``) that
        holds a range or choices.
    """
    backend = _fixed("model.backend", cfg["model"]["backend"])
    booster = {k: _fixed(f"model.params.{k}", v) for k, v in cfg["model"]["params"].items()}
    for name in ("num_boost_round", "early_stopping_rounds"):
        _fixed(f"model.{name}", cfg["model"][name])
    return backend, booster


def run_walk_forward(cfg: dict, panel, splitter, loss, **kwargs: Any) -> WalkForwardResult:
    """:func:`~czar_gbdt.evaluation.walk_forward` with the config's fixed model and settings.

    ``loss`` is a loss, a :class:`~czar_gbdt.evaluation.RankObjective` or None (the
    backend's built-in squared error); ``kwargs`` go to ``walk_forward`` (``top_k``,
    ``cost``, ``predict``, ``score_extra`` ...).
    """
    backend, booster = fixed_model(cfg)
    return walk_forward(panel, splitter, backend=backend, booster_params=booster, loss=loss,
                        num_boost_round=cfg["model"]["num_boost_round"],
                        early_stopping_rounds=cfg["model"]["early_stopping_rounds"],
                        target_transform=cfg["data"]["target_transform"], seed=cfg["study"]["seed"], **kwargs)


def evaluate_losses(cfg: dict, specs: list[tuple[str, dict]]) -> pd.DataFrame:
    """Walk-forward summary per loss with the config's fixed booster parameters.

    ``specs`` are ``(name, params)``; the name ``"builtin"`` is the backend's own squared
    error. Without specs, the config's own loss. Saved as ``evaluate.csv`` next to the study.
    """
    backend, _ = fixed_model(cfg)
    if not specs:
        name = _fixed("loss.name", cfg["loss"]["name"])
        specs = [(name, {k: _fixed(f"loss.{name}.{k}", v) for k, v in cfg["loss"].get(name, {}).items()})]
    panel = load_data(cfg)
    splitter = make_splitter(cfg)
    rows = []
    for name, params in specs:
        loss = None if name == "builtin" else get_loss(name, **params)
        result = run_walk_forward(cfg, panel, splitter, loss)
        label = f"{backend} built-in squared error" if loss is None else repr(loss)
        rows.append({"loss": label, **result.summary(),
                     "directional_accuracy": float(result.folds["directional_accuracy"].mean())})
    table = pd.DataFrame(rows)
    out = output_dir(cfg)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "evaluate.csv", index=False)
    return table


def print_table(table: pd.DataFrame, fmt: str = "table") -> None:
    if fmt == "json":
        print(table.to_json(orient="records", indent=2))
    else:
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))

"""The holdout bake-off of ``czar-gbdt report``: the tuned model against the baselines, on the untouched holdout.

A user tunes CZAR to decide whether it beats what they would have used anyway. The
walk-forward folds chose the tuned parameters, so only the holdout, which no trial has seen,
can answer. :func:`holdout_bakeoff` trains the tuned model and each baseline of
``report.baselines`` (model specs as in ``compare.losses``; the default ``builtin`` and
``ranking``) with the tuned trial's booster parameters and boosting rounds, on the same final
training window (every date before the holdout, less the gap), and scores them on the same
holdout dates (:class:`~czar_gbdt.evaluation.HoldoutSplit`). On one series the ranking
objective, which needs several assets per date, is left out (:class:`~czar_gbdt.evaluation.Scoring`).

The rows and the statistics are compare's (:mod:`~czar_gbdt.compare.stats`): per model the
holdout rank IC, its ICIR and t-stat (per date, and with Newey-West errors, ``horizon - 1``
lags), directional accuracy, the top-k spread net of costs, the test losses and Allora's
grade; against each baseline the paired per-date rank IC difference, its Newey-West t-stat
and the verdict ("beats it" only with t >= 2). :func:`holdout_record` turns the result into
plain JSON data (``holdout.json``: ``{"models": [...], "comparisons": [...]}``), which
``report`` stores in the study, and :func:`write_holdout_files` writes the per-date rank
IC (CSV) and its cumulative figure (PNG) from that record.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd

from .. import allora, cluster
from ..config import Config, as_config, check_compare_spec, parse_loss_spec
from ..evaluation import (
    FoldHooks,
    HoldoutSplit,
    allora_of,
    fold_scoring,
    holdout_scores,
    iso_date,
    make_splitter,
    output_kind,
    resolve_config,
    scoring,
    trial_spec,
)
from ..losses import get_loss
from ..specs import build_model, model_label
from ..tuning import TrialParams
from .files import save_figure
from .plots import plot_cumulative_rank_ic
from .result import ComparisonResult, Member
from .run import forecast_scorer
from .stats import CROSS_SECTION_COLUMNS, comparison_table, fold_table, paired, per_date_table

__all__ = [
    "holdout_bakeoff",
    "holdout_record",
    "regrade_record",
    "record_table",
    "per_date_frame",
    "write_holdout_files",
    "MODEL_KEYS",
]

#: The columns of the comparison table a model of ``holdout.json`` holds, and their names there.
MODEL_KEYS = {
    "mean_rank_ic": "rank_ic",
    "icir": "icir",
    "t_stat": "t",
    "t_stat_nw": "t_nw",
    "directional_accuracy": "directional_accuracy",
    "top_k_spread": "top_k_spread",
    "top_k_net_spread": "top_k_net_spread",
    "top_k_turnover": "top_k_turnover",
    "test_czar_loss": "test_czar_loss",
    "test_zptae_loss": "test_zptae_loss",
    "n_dates": "n_dates",
}


def holdout_bakeoff(
    cfg: Config | dict, params: TrialParams, *, trial: int | None = None, progress: Any = None
) -> ComparisonResult:
    """Train the tuned model and the baselines on the final training window and score them on the holdout.

    Parameters
    ----------
    cfg : Config or dict
        The study's validated configuration; ``report.baselines`` lists the baselines.
    params : TrialParams
        The tuned trial's parameters (:func:`czar_gbdt.tuning.fixed_params`): its loss, and the
        backend, booster parameters and rounds every model trains with. Early stopping
        applies to the losses; ``builtin`` and ``ranking`` train every round, as in ``compare``.
    trial : int, optional
        The trial's number, for the tuned model's label.
    progress : callable, optional
        Called with one line per trained model.

    Returns
    -------
    ComparisonResult
        The tuned model first (key ``"tuned"``), then the baselines (key: their spec);
        one fold, the holdout. ``settings`` holds ``rank_ic`` (which rank IC), ``scoring``
        (:meth:`~czar_gbdt.evaluation.Scoring.describe`) and ``left_out`` (baselines that
        need a cross-section, on one series).

    Raises
    ------
    ConfigError
        For a baseline the backend cannot train (``report.baselines[i]``).
    """
    config = as_config(cfg)
    backend = params.backend
    tuned = get_loss(params.loss, **params.loss_params)
    entries = [
        ("tuned", f"{model_label(tuned, backend)}, tuned" + (f" (trial #{trial})" if trial is not None else ""), tuned)
    ]
    for i, spec in enumerate(config.report.baselines):
        key = f"report.baselines[{i}]"
        name, spec_params = parse_loss_spec(spec, key)
        check_compare_spec(name, spec_params, key, [backend])
        model = build_model(name, spec_params)
        entries.append((spec, model_label(model, backend), model))
    engine = cluster.engine(config)  # this process, or a Dask cluster ([cluster])
    panel = engine.prepare_data(config, [model for *_, model in entries])
    config = resolve_config(config, panel)  # data.target_transform "auto" resolved on the data
    how = scoring(config, panel)
    left_out = [label for _, label, model in entries if not how.keeps(model)]
    splitter = HoldoutSplit(make_splitter(config))
    c, transform = config.compare, config.data.target_transform
    czar_eval, zptae_eval = get_loss("czar", alpha=float(c.eval_alpha)), get_loss("zptae")
    members = []
    for key, label, model in entries:
        if not how.keeps(model):
            continue
        kind = output_kind(model)
        start = time.perf_counter()
        result = engine.walk_forward(
            panel,
            splitter,
            trial_spec(config, params, model),
            fold_scoring(config, panel),
            FoldHooks(score_extra=forecast_scorer(transform, czar_eval, zptae_eval, kind)),
        )
        members.append(
            Member(
                key,
                label,
                kind,
                result,
                time.perf_counter() - start,
                allora=allora_of(panel, result, transform) if kind == "forecast" and not how.cluster else {},
            )
        )
        if progress is not None:
            progress(f"holdout: {label}: rank IC {result.mean_rank_ic:.4f}")
    lags = config.data.horizon - 1  # overlapping h-day labels
    comparisons = paired(members[0], members[1:], lags)
    sentences = [
        f"{p['model']} vs {p['baseline']}: holdout rank IC difference {p['diff']:+.4f} (paired Newey-West "
        f"t {p['t_nw']:+.2f}, {lags} lags): {p['verdict']}."
        for p in comparisons
    ]
    scores = holdout_scores(members[0].result)
    return ComparisonResult(
        table=comparison_table(members, lags),
        folds=fold_table(members),
        per_date=per_date_table(members),
        verdicts=sentences,
        members=members,
        settings={
            "backend": backend,
            "booster": params.booster,
            "num_boost_round": params.num_boost_round,
            "early_stopping_rounds": params.early_stopping_rounds,
            "target_transform": transform,
            "top_k": c.top_k,
            "cost": c.cost,
            "czar_eval": repr(czar_eval),
            "zptae_eval": repr(zptae_eval),
            "data": config.data.source,
            "horizon": config.data.horizon,
            "newey_west_lags": lags,
            "rank_ic": how.rank_ic,
            "scoring": how.describe(),
            "cross_section": not how.single_series,
            "left_out": left_out,
            "comparisons": comparisons,
            "start": scores["start"],
            "end": scores["end"],
        },
    )


def _plain(value: Any) -> Any:
    """A number as JSON keeps it: a Python float or int, None for NaN."""
    if isinstance(value, str) or value is None:
        return value
    value = float(value)
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def holdout_record(result: ComparisonResult) -> dict:
    """A :func:`holdout_bakeoff` result as plain JSON data: what ``holdout.json`` and the study keep.

    Returns
    -------
    dict
        ``start``, ``end``, ``rank_ic_kind`` (``"cross-sectional"`` or ``"time-series"``),
        ``scoring``, ``left_out``, ``newey_west_lags``, ``settings`` (backend, booster
        parameters, rounds, labels, book); ``models``: one dict per model, ``{"name",
        "role" ("tuned" or "baseline"), "spec", "rank_ic", "icir", "t", "t_nw",
        "directional_accuracy", "top_k_spread", "top_k_net_spread", "top_k_turnover",
        "test_czar_loss", "test_zptae_loss", "n_dates", "rounds", "allora_*"...}`` (the
        top-k keys only with a cross-section; NaN as None); ``comparisons``: one dict per
        baseline, ``{"model", "baseline", "diff", "t_nw", "verdict"}``; ``per_date``: the
        dates (ISO) and each model's per-date rank IC.
    """
    s = result.settings
    single = not s["cross_section"]
    models = []
    for member, (_, row) in zip(result.members, result.table.iterrows()):
        model = {"name": member.label, "role": "tuned" if member.key == "tuned" else "baseline", "spec": member.key}
        for col, name in MODEL_KEYS.items():
            if not (single and col in CROSS_SECTION_COLUMNS):
                model[name] = _plain(row[col])
        model["rounds"] = _plain(member.result.folds["rounds"].iloc[0])
        for k, v in member.allora.items():
            model[k] = _plain(v)
        models.append(model)
    comparisons = [{k: _plain(v) for k, v in p.items()} for p in s["comparisons"]]
    per_date = result.per_date
    return {
        "start": s["start"],
        "end": s["end"],
        "rank_ic_kind": s["rank_ic"],
        "scoring": s["scoring"],
        "left_out": list(s["left_out"]),
        "newey_west_lags": s["newey_west_lags"],
        "settings": {
            k: s[k]
            for k in (
                "backend",
                "booster",
                "num_boost_round",
                "early_stopping_rounds",
                "target_transform",
                "top_k",
                "cost",
                "czar_eval",
                "zptae_eval",
            )
        },
        "models": models,
        "comparisons": comparisons,
        "per_date": {
            "dates": [iso_date(d) for d in per_date.index],
            **{label: [_plain(v) for v in per_date[label]] for label in per_date},
        },
    }


def regrade_record(record: dict) -> tuple[dict, str | None]:
    """A stored :func:`holdout_record` with its Allora grades on the current table, and what was done.

    Returns
    -------
    (dict, str or None)
        The record, its models re-graded by :func:`czar_gbdt.allora.allora_regrade` when they
        were graded on the former eight-point table, and a sentence saying so (None when
        nothing changed).
    """
    models = [allora.allora_regrade(m) for m in record["models"]]
    if not any(
        "allora_regraded_from" in m and "allora_regraded_from" not in old for m, old in zip(models, record["models"])
    ):
        return record, None
    return {**record, "models": models}, (
        f"Its Allora grades were stored with the {allora.LEGACY_MAX_POINTS}-point table of builder kit "
        f"{allora.LEGACY_GRADE_TABLE_COMMIT} and are re-graded on the current {allora.MAX_POINTS}-point table "
        f"({allora.GRADE_TABLE_COMMIT}): the temporal-coverage point, which every stored grade had, is no longer a "
        f"point (docs/allora.md)."
    )


def record_table(record: dict) -> pd.DataFrame:
    """The models of a :func:`holdout_record` as a comparison table (compare's column names), to print
    with :func:`~czar_gbdt.compare.plots.formatted_table`."""
    names = {v: k for k, v in MODEL_KEYS.items()}
    rows = [
        {
            "loss": m["name"],
            **{
                names.get(k, k): (math.nan if v is None else v)
                for k, v in m.items()
                if k not in ("name", "role", "spec")
            },
        }
        for m in record["models"]
    ]
    return pd.DataFrame(rows)


def per_date_frame(record: dict) -> pd.DataFrame:
    """The per-date rank IC of a :func:`holdout_record`, one column per model, indexed by date."""
    data = dict(record["per_date"])
    text = data.pop("dates")
    if text and all(re.fullmatch(r"-?\d+", d) for d in text):  # period numbers (data.wide.dates = "periods")
        dates = pd.Index([int(d) for d in text], name="period")
    else:
        dates = pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601"), name="date")
    return pd.DataFrame({k: [math.nan if v is None else v for v in values] for k, values in data.items()}, index=dates)


def write_holdout_files(record: dict, out: str | Path) -> list[str]:
    """Write ``holdout_rank_ic.csv`` (per-date rank IC, a column per model) and
    ``holdout_cumulative_rank_ic.png`` (its cumulative sum per model) into ``out``; returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frame = per_date_frame(record)
    csv, png = out / "holdout_rank_ic.csv", out / "holdout_cumulative_rank_ic.png"
    frame.to_csv(csv)
    kind = record["rank_ic_kind"]
    view = ComparisonResult(
        table=pd.DataFrame(), folds=pd.DataFrame(), per_date=frame, verdicts=[], members=[], settings={"rank_ic": kind}
    )
    save_figure(
        plot_cumulative_rank_ic(
            view, title=f"Cumulative {kind} Rank IC over the holdout {record['start']} .. {record['end']}"
        ),
        png,
    )
    return [str(csv), str(png)]

"""Running a comparison: the models of ``compare.losses``, trained on the same folds, and their ensemble."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .. import cluster
from ..config import Config, ConfigError, as_config, check_compare_spec, fixed_model, parse_loss_spec
from ..datasets import Panel
from ..evaluation import allora_of, label_target, make_splitter, output_kind, resolve_config, scoring
from ..losses import BaseLoss, get_loss
from ..specs import build_model, model_label
from ..tuning import StudyCzar, best_czar_trial, output_dir
from .files import write_outputs
from .result import ComparisonResult, Member
from .stats import CROSS_SECTION_COLUMNS, comparison_table, fold_table, per_date_table, verdicts

__all__ = ["compare_losses", "model_specs", "study_row", "rank_average", "forecast_scorer"]


def model_specs(cfg: Config | dict, specs: list[str] | None, study: str | None) -> list[tuple[str, str, dict, str]]:
    """The models a comparison trains: ``(key, name, params, label)`` per model, the tuned CZAR last.

    ``specs`` replaces ``compare.losses`` and ``study`` replaces ``compare.study`` when
    given (as ``--loss`` and ``--study`` do); errors name the key or option. See
    :func:`study_row` for the study's model (left out when it is one of ``specs``).
    """
    return _specs(as_config(cfg), specs, study)[0]


def _specs(cfg: Config, specs: list[str] | None, study: str | None) -> tuple[list, dict | None]:
    """:func:`model_specs` and what the comparison says about the study's model (None without one)."""
    backend, _ = fixed_model(cfg, "compare")
    given = specs if specs is not None else cfg.compare.losses
    if not given:
        raise ConfigError("compare.losses: nothing to compare; give at least one loss spec.")
    out = []
    for i, spec in enumerate(given):
        key = f"compare.losses[{i}]" if specs is None else f"--loss {spec!r}"
        name, params = parse_loss_spec(spec, key)
        check_compare_spec(name, params, key, [backend])
        out.append((spec, name, params, model_label(build_model(name, params), backend)))
    labels = [o[3] for o in out]
    dup = sorted({lbl for lbl in labels if labels.count(lbl) > 1})
    if dup:
        raise ConfigError(f"compare.losses: the same model is listed twice: {dup}.")
    ref = cfg.compare.study if study is None else study
    note = None
    if ref:
        key = "compare.study" if study is None else "--study"
        best = best_czar_trial(ref, key)
        check_compare_spec("czar", best.params, key)
        row, note = study_row(best, backend, out)
        if row is not None:
            out.append(row)
    return out, note


def study_row(best: StudyCzar, backend: str, rows: list) -> tuple[tuple | None, dict]:
    """The comparison row of a study's best CZAR trial, and what the comparison says about it.

    ``compare`` trains every model with the same booster (``model.params``): a loss
    comparison like for like. It therefore takes the trial's CZAR parameters and not its
    booster parameters, and says so (``note["text"]``, printed under the table and kept in
    the ``from_study`` column). The row is named after what the study tuned: ``", tuned
    (study s, trial n)"`` when it searched CZAR parameters; ``" of study s, trial n (CZAR
    parameters fixed there)"`` when it searched only the booster. A row equal to one of
    ``rows`` (the same CZAR parameters) is left out: the note names the row it equals.
    """
    model = build_model("czar", best.params)
    label = model_label(model, backend)
    booster = best.booster.get("booster") or {}
    unused = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in booster.items())
    rounds = {k: best.booster[k] for k in ("num_boost_round", "early_stopping_rounds") if k in best.booster}
    if rounds:
        unused += (", " if unused else "") + ", ".join(f"{k}={v}" for k, v in rounds.items())
    other_backend = best.booster.get("backend") not in (None, backend)
    taken = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in model.params.items())
    if best.tuned is None or best.tuned:
        what = f"its tuned CZAR parameters ({', '.join(best.tuned)})" if best.tuned else "its CZAR parameters"
        row_label = f"{label}, tuned ({best.source})"
    else:
        what = "its CZAR parameters, which the study kept fixed (it tuned only the booster)"
        row_label = f"{label} of {best.source} (CZAR parameters fixed there)"
    text = (
        f"--study {best.source}: took {what}: {taken}. Not taken: its booster "
        f"({best.booster.get('backend', '?')}{' (another backend)' if other_backend else ''}: "
        f"{unused or 'no parameters'}); every row trains with model.params, so the table compares losses "
        f"like for like."
    )
    same = next((r for r in rows if r[1] == "czar" and build_model("czar", r[2]).params == model.params), None)
    if same is not None:
        text += f" That is the model of the row {same[3]!r} ({same[0]!r}): no second row."
        return None, {"text": text, "label": same[3]}
    return ("study", "czar", dict(best.params), row_label), {"text": text, "label": row_label}


def rank_average(predictions: list[np.ndarray], dates: Any) -> np.ndarray:
    """Per date, rank each model's predictions (percentiles, ties averaged) and average them.

    Parameters
    ----------
    predictions : list of ndarray of shape (n_samples,)
        Predictions of several models on the same rows.
    dates : array-like of shape (n_samples,)
        Date of each row.

    Returns
    -------
    ndarray of shape (n_samples,)
        The mean percentile rank, in (0, 1].
    """
    if not predictions:
        raise ValueError("predictions is empty: nothing to average.")
    dates = np.asarray(dates)
    ranks = []
    for i, p in enumerate(predictions):
        p = np.asarray(p, dtype=np.float64)
        if p.shape != dates.shape:
            raise ValueError(f"predictions[{i}] has shape {p.shape} but dates has shape {dates.shape}.")
        ranks.append(pd.Series(p).groupby(dates).rank(method="average", pct=True).to_numpy())
    return np.mean(ranks, axis=0)


def forecast_scorer(transform: str, czar_eval: BaseLoss, zptae_eval: BaseLoss, kind: str) -> Callable:
    """``score_extra`` of :func:`~czar_gbdt.evaluation.walk_forward` for a model whose predictions are
    ``kind`` (:func:`~czar_gbdt.evaluation.output_kind`): the CZAR and ZPTAE losses ``czar_eval``
    and ``zptae_eval``, against the target transformed like the training labels (``transform``),
    and the rows they average over. The directional accuracy is the folds' own, against the raw
    target, as every command scores it (:func:`~czar_gbdt.evaluation.score_predictions`)."""

    def score(test: Panel, pred: np.ndarray) -> dict:
        nan = math.nan
        if kind != "forecast":  # scores and logits: not a return, the losses cannot score them
            return {"n_rows": len(test), "test_czar_loss": nan, "test_zptae_loss": nan}
        y, std = label_target(test, transform)
        if std is None:  # a panel without a std: the z-space losses cannot score it
            return {"n_rows": len(test), "test_czar_loss": nan, "test_zptae_loss": nan}
        return {
            "n_rows": len(test),
            "test_czar_loss": czar_eval(y, pred, std=std),
            "test_zptae_loss": zptae_eval(y, pred, std=std),
        }

    return score


def compare_losses(
    cfg: Config | dict,
    specs: list[str] | None = None,
    *,
    study: str | None = None,
    write: bool = True,
    progress: Callable[[str], None] | None = None,
) -> ComparisonResult:
    """Train the config's booster once per loss on the same walk-forward folds and compare.

    Parameters
    ----------
    cfg : Config or dict
        A validated configuration (:func:`czar_gbdt.config.load`, or the dict of
        :func:`czar_gbdt.config.load_config`) with fixed
        ``model.backend`` and ``model.params``; ``[compare]`` lists the losses.
    specs : list of str, optional
        Loss specs replacing ``compare.losses`` (``"czar:alpha=0.5"``, ``"builtin"``,
        ``"ranking:bins=10"`` ...).
    study : str, optional
        Replaces ``compare.study``: ``best_params.json`` or a study's TOML config whose
        best CZAR parameters are added as one more model.
    write : bool, default=True
        Write the CSV files and PNG figures next to the study (:func:`write_outputs`).
    progress : callable, optional
        Called with one line per trained model (the CLI prints it to stderr).

    Returns
    -------
    ComparisonResult

    Raises
    ------
    ConfigError
        For a search space where a fixed value is needed, a bad loss spec or study.
    """
    cfg = as_config(cfg)
    backend, booster = fixed_model(cfg, "compare")
    models, study_note = _specs(cfg, specs, study)
    c = cfg.compare
    czar_eval, zptae_eval = get_loss("czar", alpha=float(c.eval_alpha)), get_loss("zptae")
    engine = cluster.engine(cfg)  # this process, or a Dask cluster ([cluster])
    panel = engine.prepare_data(cfg, [build_model(name, params) for _, name, params, _ in models])
    cfg = resolve_config(cfg, panel)  # data.target_transform "auto" resolved on the data
    how = scoring(cfg, panel)
    models = [m for m in models if how.keeps(build_model(m[1], m[2]))]  # one series, a cluster: no ranking objective
    if not models:
        raise ConfigError(
            f"compare.losses: nothing to compare{' on one series' if how.single_series else ''}: {how.describe()}"
        )
    splitter = make_splitter(cfg)
    transform = cfg.data.target_transform
    members: list[Member] = []
    ensemble = c.ensemble and len(models) > 1 and not how.single_series
    n_total = len(models) + (1 if ensemble else 0)
    for i, (key, name, params, label) in enumerate(models):
        model = build_model(name, params)
        kind = output_kind(model)
        start = time.perf_counter()
        result = engine.run_walk_forward(
            cfg, panel, splitter, model, "compare", score_extra=forecast_scorer(transform, czar_eval, zptae_eval, kind)
        )
        members.append(
            Member(
                key,
                label,
                kind,
                result,
                time.perf_counter() - start,
                study_note["text"] if study_note and study_note["label"] == label else "",
                allora_of(panel, result, transform) if kind == "forecast" and not how.cluster else {},
            )
        )
        if progress is not None:
            progress(
                f"[{i + 1}/{n_total}] {label}: mean Rank IC {result.mean_rank_ic:.4f} ({members[-1].seconds:.0f} s)"
            )
    if n_total > len(models):
        members.append(_ensemble(cfg, panel, splitter, members, czar_eval, zptae_eval))
        if progress is not None:
            progress(f"[{n_total}/{n_total}] {members[-1].label}: mean Rank IC {members[-1].result.mean_rank_ic:.4f}")
    lags = cfg.data.horizon - 1  # overlapping h-day labels
    table = comparison_table(members, lags)
    if how.single_series:  # no cross-section: the scoring line says why these are absent
        table = table.drop(columns=list(CROSS_SECTION_COLUMNS))
    result = ComparisonResult(
        table=table,
        folds=fold_table(members),
        per_date=per_date_table(members),
        verdicts=verdicts(members, lags),
        members=members,
        settings={
            "backend": backend,
            "booster": booster,
            "num_boost_round": cfg.model.num_boost_round,
            "target_transform": transform,
            "top_k": c.top_k,
            "cost": c.cost,
            "czar_eval": repr(czar_eval),
            "zptae_eval": repr(zptae_eval),
            "data": cfg.data.source,
            "horizon": cfg.data.horizon,
            "newey_west_lags": lags,
            "study": study_note["text"] if study_note else None,
            "rank_ic": how.rank_ic,
            "scoring": how.describe(),
        },
    )
    if write:
        write_outputs(result, output_dir(cfg))
    return result


def _ensemble(
    cfg: Config, panel: Panel, splitter, members: list[Member], czar_eval: BaseLoss, zptae_eval: BaseLoss
) -> Member:
    """The rank average of the members' test predictions, scored fold by fold like a model."""
    start = time.perf_counter()

    def predict(i: int, train: Panel, test: Panel, valid: Panel | None) -> tuple[np.ndarray, int]:
        return rank_average([m.result.fold_predictions[i] for m in members], test.dates), 0

    transform = cfg.data.target_transform
    result = cluster.engine(cfg).run_walk_forward(
        cfg,
        panel,
        splitter,
        None,
        "compare",
        predict=predict,
        score_extra=forecast_scorer(transform, czar_eval, zptae_eval, "score"),
    )
    return Member(
        "ensemble",
        f"rank-average ensemble of the {len(members)} models above",
        "score",
        result,
        time.perf_counter() - start,
    )

"""The configuration glue of the walk-forward: a configuration's model, book and scoring turned into the
engine's typed arguments, and the runs the commands ask for.

:func:`model_spec` and :func:`fold_scoring` read a configuration once into a
:class:`~czar_gbdt.evaluation.ModelSpec` and a :class:`~czar_gbdt.evaluation.FoldScoring`;
:func:`run_walk_forward` runs :func:`~czar_gbdt.evaluation.walk_forward` with a
configuration's fixed model, :func:`evaluate_losses` does so for several model specs
(``czar-gbdt evaluate``), and :func:`evaluate_holdout` trains a trial's parameters on every
date before the holdout and scores the holdout once. See ``docs/evaluation.md``.

Every function taking ``cfg`` accepts a :class:`~czar_gbdt.config.Config` or the validated dict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..config import Config, ConfigError, as_config, check_compare_spec, fixed_loss, fixed_model
from ..datasets import Panel
from ..losses import BaseLoss, get_loss
from ..model_selection import WalkForward
from ..ranking import RankObjective
from ..specs import build_model, model_label
from .arguments import ExtraScorer, FoldCallback, FoldHooks, FoldPredictor, FoldScoring, ModelSpec
from .data import Scoring, make_splitter, prepare_data, resolve_config, scoring
from .engine import HoldoutSplit, WalkForwardResult, holdout_scores, walk_forward

__all__ = [
    "book",
    "model_spec",
    "trial_spec",
    "fold_scoring",
    "run_walk_forward",
    "evaluate_losses",
    "evaluate_holdout",
]


def book(cfg: Config | dict) -> dict:
    """The top-k long-short book every command scores: ``top_k`` and ``cost`` (per unit of
    turnover) from ``compare.top_k`` and ``compare.cost``, the one setting of tune, report,
    evaluate and compare."""
    c = as_config(cfg).compare
    return {"top_k": c.top_k, "cost": c.cost}


def model_spec(
    cfg: Config | dict,
    backend: str,
    booster_params: dict,
    loss: BaseLoss | RankObjective | None,
    *,
    num_boost_round: int | None = None,
    early_stopping_rounds: int | None = None,
) -> ModelSpec:
    """The :class:`~czar_gbdt.evaluation.ModelSpec` of ``loss`` on ``backend`` with the configuration's
    labels (``data.target_transform``) and seed (``study.seed``); the rounds are ``model.num_boost_round``
    and ``model.early_stopping_rounds`` unless given (a trial's or a stored study's own)."""
    cfg = as_config(cfg)
    m = cfg.model
    return ModelSpec(
        backend,
        booster_params,
        loss,
        num_boost_round=m.num_boost_round if num_boost_round is None else num_boost_round,
        early_stopping_rounds=(
            (m.early_stopping_rounds or 0) if early_stopping_rounds is None else early_stopping_rounds
        ),
        target_transform=cfg.data.target_transform,
        seed=cfg.study.seed,
    )


def trial_spec(cfg: Config | dict, params: Any, loss: BaseLoss | RankObjective | None) -> ModelSpec:
    """:func:`model_spec` of ``loss`` trained with a trial's parameters (a
    :class:`~czar_gbdt.tuning.TrialParams`: its backend, booster parameters and its own rounds)."""
    return model_spec(
        cfg,
        params.backend,
        params.booster,
        loss,
        num_boost_round=params.num_boost_round,
        early_stopping_rounds=params.early_stopping_rounds,
    )


def fold_scoring(cfg: Config | dict, panel: Any, *, allora: bool = False) -> FoldScoring:
    """The :class:`~czar_gbdt.evaluation.FoldScoring` of ``cfg`` on ``panel``: the :func:`book` and the rank
    IC :func:`~czar_gbdt.evaluation.scoring` picks (time-series for one series); ``allora`` adds Allora's
    scores to each fold's row."""
    cfg = as_config(cfg)
    return FoldScoring(**book(cfg), time_series=scoring(cfg, panel).time_series, allora=allora)


def run_walk_forward(
    cfg: Config | dict,
    panel: Panel,
    splitter: WalkForward,
    loss: BaseLoss | RankObjective | None,
    command: str = "evaluate",
    *,
    walk: Callable[..., WalkForwardResult] = walk_forward,
    on_fold: FoldCallback | None = None,
    predict: FoldPredictor | None = None,
    score_extra: ExtraScorer | None = None,
) -> WalkForwardResult:
    """:func:`~czar_gbdt.evaluation.walk_forward` with the config's fixed model and settings.

    ``loss`` is a loss, a :class:`~czar_gbdt.ranking.RankObjective` or None (the
    backend's built-in squared error); ``command`` names the command in the error about a
    search space; ``on_fold``, ``predict`` and ``score_extra`` are the
    :class:`~czar_gbdt.evaluation.FoldHooks`; the book and the rank IC are :func:`fold_scoring`'s.
    ``walk`` runs the folds (default :func:`~czar_gbdt.evaluation.walk_forward`;
    :func:`czar_gbdt.cluster.run_walk_forward` passes the cluster's, which takes the same arguments).

    Raises
    ------
    ConfigError
        When the config's model holds a search space (:func:`czar_gbdt.config.fixed_model`).
    """
    cfg = as_config(cfg)
    backend, booster = fixed_model(cfg, command)
    return walk(
        panel,
        splitter,
        model_spec(cfg, backend, booster, loss),
        fold_scoring(cfg, panel),
        FoldHooks(on_fold=on_fold, predict=predict, score_extra=score_extra),
    )


def evaluate_losses(
    cfg: Config | dict,
    specs: list[tuple[str, dict]],
    *,
    prepare: Callable[[Config, list], Any] | None = None,
    run: Callable[..., WalkForwardResult] | None = None,
) -> pd.DataFrame:
    """Walk-forward summary per model spec with the config's fixed booster parameters.

    Parameters
    ----------
    cfg : Config or dict
        A validated configuration with a fixed model (a search space is refused).
    specs : list of (name, params)
        Parsed model specs (:func:`czar_gbdt.specs.parse_spec`): a loss, ``"builtin"`` (the
        backend's own squared error) or ``"ranking"``. Empty: the config's own loss.

    Returns
    -------
    pandas.DataFrame
        One row per spec: ``loss`` (its label), the :meth:`WalkForwardResult.summary`
        figures and the mean ``directional_accuracy`` of the folds; ``attrs["scoring"]``
        says which rank IC (:meth:`Scoring.describe`). On one series a ranking objective
        is left out.

    Raises
    ------
    ConfigError
        For a search space in the model or the loss, or a spec naming an unknown model or
        parameter (the key is ``--loss NAME``).

    ``prepare(cfg, models)`` and ``run`` load and check the data and run one model's
    walk-forward (default: :func:`prepare_data` and :func:`run_walk_forward`, in memory;
    :func:`czar_gbdt.cluster.evaluate_losses` passes the cluster's).
    """
    cfg = as_config(cfg)
    backend, _ = fixed_model(cfg)
    models = _spec_models(specs, backend, cfg)
    panel = (prepare or prepare_data)(cfg, models)
    cfg = resolve_config(cfg, panel)  # data.target_transform "auto" resolved on the data, as the labels are
    how = scoring(cfg, panel)
    if not any(how.keeps(m) for m in models):
        raise ConfigError(
            f"--loss: nothing to evaluate{' on one series' if how.single_series else ''}: {how.describe()}"
        )
    splitter = make_splitter(cfg)
    rows = [
        _summary_row((run or run_walk_forward)(cfg, panel, splitter, model), model_label(model, backend))
        for model in filter(how.keeps, models)
    ]
    return _evaluate_table(rows, how)


def _spec_models(specs: list[tuple[str, dict]], backend: str, cfg: Config) -> list:
    """The models of ``evaluate``'s specs (each checked against the backend), or the config's own loss."""
    for name, params in specs:
        check_compare_spec(name, params, f"--loss {name}", [backend])
    specs = list(specs) or [fixed_loss(cfg)]
    return [build_model(name, params) for name, params in specs]


def _summary_row(result: WalkForwardResult, label: str) -> dict:
    """One row of ``evaluate``'s table: the walk-forward's summary, the mean directional accuracy of its
    folds and the top-k net spread weighted by the dates of each fold."""
    folds = result.folds
    net = (
        float(np.average(folds["top_k_net_spread"], weights=folds["top_k_dates"]))
        if "top_k_net_spread" in folds
        else np.nan
    )
    return {
        "loss": label,
        **result.summary(),
        "directional_accuracy": float(folds["directional_accuracy"].mean()),
        "top_k_net_spread": net,
    }


def _evaluate_table(rows: list[dict], how: Scoring) -> pd.DataFrame:
    """``evaluate``'s table: without the top-k spread on one series, and the scoring line in its attrs."""
    table = pd.DataFrame(rows)
    if how.single_series:  # no cross-section: the scoring line says why it is absent
        table = table.drop(columns="top_k_net_spread")
    table.attrs["scoring"] = how.describe()
    return table


def evaluate_holdout(cfg: Config | dict, params: Any) -> tuple[dict, pd.Series]:
    """Train a trial's parameters on every date before the final holdout and score the holdout.

    The training window follows the walk-forward rules (:meth:`WalkForward.final_fold`:
    the gap before the holdout, the last ``valid_size`` dates for early stopping when
    configured). Call it once per study: scoring several candidates on the holdout would
    choose on it.

    Parameters
    ----------
    cfg : Config or dict
        The study's validated configuration.
    params : czar_gbdt.tuning.TrialParams
        The trial's parameters as :func:`czar_gbdt.tuning.suggest_params` returns them, read by
        attribute (``backend``, ``booster``, ``loss``, ``loss_params``, ``num_boost_round``,
        ``early_stopping_rounds``; this layer is below tuning, so the type is not imported).

    Returns
    -------
    scores : dict
        ``start`` and ``end`` of the holdout (ISO dates), ``rounds`` kept, and the
        :func:`score_predictions` figures (:func:`holdout_scores`).
    per_date : pandas.Series
        Rank IC per holdout date (terms of the time-series rank IC for one series).
    """
    cfg = as_config(cfg)
    loss = get_loss(params.loss, **params.loss_params)  # the trial's parameters (not the configuration)
    panel = prepare_data(cfg, [loss])
    cfg = resolve_config(cfg, panel)
    result = walk_forward(
        panel, HoldoutSplit(make_splitter(cfg)), trial_spec(cfg, params, loss), fold_scoring(cfg, panel)
    )
    return holdout_scores(result), result.per_date

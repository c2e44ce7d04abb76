"""From a study to tomorrow's forecasts: train the chosen model on every labelled date (``czar-gbdt fit``).

:func:`fit_model` trains one model: the study's best trial (or trial ``N``), or the fixed
values of a configuration without search ranges (no study needed). It trains on every
date of the configuration's data that has a label, up to ``data.end``, the holdout
included (``report`` has scored it once already; the card says that the final model saw
it), with the trial's loss, booster parameters and rounds. With early stopping the rounds
are those the walk-forward chose: the median of the folds' best rounds (rounded half up,
at least 1), which the trial stored with its fold rows (a fixed configuration runs its
walk-forward to get them). A study made with another configuration is refused, as
``report`` refuses it. ``[cluster] engine = "dask"`` trains on the cluster
(:func:`czar_gbdt.cluster.fit_panel`). The result is a :class:`czar_gbdt.bundle.Model`;
``czar-gbdt fit`` saves it as ``<runs_dir>/<study.name>/model/``. See ``docs/forecast.md``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import cluster, evaluation, fingerprint
from ._version import __version__
from .bundle import FORMAT, Model
from .config import Config, ConfigError, as_config, fixed_loss, fixed_model, is_searched, load_config
from .evaluation import iso_date, make_splitter, model_spec, output_kind, scoring
from .losses import get_loss
from .ranking import RankObjective
from .reporting import HOLDOUT_ATTR
from .specs import build_model, model_label
from .tuning import StudyError, TrialParams, best_trial, fixed_params, load_checked_study, output_dir, trial_folds

__all__ = ["fit_model", "chosen_rounds", "model_dir", "ROUNDS_RULE"]

#: How the rounds of a model trained with early stopping are chosen (written on the card).
ROUNDS_RULE = (
    "the median of the walk-forward folds' best rounds (early stopping on each fold's validation rank IC), "
    "rounded half up"
)


def model_dir(cfg: Config | dict) -> Path:
    """Where ``czar-gbdt fit`` saves the bundle by default: ``<runs_dir>/<study.name>/model/``."""
    return output_dir(cfg) / "model"


def chosen_rounds(fold_rounds: Any) -> int:
    """The rounds a final model trains when the walk-forward stopped early: the median of the folds'
    best rounds, rounded half up, at least 1."""
    values = [int(r) for r in fold_rounds if r is not None and not (isinstance(r, float) and math.isnan(r))]
    if not values:
        raise ValueError("no fold recorded its rounds.")
    return max(1, int(math.floor(float(np.median(values)) + 0.5)))


def _searched(cfg: Config) -> bool:
    """Whether the model, the loss or any ``[loss.<name>]`` table holds a search space."""
    tables = [table for table in cfg.loss.tables.values() if isinstance(table, Mapping)]
    return (
        bool(cfg.model.searched())
        or is_searched(cfg.loss.name)
        or any(is_searched(value) for table in tables for value in table.values())
    )


def _trial(study: Any, number: int) -> Any:
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False):
        if t.number == number:
            if t.state != TrialState.COMPLETE:
                raise StudyError(
                    f"--trial {number}: trial #{number} of study {study.study_name!r} is "
                    f"{t.state.name.lower()}, not complete; fit a completed trial."
                )
            return t
    numbers = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    raise StudyError(
        f"--trial {number}: study {study.study_name!r} has no trial #{number}; its completed trials "
        f"are {numbers[:20]}{' ...' if len(numbers) > 20 else ''}."
    )


def _from_study(cfg: Config, trial: int | None, storage: str | None) -> tuple[TrialParams, dict, list]:
    """The trial's parameters, the card's ``chosen_by`` and the folds' rounds."""
    study, url = load_checked_study(cfg, storage, "fit")
    t = best_trial(study) if trial is None else _trial(study, trial)
    params = fixed_params(t, cfg)
    folds = trial_folds(t)
    stored = study.user_attrs.get(HOLDOUT_ATTR)
    holdout = None
    if stored is not None and stored.get("trial") == t.number:
        holdout = {"trial": stored["trial"], "evaluated_at": stored.get("evaluated_at"), **stored["result"]}
    chosen = {
        "study": study.study_name,
        "storage": url,
        "trial": t.number,
        "best_trial": best_trial(study).number,
        "objective": cfg.study.objective,
        "value": t.value,
        "fingerprint": study.user_attrs.get(fingerprint.ATTR),
        "walk_forward": {k: t.user_attrs.get(k) for k in ("mean_rank_ic", "icir", "t_stat", "n_dates", "n_folds")},
        "folds": folds.to_dict(orient="records"),
        "holdout": holdout,
        "holdout_note": (
            None
            if holdout is not None
            else "`report` has not scored this trial on the holdout"
            + (f" (it scored trial #{stored['trial']})" if stored else "")
        ),
    }
    rounds = list(folds["rounds"]) if "rounds" in folds else []
    return params, chosen, rounds


def _fixed(cfg: Config, spec: tuple[str, dict] | None) -> tuple[TrialParams, Any]:
    backend, booster = fixed_model(cfg, "fit")
    name, loss_params = spec if spec is not None else fixed_loss(cfg, "fit")
    return (
        TrialParams(
            backend, booster, name, loss_params, cfg.model.num_boost_round, cfg.model.early_stopping_rounds or 0
        ),  # 0 (as in the file): no early stopping
        build_model(name, loss_params),
    )


def _features_card(cfg: Config, panel: Any, trained: Any) -> tuple[dict, Any]:
    """How the features are built from the data, and the std prediction needs: None, ``"features"`` (a
    wide table's causal std), ``"ones"`` (``zscore`` labels) or a long panel's std column. Only a
    z-space model (CatBoost with a loss that needs a std) needs one."""
    d = cfg.data
    layout = evaluation.data_layout(cfg)
    z_space = bool(trained.options.get("z_space"))
    std = "ones" if z_space and d.target_transform == "zscore" else None
    if layout == "wide":
        info = panel.info
        assets = list(dict.fromkeys(str(a) for a in pd.unique(panel.assets)))
        features = {
            "layout": "wide",
            "values": "returns" if d.source == "ff49" else d.wide.values,
            "date_col": d.wide.date_col or "",
            "columns": list(d.wide.columns or ()) or assets,
            "windows": list(info["windows"]),
            "vol_window": info["vol_window"],
            "vol_floor": info["vol_floor"],
            "ranks": info["ranks"],
            "horizon": d.horizon,
            "names": list(panel.feature_names),
        }
        if z_space and d.target_transform != "zscore":
            std = "features"
    else:
        lazy = isinstance(panel, cluster.LazyPanel)
        names = list(panel.features) if lazy else list(panel.feature_names)
        side = panel.columns.get("std") if lazy else panel.info.get("side_columns", {}).get("std")
        features = {
            "layout": "long",
            "date_col": d.panel.date_col,
            "asset_col": d.panel.asset_col,
            "feature_cols": names,
            "horizon": d.horizon,
            "names": names,
        }
        if z_space and d.target_transform != "zscore":
            std = side
    features["n_assets"] = len(panel.assets) if isinstance(panel, cluster.LazyPanel) else int(panel.assets.nunique())
    features["target_transform"] = d.target_transform
    return features, std


def fit_model(
    config: Config | dict | str | os.PathLike,
    trial: int | None = None,
    *,
    loss: str | None = None,
    storage: str | None = None,
    echo: Any = None,
) -> Model:
    """Train the model a study chose (or a fixed configuration's) on every labelled date; returns a :class:`Model`.

    Parameters
    ----------
    config : Config, dict, str or os.PathLike
        The study's TOML configuration (or its typed :class:`~czar_gbdt.config.Config`, or its validated dict).
    trial : int, optional
        The study's trial to train (default: the best). A configuration without search
        ranges needs no study: its fixed values are trained, unless ``trial`` is given.
    loss : str, optional
        For a configuration without search ranges: a model spec replacing ``loss.name``
        (``"builtin"``, ``"ranking"``, ``"czar:alpha=0.5"``, ``"pkg.mod:name"``).
    storage : str, optional
        A SQLAlchemy URL replacing ``study.storage``.
    echo : callable, optional
        Called with one line per step (the CLI prints them on stderr).

    Raises
    ------
    ConfigError, DataError, StudyError
        A search space without a study, a study made with another configuration, a trial
        that does not exist, data the configuration cannot be trained on.
    """
    config = as_config(config if isinstance(config, (dict, Config)) else load_config(config))
    say = echo or (lambda line: None)
    params, model, chosen, fold_rounds = _chosen_model(config, trial, loss, storage)
    run = cluster.engine(config)
    panel = run.prepare_data(config, [model])
    config = evaluation.resolve_config(config, panel)  # data.target_transform "auto" resolved on the data
    _check_trainable(run, config, panel, model, params)
    ranking = isinstance(model, RankObjective)
    stop = params.early_stopping_rounds if model is not None and not ranking else 0
    if stop and not fold_rounds:  # a fixed configuration: its walk-forward chooses the rounds
        fold_rounds, chosen = _walk_forward_rounds(run, config, panel, model, say)
    rounds = chosen_rounds(fold_rounds) if stop else int(params.num_boost_round)
    dates = panel.dates if run is cluster else pd.DatetimeIndex(pd.unique(panel.dates))
    say(
        f"fit: training {model_label(model, params.backend)} on {params.backend} for {rounds} rounds on "
        f"{len(panel):,} rows, {len(dates):,} dates {iso_date(dates[0])} to {iso_date(dates[-1])}"
        + (" (the holdout included)" if config.splits.holdout else "")
        + (" on the Dask cluster" if run is cluster else "")
        + " ..."
    )
    trained = run.fit_panel(
        panel,
        model_spec(config, params.backend, params.booster, model, num_boost_round=rounds, early_stopping_rounds=0),
    )
    return Model(
        trained,
        _card(
            config, panel, trained, params, model, rounds=rounds, early_stopping=bool(stop), dates=dates, chosen=chosen
        ),
    )


def _chosen_model(
    config: Config, trial: int | None, loss: str | None, storage: str | None
) -> tuple[TrialParams, Any, dict | None, list]:
    """The parameters and model to train, the card's ``chosen_by`` and the folds' rounds: from the
    study (a trial was asked for, or the configuration searches), else the configuration's fixed values."""
    study_mode = trial is not None or _searched(config)
    if study_mode and loss is not None:
        raise ConfigError(
            "--loss: the loss of a study's trial is the trial's; --loss is for a configuration without search ranges."
        )
    if study_mode:
        params, chosen, fold_rounds = _from_study(config, trial, storage)
        return params, get_loss(params.loss, **params.loss_params), chosen, fold_rounds
    spec = None
    if loss is not None:
        from .config import check_compare_spec, parse_loss_spec

        spec = parse_loss_spec(loss, "--loss")
        check_compare_spec(*spec, "--loss", [config.model.backend])
    params, model = _fixed(config, spec)
    return params, model, None, []


def _check_trainable(run: Any, cfg: Config, panel: Any, model: Any, params: TrialParams) -> None:
    """Refuse a model the engine cannot train on this data (on a cluster: the cluster's own checks)."""
    if run is cluster:
        cluster.check_models([model])
    how = scoring(cfg, panel)
    if not how.keeps(model) and run is not cluster:
        raise ConfigError(
            f"--loss: {model_label(model, params.backend)} needs several assets per date; {how.describe()}"
        )


def _walk_forward_rounds(run: Any, cfg: Config, panel: Any, model: Any, say: Any) -> tuple[list, dict]:
    """A fixed configuration with early stopping: run its walk-forward for the folds' best rounds;
    returns them and the card's ``chosen_by`` (the walk-forward's summary and folds)."""
    say(f"fit: early stopping: running the walk-forward to choose the rounds ({ROUNDS_RULE}) ...")
    result = run.run_walk_forward(cfg, panel, make_splitter(cfg), model, "fit")
    chosen = {
        "study": None,
        "walk_forward": result.summary(),
        "folds": result.folds.assign(
            **{c: result.folds[c].map(iso_date) for c in ("train_start", "train_end", "test_start", "test_end")}
        ).to_dict(orient="records"),
    }
    return list(result.folds["rounds"]), chosen


def _model_entry(model: Any, params: TrialParams) -> dict:
    """The card's ``model``: the spec to rebuild it, its parameters, label and output kind."""
    ranking = isinstance(model, RankObjective)
    spec_name = "builtin" if model is None else "ranking" if ranking else params.loss
    spec_params = (
        {}
        if model is None
        else {"bins": model.n_bins, **({"objective": model.objective} if model.objective else {})}
        if ranking
        else dict(params.loss_params)
    )
    return {
        "spec": spec_name,
        "params": spec_params,
        "label": model_label(model, params.backend),
        "all_params": spec_params if model is None or ranking else dict(model.params),
        "output": output_kind(model),
    }


def _card(
    config: Config,
    panel: Any,
    trained: Any,
    params: TrialParams,
    model: Any,
    *,
    rounds: int,
    early_stopping: bool,
    dates: Any,
    chosen: dict | None,
) -> dict:
    """The model card (``model.json``): what was trained, on what, how the features are built, and why."""
    features, std = _features_card(config, panel, trained)
    n_holdout = config.splits.holdout
    holdout = {"start": iso_date(dates[-n_holdout]), "end": iso_date(dates[-1])} if n_holdout else None
    return {
        "format": FORMAT,
        "czar_gbdt": __version__,
        "backend": params.backend,
        "backend_version": _version_of(params.backend),
        "native_class": type(trained.model).__name__,
        "model": _model_entry(model, params),
        "booster_params": params.booster,
        "rounds": rounds,
        "num_boost_round": params.num_boost_round,
        "early_stopping_rounds": params.early_stopping_rounds,
        "rounds_rule": ROUNDS_RULE if early_stopping else "model.num_boost_round (no early stopping)",
        "seed": config.study.seed,
        "predict_options": dict(trained.options),
        "features": features,
        "prediction_needs": {"std": std},
        "training": {
            "start": iso_date(dates[0]),
            "end": iso_date(dates[-1]),
            "rows": len(panel),
            "dates": len(dates),
            "source": config.data.source,
            "data_start": config.data.start or "",
            "data_end": config.data.end or "",  # "": no limit
            "holdout": holdout,
            "holdout_included": holdout is not None,
            "engine": config.cluster.engine,
        },
        "chosen_by": chosen,
        "created_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC"),
    }


def _version_of(backend: str) -> str:
    import importlib

    return importlib.import_module(backend).__version__

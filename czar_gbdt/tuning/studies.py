"""Study access: open, load and check a study against its configuration, count its trials, read them.

A study records what its scores depend on (:mod:`czar_gbdt.fingerprint`, user attribute
``fingerprint``); :func:`check_fingerprint` refuses to resume it, report it or take its
parameters with a configuration that differs, naming the keys. The layers above read a
study through :func:`load_study`, :func:`load_checked_study`, :func:`best_trial`,
:func:`trial_folds`, :func:`trial_terms` and :func:`best_czar_trial`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

from .. import allora, cluster, fingerprint, selection
from ..config import ALLORA_OBJECTIVES, Config, ConfigError, as_config, load
from ..datasets import DataError
from ..evaluation import resolve_config
from .space import fixed_params, make_sampler
from .storage import StudyError, make_storage, storage_url

__all__ = [
    "TERMS_ATTR",
    "FINISHED",
    "PRUNE_AFTER_FOLD",
    "load_study",
    "load_checked_study",
    "with_storage",
    "resolve_auto_transform",
    "check_fingerprint",
    "open_study",
    "count_trials",
    "best_trial",
    "trial_terms",
    "trial_folds",
    "StudyCzar",
    "best_czar_params",
    "best_czar_trial",
]


#: The trial user attribute that holds a completed trial's per-date objective terms
#: (:func:`czar_gbdt.selection.encode_terms`; read back by :func:`trial_terms`).
TERMS_ATTR = "per_date_terms"

#: Trial states that count towards ``n_trials``.
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


#: The first fold after which a trial may be pruned (the median pruner's warm-up steps): the
#: objective does not ask the pruner before it, which would read the whole study to answer no.
PRUNE_AFTER_FOLD = 1


def with_storage(cfg: Config | dict, storage: str | None) -> Config:
    """``cfg`` with ``storage`` (``--storage``) as its ``study.storage``; ``cfg`` itself when none is given."""
    cfg = as_config(cfg)
    return cfg.with_value("study.storage", storage) if storage else cfg


def load_study(cfg: Config | dict, storage: str | None = None) -> optuna.Study:
    """Load the existing study of ``cfg`` without creating anything (no SQLite file, no study).

    Raises
    ------
    StudyError
        When the default SQLite file does not exist or the storage holds no study of that name.
    """
    cfg = with_storage(cfg, storage)
    url = storage_url(cfg, create=False)
    name = cfg.study.name
    source = f" (config {cfg.path})" if cfg.path else ""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        raise StudyError(
            f"study.name {name!r}: there is no study yet{source}: {url} does not exist; run "
            f"`czar-gbdt tune` with this config first."
        )
    try:
        return optuna.load_study(study_name=name, storage=make_storage(cfg, url))
    except KeyError:
        raise StudyError(
            f"study.name {name!r}: no study of that name in {url}{source}; run `czar-gbdt tune` "
            f"with this config first (or check study.name / --storage)."
        ) from None


def load_checked_study(cfg: Config | dict, storage: str | None, command: str) -> tuple[optuna.Study, str]:
    """The existing study of ``cfg`` (:func:`load_study`) and its storage URL, once
    :func:`check_fingerprint` has found it made with this configuration: what ``report`` and
    ``fit`` (``command``) read a study through."""
    cfg = as_config(cfg)
    study = load_study(cfg, storage)
    url = storage_url(with_storage(cfg, storage), create=False)
    check_fingerprint(study, cfg, command, url=url)
    return study, url


def resolve_auto_transform(cfg: Config | dict) -> Config:
    """``cfg`` with ``data.target_transform = "auto"`` resolved on its data
    (:func:`czar_gbdt.evaluation.resolve_config`), so that the fingerprint names the transform used (a study
    tuned with "demean" on a panel matches "auto"); data that does not load is left for its own error
    (prepare_data): ``cfg`` is returned unresolved."""
    cfg = as_config(cfg)
    if cfg.data.target_transform != "auto":
        return cfg
    try:
        panel = cluster.engine(cfg).load_data(cfg)
    except DataError:
        return cfg
    return resolve_config(cfg, panel)


def check_fingerprint(
    study: optuna.Study, cfg: Config | dict, command: str = "tune", *, url: str = "", record: dict | None = None
) -> str | None:
    """Refuse a configuration whose fingerprint (:mod:`czar_gbdt.fingerprint`) differs from the study's.

    ``tune`` records the fingerprint in a study that has none (a new study, or one made
    before fingerprints were recorded: then a note says so, returned). ``report`` and
    ``compare`` (``command``) only compare. ``data.target_transform = "auto"`` is resolved
    on the data first (:func:`resolve_auto_transform`).

    Raises
    ------
    StudyError
        Naming the differing keys, and how to start a new study or go back to the old
        configuration.
    """
    cfg = as_config(cfg)
    if record is None:
        record = fingerprint.record(resolve_auto_transform(cfg))
    stored = study.user_attrs.get(fingerprint.ATTR)
    if stored is None:
        if command != "tune":
            return None
        study.set_user_attr(fingerprint.ATTR, record)
        if count_trials(study, states=None):
            return (
                f"study {study.study_name!r} was made before studies recorded their configuration: its "
                f"trials are assumed to come from this config, which is recorded now."
            )
        return None
    diffs = fingerprint.record_differences(stored, record)
    if record["keys"].get("data.target_transform") == "auto":  # unresolved (the data did not load): not a reason
        diffs = [d for d in diffs if d[0] != "data.target_transform"]
    if not diffs:
        return None
    n = count_trials(study, states=None)
    source = f" ({cfg.path})" if cfg.path else ""
    if command == "tune":
        what = f"its {n} trials were scored under another setting, and new trials would not be comparable with them"
    else:
        what = f"`{command}` would rebuild its trials with values they were not scored with"
    raise StudyError(
        f"study.name {study.study_name!r}: the study{' in ' + url if url else ''} "
        f"was made with another configuration than this one{source}; {what}. Differing: "
        f"{fingerprint.describe(diffs)}. To start a new study with this configuration, give it a new "
        f"study.name; to use the old study, restore these values."
    )


def open_study(
    cfg: Config | dict, storage: optuna.storages.BaseStorage | None = None, *, worker: int = 0
) -> optuna.Study:
    """Create the study or load it if it exists (same name and storage).

    The sampler of each trial is seeded from ``study.seed`` and the trial's number
    (:func:`~czar_gbdt.tuning.space.make_sampler`), whichever process or worker runs it:
    no process re-draws the parameters of a trial the study already holds, and the same
    configuration run from scratch gives the same study. ``worker`` is kept for callers.
    """
    cfg = as_config(cfg)
    sampler = make_sampler(cfg)
    if cfg.study.pruner == "median":
        pruner = optuna.pruners.MedianPruner(
            n_startup_trials=cfg.study.n_startup_trials, n_warmup_steps=PRUNE_AFTER_FOLD
        )
    else:
        pruner = optuna.pruners.NopPruner()
    return optuna.create_study(
        storage=storage if storage is not None else make_storage(cfg),
        study_name=cfg.study.name,
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )


def count_trials(study: optuna.Study, states=FINISHED) -> int:
    """Trials of ``study`` in ``states`` (default: the finished ones, which count towards ``n_trials``)."""
    return len(study.get_trials(deepcopy=False, states=states))


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    """The best completed trial.

    Raises
    ------
    StudyError
        When the study has no completed trial yet (the message counts its trials by state).
    """
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        states = {}
        for t in study.get_trials(deepcopy=False):
            states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
        held = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "no trials"
        raise StudyError(
            f"study {study.study_name!r} has no completed trial yet ({held}): nothing to report; "
            f"run or resume `czar-gbdt tune` with this config."
        )
    return study.best_trial


def trial_terms(study: optuna.Study, cfg: Config | dict) -> tuple[pd.DataFrame | None, str]:
    """The per-date objective terms of every completed trial: ``(table, "")``, or ``(None, why)``.

    The table has one row per walk-forward date every completed trial holds and one column
    per trial (headed by its number, in number order): the T x N matrix of
    :mod:`czar_gbdt.selection`. ``why`` says in one sentence why there is none: an Allora
    objective (scored per fold, not per date), a study whose trials were scored before the
    terms were stored, fewer than two completed trials.
    """
    kind = as_config(cfg).study.objective
    if kind in ALLORA_OBJECTIVES:
        return None, (
            f"study.objective {kind!r} is scored per fold, not per date, so there are no per-date terms to "
            f"measure the selection bias with"
        )
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    missing = [t.number for t in done if TERMS_ATTR not in t.user_attrs]
    if missing:
        return None, (
            f"{len(missing)} of the {len(done)} completed trials were scored before trials stored their "
            f"per-date terms (a study made by an older czar-gbdt)"
        )
    if len(done) < 2:
        return None, f"the study holds {len(done)} completed trial; the selection bias needs at least 2"
    return selection.terms_matrix({t.number: selection.decode_terms(t.user_attrs[TERMS_ATTR]) for t in done}), ""


def trial_folds(trial: optuna.trial.FrozenTrial) -> pd.DataFrame:
    """The per-fold table the objective stored in ``trial`` (user attributes ``fold_0``, ``fold_1`` ...).

    Allora grades stored with the former eight-point table are re-graded on the current one
    (:func:`czar_gbdt.allora.allora_regrade`, which marks the rows it changed)."""
    rows = [
        trial.user_attrs[k]
        for k in sorted((k for k in trial.user_attrs if k.startswith("fold_")), key=lambda k: int(k.split("_")[1]))
    ]
    return pd.DataFrame([allora.allora_regrade(row) for row in rows])


@dataclass(frozen=True)
class StudyCzar:
    """The best completed CZAR trial of a study, as ``compare --study`` uses it.

    Attributes
    ----------
    params : dict
        Its CZAR parameters (as tuned or fixed in the study).
    source : str
        ``"study <name>, trial <n>"``.
    tuned : tuple of str or None
        The CZAR parameters the study searched (None when unknown: a ``best_params.json``
        written before it recorded them).
    booster : dict
        The trial's booster parameters, backend and boosting rounds (what ``compare``,
        which trains every model with the same booster, does not take).
    """

    params: dict
    source: str
    tuned: tuple | None
    booster: dict


def best_czar_params(ref: str | Path, key: str = "compare.study") -> tuple[dict, str]:
    """The CZAR parameters of the best CZAR trial of a tuning study: ``(params, source)``.

    See :func:`best_czar_trial`, which also says which parameters were tuned.
    """
    best = best_czar_trial(ref, key)
    return best.params, best.source


def best_czar_trial(ref: str | Path, key: str = "compare.study") -> StudyCzar:
    """The best CZAR trial of a tuning study: its CZAR parameters, which of them were tuned, its booster.

    Parameters
    ----------
    ref : str or Path
        ``best_params.json`` written by ``czar-gbdt tune`` (its best trial must be a
        CZAR trial), or the study's TOML config: then the study is opened read-only from
        its storage (after checking that the config is the one the study was made with,
        :func:`check_fingerprint`) and the best *completed CZAR* trial is taken (a study
        that also searched other losses may have a better non-CZAR trial).
    key : str
        The option or config key named in errors.

    Returns
    -------
    StudyCzar

    Raises
    ------
    ConfigError
        If the file or the study does not exist, holds no completed CZAR trial, or was
        made with another configuration than the TOML file (:class:`StudyError`).
    """
    path = Path(ref)
    if not path.is_file():
        raise ConfigError(f"{key}: {str(ref)!r} is not a file (give best_params.json or the study's TOML config).")
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text())
            best = data["best_params"]
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{key}: {str(ref)!r} is not a best_params.json written by `czar-gbdt tune`.") from None
        if best.get("loss") != "czar":
            raise ConfigError(
                f"{key}: the best trial in {str(ref)!r} used loss {best.get('loss')!r}, not czar; "
                "give the study's TOML config to take its best CZAR trial."
            )
        searched = data.get("searched")
        tuned = None if searched is None else tuple(k.split(".", 1)[1] for k in searched if k.startswith("czar."))
        return StudyCzar(
            dict(best.get("loss_params", {})),
            f"study {data.get('study', path.stem)}, trial {data.get('best_trial')}",
            tuned,
            _booster_of(best),
        )
    if path.suffix == ".toml":
        return _best_czar_trial(path, key)
    raise ConfigError(f"{key}: {str(ref)!r} must be a .json (best_params.json) or a .toml study config.")


def _booster_of(params: dict) -> dict:
    """The booster part of a trial's parameters as ``best_params.json`` holds them (the keys of
    :meth:`~czar_gbdt.tuning.space.TrialParams.booster_settings`; an older file may lack the rounds)."""
    return {k: params[k] for k in ("backend", "booster", "num_boost_round", "early_stopping_rounds") if k in params}


def _best_czar_trial(path: Path, key: str) -> StudyCzar:
    """The best completed CZAR trial of the study a TOML config describes (read-only: creates nothing)."""
    study_cfg = load(path)
    url = storage_url(study_cfg, create=False)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        raise ConfigError(
            f"{key}: the study of {str(path)!r} has no storage yet ({url}): run `czar-gbdt tune --config {path}` first."
        )
    name = study_cfg.study.name
    try:
        study = optuna.load_study(study_name=name, storage=url)
    except KeyError:
        raise ConfigError(
            f"{key}: no study named {name!r} in {url}: run `czar-gbdt tune --config {path}` first."
        ) from None
    try:
        check_fingerprint(study, study_cfg, "compare --study", url=url)
    except StudyError as exc:
        raise StudyError(f"{key} {str(path)!r}: {exc}") from None
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    for trial in sorted(done, key=lambda t: t.value, reverse=True):
        params = fixed_params(trial, study_cfg)
        if params.loss == "czar":
            tuned = tuple(k.split(".", 1)[1] for k in trial.params if k.startswith("czar."))
            return StudyCzar(
                dict(params.loss_params), f"study {name}, trial {trial.number}", tuned, params.booster_settings()
            )
    raise ConfigError(f"{key}: study {name!r} has no completed CZAR trial.")

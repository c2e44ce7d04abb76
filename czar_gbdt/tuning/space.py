"""The search space: what a trial draws, how it is seeded, and the parameters of a finished trial.

:func:`suggest_params` draws a trial's parameters (a :class:`TrialParams`) from the
configuration's ranges and choices (fixed values are taken as they are); :func:`fixed_params`
rebuilds them from a finished trial. Each trial's sampler is seeded from ``study.seed`` and the trial's number
(:func:`trial_seed`, :class:`TrialSeededSampler`), in whichever process runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import optuna

from ..config import Choices, Config, Range, as_config
from ..losses import get_loss, loss_name
from .storage import StudyError

__all__ = [
    "trial_seed",
    "TrialSeededSampler",
    "make_sampler",
    "TrialParams",
    "suggest_params",
    "fixed_params",
    "search_losses",
]


def trial_seed(seed: int, number: int) -> int:
    """The sampler seed of trial ``number`` of a study seeded ``seed`` (``study.seed``)."""
    return int(np.random.SeedSequence([int(seed), int(number)]).generate_state(1)[0])


class TrialSeededSampler(optuna.samplers.BaseSampler):
    """A sampler made afresh for every trial, seeded from the study seed and the trial's number.

    A sampler seeded once per process restarts its sequence in every process: a resumed
    run, a run with a larger ``--trials``, a run after SIGKILL and two processes on one
    study would all draw the parameter sets already drawn. Trial numbers are handed out by
    the storage, one per trial, atomically: seeding from them gives every trial of a study
    its own draws, in any process, and the same study again when the same configuration
    runs from scratch. The samplers keep no state of their own between trials (TPE reads
    the finished trials from the storage), so nothing is lost by making one per trial.
    """

    def __init__(self, make: Callable[[int], optuna.samplers.BaseSampler], seed: int):
        self._make, self._seed = make, seed
        self._inner = make(seed)

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._inner = self._make(trial_seed(self._seed, trial.number))
        self._inner.before_trial(study, trial)

    def infer_relative_search_space(self, study, trial):
        return self._inner.infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._inner.sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._inner.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study, trial, state, values) -> None:
        self._inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._inner.reseed_rng()


def make_sampler(cfg: Config | dict) -> TrialSeededSampler:
    """The study's sampler (``study.sampler``: TPE or random), made afresh for every trial and
    seeded from ``study.seed`` and the trial's number (:class:`TrialSeededSampler`)."""
    study = as_config(cfg).study
    if study.sampler == "tpe":

        def make(seed: int) -> optuna.samplers.BaseSampler:
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=study.n_startup_trials)
    else:

        def make(seed: int) -> optuna.samplers.BaseSampler:
            return optuna.samplers.RandomSampler(seed=seed)

    return TrialSeededSampler(make, study.seed)


def _suggest_value(trial: optuna.Trial, name: str, space: Any) -> Any:
    if isinstance(space, Range):
        if space.is_int:
            return trial.suggest_int(name, space.low, space.high, step=space.step or 1, log=space.log)
        return trial.suggest_float(
            name, float(space.low), float(space.high), log=space.log, step=None if space.log else space.step
        )
    if isinstance(space, Choices):
        return trial.suggest_categorical(name, list(space.choices))
    return space


@dataclass(frozen=True)
class TrialParams:
    """The parameters of one trial, drawn by :func:`suggest_params` (or rebuilt by :func:`fixed_params`),
    read by attribute (``params.loss``); :meth:`to_dict` gives them as the dict ``best_params.json`` stores.
    """

    backend: str
    booster: dict[str, Any]  # the booster parameters, without the rounds
    loss: str  # a registered name or an import path ("package.module:name")
    loss_params: dict[str, Any]
    num_boost_round: int
    early_stopping_rounds: int  # 0: no early stopping

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict (``backend``, ``booster``, ``loss``, ``loss_params``, the rounds)."""
        return asdict(self)

    def booster_settings(self) -> dict[str, Any]:
        """What the booster trains with: ``backend``, ``booster`` and the rounds (not the loss)."""
        return {k: getattr(self, k) for k in ("backend", "booster", "num_boost_round", "early_stopping_rounds")}


def suggest_params(trial: optuna.Trial, cfg: Config | dict) -> TrialParams:
    """Concrete parameters of one trial: backend, booster parameters, loss name and parameters,
    boosting rounds and early stopping rounds.

    Parameter names in the study are prefixed (``model.learning_rate``,
    ``czar.alpha``) so that losses sharing a parameter name keep separate distributions;
    the rounds, when searched, are ``model.num_boost_round`` and ``model.early_stopping_rounds``.
    The draws are made in the same order for every trial (a seeded sampler depends on it).
    """
    cfg = as_config(cfg)
    model = cfg.model
    stop = 0 if model.early_stopping_rounds is None else model.early_stopping_rounds
    rounds = _suggest_value(trial, "model.num_boost_round", model.num_boost_round)
    stopping = _suggest_value(trial, "model.early_stopping_rounds", stop)
    backend = _suggest_value(trial, "model.backend", model.backend)
    booster = {name: _suggest_value(trial, f"model.{name}", space) for name, space in model.params.items()}
    loss = _suggest_value(trial, "loss.name", cfg.loss.name)  # a name or an import path
    table = loss_name(loss)  # the parameter table: [loss.<registered name>]
    loss_params = {
        name: _suggest_value(trial, f"{table}.{name}", space) for name, space in cfg.loss.params_of(loss).items()
    }
    return TrialParams(backend, booster, loss, loss_params, rounds, stopping)


def fixed_params(trial: optuna.trial.FrozenTrial, cfg: Config | dict) -> TrialParams:
    """The parameters of a finished trial, rebuilt the way :func:`suggest_params` made them."""
    fixed = optuna.trial.FixedTrial(dict(trial.params))
    try:
        return suggest_params(fixed, as_config(cfg))
    except ValueError as exc:  # a parameter the config searches that the trial does not hold
        raise StudyError(
            f"trial {trial.number} cannot be rebuilt with this configuration ({exc}); it was made "
            f"with another search space: use the config the study was made with."
        ) from None


def search_losses(cfg: Config | dict) -> list:
    """Every loss the search may pick, with its default parameters (what the data check needs:
    whether a loss needs a per-row ``std``, and its kernels to compile)."""
    return [get_loss(name) for name in as_config(cfg).loss.names]

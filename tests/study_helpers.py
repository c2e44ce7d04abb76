"""Helpers shared by the tuner and command-line tests: a toy objective, a small [study] table and a small FF49 search.

A module (not a conftest) so that worker processes spawned by the tuner can import
:func:`toy_objective_factory` by name: a spawned process gets the parent's ``sys.path``,
which holds this folder while pytest runs.
"""

import os
import time

from czar_gbdt.tuning import suggest_params


def toy_objective_factory(cfg: dict):
    """A cheap, deterministic tuning objective for tests of storage, workers and resume.

    It suggests the configuration's parameters like the real objective, reports one
    intermediate value per "fold", optionally sleeps ``cfg["_toy"]["sleep"]`` seconds per
    fold (so that a test can kill a worker mid-trial) and returns a smooth function of
    the numeric parameters.
    """
    toy = cfg.get("_toy", {}) if isinstance(cfg, dict) else {}  # a typed Config has no extra keys
    sleep, folds = toy.get("sleep", 0.0), toy.get("folds", 3)

    def objective(trial):
        params = suggest_params(trial, cfg)
        numbers = [
            v
            for v in (*params.booster.values(), *params.loss_params.values())
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
        value = -sum((v - 0.5) ** 2 for v in numbers)
        for fold in range(folds):
            trial.report(value, fold)
            time.sleep(sleep)
        trial.set_user_attr("pid", os.getpid())
        return value

    return objective


def study_table(name: str) -> str:
    """The ``[study]`` table of the small test studies: 2 trials, random sampler, no pruner, seed 3.

    ``runs_dir`` is left as the ``{runs}`` placeholder for ``str.format``.
    """
    return (
        f'[study]\nname = "{name}"\nruns_dir = "{{runs}}"\nn_trials = 2\nseed = 3\nsampler = "random"\n'
        f'pruner = "none"\n'
    )


def data_error_objective_factory(cfg: dict):
    """An objective whose every trial fails with a data error (the kind that stops a study at once)."""
    from czar_gbdt.datasets import DataError

    def objective(trial):
        suggest_params(trial, cfg)
        time.sleep(cfg.get("_toy", {}).get("sleep", 0.0))
        raise DataError("the data went bad")

    return objective


#: After a :func:`study_table`: a small CZAR search on the bundled FF49 data (2 folds of 120 dates, a
#: 120-date holdout, 20 rounds); braces doubled for ``str.format``.
FF49_TINY = """
[data]
source = "ff49"
start = "2017-01-01"
horizon = 5

[splits]
test_size = 120
min_train_size = 400
holdout = 120
max_splits = 2

[model]
backend = "lightgbm"
num_boost_round = 20

[model.params]
learning_rate = {{ low = 0.05, high = 0.2 }}
num_leaves = {{ low = 4, high = 8 }}
num_threads = 2

[loss]
name = "czar"

[loss.czar]
alpha = {{ low = 0.0, high = 1.0 }}
"""

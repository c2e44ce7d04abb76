"""The progress line of ``tune`` on stderr: compiling kernels, then a bar of finished trials."""

from __future__ import annotations

import threading

import optuna
from optuna.trial import TrialState

from .studies import count_trials

__all__ = ["report_progress"]


def _best(study: optuna.Study) -> float | None:
    """The best value of the study's completed trials, or None before the first."""
    values = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if t.value is not None]
    if not values:
        return None
    return max(values) if study.direction == optuna.study.StudyDirection.MAXIMIZE else min(values)


def report_progress(
    study: optuna.Study, total: int, stop: threading.Event, ready: threading.Event, objective: str
) -> None:
    """The progress of ``tune`` on stderr, until ``stop`` is set.

    While the kernels compile (``ready`` not yet set after 3 s, as :func:`~czar_gbdt.evaluation.warm_up`
    waits before it says so) it says "compiling
    kernels (first run only)" and the time so far. Then a bar of finished trials with the
    best value so far; its time estimate comes from the trials after the first one of this
    run (the first pays for loading the data and warming the caches, and would make the
    estimate of every later trial too long), so the bar shows no estimate until that trial
    ends.
    """
    from tqdm import tqdm

    if not ready.wait(3.0):
        with tqdm(desc="compiling kernels (first run only)", bar_format="{desc} [{elapsed}]", leave=False) as bar:
            while not ready.wait(0.5) and not stop.is_set():
                bar.refresh()
    if stop.is_set():
        return
    start = min(count_trials(study), total)
    first = tqdm(
        total=total,
        initial=start,
        desc="trials",
        unit="trial",
        dynamic_ncols=True,
        leave=False,
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, estimate after the first trial]",
    )
    bar = None
    try:
        while True:
            last = stop.is_set()  # read before counting: the last pass counts every trial of the run
            done = min(count_trials(study), total)
            if bar is None and (done > start or last):
                first.close()  # the first trial of this run is done: estimate from here on
                bar = tqdm(total=total, initial=done, desc="trials", unit="trial", dynamic_ncols=True)
            current = bar or first
            current.update(max(0, done - current.n))
            best = _best(study)
            if best is not None:
                current.set_postfix_str(f"best {objective} {best:.4f}", refresh=False)
            current.refresh()
            if last:
                return
            stop.wait(1.0)
    finally:
        first.close()
        if bar is not None:
            bar.close()

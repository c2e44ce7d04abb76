"""The warm-up before a run starts timing trials: the kernels compiled (or loaded from numba's cache)
on a tiny panel, with a line for a progress bar when that takes a while."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .engine import score_predictions
from .training import fit_predict

__all__ = ["warm_up"]


def warm_up(
    losses: list,
    backends: Any = ("lightgbm",),
    *,
    early_stopping: bool = False,
    on_slow: Callable[[str], None] | None = None,
    after: float = 3.0,
) -> float:
    """Compile (or load from numba's cache) the kernels a run needs before it starts timing trials.

    The first run on a machine compiles the losses' loops, the backend adapters' code and
    the metric kernels, which takes several seconds; later runs load them from the cache.
    This trains each loss for two rounds on each backend on a tiny synthetic panel and
    scores it as a fold is scored. ``on_slow`` is called with one line when that takes
    longer than ``after`` seconds, so that a progress bar does not sit at 0 unexplained.
    Returns the seconds it took.
    """
    from ..datasets import make_synthetic_panel

    done = threading.Event()

    def tell() -> None:
        if not done.wait(after) and on_slow is not None:
            on_slow(
                "compiling the numba kernels of the losses, backends and metrics (first run only; later runs "
                "load them from the cache) ..."
            )

    start = time.perf_counter()
    thread = threading.Thread(target=tell, daemon=True)
    thread.start()
    try:
        tiny = make_synthetic_panel(n_dates=12, n_assets=12, n_features=3, signal_ic=0.3, seed=0)
        for backend in backends:
            for loss in losses:
                (pred,), _ = fit_predict(
                    backend,
                    {},
                    loss,
                    tiny,
                    [tiny],
                    valid=tiny if early_stopping else None,
                    num_boost_round=2,
                    early_stopping_rounds=1 if early_stopping else 0,
                    target_transform="demean",
                )
                score_predictions(tiny, pred, top_k=2, cost=0.0005)
    finally:
        done.set()
        thread.join()
    return time.perf_counter() - start

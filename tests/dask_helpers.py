"""Data helpers of the Dask tests (tests/test_dask.py, tests/test_cluster.py).

A module (not a conftest) so that the tests import the same panel builder by name.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pandas as pd

FEATURES = ["f0", "f1", "f2", "f3"]


def panel_frame(n_dates: int = 120, n_assets: int = 60, seed: int = 0) -> pd.DataFrame:
    """A long panel (date, asset, f0..f3, target, std, weight), sorted by date.

    The features take few distinct values (one decimal), so that a histogram sketch on
    the cluster and one in memory find the same bins: "the same data" for a parity test.
    The target has a drift (0.5% a period: the starting score is then far from 0 compared
    with the label range, where ``loss.init_score``, a Brent search on the flat mean loss,
    is accurate to 1e-8 relative), a planted signal in f0/f1 and t(4) noise scaled by a per-row
    std; weights vary by row.
    """
    rng = np.random.default_rng(seed)
    n = n_dates * n_assets
    X = np.round(rng.normal(size=(n, len(FEATURES))), 1)
    std = 0.01 * np.exp(rng.normal(size=n))  # dispersed: a misaligned std changes the model
    y = 0.005 + std * (np.tanh(X[:, 0]) + 0.5 * X[:, 1] + rng.standard_t(4, size=n))
    frame = pd.DataFrame(X, columns=FEATURES)
    frame.insert(0, "asset", np.tile([f"a{i:03d}" for i in range(n_assets)], n_dates))
    frame.insert(0, "date", np.repeat(pd.bdate_range("2015-01-01", periods=n_dates), n_assets))
    frame["target"] = y
    frame["std"] = std
    frame["weight"] = rng.uniform(0.5, 2.0, size=n)
    return frame


def write_parquet_folder(frame: pd.DataFrame, folder, n_files: int = 3) -> None:
    """Write ``frame`` as ``n_files`` Parquet files cut at row counts (a date may straddle two files)."""
    os.makedirs(folder, exist_ok=True)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), n_files)):
        frame.iloc[rows].to_parquet(os.path.join(folder, f"part{i:03d}.parquet"), index=False)


def kill_worker_when(client, predicate, delay: float = 0.0, timeout: float = 120.0) -> tuple[str, float]:
    """SIGKILL the worker process on which ``predicate(key)`` first holds for a task in progress.

    The kill comes ``delay`` seconds after the task is seen. Returns the worker's address
    and the time of the kill (``time.monotonic()``).
    """
    pids = client.run(os.getpid)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for address, keys in client.processing().items():
            if any(predicate(str(k)) for k in keys):
                time.sleep(delay)
                os.kill(pids[address], signal.SIGKILL)
                return address, time.monotonic()
        time.sleep(0.05)
    raise TimeoutError("no matching task started on the cluster")


def is_training_task(key: str) -> bool:
    """Whether a task key is a training task of xgboost.dask (``fn-...``) or lightgbm.dask (``_train_part-...``)."""
    return key.startswith(("fn-", "_train_part-"))

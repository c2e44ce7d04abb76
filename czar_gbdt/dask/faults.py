"""Faults: a worker that leaves the cluster during a training call fails the call within seconds
(:class:`WorkerLostError`) instead of leaving it waiting forever."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .._imports import try_import

with try_import("dask", min_version="2026.8", extra="dask", module="czar_gbdt.dask") as _imports:
    import distributed

__all__ = ["WorkerLostError", "run_guarded", "worker_addresses"]


class WorkerLostError(RuntimeError):
    """A worker left the cluster while a training call was running (killed, crashed, out of memory)."""


def worker_addresses(client: Any) -> set[str]:
    """The addresses of the cluster's workers, asked of the scheduler.

    Not ``client.scheduler_info()["workers"]``: that returns the client's cached identity,
    which the client's periodic update refreshes *without* the workers, so a read racing
    the update finds none (a long training then saw every worker "leave").
    """
    return set(client.sync(client.scheduler.identity, n_workers=-1)["workers"])


def run_guarded(
    client: Any, call: Callable[[], Any], *, what: str = "training", grace: float = 10.0, poll: float = 0.25
) -> Any:
    """Run ``call()`` (a blocking call on the cluster) and fail fast when a worker leaves.

    The call runs on a helper thread while this thread watches the cluster's workers. When
    a worker that was there at the start leaves, the call's own error (XGBoost and
    LightGBM fail at once when a peer's socket closes) is raised as a
    :class:`WorkerLostError`. If the call has not ended ``grace`` seconds later (a peer
    stuck waiting for the lost worker, for example while the workers connect), the
    surviving workers are restarted, which ends their tasks, and the error is raised: a
    lost worker never hangs the caller.

    Returns
    -------
    whatever ``call()`` returns
    """
    before = worker_addresses(client)
    keys_before = set(client.futures)
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            with client.as_current():  # the backends' Dask code waits on futures through the current client
                box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name=f"czar-gbdt {what}", daemon=True).start()
    lost: set[str] = set()
    lost_at = unreachable_at = None
    while not done.wait(poll):
        if lost_at is None:
            try:
                lost = before - worker_addresses(client)
                unreachable_at = None
            except Exception:  # noqa: BLE001 - the scheduler did not answer: every worker is lost only if it stays so
                unreachable_at = unreachable_at or time.monotonic()
                lost = set(before) if time.monotonic() - unreachable_at > grace else set()
            if lost:
                lost_at = time.monotonic()
        elif time.monotonic() - lost_at > grace:
            break
    if not lost and done.is_set():
        try:
            lost = before - worker_addresses(client)
        except Exception:  # noqa: BLE001
            lost = set()
    error = box.get("error")
    abandoned = lost and not done.is_set()
    if abandoned:
        # the call is stuck (a peer waiting for the lost worker): restarting the survivors ends
        # their tasks, which ends the call and releases what it holds (XGBoost's lock on the workers)
        survivors = sorted(before - lost)
        try:
            client.restart_workers(survivors, raise_for_error=False)
            # and the call's tasks that wait for the lost worker (pinned to it) are cancelled
            client.cancel([distributed.Future(key, client) for key in set(client.futures) - keys_before])
        except Exception:  # noqa: BLE001 - best effort: the error below is raised either way
            pass
        done.wait(min(grace, 2.0))
        error = None  # whatever the call did after the restart is not its result
    if lost and (error is not None or abandoned):
        cause = (
            f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
            if error is not None
            else f"the call had not ended {grace:g} s later, so the other workers were restarted to end it"
        )
        raise WorkerLostError(
            f"{what} on the Dask cluster failed: worker(s) {', '.join(sorted(lost))} left the cluster during the call "
            f"(killed, crashed, or restarted by its nanny, for example for exceeding memory_limit); {cause}. "
            "Nothing was trained; run it again (a LocalCluster replaces a lost worker)."
        ) from error
    if error is not None:
        raise error
    return box.get("value")

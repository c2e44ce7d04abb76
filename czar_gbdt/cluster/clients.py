"""The Dask client of a configuration's ``[cluster]``: one per process, closed at exit.

``cluster.scheduler`` connects to a running scheduler; empty, a ``LocalCluster`` of worker
processes is started with ``n_workers``, ``threads_per_worker`` and ``memory_limit``.
"""

from __future__ import annotations

import atexit
from typing import Any

from ..config import ClusterConfig, Config, as_config

__all__ = ["client_for", "client_of", "close_clients"]

_CLIENTS: dict[ClusterConfig, Any] = {}


def client_for(cfg: Config | dict) -> Any:
    """The Dask client of ``cfg.cluster`` (created once per process, closed at exit).

    ``cluster.scheduler`` connects to a running scheduler; empty, a ``LocalCluster`` of
    worker processes is started with ``n_workers``, ``threads_per_worker`` and
    ``memory_limit``.
    """
    return client_of(as_config(cfg).cluster)


def client_of(c: ClusterConfig) -> Any:
    """The client of the cluster section ``c`` (hashable: the key of the clients made in this process)."""
    from .. import dask as cdask

    cdask.check_imports()
    import distributed

    client = _CLIENTS.get(c)
    if client is not None and client.status == "running":
        return client
    if client is not None:  # its scheduler went away: start afresh
        _close(client)
    # not the default client: every computation here names its client, and a caller's own
    # default client (or a later one) stays theirs
    if c.scheduler:
        try:
            client = distributed.Client(c.scheduler, timeout="30s", set_as_default=False)
        except OSError as exc:
            raise OSError(f"cluster.scheduler: cannot reach the Dask scheduler at {c.scheduler!r} ({exc}).") from None
    else:
        local = distributed.LocalCluster(
            n_workers=c.n_workers,
            threads_per_worker=c.threads_per_worker,
            memory_limit=c.memory_limit,
            processes=True,
            dashboard_address=None,
        )
        client = distributed.Client(local, set_as_default=False)
    _CLIENTS[c] = client
    atexit.register(_close, client)
    return client


def close_clients() -> None:
    """Close the clients :func:`client_for` made in this process (and the LocalClusters they started)."""
    while _CLIENTS:
        _close(_CLIENTS.popitem()[1])


def _close(client: Any) -> None:
    """Close a client (and the LocalCluster it started) without waiting long for a scheduler that is gone."""
    cluster = getattr(client, "cluster", None)
    for closing in (client, cluster):
        if closing is None:
            continue
        try:
            closing.close(timeout=5)
        except Exception:  # noqa: BLE001 - closing at exit or after the scheduler went away
            pass

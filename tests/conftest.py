import os

from hypothesis import HealthCheck, settings

# Hypothesis: a CI profile that is deterministic and does not flake on slow machines.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=150)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_loss_registry():
    """Losses a test (or a docs page) defines with define_loss stay in that test: the registry of
    loss names is restored after each one, so later tests see the built-in names only."""
    from czar_gbdt.losses import LOSSES

    saved = dict(LOSSES)
    yield
    LOSSES.clear()
    LOSSES.update(saved)


@pytest.fixture(scope="session")
def dask_client():
    """A real ``distributed`` cluster for the Dask tests: 2 worker processes, 1 thread and 1 GiB each.

    Started once per session (a few seconds) and shared by tests/test_dask.py and
    tests/test_cluster.py; tests that kill a worker start a cluster of their own.
    """
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="1GiB", processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(2)
        yield client
        from czar_gbdt.cluster import close_clients

        close_clients()  # the commands' clients of this scheduler, before it goes


def pytest_collection_modifyitems(config, items):
    """A test on the shared Dask cluster (the ``dask_client`` fixture) is ``slow``: it waits on worker
    processes. CI runs every test; ``-m "not slow"`` leaves these out while developing."""
    for item in items:
        if "dask_client" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)

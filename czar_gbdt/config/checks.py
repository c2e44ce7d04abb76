"""Checks of the configuration that other layers call on their own values too: the cluster table,
a storage URL, model specs (``compare.losses``, ``report.baselines``, ``--loss``) and an installed backend.

Each raises :class:`~.schema.ConfigError` naming the key or option the value came from.
"""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path

from .. import specs
from .._imports import install_hint
from ..losses import get_loss
from .schema import ConfigError
from .spaces import check_field, space_values

__all__ = [
    "check_cluster",
    "check_storage_url",
    "parse_loss_spec",
    "check_compare_spec",
    "validate_specs",
    "check_installed",
]

_SCHEDULER_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://", "ws://", "wss://")


def check_cluster(cfg: dict) -> None:
    """The ``[cluster]`` table, and what ``engine = "dask"`` asks of the other sections.

    On a Dask cluster the data is a Parquet file or a folder of them (read lazily), the
    backend has a Dask interface (xgboost, lightgbm), LightGBM trains without early
    stopping (its Dask interface has none), and the loss is element-wise and not scheduled
    (each worker sees only its rows, and no round). Errors name the key.
    """
    c = cfg["cluster"]
    check_field("cluster.engine", c["engine"])
    scheduler = c["scheduler"]
    if scheduler and (not scheduler.startswith(_SCHEDULER_SCHEMES) or scheduler.endswith("://")):
        raise ConfigError(
            f"cluster.scheduler must be a Dask scheduler address such as 'tcp://host:8786' (or \"\" to "
            f"start a LocalCluster); got {scheduler!r}."
        )
    for key in ("n_workers", "threads_per_worker"):
        check_field(f"cluster.{key}", c[key])
    limit = c["memory_limit"].strip()
    if limit != "auto":
        try:
            from dask.utils import parse_bytes

            ok = parse_bytes(limit) >= 0
        except (ImportError, ValueError, TypeError):
            ok = bool(limit) and limit.replace(".", "", 1).isdigit()
        if not ok:
            raise ConfigError(
                f"cluster.memory_limit must be 'auto', a size such as '4GiB' or '500MB', or '0' (no "
                f"limit); got {c['memory_limit']!r}."
            )
    if c["engine"] != "dask":
        return
    source = cfg["data"]["source"]
    if source == "ff49" or not (Path(source).is_dir() or source.lower().endswith((".parquet", ".pq", ".parq"))):
        raise ConfigError(
            f"data.source: cluster.engine = 'dask' reads a long panel lazily from Parquet (a file or a "
            f"folder of Parquet files); got {source!r}."
        )
    if cfg["data"].get("layout") == "wide":
        raise ConfigError(
            "data.layout: cluster.engine = 'dask' reads a long panel (one row per date and asset); a "
            "wide table's features are built in memory."
        )
    for backend in space_values(cfg["model"]["backend"]):
        if backend not in ("xgboost", "lightgbm"):
            raise ConfigError(
                f"model.backend: {backend!r} has no Dask interface; on a cluster use 'xgboost' or 'lightgbm'."
            )
        if backend == "lightgbm" and any(space_values(cfg["model"]["early_stopping_rounds"])):
            raise ConfigError(
                "model.early_stopping_rounds: LightGBM's Dask interface has no early stopping "
                "(https://github.com/microsoft/LightGBM/issues/3712); set it to 0 or use backend "
                "'xgboost', which stops on the validation rank IC summed over the workers."
            )
    for name in space_values(cfg["loss"]["name"]):
        loss = get_loss(name)
        if not loss.elementwise or loss.scheduled:
            raise ConfigError(
                f"loss.name: {name!r} cannot train on a Dask cluster: "
                + (
                    "its gradients need whole-dataset counts and each worker sees only its own rows."
                    if not loss.elementwise
                    else "it changes with the boosting round."
                )
            )


def check_storage_url(url: str, key: str = "study.storage") -> None:
    """Refuse a storage the tuner cannot use, naming ``key``: anything but a SQLAlchemy URL.

    optuna's journal storage (``journal:///path.log``, a ``.log`` file, Redis) is refused: in
    the installed optuna only :class:`optuna.storages.RDBStorage` keeps heartbeats, and
    without them a trial whose worker was killed stays RUNNING for ever instead of being
    failed and retried. Parsing the URL opens no connection.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"{key} must be a SQLAlchemy URL; got {url!r}.")
    scheme = url.split(":", 1)[0].lower() if "://" in url else ""
    if (
        scheme.startswith("journal")
        or scheme in ("redis", "rediss")
        or (not scheme and url.endswith((".log", ".journal")))
    ):
        raise ConfigError(
            f"{key}: journal storage is not supported ({url!r}): optuna's JournalStorage has no heartbeats, so "
            f"a trial whose worker is killed would stay RUNNING for ever instead of being failed and retried. "
            f"Use a PostgreSQL or MySQL URL (postgresql://user@host/db) for several workers, or SQLite "
            f"(sqlite:///path.db, the default) for one."
        )
    try:
        make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{key} must be a SQLAlchemy URL such as sqlite:///runs/study.db or postgresql://user@host/db; got {url!r}."
        ) from None


@contextlib.contextmanager
def _spec_errors():
    """Report a bad model spec as a configuration error (exit code 2 on the command line)."""
    try:
        yield
    except specs.SpecError as exc:
        raise ConfigError(str(exc)) from None


def parse_loss_spec(spec: str, key: str = "--loss") -> tuple[str, dict]:
    """``"czar:alpha=0.5,epsilon=1"`` -> ``("czar", {"alpha": 0.5, "epsilon": 1.0})``
    (:func:`czar_gbdt.specs.parse_spec`); ``key`` names the option or config key in the error."""
    with _spec_errors():
        return specs.parse_spec(spec, key)


#: The extra of ``pyproject.toml`` that installs each optional backend (LightGBM is a dependency).
_BACKEND_EXTRAS = {"xgboost": "xgboost", "catboost": "catboost"}


def check_installed(backend: str) -> None:
    """Refuse, before any work, a ``model.backend`` whose booster is not installed (an extra)."""
    if backend in _BACKEND_EXTRAS and importlib.util.find_spec(backend) is None:
        raise ConfigError(
            f"model.backend = {backend!r}, but {backend} is not installed (it is an extra of "
            f"czar-gbdt): install it with {install_hint(backend, _BACKEND_EXTRAS[backend])}."
        )


def check_compare_spec(name: str, params: dict, key: str, backends: list | None = None) -> None:
    """Refuse an unknown name or parameter, or a value the model refuses, naming ``key``
    (:func:`czar_gbdt.specs.check_spec`)."""
    with _spec_errors():
        specs.check_spec(name, params, key, backends or ())


def validate_specs(given: list, key: str, backends: list, allow_empty: bool = False) -> None:
    """A list of model specs (``compare.losses``, ``report.baselines``): each checked, none twice."""
    if not given and not allow_empty:
        raise ConfigError(f"{key} must be a non-empty list of loss specs; got {given!r}.")
    seen = set()
    for i, spec in enumerate(given):
        item = f"{key}[{i}]"
        name, params = parse_loss_spec(spec, item)
        check_compare_spec(name, params, item, backends)
        canonical = (name, tuple(sorted(params.items())))
        if canonical in seen:
            raise ConfigError(f"{item}: {spec!r} is listed twice.")
        seen.add(canonical)

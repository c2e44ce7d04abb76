"""The validated configuration as frozen dataclasses: read by attribute, decoded once.

:meth:`Config.from_validated` turns the dict of :func:`~.validate.validate_config` into a
:class:`Config` of one frozen section per table (:class:`StudyConfig`, :class:`DataConfig`,
:class:`SplitsConfig`, :class:`ModelConfig`, :class:`LossConfig`, :class:`CompareConfig`,
:class:`ReportConfig`, :class:`ClusterConfig`) and the config file's path. The conventions of
the file are decoded here and nowhere else: a ``0`` or ``""`` that means "the default" or "auto"
is ``None``, and the field's comment says what ``None`` means; lists are tuples. Every section
(and the whole :class:`Config`) is hashable, so that a section can be a cache key as it is.

A searched value is a :class:`~.schema.Range` or :class:`~.schema.Choices`; a fixed one is the
value. :meth:`ModelConfig.fixed` and :meth:`LossConfig.fixed` return the typed fixed model and
loss, or raise the :class:`~.schema.ConfigError` that names the searched key.

:meth:`Config.to_dict` gives the validated dict back (``"_path"`` included) for code that still
reads string keys; :func:`as_config` accepts either form, so that a function can take both
while its callers move to :class:`Config`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..losses import loss_name
from .schema import Choices, ConfigError, Range

__all__ = [
    "Config",
    "StudyConfig",
    "DataConfig",
    "FeaturesConfig",
    "WideConfig",
    "PanelConfig",
    "SplitsConfig",
    "ModelConfig",
    "LossConfig",
    "CompareConfig",
    "ReportConfig",
    "ClusterConfig",
    "FixedModel",
    "FixedLoss",
    "Params",
    "SECTIONS",
    "as_config",
    "fixed_model",
    "fixed_loss",
    "is_searched",
]


def is_searched(value: Any) -> bool:
    """Whether ``value`` is a search space (:class:`Range` or :class:`Choices`) rather than a fixed value."""
    return isinstance(value, (Range, Choices))


class Params(Mapping):
    """A read-only, hashable mapping (booster parameters, a loss's parameters, the loss tables).

    Compares equal to a dict with the same items; :meth:`to_dict` gives a plain (nested) dict.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping | None = None) -> None:
        self._items = {k: Params(v) if isinstance(v, Mapping) else v for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"Params({self._items!r})"

    def to_dict(self) -> dict:
        """A plain dict of the items (nested :class:`Params` as dicts too)."""
        return {k: v.to_dict() if isinstance(v, Params) else v for k, v in self._items.items()}


def _unset(value: Any) -> Any:
    """A field whose file value ``value`` (``0``, ``""``, ``[]``) means "the default": it reads as ``None``."""
    return field(metadata={"unset": value})


def _table(cls: type) -> Any:
    """A field holding a sub-table of the section (``data.wide``), as the section class ``cls``."""
    return field(metadata={"table": cls})


class _Section:
    """Decoding from and encoding to the validated table, one field per key, in the table's order."""

    @classmethod
    def from_table(cls, table: dict) -> Any:
        """The section of the validated ``table``: ``unset`` values as ``None``, lists as tuples."""
        values = {}
        for f in fields(cls):  # type: ignore[arg-type]
            value = table[f.name]
            if "table" in f.metadata:
                value = f.metadata["table"].from_table(value)
            elif isinstance(value, list):
                value = tuple(value)
            unset = f.metadata.get("unset", ...)
            if value is not None and type(value) is type(unset) and value == unset:
                value = None
            values[f.name] = value
        return cls(**values)

    def to_dict(self) -> dict:
        """The validated table of the section (the file's conventions: ``""``, ``0``, lists)."""
        out = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and "unset" in f.metadata:
                value = f.metadata["unset"]
            if isinstance(value, _Section):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


@dataclass(frozen=True)
class StudyConfig(_Section):
    """``[study]``: the optuna study (name, storage, sampler, pruner, trials, seed) and its failure policy."""

    name: str
    storage: str | None = _unset("")  # None: sqlite:///<runs_dir>/<name>.db
    runs_dir: str
    n_trials: int
    seed: int
    sampler: str
    pruner: str
    objective: str
    heartbeat_interval: int
    grace_period: int
    max_retry: int
    n_startup_trials: int


@dataclass(frozen=True)
class FeaturesConfig(_Section):
    """``[data.features]``: the windows of the features built from a wide table."""

    windows: tuple[int, ...]
    vol_window: int


@dataclass(frozen=True)
class WideConfig(_Section):
    """``[data.wide]``: how a wide table (one column per asset) is read."""

    values: str
    date_col: str | None = _unset("")  # None: the first column
    columns: tuple[str, ...] | None = _unset(())  # None: every asset column
    dates: str  # "periods": the date column holds integer period numbers


@dataclass(frozen=True)
class PanelConfig(_Section):
    """``[data.panel]``: the columns of a long panel (one row per date and asset)."""

    date_col: str
    asset_col: str
    target_col: str
    feature_cols: tuple[str, ...] | None = _unset(())  # None: every other numeric column
    std_col: str | None = _unset("")  # None: the column named std, when the table has one
    mean_col: str | None = _unset("")  # None: the column named mean, when the table has one
    weight_col: str | None = _unset("")  # None: the column named weight, when the table has one
    sort: bool


@dataclass(frozen=True)
class DataConfig(_Section):
    """``[data]``: the data set, its date range, the label's horizon and the target transform.

    Hashable: the data loaded for it can be cached under it.
    """

    source: str  # "ff49" (the bundled data) or the path of a CSV or Parquet file (or folder)
    layout: str  # "wide", "long" or "auto" (long if it has the asset or target column)
    start: str | None = _unset("")  # None: from the first date
    end: str | None = _unset("")  # None: to the last date
    horizon: int
    target_transform: str  # "auto": "demean" for a cross-section, "raw" for one series
    features: FeaturesConfig = _table(FeaturesConfig)
    wide: WideConfig = _table(WideConfig)
    panel: PanelConfig = _table(PanelConfig)


@dataclass(frozen=True)
class SplitsConfig(_Section):
    """``[splits]``: the walk-forward folds and the holdout (``valid_size`` and ``holdout`` 0: none)."""

    train_size: int | None = _unset(0)  # None: an expanding window
    min_train_size: int
    test_size: int
    step: int | None = _unset(0)  # None: test_size
    gap: int | None = _unset(0)  # None: the horizon
    valid_size: int
    holdout: int
    max_splits: int | None = _unset(0)  # None: all


@dataclass(frozen=True)
class FixedModel:
    """A model without search space: what ``evaluate`` and ``compare`` train."""

    backend: str
    params: Params
    num_boost_round: int
    early_stopping_rounds: int | None  # None: no early stopping


@dataclass(frozen=True)
class FixedLoss:
    """A loss without search space: its name (or import path) and its parameters."""

    name: str
    params: Params


def _fixed(key: str, value: Any, command: str) -> Any:
    if is_searched(value):
        raise ConfigError(f"{key} is a search space; `{command}` needs fixed values (use `tune` to search).")
    return value


@dataclass(frozen=True)
class ModelConfig(_Section):
    """``[model]``: the backend, its rounds and its booster parameters, each fixed or searched."""

    backend: str | Choices
    num_boost_round: int | Range | Choices
    early_stopping_rounds: int | Range | Choices | None  # None (0 in the file): no early stopping
    params: Params

    @classmethod
    def from_table(cls, table: dict) -> ModelConfig:
        """The section of the validated ``[model]`` table."""
        stop = table["early_stopping_rounds"]
        return cls(table["backend"], table["num_boost_round"], None if stop == 0 else stop, Params(table["params"]))

    def to_dict(self) -> dict:
        """The validated ``[model]`` table."""
        stop = 0 if self.early_stopping_rounds is None else self.early_stopping_rounds
        return {
            "backend": self.backend,
            "num_boost_round": self.num_boost_round,
            "early_stopping_rounds": stop,
            "params": self.params.to_dict(),
        }

    def searched(self) -> dict[str, Range | Choices]:
        """The searched keys and their spaces: ``{"model.params.num_leaves": Range(8, 64), ...}``."""
        keys = {
            f"model.{name}": getattr(self, name) for name in ("backend", "num_boost_round", "early_stopping_rounds")
        }
        keys.update({f"model.params.{name}": value for name, value in self.params.items()})
        return {key: value for key, value in keys.items() if is_searched(value)}

    def fixed(self, command: str = "evaluate") -> FixedModel:
        """The model without search space; ``command`` (``"evaluate"``, ``"compare"``) is named in the error.

        Raises
        ------
        ConfigError
            Naming the key (``model.params.learning_rate``, ``model.num_boost_round``) that
            holds a range or choices.
        """
        backend = _fixed("model.backend", self.backend, command)
        params = Params({k: _fixed(f"model.params.{k}", v, command) for k, v in self.params.items()})
        rounds = _fixed("model.num_boost_round", self.num_boost_round, command)
        stop = _fixed("model.early_stopping_rounds", self.early_stopping_rounds, command)
        return FixedModel(backend, params, rounds, stop)


@dataclass(frozen=True)
class LossConfig(_Section):
    """``[loss]``: the loss (fixed or searched) and the ``[loss.<name>]`` tables of parameters."""

    name: str | Choices
    tables: Params  # loss name -> its parameters (fixed values or spaces); {} for a loss not given

    @classmethod
    def from_table(cls, table: dict) -> LossConfig:
        """The section of the validated ``[loss]`` table."""
        return cls(table["name"], Params({k: v for k, v in table.items() if k != "name"}))

    def to_dict(self) -> dict:
        """The validated ``[loss]`` table."""
        return {"name": self.name, **self.tables.to_dict()}

    @property
    def names(self) -> tuple[str, ...]:
        """The losses the search may pick (one for a fixed loss)."""
        return self.name.choices if isinstance(self.name, Choices) else (self.name,)

    def params_of(self, name: str) -> Params:
        """The parameters of loss ``name`` (a registered name or an import path) in the config."""
        return self.tables.get(loss_name(name), Params())

    def fixed(self, command: str = "evaluate") -> FixedLoss:
        """The loss without search space (as :meth:`ModelConfig.fixed`)."""
        name = _fixed("loss.name", self.name, command)
        table = loss_name(name)
        return FixedLoss(
            name, Params({k: _fixed(f"loss.{table}.{k}", v, command) for k, v in self.params_of(name).items()})
        )


@dataclass(frozen=True)
class CompareConfig(_Section):
    """``[compare]``: what ``czar-gbdt compare`` trains on the same folds, and the top-k book."""

    losses: tuple[str, ...]  # model specs NAME[:k=v,...]
    ensemble: bool
    study: str | None = _unset("")  # None: no tuned study added (else best_params.json or a TOML config)
    top_k: int
    cost: float  # per unit of turnover, in target units
    eval_alpha: float  # CZAR alpha of the test-fold loss column


@dataclass(frozen=True)
class ReportConfig(_Section):
    """``[report]``: the baselines trained beside the tuned model, and the CSCV blocks."""

    baselines: tuple[str, ...]
    cscv_blocks: int


@dataclass(frozen=True)
class ClusterConfig(_Section):
    """``[cluster]``: where the folds train (this process, or a Dask cluster)."""

    engine: str  # "local" or "dask"
    scheduler: str | None = _unset("")  # None: start a LocalCluster with the settings below
    n_workers: int
    threads_per_worker: int
    memory_limit: str  # per worker: "auto", "4GiB", "0" (no limit)


#: The section classes, in the order of the file.
SECTIONS = {
    "study": StudyConfig,
    "data": DataConfig,
    "splits": SplitsConfig,
    "model": ModelConfig,
    "loss": LossConfig,
    "compare": CompareConfig,
    "report": ReportConfig,
    "cluster": ClusterConfig,
}


@dataclass(frozen=True)
class Config:
    """A validated run configuration, one frozen section per table; hashable."""

    study: StudyConfig
    data: DataConfig
    splits: SplitsConfig
    model: ModelConfig
    loss: LossConfig
    compare: CompareConfig
    report: ReportConfig
    cluster: ClusterConfig
    path: str | None  # the TOML file it was read from; None: built in Python

    @classmethod
    def from_validated(cls, cfg: dict, path: str | None = None) -> Config:
        """The configuration of a dict returned by :func:`~.validate.validate_config` (or
        :func:`~.load.load_config`, whose ``"_path"`` is the default ``path``)."""
        sections = {name: section.from_table(cfg[name]) for name, section in SECTIONS.items()}
        return cls(**sections, path=path if path is not None else cfg.get("_path"))

    def to_dict(self) -> dict:
        """The validated dict (a new one each call), with ``"_path"`` when the path is known."""
        out: dict[str, Any] = {name: getattr(self, name).to_dict() for name in SECTIONS}
        if self.path is not None:
            out["_path"] = self.path
        return out

    def value(self, key: str) -> Any:
        """The value of the dotted ``key`` as the validated dict holds it (``"report.baselines"``)."""
        section, *rest = key.split(".")
        value = getattr(self, section).to_dict()
        for part in rest:
            value = value[part]
        return value

    def with_value(self, key: str, value: Any) -> Config:
        """A copy with the dotted ``key`` set to ``value`` as the validated dict writes it
        (``config.with_value("data.target_transform", "demean")``); the value is not validated again."""
        out = self.to_dict()
        *path, name = key.split(".")
        table = out
        for part in path:
            table = table[part]
        if name not in table:
            raise KeyError(f"{key!r} is not a key of the configuration.")
        table[name] = value
        return Config.from_validated(out)


def as_config(cfg: Config | dict) -> Config:
    """``cfg`` as a :class:`Config`: itself, or the :class:`Config` of a validated dict."""
    return cfg if isinstance(cfg, Config) else Config.from_validated(cfg)


def fixed_model(cfg: Config | dict, command: str = "evaluate") -> tuple[str, dict]:
    """The config's backend and booster parameters, refusing search spaces (:meth:`ModelConfig.fixed`).

    ``command`` (``"evaluate"``, ``"compare"``) is the command the error names.

    Raises
    ------
    ConfigError
        Naming the key (``model.params.learning_rate``, ``model.num_boost_round``) that
        holds a range or choices.
    """
    model = as_config(cfg).model.fixed(command)
    return model.backend, model.params.to_dict()


def fixed_loss(cfg: Config | dict, command: str = "evaluate") -> tuple[str, dict]:
    """The config's loss name and parameters, refusing search spaces (:meth:`LossConfig.fixed`)."""
    loss = as_config(cfg).loss.fixed(command)
    return loss.name, loss.params.to_dict()

"""A trained model on disk: the bundle ``czar-gbdt fit`` writes, and the forecasts it makes.

A bundle is a folder with two files: the backend's native model (LightGBM text
``model.txt``, XGBoost JSON ``booster.json``, CatBoost ``model.cbm``) and
``model.json``, the card: what the model is (backend and
versions, the loss spec with its parameters, booster parameters and rounds), how its
features are built from the data (a wide table's layout, values, windows, horizon and
asset columns, or a long panel's feature columns), what prediction needs besides the
features (a per-row std for CatBoost's z-space models), what it was trained on and how
it was chosen (the study, trial, fingerprint and the walk-forward and holdout figures).

:func:`load_model` needs only the bundle: no configuration, no study, no optuna. It
checks the card's format version (a bundle of an incompatible version is refused with
one line naming both versions) and the native file's size and SHA-256 (a truncated
bundle is refused); :meth:`Model.save` writes the folder atomically (a temporary folder,
then a rename), so that a half-written bundle never loads. :meth:`Model.predict` reads
the same inputs as ``data.source`` (a wide table of returns, log returns or prices, or a
long panel; CSV, Parquet or a DataFrame), builds the features as training did and
forecasts the last date, the last N dates or every date that has features. See
``docs/forecast.md``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._files import write_json
from ._version import __version__
from .datasets import DataError, Panel, date_text, load_ff49, load_panel, load_wide, read_table
from .features import build_features
from .specs import build_model

__all__ = ["FORMAT", "CARD", "NATIVE_FILES", "BundleError", "Model", "load_model", "forecast_frame", "warm_up_dates"]

#: The bundle format this version writes and reads; bumped when the card or the files change meaning.
FORMAT = 1

#: The card's file name in the bundle folder.
CARD = "model.json"

#: The native model file of each backend.
NATIVE_FILES = {"lightgbm": "model.txt", "xgboost": "booster.json", "catboost": "model.cbm"}


class BundleError(DataError):
    """A bundle that cannot be loaded, or data a model cannot forecast from (one line; exit code 2)."""


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _backend_version(backend: str) -> str:
    try:
        return importlib.import_module(backend).__version__
    except ImportError:
        return "not installed"


def _save_native(backend: str, trained: Any, path: Path) -> None:
    if backend == "lightgbm":
        trained.model.save_model(str(path), num_iteration=trained.rounds)
    else:
        trained.model.save_model(str(path))


def _load_native(backend: str, path: Path, card: dict) -> Any:
    """The native model of ``path``, wrapped as the backend module's ``TrainedModel`` (its ``predict``)."""
    module = importlib.import_module(f"czar_gbdt.{backend}")  # the booster is imported only now
    if backend == "lightgbm":
        import lightgbm

        native = lightgbm.Booster(model_file=str(path))
    elif backend == "xgboost":
        import xgboost

        native = xgboost.Booster()
        native.load_model(str(path))
    else:
        import catboost

        native = getattr(catboost, card["native_class"])()
        native.load_model(str(path))
    return module.TrainedModel(native, card["rounds"], **card["predict_options"])


def warm_up_dates(features: dict) -> int:
    """Rows of a wide table the features need up to the forecast date: the longest look-back
    (``max(windows)`` and ``vol_window``), one more for prices (the first row has no return)."""
    return max(max(features["windows"]), features["vol_window"]) + (features["values"] == "prices")


class Model:
    """A trained model and its card: :func:`load_model` reads one, :func:`czar_gbdt.fit_model` trains one.

    Attributes
    ----------
    card : dict
        What the model is and how it was chosen (``model.json``; see ``docs/forecast.md``).
    trained
        The backend module's ``TrainedModel`` (``predict(X, std)``, ``rounds``).
    """

    def __init__(self, trained: Any, card: dict):
        self.trained = trained
        self.card = card

    def __repr__(self) -> str:
        c = self.card
        chosen = c.get("chosen_by") or {}
        where = f", study {chosen['study']!r} trial #{chosen['trial']}" if chosen.get("study") else ""
        return f"Model({c['backend']}, {c['model']['label']}, {c['rounds']} rounds{where})"

    @property
    def booster(self) -> Any:
        """The backend's native model (``lightgbm.Booster``, ``xgboost.Booster``, ``catboost.CatBoost``)."""
        return self.trained.model

    @property
    def loss(self) -> Any:
        """The loss (or ranking objective; None for the built-in squared error), rebuilt from the card's spec."""
        return resolve_spec(self.card["model"])

    def save(self, path: str | os.PathLike) -> Path:
        """Write the bundle folder ``path`` (replacing one that is there) atomically; returns the path.

        The files are written into a temporary folder next to ``path``, the card last
        (with the native file's size and SHA-256), which then replaces ``path`` by a rename.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            backend = self.card["backend"]
            native = tmp / NATIVE_FILES[backend]
            _save_native(backend, self.trained, native)
            card = {
                **self.card,
                "native_file": native.name,
                "native_bytes": native.stat().st_size,
                "native_sha256": _sha256(native),
            }
            write_json(tmp / CARD, card)
            old = None
            if path.exists():
                old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
                path.rename(old)
            tmp.rename(path)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            self.card = card
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return path

    def predict(self, data: Any, dates: str | int = "last") -> pd.DataFrame:
        """Forecasts from ``data``, the features built as training built them.

        Parameters
        ----------
        data : str, os.PathLike or pandas.DataFrame
            What ``data.source`` of the training configuration was: a wide table (returns,
            log returns or prices as the card's ``values`` says; a DataFrame with a
            DatetimeIndex) or a long panel (date, asset and the model's feature columns; no
            target needed), CSV or Parquet; ``"ff49"`` is the bundled FF49 table.
        dates : "last", "all" or int, default "last"
            The data's last date (the one that has features but no label yet), every date
            that has features, or the last N dates.

        Returns
        -------
        pandas.DataFrame
            ``date, asset, forecast``, and ``rank`` (the cross-sectional percentile 0..1,
            lowest 0) when the data has several assets. ``attrs["left_out"]`` lists the
            (date, asset) pairs without features on a requested date (an asset missing on
            that date or within the features' look-back), which are left out.

        Raises
        ------
        BundleError
            One line naming what is missing: a feature column of a long panel, an asset
            column of a wide table, or the dates the features' warm-up needs.
        """
        panel, left_out = forecast_frame(self.card, data, dates)
        X = panel.X.to_numpy(dtype=np.float64)
        need = self.card["prediction_needs"]["std"]
        std = np.ones(len(panel)) if need == "ones" else panel.std if need else None
        pred = np.asarray(self.trained.predict(X, std=std), dtype=np.float64).reshape(-1)
        out = pd.DataFrame({"date": np.asarray(panel.dates), "asset": np.asarray(panel.assets), "forecast": pred})
        if out["asset"].nunique() > 1 or self.card["features"].get("n_assets", 1) > 1:
            r = out.groupby("date")["forecast"].rank(method="average")
            n = out.groupby("date")["forecast"].transform("count")
            out["rank"] = ((r - 1) / (n - 1)).where(n > 1)
        out.attrs["left_out"] = left_out
        return out


def resolve_spec(model: dict) -> Any:
    """The loss, ranking objective or None (built-in) of a card's ``model`` entry, built again from its spec.

    A loss of the user's own (``"package.module:name"``) needs its module importable.
    """
    try:
        return build_model(model["spec"], model["params"])
    except (ValueError, TypeError, ImportError) as exc:
        raise BundleError(
            f"the model's loss {model['spec']!r} cannot be rebuilt ({exc}); a loss of your own must be "
            f"importable (its module on sys.path) where the model is loaded."
        ) from None


def load_model(path: str | os.PathLike) -> Model:
    """Load a bundle written by ``czar-gbdt fit`` (or :meth:`Model.save`): only the folder is needed.

    Raises
    ------
    BundleError
        One line: no bundle at ``path``, a truncated or altered file, a bundle written by
        an incompatible version (naming both versions), or a loss that cannot be rebuilt.
    """
    path = Path(path)
    card_path = path / CARD
    if not card_path.is_file():
        raise BundleError(f"{path}: not a model bundle (no {CARD}); write one with `czar-gbdt fit`.")
    try:
        card = json.loads(card_path.read_text())
        fmt, version = card["format"], card["czar_gbdt"]
    except (ValueError, KeyError, TypeError):
        raise BundleError(
            f"{card_path}: not a complete model card (truncated or not written by czar-gbdt fit); fit the model again."
        ) from None
    if fmt != FORMAT:
        raise BundleError(
            f"{path}: the bundle was written by czar-gbdt {version} (bundle format {fmt}); this is "
            f"czar-gbdt {__version__}, which reads bundle format {FORMAT}: fit the model again with "
            f"this version."
        )
    native = path / card.get("native_file", "")
    if (
        not native.is_file()
        or native.stat().st_size != card.get("native_bytes")
        or _sha256(native) != card.get("native_sha256")
    ):
        raise BundleError(
            f"{native}: the model file is missing, truncated or altered (its size or SHA-256 differs "
            f"from {CARD}'s); fit the model again."
        )
    resolve_spec(card["model"])  # a loss of your own must still be importable
    try:
        trained = _load_native(card["backend"], native, card)
    except ImportError as exc:
        raise BundleError(f"{path}: the model needs {card['backend']} ({exc}).") from None
    return Model(trained, card)


# --------------------------------------------------------------------------- the data of a forecast
def _requested(all_dates: pd.DatetimeIndex, dates: str | int) -> pd.DatetimeIndex:
    if isinstance(dates, str) and dates.strip().isdigit():
        dates = int(dates)
    if dates == "last":
        return all_dates[-1:]
    if dates == "all":
        return all_dates
    if isinstance(dates, (int, np.integer)) and not isinstance(dates, bool) and dates >= 1:
        return all_dates[-int(dates) :]
    raise ValueError(f"dates must be 'last', 'all' or a number of dates >= 1; got {dates!r}.")


def forecast_frame(card: dict, data: Any, dates: str | int = "last") -> tuple[Panel, list]:
    """The rows to forecast: a :class:`~czar_gbdt.datasets.Panel` of the requested dates (features in the
    model's order, ``std`` when prediction needs it; its target is NaN) and the ``(date, asset)``
    pairs left out for want of features."""
    f = card["features"]
    if f["layout"] == "wide":
        return _wide_rows(f, data, dates)
    return _long_rows(f, card["prediction_needs"]["std"], data, dates)


def _wide_rows(f: dict, data: Any, dates: str | int) -> tuple[Panel, list]:
    if isinstance(data, str) and data == "ff49":
        returns, where = load_ff49(), "the bundled FF49 data"
    else:
        where = "the DataFrame" if isinstance(data, pd.DataFrame) else os.fspath(data)
        returns = load_wide(data, values=f["values"], date_col=f["date_col"] or None)
    missing = [c for c in f["columns"] if c not in returns.columns]
    if missing:
        raise BundleError(
            f"{where}: no column for asset(s) {missing} of the model; its features (and their "
            f"cross-sectional ranks) are built from the assets {f['columns']}."
        )
    returns = returns[f["columns"]]
    wanted = _requested(returns.index, dates)
    need = warm_up_dates(f)
    first = returns.index.get_loc(wanted[0])
    if dates != "all" and first < need - 1:
        raise BundleError(
            f"{where}: too few dates for the features' warm-up: the forecast for {date_text(wanted[0])} "
            f"needs {need} dates of {f['values'].replace('_', ' ')} up to it (windows "
            f"{list(f['windows'])}, vol_window {f['vol_window']}"
            f"{', and the first price has no return' if f['values'] == 'prices' else ''}); the data "
            f"has {first + 1}."
        )
    panel = build_features(
        returns,
        horizon=f["horizon"],
        windows=tuple(f["windows"]),
        vol_window=f["vol_window"],
        vol_floor=f["vol_floor"],
        ranks=f["ranks"],
        dropna=False,
    )
    on_date = np.isin(panel.dates.values, wanted.values)
    ok = np.isfinite(panel.X.to_numpy(dtype=np.float64)).all(axis=1) & np.isfinite(panel.std)
    keep = on_date & ok
    left = on_date & ~ok
    if dates == "all":  # the warm-up dates are not forecast dates: only the assets missing on a forecast date
        left &= np.isin(panel.dates.values, np.unique(panel.dates.values[keep]))
    left_out = [(date_text(pd.Timestamp(d)), str(a)) for d, a in zip(panel.dates[left], panel.assets[left])]
    if not keep.any():
        raise BundleError(
            f"{where}: no asset has features on {', '.join(date_text(d) for d in wanted[-3:])}: every "
            f"asset's return is missing on that date or within the features' look-back."
        )
    rows = panel.subset(np.flatnonzero(keep))
    return rows, left_out


def _long_rows(f: dict, std_col: Any, data: Any, dates: str | int) -> tuple[Panel, list]:
    table, where = read_table(data)
    std_name = std_col if std_col not in (None, "ones") else None
    need = [f["date_col"], f["asset_col"], *f["feature_cols"], *([std_name] if std_name else [])]
    missing = [c for c in dict.fromkeys(need) if c not in table.columns]
    if missing:
        what = [c for c in missing if c in f["feature_cols"]]
        raise BundleError(
            f"{where}: missing column(s) {missing} the model needs"
            + (f" (feature column(s) {what} of the model)" if what else "")
            + f"; the model's features are {f['feature_cols']}."
        )
    target = "__czar_gbdt_no_target__"
    frame = table[list(dict.fromkeys(need))].assign(**{target: 0.0})  # the target is not needed to forecast
    try:
        panel = load_panel(
            frame,
            date_col=f["date_col"],
            asset_col=f["asset_col"],
            target_col=target,
            feature_cols=f["feature_cols"],
            std_col=std_name,
            mean_col=None,
            weight_col=None,
        )
    except DataError as exc:
        raise BundleError(str(exc).replace("the DataFrame", where, 1)) from None
    wanted = _requested(pd.DatetimeIndex(pd.unique(panel.dates)), dates)
    rows = panel.subset(np.flatnonzero(np.isin(panel.dates.values, wanted.values)))
    rows = Panel.from_arrays(
        rows.X.reset_index(drop=True),
        np.full(len(rows), math.nan),
        rows.dates,
        rows.assets,
        std=rows.std,
        info=rows.info,
    )
    return rows, []

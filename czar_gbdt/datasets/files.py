"""Data files: which readers take a file, reading a table, its layout (wide or long) and its digest."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pandas as pd

from .errors import DataError
from .ff49 import ff49_file

__all__ = ["LAYOUTS", "detect_layout", "read_table", "resolve_layout", "source_digest"]

#: Values of ``layout``: ``"long"`` (one row per date and asset), ``"wide"`` (one row per date,
#: one column per asset) or ``"auto"`` (:func:`detect_layout`).
LAYOUTS = ("auto", "wide", "long")

_PARQUET = (".parquet", ".pq", ".parq")
_TEXT = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".txt", ".tsv")
_SPREADSHEET = (".xlsx", ".xls", ".xlsm", ".ods")


def read_table(source: Any) -> tuple[pd.DataFrame, str]:
    """Read a CSV/TSV or Parquet file (or take a DataFrame): the table and how messages name it.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        ``.csv`` (optionally ``.gz``/``.bz2``/``.zip``/``.xz``), ``.tsv``, ``.txt`` or
        ``.parquet`` file (Parquet needs the ``parquet`` extra), or a DataFrame.

    Returns
    -------
    table : pandas.DataFrame
    where : str
        The path, or ``"the DataFrame"``.
    """
    if isinstance(source, pd.DataFrame):
        _refuse_duplicate_names([str(c) for c in source.columns], "the DataFrame")
        return source, "the DataFrame"
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"source must be a path (CSV or Parquet) or a DataFrame; got {type(source).__name__}.")
    path = os.fspath(source)
    if not os.path.exists(path):
        raise ValueError(f"source {path!r} does not exist.")
    low = path.lower()
    _check_file(path)
    try:
        if low.endswith(_PARQUET):
            import pyarrow.parquet as pq

            _refuse_duplicate_names(list(pq.read_schema(path).names), path)
            return pd.read_parquet(path), path
        sep = "\t" if low.endswith(".tsv") else ","
        table = pd.read_csv(path, sep=sep)
        header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise DataError(_unreadable(path, exc)) from None
    _refuse_duplicate_names([c for c in header.iloc[0] if isinstance(c, str)] if len(header) else [], path)
    return table, path


def _refuse_duplicate_names(names: list, where: str) -> None:
    """Refuse repeated column names: pandas would rename the repeats ``x.1``, ``x.2``, and a
    repeated asset or feature would pass for another one."""
    seen: dict = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    dup = [name for name, n in seen.items() if n > 1]
    if dup:
        raise DataError(
            f"{where}: duplicate column names in the header: {dup[:10]} (pandas would rename the repeats "
            f"{dup[0]!r} to {dup[0] + '.1'!r}, ...); give every column its own name."
        )


def _check_file(path: str) -> None:
    """Refuse a file of a type no reader takes (a spreadsheet, ...) and an empty file, in one line."""
    low = path.lower()
    if not low.endswith(_PARQUET + _TEXT):
        raise DataError(
            f"{path}: unknown file type {os.path.splitext(path)[1] or '(no suffix)'!r}; save the table "
            f"as .csv (optionally compressed: .csv.gz ...), .tsv or .parquet"
            + (" (a spreadsheet: File > Save As > CSV)." if low.endswith(_SPREADSHEET) else ".")
        )
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise DataError(f"{path}: the file is empty (0 bytes).")


def _unreadable(path: str, exc: Exception) -> str:
    """The one line that says a file could not be read, and for Parquet what it probably is."""
    text = " ".join(str(exc).split())
    hint = (
        " Is it a CSV (or another format) named .parquet? Give the file the suffix of its format."
        if path.lower().endswith(_PARQUET)
        else ""
    )
    return f"{path}: could not be read as a table ({type(exc).__name__}: {text}).{hint}"


def source_digest(source: Any) -> str:
    """SHA-256 (hex) of the bytes of a data file; ``"ff49"`` is the bundled file.

    What a tuning study records as the content of its data: a study whose file changed
    is not resumed (see :mod:`czar_gbdt.fingerprint`).
    """
    if source == "ff49":
        with ff49_file().open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    path = os.fspath(source)
    if os.path.isdir(path):  # a folder of Parquet files (a Dask cluster's panel): names and bytes, in order
        digest = hashlib.sha256()
        for name in _parquet_files(path):
            digest.update(os.path.relpath(name, path).encode() + b"\0")
            with open(name, "rb") as fh:
                digest.update(hashlib.file_digest(fh, "sha256").digest())
        return digest.hexdigest()
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _parquet_files(folder: str) -> list[str]:
    """The Parquet files under ``folder`` (as ``dask.dataframe.read_parquet`` reads a folder), sorted."""
    found = [
        os.path.join(root, f)
        for root, _, files in os.walk(folder)
        for f in files
        if f.lower().endswith((".parquet", ".pq", ".parq")) and not f.startswith((".", "_"))
    ]
    return sorted(found)


def detect_layout(source: Any, *, asset_col: str = "asset", target_col: str = "target") -> str:
    """``"long"`` when the table has the asset or the target column of a long panel, else ``"wide"``.

    Only the header is read (the first line of a CSV, the schema of a Parquet file). A
    table detected as wide whose other columns are not numeric is refused by
    :func:`load_wide`, which then says how to declare a long panel.
    """
    if isinstance(source, pd.DataFrame):
        columns = list(source.columns)
    else:
        path = os.fspath(source)
        if os.path.isdir(path):  # a folder of Parquet files: the schema of the first one
            files = _parquet_files(path)
            path = files[0] if files else path
        low = path.lower()
        if os.path.isfile(path):
            _check_file(path)
        if low.endswith(_PARQUET):
            import pyarrow.parquet as pq

            try:
                columns = list(pq.read_schema(path).names)
            except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
                raise DataError(_unreadable(path, exc)) from None
        else:
            columns = list(_read_header(path))
    return "long" if asset_col in columns or target_col in columns else "wide"


def resolve_layout(source: Any, layout: str = "auto", *, asset_col: str = "asset", target_col: str = "target") -> str:
    """``"wide"`` or ``"long"``: ``layout`` unless it is ``"auto"``; ``"ff49"`` (the bundled data) is
    wide; otherwise what :func:`detect_layout` reads from the file's header."""
    if source == "ff49":
        return "wide"
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}; got {layout!r}.")
    if layout != "auto":
        return layout
    return detect_layout(source, asset_col=asset_col, target_col=target_col)


def _read_header(path: str) -> list[str]:
    """The column names of a CSV/TSV file (its first line)."""
    sep = "\t" if path.lower().endswith(".tsv") else ","
    try:
        return [str(c) for c in pd.read_csv(path, sep=sep, nrows=0).columns]
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{path}: could not be read as a table ({type(exc).__name__}: {exc}).") from None

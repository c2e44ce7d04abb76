"""DataError, the one error type of a data problem, and the wording its messages share.

Every data rule (in memory and on a Dask cluster, :mod:`czar_gbdt.cluster`) raises
:class:`DataError`; the command line prints it on one line and exits 2. A message names an
argument as itself (``sort``) or, when a configuration loads the data, as the configuration
key it came from (``data.panel.sort``): ``names`` maps one to the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["DataError", "argument", "cell", "setting"]


class DataError(ValueError):
    """A problem with the data, reported before any training.

    The message names the file (or ``"the DataFrame"``), the column and, where it applies,
    the first offending row with its date and asset, and says which argument (or, when a
    configuration loads the data, which configuration key) changes the outcome. The
    command line exits with code 2 on it. Rows are 0-based positions in the table: the
    line after a CSV header is row 0.
    """


def argument(names: Mapping[str, str] | None, arg: str) -> str:
    """How a message names argument ``arg``: itself, or the configuration key it came from."""
    return (names or {}).get(arg, arg)


def setting(names: Mapping[str, str] | None, arg: str, value: Any) -> str:
    """How a message tells the user to give ``arg`` the value ``value``: ``pass sort=True`` from
    Python, ``set data.panel.sort = true`` when a configuration loads the data."""
    key = (names or {}).get(arg)
    if key is None:
        return f"pass {arg}={value!r}"
    text = (
        "true"
        if value is True
        else "false"
        if value is False
        else (f'"{value}"' if isinstance(value, str) else repr(value))
    )
    return f"set {key} = {text}"


def cell(v: Any) -> Any:
    """A cell for a message: numpy scalars as Python values (``0``, not ``np.int64(0)``)."""
    return v.item() if isinstance(v, np.generic) else v

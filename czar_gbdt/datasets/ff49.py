"""The bundled FF49 industry returns: a wide table of daily returns shipped with the package.

Source: the Kenneth R. French Data Library "49 Industry Portfolios" (value-weighted, daily),
1969-07-01 to 2021-12-31 (``czar_gbdt/data/ff49_industries_vw_daily.csv.gz``, returns in
percent as published). https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/data_library.html
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable

import numpy as np
import pandas as pd

__all__ = ["ff49_file", "load_ff49"]

_FF49_FILE = "ff49_industries_vw_daily.csv.gz"


def ff49_file() -> Traversable:
    """The bundled file (what :func:`czar_gbdt.datasets.source_digest` hashes for ``"ff49"``)."""
    return resources.files("czar_gbdt").joinpath("data").joinpath(_FF49_FILE)


@functools.lru_cache(maxsize=1)
def _read_ff49() -> pd.DataFrame:
    with ff49_file().open("rb") as fh:
        df = pd.read_csv(fh, compression="gzip", dtype={"date": str})
    dates = pd.DatetimeIndex(pd.to_datetime(df.pop("date"), format="%Y-%m-%d"), name="date")
    values = df.to_numpy(dtype=np.float64)
    # the library codes missing returns as -99.99 or -999 (none in the shipped file)
    values[values <= -99.99] = np.nan
    return pd.DataFrame(values / 100.0, index=dates, columns=pd.Index(df.columns, name="asset"))


def load_ff49() -> pd.DataFrame:
    """Daily returns of the 49 Fama-French industry portfolios (value-weighted).

    Source: Kenneth R. French Data Library, "49 Industry Portfolios", daily,
    value-weighted, 1969-07-01 to 2021-12-31 (13245 dates), bundled with the
    package. The file holds percent returns with two decimals; they are
    returned as decimals (divided by 100).

    Returns
    -------
    pandas.DataFrame of shape (13245, 49)
        float64 returns, a DatetimeIndex named ``"date"`` and columns named
        ``"asset"`` (``Agric``, ``Food``, ... ``Other``). A fresh copy per call.

    Examples
    --------
    >>> from czar_gbdt import datasets
    >>> r = datasets.load_ff49()
    >>> r.shape
    (13245, 49)
    """
    return _read_ff49().copy()

"""The selection bias of a study: how much of its best trial's score is the luck of picking the best of N.

A tuning study scores N parameter sets on the same T walk-forward dates and keeps the best;
the best of N noisy scores is expected to look good even when no set forecasts anything.
Two figures measure it from the T x N matrix ``M`` of per-date objective terms (the
per-date rank IC of each completed trial, one column per trial in trial-number order):

- :func:`pbo_cscv`, the probability of backtest overfitting by combinatorially symmetric
  cross-validation (Bailey, Borwein, Lopez de Prado and Zhu, "The probability of backtest
  overfitting", J. Computational Finance 2017): the rows of ``M`` cut into S contiguous
  blocks; for every choice of S/2 blocks as in-sample, the trial with the best in-sample
  mean is ranked among the N trials out of sample; PBO is the share of splits where it
  ranks at or below the median.
- :func:`deflated_sharpe`, the Deflated Sharpe Ratio of the best trial (Bailey and Lopez de
  Prado, "The deflated Sharpe ratio", J. Portfolio Management 2014): the probability that
  its mean / std per date beats the best Sharpe ratio N trials of no skill would show,
  given the dispersion of the N trials' ratios and the skewness and kurtosis of its terms.

:func:`encode_terms` and :func:`decode_terms` store a trial's per-date terms compactly
(float32 values and int32 day numbers, zlib-compressed, base64 text) so that a study in any
optuna storage holds them. Pure numpy and scipy; ``docs/tuning.md`` explains the figures.
"""

from __future__ import annotations

import base64
import itertools
import math
import zlib

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["pbo_cscv", "deflated_sharpe", "selection_bias", "encode_terms", "decode_terms", "terms_matrix"]

#: The Euler-Mascheroni constant (the expected maximum of N standard normals, Bailey and Lopez de Prado 2014).
EULER_GAMMA = 0.5772156649015329

_DAY = np.timedelta64(1, "D")


def _matrix(matrix: np.ndarray, what: str = "matrix") -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array (dates x trials); got shape {m.shape}.")
    if m.shape[1] < 2:
        raise ValueError(f"{what} needs at least 2 trials (columns); got {m.shape[1]}.")
    if not np.isfinite(m).all():
        raise ValueError(f"{what} must be finite; it holds {int((~np.isfinite(m)).sum())} NaN or infinite values.")
    return m


def pbo_cscv(matrix: np.ndarray, blocks: int = 16) -> float:
    """Probability of backtest overfitting by combinatorially symmetric cross-validation.

    Parameters
    ----------
    matrix : array of shape (T, N)
        Per-date objective terms: one row per date (in date order), one column per trial.
    blocks : int, default 16
        S, the number of contiguous blocks the rows are cut into (``np.array_split``); even,
        at most T.

    Returns
    -------
    float
        The share of the C(S, S/2) splits in which the in-sample best trial (the highest
        in-sample mean, the lowest column on ties) has an out-of-sample logit
        ``ln(w / (1 - w)) <= 0``, with ``w`` its out-of-sample rank among the N trials
        (average ranks, 1 = worst) divided by N + 1.
    """
    m = _matrix(matrix)
    if blocks < 2 or blocks % 2:
        raise ValueError(f"blocks must be an even number >= 2; got {blocks!r}.")
    if blocks > m.shape[0]:
        raise ValueError(f"blocks ({blocks}) must be at most the number of dates ({m.shape[0]}).")
    parts = np.array_split(np.arange(m.shape[0]), blocks)
    sums = np.stack([m[p].sum(axis=0) for p in parts])  # (S, N)
    counts = np.array([len(p) for p in parts], dtype=np.float64)
    total_sum, total_count = sums.sum(axis=0), counts.sum()
    n = m.shape[1]
    below = 0
    combos = list(itertools.combinations(range(blocks), blocks // 2))
    for start in range(0, len(combos), 2048):  # in chunks: (chunk, S/2, N) stays small
        idx = np.array(combos[start : start + 2048])
        in_sum = sums[idx].sum(axis=1)  # (chunk, N)
        in_count = counts[idx].sum(axis=1)[:, None]
        best = np.argmax(in_sum / in_count, axis=1)  # the first (lowest column) on ties
        out = (total_sum - in_sum) / (total_count - in_count)
        ranks = stats.rankdata(out, method="average", axis=1)
        w = ranks[np.arange(len(idx)), best] / (n + 1)
        below += int((np.log(w / (1 - w)) <= 0).sum())
    return below / len(combos)


def deflated_sharpe(matrix: np.ndarray, best: int, horizon: int = 1) -> dict:
    """The Deflated Sharpe Ratio of column ``best`` among the N columns of ``matrix``.

    SR_n = mean / std (ddof 1) of column n; SR0 = sqrt(V) ((1 - g) PhiInv(1 - 1/N)
    + g PhiInv(1 - 1/(N e))) with V the variance (ddof 1) of the N ratios and g the
    Euler-Mascheroni constant; with g3 the (biased) skewness and g4 the (not excess)
    kurtosis of the best column and T_eff = T / ``horizon`` (labels that overlap over
    ``horizon`` dates are not independent), DSR = Phi((SR* - SR0) sqrt(T_eff - 1) /
    sqrt(1 - g3 SR* + (g4 - 1) / 4 SR*^2)).

    Returns
    -------
    dict
        ``sr_best`` (SR*), ``sr0`` and ``dsr``.
    """
    m = _matrix(matrix)
    t, n = m.shape
    if not 0 <= best < n:
        raise ValueError(f"best must be a column of the matrix (0..{n - 1}); got {best!r}.")
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1; got {horizon!r}.")
    sd = m.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sr = m.mean(axis=0) / sd
    if not np.isfinite(sr).all():
        raise ValueError("every trial's per-date terms must vary (a constant column has no Sharpe ratio).")
    sr_best = float(sr[best])
    sr0 = float(
        math.sqrt(np.var(sr, ddof=1))
        * ((1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / n) + EULER_GAMMA * stats.norm.ppf(1 - 1 / (n * math.e)))
    )
    col = m[:, best]
    g3 = float(stats.skew(col, bias=True))
    g4 = float(stats.kurtosis(col, fisher=False, bias=True))
    t_eff = t / horizon
    denom = 1 - g3 * sr_best + (g4 - 1) / 4 * sr_best**2
    if t_eff <= 1 or denom <= 0:
        dsr = float("nan")
    else:
        dsr = float(stats.norm.cdf((sr_best - sr0) * math.sqrt(t_eff - 1) / math.sqrt(denom)))
    return {"sr_best": sr_best, "sr0": sr0, "dsr": dsr}


def selection_bias(matrix: np.ndarray, best: int, *, blocks: int = 16, horizon: int = 1) -> dict:
    """PBO and DSR of a study's matrix: ``{n_trials, n_dates, cscv_blocks, pbo, sr_best, sr0, dsr}``."""
    m = _matrix(matrix)
    return {
        "n_trials": int(m.shape[1]),
        "n_dates": int(m.shape[0]),
        "cscv_blocks": int(blocks),
        "pbo": pbo_cscv(m, blocks),
        **deflated_sharpe(m, best, horizon),
    }


def encode_terms(per_date: pd.Series) -> dict:
    """A per-date series (date index) as compact JSON: float32 values and day numbers, zlib and base64."""
    dates = pd.DatetimeIndex(per_date.index)
    days = ((dates.values.astype("datetime64[D]") - np.datetime64("1970-01-01", "D")) // _DAY).astype(np.int32)
    values = np.asarray(per_date.to_numpy(dtype=np.float64), dtype=np.float32)

    def pack(a: np.ndarray) -> str:
        return base64.b64encode(zlib.compress(a.tobytes(), 9)).decode("ascii")

    return {"n": len(values), "days": pack(np.diff(days, prepend=np.int32(0)).astype(np.int32)), "values": pack(values)}


def decode_terms(data: dict) -> pd.Series:
    """The series :func:`encode_terms` stored (float64 values of float32 precision, dates at day resolution)."""

    def unpack(text: str, dtype) -> np.ndarray:
        return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=dtype)

    days = np.cumsum(unpack(data["days"], np.int32).astype(np.int64))
    values = unpack(data["values"], np.float32).astype(np.float64)
    index = pd.DatetimeIndex(np.datetime64("1970-01-01", "D") + days.astype("timedelta64[D]"), name="date")
    return pd.Series(values, index=index)


def terms_matrix(columns: dict) -> pd.DataFrame:
    """The T x N table of per-date terms ``{trial number: series}``: the dates every trial holds, in
    order, one column per trial (in trial-number order), rows with a missing value left out."""
    table = pd.DataFrame({k: columns[k] for k in sorted(columns)})
    table = table.dropna(how="any").sort_index()
    table.index.name = "date"
    return table

"""Top-k long-short: per-date leg selection and spread, and the turnover of the book."""

import numpy as np
from numba import prange

from ..._jit import parallel_loop, serial_loop
from .grouping import valid_rows


@parallel_loop
def top_k_select(y_true, y_pred, asset_codes, order, offsets, k):
    """Per-date top-k / bottom-k selection by prediction and the long-short spread.

    Within a date the rows must come in ascending asset order (``order`` from a
    lexsort on (date, asset)); ties in the prediction are then broken by asset
    order (stable sort): the short leg takes the lowest assets first, the long
    leg the highest. Dates with fewer than ``2 * k`` valid rows get NaN.

    Returns ``(spread, n_valid, long_assets, short_assets)`` where the asset
    arrays have shape ``(n_groups, k)`` (-1 on skipped dates).
    """
    n_groups = offsets.shape[0] - 1
    spread = np.empty(n_groups, np.float64)
    n_valid = np.zeros(n_groups, np.int64)
    long_assets = np.full((n_groups, k), -1, np.int64)
    short_assets = np.full((n_groups, k), -1, np.int64)
    for g in prange(n_groups):
        bi = np.empty(offsets[g + 1] - offsets[g], np.int64)
        m = valid_rows(y_true, y_pred, order, offsets[g], offsets[g + 1], bi)
        bp = y_pred[bi[:m]]
        n_valid[g] = m
        if m < 2 * k:
            spread[g] = np.nan
            continue
        srt = np.argsort(bp, kind="mergesort")
        s_long = 0.0
        s_short = 0.0
        for j in range(k):
            i_short = bi[srt[j]]
            i_long = bi[srt[m - k + j]]
            s_short += y_true[i_short]
            s_long += y_true[i_long]
            short_assets[g, j] = asset_codes[i_short]
            long_assets[g, j] = asset_codes[i_long]
        spread[g] = (s_long - s_short) / k
    return spread, n_valid, long_assets, short_assets


@serial_loop
def top_k_turnover(long_assets, short_assets, used, n_assets):
    """Turnover of the equal-weight long-short book from one traded date to the next.

    The book on a traded date has weight ``+1/k`` on each long asset and
    ``-1/k`` on each short asset; turnover is ``sum_a |w_a(t) - w_a(prev)|``
    where ``prev`` is the previous traded date (the book is held through
    skipped dates) and the book before the first traded date is empty (cash),
    so the first traded date has turnover 2. Skipped dates get NaN.
    """
    n_groups, k = long_assets.shape
    turnover = np.full(n_groups, np.nan)
    w = np.zeros(n_assets, np.float64)  # current book
    w_new = np.zeros(n_assets, np.float64)
    seen = np.full(n_assets, -1, np.int64)
    prev_book = np.empty(2 * k, np.int64)
    n_prev = 0
    inv_k = 1.0 / k
    for g in range(n_groups):
        if not used[g]:
            continue
        for j in range(k):
            w_new[long_assets[g, j]] = inv_k
            w_new[short_assets[g, j]] = -inv_k
        t = 0.0
        for j in range(k):
            a = long_assets[g, j]
            t += abs(w_new[a] - w[a])
            seen[a] = g
            a = short_assets[g, j]
            t += abs(w_new[a] - w[a])
            seen[a] = g
        for j in range(n_prev):
            a = prev_book[j]
            if seen[a] != g:
                t += abs(w[a])
            w[a] = 0.0
        turnover[g] = t
        for j in range(k):
            a = long_assets[g, j]
            w[a] = w_new[a]
            w_new[a] = 0.0
            prev_book[2 * j] = a
            a = short_assets[g, j]
            w[a] = w_new[a]
            w_new[a] = 0.0
            prev_book[2 * j + 1] = a
        n_prev = 2 * k
    return turnover

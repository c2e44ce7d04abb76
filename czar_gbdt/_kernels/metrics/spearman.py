"""Per-date Spearman correlation (rank IC): packed keys, radix-sorted keys, and the direct argsort.

See the package docstring (:mod:`czar_gbdt._kernels.metrics`) for how the keys are built.
"""

import numpy as np
from numba import prange

from ..._jit import parallel_loop, serial_loop
from .grouping import row_of, valid_rows
from .pearson import add_centred, corr_from_sums

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_SIGN = np.uint64(1) << np.uint64(63)


# --------------------------------------------------------------------------
# Spearman: packed keys + one vectorised sort
# --------------------------------------------------------------------------


@serial_loop
def _order_key(v, bits):
    # float64 -> uint64 with the same order, from the value and its bit pattern
    # (finite values only; -0.0 is folded onto +0.0 so the two tie)
    if v == 0.0:
        return _SIGN
    if bits & _SIGN:
        return ~bits
    return bits | _SIGN


@parallel_loop
def pack_rank_keys(y_true, y_pred, order, offsets, off_c, date_shift, val_drop, pos_bits, key_x, key_y):
    """Write the sort keys ``date | value bits | position in date`` of the valid rows.

    The valid rows of group ``g`` go to ``key_*[off_c[g]:off_c[g + 1]]``
    (``key_x`` for ``y_true``, ``key_y`` for ``y_pred``, both of length
    ``off_c[-1]``). The position is the row's index inside its group including
    invalid rows, so the exact value can be found again from ``order`` and
    ``offsets``. ``date_shift`` is 64 when there is a single group (no date
    bits); ``val_drop`` is the number of low value bits dropped.
    """
    n_groups = offsets.shape[0] - 1
    drop = np.uint64(val_drop)
    pb = np.uint64(pos_bits)
    bits_x = y_true.view(np.uint64)
    bits_y = y_pred.view(np.uint64)
    for g in prange(n_groups):
        if date_shift >= 64:
            gkey = _U0
        else:
            gkey = np.uint64(g) << np.uint64(date_shift)
        w = off_c[g]
        start = offsets[g]
        for q in range(start, offsets[g + 1]):
            i = row_of(order, q)
            a = y_true[i]
            b = y_pred[i]
            if np.isfinite(a) and np.isfinite(b):
                pos = np.uint64(q - start)
                key_x[w] = gkey | ((_order_key(a, bits_x[i]) >> drop) << pb) | pos
                key_y[w] = gkey | ((_order_key(b, bits_y[i]) >> drop) << pb) | pos
                w += 1


@parallel_loop
def sort_group_keys(key_x, key_y, off_c):
    """Sort each date's slice of both key vectors in place, dates and sides in parallel.

    The keys are grouped by date (their leading bits), so sorting each date's slice
    gives the same vector as one global sort, with far fewer comparisons per key
    (about log2 of the date's size instead of log2 of all rows).
    """
    n_groups = off_c.shape[0] - 1
    for g in prange(2 * n_groups):
        if g < n_groups:
            key_x[off_c[g] : off_c[g + 1]].sort()
        else:
            key_y[off_c[g - n_groups] : off_c[g - n_groups + 1]].sort()


@serial_loop
def _tie_ranks(vals, loc, before, out):
    """Average ranks of a run of sorted keys whose leading value bits collide, decided on the exact values.

    ``vals[q]`` is the exact value of the run's ``q``-th row, ``loc[q]`` its position in
    ``out``; ``before`` rows of the group rank below the run.
    """
    cnt = vals.shape[0]
    idx = np.argsort(vals)
    a = 0
    while a < cnt:
        b = a + 1
        while b < cnt and vals[idx[b]] == vals[idx[a]]:
            b += 1
        r = 0.5 * ((before + a) + (before + b) + 1)
        for q in range(a, b):
            out[loc[idx[q]]] = r
        a = b


@serial_loop
def _ranks_from_keys(keys, s, e, pos_bits, vals, order, start, out):
    """Average ranks of one group from its sorted keys ``keys[s:e]``.

    ``out[pos]`` receives the rank of the row at position ``pos`` of the group;
    ``vals[row_of(order, start + pos)]`` is that row's exact value.
    """
    pb = np.uint64(pos_bits)
    mask = (_U1 << pb) - _U1
    i = s
    while i < e:
        head = keys[i] >> pb
        j = i + 1
        while j < e and (keys[j] >> pb) == head:
            j += 1
        if j - i == 1:
            out[np.int64(keys[i] & mask)] = i - s + 1.0
        else:
            # same date and same leading value bits: decide on exact values
            v0 = vals[row_of(order, start + np.int64(keys[i] & mask))]
            all_equal = True
            for q in range(i + 1, j):
                if vals[row_of(order, start + np.int64(keys[q] & mask))] != v0:
                    all_equal = False
                    break
            if all_equal:
                r = 0.5 * ((i - s) + (j - s) + 1)
                for q in range(i, j):
                    out[np.int64(keys[q] & mask)] = r
            else:
                cnt = j - i
                loc = np.empty(cnt, np.int64)
                tmp = np.empty(cnt, np.float64)
                for q in range(cnt):
                    loc[q] = np.int64(keys[i + q] & mask)
                    tmp[q] = vals[row_of(order, start + loc[q])]
                _tie_ranks(tmp, loc, i - s, out)
        i = j


@parallel_loop
def spearman_from_keys(y_true, y_pred, order, offsets, off_c, key_x, key_y, pos_bits, rank_x, rank_y):
    """Per-group Spearman correlation from the sorted keys of :func:`pack_rank_keys`.

    ``rank_x`` and ``rank_y`` are scratch vectors of length ``offsets[-1]``
    (the number of rows): the ranks of group ``g`` go to
    ``rank_*[offsets[g] + position]``.
    """
    n_groups = offsets.shape[0] - 1
    corr = np.empty(n_groups, np.float64)
    pb = np.uint64(pos_bits)
    mask = (_U1 << pb) - _U1
    for g in prange(n_groups):
        s = off_c[g]
        e = off_c[g + 1]
        m = e - s
        if m < 2:
            corr[g] = np.nan
            continue
        start = offsets[g]
        stop = offsets[g + 1]
        rx = rank_x[start:stop]
        ry = rank_y[start:stop]
        _ranks_from_keys(key_x, s, e, pos_bits, y_true, order, start, rx)
        _ranks_from_keys(key_y, s, e, pos_bits, y_pred, order, start, ry)
        # the mean rank is exactly (m + 1) / 2 and ranks are half-integers,
        # so a constant side gives exactly zero variance
        mu = 0.5 * (m + 1)
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for q in range(s, e):
            p = np.int64(key_x[q] & mask)  # the valid positions of the group
            sxx, syy, sxy = add_centred(sxx, syy, sxy, rx[p], ry[p], mu)
        corr[g] = corr_from_sums(sxx, syy, sxy)
    return corr


# --------------------------------------------------------------------------
# Spearman: range-scaled 32-bit keys, radix-sorted date by date
# --------------------------------------------------------------------------

#: Dates of up to ``1 << RADIX_POS_BITS`` rows take :func:`grouped_spearman_radix`
#: (at least 20 value bits in a 32-bit key).
RADIX_POS_BITS = 12
_RADIX_PASSES = 3  # 8-bit digits over (at most) 24 value bits


@serial_loop
def _bit_length(x):
    n = 0
    while x:
        x >>= _U1
        n += 1
    return n


@serial_loop
def _radix_sort(keys, tmp, count, m, pos_bits):
    """Stable LSD radix sort of ``keys[:m]`` (uint32) on the 24 bits above ``pos_bits``.

    Three passes of 8-bit digits; ``tmp`` (m values) and ``count`` (3 x 257) are scratch.
    The position bits are not sorted on: keys arrive in position order, and a stable
    sort keeps equal values in that order.
    """
    count[:, :] = 0
    c0 = count[0]
    c1 = count[1]
    c2 = count[2]
    pb = np.uint32(pos_bits)
    d8 = np.uint32(255)
    for i in range(m):
        k = keys[i] >> pb
        c0[(k & d8) + 1] += 1
        c1[((k >> np.uint32(8)) & d8) + 1] += 1
        c2[((k >> np.uint32(16)) & d8) + 1] += 1
    src = keys
    dst = tmp
    for p in range(_RADIX_PASSES):
        c = count[p]
        for b in range(256):
            c[b + 1] += c[b]
        shift = np.uint32(pos_bits + 8 * p)
        for i in range(m):
            d = (src[i] >> shift) & d8
            dst[c[d]] = src[i]
            c[d] += 1
        src, dst = dst, src
    # an odd number of passes leaves the result in tmp
    for i in range(m):
        keys[i] = src[i]


@serial_loop
def _ranks_from_small_keys(keys, m, pos_bits, vals, rows, out):
    """Average ranks from sorted uint32 keys: ``out[pos]`` is the rank of valid row ``pos``.

    ``vals[rows[pos]]`` is that row's exact value (for keys whose value bits collide).
    """
    pb = np.uint32(pos_bits)
    mask = np.uint32((1 << pos_bits) - 1)
    i = 0
    while i < m:
        head = keys[i] >> pb
        j = i + 1
        while j < m and (keys[j] >> pb) == head:
            j += 1
        if j - i == 1:
            out[keys[i] & mask] = i + 1.0
        else:
            cnt = j - i
            loc = np.empty(cnt, np.int64)
            tmp = np.empty(cnt, np.float64)
            for q in range(cnt):
                loc[q] = np.int64(keys[i + q] & mask)
                tmp[q] = vals[rows[loc[q]]]
            _tie_ranks(tmp, loc, i, out)
        i = j


@serial_loop
def _spearman_one_date(
    y_true, y_pred, bits_x, bits_y, start, stop, rows, img_x, img_y, key_x, key_y, tmp, count, rank_x, rank_y
):
    """Spearman correlation of the rows ``start:stop`` (one date, rows stored in date order)."""
    m = 0
    lo_x = ~_U0
    hi_x = _U0
    lo_y = ~_U0
    hi_y = _U0
    for i in range(start, stop):
        a = y_true[i]
        b = y_pred[i]
        if np.isfinite(a) and np.isfinite(b):
            ka = _order_key(a, bits_x[i])
            kb = _order_key(b, bits_y[i])
            img_x[m] = ka
            img_y[m] = kb
            rows[m] = i
            lo_x = min(lo_x, ka)
            hi_x = max(hi_x, ka)
            lo_y = min(lo_y, kb)
            hi_y = max(hi_y, kb)
            m += 1
    if m < 2:
        return np.nan
    pos_bits = max(1, _bit_length(np.uint64(m - 1)))
    val_bits = min(8 * _RADIX_PASSES, 32 - pos_bits)
    # keep the leading val_bits of each side's range of images
    sx = np.uint64(max(0, _bit_length(hi_x - lo_x) - val_bits))
    sy = np.uint64(max(0, _bit_length(hi_y - lo_y) - val_bits))
    pb = np.uint64(pos_bits)
    for q in range(m):
        key_x[q] = np.uint32((((img_x[q] - lo_x) >> sx) << pb) | np.uint64(q))
        key_y[q] = np.uint32((((img_y[q] - lo_y) >> sy) << pb) | np.uint64(q))
    _radix_sort(key_x, tmp, count, m, pos_bits)
    _radix_sort(key_y, tmp, count, m, pos_bits)
    _ranks_from_small_keys(key_x, m, pos_bits, y_true, rows, rank_x)
    _ranks_from_small_keys(key_y, m, pos_bits, y_pred, rows, rank_y)
    # the mean rank is exactly (m + 1) / 2 and ranks are half-integers,
    # so a constant side gives exactly zero variance
    mu = 0.5 * (m + 1)
    sxx = 0.0
    syy = 0.0
    sxy = 0.0
    for q in range(m):
        sxx, syy, sxy = add_centred(sxx, syy, sxy, rank_x[q], rank_y[q], mu)
    return corr_from_sums(sxx, syy, sxy)


@parallel_loop
def grouped_spearman_radix(y_true, y_pred, offsets, n_chunks):
    """Per-group Spearman correlation of rows stored group by group (no ``order``).

    Groups must have at most ``1 << RADIX_POS_BITS`` rows. The groups are cut into
    ``n_chunks`` contiguous chunks run in parallel, each with its scratch vectors
    allocated once. A group with fewer than 2 valid rows or a constant side gets NaN.
    """
    n_groups = offsets.shape[0] - 1
    corr = np.empty(n_groups, np.float64)
    size = 1
    for g in range(n_groups):
        size = max(size, offsets[g + 1] - offsets[g])
    bits_x = y_true.view(np.uint64)
    bits_y = y_pred.view(np.uint64)
    for c in prange(n_chunks):
        rows = np.empty(size, np.int64)
        img_x = np.empty(size, np.uint64)
        img_y = np.empty(size, np.uint64)
        key_x = np.empty(size, np.uint32)
        key_y = np.empty(size, np.uint32)
        tmp = np.empty(size, np.uint32)
        count = np.empty((_RADIX_PASSES, 257), np.int64)
        rank_x = np.empty(size, np.float64)
        rank_y = np.empty(size, np.float64)
        for g in range(c * n_groups // n_chunks, (c + 1) * n_groups // n_chunks):
            corr[g] = _spearman_one_date(
                y_true,
                y_pred,
                bits_x,
                bits_y,
                offsets[g],
                offsets[g + 1],
                rows,
                img_x,
                img_y,
                key_x,
                key_y,
                tmp,
                count,
                rank_x,
                rank_y,
            )
    return corr


# --------------------------------------------------------------------------
# Spearman: direct per-date argsort (fallback and test cross-check)
# --------------------------------------------------------------------------


@serial_loop
def _average_ranks(x, out):
    """Average ranks (1-based, ties share the mean rank) of ``x`` into ``out``."""
    m = x.shape[0]
    idx = np.argsort(x)
    i = 0
    while i < m:
        v = x[idx[i]]
        j = i + 1
        while j < m and x[idx[j]] == v:
            j += 1
        r = 0.5 * (i + j + 1)
        for q in range(i, j):
            out[idx[q]] = r
        i = j


@parallel_loop
def grouped_spearman_direct(y_true, y_pred, order, offsets):
    """Per-group Spearman correlation with one argsort per group and side.

    Same contract as :func:`grouped_pearson`: returns ``(corr, n_valid)``.
    """
    n_groups = offsets.shape[0] - 1
    corr = np.empty(n_groups, np.float64)
    n_valid = np.zeros(n_groups, np.int64)
    for g in prange(n_groups):
        rows = np.empty(offsets[g + 1] - offsets[g], np.int64)
        m = valid_rows(y_true, y_pred, order, offsets[g], offsets[g + 1], rows)
        bx = y_true[rows[:m]]
        by = y_pred[rows[:m]]
        n_valid[g] = m
        if m < 2:
            corr[g] = np.nan
            continue
        rx = np.empty(m, np.float64)
        ry = np.empty(m, np.float64)
        _average_ranks(bx, rx)
        _average_ranks(by, ry)
        mu = 0.5 * (m + 1)
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for p in range(m):
            sxx, syy, sxy = add_centred(sxx, syy, sxy, rx[p], ry[p], mu)
        corr[g] = corr_from_sums(sxx, syy, sxy)
    return corr, n_valid

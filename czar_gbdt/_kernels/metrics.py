"""Numba kernels for the per-date evaluation metrics (private, no validation).

The public layer (:mod:`czar_gbdt.metrics`) groups the rows by date once:
``offsets`` has length ``n_dates + 1`` and the rows of date ``g`` are
``order[offsets[g]:offsets[g + 1]]``. When the rows are already stored date by
date (the common case) ``order`` is an empty array and means "identity", so
no permutation is built or read. Every kernel loops over the dates inside
numba: there is no Python loop per date.

Spearman without a comparison sort per date
-------------------------------------------
Ranking is sorting, and sorting is the cost. Each valid row of a date becomes
one small integer key per side::

    [ leading bits of an order-preserving image of the value | position in its date ]

:func:`grouped_spearman_radix` (dates of up to 4,096 rows) builds 32-bit keys
whose value bits cover only the range of the date's own values (the image
minus the date's smallest image, shifted so that the largest fits 20-24 bits:
nearly all of the resolution goes to the values the date actually holds), and
sorts them with a three-pass LSD radix sort (8-bit digits, stable, no
comparisons or branches), date by date in one ``prange`` with scratch reused
per chunk of dates. Larger dates take :func:`pack_rank_keys` (uint64 keys with
the date code in the leading bits) and :func:`sort_group_keys`. Either way,
keys whose value bits agree are then resolved from the exact float values, so
the ranks are exact whatever the truncation, and ties get their average rank
as in ``scipy.stats.rankdata``. :func:`grouped_spearman_direct` is the plain
per-date argsort version, used when the bit budget is too small and as a
cross-check in the tests.

Kernels never raise and never validate: a date that cannot be scored gets NaN.
"""

import numpy as np
from numba import prange

from .._jit import parallel_loop, serial_loop

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_SIGN = np.uint64(1) << np.uint64(63)


# --------------------------------------------------------------------------
# grouping
# --------------------------------------------------------------------------


@serial_loop
def sorted_offsets(values):
    """Group offsets of int64 values if they are non-decreasing.

    Returns ``(offsets, is_sorted)``; ``offsets`` is only meaningful when
    ``is_sorted`` is true. This is the O(n) path for a panel stored date by date.
    """
    n = values.shape[0]
    n_groups = 0
    if n > 0:
        n_groups = 1
        for i in range(1, n):
            if values[i] < values[i - 1]:
                return np.zeros(1, np.int64), False
            if values[i] != values[i - 1]:
                n_groups += 1
    offsets = np.empty(n_groups + 1, np.int64)
    offsets[0] = 0
    g = 0
    for i in range(1, n):
        if values[i] != values[i - 1]:
            g += 1
            offsets[g] = i
    offsets[n_groups] = n
    return offsets, True


@serial_loop
def dense_codes(values, max_span):
    """Sorted dense codes of int64 values on a regular grid, without hashing or sorting.

    The values are read as ``vmin + k * step`` with ``step`` the gcd of
    ``values - vmin`` (one day for daily datetimes in ns). When the grid has at
    most ``max_span`` points the codes come from one pass over a table of the
    grid; otherwise (or when the values are too spread for int64 arithmetic)
    ``n_groups`` is -1 and the caller factorises instead.

    Returns ``(codes, n_groups, first_row)``: ``first_row[g]`` is the first
    row holding the g-th smallest value.
    """
    n = values.shape[0]
    empty = np.empty(0, np.int64)
    if n == 0:
        return empty, 0, empty
    vmin = values[0]
    vmax = values[0]
    for i in range(n):
        v = values[i]
        if v < vmin:
            vmin = v
        if v > vmax:
            vmax = v
    limit = np.int64(1) << np.int64(62)
    if vmin < -limit or vmax > limit:
        return empty, -1, empty
    step = np.int64(0)
    for i in range(n):
        d = values[i] - vmin
        if step == 0:
            step = d
        elif d % step != 0:
            a = step
            b = d % step
            while b != 0:
                a, b = b, a % b
            step = a
    if step == 0:
        step = 1
    span = (vmax - vmin) // step + 1
    if span > max_span:
        return empty, -1, empty
    slot = np.full(span, -1, np.int64)
    for i in range(n):
        k = (values[i] - vmin) // step
        if slot[k] < 0:
            slot[k] = i
    first_row = np.empty(span, np.int64)
    n_groups = 0
    for k in range(span):
        if slot[k] >= 0:
            first_row[n_groups] = slot[k]
            slot[k] = n_groups
            n_groups += 1
    codes = np.empty(n, np.int64)
    for i in range(n):
        codes[i] = slot[(values[i] - vmin) // step]
    return codes, n_groups, first_row[:n_groups]


@serial_loop
def group_order(codes, n_groups):
    """Stable counting sort of integer codes in ``[0, n_groups)``.

    Returns ``(order, offsets)``: rows of one date keep their input order.
    """
    n = codes.shape[0]
    offsets = np.zeros(n_groups + 1, np.int64)
    for i in range(n):
        offsets[codes[i] + 1] += 1
    for g in range(n_groups):
        offsets[g + 1] += offsets[g]
    pos = offsets[:-1].copy()
    order = np.empty(n, np.int64)
    for i in range(n):
        c = codes[i]
        order[pos[c]] = i
        pos[c] += 1
    return order, offsets


@serial_loop
def _row(order, q):
    # an empty ``order`` means the identity permutation
    if order.shape[0] == 0:
        return q
    return order[q]


@parallel_loop
def count_valid(y_true, y_pred, order, offsets):
    """Count the rows per group where both values are finite."""
    n_groups = offsets.shape[0] - 1
    n_valid = np.zeros(n_groups, np.int64)
    for g in prange(n_groups):
        m = 0
        for q in range(offsets[g], offsets[g + 1]):
            i = _row(order, q)
            if np.isfinite(y_true[i]) and np.isfinite(y_pred[i]):
                m += 1
        n_valid[g] = m
    return n_valid


# --------------------------------------------------------------------------
# Pearson
# --------------------------------------------------------------------------


@serial_loop
def _valid_rows(y_true, y_pred, order, start, stop, out):
    """Write the rows of positions ``start:stop`` where both values are finite; return their count."""
    m = 0
    for q in range(start, stop):
        i = _row(order, q)
        if np.isfinite(y_true[i]) and np.isfinite(y_pred[i]):
            out[m] = i
            m += 1
    return m


@serial_loop
def _corr(sxx, syy, sxy):
    """Correlation from centred sums; NaN without variance on a side."""
    if sxx <= 0.0 or syy <= 0.0:
        return np.nan
    return min(1.0, max(-1.0, sxy / np.sqrt(sxx * syy)))


@serial_loop
def _add_centred2(sxx, syy, sxy, dx, dy):
    return sxx + dx * dx, syy + dy * dy, sxy + dx * dy


@serial_loop
def _add_centred(sxx, syy, sxy, a, b, mu):
    """The centred sums with one more pair ``(a - mu, b - mu)`` (ranks: same mean on both sides)."""
    return _add_centred2(sxx, syy, sxy, a - mu, b - mu)



@parallel_loop
def grouped_pearson(y_true, y_pred, order, offsets):
    """Per-group Pearson correlation over the rows where both values are finite.

    Two passes per group (mean, then centred sums). A group with fewer than 2
    valid rows or a constant side (all values exactly equal) gets NaN.
    Returns ``(corr, n_valid)``.
    """
    n_groups = offsets.shape[0] - 1
    corr = np.empty(n_groups, np.float64)
    n_valid = np.zeros(n_groups, np.int64)
    for g in prange(n_groups):
        m = 0
        sx = 0.0
        sy = 0.0
        x0 = 0.0
        y0 = 0.0
        x_const = True
        y_const = True
        for q in range(offsets[g], offsets[g + 1]):
            i = _row(order, q)
            a = y_true[i]
            b = y_pred[i]
            if np.isfinite(a) and np.isfinite(b):
                if m == 0:
                    x0 = a
                    y0 = b
                else:
                    if a != x0:
                        x_const = False
                    if b != y0:
                        y_const = False
                sx += a
                sy += b
                m += 1
        n_valid[g] = m
        if m < 2 or x_const or y_const:
            corr[g] = np.nan
            continue
        mx = sx / m
        my = sy / m
        sxx = 0.0
        syy = 0.0
        sxy = 0.0
        for q in range(offsets[g], offsets[g + 1]):
            i = _row(order, q)
            a = y_true[i]
            b = y_pred[i]
            if np.isfinite(a) and np.isfinite(b):
                sxx, syy, sxy = _add_centred2(sxx, syy, sxy, a - mx, b - my)
        corr[g] = _corr(sxx, syy, sxy)
    return corr, n_valid


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
            i = _row(order, q)
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
            key_x[off_c[g]:off_c[g + 1]].sort()
        else:
            key_y[off_c[g - n_groups]:off_c[g - n_groups + 1]].sort()


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
    ``vals[_row(order, start + pos)]`` is that row's exact value.
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
            v0 = vals[_row(order, start + np.int64(keys[i] & mask))]
            all_equal = True
            for q in range(i + 1, j):
                if vals[_row(order, start + np.int64(keys[q] & mask))] != v0:
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
                    tmp[q] = vals[_row(order, start + loc[q])]
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
            sxx, syy, sxy = _add_centred(sxx, syy, sxy, rx[p], ry[p], mu)
        corr[g] = _corr(sxx, syy, sxy)
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
def _spearman_one_date(y_true, y_pred, bits_x, bits_y, start, stop, rows, img_x, img_y, key_x, key_y, tmp, count,
                       rank_x, rank_y):
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
        sxx, syy, sxy = _add_centred(sxx, syy, sxy, rank_x[q], rank_y[q], mu)
    return _corr(sxx, syy, sxy)


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
            corr[g] = _spearman_one_date(y_true, y_pred, bits_x, bits_y, offsets[g], offsets[g + 1], rows, img_x,
                                         img_y, key_x, key_y, tmp, count, rank_x, rank_y)
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
        m = _valid_rows(y_true, y_pred, order, offsets[g], offsets[g + 1], rows)
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
            sxx, syy, sxy = _add_centred(sxx, syy, sxy, rx[p], ry[p], mu)
        corr[g] = _corr(sxx, syy, sxy)
    return corr, n_valid


# --------------------------------------------------------------------------
# directional accuracy
# --------------------------------------------------------------------------


@serial_loop
def directional_counts(y_true, y_pred, sample_weight):
    """Weighted counts ``(hits, total)`` of rows with a finite, non-zero target.

    A row is a hit when ``sign(y_pred) == sign(y_true)``; rows where either
    value is not finite, or the target is exactly 0, are left out. An empty
    ``sample_weight`` means unit weights.
    """
    hits = 0.0
    total = 0.0
    weighted = sample_weight.shape[0] > 0
    for i in range(y_true.shape[0]):
        a = y_true[i]
        b = y_pred[i]
        if not (np.isfinite(a) and np.isfinite(b)) or a == 0.0:
            continue
        w = sample_weight[i] if weighted else 1.0
        total += w
        if (a > 0.0 and b > 0.0) or (a < 0.0 and b < 0.0):
            hits += w
    return hits, total


# --------------------------------------------------------------------------
# top-k long-short
# --------------------------------------------------------------------------


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
        m = _valid_rows(y_true, y_pred, order, offsets[g], offsets[g + 1], bi)
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

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

Modules: :mod:`.grouping` (rows to dates), :mod:`.pearson` (IC and the centred sums),
:mod:`.spearman` (rank IC), :mod:`.directional`, :mod:`.top_k` (the long-short book).
"""

from .directional import directional_counts
from .grouping import count_valid, dense_codes, group_order, sorted_offsets
from .pearson import grouped_pearson
from .spearman import (
    RADIX_POS_BITS,
    grouped_spearman_direct,
    grouped_spearman_radix,
    pack_rank_keys,
    sort_group_keys,
    spearman_from_keys,
)
from .top_k import top_k_select, top_k_turnover

__all__ = [
    "RADIX_POS_BITS",
    "count_valid",
    "dense_codes",
    "directional_counts",
    "group_order",
    "grouped_pearson",
    "grouped_spearman_direct",
    "grouped_spearman_radix",
    "pack_rank_keys",
    "sort_group_keys",
    "sorted_offsets",
    "spearman_from_keys",
    "top_k_select",
    "top_k_turnover",
]

"""Tests for czar_gbdt.metrics.grouping: DateGroups built once and reused, the grouping kernel."""

import numpy as np
import pandas as pd
import pytest
from metrics_helpers import random_panel

from czar_gbdt import metrics
from czar_gbdt._kernels import metrics as kernels

# --------------------------------------------------------------------------
# DateGroups reuse
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shuffle", [True, False])
def test_date_groups_reuse(shuffle):
    dates, y, p = random_panel(6, shuffle=shuffle)
    groups = metrics.group_dates(dates)
    assert groups.order.shape[0] == (dates.size if shuffle else 0)
    for func in (metrics.rank_ic, metrics.ic):
        a = func(y, p, dates=groups).per_date
        b = func(y, p, dates=dates).per_date
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
        assert a.index.equals(b.index)
    codes = groups.codes()
    np.testing.assert_array_equal(groups.dates[codes], pd.Index(dates))
    assert metrics.group_dates(groups) is groups


def test_date_groups_of_other_rows_is_refused():
    groups = metrics.group_dates(np.repeat([1, 2], 5))
    with pytest.raises(ValueError, match="built for 10 rows but y_true has length 6"):
        metrics.rank_ic(np.ones(6), np.ones(6), dates=groups)


def test_kernel_group_order_is_stable():
    codes = np.array([2, 0, 1, 0, 2, 1, 0], dtype=np.int64)
    order, offsets = kernels.group_order(codes, 3)
    np.testing.assert_array_equal(order, [1, 3, 6, 2, 5, 0, 4])
    np.testing.assert_array_equal(offsets, [0, 3, 5, 7])

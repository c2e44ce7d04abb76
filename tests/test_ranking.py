"""The ranking objective's leaf module: quantile grades per date, query groups, objective names."""

import numpy as np
import pytest

from czar_gbdt import ranking


def test_rank_labels_and_query_groups():
    dates = np.array(["a"] * 5 + ["b"] * 4)
    y = np.array([0.5, -1.0, 2.0, 0.0, 1.0, 3.0, 1.0, 2.0, 0.0])
    np.testing.assert_array_equal(ranking.rank_labels(y, dates, 5), [2, 0, 4, 1, 3, 4, 1, 3, 0])
    np.testing.assert_array_equal(ranking.rank_labels(y, dates, 2), [1, 0, 1, 0, 1, 1, 0, 1, 0])
    np.testing.assert_array_equal(ranking.query_sizes(dates), [5, 4])
    with pytest.raises(ValueError, match="dates must be sorted"):
        ranking.query_sizes(np.array(["a", "b", "a"]))
    with pytest.raises(ValueError, match="n_bins must be an integer >= 2; got 1"):
        ranking.rank_labels(y, dates, 1)
    with pytest.raises(ValueError, match="objective must be one of"):
        ranking.RankObjective("lambdarnk")
    with pytest.raises(ValueError, match="'rank:pairwise' is not a lightgbm ranking objective"):
        ranking.RankObjective("rank:pairwise").resolve("lightgbm")

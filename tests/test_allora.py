"""czar_gbdt.allora (Allora's evaluation) and metrics.ts_rank_ic, against values worked out here.

The expected values are the formulas of the Allora forge builder kit's ``PerformanceEvaluator``
(allora-network/allora-forge-builder-kit, allora_forge_builder_kit/evaluation.py, commit
3fc8ea7b35b17119d4628e9e8d46062535f40653), written out with numpy and scipy in each test, or
worked out by hand on small arrays (fractions in the comments). No network.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.stats

from czar_gbdt import allora

NAMES = [t.name for t in allora.PRIMARY]
TOL = 1e-12


def wilson(p_hat, n_eff, z=1.96):
    """The 95% Wilson score interval, textbook form, on an effective sample size."""
    centre = (p_hat + z * z / (2 * n_eff)) / (1 + z * z / n_eff)
    half = z / (1 + z * z / n_eff) * math.sqrt(p_hat * (1 - p_hat) / n_eff + z * z / (4 * n_eff**2))
    return centre - half, centre + half


def z_test_p(da, n_eff):
    """One-sided p of DA > 0.5 with continuity correction, the statistic floored at 0."""
    z = max((da - 0.5 - 0.5 / n_eff) / math.sqrt(0.25 / n_eff), 0.0)
    return scipy.stats.norm.sf(z)


def pearson_by_hand(y, p):
    """r from centred sums; two-sided p from Student's t with n - 2 degrees of freedom."""
    n = len(y)
    dy, dp = y - y.mean(), p - p.mean()
    r = np.sum(dy * dp) / math.sqrt(np.sum(dy**2) * np.sum(dp**2))
    t = r * math.sqrt((n - 2) / (1 - r * r))
    return r, 2 * scipy.stats.t.sf(abs(t), n - 2)


# a fixed example: one zero return, one zero forecast, hits 1 0 1 1 0 1 0 on the 7 non-zero returns
Y = np.array([0.02, -0.01, 0.0, 0.03, -0.02, 0.01, -0.03, 0.015])
P = np.array([0.01, 0.005, 0.02, 0.02, -0.01, -0.01, -0.02, 0.0])


def test_fixed_example_by_hand():
    g = allora.allora_grade(Y, P)
    # DA: the zero return is left out; the zero forecast on 0.015 is a miss: 4 hits of 7
    assert g["allora_da_n_samples"] == 7 and g["allora_da_n_correct"] == 4
    assert g["allora_directional_accuracy"] == pytest.approx(4 / 7, abs=TOL)
    # the hit sequence is negatively autocorrelated: rho is floored at 0, so n_eff = n = 7
    hits = np.array([1, 0, 1, 1, 0, 1, 0.0])
    assert np.corrcoef(hits[:-1], hits[1:])[0, 1] < 0
    assert g["allora_da_autocorrelation"] == 0.0 and g["allora_da_n_effective"] == 7.0
    # continuity correction: 4/7 - 0.5 - 0.5/7 = 0, so z = 0 and p = 1/2
    assert g["allora_da_p_value"] == pytest.approx(0.5, abs=TOL)
    lo, hi = wilson(4 / 7, 7)
    assert g["allora_da_ci_lower"] == pytest.approx(lo, abs=TOL) and g["allora_da_ci_upper"] == pytest.approx(
        hi, abs=TOL
    )
    r, p = pearson_by_hand(Y, P)
    assert g["allora_pearson_r"] == pytest.approx(r, abs=TOL) and g["allora_pearson_p_value"] == pytest.approx(
        p, rel=1e-9
    )
    # WRMSE, weights |y|: sum|y| = 0.135, baseline sum|y|^3, model sum |y| (y - p)^2
    w = np.abs(Y)
    model, base = math.sqrt(np.sum(w * (Y - P) ** 2) / 0.135), math.sqrt(np.sum(w**3) / 0.135)
    assert g["allora_wrmse_model"] == pytest.approx(model, rel=TOL)
    assert g["allora_wrmse_improvement"] == pytest.approx(1 - model / base, abs=TOL)
    # CZAR: +.02 -.01 (-0: the zero return) +.03 +.02 -.01 +.03 -.015 = .065 of .135 = 13/27 (std cancels)
    assert g["allora_czar_improvement"] == pytest.approx(13 / 27, abs=TOL)
    assert g["allora_czar_oracle"] == pytest.approx(0.135 / np.std(Y), rel=TOL)
    # points: DA 0.571 >= .52 passes; CI lower < .5, p = .5, wrmse < 0 fail; czar .48 passes
    assert g["allora_passed"]["allora_directional_accuracy"] and g["allora_passed"]["allora_czar_improvement"]
    assert not g["allora_passed"]["allora_da_ci_lower"] and not g["allora_passed"]["allora_da_p_value"]
    expected = sum(g["allora_passed"].values())
    # points out of 7: the primary metrics passed, temporal coverage not among them (builder kit e9bb684)
    assert g["allora_primary_passed"] == expected and g["allora_points"] == expected == 4
    assert g["allora_grade"] == allora.GRADES[expected] == "B" and g["allora_score"] == expected / 7
    assert g["allora_max_points"] == 7 and g["allora_temporal_coverage"] is None
    assert g["allora_temporal_coverage_pass"] is None
    # each metric function gives the grade's value
    for name in NAMES:
        assert allora.METRIC_FUNCTIONS[name](Y, P) == g[name]


def test_autocorrelated_hits_shrink_the_effective_sample():
    # hits in runs: 1 1 1 0 0 1 1 1 1 0 0 0 1 1 (y > 0 always, forecast sign gives the hit)
    hits = np.array([1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1], dtype=float)
    y = np.linspace(0.01, 0.02, hits.size)
    p = np.where(hits == 1, 1.0, -1.0)
    rho = np.corrcoef(hits[:-1], hits[1:])[0, 1]
    assert rho > 0
    n, da = hits.size, hits.mean()
    n_eff = n * (1 - rho) / (1 + rho)
    g = allora.allora_grade(y, p)
    assert g["allora_da_autocorrelation"] == pytest.approx(rho, abs=TOL)
    assert g["allora_da_n_effective"] == pytest.approx(n_eff, rel=TOL) and 2 < n_eff < n
    assert g["allora_da_p_value"] == pytest.approx(z_test_p(da, n_eff), rel=1e-9)
    assert g["allora_da_ci_lower"] == pytest.approx(wilson(da, n_eff)[0], abs=TOL)
    # long runs: rho near 1, n (1 - rho) / (1 + rho) < 2, floored at 2
    hits = np.r_[np.ones(5), np.zeros(5)]
    rho = np.corrcoef(hits[:-1], hits[1:])[0, 1]
    assert 10 * (1 - rho) / (1 + rho) < 2
    g = allora.allora_grade(np.full(10, 0.01), np.where(hits == 1, 1.0, -1.0), nan_policy="raise")
    assert g["allora_da_n_effective"] == 2.0
    assert g["allora_da_ci_lower"] == pytest.approx(wilson(0.5, 2)[0], abs=TOL)
    # a constant hit sequence has no autocorrelation (NaN taken as 0): n_eff = n
    g = allora.allora_grade(np.full(6, 0.01), np.ones(6))
    assert g["allora_da_autocorrelation"] == 0.0 and g["allora_da_n_effective"] == 6.0
    assert g["allora_da_p_value"] == pytest.approx(z_test_p(1.0, 6), rel=1e-9)
    # two rows: n_eff = n
    g = allora.allora_grade([0.01, -0.02], [0.5, 0.5])
    assert g["allora_da_n_effective"] == 2.0 and g["allora_directional_accuracy"] == 0.5


def test_ties_in_sign_and_zero_returns():
    # zero returns leave the DA sample; a zero forecast on a non-zero return is a miss; zero on zero
    # counts as "same sign" in the CZAR score but weighs |z| = 0
    y = np.array([0.0, 0.0, 0.01, -0.01, 0.02])
    p = np.array([0.0, 1.0, 0.0, -1.0, 1.0])
    g = allora.allora_grade(y, p)
    assert g["allora_da_n_samples"] == 3 and g["allora_directional_accuracy"] == pytest.approx(2 / 3, abs=TOL)
    # CZAR: -0.01 (zero forecast) +0.01 +0.02 over 0.04
    assert g["allora_czar_improvement"] == pytest.approx(0.02 / 0.04, abs=TOL)
    # every return zero: DA 0.5, interval [0, 1], p 1, n 0; WRMSE 0 (no weight), CZAR 0 (std 0), r 0 and p 1
    g = allora.allora_grade(np.zeros(5), np.array([0.1, -0.2, 0.3, 0.0, 0.5]))
    assert (
        g["allora_directional_accuracy"],
        g["allora_da_ci_lower"],
        g["allora_da_ci_upper"],
        g["allora_da_p_value"],
        g["allora_da_n_samples"],
        g["allora_da_n_effective"],
    ) == (0.5, 0.0, 1.0, 1.0, 0, 0.0)
    assert g["allora_wrmse_improvement"] == 0.0 and g["allora_czar_improvement"] == 0.0
    assert g["allora_wrmse_model"] == g["allora_wrmse_baseline"] == 0.0
    assert (g["allora_pearson_r"], g["allora_pearson_p_value"]) == (0.0, 1.0)
    assert g["allora_primary_passed"] == 0 and g["allora_points"] == 0 and g["allora_grade"] == "F"


def test_constant_series():
    # a constant target: std == 0 exactly, so the CZAR score is 0 whatever the signs; r undefined: 0, p 1
    y = np.full(6, 0.5)
    p = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0])
    g = allora.allora_grade(y, p)
    assert np.std(y) == 0.0
    assert g["allora_czar_improvement"] == 0.0 and g["allora_czar_oracle"] == 0.0
    assert (g["allora_pearson_r"], g["allora_pearson_p_value"]) == (0.0, 1.0)
    assert g["allora_directional_accuracy"] == 1.0  # the signs still agree
    # WRMSE stays defined: weights 0.5 each, sqrt(mean((y - p)^2)) against 0.5
    assert g["allora_wrmse_improvement"] == pytest.approx(1 - math.sqrt(np.mean((y - p) ** 2)) / 0.5, abs=TOL)
    # a constant forecast: r undefined, 0 and 1
    rng = np.random.default_rng(0)
    y = rng.normal(size=20)
    assert allora.allora_pearson_r(y, np.full(20, 0.3)) == 0.0
    assert allora.allora_pearson_p_value(y, np.full(20, 0.3)) == 1.0
    # the builder kit tests np.std(y) == 0 exactly: 0.1 three times has std 1.4e-17, not 0, so the
    # score is the signs' (all right: 1), as the builder kit computes it
    y = np.full(3, 0.1)
    assert np.std(y) > 0
    assert allora.allora_czar_improvement(y, np.ones(3)) == pytest.approx(1.0, abs=TOL)


def test_nan_policies():
    y = np.array([0.02, np.nan, -0.01, 0.03, -0.02, 0.01, np.inf])
    p = np.array([0.01, 0.5, -0.02, np.nan, -0.01, 0.02, 0.1])
    keep = np.isfinite(y) & np.isfinite(p)
    # omit (the default): the metrics of the finite rows; the count is reported
    g = allora.allora_grade(y, p)
    ref = allora.allora_grade(y[keep], p[keep])
    assert g["allora_n_omitted"] == 3 and g["allora_n_rows"] == 4
    for name in NAMES:
        assert g[name] == ref[name]
        assert allora.METRIC_FUNCTIONS[name](y, p) == ref[name]
    # raise: the first bad row is named
    with pytest.raises(ValueError, match=r"y_true must be finite \(nan_policy='raise'\); got nan at row 1 \(2 bad"):
        allora.allora_grade(y, p, nan_policy="raise")
    with pytest.raises(ValueError, match=r"y_pred must be finite .* got nan at row 3"):
        allora.allora_czar_improvement(np.ones(7), p, nan_policy="raise")
    with pytest.raises(ValueError, match="nan_policy must be one of"):
        allora.allora_grade(y, p, nan_policy="drop")
    # propagate: the builder kit's arithmetic on NaN, worked out by hand
    y = np.array([0.02, -0.01, np.nan, 0.03, -0.02])
    p = np.array([0.01, -0.02, 0.01, np.nan, -0.01])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning leaks out
        g = allora.allora_grade(y, p, nan_policy="propagate")
    # DA: NaN != 0 keeps row 2; sign(nan) never equals: rows 2 and 3 are misses -> 3 of 5
    assert g["allora_da_n_samples"] == 5 and g["allora_directional_accuracy"] == pytest.approx(3 / 5, abs=TOL)
    # Pearson of NaN is NaN: 0 and 1; WRMSE: sum|y| is NaN, baseline NaN is not > 0 -> 0; CZAR: std NaN -> NaN
    assert (g["allora_pearson_r"], g["allora_pearson_p_value"]) == (0.0, 1.0)
    assert g["allora_wrmse_improvement"] == 0.0
    assert math.isnan(g["allora_czar_improvement"]) and not g["allora_passed"]["allora_czar_improvement"]
    # a NaN forecast alone: WRMSE NaN; the CZAR score counts it as a miss
    y = np.array([0.02, -0.01, 0.04, 0.03, -0.02])
    g = allora.allora_grade(y, p, nan_policy="propagate")
    assert math.isnan(g["allora_wrmse_improvement"])
    assert g["allora_czar_improvement"] == pytest.approx((0.02 + 0.01 + 0.04 - 0.03 + 0.02) / 0.12, abs=TOL)
    # everything omitted, or one row left: Pearson (and the grade) need 2 rows
    with pytest.raises(ValueError, match="allora_grade needs at least 2 rows; got 1 after leaving out 4 rows"):
        allora.allora_grade([np.nan, 0.1, np.nan, np.nan, np.nan], [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="allora_pearson_r needs at least 2 rows; got 1"):
        allora.allora_pearson_r([0.1], [0.2])
    # one row is enough here, as in the builder kit: n_eff = n = 1, z = (1 - 0.5 - 0.5) / 0.5 = 0, p = 1/2
    assert allora.allora_directional_accuracy([0.1], [0.2]) == 1.0
    assert allora.allora_da_p_value([0.1], [0.2]) == pytest.approx(0.5, abs=TOL)


@pytest.mark.parametrize("name", NAMES)
def test_threshold_boundaries(name):
    t = {x.name: x for x in allora.PRIMARY}[name]
    at, below, above = t.threshold, np.nextafter(t.threshold, -1), np.nextafter(t.threshold, 2)
    if t.higher_is_better:  # ">=": the threshold itself passes
        assert t.passes(at) and t.passes(above) and not t.passes(below)
    else:  # "<": the threshold itself fails
        assert not t.passes(at) and t.passes(below) and not t.passes(above)
    assert not t.passes(math.nan)
    values = {n: math.nan for n in NAMES} | {name: at}
    assert allora.allora_passed(values) == {n: (n == name and t.higher_is_better) for n in NAMES}


def test_thresholds_and_grades_are_the_builder_kits():
    assert {t.name: (t.threshold, t.higher_is_better) for t in allora.PRIMARY} == {
        "allora_directional_accuracy": (0.52, True),
        "allora_da_ci_lower": (0.50, True),
        "allora_da_p_value": (0.05, False),
        "allora_pearson_r": (0.05, True),
        "allora_pearson_p_value": (0.05, False),
        "allora_wrmse_improvement": (0.05, True),
        "allora_czar_improvement": (0.10, True),
    }
    # builder kit e9bb684 (2026-04-27): points = primary metrics passed, out of 7: 7 A+, 6 A, 5 B+, 4 B,
    # 3 C, 2 D, 1 or 0 F; temporal coverage is no longer a point
    assert allora.GRADE_TABLE_COMMIT == "e9bb684" and allora.MAX_POINTS == 7
    assert [allora.allora_grade_letter(k) for k in range(8)] == ["F", "F", "D", "C", "B", "B+", "A", "A+"]
    # the former table of 3fc8ea7b: 7 metrics + 1 for temporal coverage, out of 8
    assert allora.LEGACY_GRADES == {8: "A+", 7: "A", 6: "B+", 5: "B", 4: "C", 3: "D", 2: "F", 1: "F", 0: "F"}
    for bad in (8, -1, 2.5, True):
        with pytest.raises(ValueError, match="points must be"):
            allora.allora_grade_letter(bad)
    with pytest.raises(ValueError, match=r"values lacks the primary metrics \['allora_pearson_r'"):
        allora.allora_passed({n: 0.0 for n in NAMES if n != "allora_pearson_r"})


def test_grade_end_to_end_and_temporal_coverage():
    rng = np.random.default_rng(3)
    y = 0.01 * rng.standard_t(4, size=400)
    perfect = allora.allora_grade(y, y)
    assert all(perfect["allora_passed"].values()) and perfect["allora_points"] == 7 and perfect["allora_grade"] == "A+"
    assert perfect["allora_score"] == 1.0 and perfect["allora_temporal_coverage_pass"] is None
    # coverage: 400 rows of 800 expected epochs is exactly one half (passes); of 801 it is not; 0 never.
    # It is reported beside the grade and never changes it.
    full = allora.allora_grade(y, y, n_expected_epochs=800)
    assert full["allora_temporal_coverage_pass"] is True and full["allora_temporal_coverage"] == 0.5
    assert full["allora_grade"] == "A+"
    late = allora.allora_grade(y, y, n_expected_epochs=801)
    assert (
        late["allora_temporal_coverage_pass"] is False and late["allora_points"] == 7 and late["allora_grade"] == "A+"
    )
    none = allora.allora_grade(y, y, n_expected_epochs=0)
    assert none["allora_temporal_coverage_pass"] is False and none["allora_points"] == 7
    with pytest.raises(ValueError, match="n_expected_epochs must be an integer >= 0; got -3"):
        allora.allora_grade(y, y, n_expected_epochs=-3)
    # omitted rows are uncovered epochs
    y_gap = y.copy()
    y_gap[:2] = np.nan
    assert not allora.allora_grade(y_gap, y, n_expected_epochs=800)["allora_temporal_coverage_pass"]
    # the opposite forecast fails six of seven: its Pearson p-value is two-sided, and r = -1 is
    # significant, so that test passes (r itself fails): 1 point, F
    wrong = allora.allora_grade(y, -y)
    assert [n for n, ok in wrong["allora_passed"].items() if ok] == ["allora_pearson_p_value"]
    assert wrong["allora_pearson_r"] == pytest.approx(-1.0) and wrong["allora_grade"] == "F"
    assert wrong["allora_czar_improvement"] == pytest.approx(-1.0) and wrong["allora_directional_accuracy"] == 0.0
    # plain Python values (JSON-ready)
    assert all(type(v) in (int, float, bool, str, dict, type(None)) for v in perfect.values())
    assert all(type(v) in (int, float, bool, str, dict) for v in full.values())


def test_regrade_of_a_grade_stored_with_the_eight_point_table():
    """Grades czar_gbdt stored before e9bb684 earned the coverage point: the current points are one fewer."""
    # one series: 5/8 (4 metrics + coverage) was B, is 4/7, B
    old = {"allora_points": 5, "allora_grade": "B", "allora_scope": "series", "allora_pearson_r": 0.1}
    new = allora.allora_regrade(old)
    assert (new["allora_points"], new["allora_grade"], new["allora_max_points"]) == (4, "B", 7)
    assert new["allora_regraded_from"] == "8-point table of builder kit 3fc8ea7b" and "allora_max_points" not in old
    assert new["allora_pearson_r"] == 0.1
    # every metric passed: A+ either way; 3/8 (D) is 2/7 (D); 2/8 (F) is 1/7 (F)
    for points, before, after in (
        (8, "A+", "A+"),
        (7, "A", "A"),
        (6, "B+", "B+"),
        (4, "C", "C"),
        (3, "D", "D"),
        (2, "F", "F"),
        (1, "F", "F"),
    ):
        assert allora.LEGACY_GRADES[points] == before
        assert allora.allora_regrade({"allora_points": points, "allora_grade": before})["allora_grade"] == after
        assert allora.allora_grade_letter(points - 1) == after
    # a mean over assets: 4.6/8 (rounded 5, B) is 3.6/7 (rounded 4, B); numpy numbers as pandas gives them
    mean = allora.allora_regrade(
        {"allora_points": np.float64(4.6), "allora_grade": "B", "allora_scope": "mean of 49 assets"}
    )
    assert mean["allora_points"] == pytest.approx(3.6) and mean["allora_grade"] == "B"
    assert allora.allora_regrade({"allora_points": np.int64(6), "allora_grade": "B+"})["allora_points"] == 5
    # current records, scores without a grade and rows without one are left as they are
    current = {"allora_points": 4, "allora_max_points": 7, "allora_grade": "B"}
    for record in (current, {"allora_points": math.nan, "allora_grade": "n/a"}, {"rank_ic": 0.1}):
        assert allora.allora_regrade(record) == record


def test_weights_must_be_equal():
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=30), rng.normal(size=30)
    for name, func in allora.METRIC_FUNCTIONS.items():
        assert func(y, p, sample_weight=np.full(30, 2.0)) == func(y, p) == func(y, p, sample_weight=np.empty(0))
    w = np.ones(30)
    w[7] = 3.0
    with pytest.raises(
        ValueError,
        match=r"allora_czar_improvement is unweighted, but sample_weight varies "
        r"\(1.0 at row 0, 3.0 at row 7\)",
    ):
        allora.allora_czar_improvement(y, p, sample_weight=w)
    with pytest.raises(ValueError, match="sample_weight has 29 values but y_true has 30 rows"):
        allora.allora_pearson_r(y, p, sample_weight=w[:29])
    with pytest.raises(ValueError, match="y_pred has length 29 but y_true has length 30"):
        allora.allora_grade(y, p[:29])


def test_grade_by_asset():
    rng = np.random.default_rng(4)
    dates = np.tile(np.arange(50), 3)
    assets = np.repeat(["b", "a", "c"], 50)
    y = rng.normal(size=150)
    p = y + rng.normal(size=150)
    perm = rng.permutation(150)
    table = allora.allora_grade_by_asset(y[perm], p[perm], assets=assets[perm], dates=dates[perm])
    assert list(table.index) == ["a", "b", "c"]
    for a in "abc":
        ref = allora.allora_grade(y[assets == a], p[assets == a])
        assert table.loc[a, "allora_grade"] == ref["allora_grade"]
        for name in NAMES:
            assert table.loc[a, name] == ref[name]
    with pytest.raises(ValueError, match="asset 'z': allora_grade needs at least 2 rows; got 1"):
        allora.allora_grade_by_asset(y[:3], p[:3], assets=["a", "a", "z"])


def _series(n=1200, seed=5):
    """One asset: a weak, partly non-linear signal, so a validation score peaks and then decays."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    return X, 0.01 * (0.35 * np.tanh(X[:, 0]) + 0.2 * X[:, 1] * X[:, 2] + rng.normal(size=n))


def test_xgboost_early_stopping_maximises_allora_czar_improvement():
    xgb = pytest.importorskip("xgboost")
    from czar_gbdt import xgboost as cx

    assert cx.metric("allora_czar_improvement").maximize is True
    X, y = _series()
    n = 800
    res = {}
    booster = cx.train(
        {"max_depth": 3, "eta": 0.1},
        cx.DMatrix(X[:n], y[:n]),
        300,
        objective="mse",
        evals=[(cx.DMatrix(X[n:], y[n:]), "valid")],
        metric="allora_czar_improvement",
        early_stopping_rounds=10,
        evals_result=res,
        verbose_eval=False,
    )
    hist = np.array(res["valid"]["allora_czar_improvement"])
    best = int(np.argmax(hist))
    assert booster.best_iteration == best and len(hist) == best + 11 < 300
    assert np.argmin(hist) != best and hist[best] > hist[0]
    pred = booster.predict(xgb.DMatrix(X[n:]), iteration_range=(0, best + 1), output_margin=True)
    assert allora.allora_czar_improvement(y[n:], pred) == pytest.approx(hist[best], abs=1e-6)


def test_lightgbm_early_stopping_maximises_allora_wrmse_improvement():
    lgb = pytest.importorskip("lightgbm")
    from czar_gbdt import lightgbm as clx

    assert clx.metric("allora_wrmse_improvement").is_higher_better
    X, y = _series()
    n = 800
    train = clx.Dataset(X[:n], y[:n])
    valid = clx.Dataset(X[n:], y[n:], reference=train)
    res = {}
    params = {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 10, "verbose": -1, "num_threads": 2}
    booster = clx.train(
        params,
        train,
        300,
        objective="mse",
        valid_sets=[valid],
        metric="allora_wrmse_improvement",
        early_stopping_rounds=10,
        callbacks=[lgb.record_evaluation(res)],
    )
    hist = np.array(res["valid_0"]["allora_wrmse_improvement"])
    best = int(np.argmax(hist))
    assert booster.best_iteration == best + 1 and len(hist) == best + 11 < 300  # LightGBM counts from 1
    assert np.argmin(hist) != best and hist[best] > hist[0]
    pred = booster.predict(X[n:], num_iteration=best + 1)
    assert allora.allora_wrmse_improvement(y[n:], pred) == pytest.approx(hist[best], abs=1e-9)

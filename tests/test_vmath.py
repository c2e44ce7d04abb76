"""The vectorisable exp, log, log1p, atan and pow of the loss kernels, against libm."""

import math

import numba
import numpy as np
import pytest

from czar_gbdt._kernels.vmath import vatan, vexp, vlog, vlog1p, vpow


def _loop(f):
    @numba.njit(error_model="numpy")
    def run(x):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = f(x[i])
        return out

    return run


@numba.njit(error_model="numpy")
def _pow_loop(x, y):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = vpow(x[i], y[i])
    return out


RNG = np.random.default_rng(7)
N = 20_000
# (function, libm's, inputs covering every branch, bound in ulp of the result: the documented
# bound of vmath.py plus libm's own rounding)
CASES = {
    "exp": (vexp, math.exp, np.concatenate([RNG.uniform(-745, 709.7, N), RNG.uniform(-1, 1, N)]), 1.5),
    "log": (vlog, math.log, np.concatenate([np.exp(RNG.uniform(-744, 709, N)), RNG.uniform(0.5, 2, N)]), 1.5),
    "log1p": (
        vlog1p,
        math.log1p,
        np.concatenate(
            [RNG.uniform(-0.999, 3, N), np.exp(RNG.uniform(-40, 5, N)), -np.exp(RNG.uniform(-40, -0.01, N))]
        ),
        2.5,
    ),
    "atan": (
        vatan,
        math.atan,
        np.concatenate([RNG.uniform(-5, 5, N), np.exp(RNG.uniform(-30, 30, N)), -np.exp(RNG.uniform(-30, 30, N))]),
        2.5,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_within_its_documented_ulp_of_libm(name):
    f, libm, x, bound = CASES[name]
    got = _loop(f)(x)
    want = np.array([libm(v) for v in x])
    ulps = np.abs(got - want) / np.spacing(np.abs(want))
    assert np.isfinite(got).all() and ulps.max() <= bound, f"{name}: worst {ulps.max():.2f} ulp at {x[ulps.argmax()]}"


def test_pow_within_its_bound():
    x = np.exp(RNG.uniform(-20, 20, N))
    y = RNG.uniform(-4, 4, N)
    got = _pow_loop(x, y)
    want = x**y
    ulps = np.abs(got - want) / np.spacing(np.abs(want))
    assert (ulps <= 3.0 + np.abs(y * np.log(x))).all()
    np.testing.assert_array_equal(
        _pow_loop(np.array([0.0, 0.0, 5.0, 0.0]), np.array([2.0, 0.0, 0.0, 0.5])), [0.0, 1.0, 1.0, 0.0]
    )


def test_special_values_follow_c99():
    x = np.array([0.0, np.inf, -np.inf, np.nan, 1e-310, 5e-324, -1.0, 1000.0, -1000.0])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(_loop(vexp)(x), np.exp(x))
        np.testing.assert_array_equal(_loop(vlog)(x), np.log(x))
        np.testing.assert_array_equal(_loop(vlog1p)(x), np.log1p(x))
        np.testing.assert_array_equal(_loop(vatan)(x), np.arctan(x))

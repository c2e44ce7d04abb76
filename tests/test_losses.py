"""Loss kernels: golden parity, derivatives, properties over extreme inputs, bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize

import czar_gbdt as cg
from czar_gbdt import testing as ref
from czar_gbdt.losses import ElementwiseLoss

HERE = Path(__file__).parent

LOSS_INSTANCES = [
    cg.CZAR(),
    cg.CZAR(alpha=0.0, epsilon=0.0),
    cg.CZAR(alpha=0.5, epsilon=2.0, tau=0.0),
    cg.CZAR(alpha=0.25, epsilon=1.0, tau=0.5),
    cg.ZPTAE(),
    cg.ZPTAE(alpha=0.5, beta=3.0, gamma=1.5, penalty_norm=0.1, hessian="constant"),
    cg.ZPTAE(alpha=0.1, gamma=2.5, hessian="irls"),  # beta = 2 with another gamma: the loops' case 1
    cg.HalfSquaredError(),
    cg.FocalLoss(),
    cg.FocalLoss(gamma=0.5, alpha=0.7),
    cg.AsymmetricLoss(),
    cg.AsymmetricLoss(gamma_pos=1.0, gamma_neg=2.0, clip=0.05),
]
REGRESSION = [loss for loss in LOSS_INSTANCES if loss.kind == "regression"]
BINARY = [loss for loss in LOSS_INSTANCES if loss.kind == "binary"]


def exact(loss):
    return loss.with_params(derivatives="exact", min_hessian="none")


# --------------------------------------------------------------------------- golden values
@pytest.fixture(scope="module")
def czar_golden():
    return pd.read_csv(HERE / "czar_golden.csv")


def assert_rel(actual, expected, rtol=1e-12, what="", atol=0.0):
    actual, expected = np.asarray(actual), np.asarray(expected)
    err = np.abs(actual - expected)
    ok = (err <= rtol * np.abs(expected) + atol) | (actual == expected)
    assert ok.all(), (
        f"{what}: {int((~ok).sum())} rows off, worst at {np.argmax(err)}: {actual[~ok][:3]} vs {expected[~ok][:3]}"
    )


def test_czar_golden_parity(czar_golden):
    assert len(czar_golden) == 7722
    for (alpha, epsilon, tau), g in czar_golden.groupby(["alpha", "epsilon", "tau"]):
        kw = dict(std=g["std"].to_numpy(), mean=g["mean"].to_numpy())
        loss = cg.CZAR(alpha, epsilon, tau, min_hessian="none")
        what = f"CZAR({alpha}, {epsilon}, {tau})"
        # the loss's atan is the vectorised one (_kernels/vmath.py, within 1 ulp of libm's): where
        # the reference's softening weight rounds to exactly 0 (|z_t| = epsilon), ours may be a
        # few ulp above it, so the loss is held to 1e-12 relative plus 1e-15 absolute (L0 ~ 1)
        assert_rel(loss.loss(g.y_true, g.y_pred, **kw), g.loss, what=what + " loss", atol=1e-15)
        grad, hess = loss.grad_hess(g.y_true, g.y_pred, **kw)
        assert_rel(grad, g.grad_ref, what=what + " grad_ref")
        assert_rel(hess, g.hess_ref, what=what + " hess_ref")
        grad, hess = exact(loss).grad_hess(g.y_true, g.y_pred, **kw)
        assert_rel(grad, g.grad_exact, what=what + " grad_exact")
        assert_rel(hess, g.hess_exact, what=what + " hess_exact")


def test_zptae_golden_parity():
    golden = pd.read_csv(HERE / "zptae_golden.csv")
    assert len(golden) == 1248
    for params, g in golden.groupby(["alpha", "beta", "gamma", "penalty_norm"]):
        loss = cg.ZPTAE(*params)
        values = loss.loss(g.y_true, g.y_pred, std=g["std"].to_numpy(), mean=g["mean"].to_numpy())
        assert_rel(values, g.loss, what=f"ZPTAE{params}")


def test_czar_canonical_check():
    loss = cg.CZAR()
    y, p = np.ones(3), np.array([-0.5, 0.5, 1.5])
    np.testing.assert_allclose(loss.loss(y, p), [1.277257108913288, 0.270314256882699, 0.260455524262833], rtol=1e-14)
    grad, hess = loss.grad_hess(y, p)
    np.testing.assert_allclose(grad, [-1.433012701892219, -0.617088652765469, 0.172864372318235], rtol=1e-14)
    np.testing.assert_allclose(hess, [0.866025403784439, 0.997230939256113, 0.866025403784439], rtol=1e-14)


@pytest.mark.parametrize("loss", REGRESSION[:4], ids=repr)
def test_czar_kernel_equals_reference_code(loss):
    """Random rows, random std/mean: numba == the authors' numpy code to the last bits."""
    rng = np.random.default_rng(0)
    n = 5000
    std = rng.uniform(0.005, 3.0, n)
    mean = rng.normal(0, 0.5, n)
    y = mean + std * rng.standard_t(3, n)
    p = mean + std * rng.normal(0, 1.5, n)
    p[:50] = y[:50]  # on the kink
    p[50:100] = mean[50:100]
    kw = dict(alpha=loss.alpha)
    np.testing.assert_allclose(
        loss.loss(y, p, std=std, mean=mean),
        ref.czar_loss(y, p, std, mean, epsilon=loss.epsilon, tau=loss.tau, **kw),
        rtol=1e-13,
        atol=1e-15,
    )
    raw = loss.with_params(min_hessian="none")
    for exact_mode in (False, True):
        mine = (exact(loss) if exact_mode else raw).grad_hess(y, p, std=std, mean=mean)
        theirs = ref.czar_grad_hess(y, p, std, mean, exact=exact_mode, **kw)
        np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-13, atol=0)
        np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-13, atol=0)


@pytest.mark.parametrize("loss", LOSS_INSTANCES, ids=repr)
def test_kernel_equals_numpy_reference(loss):
    rng = np.random.default_rng(1)
    n = 3000
    if loss.kind == "binary":
        y = (rng.random(n) < 0.3).astype(float)
        x = rng.normal(0, 4, n)
        x[:20] = np.linspace(-800, 800, 20)
        kw = {}
    else:
        std = rng.uniform(0.01, 2, n)
        y, x = std * rng.normal(0, 2, n), std * rng.normal(0, 2, n)
        kw = dict(std=std, mean=0.0)
    name = type(loss).__name__
    if name == "CZAR":
        return  # covered bit for bit above
    if name == "ZPTAE":
        p = dict(alpha=loss.alpha, beta=loss.beta, gamma=loss.gamma, penalty_norm=loss.penalty_norm)
        want_loss = ref.zptae_loss(y, x, kw["std"], 0.0, **p)
        want = ref.zptae_grad_hess(y, x, kw["std"], 0.0, eta=loss.eta, exact=True, **p)
        for mode in ("constant", "irls"):
            want_ref = ref.zptae_grad_hess(y, x, kw["std"], 0.0, eta=loss.eta, hessian=mode, **p)
            got = loss.with_params(hessian=mode, min_hessian="none").grad_hess(y, x, **kw)
            np.testing.assert_allclose(got[0], want_ref[0], rtol=1e-11)
            np.testing.assert_allclose(got[1], want_ref[1], rtol=1e-11)
    elif name == "HalfSquaredError":
        want_loss = 0.5 * ((x - y) / kw["std"]) ** 2
        want = ref.squared_error_grad_hess(y, x, kw["std"])
    elif name == "FocalLoss":
        want_loss = ref.focal_loss(y, x, loss.alpha, loss.gamma)
        want = ref.focal_grad_hess(y, x, loss.alpha, loss.gamma, exact=True)
        want_ref = ref.focal_grad_hess(y, x, loss.alpha, loss.gamma, exact=False)
        np.testing.assert_allclose(
            loss.with_params(min_hessian="none").grad_hess(y, x)[1], want_ref[1], rtol=1e-11, atol=1e-300
        )
    else:
        p = dict(gamma_pos=loss.gamma_pos, gamma_neg=loss.gamma_neg, clip=loss.clip)
        want_loss = ref.asymmetric_loss(y, x, **p)
        want = ref.asymmetric_grad_hess(y, x, exact=True, **p)
    np.testing.assert_allclose(loss.loss(y, x, **kw), want_loss, rtol=1e-11, atol=1e-300)
    got = exact(loss).grad_hess(y, x, **kw)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-9, atol=1e-13)


# --------------------------------------------------------------------------- derivatives
def _kink_free_points(loss, rng, n=400):
    """Random rows whose 5-point stencil cannot cross a kink of the loss."""
    if loss.kind == "binary":
        y = (rng.random(n) < 0.5).astype(float)
        x = rng.uniform(-12, 12, n)
        if type(loss).__name__ == "AsymmetricLoss" and loss.clip > 0:
            # kink where p = clip: keep negatives away from it
            kink = np.log(loss.clip / (1 - loss.clip))
            x = np.where((y == 0) & (np.abs(x - kink) < 0.05), x + 0.2, x)
        return y, x, {}
    std = rng.uniform(0.01, 3.0, n)
    mean = rng.normal(0, 0.2, n)
    zt = rng.normal(0, 2, n)
    zp = rng.normal(0, 2, n)
    bad = (np.abs(zp) < 0.05) | (np.abs(zp - zt) < 0.05)
    zp = np.where(bad, zp + 0.3 * np.sign(zp + 1e-9), zp)
    bad = (np.abs(zp) < 0.05) | (np.abs(zp - zt) < 0.05)
    return (mean + std * zt)[~bad], (mean + std * zp)[~bad], dict(std=std[~bad], mean=mean[~bad])


def _central(f, x, h):
    return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)


@pytest.mark.parametrize("loss", LOSS_INSTANCES, ids=repr)
def test_exact_derivatives_match_finite_differences(loss):
    rng = np.random.default_rng(2)
    y, x, kw = _kink_free_points(loss, rng)
    loss = exact(loss)
    h = 1e-4 * (kw["std"] if kw else 1.0)
    grad, hess = loss.grad_hess(y, x, **kw)
    fd_grad = _central(lambda v: loss.loss(y, v, **kw), x, h)
    fd_hess = _central(lambda v: loss.grad_hess(y, v, **kw)[0], x, h)
    scale_g = np.abs(grad).max()
    scale_h = np.abs(hess).max()
    np.testing.assert_allclose(fd_grad, grad, rtol=5e-6, atol=1e-8 * scale_g)
    np.testing.assert_allclose(fd_hess, hess, rtol=5e-6, atol=1e-8 * scale_h)


def test_czar_reference_differs_from_exact_only_where_documented():
    loss = cg.CZAR(min_hessian="none")
    y = np.array([1.0, 1.0, 1.0, 0.0])
    p = np.array([-0.5, 0.5, 1.5, -0.3])
    g_ref, h_ref = loss.grad_hess(y, p)
    g_ex, h_ex = exact(loss).grad_hess(y, p)
    assert g_ref[1] == g_ex[1]  # region 2: same gradient
    assert g_ref[0] == g_ex[0]  # region 1 with z_t != 0: same
    assert g_ref[3] == pytest.approx(g_ex[3] + 1.0, rel=1e-15)  # region 1, z_t == 0: sign(0)=0 instead of s=+1
    assert g_ex[2] > g_ref[2]  # region 3: the constant s*D*f(d_t) is dropped


# --------------------------------------------------------------------------- properties
finite_z = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
stds = st.floats(1e-12, 1e6, allow_nan=False)
margins = st.floats(-1e3, 1e3, allow_nan=False)


@given(zt=finite_z, zp=finite_z, std=stds, mean=st.floats(-1, 1), w=st.floats(0, 1e3), loss=st.sampled_from(REGRESSION))
def test_regression_outputs_finite_and_hessian_floored(zt, zp, std, mean, w, loss):
    y = np.array([mean + std * zt])
    p = np.array([mean + std * zp])
    value = loss.loss(y, p, std=std, mean=mean)
    grad, hess = loss.grad_hess(y, p, std=std, mean=mean)
    assert np.isfinite(value).all() and np.isfinite(grad).all() and np.isfinite(hess).all()
    assert value[0] >= 0.0  # every regression loss here is >= 0 (softening adds N*L0 >= 0)
    assert hess[0] >= loss.min_hessian
    # the exact derivatives are finite too (their hessian may be 0 or negative: no floor)
    grad_ex, hess_ex = exact(loss).grad_hess(y, p, std=std, mean=mean)
    assert np.isfinite(grad_ex).all() and np.isfinite(hess_ex).all()
    # weights scale after the floor
    grad_w, hess_w = loss.grad_hess(y, p, std=std, mean=mean, weight=[w])
    np.testing.assert_allclose([grad_w[0], hess_w[0]], [w * grad[0], w * hess[0]], rtol=1e-15)


@given(y=st.sampled_from([0.0, 1.0]), x=margins, loss=st.sampled_from(BINARY))
def test_binary_outputs_finite_and_hessian_floored(y, x, loss):
    value = loss.loss([y], [x])
    grad, hess = loss.grad_hess([y], [x])
    assert np.isfinite(value).all() and np.isfinite(grad).all() and np.isfinite(hess).all()
    assert value[0] >= 0.0
    assert hess[0] >= loss.min_hessian
    grad_ex, hess_ex = exact(loss).grad_hess([y], [x])
    assert np.isfinite(grad_ex).all() and np.isfinite(hess_ex).all()
    assert grad_ex[0] == grad[0]  # both modes give the exact gradient


@given(zt=finite_z, zp=finite_z, eta=st.floats(1e-3, 1.0))
def test_zptae_boosting_hessian_positive_and_bounded(zt, zp, eta):
    loss = cg.ZPTAE(penalty_norm=0.0, eta=eta, hessian="irls")  # no penalty: the IRLS part alone
    _, hess = loss.grad_hess([zt], [zp])
    assert loss.min_hessian <= hess[0] <= 1.0 / eta + 1e-12
    _, hess = loss.with_params(hessian="constant").grad_hess([zt], [zp])
    assert hess[0] == 1.0


@given(
    zt=finite_z,
    zp=finite_z,
    hessian=st.sampled_from(["constant", "irls"]),
    params=st.sampled_from(
        [{}, {"gamma": 1.5, "penalty_norm": 0.1}, {"gamma": 3.0, "penalty_norm": 0.5}, {"gamma": 2.0}]
    ),
)
def test_zptae_default_penalty_hessian_bounded(zt, zp, hessian, params):
    """With the penalty on, the surrogate stays within its documented bound for any residual."""
    loss = cg.ZPTAE(hessian=hessian, **params)
    g, k, eta = loss.gamma, loss.penalty_norm, loss.eta
    penalty_bound = g * (g - 1) * k**g * (eta ** (g - 2) if g < 2 else k ** (2 - g))
    bound = (1.0 if hessian == "constant" else 1.0 / eta) + penalty_bound
    _, hess = loss.grad_hess([zt], [zp])
    assert loss.min_hessian <= hess[0] <= bound * (1 + 1e-12)


def test_zptae_penalty_hessian_cap_is_where_the_penalty_reaches_one():
    loss = cg.ZPTAE()  # gamma 4, k 0.01: cap at |r| = 100
    _, h = loss.grad_hess([0.0, 0.0, 0.0], [50.0, 100.0, 1e6])
    np.testing.assert_allclose(h, [1 + 12e-8 * 50.0**2, 1 + 12e-4, 1 + 12e-4], rtol=1e-12)


@given(zt=st.floats(-50, 50), zp=st.floats(-50, 50))
def test_czar_loss_minimal_at_truth(zt, zp):
    loss = cg.CZAR(alpha=0.5)
    assert loss.loss([zt], [zp])[0] >= loss.loss([zt], [zt])[0] - 1e-12


def test_focal_gamma0_is_half_logistic():
    rng = np.random.default_rng(3)
    y = (rng.random(2000) < 0.4).astype(float)
    x = rng.normal(0, 5, 2000)
    x[:4] = [-1e3, 1e3, -700, 700]
    loss = cg.FocalLoss(gamma=0.0, alpha=0.5)
    q = np.where(y == 1, x, -x)  # signed margin: the logistic loss is softplus(-q)
    logistic = np.logaddexp(0, -q)
    p = np.exp(-np.logaddexp(0, -x))
    one_minus_p = np.exp(-np.logaddexp(0, x))
    np.testing.assert_allclose(loss.loss(y, x), 0.5 * logistic, rtol=1e-13, atol=1e-300)
    for mode in (loss, exact(loss)):
        grad, hess = mode.with_params(min_hessian="none").grad_hess(y, x)
        np.testing.assert_allclose(grad, 0.5 * np.where(y == 1, -one_minus_p, p), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(hess, 0.5 * p * one_minus_p, rtol=1e-12, atol=1e-300)


def test_asymmetric_with_clip0_gamma0_is_logistic():
    rng = np.random.default_rng(4)
    y = (rng.random(500) < 0.4).astype(float)
    x = rng.normal(0, 5, 500)
    loss = cg.AsymmetricLoss(gamma_pos=0.0, gamma_neg=0.0, clip=0.0)
    np.testing.assert_allclose(loss.loss(y, x), np.logaddexp(0, np.where(y == 1, -x, x)), rtol=1e-13)


# --------------------------------------------------------------------------- the method family
@pytest.mark.parametrize("loss", LOSS_INSTANCES, ids=repr)
def test_weights_multiply(loss):
    rng = np.random.default_rng(5)
    n = 300
    y = (rng.random(n) < 0.5).astype(float) if loss.kind == "binary" else rng.normal(0, 1, n)
    x = rng.normal(0, 1, n)
    w = rng.uniform(0, 3, n)
    np.testing.assert_allclose(loss.loss(y, x, weight=w), w * loss.loss(y, x), rtol=1e-15)
    g, h = loss.grad_hess(y, x)
    gw, hw = loss.grad_hess(y, x, weight=w)
    np.testing.assert_allclose(gw, w * g, rtol=1e-15)
    np.testing.assert_allclose(hw, w * h, rtol=1e-15)
    assert loss(y, x, weight=w) == pytest.approx(np.average(loss.loss(y, x), weights=w), rel=1e-14)


@pytest.mark.parametrize("loss", LOSS_INSTANCES, ids=repr)
def test_dtypes_and_readonly_inputs(loss):
    rng = np.random.default_rng(6)
    n = 100
    y = (rng.random(n) < 0.5).astype(np.float32) if loss.kind == "binary" else rng.normal(0, 1, n)
    x = rng.normal(0, 1, n)
    y.setflags(write=False)
    x.setflags(write=False)
    g64, h64 = loss.grad_hess(y, x)
    g32, h32 = loss.grad_hess(y, x, dtype=np.float32)
    assert g32.dtype == h32.dtype == np.float32 and g64.dtype == np.float64
    np.testing.assert_allclose(g32, g64, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(h32, h64, rtol=1e-6, atol=1e-30)
    assert loss.loss(y, x, dtype=np.float32).dtype == np.float32
    out = (np.empty(n), np.empty(n))
    res = loss.grad_hess(y, x.astype(np.float32), out=out)
    assert res[0] is out[0] and res[1] is out[1]
    assert loss.loss(y[:0], x[:0]).shape == (0,)


@pytest.mark.parametrize("loss", LOSS_INSTANCES, ids=repr)
def test_init_score_is_the_constant_minimiser(loss):
    rng = np.random.default_rng(7)
    n = 500
    if loss.kind == "binary":
        y = (rng.random(n) < 0.3).astype(float)
        kw = dict(weight=rng.uniform(0.5, 2, n))
    else:
        y = rng.standard_t(4, n) * 0.02 + 0.001
        kw = dict(std=rng.uniform(0.01, 0.03, n), weight=rng.uniform(0.5, 2, n))
    c = loss.init_score(y, **kw)
    best = optimize.minimize_scalar(lambda v: loss(y, np.full(n, v), **kw), bracket=(c - 0.1, c + 0.1), tol=1e-12)
    assert loss(y, np.full(n, c), **kw) <= best.fun + 1e-12
    assert c == pytest.approx(best.x, abs=1e-5)


def brent_init_score(loss, y, std=None, mean=None, weight=None):
    """The starting score as ``BaseLoss.init_score`` found it before issue 20: bounded Brent
    minimisation of the mean loss over all rows, polished, then the two bounds tried."""
    n = len(y)
    lo, hi = (-30.0, 30.0) if loss.kind == "binary" else (float(np.min(y)), float(np.max(y)))
    pred = np.empty(n)

    def objective(c):
        pred.fill(c)
        return loss(y, pred, std=std, mean=mean, weight=weight)

    scale = hi - lo
    res = optimize.minimize_scalar(
        objective, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10 * scale, "maxiter": 500}
    )
    c0, half = float(res.x), 1e-6 * scale
    res = optimize.minimize_scalar(
        lambda t: objective(c0 + t),
        bounds=(-half, half),
        method="bounded",
        options={"xatol": 1e-14 * scale, "maxiter": 500},
    )
    best = c0 + float(res.x)
    for edge in (lo, hi):
        if objective(edge) < objective(best):
            best = edge
    return best, scale


def start_payload(loss, n, seed, all_positive=False):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 2.0, n)
    if loss.kind == "binary":
        return (np.ones(n) if all_positive else (rng.random(n) < 0.3).astype(float)), dict(weight=w)
    std = 0.01 * np.exp(rng.normal(size=n) * 0.3)
    mean = 0.001 * rng.normal(size=n)
    return mean + std * rng.standard_t(4, n), dict(std=std, mean=mean, weight=w)


START_LOSSES = [
    *LOSS_INSTANCES,
    cg.ZPTAE(hessian="irls"),
    cg.LogisticLoss(pos_weight=2.0),
    cg.MixedLoss(cg.CZAR(), cg.HalfSquaredError(), 0.3),
    cg.MixedLoss(cg.CZAR(), cg.ZPTAE(), 0.3),
    cg.MixedLoss(cg.FocalLoss(), cg.AsymmetricLoss(), 0.5),
]


@pytest.mark.parametrize("loss", START_LOSSES, ids=repr)
def test_init_score_equals_the_brent_minimiser_of_before(loss):
    """Issue 20: the root of the summed gradient is today's Brent answer within 1e-9 (hi - lo),
    with weights, std and mean, and its mean loss is not higher."""
    for seed, n in ((0, 300), (1, 4000), (2, 4000)):
        y, kw = start_payload(loss, n, seed)
        c = loss.init_score(y, **kw)
        expected, scale = brent_init_score(loss, y, **kw)
        value, brent_value = (loss(y, np.full(n, v), **kw) for v in (c, expected))
        assert value <= brent_value * (1 + 1e-15) + 1e-300, (seed, c, expected)
        if abs(c - expected) > 1e-9 * scale:
            # Brent cannot place a smooth minimum closer than where the mean loss stops changing
            # in float (about 1e-9 of hi - lo here): equal loss, and the new answer is the root
            assert abs(c - expected) <= 1e-8 * scale and value == brent_value, (seed, c, expected)
            g, h = (v.sum() for v in exact(loss).grad_hess(y, np.full(n, c), **kw))
            assert abs(g / h) <= 1e-12 * scale, (seed, c, g, h)


@pytest.mark.parametrize("loss", [cg.FocalLoss(), cg.AsymmetricLoss(gamma_pos=1.0, gamma_neg=2.0, clip=0.05)], ids=repr)
def test_init_score_at_a_bound(loss):
    """Every label positive: the gradient keeps its sign up to logit 30, the answer (Brent's polish
    steps up to 1e-6 (hi - lo) past the bound)."""
    y, kw = start_payload(loss, 500, 0, all_positive=True)
    assert loss.init_score(y, **kw) == 30.0
    assert abs(brent_init_score(loss, y, **kw)[0] - 30.0) <= 1e-6 * 60


def test_init_score_of_a_unimodal_loss_takes_no_loss_pass(monkeypatch):
    """The unimodal losses find the starting score from derivative passes only (no Brent on the
    loss), a handful of them; ZPTAE keeps Brent."""
    calls = {"loss": 0, "grad_hess": 0}
    for owner, name in ((cg.BaseLoss, "loss"), (ElementwiseLoss, "gradient_sums")):
        original = getattr(owner, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            calls["grad_hess" if _name == "gradient_sums" else _name] += 1  # a derivative pass
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(owner, name, counted)
    y, kw = start_payload(cg.CZAR(), 60_000, 3)  # beyond SERIAL_ROWS: the parallel loops
    for loss in (cg.CZAR(), cg.CZAR(alpha=0.0, epsilon=0.0), cg.CZAR(alpha=0.3, epsilon=1.7)):
        calls.update(loss=0, grad_hess=0)
        loss.init_score(y, **kw)
        assert calls["loss"] == 0 and 0 < calls["grad_hess"] <= 30, (loss, calls)
    yb, kwb = start_payload(cg.FocalLoss(), 60_000, 3)
    calls.update(loss=0, grad_hess=0)
    cg.FocalLoss(gamma=3.0).init_score(yb, **kwb)
    assert calls["loss"] == 0 and 0 < calls["grad_hess"] <= 30, calls
    calls.update(loss=0, grad_hess=0)
    cg.ZPTAE().init_score(y[:2000], **{k: v[:2000] for k, v in kw.items()})
    assert calls["loss"] > 10 and calls["grad_hess"] == 0


@pytest.mark.parametrize(
    "loss",
    [
        cg.CZAR(),
        cg.ZPTAE(),
        cg.ZPTAE(beta=1.5, gamma=2.5),
        cg.HalfSquaredError(),
        cg.FocalLoss(),
        cg.AsymmetricLoss(clip=0.05),
    ],
    ids=repr,
)
def test_gradient_sums_are_the_sums_of_the_exact_derivatives(loss):
    """The starting score's fused pass (one constant prediction, chunked sums) equals the sums of
    the exact grad_hess at that constant, with weights, std and mean, across chunk boundaries."""
    for n, seed in ((5, 0), (9_000, 1)):
        y, kw = start_payload(loss, n, seed)
        c = float(np.median(y)) + (0.0 if loss.kind == "binary" else 0.3 * float(np.mean(kw["std"])))
        g, h = exact(loss).grad_hess(y, np.full(n, c), **kw)
        got = loss.gradient_sums(y, c, **kw)
        np.testing.assert_allclose(got, (g.sum(), h.sum()), rtol=1e-12, atol=0)
    if loss.kind == "regression":
        with pytest.raises(ValueError, match="std must be > 0"):
            loss.gradient_sums(y, c, std=np.where(np.arange(n) == 7, 0.0, kw["std"]))


def test_large_unimodal_start_equals_brent():
    """60,000 rows (the parallel loops), CZAR at the main job's corners of its search space."""
    y, kw = start_payload(cg.CZAR(), 60_000, 4)
    for loss in (cg.CZAR(alpha=0.0, epsilon=0.25), cg.CZAR(alpha=1.0, epsilon=2.0)):
        expected, scale = brent_init_score(loss, y, **kw)
        assert abs(loss.init_score(y, **kw) - expected) <= 1e-9 * scale


def test_binary_losses_are_unimodal():
    """The claim behind ``unimodal = True`` on the binary losses: the summed gradient of a
    constant logit changes sign at most once (never: the minimiser is a bound), for a grid of
    parameters and class ratios."""
    x = np.linspace(-30, 30, 6001)
    losses = [cg.FocalLoss(gamma=g, alpha=a) for g in (0.0, 0.5, 2.0, 5.0, 10.0) for a in (0.01, 0.5, 0.99)]
    losses += [
        cg.AsymmetricLoss(gamma_pos=gp, gamma_neg=gn, clip=c)
        for gp in (0.0, 1.0, 4.0)
        for gn in (0.0, 2.0, 8.0)
        for c in (0.0, 0.05, 0.5)
    ]
    for loss in losses:
        assert loss.unimodal
        exact_loss = exact(loss)
        g1 = exact_loss.grad_hess(np.ones(x.size), x)[0]
        g0 = exact_loss.grad_hess(np.zeros(x.size), x)[0]
        for ratio in np.logspace(-5, 5, 21):
            signs = np.sign(g1 + ratio * g0)
            signs = signs[signs != 0]
            assert int(np.sum(signs[1:] != signs[:-1])) <= 1, (loss, ratio)
    assert cg.CZAR().unimodal and not cg.ZPTAE().unimodal
    assert cg.MixedLoss(cg.CZAR(), cg.HalfSquaredError(), 0.5).unimodal
    assert not cg.MixedLoss(cg.CZAR(), cg.ZPTAE(), 0.5).unimodal


def test_params_repr_and_registry():
    loss = cg.get_loss("czar", alpha=0.5)
    assert repr(loss) == "CZAR(alpha=0.5, epsilon=1.0, tau=0.05)"
    assert loss.params == {"alpha": 0.5, "epsilon": 1.0, "tau": 0.05}
    assert cg.CZAR(**loss.get_params()) == loss
    assert repr(cg.get_loss("czar", derivatives="exact")).endswith("derivatives='exact')")
    assert set(cg.LOSSES) == {"czar", "zptae", "mse", "focal", "asymmetric", "logistic", "soft_f1"}
    for name, cls in cg.LOSSES.items():
        inst = cg.get_loss(name)
        assert isinstance(inst, cls) and cls(**inst.get_params()) == inst
        assert eval(repr(inst), vars(cg)) == inst


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("loss", "arg"),
    [
        pytest.param(loss, arg, id=f"{loss!r}-{arg}")
        for loss in LOSS_INSTANCES
        for arg in ("y_true", "y_pred", "std", "weight", "mean")
        if not (loss.kind == "binary" and arg in ("std", "mean"))  # binary losses ignore std and mean
    ],
)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_names_the_argument(loss, arg, bad):
    y_true = np.array([1.0, 0.0, 1.0]) if loss.kind == "binary" else np.array([0.1, 0.2, 0.3])
    kw = dict(
        y_true=y_true,
        y_pred=np.array([0.0, 0.1, 0.4]),
        std=np.array([1.0, 2.0, 0.5]),
        mean=np.zeros(3),
        weight=np.ones(3),
    )
    kw[arg] = kw[arg].copy()
    kw[arg][1] = bad
    with pytest.raises(ValueError, match=rf"^{arg} must be .*got {bad!r} at row 1"):
        loss.grad_hess(**kw)
    with pytest.raises(ValueError, match=rf"^{arg} must be"):
        loss.loss(**kw)
    with pytest.raises(ValueError, match=rf"^{arg} must be"):
        loss(**kw)  # the weighted mean loss
    if arg != "y_pred":
        kw.pop("y_pred")
        with pytest.raises(ValueError, match=rf"^{arg} must be"):
            loss.init_score(**kw)


@pytest.mark.parametrize("loss", [cg.CZAR(), cg.ZPTAE(), cg.HalfSquaredError(), cg.FocalLoss()], ids=repr)
def test_negative_or_zero_weights_in_mean_loss_and_init_score(loss):
    y = [1.0, 0.0, 1.0] if loss.kind == "binary" else [0.1, 0.2, 0.3]
    with pytest.raises(ValueError, match=r"^weight must be >= 0; got -1.0 at row 2"):
        loss(y, [0.0, 0.0, 0.0], weight=[1.0, 1.0, -1.0])
    with pytest.raises(ValueError, match=r"^weight must be finite and >= 0; got -1.0 at row 2"):
        loss.init_score(y, weight=[1.0, 1.0, -1.0])
    with pytest.raises(ValueError, match=r"^weight must have a positive sum; got 0.0"):
        loss(y, [0.0, 0.0, 0.0], weight=[0.0, 0.0, 0.0])


def test_binary_losses_ignore_std_and_mean():
    loss = cg.FocalLoss()
    y, x = [1.0, 0.0, 1.0], [0.3, -0.2, 2.0]
    np.testing.assert_array_equal(loss.loss(y, x, std=[1.0, 2.0], mean=np.nan), loss.loss(y, x))


@pytest.mark.parametrize("loss", REGRESSION, ids=repr)
@pytest.mark.parametrize("std", [0.0, -1.0])
def test_nonpositive_std(loss, std):
    with pytest.raises(ValueError, match=r"^std must be > 0; got"):
        loss.grad_hess([0.1, 0.2], [0.0, 0.0], std=std)


def test_negative_weight_and_bad_labels():
    with pytest.raises(ValueError, match=r"^weight must be >= 0; got -1.0"):
        cg.CZAR().grad_hess([0.1, 0.2], [0.0, 0.0], weight=[1.0, -1.0])
    with pytest.raises(ValueError, match=r"^y_true must be 0 or 1 \(binary labels\); got 0.5"):
        cg.FocalLoss().grad_hess([0.5, 1.0], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"^y_pred must be finite; got nan"):
        cg.AsymmetricLoss().loss([0.0, 1.0], [np.nan, 0.0])


@pytest.mark.parametrize("name", ["czar", "zptae", "focal"])
@pytest.mark.parametrize("alpha", [-0.1, 1.5, np.nan])
def test_alpha_out_of_range(name, alpha):
    with pytest.raises(ValueError, match=rf"^alpha must be .*; got {alpha!r}"):
        cg.get_loss(name, alpha=alpha)


def test_misaligned_arrays():
    with pytest.raises(ValueError, match=r"^y_pred has 2 rows but y_true has 3"):
        cg.CZAR().grad_hess([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match=r"^std must be a scalar or have one value per row \(3 rows\)"):
        cg.CZAR().loss([1, 2, 3], [1, 2, 3], std=[1, 2])
    with pytest.raises(ValueError, match=r"^weight must be a scalar or have one value per row"):
        cg.CZAR().grad_hess([1, 2, 3], [1, 2, 3], weight=np.ones(4))


def test_unknown_loss_lists_known_names():
    with pytest.raises(
        ValueError, match=r"unknown loss 'czr'; known losses: asymmetric, czar, focal, logistic, mse, soft_f1, zptae"
    ):
        cg.get_loss("czr")
    with pytest.raises(ValueError, match=r"bad parameters for loss 'czar'.*'gamma'"):
        cg.get_loss("czar", gamma=2)


def test_bad_parameters():
    with pytest.raises(ValueError, match=r"^epsilon must be in \[0, inf\]; got -1.0"):
        cg.CZAR(epsilon=-1)
    with pytest.raises(ValueError, match=r"^derivatives must be one of"):
        cg.CZAR(derivatives="approx")
    with pytest.raises(ValueError, match=r"^hessian must be one of"):
        cg.ZPTAE(hessian="newton")
    with pytest.raises(ValueError, match=r"^min_hessian must be in"):
        cg.CZAR(min_hessian=-1)
    with pytest.raises(ValueError, match=r"^dtype must be np.float32 or np.float64"):
        cg.CZAR().loss([1.0], [1.0], dtype=np.int64)

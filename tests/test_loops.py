"""The loop factory: loops generated from row functions, shared by every element-wise loss."""

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import czar_gbdt as cg
from czar_gbdt._jit import SERIAL_ROWS
from czar_gbdt._kernels.loops import RowFunctions, compile_loops, kernel_dir
from czar_gbdt.losses import ElementwiseLoss

ELEMENTWISE = [
    cg.CZAR(),
    cg.CZAR(derivatives="exact"),
    cg.ZPTAE(),
    cg.ZPTAE(hessian="irls"),
    cg.ZPTAE(derivatives="exact"),
    cg.HalfSquaredError(),
    cg.FocalLoss(),
    cg.FocalLoss(derivatives="exact"),
    cg.AsymmetricLoss(clip=0.05),
    cg.LogisticLoss(pos_weight=1.5),
]


def _data(loss, n, rng):
    if loss.kind == "binary":
        return (rng.random(n) < 0.3).astype(np.float64), rng.normal(0, 2, n), None
    std = rng.uniform(0.5, 2.0, n)
    return std * rng.standard_t(4, n), std * rng.normal(0, 0.7, n), std


@pytest.mark.parametrize("loss", ELEMENTWISE, ids=repr)
def test_parallel_and_serial_loops_agree_bit_for_bit(loss):
    """The class picks the serial loop below SERIAL_ROWS rows and the parallel one above:
    both are generated from the same template and must give the same bits."""
    rng = np.random.default_rng(1)
    y, p, std = _data(loss, 5_000, rng)
    sd = np.array([1.0]) if std is None else std
    mean, w = np.array([0.1]), rng.uniform(0, 2, y.shape[0])
    loops, args = loss.loops, loss.kernel_args()
    outs = []
    for loss_loop, gh_loop in (
        (loops.loss_parallel, loops.grad_hess_parallel[loss.derivative_mode]),
        (loops.loss_serial, loops.grad_hess_serial[loss.derivative_mode]),
    ):
        v, g, h = np.empty_like(y), np.empty_like(y), np.empty_like(y)
        assert loss_loop(y, p, sd, mean, w, args, v) == 0
        assert gh_loop(y, p, sd, mean, w, args, 1e-6, g, h) == 0
        outs.append((v, g, h))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    # and the public methods use them: below and above the threshold alike
    g_small, _ = loss.grad_hess(y[:100], p[:100], std=None if std is None else std[:100], mean=0.1, weight=w[:100])
    np.testing.assert_array_equal(g_small, outs[0][1][:100])
    assert SERIAL_ROWS > 100


@pytest.mark.parametrize("loss", ELEMENTWISE, ids=repr)
def test_catboost_kernels_match_the_array_loops(loss):
    """CatBoost's block kernel returns (-grad, -hess) of the same row functions at std = 1."""
    rng = np.random.default_rng(2)
    y, p, _ = _data(loss, 300, rng)
    w = rng.uniform(0.5, 2, y.shape[0])
    floor = loss.min_hessian
    g, h = loss.grad_hess(y, p + 0.25, weight=w)
    ders = loss.loops.catboost_ders[loss.derivative_mode](p, y, w, loss.kernel_args(), floor, 0.25)
    np.testing.assert_allclose(ders[:, 0], -g, rtol=1e-15, atol=0)
    np.testing.assert_allclose(ders[:, 1], -h, rtol=1e-15, atol=0)
    total, wsum = loss.loops.catboost_loss_sum(p, y, w, loss.kernel_args(), 0.25)
    assert total / wsum == pytest.approx(loss(y, p + 0.25, weight=w), rel=1e-12)


def test_loops_are_generated_once_into_a_cached_module():
    loss = cg.CZAR()
    assert compile_loops(loss.rows) is loss.loops is cg.CZAR(alpha=0.3).loops  # one per class
    path = loss.loops.module.__file__
    assert os.path.dirname(path) == str(kernel_dir()) or "czar_gbdt-kernels" in path
    text = open(path).read()
    assert "do not edit" in text and "from czar_gbdt._kernels.czar import loss_row as loss_row" in text


def test_a_second_process_loads_the_compiled_loops_from_disk(tmp_path):
    """cache=True works for generated loops: a fresh process compiles nothing."""
    code = textwrap.dedent("""
        import numpy as np, czar_gbdt as cg
        loss = cg.ZPTAE()
        loss.grad_hess(np.ones(10), np.zeros(10), std=np.ones(10))
        stats = loss.loops.grad_hess_serial["constant"].stats
        module = loss.loops.module  # the other cases of the loop are not compiled, nor loaded
        others = [module.grad_hess_constant_serial_case0, module.grad_hess_constant_serial_case1]
        assert loss.loops.case == 2 and not any(f.signatures for f in others)
        print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
    """)
    env = {**os.environ, "CZAR_GBDT_KERNEL_DIR": str(tmp_path)}
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        for _ in range(2)
    ]
    first, second = (tuple(map(int, r.stdout.split())) for r in runs)
    assert first == (0, 1)  # compiled
    assert second == (1, 0)  # loaded
    assert any(f.suffix == ".py" for f in tmp_path.iterdir())


class _Pinball(ElementwiseLoss):
    """A new element-wise loss: its row functions (as code) and its class, nothing else."""

    name = "pinball_test"
    rows = RowFunctions(
        label="pinball_test",
        kind="regression",
        loss="loss_row",
        grad_hess=(("reference", "grad_hess"), ("exact", "grad_hess")),
        n_args=1,
        source=textwrap.dedent("""
                            from czar_gbdt._jit import scalar

                            @scalar
                            def loss_row(t, p, q):
                                r = t - p
                                return q * r if r >= 0.0 else (q - 1.0) * r

                            @scalar
                            def grad_hess(t, p, q):
                                return (-q if t - p >= 0.0 else 1.0 - q), 1.0
                        """),
    )

    def __init__(self, q=0.3, **kw):
        super().__init__(**kw)
        self.q = q

    def kernel_args(self):
        return (self.q,)


def test_a_new_elementwise_loss_needs_only_its_row_functions():
    loss = _Pinball()
    y = np.array([1.0, -2.0, 0.5, 4.0])
    p = np.array([0.0, 0.0, 1.0, 4.5])
    std = np.array([1.0, 2.0, 0.5, 1.0])
    zt, zp = y / std, p / std
    r = zt - zp
    np.testing.assert_allclose(loss.loss(y, p, std=std), np.where(r >= 0, 0.3 * r, -0.7 * r))
    g, h = loss.grad_hess(y, p, std=std)
    np.testing.assert_allclose(g, np.where(r >= 0, -0.3, 0.7) / std)
    np.testing.assert_allclose(h, 1.0 / std**2)
    with pytest.raises(ValueError, match="std must be > 0"):
        loss.grad_hess(y, p, std=np.array([1.0, 0.0, 1.0, 1.0]))


def test_row_functions_spec_is_checked():
    with pytest.raises(ValueError, match="exactly one of module"):
        RowFunctions(label="x", kind="regression", loss="l", grad_hess=(("reference", "g"),), n_args=0)
    with pytest.raises(ValueError, match="kind must be"):
        RowFunctions(label="x", kind="ranking", loss="l", grad_hess=(("reference", "g"),), n_args=0, module="m")
    with pytest.raises(ValueError, match="mode names"):
        RowFunctions(label="x", kind="binary", loss="l", grad_hess=(("Bad Mode", "g"),), n_args=0, module="m")
    with pytest.raises(ValueError, match="n_cases > 1"):
        RowFunctions(
            label="x", kind="binary", loss="l", grad_hess=(("reference", "g"),), n_args=0, module="m", n_cases=2
        )


class _Scaled(ElementwiseLoss):
    """A loss whose loops are compiled per case: case 1 fixes the parameter to 2 (``c * r**2 / 2``)."""

    name = "scaled_test"
    rows = RowFunctions(
        label="scaled_test",
        kind="regression",
        loss="loss_row",
        grad_hess=(("reference", "grad_hess"),),
        n_args=1,
        cases="cases",
        n_cases=2,
        source=textwrap.dedent("""
                            from czar_gbdt._jit import scalar

                            @scalar
                            def cases(c):
                                return 1 if c == 2.0 else 0

                            @scalar
                            def loss_row(t, p, c, case):
                                c = 2.0 if case == 1 else c
                                return 0.5 * c * (p - t) ** 2 + 1000.0 * case

                            @scalar
                            def grad_hess(t, p, c, case):
                                c = 2.0 if case == 1 else c
                                return c * (p - t), c
                        """),
    )

    def __init__(self, c=2.0, **kw):
        super().__init__(**kw)
        self.c = c

    def kernel_args(self):
        return (self.c,)


@pytest.mark.parametrize("rows", [3, 60_000], ids=["serial", "parallel"])
def test_loops_are_compiled_per_case_and_run_the_parameters_case(rows):
    y, p = np.zeros(rows), np.full(rows, 3.0)
    # case 1 (c == 2) is marked by the +1000 its loss row adds; case 0 takes c from the arguments
    np.testing.assert_allclose(_Scaled(2.0).loss(y, p), 9.0 + 1000.0)
    np.testing.assert_allclose(_Scaled(0.5).loss(y, p), 2.25)
    np.testing.assert_allclose(_Scaled(0.5).grad_hess(y, p)[0], 1.5)
    np.testing.assert_allclose(_Scaled(2.0).grad_hess(y, p)[1], 2.0)
    assert (_Scaled(2.0).loops.case, _Scaled(0.5).loops.case) == (1, 0)
    assert compile_loops(_Scaled.rows) is _Scaled(0.5).loops  # no parameters: the general case
    assert "def grad_hess_reference_serial_case1(" in Path(_Scaled().loops.module.__file__).read_text()


def test_a_call_compiles_only_the_loop_and_case_it_runs():
    """Each case of a loop is its own function, chosen in Python: a process that calls one case
    compiles that case alone (before, one loop held every case and compiled them all)."""
    rows = dataclasses.replace(_Scaled.rows, label="scaled_once_test")  # a module of its own, not called before
    loops = compile_loops(rows, (0.5,))
    y = np.zeros(3)
    assert (
        loops.grad_hess_serial["reference"](y, y + 1, np.ones(1), np.zeros(1), y[:0], (0.5,), 0.0, y.copy(), y.copy())
        == 0
    )
    module = loops.module
    assert module.grad_hess_reference_serial_case0.signatures
    assert not module.grad_hess_reference_serial_case1.signatures
    assert not module.loss_serial_case0.signatures and not module.grad_hess_reference_parallel_case0.signatures


def test_a_case_function_out_of_range_is_refused():
    bad = RowFunctions(
        label="bad_cases_test",
        kind="regression",
        loss="loss_row",
        grad_hess=(("reference", "g"),),
        n_args=1,
        cases="cases",
        n_cases=2,
        source=textwrap.dedent("""
                           from czar_gbdt._jit import scalar

                           @scalar
                           def cases(c):
                               return 2

                           @scalar
                           def loss_row(t, p, c, case):
                               return 0.0

                           @scalar
                           def g(t, p, c, case):
                               return 0.0, 1.0
                       """),
    )
    with pytest.raises(ValueError, match="returned 2 for"):
        compile_loops(bad, (1.0,))

"""Row-range kernels behind CatBoost's user-defined objective and metric protocol.

CatBoost calls ``calc_ders_range(approxes, targets, weights)`` on blocks of rows
(about a thousand at a time, from its worker threads, with the GIL held) and
``evaluate(approxes, target, weight)`` on whole datasets. It compiles those two
methods with numba itself when their bodies never use ``self``
(``czar_gbdt.catboost`` generates one class per loss parameter set whose methods
only call the functions below with constants). The functions are cached on disk
and the derivative kernel runs on the calling thread (``serial_loop``): CatBoost
already parallelises over blocks.

CatBoost's adapter trains every regression loss in z-space: the labels it sees
are ``z_t = (y - mean) / std`` and the approxes ``z_p``, so these kernels take
``std = 1``, ``mean = 0``. Binary losses take 0/1 labels and logits.

Training starts at the loss's constant minimiser ``c`` without a Pool baseline
(CatBoost ingests baselines at about a microsecond per row): the kernels add an
``offset`` to every approx, which the generated methods read at call time from a
one-element array through :func:`read_cell` (its address is a compile-time constant,
its content is set by ``czar_gbdt.catboost.fit`` for the duration of a fit).

Loss codes and their parameter tuples (8 floats, unused ones 0):

====  ==========  ==========================================================
code  loss        params
====  ==========  ==========================================================
0     czar        delta, D, h1, soft0, denom, tau_eff, softplus_one, -
1     zptae       alpha, beta, gamma, penalty_norm, hessian mode (0/1/2), eta
2     mse         -
3     focal       alpha, gamma
4     asymmetric  gamma_pos, gamma_neg, clip
====  ==========  ==========================================================
"""

import ctypes

import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic, overload

from .._jit import parallel_loop, scalar, serial_loop
from . import binary as _binary
from . import czar as _czar
from . import zptae as _zptae

CZAR, ZPTAE, MSE, FOCAL, ASYMMETRIC = 0, 1, 2, 3, 4


def read_cell(address):
    """The float64 stored at the integer memory ``address`` (read at call time).

    Works in Python (through ctypes) and in numba-compiled code (an LLVM load). The
    caller keeps the array that owns the address alive for as long as code can run
    (the generated CatBoost classes hold it).
    """
    return ctypes.c_double.from_address(address).value


@intrinsic
def _load_f64(typingctx, address):
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        pointer = builder.inttoptr(args[0], ir.PointerType(ir.DoubleType()))
        return builder.load(pointer)

    return types.float64(address), codegen


@overload(read_cell)
def _read_cell_impl(address):
    if isinstance(address, types.Integer):
        return lambda address: _load_f64(address)
    return None


@scalar
def _grad_hess1(code, zt, zp, p, exact):
    """Gradient and hessian of one row in z-space (or logit space for binary losses)."""
    if code == CZAR:
        if exact:
            return _czar._grad_hess_exact1(zt, zp, p[0], p[1], p[2])
        return _czar._grad_hess_reference1(zt, zp, p[0], p[1], p[2])
    if code == ZPTAE:
        return _zptae._grad_hess1(zt, zp, p[0], p[1], p[2], p[3], p[4], p[5])
    if code == MSE:
        return zp - zt, 1.0
    if code == FOCAL:
        _, g, he, hs = _binary.focal1(zt, zp, p[0], p[1])
    else:
        _, g, he, hs = _binary.asymmetric1(zt, zp, p[0], p[1], p[2])
    return g, (he if exact else hs)


@scalar
def _loss1(code, zt, zp, p):
    """Loss of one row in z-space (or logit space for binary losses)."""
    if code == CZAR:
        value = _czar._region_loss1(zt, zp, p[0], p[1], p[2])
        if p[3] != 0.0:
            value += _czar._softening1(zt, p[0], p[1], p[3], p[4], p[5], p[6])
        return value
    if code == ZPTAE:
        return _zptae._loss1(zt, zp, p[0], p[1], p[2], p[3])
    if code == MSE:
        return 0.5 * (zp - zt) ** 2
    if code == FOCAL:
        return _binary.focal1(zt, zp, p[0], p[1])[0]
    return _binary.asymmetric1(zt, zp, p[0], p[1], p[2])[0]


@serial_loop
def ders(approxes, targets, weights, code, p, exact, min_hessian, offset):
    """CatBoost derivatives of a block at ``approxes + offset``: ``(n, 2)`` array of ``(-grad, -hess)``.

    CatBoost maximises, so it wants the derivatives of ``-loss``: RMSE gives
    ``der1 = t - a``, ``der2 = -1``. The hessian is floored at ``min_hessian``
    before the weight multiplies both (pass -inf for no floor). ``weights`` is
    None when the pool has no weights.
    """
    n = approxes.shape[0]
    out = np.empty((n, 2), dtype=np.float64)
    for i in range(n):
        g, h = _grad_hess1(code, np.float64(targets[i]), approxes[i] + offset, p, exact)
        h = max(h, min_hessian)
        if weights is not None:
            w = np.float64(weights[i])
            g *= w
            h *= w
        out[i, 0] = -g
        out[i, 1] = -h
    return out


@parallel_loop
def loss_sum(approx, target, weight, code, p, offset):
    """``(sum(w * loss), sum(w))`` at ``approx + offset``, CatBoost's metric accumulator.

    CatBoost calls a metric once per dataset and iteration (not on blocks) while its
    own threads wait, so this one runs ``prange`` over the rows.
    """
    n = approx.shape[0]
    total = 0.0
    wsum = 0.0
    for i in prange(n):
        value = _loss1(code, np.float64(target[i]), approx[i] + offset, p)
        if weight is not None:
            w = np.float64(weight[i])
            total += w * value
            wsum += w
        else:
            total += value
            wsum += 1.0
    return total, wsum

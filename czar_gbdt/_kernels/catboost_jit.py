"""Reading a starting score at call time from code that CatBoost compiles with numba.

CatBoost calls a user-defined objective's ``calc_ders_range(approxes, targets, weights)``
on blocks of rows (about a thousand at a time, from its worker threads) and a metric's
``evaluate(approxes, target, weight)`` on whole datasets, and compiles those methods with
numba itself when their bodies never use ``self``. ``czar_gbdt.catboost`` therefore
generates one class per loss parameter set whose methods only call the loss's generated
CatBoost kernels (``catboost_ders_<mode>`` and ``catboost_loss_sum`` of
:mod:`czar_gbdt._kernels.loops`) with constants.

Training starts at the loss's constant minimiser ``c`` without a Pool baseline (CatBoost
ingests baselines slowly): the kernels add an ``offset`` to every approx, which the
generated methods read at call time from a one-element array through :func:`read_cell`
(its address is a compile-time constant, its content is set by ``czar_gbdt.catboost.fit``
for the duration of a fit).
"""

import ctypes

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload


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


def compiled():
    """False when called from Python, True in numba-compiled code.

    The generated CatBoost objective refuses an unchecked fit only when CatBoost runs it
    (compiled): calling its method from Python, as a test does, stays possible.
    """
    return False


@overload(compiled)
def _compiled_impl():
    return lambda: True

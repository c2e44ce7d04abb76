"""Branch-free ``exp``, ``log``, ``log1p``, ``atan`` and ``pow`` that LLVM vectorises.

The llvmlite wheels link no vector math library (no SVML), so a loop that calls
``math.exp``, ``math.log`` or ``math.atan`` runs one row at a time through libm. These
functions compute the same values from ``+ - * /``, compares, selects and bit casts
only, so a loop built from them is vectorised (8 rows per AVX-512 instruction). They
are numba intrinsics: each call writes its LLVM instructions into the caller, so there
is no call for LLVM's inliner to refuse (a jitted scalar version was not inlined into
the loops, which then were not vectorised) and no numba-level inlining to pay at
compile time (with ``inline="always"`` the ZPTAE loops took 45 s of CPU to compile).
They are used by the row functions of the losses (``zptae.py``, ``czar.py``,
``binary.py``). No fast-math flags: LLVM keeps the order of operations written here.

Accuracy (the algorithms of fdlibm and Cephes, with their published coefficients):
``exp`` and ``log`` are within 1 ulp of the correctly rounded result, ``log1p`` and
``atan`` within 2 ulp; ``pow(x, y) = exp(y log x)`` within ``(2 + |y log x|)`` ulp.
``tests/test_losses.py`` measures these bounds against ``math`` on ranges that cover
every branch, and the loss kernels against the numpy references (``czar_gbdt.testing``)
and the golden files. Special values follow C99 (``exp(-inf) = 0``, ``log(0) = -inf``,
``log(-1) = nan``, nan in gives nan out); subnormal results of ``exp`` are computed (two
scalings), subnormal inputs of ``log`` are rescaled.
"""

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

__all__ = ["vatan", "vexp", "vlog", "vlog1p", "vpow"]

_F64 = ir.DoubleType()
_I64 = ir.IntType(64)


def _c(value: float) -> ir.Constant:
    return ir.Constant(_F64, value)


def _i(value: int) -> ir.Constant:
    return ir.Constant(_I64, value)


class _Emit:
    """Writes float64 arithmetic into an LLVM builder (IEEE order, no fast-math flags)."""

    def __init__(self, builder):
        self.b = builder

    def add(self, a, b):
        return self.b.fadd(a, b)

    def sub(self, a, b):
        return self.b.fsub(a, b)

    def mul(self, a, b):
        return self.b.fmul(a, b)

    def div(self, a, b):
        return self.b.fdiv(a, b)

    def cmp(self, op, a, b):
        """Ordered compare (false when either side is nan), except ``!=``, which is unordered."""
        return self.b.fcmp_unordered(op, a, b) if op == "!=" else self.b.fcmp_ordered(op, a, b)

    def select(self, cond, a, b):
        return self.b.select(cond, a, b)

    def poly(self, x, coefficients):
        """Horner: ``coefficients[0] + x (coefficients[1] + x (...))``."""
        acc = _c(coefficients[-1])
        for coefficient in reversed(coefficients[:-1]):
            acc = self.add(_c(coefficient), self.mul(x, acc))
        return acc


# exp (fdlibm e_exp.c): x = n ln2 + r, |r| <= ln2/2, exp(r) = 1 + r + r c / (2 - c)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_EXP_P = (
    1.66666666666666019037e-01,
    -2.77777777770155933842e-03,
    6.61375632143793436117e-05,
    -1.65339022054652515390e-06,
    4.13813679705723846039e-08,
)
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer held in the low bits
_SHIFT_BITS = 0x4338000000000000


def _exp(e: _Emit, x):
    b = e.b
    xc = e.select(e.cmp(">", x, _c(1100.0)), _c(1100.0), x)
    xc = e.select(e.cmp("<", xc, _c(-1100.0)), _c(-1100.0), xc)
    k = e.add(e.mul(xc, _c(_INV_LN2)), _c(_SHIFT))
    n = b.sub(b.bitcast(k, _I64), _i(_SHIFT_BITS))  # round(x / ln2) as an integer
    nf = e.sub(k, _c(_SHIFT))
    hi = e.sub(xc, e.mul(nf, _c(_LN2_HI)))
    lo = e.mul(nf, _c(_LN2_LO))
    r = e.sub(hi, lo)
    z = e.mul(r, r)
    c = e.sub(r, e.mul(z, e.poly(z, _EXP_P)))
    y = e.sub(_c(1.0), e.sub(e.sub(lo, e.div(e.mul(r, c), e.sub(_c(2.0), c))), hi))
    # 2**n in two factors, so that subnormal results and n up to 1587 scale exactly
    n1 = b.ashr(n, _i(1))
    n2 = b.sub(n, n1)
    for part in (n1, n2):
        y = e.mul(y, b.bitcast(b.shl(b.add(part, _i(1023)), _i(52)), _F64))
    return e.select(e.cmp("!=", x, x), x, y)


# log (fdlibm e_log.c): x = 2**k m, sqrt(2)/2 <= m < sqrt(2), f = m - 1, s = f / (2 + f)
_LG = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
_MANT = 0x000FFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000
_SQRT2_MANT = 0x6A09E667F3BCD  # the mantissa bits of sqrt(2)


def _log(e: _Emit, x):
    b = e.b
    tiny = e.cmp("<", x, _c(2.2250738585072014e-308))
    xs = e.select(tiny, e.mul(x, _c(18014398509481984.0)), x)  # subnormals times 2**54
    bits = b.bitcast(xs, _I64)
    mant = b.and_(bits, _i(_MANT))
    big = b.icmp_unsigned(">", mant, _i(_SQRT2_MANT))  # m >= sqrt(2): take m/2 and k + 1
    k = b.sub(b.ashr(bits, _i(52)), _i(1023))
    k = b.add(k, b.select(big, _i(1), _i(0)))
    k = b.sub(k, b.select(tiny, _i(54), _i(0)))
    m = b.bitcast(b.or_(mant, b.select(big, _i(_ONE_BITS - (1 << 52)), _i(_ONE_BITS))), _F64)
    f = e.sub(m, _c(1.0))
    s = e.div(f, e.add(_c(2.0), f))
    z = e.mul(s, s)
    w = e.mul(z, z)
    t1 = e.mul(w, e.poly(w, (_LG[1], _LG[3], _LG[5])))
    t2 = e.mul(z, e.poly(w, (_LG[0], _LG[2], _LG[4], _LG[6])))
    R = e.add(t2, t1)
    hfsq = e.mul(e.mul(_c(0.5), f), f)
    dk = b.sitofp(k, _F64)
    y = e.sub(e.mul(dk, _c(_LN2_HI)), e.sub(e.sub(hfsq, e.add(e.mul(s, e.add(hfsq, R)), e.mul(dk, _c(_LN2_LO)))), f))
    y = e.select(e.cmp("==", x, _c(0.0)), _c(-np.inf), y)
    y = e.select(e.cmp("==", x, _c(np.inf)), x, y)
    return e.select(e.cmp(">=", x, _c(0.0)), y, _c(np.nan))


def _log1p(e: _Emit, x):
    u = e.add(_c(1.0), x)
    corr = e.div(e.sub(x, e.sub(u, _c(1.0))), u)  # the rounding error of u, to first order
    ok = e.b.and_(e.cmp(">", u, _c(0.0)), e.cmp("<", u, _c(np.inf)))
    y = e.add(_log(e, u), e.select(ok, corr, _c(0.0)))
    return e.select(e.cmp("==", u, _c(1.0)), x, y)


# atan (Cephes atan.c): reduce to |x| <= 0.66, then r + r z P(z) / Q(z), z = r**2
_AP = (
    -6.485021904942025371773e01,
    -1.228866684490136173410e02,
    -7.500855792314704667340e01,
    -1.615753718733365076637e01,
    -8.750608600031904122785e-01,
)
_AQ = (
    1.945506571482613964425e02,
    4.853903996359136964868e02,
    4.328810604912902668951e02,
    1.650270098316988542046e02,
    2.485846490142306297962e01,
    1.0,
)
_T3P8 = 2.41421356237309504880  # tan(3 pi / 8)
_PIO2 = 1.57079632679489661923
_PIO4 = 7.85398163397448309616e-01
_MOREBITS = 6.123233995736765886130e-17


def _atan(e: _Emit, x):
    a = e.b.call(e.b.module.declare_intrinsic("llvm.fabs", [_F64]), [x])
    far = e.cmp(">", a, _c(_T3P8))
    mid = e.cmp(">", a, _c(0.66))
    num = e.select(far, _c(-1.0), e.select(mid, e.sub(a, _c(1.0)), a))
    den = e.select(far, a, e.select(mid, e.add(a, _c(1.0)), _c(1.0)))
    r = e.div(num, den)
    z = e.mul(r, r)
    y = e.add(r, e.mul(r, e.div(e.mul(z, e.poly(z, _AP)), e.poly(z, _AQ))))
    base = e.select(
        far,
        e.add(_c(_PIO2), e.add(y, _c(_MOREBITS))),
        e.select(mid, e.add(_c(_PIO4), e.add(y, _c(0.5 * _MOREBITS))), y),
    )
    base = e.select(e.cmp("==", a, _c(np.inf)), _c(_PIO2), base)
    return e.select(e.cmp("<", x, _c(0.0)), e.b.fneg(base), base)


def _pow(e: _Emit, x, y):
    v = _exp(e, e.mul(y, _log(e, x)))
    return e.select(e.cmp("==", y, _c(0.0)), _c(1.0), v)


def _unary(emit):
    """A numba intrinsic ``float64 -> float64`` that writes ``emit``'s instructions inline."""

    def typer(typingctx, x):
        if not isinstance(x, (types.Float, types.Integer)):
            return None

        def codegen(context, builder, signature, args):
            value = context.cast(builder, args[0], signature.args[0], types.float64)
            return emit(_Emit(builder), value)

        return types.float64(x), codegen

    typer.__name__ = emit.__name__.lstrip("_")
    return intrinsic(typer)


def _binary(emit):
    def typer(typingctx, x, y):
        if not all(isinstance(v, (types.Float, types.Integer)) for v in (x, y)):
            return None

        def codegen(context, builder, signature, args):
            a = context.cast(builder, args[0], signature.args[0], types.float64)
            b = context.cast(builder, args[1], signature.args[1], types.float64)
            return emit(_Emit(builder), a, b)

        return types.float64(x, y), codegen

    typer.__name__ = emit.__name__.lstrip("_")
    return intrinsic(typer)


#: ``exp(x)``, within 1 ulp; overflow to inf, gradual underflow to 0, nan to nan.
vexp = _unary(_exp)
#: ``log(x)``, within 1 ulp; ``log(0) = -inf``, ``log(x < 0) = nan``, ``log(inf) = inf``;
#: subnormal inputs rescaled by ``2**54``.
vlog = _unary(_log)
#: ``log(1 + x)``, within 2 ulp: ``log(u) + (x - (u - 1)) / u`` with ``u = 1 + x`` rounded.
vlog1p = _unary(_log1p)
#: ``atan(x)``, within 2 ulp.
vatan = _unary(_atan)
#: ``x**y`` for ``x >= 0`` as ``exp(y log x)``, within ``2 + |y log x|`` ulp; ``x**0 = 1``.
vpow = _binary(_pow)

"""Code generation of a user loss: its derivatives, derived with sympy, written as numba row functions.

:func:`derive` turns a definition (the formula as sympy's ``srepr``, its parameters, the
boosting hessian) into the source of the row functions ``loss_row``,
``grad_hess_reference`` and ``grad_hess_exact`` that the loop factory
(:mod:`czar_gbdt._kernels.loops`) compiles, and the branch conditions of the loss and its
derivatives (where the finite-difference check must not look).
"""

from __future__ import annotations

from typing import Any

from .formula import sympy_module

__all__ = ["derive"]


def derive(definition: dict) -> tuple[str, tuple]:
    """The row functions' source of a definition, and the branch conditions of the loss and its
    derivatives (for the finite-difference check)."""
    sp = sympy_module()
    from sympy.codegen.cfunctions import log1p
    from sympy.functions.elementary.piecewise import ExprCondPair

    name, hessian = definition["name"], definition["hessian"]
    p = sp.Symbol("p_", real=True)
    n_params = len(definition["param_names"])
    # srepr -> expression (sympy's own constructors only)
    expr = sp.sympify(eval(definition["expression"], {**vars(sp), "log1p": log1p, "ExprCondPair": ExprCondPair}))
    # whole floats (1.0 in where(zt >= 0, 1.0, -1.0)) as integers: no 1.0*x left in the code
    expr = expr.xreplace({f: sp.Integer(int(f)) for f in expr.atoms(sp.Float) if float(f).is_integer()})
    L = expr
    G = _kink_free(sp.diff(L, p), sp)
    H = _kink_free(sp.diff(G, p), sp)
    for what, e in (("gradient", G), ("hessian", H)):
        bad = e.atoms(sp.Derivative, sp.DiracDelta, sp.Subs)
        if bad:
            raise ValueError(
                f"the {what} of loss {name!r} cannot be derived in closed form (it contains "
                f"{sorted(map(str, bad))[0]})."
            )
    if hessian == "exact":
        H_ref = H
    elif hessian == "gauss_newton":
        H_ref = sp.Piecewise((G**2 / (2 * L), L > 0), (H, True))
    elif hessian == "constant":
        H_ref = sp.Integer(1)
    elif hessian == "abs":
        H_ref = sp.Abs(H)
    else:
        H_ref = sp.Float(hessian)
    args = ["t_", "p_"] + [f"a{i}_" for i in range(n_params)]
    source = "\n".join(
        [
            f"# row functions of the user-defined loss {name!r}, derived by czar_gbdt.losses.user",
            "import math",
            "",
            "from czar_gbdt._jit import inlined",
            "from czar_gbdt._kernels.vmath import vatan, vexp, vlog, vlog1p",
            "",
            "",
            _function_source("loss_row", args, [L], sp),
            "",
            _function_source("grad_hess_reference", args, [G, H_ref], sp),
            "",
            _function_source("grad_hess_exact", args, [G, H], sp),
        ]
    )
    try:
        compile(source, f"<loss {name}>", "exec")
    except SyntaxError as exc:  # pragma: no cover - a printer gap
        raise ValueError(f"loss {name!r} could not be compiled: {exc}") from None
    return source, tuple(_conditions(L, sp) + _conditions(G, sp) + _conditions(H, sp))


def _hoist_piecewise(expr, sp, assignments: list, fresh) -> Any:
    """Replace every Piecewise in ``expr`` (innermost first) by a symbol assigned from a
    selection among symbols holding each branch's value, computed beforehand: the
    generated code then evaluates every branch and selects, with no jump that would stop
    LLVM from vectorising the loop (an unselected branch may be inf or nan: it is dropped)."""
    if not isinstance(expr, sp.Basic) or expr.is_Atom:
        return expr
    if isinstance(expr, sp.Piecewise):
        pairs = []
        for value, cond in expr.args:
            v = _hoist_piecewise(value, sp, assignments, fresh)
            c = cond if cond is sp.true else _hoist_piecewise(cond, sp, assignments, fresh)
            if not v.is_Atom:
                s = next(fresh)
                assignments.append((s, v))
                v = s
            pairs.append((v, c))
        s = next(fresh)
        assignments.append((s, ("select", pairs)))
        return s
    return expr.func(*[_hoist_piecewise(a, sp, assignments, fresh) for a in expr.args])


def _printer(sp):
    from sympy.printing.pycode import PythonCodePrinter

    class _Printer(PythonCodePrinter):
        def _print_And(self, expr):
            return "(" + " & ".join(f"({self._print(a)})" for a in expr.args) + ")"

        def _print_Or(self, expr):
            return "(" + " | ".join(f"({self._print(a)})" for a in expr.args) + ")"

        def _print_Not(self, expr):
            return f"(not ({self._print(expr.args[0])}))"

        def _print_BooleanTrue(self, expr):
            return "True"

        def _print_BooleanFalse(self, expr):
            return "False"

        def _print_Function(self, expr):
            if expr.func.__name__ == "recip":
                return f"(1.0 / ({self._print(expr.args[0])}))"
            return super()._print_Function(expr)

        def _print_sign(self, expr):
            x = self._print(expr.args[0])
            return f"(1.0 if ({x}) > 0.0 else (-1.0 if ({x}) < 0.0 else 0.0))"

        def _print_Heaviside(self, expr):
            x = self._print(expr.args[0])
            return f"(1.0 if ({x}) > 0.0 else (0.0 if ({x}) < 0.0 else 0.5))"

        def _print_ITE(self, expr):
            a, b, c = (self._print(x) for x in expr.args)
            return f"(({b}) if ({a}) else ({c}))"

        def _print_Abs(self, expr):
            return f"abs({self._print(expr.args[0])})"

        # exp, log, log1p and atan by the vectorisable versions of the built-in losses
        # (czar_gbdt/_kernels/vmath.py, within 1-2 ulp of libm): libm's keep loops scalar
        def _print_exp(self, expr):
            return f"vexp({self._print(expr.args[0])})"

        def _print_log(self, expr):
            if len(expr.args) != 1:
                return super()._print_Function(expr)
            return f"vlog({self._print(expr.args[0])})"

        def _print_log1p(self, expr):
            return f"vlog1p({self._print(expr.args[0])})"

        def _print_atan(self, expr):
            return f"vatan({self._print(expr.args[0])})"

        def _print_Rational(self, expr):
            return repr(float(expr))

        def _print_Integer(self, expr):
            return f"{int(expr)}.0"

        def _print_Half(self, expr):
            return "0.5"

        def _print_Pow(self, expr, rational=False):
            base, exp = expr.args
            if exp == sp.Rational(1, 2):
                return f"math.sqrt({self._print(base)})"
            if exp == -1:
                return f"(1.0 / ({self._print(base)}))"
            if exp.is_Integer and 2 <= int(exp) <= 4:
                b = self._print(base)
                return "(" + " * ".join([f"({b})"] * int(exp)) + ")"
            return f"(({self._print(base)}) ** ({self._print(exp)}))"

    return _Printer({"fully_qualified_modules": True, "standard": "python3"})


def _function_source(name: str, arguments: list[str], outputs: list, sp) -> str:
    """A numba scalar function computing ``outputs`` (sympy expressions) of ``arguments``."""
    printer = _printer(sp)
    fresh_cse = sp.numbered_symbols("c_")
    # x**-k as recip(x)**k: one division per denominator, shared by every power of it
    recip = sp.Function("recip")
    outputs = [
        sp.sympify(o).replace(
            lambda e: e.is_Pow and e.exp.is_Integer and e.exp < 0, lambda e: recip(e.base) ** (-e.exp)
        )
        for o in outputs
    ]
    replacements, reduced = sp.cse(outputs, symbols=fresh_cse)
    fresh = sp.numbered_symbols("b_")
    lines = []

    def emit(target, expr):
        assignments: list = []
        expr = _hoist_piecewise(expr, sp, assignments, fresh)
        for s, value in assignments:
            if isinstance(value, tuple):  # a selection among precomputed branch values
                pairs = value[1]
                text = printer._print(pairs[-1][0])
                for v, c in reversed(pairs[:-1]):
                    text = f"({printer._print(v)} if {printer._print(c)} else {text})"
                lines.append(f"    {s} = {text}")
            else:
                lines.append(f"    {s} = {printer._print(value)}")
        lines.append(f"    {target} = {printer._print(expr)}")

    for s, value in replacements:
        emit(s, value)
    results = []
    for i, expr in enumerate(reduced):
        emit(f"out_{i}", expr)
        results.append(f"out_{i}")
    body = "\n".join(lines)
    return f"@inlined\ndef {name}({', '.join(arguments)}):\n{body}\n    return {', '.join(results)}\n"


def _kink_free(expr, sp):
    """Terms that vanish away from the kinks of ``abs``, ``min``/``max`` and ``sign`` (the
    Dirac deltas of their second derivatives) dropped: the derivatives are those of the
    smooth pieces."""
    return expr.replace(sp.DiracDelta, lambda *args: sp.Integer(0))


def _conditions(expr, sp) -> list:
    """The conditions that change at the formula's kinks and branch boundaries: those of its
    ``where`` branches, and ``x >= 0`` for every ``abs(x)``, ``sign(x)``, ``Heaviside(x)``,
    ``a <= b`` for every ``min``/``max`` of two terms."""
    out = [c for pw in expr.atoms(sp.Piecewise) for _, c in pw.args if c is not sp.true]
    out += [f.args[0] >= 0 for f in expr.atoms(sp.Abs, sp.sign, sp.Heaviside)]
    for f in expr.atoms(sp.Min, sp.Max):
        args = f.args
        out += [args[i] <= args[j] for i in range(len(args)) for j in range(i + 1, len(args))]
    return out

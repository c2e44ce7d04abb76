"""Your own loss: written once as a formula, differentiated and compiled for you.

::

    import czar_gbdt as cg

    def huber_z(zt, zp, delta=1.0):          # z-space loss of one row
        r = zp - zt
        return cg.where(abs(r) <= delta, 0.5 * r**2, delta * (abs(r) - 0.5 * delta))

    loss = cg.define_loss("huber_z", huber_z, params={"delta": (0.05, 10.0)}, hessian="exact")
    grad, hess = loss.grad_hess(y_true, y_pred, std=std)

:func:`define_loss` calls the function once with symbols (sympy) instead of numbers,
so the function is written with ordinary maths: ``+ - * / **``, ``abs``, ``exp``,
``log``, ``log1p``, ``sqrt``, ``atan``, ``tanh``, ``min``/``max`` and the conditional
:func:`where` (bare, or as ``math.exp``, ``np.exp``, ``cg.where``). It then

1. differentiates the expression twice in the prediction, branch by branch for the
   piecewise parts (``abs``, ``min``/``max`` and ``where`` become explicit branches first);
2. writes numba row functions of the loss, its gradient and its two hessians (the exact
   one and the boosting surrogate chosen with ``hessian=``), with common subexpressions
   computed once and every branch computed before the selection, which keeps the loops
   free of branches where LLVM can vectorise them;
3. hands them to the same loop factory as the built-in losses
   (:mod:`czar_gbdt._kernels.loops`: parallel and serial loops, ``std``/``mean``/weight
   broadcasting, bad-row counts, the ``min_hessian`` floor, CatBoost kernels), cached on
   disk so that a second process does not compile again;
4. checks the compiled gradient and hessian against central finite differences of the
   compiled loss and gradient at a few hundred points away from the branch boundaries.

A construct that cannot be differentiated or compiled (a Python loop, an ``if`` on the
row, a call to an unknown function, a non-numeric parameter) is refused with a
:class:`ValueError` naming it. The result is a loss like the built-in ones: every
backend adapter, the walk-forward evaluation, the tuner (which searches its parameters
like a built-in's) and :func:`czar_gbdt.get_loss` take it.

Boosting hessians (``hessian=``; ``derivatives="exact"`` always gives the true one):

* ``"exact"``: the true second derivative, floored at ``min_hessian``. Safe for convex
  losses (squared error, Huber, log-cosh: positive everywhere); for a non-convex loss the
  floor makes every concave row a tiny-curvature row with a huge Newton step.
* ``"gauss_newton"``: ``g**2 / (2 L)``, the curvature of ``sqrt(2 L)`` taken as a
  residual: positive, equal to the exact hessian for squared error, and close to it near
  the optimum of smooth losses. Safe for losses ``>= 0`` that vanish at the optimum.
* ``"constant"``: 1 (in z-space; ``1/std**2`` for the raw prediction), as LightGBM's L1
  objective: for piecewise-linear losses (pinball, absolute error) whose exact hessian is
  0 almost everywhere; the leaf values are then gradient steps.
* ``"abs"``: ``|h|``, the exact hessian made positive: for mildly non-convex losses.
* a number ``c``: the constant ``c``.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import math
import os
import numbers
import re
import textwrap
import types
from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from .._kernels.loops import RowFunctions, kernel_dir
from .._validation import POSITIVE, Interval
from .base import ElementwiseLoss

__all__ = ["define_loss", "where", "UserLoss", "ALLOWED_FUNCTIONS", "HESSIANS", "ROW_NAMES"]

#: The functions a loss formula may call (bare, or through ``math.``/``np.``/``numpy.``).
ALLOWED_FUNCTIONS = ("abs", "exp", "log", "log1p", "sqrt", "atan", "arctan", "tanh", "min", "max",
                     "minimum", "maximum", "where")
#: The named boosting hessians (or pass a positive number).
HESSIANS = ("exact", "gauss_newton", "constant", "abs")
_MODULE_ALIASES = ("math", "np", "numpy", "cg", "czar_gbdt")
_FD_POINTS = 300


def _sympy():
    try:
        import sympy
    except ImportError as exc:  # pragma: no cover - sympy is a dependency
        raise ImportError("define_loss needs sympy: pip install sympy") from exc
    return sympy


def _is_symbolic(*values: Any) -> bool:
    sp = _sympy()
    return any(isinstance(v, sp.Basic) for v in values)


def where(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``if_true`` where ``condition`` holds, else ``if_false``.

    In a loss formula given to :func:`define_loss` it is the branch of a piecewise
    loss (the two sides are differentiated separately); on numbers and arrays it is
    ``numpy.where``, so the same formula can be evaluated directly.
    """
    if _is_symbolic(condition, if_true, if_false):
        sp = _sympy()
        return sp.Piecewise((if_true, condition), (if_false, True))
    return np.where(condition, if_true, if_false)


def _symbolic_functions() -> dict[str, Callable]:
    sp = _sympy()

    def smin(a, b):
        return sp.Min(a, b)

    def smax(a, b):
        return sp.Max(a, b)

    from sympy.codegen.cfunctions import log1p

    return {"abs": sp.Abs, "exp": sp.exp, "log": sp.log, "log1p": log1p, "sqrt": sp.sqrt,
            "atan": sp.atan, "arctan": sp.atan, "tanh": sp.tanh, "min": smin, "max": smax,
            "minimum": smin, "maximum": smax, "where": where}


class _Namespace:
    """Stands for ``math``/``numpy``/``czar_gbdt`` while the formula runs on symbols."""

    def __init__(self, name: str, functions: dict[str, Callable], real: Any):
        self._name, self._functions, self._real = name, functions, real

    def __getattr__(self, attr: str) -> Any:
        if attr in self._functions:
            return self._functions[attr]
        if attr in ("pi", "e"):
            sp = _sympy()
            return sp.pi if attr == "pi" else sp.E
        raise ValueError(f"unsupported construct: a call to {self._name}.{attr}; a loss formula may use "
                         f"{', '.join(ALLOWED_FUNCTIONS)} and + - * / **.")


# --------------------------------------------------------------------------- checking the formula
_ALLOWED_NODES = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.Name, ast.Load, ast.Store,
    ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call, ast.Attribute, ast.Compare, ast.Expr, ast.keyword,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.BitAnd, ast.BitOr, ast.Invert,
    ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.Tuple,
)
_NODE_NAMES = {
    ast.For: "a Python loop (for)", ast.While: "a Python loop (while)", ast.If: "an if statement (use where)",
    ast.IfExp: "a conditional expression x if c else y (use where)", ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a generator expression", ast.Lambda: "a lambda", ast.BoolOp: "and/or (use & and |)",
    ast.Subscript: "indexing", ast.AugAssign: "an augmented assignment (x += ...)", ast.Try: "try/except",
    ast.With: "a with statement", ast.FunctionDef: "a nested function", ast.Import: "an import",
    ast.ImportFrom: "an import", ast.Global: "global", ast.Nonlocal: "nonlocal",
}


def _check_source(fn: Callable) -> None:
    """Refuse constructs that cannot be differentiated, naming them (when the source is available)."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return  # defined where no source is kept (an interactive prompt): the symbolic run checks
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a lambda inside a longer statement: the symbolic run checks
        return
    func = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda))), None)
    if func is None:
        return
    body = func.body if isinstance(func, ast.FunctionDef) else [func.body]
    local_names = {a.arg for a in func.args.args}
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Assign):
                local_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for stmt in body:
        for node in ast.walk(stmt):
            if not isinstance(node, _ALLOWED_NODES):
                what = _NODE_NAMES.get(type(node), f"{type(node).__name__}")
                raise ValueError(f"unsupported construct in loss {fn.__name__!r} (line {getattr(node, 'lineno', '?')}): "
                                 f"{what}. A loss formula is straight-line maths of the row: + - * / **, "
                                 f"{', '.join(ALLOWED_FUNCTIONS)}.")
            if isinstance(node, ast.Call):
                target = node.func
                if isinstance(target, ast.Name):
                    name = target.id
                    ok = name in ALLOWED_FUNCTIONS
                elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                    name = f"{target.value.id}.{target.attr}"
                    ok = target.value.id in _MODULE_ALIASES and target.attr in ALLOWED_FUNCTIONS
                else:
                    name, ok = ast.unparse(target), False
                if not ok:
                    raise ValueError(f"unsupported construct in loss {fn.__name__!r}: a call to an unknown function "
                                     f"{name!r}; a loss formula may call {', '.join(ALLOWED_FUNCTIONS)}.")
            if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "ctx", None), ast.Load):
                raise ValueError(f"unsupported construct in loss {fn.__name__!r}: attribute assignment.")


def _symbolic_copy(fn: Callable) -> Callable:
    """``fn`` with ``math``, ``numpy``, ``min``/``max``/``abs`` and the math functions it
    refers to replaced by their symbolic versions."""
    funcs = _symbolic_functions()
    glb = dict(fn.__globals__)
    real_functions = {}
    for name in ALLOWED_FUNCTIONS:
        for module in (math, np):
            obj = getattr(module, name, None)
            if obj is not None:
                real_functions[id(obj)] = funcs[name]
    real_functions[id(where)] = where
    for key, value in list(glb.items()):
        if value is math or value is np or (isinstance(value, types.ModuleType) and value.__name__ == "czar_gbdt"):
            glb[key] = _Namespace(key, funcs, value)
        elif id(value) in real_functions and callable(value):
            glb[key] = real_functions[id(value)]
    for name in ("abs", "min", "max"):
        glb[name] = funcs[name]
    return types.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, fn.__closure__)


#: The names a formula's row arguments may have, by kind: the documented names first
#: (``zt, zp``: the z-scores of the label and the prediction; ``y, x``: the 0/1 label and
#: the margin), then the common aliases. The two are matched by name, in either order: a
#: positional reading would silently flip an asymmetric loss written ``f(pred, target)``.
ROW_NAMES = {
    "regression": (("zt", "y_true", "target", "label", "truth"), ("zp", "y_pred", "pred", "prediction")),
    "binary": (("y", "y_true", "target", "label", "truth"), ("x", "y_pred", "pred", "prediction", "margin")),
}


def _row_arguments(fn: Callable, names: list, kind: str) -> tuple[str, str, bool]:
    """The names of the label and prediction arguments among the first two, and whether they
    come in the order (prediction, label); any other name is refused naming the expected ones."""
    label_names, pred_names = ROW_NAMES[kind]
    expected = (f"the label as {' or '.join(label_names)} and the prediction (the margin for a binary loss) as "
                f"{' or '.join(pred_names)}, in either order")
    if len(names) < 2 or any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in names[:2]):
        raise ValueError(f"loss {fn.__name__!r} must take the row as its first two arguments: {expected}.")
    first, second = names[0].name, names[1].name
    if first in label_names and second in pred_names:
        return first, second, False
    if first in pred_names and second in label_names:
        return second, first, True
    raise ValueError(f"loss {fn.__name__!r}: its row arguments are read by name, and ({first}, {second}) are not "
                     f"one label and one prediction; name them {expected}.")


def _signature(fn: Callable, params: dict | None,
               kind: str) -> tuple[tuple[str, str, bool], dict[str, float], dict[str, Interval]]:
    """Row argument names (label, prediction, and whether the prediction comes first),
    parameter defaults (floats, in order) and their domains: each ``(low, high)`` of
    ``params`` made an :class:`~czar_gbdt._validation.Interval` here, once."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        raise ValueError(f"loss must be a Python function of the row; got {fn!r}.") from None
    names = list(sig.parameters.values())
    rows = _row_arguments(fn, names, kind)
    defaults: dict[str, float] = {}
    for p in names[2:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ValueError(f"loss {fn.__name__!r}: *args/**kwargs are not supported; name each parameter.")
        value = p.default
        if value is p.empty:
            raise ValueError(f"parameter {p.name!r} of loss {fn.__name__!r} needs a default value "
                             f"({p.name}=1.0 in the signature).")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise ValueError(f"parameter {p.name!r} of loss {fn.__name__!r} must be a finite number (it is a "
                             f"parameter of the formula); got {value!r}.")
        defaults[p.name] = float(value)
    domains: dict[str, Interval] = {}
    for pname, spec in (params or {}).items():
        if pname not in defaults:
            raise ValueError(f"params names {pname!r}, which is not a parameter of loss {fn.__name__!r}; "
                             f"its parameters: {list(defaults) or 'none'}.")
        try:
            low, high = spec
            low, high = float(low), float(high)
        except (TypeError, ValueError):
            raise ValueError(f"params[{pname!r}] must be a (low, high) pair of numbers, the parameter's domain; "
                             f"got {spec!r}.") from None
        if not low <= defaults[pname] <= high:
            raise ValueError(f"the default {pname}={defaults[pname]!r} of loss {fn.__name__!r} is outside its "
                             f"domain [{low:g}, {high:g}].")
        domains[pname] = Interval.closed(low, high)
    return rows, defaults, domains


# --------------------------------------------------------------------------- code generation
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
    outputs = [sp.sympify(o).replace(lambda e: e.is_Pow and e.exp.is_Integer and e.exp < 0,
                                     lambda e: recip(e.base) ** (-e.exp)) for o in outputs]
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
    return (f"@inlined\ndef {name}({', '.join(arguments)}):\n{body}\n"
            f"    return {', '.join(results)}\n")


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


# --------------------------------------------------------------------------- the loss class
class UserLoss(ElementwiseLoss):
    """Base of the classes :func:`define_loss` creates (one per definition).

    Instances take the formula's parameters as keyword arguments (defaults from the
    formula's signature, checked against the domains given in ``params``), plus
    ``derivatives`` and ``min_hessian`` like every loss.
    """

    hessian: ClassVar[Any] = "exact"
    expression: ClassVar[str] = ""  # the loss as sympy's srepr (what a pickle rebuilds from)
    definition: ClassVar[dict] = {}

    def __init__(self, *, derivatives: str = "reference", min_hessian: float | None = None, **params: Any):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        unknown = set(params) - set(self.param_defaults)
        if unknown:
            raise TypeError(f"unexpected parameter(s) {sorted(unknown)} of loss {self.name!r}; it takes "
                            f"{list(self.param_defaults) or 'no parameters'}.")
        self._set_params(**{pname: params.get(pname, default) for pname, default in self.param_defaults.items()})

    def kernel_args(self) -> tuple[float, ...]:
        return tuple(float(getattr(self, p)) for p in self.param_defaults)

    def __repr__(self) -> str:
        return super().__repr__().replace(type(self).__name__, self.name, 1)

    def __reduce__(self):
        return (_rebuild, (self.definition, self.get_params()))


#: The class of every definition made in this process: a copy or an unpickled loss gets the
#: class its original had (CatBoost deep-copies its objective, whose generated class is keyed
#: by the loss's class).
_CLASSES: dict[str, type] = {}


def _key(definition: dict) -> str:
    return repr(sorted(definition.items()))


def _rebuild(definition: dict, params: dict) -> UserLoss:
    cls = _CLASSES.get(_key(definition))
    if cls is None:
        cls = _class_for(definition)
    return cls(**params)


def define_loss(name: str, loss: Callable, *, kind: str = "regression", params: dict | None = None,
                hessian: Any = "exact", requires_std: bool | None = None, check: bool = True) -> UserLoss:
    """Define a loss from a formula of one row: exact derivatives and compiled kernels are made for you.

    Parameters
    ----------
    name : str
        The loss's name: its key in :data:`czar_gbdt.LOSSES` (``get_loss(name)``, configs
        ``[loss] name = ...`` and the ``[loss.<name>]`` parameter table). Built-in names are
        refused; defining a name again replaces the earlier definition.
    loss : callable
        ``loss(zt, zp, **params)`` (regression: the row's z-scores ``(y - mean)/std`` of the
        label and the prediction) or ``loss(y, x, **params)`` (binary: the 0/1 label and the
        margin), returning the loss of that row. The two row arguments are read by name, in
        either order (:data:`ROW_NAMES`): ``zt``/``y`` or ``y_true``, ``target``, ``label``,
        ``truth`` for the label; ``zp``/``x`` or ``y_pred``, ``pred``, ``prediction`` (and
        ``margin``, binary) for the prediction. Every parameter has a numeric default in the
        signature and is used by the formula. Straight-line maths only (see the module docstring).
    kind : {"regression", "binary"}, default "regression"
    params : dict of name -> (low, high), optional
        The domain of each parameter, checked whenever the loss is built (and at config
        load for search ranges). Parameters not listed are unbounded.
    hessian : {"exact", "gauss_newton", "constant", "abs"} or float > 0, default "exact"
        The boosting hessian (``derivatives="reference"``); see the module docstring for
        when each is safe. ``derivatives="exact"`` gives the true hessian.
    requires_std : bool, optional
        Whether the loss is meaningless without a per-row ``std`` (default: True for
        regression, as z-space losses are; binary losses ignore ``std``).
    check : bool, default True
        Check the compiled derivatives against finite differences at the defaults.

    Returns
    -------
    UserLoss
        An instance with the default parameters; ``type(result)(delta=2.0)``,
        ``result.with_params(delta=2.0)`` and ``czar_gbdt.get_loss(name, delta=2.0)`` build
        others.

    Raises
    ------
    ValueError
        For a construct that cannot be differentiated or compiled (naming it), row arguments
        with other names (naming the expected ones), a parameter the formula never uses, a
        non-numeric parameter, a bad ``hessian``, a name of a built-in loss, or derivatives
        that disagree with finite differences.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be an identifier (letters, digits, _); got {name!r}.")
    if kind not in ("regression", "binary"):
        raise ValueError(f"kind must be 'regression' or 'binary'; got {kind!r}.")
    if isinstance(hessian, str):
        if hessian not in HESSIANS:
            raise ValueError(f"hessian must be one of {HESSIANS} or a number > 0; got {hessian!r}.")
    else:
        hessian = POSITIVE.check("hessian", hessian)
    if not callable(loss):
        raise ValueError(f"loss must be a function of the row; got {loss!r}.")
    from .registry import LOSSES

    existing = LOSSES.get(name)
    if existing is not None and not issubclass(existing, UserLoss):
        raise ValueError(f"name {name!r} is a built-in loss; choose another name.")
    _check_source(loss)
    (t_name, p_name, swapped), defaults, domains = _signature(loss, params, kind)
    sp = _sympy()
    t, p = sp.Symbol("t_", real=True), sp.Symbol("p_", real=True)
    param_syms = [sp.Symbol(f"a{i}_", real=True) for i in range(len(defaults))]
    try:
        expr = _symbolic_copy(loss)(*((p, t) if swapped else (t, p)), *param_syms)
    except ValueError:
        raise
    except TypeError as exc:
        raise ValueError(f"unsupported construct in loss {name!r}: {exc}. Branches on the row need where(), "
                         f"and only {', '.join(ALLOWED_FUNCTIONS)} can be called.") from None
    expr = sp.sympify(expr)
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"loss {name!r} must return a number; got {expr!r}.")
    extra = expr.free_symbols - {t, p, *param_syms}
    if extra:
        raise ValueError(f"loss {name!r} uses unknown name(s) {sorted(map(str, extra))}.")
    if p not in expr.free_symbols:
        raise ValueError(f"loss {name!r} does not depend on its argument {p_name!r} (the prediction).")
    unused = [n for n, s in zip(defaults, param_syms) if s not in expr.free_symbols]
    if unused:
        raise ValueError(f"loss {name!r}: the formula never uses its parameter(s) {unused}; remove them (the tuner "
                         f"would search a parameter that has no effect).")
    definition = dict(name=name, kind=kind, expression=sp.srepr(expr), param_names=tuple(defaults),
                      defaults=tuple(defaults.values()),
                      domains=tuple(sorted((n, d.bounds()) for n, d in domains.items())),
                      hessian=hessian, requires_std=(kind == "regression") if requires_std is None else bool(requires_std),
                      row_names=(t_name, p_name))
    cls = _class_for(definition, check=check)
    LOSSES[name] = cls
    return cls()


def _derive(definition: dict) -> tuple[str, tuple]:
    """The row functions' source of a definition, and the branch conditions of the loss and its
    derivatives (for the finite-difference check)."""
    sp = _sympy()
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
            raise ValueError(f"the {what} of loss {name!r} cannot be derived in closed form (it contains "
                             f"{sorted(map(str, bad))[0]}).")
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
    source = "\n".join([
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
    ])
    try:
        compile(source, f"<loss {name}>", "exec")
    except SyntaxError as exc:  # pragma: no cover - a printer gap
        raise ValueError(f"loss {name!r} could not be compiled: {exc}") from None
    return source, tuple(_conditions(L, sp) + _conditions(G, sp) + _conditions(H, sp))


def _cache_path(definition: dict) -> Path:
    """Where the derived source of a definition is kept (derivation takes seconds for large formulas)."""
    sp = _sympy()
    h = hashlib.sha256()
    h.update(repr(sorted(definition.items())).encode())
    h.update(Path(__file__).read_bytes())
    h.update(sp.__version__.encode())
    return kernel_dir() / "derived" / f"{definition['name']}_{h.hexdigest()[:20]}.py"


def _class_for(definition: dict, *, check: bool = False) -> type:
    """The loss class of a definition: made once per process; its source derived (and checked
    when ``check``), or read from the cache of derived sources, where it was written after its
    check passed."""
    key = _key(definition)
    cls = _CLASSES.get(key)
    if cls is not None:
        return cls
    path = _cache_path(definition)
    conditions = None
    try:
        source = path.read_text()
    except OSError:
        source, conditions = _derive(definition)
    cls = _make_class(definition, source)
    if conditions is not None:
        if check:
            _finite_difference_check(cls(), conditions)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(source)
            os.replace(tmp, path)
        except OSError:  # a read-only cache: derive again next time
            pass
    _CLASSES[key] = cls
    return cls


def _make_class(definition: dict, source: str) -> type:
    name, kind = definition["name"], definition["kind"]
    rows = RowFunctions(label=f"user_{name}", kind=kind, loss="loss_row",
                        grad_hess=(("reference", "grad_hess_reference"), ("exact", "grad_hess_exact")),
                        n_args=len(definition["param_names"]), source=source)
    attrs = {
        "__doc__": f"User-defined loss {name!r} (kind {kind!r}, boosting hessian {definition['hessian']!r}), "
                   f"made by czar_gbdt.define_loss.",
        "__module__": __name__,
        "name": name, "kind": kind, "rows": rows, "requires_std": definition["requires_std"],
        "param_defaults": dict(zip(definition["param_names"], definition["defaults"])),
        "param_domains": {n: Interval.closed(*pair) for n, pair in definition["domains"]},
        "hessian": definition["hessian"], "expression": definition["expression"], "definition": definition,
        "default_min_hessian": 1e-6 if kind == "regression" else 1e-16,
    }
    return type(f"UserLoss_{name}", (UserLoss,), attrs)


def _finite_difference_check(loss: UserLoss, conditions: tuple) -> None:
    """Compiled gradient vs central differences of the compiled loss, compiled exact hessian vs
    central differences of the compiled gradient, at points away from every branch boundary."""
    rng = np.random.default_rng(12345)
    n = _FD_POINTS
    if loss.kind == "regression":
        t = rng.normal(0.0, 1.5, n)
    else:
        t = (rng.random(n) < 0.5).astype(np.float64)
    p = rng.normal(0.0, 1.5, n)
    step = 1e-5 * (1.0 + np.abs(p))
    exact = loss.with_params(derivatives="exact", min_hessian="none")
    values = [loss.loss(t, q) for q in (p - step, p, p + step)]
    grads = [exact.grad_hess(t, q)[0] for q in (p - step, p + step)]
    g, h = exact.grad_hess(t, p)
    keep = np.isfinite(values[1]) & np.isfinite(g) & np.isfinite(h)
    if not keep.any():
        raise ValueError(f"loss {loss.name!r} is not finite at its defaults for any tested row.")
    sp = _sympy()
    tsym, psym = sp.Symbol("t_", real=True), sp.Symbol("p_", real=True)
    subs = {sp.Symbol(f"a{i}_", real=True): v for i, v in enumerate(loss.kernel_args())}
    for cond in conditions:
        c = cond.subs(subs)
        if c in (sp.true, sp.false):
            continue
        f = sp.lambdify((tsym, psym), c, modules="numpy")
        states = [np.broadcast_to(np.asarray(f(t, q), dtype=bool), t.shape) for q in (p - 2 * step, p, p + 2 * step)]
        keep &= (states[0] == states[1]) & (states[1] == states[2])
    if keep.sum() < 10:
        return  # almost every point is near a kink: nothing smooth to check
    fd_g = (values[2] - values[0]) / (2 * step)
    fd_h = (grads[1] - grads[0]) / (2 * step)
    for what, ours, fd in (("gradient", g, fd_g), ("hessian", h, fd_h)):
        err = np.abs(ours - fd)[keep]
        tol = (1e-5 + 1e-4 * np.maximum(np.abs(ours), np.abs(fd)))[keep]
        if (err > tol).any():
            i = int(np.flatnonzero(keep)[np.argmax(err - tol)])
            raise ValueError(f"the derived {what} of loss {loss.name!r} disagrees with finite differences at "
                             f"t={t[i]!r}, p={p[i]!r}: {ours[i]!r} vs {fd[i]!r}.")

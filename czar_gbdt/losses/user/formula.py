"""Reading a loss formula: the constructs it may use, its row arguments and parameters, and
the symbolic expression it computes (the formula run once on sympy symbols).

:func:`expression` is what :func:`czar_gbdt.define_loss` derives from; :func:`where` is the
conditional of a formula (``numpy.where`` on numbers).
"""

from __future__ import annotations

import ast
import inspect
import math
import numbers
import textwrap
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from ..._validation import Interval

__all__ = [
    "where",
    "ALLOWED_FUNCTIONS",
    "ROW_NAMES",
    "sympy_module",
    "check_source",
    "symbolic_copy",
    "signature",
    "expression",
]

#: The functions a loss formula may call (bare, or through ``math.``/``np.``/``numpy.``).
ALLOWED_FUNCTIONS = (
    "abs",
    "exp",
    "log",
    "log1p",
    "sqrt",
    "atan",
    "arctan",
    "tanh",
    "min",
    "max",
    "minimum",
    "maximum",
    "where",
)
_MODULE_ALIASES = ("math", "np", "numpy", "cg", "czar_gbdt")


def sympy_module():
    try:
        import sympy
    except ImportError as exc:  # pragma: no cover - sympy is a dependency
        raise ImportError("define_loss needs sympy: pip install sympy") from exc
    return sympy


def _is_symbolic(*values: Any) -> bool:
    sp = sympy_module()
    return any(isinstance(v, sp.Basic) for v in values)


def where(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``if_true`` where ``condition`` holds, else ``if_false``.

    In a loss formula given to :func:`define_loss` it is the branch of a piecewise
    loss (the two sides are differentiated separately); on numbers and arrays it is
    ``numpy.where``, so the same formula can be evaluated directly.
    """
    if _is_symbolic(condition, if_true, if_false):
        sp = sympy_module()
        return sp.Piecewise((if_true, condition), (if_false, True))
    return np.where(condition, if_true, if_false)


def _symbolic_functions() -> dict[str, Callable]:
    sp = sympy_module()

    def smin(a, b):
        return sp.Min(a, b)

    def smax(a, b):
        return sp.Max(a, b)

    from sympy.codegen.cfunctions import log1p

    return {
        "abs": sp.Abs,
        "exp": sp.exp,
        "log": sp.log,
        "log1p": log1p,
        "sqrt": sp.sqrt,
        "atan": sp.atan,
        "arctan": sp.atan,
        "tanh": sp.tanh,
        "min": smin,
        "max": smax,
        "minimum": smin,
        "maximum": smax,
        "where": where,
    }


class _Namespace:
    """Stands for ``math``/``numpy``/``czar_gbdt`` while the formula runs on symbols."""

    def __init__(self, name: str, functions: dict[str, Callable], real: Any):
        self._name, self._functions, self._real = name, functions, real

    def __getattr__(self, attr: str) -> Any:
        if attr in self._functions:
            return self._functions[attr]
        if attr in ("pi", "e"):
            sp = sympy_module()
            return sp.pi if attr == "pi" else sp.E
        raise ValueError(
            f"unsupported construct: a call to {self._name}.{attr}; a loss formula may use "
            f"{', '.join(ALLOWED_FUNCTIONS)} and + - * / **."
        )


# --------------------------------------------------------------------------- checking the formula
_ALLOWED_NODES = (
    ast.Module,
    ast.FunctionDef,
    ast.arguments,
    ast.arg,
    ast.Return,
    ast.Assign,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.Constant,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Attribute,
    ast.Compare,
    ast.Expr,
    ast.keyword,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.BitAnd,
    ast.BitOr,
    ast.Invert,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
    ast.Tuple,
)
_NODE_NAMES = {
    ast.For: "a Python loop (for)",
    ast.While: "a Python loop (while)",
    ast.If: "an if statement (use where)",
    ast.IfExp: "a conditional expression x if c else y (use where)",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.Lambda: "a lambda",
    ast.BoolOp: "and/or (use & and |)",
    ast.Subscript: "indexing",
    ast.AugAssign: "an augmented assignment (x += ...)",
    ast.Try: "try/except",
    ast.With: "a with statement",
    ast.FunctionDef: "a nested function",
    ast.Import: "an import",
    ast.ImportFrom: "an import",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
}


def check_source(fn: Callable) -> None:
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
                raise ValueError(
                    f"unsupported construct in loss {fn.__name__!r} (line {getattr(node, 'lineno', '?')}): "
                    f"{what}. A loss formula is straight-line maths of the row: + - * / **, "
                    f"{', '.join(ALLOWED_FUNCTIONS)}."
                )
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
                    raise ValueError(
                        f"unsupported construct in loss {fn.__name__!r}: a call to an unknown function "
                        f"{name!r}; a loss formula may call {', '.join(ALLOWED_FUNCTIONS)}."
                    )
            if isinstance(node, ast.Attribute) and not isinstance(getattr(node, "ctx", None), ast.Load):
                raise ValueError(f"unsupported construct in loss {fn.__name__!r}: attribute assignment.")


def symbolic_copy(fn: Callable) -> Callable:
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
    expected = (
        f"the label as {' or '.join(label_names)} and the prediction (the margin for a binary loss) as "
        f"{' or '.join(pred_names)}, in either order"
    )
    if len(names) < 2 or any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in names[:2]):
        raise ValueError(f"loss {fn.__name__!r} must take the row as its first two arguments: {expected}.")
    first, second = names[0].name, names[1].name
    if first in label_names and second in pred_names:
        return first, second, False
    if first in pred_names and second in label_names:
        return second, first, True
    raise ValueError(
        f"loss {fn.__name__!r}: its row arguments are read by name, and ({first}, {second}) are not "
        f"one label and one prediction; name them {expected}."
    )


def signature(
    fn: Callable, params: dict | None, kind: str
) -> tuple[tuple[str, str, bool], dict[str, float], dict[str, Interval]]:
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
            raise ValueError(
                f"parameter {p.name!r} of loss {fn.__name__!r} needs a default value ({p.name}=1.0 in the signature)."
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise ValueError(
                f"parameter {p.name!r} of loss {fn.__name__!r} must be a finite number (it is a "
                f"parameter of the formula); got {value!r}."
            )
        defaults[p.name] = float(value)
    domains: dict[str, Interval] = {}
    for pname, spec in (params or {}).items():
        if pname not in defaults:
            raise ValueError(
                f"params names {pname!r}, which is not a parameter of loss {fn.__name__!r}; "
                f"its parameters: {list(defaults) or 'none'}."
            )
        try:
            low, high = spec
            low, high = float(low), float(high)
        except (TypeError, ValueError):
            raise ValueError(
                f"params[{pname!r}] must be a (low, high) pair of numbers, the parameter's domain; got {spec!r}."
            ) from None
        if not low <= defaults[pname] <= high:
            raise ValueError(
                f"the default {pname}={defaults[pname]!r} of loss {fn.__name__!r} is outside its "
                f"domain [{low:g}, {high:g}]."
            )
        domains[pname] = Interval.closed(low, high)
    return rows, defaults, domains


def expression(name: str, fn: Callable, rows: tuple[str, str, bool], defaults: dict[str, float]) -> Any:
    """The sympy expression of the formula ``fn`` of the loss ``name``: ``fn`` run once on the
    symbols ``t_`` (label), ``p_`` (prediction) and ``a0_``, ``a1_``, ... (its parameters, in
    order), refused naming the problem when it is not a number of those symbols, ignores the
    prediction or leaves a parameter unused."""
    sp = sympy_module()
    _, p_name, swapped = rows
    t, p = sp.Symbol("t_", real=True), sp.Symbol("p_", real=True)
    param_syms = [sp.Symbol(f"a{i}_", real=True) for i in range(len(defaults))]
    try:
        expr = symbolic_copy(fn)(*((p, t) if swapped else (t, p)), *param_syms)
    except ValueError:
        raise
    except TypeError as exc:
        raise ValueError(
            f"unsupported construct in loss {name!r}: {exc}. Branches on the row need where(), "
            f"and only {', '.join(ALLOWED_FUNCTIONS)} can be called."
        ) from None
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
        raise ValueError(
            f"loss {name!r}: the formula never uses its parameter(s) {unused}; remove them (the tuner "
            f"would search a parameter that has no effect)."
        )
    return expr

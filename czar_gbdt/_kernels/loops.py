"""The array loops of every element-wise loss, generated from the loss's row functions.

A loss is described once, by scalar *row functions* of one row (numba ``scalar``
kernels, see ``czar.py``, ``zptae.py``, ``squared_error.py``, ``binary.py``)::

    loss_row(t, p, *args) -> float                 # the loss of one row
    grad_hess_<mode>(t, p, *args) -> (g, h)        # its derivatives, one function per mode

``t, p`` are ``z_t, z_p`` (regression losses, in z-space) or the 0/1 label and the
margin (binary losses); ``args`` are the loss's parameters as floats, the same tuple for
every row function of the loss. Everything else is written once, here, as a template:
the loss and derivative loops (parallel over rows, and serial for small inputs and for
callers inside a backend's own threads), with the ``std``/``mean``/``weight``
broadcasting (a length-1 array is a scalar, an empty weight means 1), the z transform
and chain rule, the bad-row count, the ``min_hessian`` floor, the output dtype (that of
the output arrays), and the two kernels behind CatBoost's compiled objectives and metrics.

:func:`compile_loops` fills the template with a loss's row functions and writes the
result as a Python module into a cache folder (:func:`kernel_dir`), then imports it. The
file name carries a hash of the template, the numba options, the kernel sources and the
row functions' source, so that any change generates new code; because the generated
loops live in a real file, numba's disk cache (``cache=True``) works for them as for
hand-written code: a second process loads the compiled loops instead of compiling them.
Generation itself takes milliseconds and happens once per loss class and process.

Why code generation: numba cannot cache a closure over jitted functions across processes
(the cache key of a closure holds the dispatchers, whose identity changes per process),
and passing row functions as first-class values would stop them from being inlined.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import tempfile
import textwrap
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numba

__all__ = ["RowFunctions", "Loops", "compile_loops", "case_of", "kernel_dir", "KERNEL_DIR_ENV"]

#: Environment variable naming the folder of the generated loop modules.
KERNEL_DIR_ENV = "CZAR_GBDT_KERNEL_DIR"


@dataclass(frozen=True)
class RowFunctions:
    """Where a loss's row functions are and how its rows are read.

    Parameters
    ----------
    label : str
        Short name used in generated file names (``"czar"``).
    kind : {"regression", "binary"}
        Regression rows are ``(z_t, z_p)`` with ``z = (y - mean) / std`` and the chain
        rule ``grad = g / std``, ``hess = h / std**2``; binary rows are ``(label, margin)``
        and ignore ``std``/``mean``.
    loss : str
        Name of the loss row function.
    grad_hess : tuple of (mode, name)
        Derivative modes and the name of each mode's row function
        (``(("reference", "grad_hess_reference"), ("exact", "grad_hess_exact"))``).
    n_args : int
        Number of float parameters every row function takes after ``(t, p)``.
    module : str, optional
        Importable module holding the row functions (built-in losses).
    source : str, optional
        Source code defining the row functions, for row functions generated at run time
        (user-defined losses); exactly one of ``module`` and ``source``.
    cases : str, optional
        Name of a scalar function of the ``n_args`` parameters returning which of
        ``n_cases`` cases they are in (``0`` is the general one). Each loop is then
        generated once per case, as its own function, the case number a constant passed
        to every row function as its last argument, so that the row functions can fix
        parameters to constants in a case (ZPTAE's ``beta = 2``): the branches on them
        compile away and the loop stays vectorised. LLVM does not unswitch a loop on such
        branches by itself. The case is chosen in Python (:func:`compile_loops`), so that a
        process compiles only the cases its losses' parameters are in.
    n_cases : int, optional
        Number of cases (1: no ``cases`` function, no extra argument).
    """

    label: str
    kind: str
    loss: str
    grad_hess: tuple[tuple[str, str], ...]
    n_args: int
    module: str = ""
    source: str = field(default="", repr=False)
    cases: str = ""
    n_cases: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("regression", "binary"):
            raise ValueError(f"kind must be 'regression' or 'binary'; got {self.kind!r}.")
        if bool(self.module) == bool(self.source):
            raise ValueError("give exactly one of module (an importable module) and source (code).")
        for mode, _ in self.grad_hess:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", mode):
                raise ValueError(f"derivative mode names are lower-case identifiers; got {mode!r}.")
        if not self.grad_hess:
            raise ValueError("grad_hess needs at least one derivative mode.")
        if (self.n_cases > 1) != bool(self.cases) or self.n_cases < 1:
            raise ValueError(
                f"cases names the case function exactly when n_cases > 1; got cases={self.cases!r}, "
                f"n_cases={self.n_cases!r}."
            )

    @property
    def modes(self) -> tuple[str, ...]:
        """The derivative modes, in the order given."""
        return tuple(mode for mode, _ in self.grad_hess)


@dataclass(frozen=True)
class Loops:
    """The compiled loops of one loss (see the module docstring for their arguments).

    Attributes
    ----------
    loss_parallel, loss_serial
        ``(y_true, y_pred, std, mean, weight, args, out) -> bad_rows``.
    grad_hess_parallel, grad_hess_serial : dict of mode -> function
        ``(y_true, y_pred, std, mean, weight, args, min_hessian, grad_out, hess_out) -> bad_rows``.
    grad_sum : dict of mode -> function
        ``(y_true, c, std, mean, weight, args) -> (sum(w * grad), sum(w * hess), bad_rows)`` at
        the constant prediction ``c``, unfloored, serial (the starting score's passes).
    catboost_ders : dict of mode -> function
        ``(approxes, targets, weights, args, min_hessian, offset) -> (n, 2) array of (-grad, -hess)``
        at ``approxes + offset``, serial (CatBoost calls it from its own threads); targets
        are ``z_t`` (CatBoost trains regression losses in z-space) or labels.
    catboost_loss_sum
        ``(approx, target, weight, args, offset) -> (sum(w * loss), sum(w))``, parallel.
    module : module
        The generated module.
    case : int
        The case of the loss's parameters these loops are compiled for (see
        ``RowFunctions.cases``; 0 when the loss has no cases): they must be called with
        parameters in that case, or, for case 0, any parameters.
    """

    loss_parallel: object
    loss_serial: object
    grad_hess_parallel: dict
    grad_hess_serial: dict
    grad_sum: dict
    catboost_ders: dict
    catboost_loss_sum: object
    module: ModuleType = field(repr=False)
    case: int = 0


# --------------------------------------------------------------------------- the template
_HEADER = '''\
"""Loops of the {label} loss, generated by czar_gbdt._kernels.loops (key {key}); do not edit."""

import numpy as np
from numba import prange

from czar_gbdt._jit import parallel_loop, serial_loop

#: rows per chunk of the starting score's sums (see grad_sum_*)
CHUNK = 4096

{rows}
'''

# one row of a regression loss: side data broadcast, z transform, validity of the row
_READ_Z = """\
        sd = std[i] if ns != 1 else std[0]
        mu = mean[i] if nm != 1 else mean[0]
        w = weight[i] if nw != 0 else 1.0
        t = (y_true[i] - mu) / sd
        p = (y_pred[i] - mu) / sd
        # branch-free checks keep the loop vectorisable
        bad += 1 - (np.isfinite(t) & np.isfinite(p) & (0.0 < sd) & (sd < np.inf) & np.isfinite(w) & (w >= 0.0))
"""
# one row of a binary loss: label 0/1, finite margin, valid weight
_READ_LOGIT = """\
        w = weight[i] if nw != 0 else 1.0
        t = y_true[i]
        p = y_pred[i]
        bad += 1 - (((t == 0.0) | (t == 1.0)) & np.isfinite(p) & np.isfinite(w) & (w >= 0.0))
"""

_LOSS_LOOP = """\
    for i in {range}(n):
{read_loss}        value = loss_row(t, p{args})
        if nw != 0:
            w = weight[i]
            if not (np.isfinite(w) and w >= 0.0):
                bad += 1
            value *= w
        out[i] = value
"""
_LOSS = '''

@{decorator}
def loss_{variant}(y_true, y_pred, std, mean, weight, args, out):
    """Per-row loss times the weight; returns the number of bad rows."""
    n = y_true.shape[0]
    ns, nm, nw = std.shape[0], mean.shape[0], weight.shape[0]
    bad = 0
{loop}    return bad
'''
# the loss loops call transcendental functions that LLVM does not vectorise: a branch on
# the rare bad row costs less there than computing the flags of every row
_READ_Z_LOSS = """\
        sd = std[i] if ns != 1 else std[0]
        mu = mean[i] if nm != 1 else mean[0]
        t = (y_true[i] - mu) / sd
        p = (y_pred[i] - mu) / sd
        if not (np.isfinite(t) and np.isfinite(p) and 0.0 < sd < np.inf):
            bad += 1
"""
_READ_LOGIT_LOSS = """\
        t = y_true[i]
        p = y_pred[i]
        if not ((t == 0.0 or t == 1.0) and np.isfinite(p)):
            bad += 1
"""

_GRAD_HESS_LOOP = """\
    for i in {range}(n):
{read}        g, h = grad_hess_row_{mode}(t, p{args})
{store}"""
_GRAD_HESS = '''

@{decorator}
def grad_hess_{mode}_{variant}(y_true, y_pred, std, mean, weight, args, min_hessian, grad_out, hess_out):
    """Gradient and hessian w.r.t. the raw prediction ({mode}), floored, weighted; bad-row count."""
    n = y_true.shape[0]
    ns, nm, nw = std.shape[0], mean.shape[0], weight.shape[0]
    bad = 0
{loop}    return bad
'''
_STORE_Z = """\
        grad_out[i] = w * (g / sd)
        hess_out[i] = w * max(h / sd**2, min_hessian)
"""
_STORE_LOGIT = """\
        grad_out[i] = w * g
        hess_out[i] = w * max(h, min_hessian)
"""

_GRAD_SUM_LOOP = """\
    for k in range(n_chunks):
        start = k * CHUNK
        stop = min(start + CHUNK, n)
        g_buf = np.empty(stop - start)
        h_buf = np.empty(stop - start)
        # the chunk's rows as arrays indexed from 0: the loop of grad_hess, vectorised
        y_true_chunk = y_true[start:stop]
        std_chunk = std[start:stop] if ns != 1 else std
        mean_chunk = mean[start:stop] if nm != 1 else mean
        weight_chunk = weight[start:stop] if nw != 0 else weight
        bad = 0
        for i in range(stop - start):
{read}            g, h = grad_hess_row_{mode}(t, p{args})
{accumulate}        bad_rows[k] = bad
        g_sums[k] = g_buf.sum()
        h_sums[k] = h_buf.sum()
"""
_GRAD_SUM = '''

@serial_loop
def grad_sum_{mode}_serial{end}(y_true, c, std, mean, weight, args):
    """``(sum(w * grad), sum(w * hess), bad_rows)`` of the raw rows at the constant prediction ``c``.

    What the starting score's root finding needs of a pass: no prediction array to fill,
    no output arrays to write and read again, no hessian floor. The rows are summed in
    chunks of ``CHUNK`` whose derivatives go to a small buffer first (a loop that adds
    floats into one sum is not vectorised: LLVM keeps the order of the additions). Serial:
    numba does not vectorise a loop nested in a ``prange`` body, and the chunked serial
    pass costs less CPU than the parallel derivative loop and the sums of its outputs.
    """
    n = y_true.shape[0]
    ns, nm, nw = std.shape[0], mean.shape[0], weight.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    g_sums = np.zeros(n_chunks)
    h_sums = np.zeros(n_chunks)
    bad_rows = np.zeros(n_chunks, dtype=np.int64)
{loop}    return g_sums.sum(), h_sums.sum(), bad_rows.sum()

'''
_ACCUMULATE_Z = """\
            g_buf[i] = w * (g / sd)
            h_buf[i] = w * (h / sd**2)
"""
_ACCUMULATE_LOGIT = """\
            g_buf[i] = w * g
            h_buf[i] = w * h
"""

_CATBOOST_LOOP = """\
    for i in range(n):
        g, h = grad_hess_row_{mode}(np.float64(targets[i]), approxes[i] + offset{args})
        h = max(h, min_hessian)
        if weights is not None:
            w = np.float64(weights[i])
            g *= w
            h *= w
        out[i, 0] = -g
        out[i, 1] = -h
"""
_CATBOOST = '''

@serial_loop
def catboost_ders_{mode}(approxes, targets, weights, args, min_hessian, offset):
    """CatBoost's derivatives of a block at ``approxes + offset``: ``(n, 2)`` of ``(-grad, -hess)``.

    CatBoost maximises, so it wants the derivatives of ``-loss``; the hessian is floored
    before the weight multiplies both. ``weights`` is None when the pool has none.
    """
    n = approxes.shape[0]
    out = np.empty((n, 2), dtype=np.float64)
{loop}    return out
'''

_CATBOOST_SUM_LOOP = """\
    for i in prange(n):
        value = loss_row(np.float64(target[i]), approx[i] + offset{args})
        if weight is not None:
            w = np.float64(weight[i])
            total += w * value
            wsum += w
        else:
            total += value
            wsum += 1.0
"""
_CATBOOST_SUM = '''

@parallel_loop
def {name}(approx, target, weight, args, offset):
    """``(sum(w * loss), sum(w))`` at ``approx + offset``: CatBoost's metric accumulator."""
    n = approx.shape[0]
    total = 0.0
    wsum = 0.0
{loop}    return total, wsum
'''


def _loops(rows: RowFunctions, template: str, case: int, **fields) -> str:
    """The loop of ``template`` filled in for one case of ``rows`` (see ``RowFunctions.cases``):
    the case number a constant argument of every row function call."""
    args = "".join(f", args[{i}]" for i in range(rows.n_args))
    return template.format(args=args if rows.n_cases == 1 else f"{args}, {case}", **fields)


def _suffix(rows: RowFunctions, case: int) -> str:
    """What the name of a generated function of ``case`` ends with: nothing without cases."""
    return "" if rows.n_cases == 1 else f"_case{case}"


def _render(rows: RowFunctions, key: str) -> str:
    """The generated module: every loop once per case, each its own function, so that numba
    compiles (or loads from its disk cache) only the cases that are called."""
    if rows.module:
        imports = [f"from {rows.module} import {rows.loss} as loss_row"]
        imports += [f"from {rows.module} import {name} as grad_hess_row_{mode}" for mode, name in rows.grad_hess]
        if rows.cases:
            imports.append(f"from {rows.module} import {rows.cases} as row_cases")
        row_code = "\n".join(imports)
    else:
        aliases = [f"loss_row = {rows.loss}"] + [f"grad_hess_row_{mode} = {name}" for mode, name in rows.grad_hess]
        if rows.cases:
            aliases.append(f"row_cases = {rows.cases}")
        row_code = rows.source.rstrip() + "\n\n" + "\n".join(aliases)
    read, store = (_READ_Z, _STORE_Z) if rows.kind == "regression" else (_READ_LOGIT, _STORE_LOGIT)
    read_loss = _READ_Z_LOSS if rows.kind == "regression" else _READ_LOGIT_LOSS
    # the starting score's sums: one constant prediction, the rows of one chunk
    read_at_c = read.replace("y_pred[i]", "c")
    for name in ("y_true", "std", "mean", "weight"):
        read_at_c = read_at_c.replace(f"{name}[", f"{name}_chunk[")
    read_at_c = textwrap.indent(read_at_c, "    ")
    accumulate = _ACCUMULATE_Z if rows.kind == "regression" else _ACCUMULATE_LOGIT
    parts = [_HEADER.format(label=rows.label, key=key, rows=row_code)]
    for case in range(rows.n_cases):
        end = _suffix(rows, case)
        for variant, decorator, rng in (("parallel", "parallel_loop", "prange"), ("serial", "serial_loop", "range")):
            loop = _loops(rows, _LOSS_LOOP, case, range=rng, read_loss=read_loss)
            parts.append(_LOSS.format(decorator=decorator, variant=variant + end, loop=loop))
            for mode, _ in rows.grad_hess:
                loop = _loops(rows, _GRAD_HESS_LOOP, case, range=rng, read=read, mode=mode, store=store)
                parts.append(_GRAD_HESS.format(decorator=decorator, variant=variant + end, mode=mode, loop=loop))
        for mode, _ in rows.grad_hess:
            parts.append(_CATBOOST.format(mode=mode + end, loop=_loops(rows, _CATBOOST_LOOP, case, mode=mode)))
            loop = _loops(rows, _GRAD_SUM_LOOP, case, read=read_at_c, mode=mode, accumulate=accumulate)
            parts.append(_GRAD_SUM.format(mode=mode, end=end, loop=loop))
        parts.append(_CATBOOST_SUM.format(name="catboost_loss_sum" + end, loop=_loops(rows, _CATBOOST_SUM_LOOP, case)))
    return "".join(parts)


# --------------------------------------------------------------------------- generation
def kernel_dir() -> Path:
    """The folder of the generated modules: ``$CZAR_GBDT_KERNEL_DIR``, else
    ``$XDG_CACHE_HOME/czar_gbdt/kernels`` (``~/.cache/czar_gbdt/kernels``), else a
    folder under the system's temporary directory when those cannot be written."""
    given = os.environ.get(KERNEL_DIR_ENV)
    if given:
        return Path(given)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "czar_gbdt" / "kernels"


def _fallback_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"czar_gbdt-kernels-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def _key(rows: RowFunctions) -> str:
    """Hash of everything the generated code depends on."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in sorted(here.glob("*.py")) + [here.parent / "_jit.py"]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    if rows.module:
        spec = importlib.util.find_spec(rows.module)
        if spec is None or spec.origin is None:
            raise ValueError(f"row functions module {rows.module!r} cannot be found.")
        h.update(Path(spec.origin).read_bytes())
    h.update(repr(rows).encode())
    h.update(rows.source.encode())
    h.update(f"{numba.__version__} {sys.version_info[:2]}".encode())
    return h.hexdigest()[:20]


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if path.is_file() and path.read_text() == text:
        return path
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)  # atomic: processes generating the same file at once agree
    return path


_LOCK = threading.RLock()
_MODULES: dict[RowFunctions, ModuleType] = {}
_COMPILED: dict[tuple[RowFunctions, int], Loops] = {}


def _module(rows: RowFunctions) -> ModuleType:
    """The generated module of ``rows``: written (unless already there) and imported once per process."""
    module = _MODULES.get(rows)
    if module is not None:
        return module
    with _LOCK:
        return _MODULES.get(rows) or _import(rows)


def _import(rows: RowFunctions) -> ModuleType:
    """Generate, write and import the module of ``rows`` (under ``_LOCK``)."""
    key = _key(rows)
    label = re.sub(r"[^0-9a-zA-Z_]", "_", rows.label)
    text = _render(rows, key)
    filename = f"{label}_{key}.py"
    try:
        path = _write(kernel_dir(), filename, text)
    except OSError:
        path = _write(_fallback_dir(), filename, text)
    name = f"czar_gbdt_kernels_{label}_{key}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # generated functions pickle and cache by module name
        spec.loader.exec_module(module)
    _MODULES[rows] = module
    return module


def case_of(rows: RowFunctions, args: tuple = ()) -> int:
    """Which case of ``rows`` the parameters ``args`` are in (0 without cases or ``args``).

    Runs the case function as plain Python (its ``py_func``): it is called once per loss
    call, where a compiled scalar would add a dispatch, and a first call its compilation.
    """
    if rows.n_cases == 1 or not args:
        return 0
    function = _module(rows).row_cases
    case = int(getattr(function, "py_func", function)(*args))
    if not 0 <= case < rows.n_cases:
        raise ValueError(
            f"the case function {rows.cases!r} of {rows.label!r} returned {case} for {args!r}; "
            f"expected 0 to {rows.n_cases - 1}."
        )
    return case


def compile_loops(rows: RowFunctions, args: tuple = ()) -> Loops:
    """The loops of ``rows`` for the case the parameters ``args`` are in: generated, imported
    and cached once per process (the general case 0 when ``args`` is empty).

    Numba compiles each loop lazily on its first call (or loads it from its disk cache),
    and each case's loops are their own functions: a process compiles only the loops, and
    the cases, it calls.
    """
    case = case_of(rows, args)
    loops = _COMPILED.get((rows, case))
    if loops is not None:
        return loops
    with _LOCK:
        loops = _COMPILED.get((rows, case))
        if loops is not None:
            return loops
        module = _module(rows)
        end = _suffix(rows, case)
        loops = Loops(
            loss_parallel=getattr(module, f"loss_parallel{end}"),
            loss_serial=getattr(module, f"loss_serial{end}"),
            grad_hess_parallel={mode: getattr(module, f"grad_hess_{mode}_parallel{end}") for mode in rows.modes},
            grad_hess_serial={mode: getattr(module, f"grad_hess_{mode}_serial{end}") for mode in rows.modes},
            grad_sum={mode: getattr(module, f"grad_sum_{mode}_serial{end}") for mode in rows.modes},
            catboost_ders={mode: getattr(module, f"catboost_ders_{mode}{end}") for mode in rows.modes},
            catboost_loss_sum=getattr(module, f"catboost_loss_sum{end}"),
            module=module,
            case=case,
        )
        _COMPILED[(rows, case)] = loops
        return loops

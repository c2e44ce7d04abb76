"""Input checks shared by every layer: numbers, row arrays, weights, thread counts.

A private module that exists to be shared: the functions here are imported by the
loss classes, the decision helpers, the backend adapters and the data loaders, so
that every bad value is reported the same way, naming the argument, the rule and
the value received (``"alpha must be in [0, 1]; got 1.5."``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Interval",
    "REAL",
    "NONNEGATIVE",
    "POSITIVE",
    "UNIT",
    "ROUND",
    "check_number",
    "check_round",
    "check_threads",
    "as_rows",
    "as_aligned",
    "finite_rows",
    "first_bad",
    "first_true",
    "out_dtype",
    "output_pair",
    "check_unweighted",
    "EMPTY",
]

#: An empty float64 array: "no weights" for the kernels.
EMPTY = np.empty(0, dtype=np.float64)


@dataclass(frozen=True)
class Interval:
    """The one domain type: what a parameter accepts, for every checker in the package
    (booster parameters in the config, loss parameters, user-loss domains, kernel arguments).

    ``kind`` is "int", "real", "bool" or "str"; numbers lie between ``low`` and ``high``
    (``None``: unbounded; ``open_low``/``open_high``: the end is excluded); strings are one of
    ``options``; ``special`` values are allowed outside the interval as fixed values or choices
    (lightgbm's ``max_depth = -1``: no limit), ``meaning`` says what they mean.
    """

    kind: str = "real"
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    options: tuple = ()
    special: tuple = ()
    meaning: str = ""

    def describe(self) -> str:
        """The rule in words: ``"a number in (0, 1]"``, ``"an integer >= 2"``, ``"true or false"``."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "str":
            return f"one of {self.options}"
        what = "an integer" if self.kind == "int" else "a number"
        if self.low is not None and self.high is not None:
            what += f" in {self.interval_text()}"
        elif self.low is not None:
            what += f" {'>' if self.open_low else '>='} {self.low:g}"
        elif self.high is not None:
            what += f" {'<' if self.open_high else '<='} {self.high:g}"
        if self.special:
            what += f", or {' or '.join(map(str, self.special))}{' (' + self.meaning + ')' if self.meaning else ''}"
        return what

    def interval_text(self) -> str:
        """The interval in brackets, ``inf`` for an open-ended side: ``"(0, 1]"``, ``"[0, inf]"``."""
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        return f"{'(' if self.open_low else '['}{low:g}, {high:g}{')' if self.open_high else ']'}"

    def contains(self, v: float) -> bool:
        """Whether the number ``v`` lies inside the interval (``special`` values not counted)."""
        if self.low is not None and (v < self.low or (self.open_low and v == self.low)):
            return False
        return not (self.high is not None and (v > self.high or (self.open_high and v == self.high)))

    def accepts(self, v: Any, *, in_range: bool = False) -> bool:
        """Whether ``v`` is a value of the domain (``in_range``: the ``special`` values are not)."""
        if self.kind == "bool":
            return isinstance(v, bool)
        if self.kind == "str":
            return isinstance(v, str) and v in self.options
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            return False
        if self.kind == "int" and not isinstance(v, (int, np.integer)):
            return False
        if not math.isfinite(v):
            return False
        if not in_range and v in self.special:
            return True
        return self.contains(v)

    @classmethod
    def closed(cls, low: float, high: float) -> Interval:
        """The real interval ``[low, high]``; an infinite end is an unbounded side."""
        return cls("real", None if low == -math.inf else float(low), None if high == math.inf else float(high))

    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` as floats, ``-inf``/``inf`` for an unbounded side."""
        return (-math.inf if self.low is None else float(self.low), math.inf if self.high is None else float(self.high))

    def check(self, name: str, value: Any) -> Any:
        """Return ``value`` checked to be in the domain: a real interval's value as a float
        (finite, inside the interval), an integer interval's as an int, a string domain's
        as given. Raise ``ValueError`` naming ``name``, the rule and the value otherwise."""
        if self.kind == "str":
            if not self.accepts(value):
                raise ValueError(f"{name} must be one of {self.options}; got {value!r}.")
            return value
        if self.kind == "int":
            if not self.accepts(value):
                raise ValueError(f"{name} must be {self.describe()}; got {value!r}.")
            return int(value)
        if self.kind == "bool":
            if not self.accepts(value):
                raise ValueError(f"{name} must be {self.describe()}; got {value!r}.")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} must be a real number; got {value!r}.")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number; got {value!r}.")
        if not self.contains(value):
            raise ValueError(f"{name} must be in {self.interval_text()}; got {value!r}.")
        return value


#: Named domains of the package's parameters (a loss class lists its own in ``param_domains``).
REAL = Interval("real")
NONNEGATIVE = Interval("real", 0.0)
POSITIVE = Interval("real", 0.0, open_low=True)
UNIT = Interval("real", 0.0, 1.0)
#: A boosting round: an integer >= 0.
ROUND = Interval("int", 0)


def check_number(
    name: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float after checking it is a finite number inside the interval
    (:meth:`Interval.check` of the real interval these keywords describe)."""
    return Interval(
        "real",
        None if low == -math.inf else low,
        None if high == math.inf else high,
        open_low=low_open,
        open_high=high_open,
    ).check(name, value)


def check_round(name: str, value: Any) -> int:
    """Return ``value`` as an int after checking it is an integer >= 0 (a boosting round:
    :data:`ROUND`'s check)."""
    return ROUND.check(name, value)


def check_threads(n_threads: Any) -> int | None:
    """``None`` (numba's own setting) or a positive int."""
    if n_threads is None:
        return None
    if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)) or n_threads < 1:
        raise ValueError(f"n_threads must be a positive integer or None; got {n_threads!r}.")
    return int(n_threads)


def as_rows(name: str, values: Any) -> np.ndarray:
    """A 1-d float32/float64 contiguous view of ``values`` (copies only when it must)."""
    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got shape {arr.shape}.")
    if arr.dtype not in (np.float32, np.float64):
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}.")
        arr = arr.astype(np.float64)
    return np.ascontiguousarray(arr)


def as_aligned(name: str, values: Any, n: int, default: float | None) -> np.ndarray:
    """``values`` as a float64 array of length ``n``, or of length 1 for a scalar.

    ``None`` gives ``default`` (or an empty array when ``default`` is None: no weights).
    """
    if values is None:
        return EMPTY if default is None else np.array([default], dtype=np.float64)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        return arr.reshape(1)
    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must be a scalar or have one value per row ({n} rows); got shape {np.shape(values)}.")
    return np.ascontiguousarray(arr)


def finite_rows(name: str, values: Any) -> np.ndarray:
    """A 1-d float64 copy of numeric (or bool) ``values``, every value finite."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional; got shape {arr.shape}.")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    first_bad(name, arr, np.isfinite(arr), "finite")
    return arr


def first_true(mask: np.ndarray) -> int:
    """Position of the first True of a boolean array that has one."""
    return int(np.flatnonzero(mask)[0])


def first_bad(name: str, arr: np.ndarray, ok: np.ndarray, rule: str) -> None:
    """Raise naming ``name``, the first value where ``ok`` is False, its row and the count.

    ``"std must be > 0; got -1.0 at row 7 (3 bad values)."``; the row is left out for a
    single value.
    """
    ok = np.asarray(ok)
    if ok.size and not ok.all():
        arr, ok = np.asarray(arr).reshape(-1), ok.reshape(-1)
        i = first_true(~ok)
        where = f" at row {i}" if arr.shape[0] > 1 else ""
        raise ValueError(f"{name} must be {rule}; got {arr[i].item()!r}{where} ({int((~ok).sum())} bad values).")


def output_pair(n: int, dtype: Any, out: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """The gradient and hessian arrays to write: ``out`` checked to have shape ``(n,)``, or new
    arrays of ``dtype``."""
    if out is None:
        dt = out_dtype(dtype)
        return np.empty(n, dtype=dt), np.empty(n, dtype=dt)
    grad, hess = out
    if grad.shape != (n,) or hess.shape != (n,):
        raise ValueError(f"out arrays must have shape ({n},); got {grad.shape} and {hess.shape}.")
    return grad, hess


def out_dtype(dtype: Any) -> np.dtype:
    """``dtype`` checked to be float32 or float64."""
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be np.float32 or np.float64; got {dt}.")
    return dt


def check_unweighted(metric: str, sample_weight: Any, n: int) -> None:
    """Refuse row weights for an unweighted metric, unless they are all equal (or absent).

    The backend eval wrappers pass an eval set's weights to every metric that takes
    ``sample_weight``; equal weights change nothing and are accepted.
    """
    if sample_weight is None:
        return
    w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if w.shape[0] == 0:
        return
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} values but y_true has {n} rows.")
    first_bad("sample_weight", w, np.isfinite(w) & (w > 0), "finite and > 0")
    if (w != w[0]).any():
        i = first_true(w != w[0])
        raise ValueError(
            f"{metric} is unweighted, but sample_weight varies ({w[0].item()!r} at row 0, {w[i].item()!r} at row "
            f"{i}); score this eval set without weights, or use a metric that takes them."
        )

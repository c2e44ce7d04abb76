"""The loss base classes: parameters, validation and the public method family.

Every loss has the same methods with the same argument order::

    values = loss.loss(y_true, y_pred, std=..., mean=..., weight=None)       # per-row losses
    grad, hess = loss.grad_hess(y_true, y_pred, std=..., mean=..., weight=None)
    loss(y_true, y_pred, std=..., mean=..., weight=None)                     # weighted mean loss
    loss.init_score(y_true, std=..., mean=..., weight=None)                  # best constant prediction

Regression losses (``kind == "regression"``) work in z-space, ``z = (y - mean)/std``,
and return derivatives with respect to the raw prediction (``grad = dL/dz_p / std``,
``hess = d2L/dz_p2 / std**2``). Binary losses (``kind == "binary"``) take labels in
{0, 1} and raw margins (logits) and ignore ``std``/``mean``.

What other layers need to know about a loss is an attribute of its class:
``kind``, ``elementwise``, ``requires_std`` and ``scheduled``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from scipy import optimize

from .._jit import SERIAL_ROWS
from .._kernels.loops import Loops, RowFunctions, compile_loops
from .._validation import NONNEGATIVE, REAL, Interval, as_aligned, as_rows, first_bad, out_dtype, output_pair

__all__ = ["BaseLoss", "ElementwiseLoss", "BinaryLoss"]

_DERIVATIVES = ("reference", "exact")
#: The domain of every loss's ``derivatives`` argument.
DERIVATIVES = Interval("str", options=_DERIVATIVES)


class BaseLoss:
    """Common behaviour of the losses; subclasses supply kernels and parameters.

    Attributes
    ----------
    name : str
        Registry key (``get_loss(name)``).
    kind : {"regression", "binary"}
        Regression losses take ``std``/``mean``; binary ones take 0/1 labels and logits.
    elementwise : bool
        True when each row's derivatives depend on that row only (every loss here;
        not :class:`czar_gbdt.SoftF1Composite`, whose soft counts couple all rows);
        backends that evaluate row subsets (CatBoost) need it.
    derivatives : {"reference", "exact"}
        ``"reference"`` gives the boosting derivatives (surrogate or pseudo hessians),
        ``"exact"`` the true derivatives of :meth:`loss`.
    min_hessian : float or None
        Floor applied to the hessian after the chain rule (and before weights);
        ``None`` returns the raw hessian, which may be 0 or negative.
    requires_std : bool
        True when the loss is meaningless without a per-row ``std`` (the z-space losses
        CZAR and ZPTAE). Half squared error is exact without one (it is then the
        backends' own squared error) and binary losses ignore it.
    scheduled : bool
        True when the loss changes with the boosting round
        (:class:`czar_gbdt.ScheduledLoss`): a backend must tell it the round.
    unimodal : bool
        True when the mean loss of a constant prediction has a single minimum whatever
        the labels, weights, std and mean, so that :meth:`init_score` finds it as the
        root of the summed gradient in a few derivative passes: CZAR and the half
        squared error (each row's loss is convex in the prediction) and the binary
        losses (two label values: checked on a grid of their parameters and class
        ratios in tests/test_losses.py). False (ZPTAE, whose rows are concave between
        labels, and losses written with :func:`czar_gbdt.define_loss`) keeps bounded
        Brent minimisation of the mean loss.
    """

    name: ClassVar[str]
    kind: ClassVar[str] = "regression"
    elementwise: ClassVar[bool] = True
    requires_std: ClassVar[bool] = False
    scheduled: ClassVar[bool] = False
    unimodal: ClassVar[bool] = False
    default_min_hessian: ClassVar[float] = 1e-6
    #: Parameters of the loss's shape, in signature order, with their defaults.
    param_defaults: ClassVar[dict[str, Any]] = {}
    #: The domain of each parameter of ``param_defaults``, checked whenever the loss is built
    #: (:meth:`domain`; a parameter not listed takes any finite real number).
    param_domains: ClassVar[dict[str, Interval]] = {}

    def __init__(self, *, derivatives: str = "reference", min_hessian: float | None = None):
        self.derivatives = DERIVATIVES.check("derivatives", derivatives)
        if min_hessian is None:
            min_hessian = self.default_min_hessian
        elif min_hessian == "none":
            min_hessian = None
        if min_hessian is not None:
            min_hessian = NONNEGATIVE.check("min_hessian", min_hessian)
        self.min_hessian = min_hessian

    # -- parameters -------------------------------------------------------------
    @classmethod
    def domain(cls, name: str) -> Interval:
        """The domain of the parameter ``name`` (``param_domains``; any finite real number if unlisted)."""
        return cls.param_domains.get(name, REAL)

    def _set_params(self, **values: Any) -> None:
        """Check each parameter against its domain, in the order given, and set it."""
        for name, value in values.items():
            setattr(self, name, self.domain(name).check(name, value))

    @property
    def params(self) -> dict[str, Any]:
        """The loss-shape parameters (what a config or a tuner sets)."""
        return {k: getattr(self, k) for k in self.param_defaults}

    def get_params(self) -> dict[str, Any]:
        """All constructor arguments, such that ``type(loss)(**loss.get_params()) == loss``."""
        return {
            **self.params,
            "derivatives": self.derivatives,
            "min_hessian": "none" if self.min_hessian is None else self.min_hessian,
        }

    def with_params(self, **changes: Any) -> BaseLoss:
        """A copy with some constructor arguments changed."""
        return type(self)(**{**self.get_params(), **changes})

    def __repr__(self) -> str:
        args = [f"{k}={v!r}" for k, v in self.params.items()]
        if self.derivatives != "reference":
            args.append(f"derivatives={self.derivatives!r}")
        if self.min_hessian != self.default_min_hessian:
            args.append(f"min_hessian={self.min_hessian!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.get_params() == self.get_params()

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.get_params().items()))))

    # -- the method family ---------------------------------------------------
    def _prepare(self, y_true, y_pred, std, mean, weight):
        y_true = as_rows("y_true", y_true)
        y_pred = as_rows("y_pred", y_pred)
        n = y_true.shape[0]
        if y_pred.shape[0] != n:
            raise ValueError(f"y_pred has {y_pred.shape[0]} rows but y_true has {n}; they must be aligned.")
        if self.kind == "binary":  # binary losses ignore std and mean
            std, mean = as_aligned("std", None, n, 1.0), as_aligned("mean", None, n, 0.0)
        else:
            std = as_aligned("std", std, n, 1.0)
            mean = as_aligned("mean", mean, n, 0.0)
        weight = as_aligned("weight", weight, n, None)
        if weight.shape[0] == 1:
            weight = np.full(n, weight[0])
        return y_true, y_pred, std, mean, weight

    def _raise_bad(self, y_true, y_pred, std, mean, weight) -> None:
        """Find the argument behind a non-zero bad-row count and raise (the slow path)."""
        if self.kind == "binary":
            first_bad("y_true", y_true, (y_true == 0) | (y_true == 1), "0 or 1 (binary labels)")
        else:
            first_bad("y_true", y_true, np.isfinite(y_true), "finite")
        first_bad("y_pred", y_pred, np.isfinite(y_pred), "finite")
        if self.kind == "regression":
            first_bad("std", std, np.isfinite(std), "finite")
            first_bad("std", std, std > 0, "> 0")
            first_bad("mean", mean, np.isfinite(mean), "finite")
        first_bad("weight", weight, np.isfinite(weight), "finite")
        first_bad("weight", weight, weight >= 0, ">= 0")
        raise ValueError("(y - mean) / std overflows for some rows: std is too small for the scale of y_true/y_pred.")

    def loss(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64) -> np.ndarray:
        """Per-row loss values.

        Parameters
        ----------
        y_true, y_pred : array-like of shape (n_samples,)
            Targets (0/1 labels for binary losses) and raw predictions (margins).
        std, mean : float or array-like of shape (n_samples,), optional
            z-scoring scale and centre of regression losses (defaults 1 and 0);
            ignored by binary losses.
        weight : array-like of shape (n_samples,), optional
            Multiplies each row's loss.
        dtype : {np.float64, np.float32}
            Output dtype.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        args = self._prepare(y_true, y_pred, std, mean, weight)
        out = np.empty(args[0].shape[0], dtype=out_dtype(dtype))
        if self._loss_kernel(*args, out):
            self._raise_bad(*args)
        return out

    def grad_hess(
        self,
        y_true,
        y_pred,
        *,
        std=None,
        mean=None,
        weight=None,
        dtype=np.float64,
        out: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and hessian of the loss with respect to the raw prediction.

        Parameters are those of :meth:`loss`. ``weight`` multiplies both (after the
        ``min_hessian`` floor). ``out`` may give two preallocated contiguous arrays
        of length n_samples (their dtype wins over ``dtype``).

        Returns
        -------
        grad, hess : ndarray of shape (n_samples,)
        """
        args = self._prepare(y_true, y_pred, std, mean, weight)
        n = args[0].shape[0]
        grad, hess = output_pair(n, dtype, out)
        floor = -math.inf if self.min_hessian is None else self.min_hessian
        if self._grad_hess_kernel(*args, floor, grad, hess):
            self._raise_bad(*args)
        return grad, hess

    def __call__(self, y_true, y_pred, *, std=None, mean=None, weight=None) -> float:
        """Mean loss, weighted by ``weight`` when given (``sum(w*L) / sum(w)``)."""
        # the kernel checks the weights (finite, >= 0) as it multiplies them in
        values = self.loss(y_true, y_pred, std=std, mean=mean, weight=weight)
        if weight is None:
            return float(values.mean())
        n = values.shape[0]
        total = float(np.sum(np.broadcast_to(as_aligned("weight", weight, n, None), (n,))))
        if not total > 0:
            raise ValueError(f"weight must have a positive sum; got {total!r}.")
        return float(values.sum() / total)

    def init_score(self, y_true, *, std=None, mean=None, weight=None) -> float:
        """The constant prediction that minimises the (weighted) mean loss.

        The minimiser lies between the smallest and largest label (regression: each
        row's loss is minimal at its label) or among logits in [-30, 30] (binary). An
        element-wise ``unimodal`` loss finds it as the root of its summed exact gradient
        (:meth:`_gradient_root`: a few passes of the parallel derivative loop); the
        others, and any case that root finding does not settle, by bounded Brent
        minimisation of the mean loss (:meth:`_brent_minimiser`, tens of loss passes).
        The two agree within ``1e-9`` times ``hi - lo`` (tested on every loss).
        """
        y_true = as_rows("y_true", y_true)
        n = y_true.shape[0]
        if n == 0:
            raise ValueError("y_true is empty: there is no constant to fit.")
        if weight is not None:
            w = np.broadcast_to(as_aligned("weight", weight, n, None), (n,))
            first_bad("weight", w, np.isfinite(w) & (w >= 0), "finite and >= 0")
        if self.kind == "binary":
            lo, hi = -30.0, 30.0
        else:
            lo, hi = float(np.min(y_true)), float(np.max(y_true))
            if not (math.isfinite(lo) and math.isfinite(hi)):
                first_bad("y_true", y_true, np.isfinite(y_true), "finite")
            if lo == hi:
                self(y_true, y_true, std=std, mean=mean, weight=weight)  # still validates std/mean/weight
                return lo
        if self.elementwise and self.unimodal:
            found = self._gradient_root(y_true, lo, hi, std=std, mean=mean, weight=weight)
            if found is not None:
                return found
        return self._brent_minimiser(y_true, lo, hi, std=std, mean=mean, weight=weight)

    def _brent_minimiser(self, y_true, lo: float, hi: float, *, std=None, mean=None, weight=None) -> float:
        """The constant in ``[lo, hi]`` minimising the mean loss, by bounded Brent over all rows.

        Tens of passes of the loss; what :meth:`init_score` falls back to. ``y_true``
        must already be checked (:meth:`init_score` does).
        """
        pred = np.empty_like(y_true, dtype=np.float64)

        def objective(c: float) -> float:
            pred.fill(c)
            return self(y_true, pred, std=std, mean=mean, weight=weight)

        scale = max(hi - lo, 1e-300)
        res = optimize.minimize_scalar(
            objective, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10 * scale, "maxiter": 500}
        )
        # Brent's tolerance has a term relative to |x|: polish in a variable centred on the
        # first answer so that only the absolute tolerance is left.
        c0, half = float(res.x), 1e-6 * scale
        res = optimize.minimize_scalar(
            lambda t: objective(c0 + t),
            bounds=(-half, half),
            method="bounded",
            options={"xatol": 1e-14 * scale, "maxiter": 500},
        )
        best = c0 + float(res.x)
        # the bounded method never evaluates the end points themselves
        for edge in (lo, hi):
            if objective(edge) < objective(best):
                best = edge
        return best

    def _gradient_root(self, y_true, lo: float, hi: float, *, std=None, mean=None, weight=None) -> float | None:
        """The constant in ``[lo, hi]`` where the summed exact gradient changes sign, or None.

        One pass of the exact derivative loop gives the summed gradient ``g`` and
        hessian ``h`` at a constant. Starting from a first guess (a weighted median of
        the labels, with weights ``weight/std``; the log-odds of the weighted label
        mean for binary losses), Newton steps find a point on the other side of the
        root, the bracket ``[a, b]`` with ``g(a) < 0 < g(b)`` shrinks by safeguarded
        Newton steps (a Newton step leaving the bracket or not halving the step before
        the last is replaced by bisection), down to ``1e-12`` times ``hi - lo``. So it
        cannot diverge, and a gradient that jumps at the root (CZAR and ZPTAE jump where
        the constant equals a label, where the minimiser of a median-like loss often
        lies) is found by bisection. When the gradient keeps its sign up to ``lo`` or
        ``hi``, that end is the minimiser. Returns None (the caller falls back to
        :meth:`_brent_minimiser`) when a sum is not finite or the root is not found
        in 200 passes. A sign change of the gradient brackets a local minimum: on a loss
        whose mean is not unimodal (ZPTAE's is not convex) it finds the one reached from
        the first guess, as Brent finds one of them; where the mean loss is flat (a zero
        gradient on an interval), any point of it minimises the loss.
        """
        n = y_true.shape[0]
        y = np.ascontiguousarray(y_true, dtype=np.float64)
        if self.kind == "binary":
            std = mean = None
        std_rows = None if std is None else np.broadcast_to(as_aligned("std", std, n, 1.0), (n,))
        w_rows = None if weight is None else np.broadcast_to(as_aligned("weight", weight, n, None), (n,))
        passes = [0]

        def sums(c: float) -> tuple[float, float]:
            passes[0] += 1
            return self.gradient_sums(y, c, std=std, mean=mean, weight=weight)

        width = hi - lo
        tol = 1e-12 * width
        x = min(max(_first_guess(self.kind, y, std_rows, w_rows), lo), hi)
        g, h = sums(x)
        if not (math.isfinite(g) and math.isfinite(h)):
            return None
        if g == 0.0:
            return x
        # -- bracket the root: g(a) < 0 < g(b)
        a = b = None
        ga = gb = math.nan
        if g < 0:
            a, ga = x, g
        else:
            b, gb = x, g
        step = 1e-3 * width
        while a is None or b is None:
            if passes[0] >= 200:
                return None
            sign = 1.0 if g < 0 else -1.0  # the minimum is downhill
            newton = -g / h if h > 0 else 0.0
            # overshoot the Newton step a little so that it usually lands across the root
            step = max(1.5 * abs(newton), step)
            t = min(max(x + sign * step, lo), hi)
            gt, ht = sums(t)
            if not (math.isfinite(gt) and math.isfinite(ht)):
                return None
            if gt == 0.0:
                return t
            if (gt < 0) == (g < 0):
                if t in (lo, hi):
                    return t  # the gradient keeps its sign up to the bound: the bound is the minimiser
                step *= 4.0
            if gt < 0:
                a, ga = t, gt
            else:
                b, gb = t, gt
            x, g, h = t, gt, ht
        # -- shrink it: safeguarded Newton; where Newton misbehaves, a secant step across the
        # bracket and a bisection over the labels inside it in turn (a regression gradient jumps
        # only at a label: the constant equal to y_i puts row i at z_p = z_t; the secant, on the
        # sum of many such gradients, usually lands near the root, the bisection bounds the passes)
        # until no label is left inside, then over the interval
        inside = y[(y > a) & (y < b)] if self.kind == "regression" else None
        ends_checked = inside is None
        secant = True
        dx_old = dx = b - a
        while b - a > tol + 4e-16 * max(abs(a), abs(b)):
            if passes[0] >= 200:
                return None
            xn = x - g / h if h > 0 else math.nan
            if a < xn < b and abs(xn - x) <= 0.5 * abs(dx_old):
                dx_old, dx = dx, xn - x
                x = xn
            elif inside is not None and inside.size and secant and a < (xs := a - ga * (b - a) / (gb - ga)) < b:
                secant = False
                x = xs
                dx_old = dx = b - a
            elif inside is not None and inside.size:
                secant = True
                x = float(np.partition(inside, inside.size // 2)[inside.size // 2])
                dx_old = dx = b - a
            elif not ends_checked:
                # no label strictly inside: the gradient is smooth on (a, b), and a jump across
                # zero can only sit at a or b (found to within tol of that end)
                ends_checked = True
                near_a, near_b = a + tol, b - tol
                if near_a >= near_b:
                    break
                ga, ha = sums(near_a)
                if not (math.isfinite(ga) and math.isfinite(ha)):
                    return None
                if ga >= 0:
                    return a if ga > 0 else near_a
                gb, hb = sums(near_b)
                if not (math.isfinite(gb) and math.isfinite(hb)):
                    return None
                if gb <= 0:
                    return b if gb < 0 else near_b
                a, b = near_a, near_b
                x, g, h = (a, ga, ha) if -ga < gb else (b, gb, hb)
                dx_old = dx = b - a
                continue
            else:
                dx_old = dx = 0.5 * (b - a)
                x = a + dx
            if abs(dx) <= 0.5 * tol:
                break
            g, h = sums(x)
            if not (math.isfinite(g) and math.isfinite(h)):
                return None
            if g == 0.0:
                return x
            if g < 0:
                a, ga = x, g
            else:
                b, gb = x, g
            if inside is not None and inside.size:
                inside = inside[(inside > a) & (inside < b)]
        return x

    def gradient_sums(self, y_true, c: float, *, std=None, mean=None, weight=None) -> tuple[float, float]:
        """The summed exact gradient and hessian (weighted, unfloored) at the constant prediction ``c``.

        One pass of the root finding behind the starting score (:meth:`init_score`,
        ``constant_minimiser``). Element-wise losses sum in one fused pass of their
        generated loops; others take their exact :meth:`grad_hess` at ``c`` and sum it.
        """
        exact = self.with_params(derivatives="exact", min_hessian="none")
        n = as_rows("y_true", y_true).shape[0]
        g, h = exact.grad_hess(y_true, np.full(n, float(c)), std=std, mean=mean, weight=weight)
        return float(g.sum()), float(h.sum())

    # -- kernels (subclasses) -------------------------------------------------
    def _loss_kernel(self, y_true, y_pred, std, mean, weight, out) -> int:
        raise NotImplementedError

    def _grad_hess_kernel(self, y_true, y_pred, std, mean, weight, floor, grad, hess) -> int:
        raise NotImplementedError


class ElementwiseLoss(BaseLoss):
    """A loss described by its row functions (:class:`~czar_gbdt._kernels.loops.RowFunctions`).

    A subclass names its row functions in ``rows`` and returns its parameters, as the
    floats every row function takes after ``(t, p)``, from :meth:`kernel_args`; the loss
    and derivative loops are generated from the row functions
    (:func:`~czar_gbdt._kernels.loops.compile_loops`) and shared by every instance of the
    class. Inputs below ``SERIAL_ROWS`` rows run on the calling thread, where starting a
    parallel region would cost more than the pass.
    """

    rows: ClassVar[RowFunctions]

    def kernel_args(self) -> tuple[float, ...]:
        """The loss's parameters as the row functions take them."""
        return ()

    @property
    def derivative_mode(self) -> str:
        """The row functions' derivative mode used by :meth:`grad_hess` (one of ``rows.modes``)."""
        return self.derivatives

    @property
    def loops(self) -> Loops:
        """The compiled loops of this loss class, for the case of its parameters (generated on first use)."""
        return compile_loops(self.rows, self.kernel_args())

    def gradient_sums(self, y_true, c: float, *, std=None, mean=None, weight=None) -> tuple[float, float]:
        """The summed exact gradient and hessian at the constant ``c``, in one pass of the
        generated ``grad_sum`` loop (no prediction or output arrays; see bench/RESULTS.md)."""
        y_true, _, std, mean, weight = self._prepare(y_true, y_true, std, mean, weight)  # y_true: the shape
        mode = self.with_params(derivatives="exact").derivative_mode
        g, h, bad = self.loops.grad_sum[mode](y_true, float(c), std, mean, weight, self.kernel_args())
        if bad:
            self._raise_bad(y_true, np.full(y_true.shape[0], float(c)), std, mean, weight)
        return g, h

    def _loss_kernel(self, y_true, y_pred, std, mean, weight, out) -> int:
        loops = self.loops
        loop = loops.loss_parallel if y_true.shape[0] >= SERIAL_ROWS else loops.loss_serial
        return loop(y_true, y_pred, std, mean, weight, self.kernel_args(), out)

    def _grad_hess_kernel(self, y_true, y_pred, std, mean, weight, floor, grad, hess) -> int:
        loops = self.loops
        table = loops.grad_hess_parallel if y_true.shape[0] >= SERIAL_ROWS else loops.grad_hess_serial
        return table[self.derivative_mode](y_true, y_pred, std, mean, weight, self.kernel_args(), floor, grad, hess)


class BinaryLoss(ElementwiseLoss):
    """Base of the element-wise losses of 0/1 labels on the logit (they ignore ``std`` and ``mean``)."""

    kind = "binary"
    unimodal = True
    #: xgboost's own floor for its logistic hessian (kEps in its source)
    default_min_hessian = 1e-16


def _first_guess(kind: str, y: np.ndarray, std: np.ndarray | None, weight: np.ndarray | None) -> float:
    """Where :meth:`BaseLoss._gradient_root` starts: near the minimiser, cheaply.

    Regression: the weighted median of the labels with weights ``weight/std`` (a
    median-like loss in z-space) over at most 4,096 evenly strided rows. Binary: the
    log-odds of the weighted mean label, within [-30, 30].
    """
    n = y.shape[0]
    stride = -(-n // 4096)
    w = np.ones(n)[::stride] if weight is None else np.asarray(weight[::stride], dtype=np.float64)
    if kind == "binary":
        total = float(w.sum())
        p = float(np.dot(w, y[::stride])) / total if total > 0 else 0.5
        p = min(max(p, 1e-13), 1.0 - 1e-13)
        return math.log(p) - math.log1p(-p)
    ys = y[::stride]
    if std is not None:
        w = w / std[::stride]
    order = np.argsort(ys, kind="stable")
    cum = np.cumsum(w[order])
    if not cum[-1] > 0:
        return float(np.median(ys))
    return float(ys[order[min(np.searchsorted(cum, 0.5 * cum[-1]), len(order) - 1)]])

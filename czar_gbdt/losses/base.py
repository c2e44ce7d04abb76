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
from .._validation import as_aligned, as_rows, check_number, first_bad, out_dtype, output_pair

__all__ = ["BaseLoss", "ElementwiseLoss", "BinaryLoss"]

_DERIVATIVES = ("reference", "exact")


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
    """

    name: ClassVar[str]
    kind: ClassVar[str] = "regression"
    elementwise: ClassVar[bool] = True
    requires_std: ClassVar[bool] = False
    scheduled: ClassVar[bool] = False
    default_min_hessian: ClassVar[float] = 1e-6
    #: Parameters of the loss's shape, in signature order, with their defaults.
    param_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, *, derivatives: str = "reference", min_hessian: float | None = None):
        if derivatives not in _DERIVATIVES:
            raise ValueError(f"derivatives must be one of {_DERIVATIVES}; got {derivatives!r}.")
        self.derivatives = derivatives
        if min_hessian is None:
            min_hessian = self.default_min_hessian
        elif min_hessian == "none":
            min_hessian = None
        if min_hessian is not None:
            min_hessian = check_number("min_hessian", min_hessian, low=0.0)
        self.min_hessian = min_hessian

    # -- parameters -------------------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        """The loss-shape parameters (what a config or a tuner sets)."""
        return {k: getattr(self, k) for k in self.param_defaults}

    def get_params(self) -> dict[str, Any]:
        """All constructor arguments, such that ``type(loss)(**loss.get_params()) == loss``."""
        return {**self.params, "derivatives": self.derivatives,
                "min_hessian": "none" if self.min_hessian is None else self.min_hessian}

    def with_params(self, **changes: Any) -> "BaseLoss":
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
        raise ValueError(
            "(y - mean) / std overflows for some rows: std is too small for the scale of y_true/y_pred."
        )

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

    def grad_hess(self, y_true, y_pred, *, std=None, mean=None, weight=None, dtype=np.float64,
                  out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
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

        Found by bounded Brent minimisation between the smallest and largest label
        (regression: each row's loss is minimal at its label, so the minimiser lies
        there) or over logits in [-30, 30] (binary).
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
        pred = np.empty_like(y_true, dtype=np.float64)

        def objective(c: float) -> float:
            pred.fill(c)
            return self(y_true, pred, std=std, mean=mean, weight=weight)

        scale = max(hi - lo, 1e-300)
        res = optimize.minimize_scalar(objective, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-10 * scale, "maxiter": 500})
        # Brent's tolerance has a term relative to |x|: polish in a variable centred on the
        # first answer so that only the absolute tolerance is left.
        c0, half = float(res.x), 1e-6 * scale
        res = optimize.minimize_scalar(lambda t: objective(c0 + t), bounds=(-half, half), method="bounded",
                                       options={"xatol": 1e-14 * scale, "maxiter": 500})
        best = c0 + float(res.x)
        # the bounded method never evaluates the end points themselves
        for edge in (lo, hi):
            if objective(edge) < objective(best):
                best = edge
        return best

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
        """The compiled loops of this loss class (generated on first use)."""
        return compile_loops(self.rows)

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
    #: xgboost's own floor for its logistic hessian (kEps in its source)
    default_min_hessian = 1e-16

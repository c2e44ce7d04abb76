"""Loss classes: parameters, validation and the public method family over the numba kernels.

Every loss has the same methods with the same argument order::

    values = loss.loss(y_true, y_pred, std=..., mean=..., weight=None)       # per-row losses
    grad, hess = loss.grad_hess(y_true, y_pred, std=..., mean=..., weight=None)
    loss(y_true, y_pred, std=..., mean=..., weight=None)                     # weighted mean loss
    loss.init_score(y_true, std=..., mean=..., weight=None)                  # best constant prediction

Regression losses (``kind == "regression"``) work in z-space, ``z = (y - mean)/std``,
and return derivatives with respect to the raw prediction (``grad = dL/dz_p / std``,
``hess = d2L/dz_p2 / std**2``). Binary losses (``kind == "binary"``) take labels in
{0, 1} and raw margins (logits) and ignore ``std``/``mean``.

``std``, ``mean`` and ``weight`` are scalars or arrays aligned with the rows. Inputs are
checked inside the kernels at no extra pass over the data; a bad value raises
:class:`ValueError` naming the argument and the value.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from scipy import optimize

from ._kernels import binary as _binary
from ._kernels import czar as _czar
from ._kernels import squared_error as _se
from ._kernels import zptae as _zptae

__all__ = [
    "BaseLoss",
    "CZAR",
    "ZPTAE",
    "HalfSquaredError",
    "FocalLoss",
    "AsymmetricLoss",
    "LOSSES",
    "get_loss",
]

_DERIVATIVES = ("reference", "exact")
_EMPTY = np.empty(0, dtype=np.float64)


def _check_number(name: str, value: Any, *, low: float = -math.inf, high: float = math.inf,
                  low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a float after checking it is a finite number inside the interval."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number; got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}.")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lb}{low:g}, {high:g}{rb}; got {value!r}.")
    return value


def _as_rows(name: str, values: Any) -> np.ndarray:
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


def _as_aligned(name: str, values: Any, n: int, default: float | None) -> np.ndarray:
    """``values`` as a float64 array of length ``n``, or of length 1 for a scalar.

    ``None`` gives ``default`` (or an empty array when ``default`` is None: no weights).
    """
    if values is None:
        return _EMPTY if default is None else np.array([default], dtype=np.float64)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        return arr.reshape(1)
    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(
            f"{name} must be a scalar or have one value per row ({n} rows); got shape {np.shape(values)}."
        )
    return np.ascontiguousarray(arr)


def _first_bad(name: str, arr: np.ndarray, ok: np.ndarray, rule: str) -> None:
    if arr.size and not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        where = f" at row {i}" if arr.shape[0] > 1 else ""
        raise ValueError(f"{name} must be {rule}; got {arr[i].item()!r}{where} ({int((~ok).sum())} bad values).")


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
    """

    name: ClassVar[str]
    kind: ClassVar[str] = "regression"
    elementwise: ClassVar[bool] = True
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
            min_hessian = _check_number("min_hessian", min_hessian, low=0.0)
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
        y_true = _as_rows("y_true", y_true)
        y_pred = _as_rows("y_pred", y_pred)
        n = y_true.shape[0]
        if y_pred.shape[0] != n:
            raise ValueError(f"y_pred has {y_pred.shape[0]} rows but y_true has {n}; they must be aligned.")
        if self.kind == "binary":  # binary losses ignore std and mean
            std, mean = _as_aligned("std", None, n, 1.0), _as_aligned("mean", None, n, 0.0)
        else:
            std = _as_aligned("std", std, n, 1.0)
            mean = _as_aligned("mean", mean, n, 0.0)
        weight = _as_aligned("weight", weight, n, None)
        if weight.shape[0] == 1:
            weight = np.full(n, weight[0])
        return y_true, y_pred, std, mean, weight

    def _raise_bad(self, y_true, y_pred, std, mean, weight) -> None:
        """Find the argument behind a non-zero bad-row count and raise (the slow path)."""
        if self.kind == "binary":
            _first_bad("y_true", y_true, (y_true == 0) | (y_true == 1), "0 or 1 (binary labels)")
        else:
            _first_bad("y_true", y_true, np.isfinite(y_true), "finite")
        _first_bad("y_pred", y_pred, np.isfinite(y_pred), "finite")
        if self.kind == "regression":
            _first_bad("std", std, np.isfinite(std), "finite")
            _first_bad("std", std, std > 0, "> 0")
            _first_bad("mean", mean, np.isfinite(mean), "finite")
        _first_bad("weight", weight, np.isfinite(weight), "finite")
        _first_bad("weight", weight, weight >= 0, ">= 0")
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
        out = np.empty(args[0].shape[0], dtype=_out_dtype(dtype))
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
        if out is None:
            dt = _out_dtype(dtype)
            grad, hess = np.empty(n, dtype=dt), np.empty(n, dtype=dt)
        else:
            grad, hess = out
            if grad.shape != (n,) or hess.shape != (n,):
                raise ValueError(f"out arrays must have shape ({n},); got {grad.shape} and {hess.shape}.")
        floor = -math.inf if self.min_hessian is None else self.min_hessian
        if self._grad_hess_kernel(*args, self.derivatives == "exact", floor, grad, hess):
            self._raise_bad(*args)
        return grad, hess

    def __call__(self, y_true, y_pred, *, std=None, mean=None, weight=None) -> float:
        """Mean loss, weighted by ``weight`` when given (``sum(w*L) / sum(w)``)."""
        # the kernel checks the weights (finite, >= 0) as it multiplies them in
        values = self.loss(y_true, y_pred, std=std, mean=mean, weight=weight)
        if weight is None:
            return float(values.mean())
        n = values.shape[0]
        total = float(np.sum(np.broadcast_to(_as_aligned("weight", weight, n, None), (n,))))
        if not total > 0:
            raise ValueError(f"weight must have a positive sum; got {total!r}.")
        return float(values.sum() / total)

    def init_score(self, y_true, *, std=None, mean=None, weight=None) -> float:
        """The constant prediction that minimises the (weighted) mean loss.

        Found by bounded Brent minimisation between the smallest and largest label
        (regression: each row's loss is minimal at its label, so the minimiser lies
        there) or over logits in [-30, 30] (binary).
        """
        y_true = _as_rows("y_true", y_true)
        n = y_true.shape[0]
        if n == 0:
            raise ValueError("y_true is empty: there is no constant to fit.")
        if weight is not None:
            w = np.broadcast_to(_as_aligned("weight", weight, n, None), (n,))
            _first_bad("weight", w, np.isfinite(w) & (w >= 0), "finite and >= 0")
        if self.kind == "binary":
            lo, hi = -30.0, 30.0
        else:
            lo, hi = float(np.min(y_true)), float(np.max(y_true))
            if not (math.isfinite(lo) and math.isfinite(hi)):
                _first_bad("y_true", y_true, np.isfinite(y_true), "finite")
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

    def _grad_hess_kernel(self, y_true, y_pred, std, mean, weight, exact, floor, grad, hess) -> int:
        raise NotImplementedError


def _out_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be np.float32 or np.float64; got {dt}.")
    return dt


class CZAR(BaseLoss):
    """Composite Zero-Agnostic Return loss (the successor of ZPTAE for returns).

    Domain: y_true, y_pred real; std > 0.
    Link: identity, in z-space ``z = (y - mean)/std``.

    With ``s = sign(z_t)`` (+1 at 0), ``u = s*z_p``, ``delta = alpha/sqrt(3)``,
    ``D = 1 + delta**2``, ``f(x) = 1/(1+x**2)``, ``f2(x) = 2|x|/(1+x**2)**2``,
    ``d_t = z_t + s*delta``, ``d_p = z_p + sign(z_p)*delta``, ``h1 = D*f2(delta)``,
    ``h3 = D*f2(d_t)``::

        u <= 0      (wrong sign)          0.5*h1*z_p**2 - s*z_p + s*D*(atan(d_t) - atan(s*delta))
        0 < u <= |z_t| (short of truth)   s*D*(atan(d_t) - atan(d_p))
        u > |z_t|   (past the truth)      0.5*min(h3, h1)*(z_p - z_t)**2 + s*D*f(d_t)*(z_p - z_t)

    plus, when ``epsilon > 0``, a softening term ``N(z_t) * L0`` that depends on ``z_t``
    only (it moves the loss value, not its derivatives): ``L0`` is the unsoftened loss
    at ``z_t = 0, z_p = eps_eff`` and ``N`` a hinge (``tau <= 0``) or softplus-smoothed
    (``tau > 0``) normalisation; see LOSSES.md in the docs for the exact formulas.

    Parameters
    ----------
    alpha : float in [0, 1], default 1
        Curvature: 0 gives linear tails, 1 the most curvature (stable Newton steps;
        the authors' recommendation for boosting). Near 0 for evaluation.
    epsilon : float >= 0, default 1
        Softening scale in std units; 0 switches the softening off.
    tau : float, default 0.05
        Smoothness of the softening hinge; ``tau <= 0`` gives the hard hinge.
    derivatives : {"reference", "exact"}, default "reference"
        ``"reference"``: the authors' pseudo-gradient (region 1 uses ``sign(z_t)`` with
        sign(0) = 0, region 3 drops the constant ``s*D*f(d_t)``) and pseudo-hessian
        (regions 2 and 3 use ``(1+x**2)*f2(x)``), what the authors ship for boosting.
        ``"exact"``: the true derivatives of the loss away from its kinks at
        ``z_p = 0`` and ``z_p = z_t``.
    min_hessian : float or None, default 1e-6
        Floor on the hessian, applied after the division by ``std**2``. With
        ``alpha = 0`` the curvature ``h1`` is 0, so hessians vanish without it.

    References
    ----------
    Allora research forum, "CZAR: Composite Zero-Agnostic Return loss".
    """

    name = "czar"
    param_defaults = {"alpha": 1.0, "epsilon": 1.0, "tau": 0.05}

    def __init__(self, alpha: float = 1.0, epsilon: float = 1.0, tau: float = 0.05, *,
                 derivatives: str = "reference", min_hessian: float | None = None):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self.alpha = _check_number("alpha", alpha, low=0.0, high=1.0)
        self.epsilon = _check_number("epsilon", epsilon, low=0.0)
        self.tau = _check_number("tau", tau)
        delta = self.alpha / np.sqrt(3)
        D = delta**2 + 1
        self._delta, self._D = float(delta), float(D)
        self._h1 = float(D * (2.0 * abs(delta) / (1.0 + delta**2) ** 2))
        self._soft0 = self._denom = self._tau_eff = 0.0
        self._softplus_one = 1.0
        if self.epsilon > 0:
            self._init_softening()

    def _init_softening(self) -> None:
        delta, D = self._delta, self._D
        if delta == 0:
            eps_eff = math.atan(self.epsilon)
        else:
            A = D * (math.atan(self.epsilon + delta) - math.atan(delta))
            b = delta / D
            # positive root of b*x**2 + x - A = 0. The reference's form keeps results
            # bit-identical to the authors' code; it cancels when 4*b*A is tiny (alpha
            # near 0), where the equivalent form 2A/(1 + sqrt(1 + 4bA)) is used instead.
            if 4.0 * b * A >= 1e-3:
                eps_eff = (-1 + np.sqrt(1 + 4 * b * A)) / (2 * b)
            else:
                eps_eff = 2.0 * A / (1.0 + math.sqrt(1.0 + 4.0 * b * A))
        self._eps_eff = eps_eff
        self._soft0 = float(_czar._region_loss1(0.0, eps_eff, delta, D, self._h1))
        self._denom = eps_eff + delta / D * eps_eff**2
        if self.tau > 0:
            n_inf = 1.0 - D * (0.5 * math.pi - math.atan(delta)) / self._denom
            self._tau_eff = abs(self.tau) * abs(n_inf)
            if self._tau_eff > 0:
                x = 1.0 / self._tau_eff
                self._softplus_one = max(x, 0.0) + math.log1p(math.exp(-abs(x)))

    def _loss_kernel(self, y_true, y_pred, std, mean, weight, out):
        return _czar.loss(y_true, y_pred, std, mean, weight, self._delta, self._D, self._h1,
                          self._soft0, self._denom, self._tau_eff, self._softplus_one, out)

    def _grad_hess_kernel(self, y_true, y_pred, std, mean, weight, exact, floor, grad, hess):
        return _czar.grad_hess(y_true, y_pred, std, mean, weight, exact, self._delta, self._D,
                               self._h1, floor, grad, hess)


class ZPTAE(BaseLoss):
    """Z-score Power-Tanh Absolute Error, the loss CZAR replaced.

    Domain: y_true, y_pred real; std > 0.
    Link: identity, in z-space ``z = (y - mean)/std``.

    ::

        PT(x) = x / (1 + |x|**beta)**((1 - alpha)/beta)
        L = |PT(z_p) - PT(z_t)| + (k*|z_p - z_t|)**gamma

    ``PT`` behaves like ``x`` near 0 and like ``sign(x)*|x|**alpha`` far out.

    Parameters
    ----------
    alpha : float in [0, 1], default 0.25
    beta : float > 0, default 2
    gamma : float >= 1, default 4
        Power of the penalty term (>= 1 keeps it convex).
    penalty_norm : float >= 0, default 0.01
        ``k``, the penalty's scale.
    hessian : {"constant", "irls"}, default "constant"
        Boosting hessian of the absolute part (``derivatives="reference"``).
        ``"constant"``: 1, as lightgbm's L1 objective. ``"irls"``:
        ``PT'(z_p)**2 / max(|PT(z_p) - PT(z_t)|, eta)``, the curvature of the
        iteratively-reweighted-least-squares model of ``|r|``: positive and at most
        ``1/eta``. The penalty adds its convex curvature
        ``gamma (gamma-1) k**gamma |r|**(gamma-2)`` in both, with ``|r|`` clipped to
        ``[eta, 1/k]`` (floored at ``eta`` for ``gamma < 2``, where the curvature is
        unbounded at 0; capped at ``1/k`` for ``gamma > 2``, where the penalty itself
        reaches 1), so the boosting hessian is bounded in z-space: at most
        ``1 + gamma (gamma-1) k**2`` ("constant", ``gamma >= 2``; 1.0012 with the
        defaults) or ``1/eta`` plus that penalty bound ("irls"). Chosen by
        measurement: on the bundled FF49 walk-forward (10 folds, 2,500 test dates,
        ``configs/ff49_fixed.toml``) "constant" gave mean rank IC 0.0213 (t 4.83) vs
        0.0184 (t 3.97) with LightGBM and 0.0207 (t 4.72) vs 0.0183 (t 4.03) with XGBoost.
    eta : float > 0, default 0.1
        Residual floor of the IRLS hessian, in z units.
    derivatives : {"reference", "exact"}, default "reference"
        ``"exact"``: the true gradient and hessian (``sign(r)*PT''(z_p)`` plus the
        penalty's), valid away from ``z_p = z_t``.
    min_hessian : float or None, default 1e-6
    """

    name = "zptae"
    param_defaults = {"alpha": 0.25, "beta": 2.0, "gamma": 4.0, "penalty_norm": 0.01,
                      "hessian": "constant", "eta": 0.1}
    _HESSIANS = ("irls", "constant")

    def __init__(self, alpha: float = 0.25, beta: float = 2.0, gamma: float = 4.0,
                 penalty_norm: float = 0.01, hessian: str = "constant", eta: float = 0.1, *,
                 derivatives: str = "reference", min_hessian: float | None = None):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self.alpha = _check_number("alpha", alpha, low=0.0, high=1.0)
        self.beta = _check_number("beta", beta, low=0.0, low_open=True)
        self.gamma = _check_number("gamma", gamma, low=1.0)
        self.penalty_norm = _check_number("penalty_norm", penalty_norm, low=0.0)
        if hessian not in self._HESSIANS:
            raise ValueError(f"hessian must be one of {self._HESSIANS}; got {hessian!r}.")
        self.hessian = hessian
        self.eta = _check_number("eta", eta, low=0.0, low_open=True)

    def _loss_kernel(self, y_true, y_pred, std, mean, weight, out):
        return _zptae.loss(y_true, y_pred, std, mean, weight, self.alpha, self.beta, self.gamma,
                           self.penalty_norm, out)

    def _grad_hess_kernel(self, y_true, y_pred, std, mean, weight, exact, floor, grad, hess):
        mode = 2 if exact else self._HESSIANS.index(self.hessian)
        return _zptae.grad_hess(y_true, y_pred, std, mean, weight, mode, self.alpha, self.beta,
                                self.gamma, self.penalty_norm, self.eta, floor, grad, hess)


class HalfSquaredError(BaseLoss):
    """Half squared error in z-space, ``L = (z_p - z_t)**2 / 2``.

    Domain: y_true, y_pred real; std > 0.
    Link: identity.

    With ``std = 1`` (the default) its derivatives are exactly those of the backends'
    built-in squared error (``grad = y_pred - y_true``, ``hess = 1``); a per-row ``std``
    makes it least squares weighted by ``1/std**2``. ``mean`` cancels out.
    Derivatives are exact in both modes.
    """

    name = "mse"

    def __init__(self, *, derivatives: str = "reference", min_hessian: float | None = None):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)

    def init_score(self, y_true, *, std=None, mean=None, weight=None) -> float:
        """The weighted mean of ``y_true`` with weights ``weight/std**2`` (closed form)."""
        y_true = _as_rows("y_true", y_true).astype(np.float64, copy=False)
        n = y_true.shape[0]
        if n == 0:
            raise ValueError("y_true is empty: there is no constant to fit.")
        w = np.ones(n) if weight is None else np.broadcast_to(_as_aligned("weight", weight, n, None), n)
        std = np.broadcast_to(_as_aligned("std", std, n, 1.0), n)
        _first_bad("y_true", y_true, np.isfinite(y_true), "finite")
        _first_bad("std", std, np.isfinite(std) & (std > 0), "finite and > 0")
        _first_bad("weight", w, np.isfinite(w) & (w >= 0), "finite and >= 0")
        if mean is not None:
            mean = _as_aligned("mean", mean, n, 0.0)
            _first_bad("mean", mean, np.isfinite(mean), "finite")
        if not w.sum() > 0:
            raise ValueError(f"weight must have a positive sum; got {float(w.sum())!r}.")
        return float(np.average(y_true, weights=w / std**2))

    def _loss_kernel(self, y_true, y_pred, std, mean, weight, out):
        return _se.loss(y_true, y_pred, std, mean, weight, out)

    def _grad_hess_kernel(self, y_true, y_pred, std, mean, weight, exact, floor, grad, hess):
        return _se.grad_hess(y_true, y_pred, std, mean, weight, floor, grad, hess)


class _BinaryLoss(BaseLoss):
    kind = "binary"
    #: xgboost's own floor for its logistic hessian (kEps in its source)
    default_min_hessian = 1e-16


class FocalLoss(_BinaryLoss):
    """Binary focal loss on the logit (Lin et al. 2017).

    Domain: y_true in {0, 1}; y_pred (logit) real.
    Link: logit, ``p = sigmoid(y_pred)``.

    ::

        p_t = p if y == 1 else 1 - p;   alpha_t = alpha if y == 1 else 1 - alpha
        L = -alpha_t * (1 - p_t)**gamma * log(p_t)

    With ``gamma = 0, alpha = 0.5`` it is half the logistic loss.

    Parameters
    ----------
    gamma : float >= 0, default 2
        Focusing parameter.
    alpha : float in [0, 1], default 0.25
        Weight of the positive class.
    derivatives : {"reference", "exact"}, default "reference"
        Both give the exact gradient. ``"exact"`` gives the exact hessian, negative for
        ``gamma > 0`` on badly classified rows; ``"reference"`` the surrogate
        ``alpha_t (1-p_t)**gamma * p (1-p)`` (the logistic hessian times the focal
        weight held fixed), positive and equal to the exact one at ``gamma = 0``.
    min_hessian : float or None, default 1e-16
        Floor on the hessian (xgboost's floor for its built-in logistic hessian).

    References
    ----------
    Lin, Goyal, Girshick, He, Dollar (2017), "Focal Loss for Dense Object Detection".
    """

    name = "focal"
    param_defaults = {"gamma": 2.0, "alpha": 0.25}

    def __init__(self, gamma: float = 2.0, alpha: float = 0.25, *, derivatives: str = "reference",
                 min_hessian: float | None = None):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self.gamma = _check_number("gamma", gamma, low=0.0)
        self.alpha = _check_number("alpha", alpha, low=0.0, high=1.0)

    def _loss_kernel(self, y_true, y_pred, std, mean, weight, out):
        return _binary.focal_loss(y_true, y_pred, weight, self.alpha, self.gamma, out)

    def _grad_hess_kernel(self, y_true, y_pred, std, mean, weight, exact, floor, grad, hess):
        return _binary.focal_grad_hess(y_true, y_pred, weight, self.alpha, self.gamma, exact, floor,
                                       grad, hess)


class AsymmetricLoss(_BinaryLoss):
    """Binary asymmetric loss on the logit (Ridnik et al. 2021).

    Domain: y_true in {0, 1}; y_pred (logit) real.
    Link: logit, ``p = sigmoid(y_pred)``.

    ::

        p_m = max(p - clip, 0)
        L = -y * (1 - p)**gamma_pos * log(p) - (1 - y) * p_m**gamma_neg * log(1 - p_m)

    Parameters
    ----------
    gamma_pos : float >= 0, default 0
    gamma_neg : float >= 0, default 4
    clip : float in [0, 1), default 0
        Probability margin for negatives (the paper uses 0.05; the seed notes 0).
    derivatives : {"reference", "exact"}, default "reference"
        Exact gradient in both; ``"reference"`` uses the surrogate hessian
        ``w * p (1-p)`` with the modulating factor ``w`` (``(1-p)**gamma_pos`` or
        ``p_m**gamma_neg``) held fixed.
    min_hessian : float or None, default 1e-16

    References
    ----------
    Ridnik et al. (2021), "Asymmetric Loss For Multi-Label Classification".
    """

    name = "asymmetric"
    param_defaults = {"gamma_pos": 0.0, "gamma_neg": 4.0, "clip": 0.0}

    def __init__(self, gamma_pos: float = 0.0, gamma_neg: float = 4.0, clip: float = 0.0, *,
                 derivatives: str = "reference", min_hessian: float | None = None):
        super().__init__(derivatives=derivatives, min_hessian=min_hessian)
        self.gamma_pos = _check_number("gamma_pos", gamma_pos, low=0.0)
        self.gamma_neg = _check_number("gamma_neg", gamma_neg, low=0.0)
        self.clip = _check_number("clip", clip, low=0.0, high=1.0, high_open=True)

    def _loss_kernel(self, y_true, y_pred, std, mean, weight, out):
        return _binary.asymmetric_loss(y_true, y_pred, weight, self.gamma_pos, self.gamma_neg,
                                       self.clip, out)

    def _grad_hess_kernel(self, y_true, y_pred, std, mean, weight, exact, floor, grad, hess):
        return _binary.asymmetric_grad_hess(y_true, y_pred, weight, self.gamma_pos, self.gamma_neg,
                                            self.clip, exact, floor, grad, hess)


#: Registry of loss names (configs, the CLI, :func:`get_loss`).
LOSSES: dict[str, type[BaseLoss]] = {
    cls.name: cls for cls in (CZAR, ZPTAE, HalfSquaredError, FocalLoss, AsymmetricLoss)
}


def get_loss(name: str, **params: Any) -> BaseLoss:
    """Build a loss from its registry name and parameters.

    Parameters
    ----------
    name : str
        One of ``LOSSES`` ("czar", "zptae", "mse", "focal", "asymmetric", and from
        :mod:`czar_gbdt.classification` "logistic", "soft_f1").
    **params
        Constructor arguments of that loss, e.g. ``alpha=1.0`` or ``derivatives="exact"``.

    Examples
    --------
    >>> get_loss("czar", alpha=0.5)
    CZAR(alpha=0.5, epsilon=1.0, tau=0.05)
    """
    if isinstance(name, BaseLoss):
        return name.with_params(**params) if params else name
    try:
        cls = LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(sorted(LOSSES))}.") from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"bad parameters for loss {name!r}: {exc}") from None

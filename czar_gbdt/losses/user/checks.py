"""The finite-difference check of a user loss: its compiled derivatives against its compiled loss."""

from __future__ import annotations

from typing import Any

import numpy as np

from .formula import sympy_module

__all__ = ["finite_difference_check", "FD_POINTS"]

#: The rows the check draws (at the loss's parameters).
FD_POINTS = 300


def finite_difference_check(loss: Any, conditions: tuple) -> None:
    """Compiled gradient vs central differences of the compiled loss, compiled exact hessian vs
    central differences of the compiled gradient, at points away from every branch boundary."""
    rng = np.random.default_rng(12345)
    n = FD_POINTS
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
    sp = sympy_module()
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
            raise ValueError(
                f"the derived {what} of loss {loss.name!r} disagrees with finite differences at "
                f"t={t[i]!r}, p={p[i]!r}: {ours[i]!r} vs {fd[i]!r}."
            )

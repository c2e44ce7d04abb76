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

The package, one concern per module: :mod:`.formula` (what a formula may use, its row
arguments and parameters, its symbolic expression), :mod:`.codegen` (the derivatives and
the numba row functions written from them), :mod:`.cache` (derived sources kept on disk),
:mod:`.checks` (the finite-difference check) and :mod:`.loss` (:class:`UserLoss` and
:func:`define_loss`).
"""

from __future__ import annotations

from .formula import ALLOWED_FUNCTIONS, ROW_NAMES, where
from .loss import HESSIANS, UserLoss, define_loss

__all__ = ["define_loss", "where", "UserLoss", "ALLOWED_FUNCTIONS", "HESSIANS", "ROW_NAMES"]

"""Parameter text shared by the docstrings of the backend modules.

The functions are written out by hand in each backend module; :func:`fill_doc`
replaces a docstring line ``{name}`` by the text ``DOCS[name]``, so that a parameter
shared by the modules is described once.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import Any

__all__ = ["DOCS", "fill_doc"]

#: Docstring text shared by the backend modules; see :func:`fill_doc`.
DOCS = {
    "dataset": """\
Parameters
----------
data, label
    As for ``{package}.{dataset}``; ``label`` is required.
std, mean : float or array-like of shape (n_samples,), optional
    z-scoring scale (> 0) and centre of the regression losses.
dates : array-like of shape (n_samples,), optional
    Date of each row, for per-date metrics such as ``"rank_ic"``.
**kwargs
    Passed to ``{package}.{dataset}`` ({kwargs}).

Returns
-------
{package}.{dataset}
    A plain {dataset}; the objectives and metrics of this module find its side data.""",
    "attach": """\
Returns
-------
{package}.{dataset}
    ``{argument}`` itself (unchanged; the side data is held in a registry).""",
    "objective": """\
Parameters
----------
loss : czar_gbdt.BaseLoss or str
    A loss instance or registry name.
std, mean : float or array-like of shape (n_train,), optional
    ``std``/``mean`` of the training rows, bound by position (checked against
    the number of labels). Alternatively attach them to the training {dataset}
    (:func:`{dataset}`); not both. CZAR and ZPTAE require ``std``.
hessian_scale : "auto", float or None, default "auto"
    Factor applied to gradients and hessians. ``"auto"`` uses
    ``sum(w) / sum(w / std**2)``: z-space losses have hessians ``H / std**2``,
    which for returns (std ~ 0.01) are ~1e4 and for large-scale targets tiny;
    the factor brings them back to the scale of ``std = 1`` so that
    {hessian_params} keep their usual meaning. Newton leaf
    values do not depend on it, up to ``lambda`` and to the loss's
    ``min_hessian`` floor, which applies to the unscaled hessians ``H / std**2``
    (default 1e-6; the z-space hessians ``H`` of CZAR and ZPTAE are about 1, so
    it binds only when ``std`` is about 1000 or more). It is 1 without ``std``
    and for binary losses, so ``"mse"`` without std is exactly the built-in
    squared error.
check_start : bool, default True
    Raise on the first round if training starts from a constant other than
    :meth:`{objective_class}.init_score` ({start}).
n_threads : int or None, default {threads}
    numba threads of the derivative kernels; None keeps numba's own setting.
    The objective runs between the backend's parallel regions. XGBoost's OpenMP
    threads keep spinning there, so a second thread team on the same cores slows
    the next round by more than it saves: one thread is its default. With
    LightGBM the parallel kernel trains faster: None is its default (see
    bench/RESULTS.md).

Returns
-------
{objective_class}""",
    "metric": """\
Parameters
----------
what : czar_gbdt.BaseLoss, str or czar_gbdt.metrics.Metric
    A loss or loss name, or a name of ``czar_gbdt.metrics.METRICS``.
std, mean, dates : array-like, optional
    Side data of the one eval set this metric scores, bound by position (the
    scikit-learn API needs it). With the native API prefer attaching side data
    to each eval {dataset} (:func:`{dataset}`), which scores every eval set with
    its own ``std``.
name : str, optional
    Display name (default: the loss or metric name).

Returns
-------
{metric_class}""",
    "booster_params": """\
params : dict, optional
    Booster parameters; they override the module's ``DEFAULTS`` (and, for ranking,
    its ranking parameters).
num_boost_round : int, default 200
    Boosting rounds (the most, with early stopping).
seed : int, default 0
    The booster's random seed.""",
    "stopping": """\
early_stopping_rounds : int, optional
    Stop after this many rounds without improvement of the first metric on the
    {watched}: {kept}.
    A scheduled loss without ``metric`` is watched through its ``second`` loss.
callbacks : list, optional
    Further {name} callbacks (the round callback of a scheduled loss is added).""",
}

_MARK = re.compile(r"^( *)\{(\w+)\}$", re.M)


def fill_doc(*sections: str, **values: str) -> Callable[[Any], Any]:
    """Decorator: complete a docstring with the shared text of :data:`DOCS`.

    Each docstring line ``{name}`` is replaced by ``DOCS[name]``, indented like the
    line; each name in ``sections`` is appended (Parameters and Returns of thin
    wrappers whose summary is written in place). Both are formatted with ``values``,
    the per-backend words (``dataset="DMatrix"``). The functions are written by hand.
    """

    def decorate(obj: Any) -> Any:
        if obj.__doc__ is None:  # python -OO
            return obj
        doc = _MARK.sub(lambda m: textwrap.indent(DOCS[m.group(2)].format(**values), m.group(1)), obj.__doc__)
        lines = doc.splitlines()[1:]
        indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
        for name in sections:
            doc = doc.rstrip() + "\n\n" + textwrap.indent(DOCS[name].format(**values), " " * indent) + "\n"
        obj.__doc__ = doc
        return obj

    return decorate
